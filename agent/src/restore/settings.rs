//! Settings: a user's `.reg` from the store applied to that user's registry on the new
//! machine (or left as a file offline). Strings that hold the old profile or known-folder
//! paths (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ) are rewritten to the new ones; keys that must
//! never travel are listed, not applied; values already there with the same data are left
//! alone, so a second restore changes nothing.

use super::helpers::Helpers;
use super::paths::Rebase;
use super::target::SettingsSink;
use super::{RestoreError, Target, TargetUser};
use crate::rules::ObjectKind;
use crate::store::regread::{RegKey, RegValue, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ};

/// Why a key is not applied on the new machine (USMT leaves the same ones behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeverTravel {
    /// The old machine's folder locations: applying them would undo the folder mapping.
    ShellFolders,
    /// Keys protected by the old machine's or account's keys (DPAPI, certificates' keys).
    Crypto,
    /// Sign-in and cloud identities tied to the old account or device.
    Identity,
    /// Set by policy on the old machine; the new one gets its own.
    Policy,
    /// Describes the old machine's hardware, volumes or session.
    MachineBound,
    /// Not below HKEY_CURRENT_USER: machine settings are not applied to a user.
    NotUserSettings,
}

impl NeverTravel {
    /// What the technician does about it on the new machine.
    pub fn advice(self) -> &'static str {
        match self {
            NeverTravel::ShellFolders => {
                "nothing: files were put into this machine's own known folders"
            }
            NeverTravel::Crypto => {
                "sign in to the applications again; re-import certificates with their private keys"
            }
            NeverTravel::Identity => "sign in again (Microsoft account, OneDrive, Office)",
            NeverTravel::Policy => "nothing: this machine's policies apply",
            NeverTravel::MachineBound => {
                "nothing: Windows rebuilds them (drives, devices, sessions)"
            }
            NeverTravel::NotUserSettings => {
                "import the store's machine .reg by hand (reg import) if it is wanted"
            }
        }
    }
}

impl std::fmt::Display for NeverTravel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NeverTravel::ShellFolders => "folder locations of the old machine",
            NeverTravel::Crypto => "protected by the old machine's keys",
            NeverTravel::Identity => "an identity of the old account or device",
            NeverTravel::Policy => "set by policy",
            NeverTravel::MachineBound => "describes the old machine",
            NeverTravel::NotUserSettings => "machine settings",
        })
    }
}

/// Key prefixes below HKCU that are never applied.
const NEVER: &[(&str, NeverTravel)] = &[
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders",
        NeverTravel::ShellFolders,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders",
        NeverTravel::ShellFolders,
    ),
    (r"Software\Microsoft\Protect", NeverTravel::Crypto),
    (r"Software\Microsoft\Cryptography", NeverTravel::Crypto),
    (
        r"Software\Microsoft\SystemCertificates",
        NeverTravel::Crypto,
    ),
    (r"Software\Microsoft\IdentityCRL", NeverTravel::Identity),
    (r"Software\Microsoft\OneDrive", NeverTravel::Identity),
    (
        r"Software\Microsoft\Windows\CurrentVersion\AAD",
        NeverTravel::Identity,
    ),
    (
        r"Software\Microsoft\Office\16.0\Common\Identity",
        NeverTravel::Identity,
    ),
    (r"Software\Policies", NeverTravel::Policy),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Policies",
        NeverTravel::Policy,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Group Policy",
        NeverTravel::Policy,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\MountPoints2",
        NeverTravel::MachineBound,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\SessionInfo",
        NeverTravel::MachineBound,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\CloudStore",
        NeverTravel::MachineBound,
    ),
    (r"Volatile Environment", NeverTravel::MachineBound),
];

const HKCU: &str = "HKEY_CURRENT_USER";

