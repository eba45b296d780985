//! Registry settings chosen by rules, read from the offline hives: `HKCU\…` from the user's
//! NTUSER.DAT (and `HKCU\Software\Classes\…` from UsrClass.dat), `HKLM\SOFTWARE\…` from the
//! machine's SOFTWARE hive.

use std::collections::BTreeMap;

use crate::hive::{LoadedHive, Value};
use crate::rules::{Action, Decision, Matcher, ObjectKind, RuleSet};

/// One key with the values the rules took, under its regedit name
/// (`HKEY_CURRENT_USER\Control Panel\Desktop`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegKey {
    pub path: String,
    pub values: Vec<Value>,
}

/// A hive mounted where Windows shows it: `short` is the rule prefix (`HKCU`,
/// `HKCU\Software\Classes`, `HKLM\SOFTWARE`), `long` the regedit name.
pub struct Mount<'h> {
    pub short: &'static str,
    pub long: &'static str,
    pub hive: &'h LoadedHive,
}

/// Where registry walks start: the literal part of each include pattern's key.
fn starts(set: &RuleSet) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &set.components {
        for r in &c.rules {
            if r.action != Action::Include || r.pattern.kind != ObjectKind::Registry {
                continue;
            }
            out.push(r.pattern.literal_node());
        }
    }
    out.sort_by_key(|s| s.to_lowercase());
    out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    out
}

/// Every key and value the rules take from the mounted hives. Longer mounts win
/// (UsrClass.dat for `HKCU\Software\Classes`).
pub fn select(set: &RuleSet, matcher: &Matcher, mounts: &[Mount<'_>]) -> Vec<RegKey> {
    let mut keys: BTreeMap<String, RegKey> = BTreeMap::new();
    for start in starts(set) {
        let lower = start.to_lowercase();
        let Some(mount) = mounts
            .iter()
            .filter(|m| {
                let s = m.short.to_lowercase();
                lower == s
                    || lower.starts_with(&format!("{s}\\"))
                    || s.starts_with(&format!("{lower}\\"))
            })
            .max_by_key(|m| m.short.len())
        else {
            continue;
        };
        // A pattern above the mount (HKCU\* seen from the Classes mount) starts at its root.
        let rel = if start.len() > mount.short.len() {
            &start[mount.short.len() + 1..]
        } else {
            ""
        };
        let Some(key) = (if rel.is_empty() {
            mount.hive.root().ok()
        } else {
            mount.hive.key(rel)
        }) else {
            continue;
        };
        let base_rel = key.path();
        key.walk(&mut |sub, values| {
            let rel_path = [base_rel.as_str(), sub]
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("\\");
            let short = if rel_path.is_empty() {
                mount.short.to_string()
            } else {
                format!("{}\\{rel_path}", mount.short)
            };
            // Keys below another mount belong to that one (NTUSER's own Classes link is empty).
            if mounts.iter().any(|m| {
                m.short.len() > mount.short.len()
                    && short.to_lowercase().starts_with(&m.short.to_lowercase())
            }) {
                return;
            }
            let taken: Vec<Value> = values
                .iter()
                .filter(|v| {
                    matches!(
                        matcher.decide(ObjectKind::Registry, &short, Some(&v.name)),
                        Decision::Include { .. }
                    )
                })
                .cloned()
                .collect();
            let key_itself = matches!(
                matcher.decide(ObjectKind::Registry, &short, None),
                Decision::Include { .. }
            );
            if taken.is_empty() && !key_itself {
                return;
            }
            let long = if rel_path.is_empty() {
                mount.long.to_string()
            } else {
                format!("{}\\{rel_path}", mount.long)
            };
            let entry = keys.entry(long.to_lowercase()).or_insert_with(|| RegKey {
                path: long,
                values: Vec::new(),
            });
            for v in taken {
                if !entry
                    .values
                    .iter()
                    .any(|e| e.name.eq_ignore_ascii_case(&v.name))
                {
                    entry.values.push(v);
                }
            }
        });
    }
    keys.into_values().collect()
}
