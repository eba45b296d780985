//! Registry settings chosen by rules, read from the offline hives: `HKCU\…` from the user's
//! NTUSER.DAT (and `HKCU\Software\Classes\…` from UsrClass.dat), `HKLM\SOFTWARE\…` from the
//! machine's SOFTWARE hive.
//!
//! A hive is hostile input: each pass walks at most [`limits::REGISTRY_WALK_MAX_KEYS`] keys
//! and takes at most what fits a `.reg` file of [`limits::REG_FILE_MAX_BYTES`]; loops in a
//! damaged hive are not followed (see [`crate::hive::Key::walk`]). What was left out, and
//! why, comes back as [`RegistryProblem`]s.

use std::collections::BTreeMap;
use std::fmt;

use crate::hive::{LoadedHive, Value, Visit, WalkProblem, MAX_WALK_PROBLEMS};
use crate::limits;
use crate::regfile::representable;
use crate::rules::{Action, Decision, Matcher, ObjectKind, RuleSet};
use crate::winpath::outermost;

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

/// What the registry selection of one pass left out, and why. `key` is the regedit name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryProblem {
    /// The hive walk met damage, a loop or its key budget there (`problem`'s paths are
    /// regedit names too).
    Walk { key: String, problem: WalkProblem },
    /// Problems of one walk beyond the first [`crate::hive::MAX_WALK_PROBLEMS`].
    More { hive: String, count: usize },
    /// Taking this key would make the pass's `.reg` larger than
    /// [`limits::REG_FILE_MAX_BYTES`]; it and the keys after it are left out.
    RegFileFull { key: String },
    /// The key's name, or one of its values' (`value`), holds a line break or NUL, which a
    /// `.reg` file cannot carry ([`representable`]): left out.
    NotExportable { key: String, value: Option<String> },
}

impl RegistryProblem {
    /// The key (or hive file) it is about.
    pub fn key(&self) -> &str {
        match self {
            RegistryProblem::Walk { key, .. }
            | RegistryProblem::RegFileFull { key }
            | RegistryProblem::NotExportable { key, .. } => key,
            RegistryProblem::More { hive, .. } => hive,
        }
    }
}

impl fmt::Display for RegistryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryProblem::Walk { problem, .. } => problem.fmt(f),
            RegistryProblem::More { count, .. } => write!(
                f,
                "{count} more damaged, looping or surplus registry keys in this hive are left out"
            ),
            RegistryProblem::RegFileFull { .. } => write!(
                f,
                "the settings export would pass {} MiB from this key on: the rest is not captured",
                limits::REG_FILE_MAX_BYTES >> 20
            ),
            RegistryProblem::NotExportable { value: None, .. } => f.write_str(
                "the key's name holds a line break or NUL, which a .reg file cannot carry: not captured",
            ),
            RegistryProblem::NotExportable { value: Some(v), .. } => write!(
                f,
                "value {:?} has a name with a line break or NUL, which a .reg file cannot carry: not captured",
                v
            ),
        }
    }
}

/// `path` (lower case) is `mount` (lower case) or lies below it.
fn at_or_below(path: &str, mount: &str) -> bool {
    path == mount || path.starts_with(&format!("{mount}\\"))
}

/// Where registry walks start in `mount`: the outermost literal start of each include
/// pattern that belongs to it (at or below it, and not at or below a longer mount), or its
/// root when a pattern starts above it (`HKCU\*` seen from the Classes mount). Relative to
/// the mount's root.
fn starts(set: &RuleSet, mount: &Mount<'_>, mounts: &[Mount<'_>]) -> Vec<String> {
    let short = mount.short.to_lowercase();
    let longer: Vec<String> = mounts
        .iter()
        .filter(|m| m.short.len() > mount.short.len())
        .map(|m| m.short.to_lowercase())
        .collect();
    let mut rel = Vec::new();
    for c in &set.components {
        for r in &c.rules {
            if r.action != Action::Include || r.pattern.kind != ObjectKind::Registry {
                continue;
            }
            let start = r.pattern.literal_node();
            let lower = start.to_lowercase();
            if at_or_below(&short, &lower) {
                rel.push(String::new());
            } else if at_or_below(&lower, &short) && !longer.iter().any(|l| at_or_below(&lower, l))
            {
                // The pattern's own case: keys are found case-insensitively anyway.
                rel.push(start.get(short.len() + 1..).unwrap_or_default().to_string());
            }
        }
    }
    outermost(rel)
}

/// The `.reg` budget of one pass: an upper bound of the bytes regedit's format takes.
struct RegBudget {
    bytes_left: u64,
}

impl RegBudget {
    /// Bound of one key line (`\r\n[path]\r\n`) in UTF-16LE; a `str`'s UTF-8 length is
    /// never less than its UTF-16 length.
    fn key_bytes(path: &str) -> u64 {
        2 * (path.len() as u64 + 5)
    }