/// A key left behind, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotApplied {
    pub key: String,
    pub values: usize,
    pub why: NeverTravel,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SettingsOutcome {
    /// Values written (or, in a dry run, to be written).
    pub applied: u64,
    /// Values already there with the same data.
    pub unchanged: u64,
    /// Values whose paths were changed to the new folders (counted in `applied` too).
    pub rewritten: u64,
    /// Values left as they are on the new machine (DestinationPriority).
    pub kept: u64,
    /// Values written under another key or name (MigXML `<locationModify>`; in `applied`).
    pub moved: u64,
    /// Values whose content a `<contentModify>` changed (in `applied`).
    pub modified: u64,
    /// Values the rules say are never restored (`NeverRestore()`).
    pub filtered: u64,
    pub not_applied: Vec<NotApplied>,
    /// Offline (or a hive that could not take them): the file the settings were left in.
    pub left_in: Option<std::path::PathBuf>,
}

/// The key below HKCU (`Control Panel\Desktop`), or why it is not applied.
fn user_key(path: &str) -> Result<&str, NeverTravel> {
    let head = path.get(..HKCU.len()).unwrap_or("");
    let rest = &path[head.len()..];
    if !head.eq_ignore_ascii_case(HKCU) || !(rest.is_empty() || rest.starts_with('\\')) {
        return Err(NeverTravel::NotUserSettings);
    }
    let rest = rest.trim_start_matches('\\');
    for (prefix, why) in NEVER {
        if let Some(head) = rest.get(..prefix.len()) {
            let tail = &rest[prefix.len()..];
            if head.eq_ignore_ascii_case(prefix) && (tail.is_empty() || tail.starts_with('\\')) {
                return Err(*why);
            }
        }
    }
    Ok(rest)
}

