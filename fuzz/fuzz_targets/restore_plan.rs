//! The restore's plan (`lifeboat::restore::plan`) over a store nobody can vouch for: a
//! hostile manifest (its users' old folders and recorded MigXML helpers), `.reg` and image
//! listing, planned against a fixed new user, without I/O. Every file the plan places must
//! pass the trust boundary (no hive, no Lifeboat name, no name Windows cannot use, no
//! traversal) below the new user's folders or `--other-files-to`; every value it writes
//! must be below HKCU under a key that normalises to itself and is not never-travel; and
//! no input may make it loop or allocate without bound.
//!
//! Input: `[u32 manifest_len][u32 reg_len][manifest.yaml][.reg][listing]`, little-endian;
//! the listing is one image path per line, a leading `@` marking a link.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use lifeboat::known_folders::UserFolders;
use lifeboat::restore::helpers::{user_vars, Helpers, Sides};
use lifeboat::restore::plan::{self, Root, ValuePlan};
use lifeboat::restore::{source, trust, Rebase};
use lifeboat::store::manifest::Manifest;
use lifeboat::store::regread;

const PROFILE: &str = r"C:\Users\bob";

fn split(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let m = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let r = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?) as usize;
    let rest = data.get(8..)?;
    let manifest = rest.get(..m)?;
    let reg = rest.get(m..m.checked_add(r)?)?;
    Some((manifest, reg, rest.get(m + r..)?))
}

/// The new user: Windows' default folders below `C:\Users\bob`.
fn target() -> UserFolders {
    UserFolders {
        profile: PROFILE.into(),
        known: lifeboat::known_folders::default_known_folders(false)
            .map(|(name, rel)| (name.to_string(), format!(r"{PROFILE}\{rel}")))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn below_profile(p: &str) -> bool {
    p.get(..PROFILE.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(PROFILE))
        && p[PROFILE.len()..].chars().next().is_none_or(|c| c == '\\')
}

fuzz_target!(|data: &[u8]| {
    let Some((manifest, reg, listing)) = split(data) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(manifest) else {
        return;
    };
    let Ok(m) = Manifest::from_yaml(text) else {
        return;
    };
    let keys = regread::decode(reg)
        .and_then(|t| regread::parse(&t))
        .unwrap_or_default();
    let listing = String::from_utf8_lossy(listing);
    let target = target();
    let target_vars = user_vars(&target, "S-1-5-21-9-9-9-1001", r"NEWPC\bob");
    for (i, record) in m.users.iter().chain(m.machine.iter()).take(4).enumerate() {
        let old = source::folders_of(&m, record);
        let rebase = Rebase::new(&old, PROFILE, &target.known);
        let helpers = Helpers::new(
            &record.restore,
            &Sides {
                source: &user_vars(&old, &record.sid, &record.name),
                target: &target_vars,
                rebase: &rebase,
            },
        );
        let ctx = plan::Ctx {
            rebase: &rebase,
            helpers: &helpers,
            other_files: i % 2 == 1,
        };
        for line in listing.lines().take(512) {
            let (path, link) = match line.strip_prefix('@') {
                Some(p) => (p, true),
                None => (line, false),
            };
            let Ok(place) = plan::file(&ctx, path, link).place else {
                continue;
            };
            assert!(!link, "a link was placed: {path:?}");
            assert!(!place.names.is_empty());
            assert_eq!(trust::file_place(&place.names), Ok(()), "{path:?}");
            for n in &place.names {
                assert!(
                    !n.is_empty() && n != "." && n != ".." && !n.contains(['\\', '/', ':']),
                    "{path:?}: {n:?}"
                );
                assert!(!n.chars().any(char::is_control), "{path:?}: {n:?}");
            }
            match &place.root {
                Root::Target(p) => assert!(below_profile(p), "{path:?} goes to {p:?}"),
                Root::OtherFiles => assert!(ctx.other_files, "{path:?}"),
            }
        }
        for k in keys.iter().take(256) {
            let Ok(key) = trust::user_key(&k.path) else {
                continue;
            };
            for v in k.values.iter().take(64) {
                if let ValuePlan::Write(w) = plan::value(&key, v, &rebase, &helpers) {
                    let again = trust::user_key(&format!(r"HKEY_CURRENT_USER\{}", w.key.path()));
                    assert_eq!(again.as_ref(), Ok(&w.key), "{:?} -> {:?}", k.path, w.key);
                    if w.rewritten {
                        assert!(
                            w.value.data.len()
                                <= v.data.len().max(lifeboat::limits::RESTORE_REWRITE_MAX_BYTES)
                                    + 2 * lifeboat::limits::EXPAND_MAX_CHARS,
                            "{:?}",
                            k.path
                        );
                    }
                }
            }
        }
    }
});