    /// Bound of one value line: a quoted, escaped name and at most four characters per
    /// data byte (`hex:` bodies are `xx,` plus a line break every 25 bytes).
    fn value_bytes(v: &Value) -> u64 {
        2 * (2 * v.name.len() as u64 + 4 * v.data.len() as u64 + 24)
    }

    fn take(&mut self, bytes: u64) -> bool {
        match self.bytes_left.checked_sub(bytes) {
            Some(left) => {
                self.bytes_left = left;
                true
            }
            None => false,
        }
    }
}

/// Lists a name a `.reg` cannot carry; past [`MAX_WALK_PROBLEMS`] of them, counts it.
fn note(list: &mut (Vec<RegistryProblem>, usize), key: String, value: Option<String>) {
    if list.0.len() < MAX_WALK_PROBLEMS {
        list.0.push(RegistryProblem::NotExportable { key, value });
    } else {
        list.1 += 1;
    }
}

/// Every key and value the rules take from the mounted hives, and what was left out.
/// Longer mounts win (UsrClass.dat for `HKCU\Software\Classes`).
pub fn select(
    set: &RuleSet,
    matcher: &Matcher,
    mounts: &[Mount<'_>],
) -> (Vec<RegKey>, Vec<RegistryProblem>) {
    let mut keys: BTreeMap<String, RegKey> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut keys_left = limits::REGISTRY_WALK_MAX_KEYS;
    let mut budget = RegBudget {
        bytes_left: limits::REG_FILE_MAX_BYTES,
    };
    for mount in mounts {
        for rel in starts(set, mount, mounts) {
            let Some(key) = (if rel.is_empty() {
                mount.hive.root().ok()
            } else {
                mount.hive.key(&rel)
            }) else {
                continue;
            };
            let base_rel = key.path();
            let full = |long_or_short: &str, sub: &str| {
                [long_or_short, base_rel.as_str(), sub]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\\")
            };
            let mut full_up = None;
            let mut unexportable = (Vec::new(), 0usize);
            let report = key.walk(&mut keys_left, &mut |sub, values| {
                let short = full(mount.short, sub);
                // Keys below another mount belong to that one (NTUSER's own Classes link is empty).
                let lower = short.to_lowercase();
                if mounts.iter().any(|m| {
                    m.short.len() > mount.short.len()
                        && at_or_below(&lower, &m.short.to_lowercase())
                }) {
                    return Visit::Continue;
                }
                let taken: Vec<&Value> = values
                    .iter()
                    .filter(|v| {
                        matches!(
                            matcher.decide(ObjectKind::Registry, &short, Some(&v.name)),
                            Decision::Include { .. }
                        )
                    })
                    .collect();
                let key_itself = matches!(
                    matcher.decide(ObjectKind::Registry, &short, None),
                    Decision::Include { .. }
                );
                if taken.is_empty() && !key_itself {
                    return Visit::Continue;
                }
                let long = full(mount.long, sub);
                if !representable(&long) {
                    note(&mut unexportable, long, None);
                    return Visit::Continue;
                }
                let lower = long.to_lowercase();
                if !keys.contains_key(&lower) && !budget.take(RegBudget::key_bytes(&long)) {
                    full_up = Some(long);
                    return Visit::Stop;
                }
                let entry = keys.entry(lower).or_insert_with(|| RegKey {
                    path: long.clone(),
                    values: Vec::new(),
                });
                for v in taken {
                    if !representable(&v.name) {
                        note(&mut unexportable, long.clone(), Some(v.name.clone()));
                        continue;
                    }
                    if entry
                        .values
                        .iter()
                        .any(|e| e.name.eq_ignore_ascii_case(&v.name))
                    {
                        continue;
                    }
                    if !budget.take(RegBudget::value_bytes(v)) {
                        full_up = Some(long);
                        return Visit::Stop;
                    }
                    entry.values.push(v.clone());
                }
                Visit::Continue
            });
            let (mut listed, more) = unexportable;
            problems.append(&mut listed);
            let more = more + report.more_problems;
            for problem in report.problems {
                let problem = problem.with_paths(|p| full(mount.long, p));
                problems.push(RegistryProblem::Walk {
                    key: problem.path().to_string(),
                    problem,
                });
            }
            if more > 0 {
                problems.push(RegistryProblem::More {
                    hive: mount.hive.path().to_string(),
                    count: more,
                });
            }
            if let Some(key) = full_up {
                problems.push(RegistryProblem::RegFileFull { key });
                return (keys.into_values().collect(), problems);
            }
            if keys_left == 0 {
                return (keys.into_values().collect(), problems);
            }
        }
    }
    (keys.into_values().collect(), problems)
}