/// The value with old folder paths inside it changed to the new ones, if any were there.
pub fn rewrite(v: &RegValue, rebase: &Rebase) -> Option<RegValue> {
    let units: Vec<u16> = crate::le::u16s(&v.data).collect();
    let strings: Vec<String> = match v.kind {
        REG_SZ | REG_EXPAND_SZ => {
            let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
            vec![String::from_utf16(units.get(..end)?).ok()?]
        }
        REG_MULTI_SZ => units
            .split(|&u| u == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf16(s).ok())
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let mut changed = false;
    let new: Vec<String> = strings
        .iter()
        .map(|s| match rebase.rewrite_text(s) {
            Some(n) => {
                changed = true;
                n
            }
            None => s.clone(),
        })
        .collect();
    if !changed {
        return None;
    }
    let mut data: Vec<u8> = Vec::new();
    for s in &new {
        data.extend(s.encode_utf16().chain([0]).flat_map(|u| u.to_le_bytes()));
    }
    if v.kind == REG_MULTI_SZ {
        data.extend_from_slice(&[0, 0]);
    }
    Some(RegValue {
        name: v.name.clone(),
        kind: v.kind,
        data,
    })
}

/// One value: MigXML's instructions for it (NeverRestore, where it goes, its new content,
/// who wins), the old folders in it rewritten, then written unless already there.
fn apply_value(
    key: &str,
    v: &RegValue,
    rebase: &Rebase,
    helpers: &Helpers,
    sink: &mut dyn SettingsSink,
    out: &mut SettingsOutcome,
    dry_run: bool,
) -> Result<(), RestoreError> {
    let hkcu = format!(r"HKCU\{key}");
    if helpers.never_restore(ObjectKind::Registry, &hkcu, &v.name) {
        out.filtered += 1;
        return Ok(());
    }
    let moved = helpers.relocate_value(&hkcu, &v.name);
    let (key, name) = match &moved {
        Some((k, n)) => match user_key(&long_root(k)) {
            Ok(k) => (k.to_string(), n.clone()),
            Err(why) => {
                out.not_applied.push(NotApplied {
                    key: k.clone(),
                    values: 1,
                    why,
                });
                return Ok(());
            }
        },
        None => (key.to_string(), v.name.clone()),
    };
    let changed = helpers.modify_value(&hkcu, v);
    let base = changed.as_ref().unwrap_or(v);
    let new = rewrite(base, rebase);
    let mut value = new.clone().unwrap_or_else(|| base.clone());
    value.name = name.clone();
    let now = sink.current(&key, &name);
    if now
        .as_ref()
        .is_some_and(|(t, d)| *t == value.kind && *d == value.data)
    {
        out.unchanged += 1;
        return Ok(());
    }
    if now.is_some() && helpers.registry_keeps_destination(&hkcu, &v.name) {
        out.kept += 1;
        return Ok(());
    }
    out.applied += 1;
    out.rewritten += u64::from(new.is_some());
    out.moved += u64::from(moved.is_some());
    out.modified += u64::from(changed.is_some());
    if !dry_run {
        sink.set(&key, &value)?;
    }
    Ok(())
}

/// `HKCU\X` as the store's keys write it (`HKEY_CURRENT_USER\X`).
fn long_root(key: &str) -> String {
    match key.get(..4) {
        Some(h)
            if h.eq_ignore_ascii_case("HKCU") && (key.len() == 4 || key[4..].starts_with('\\')) =>
        {
            format!("{HKCU}{}", &key[4..])
        }
        _ => key.to_string(),
    }
}

/// Applies a user's settings through the target (a dry run only counts).
pub fn apply(
    keys: &[RegKey],
    rebase: &Rebase,
    helpers: &Helpers,
    target: &mut dyn Target,
    user: &TargetUser,
    dry_run: bool,
) -> Result<SettingsOutcome, RestoreError> {
    let mut out = SettingsOutcome::default();
    let mut sink = target.settings(user)?;
    for k in keys {
        let key = match user_key(&k.path) {
            Ok(key) => key,
            Err(why) => {
                out.not_applied.push(NotApplied {
                    key: k.path.clone(),
                    values: k.values.len(),
                    why,
                });
                continue;
            }
        };
        for v in &k.values {
            apply_value(key, v, rebase, helpers, &mut *sink, &mut out, dry_run)?;
        }
    }
    out.left_in = if dry_run { None } else { sink.finish()? };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::manifest::UserFolders;
    use crate::store::regread::utf16z;

    #[test]
    fn never_travel_and_user_keys() {
        assert_eq!(
            user_key(r"HKEY_CURRENT_USER\Control Panel\Desktop"),
            Ok(r"Control Panel\Desktop")
        );
        assert_eq!(
            user_key(
                r"hkey_current_user\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders"
            ),
            Err(NeverTravel::ShellFolders)
        );
        assert_eq!(
            user_key(r"HKEY_CURRENT_USER\Software\Policies\X"),
            Err(NeverTravel::Policy)
        );
        assert_eq!(
            user_key(r"HKEY_CURRENT_USER\Software\PoliciesX"),
            Ok(r"Software\PoliciesX")
        );
        assert_eq!(
            user_key(r"HKEY_LOCAL_MACHINE\SOFTWARE\X"),
            Err(NeverTravel::NotUserSettings)
        );
        assert_eq!(
            user_key(r"HKEY_CURRENT_USERX\a"),
            Err(NeverTravel::NotUserSettings)
        );
    }

    #[test]
    fn strings_and_lists_are_rewritten() {
        let source = UserFolders {
            profile: r"C:\Users\ann".into(),
            known: Default::default(),
        };
        let r = Rebase::new(&source, r"C:\Users\bob", &Default::default());
        let sz = RegValue {
            name: "a".into(),
            kind: REG_EXPAND_SZ,
            data: utf16z(r"C:\Users\Ann\AppData\x.exe"),
        };
        assert_eq!(
            rewrite(&sz, &r).unwrap().data,
            utf16z(r"C:\Users\bob\AppData\x.exe")
        );
        let mut multi: Vec<u8> = utf16z(r"C:\Users\ann\a");
        multi.extend(utf16z(r"D:\other"));
        multi.extend_from_slice(&[0, 0]);
        let m = RegValue {
            name: "m".into(),
            kind: REG_MULTI_SZ,
            data: multi,
        };
        let mut want: Vec<u8> = utf16z(r"C:\Users\bob\a");
        want.extend(utf16z(r"D:\other"));
        want.extend_from_slice(&[0, 0]);
        assert_eq!(rewrite(&m, &r).unwrap().data, want);
        let bin = RegValue {
            name: "b".into(),
            kind: 3,
            data: utf16z(r"C:\Users\ann"),
        };
        assert!(rewrite(&bin, &r).is_none());
    }
}
