//! MigXML's LoadState-side instructions, as the capture recorded them in the manifest
//! (`users[].restore`, `machine.restore`: component, kind, helper call as written, patterns
//! expanded on the source), turned into what the restore does with each object:
//!
//! - `<locationModify>`: `RelativeMove(from, to)`, `ExactMove(to)`, `Move(root)` — where a
//!   file or registry value goes. `from` is expanded with the old user's folders, `to` with
//!   the target user's, so `RelativeMove('%CSIDL_APPDATA%\Old','%CSIDL_APPDATA%\New')` lands
//!   in the new machine's AppData.
//! - `<merge>`: `SourcePriority`, `DestinationPriority`, `FindFilePlaceByPattern("<F> (<N>).<E>")`
//!   decide a collision for their objects, over `--on-conflict`; the most specific wins.
//! - `<destinationCleanup>`: the store's objects replace what is there (nothing else on the
//!   new machine is deleted: a restore never removes what it does not bring).
//! - `<contentModify>`: `SetValueByTable`, `OffsetValue`, `ConvertToDWORD`,
//!   `ConvertToString` change registry values; `KeepExisting("TimeFields")` keeps an
//!   overwritten file's times.
//! - `<include|exclude filter="NeverRestore()">`: stored, never applied.
//!
//! Everything else (a helper this version does not know, a variable only the old machine
//! could give) is listed in the report as not applied, never dropped in silence.

use std::collections::HashMap;

use super::paths::{Mapped, Rebase};
use super::ConflictPolicy;
use crate::known_folders::UserFolders;
use crate::rules::expand::{expand_text, with_aliases};
use crate::rules::pattern::{self, fold, kind_of, Compiled, Specificity};
use crate::rules::ObjectKind;
use crate::store::regread::{utf16z, RegValue, REG_DWORD, REG_EXPAND_SZ, REG_SZ};
use crate::store::schema::{RestoreEntry, RestoreKind};

/// Where an object goes (`<locationModify>`), paths already expanded on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Relocate {
    /// Whatever is below `from` (old machine) goes below `to` (new machine).
    Relative { from: String, to: String },
    /// Exactly there: `Node [Leaf]`, or a folder/key keeping the object's name.
    Exact { node: String, leaf: Option<String> },
    /// Into `root`, keeping its name.
    Into { root: String },
}

/// A registry value's new content (`<contentModify>`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// Source value found in `from` → the value at the same place in `to`; else `default`.
    ByTable {
        from: Vec<String>,
        to: Vec<String>,
        default: Option<String>,
    },
    Offset(i64),
    ToDword(Option<u32>),
    ToString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Act {
    Relocate(Relocate),
    Merge(ConflictPolicy),
    KeepTimes,
    Change(Change),
    NeverRestore,
}

/// One recorded instruction that this restore cannot carry out, for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotApplied {
    pub component: String,
    pub kind: RestoreKind,
    /// The helper call as the MigXML wrote it (`NewestVersion("FileVersion")`).
    pub helper: String,
    pub why: String,
}

/// The two machines' terms an instruction is read in: the old user's variables (for where
/// objects were), the new user's (for where they go), and the folder mapping between them.
pub struct Sides<'a> {
    pub source: &'a HashMap<String, String>,
    pub target: &'a HashMap<String, String>,
    pub rebase: &'a Rebase,
}

impl Sides<'_> {
    /// Argument `i` on the old machine: as the capture expanded it, else with the old
    /// user's folders (stores that did not record it).
    fn source(&self, e: &RestoreEntry, i: usize) -> Result<String, String> {
        let a = arg(e, i)?;
        let recorded = e.source_args.get(i).map(String::as_str).unwrap_or(a);
        expand_text(recorded, self.source).map_err(|err| unknown(a, err))
    }

    /// Argument `i` on the new machine, with the new user's folders. A variable only the
    /// old machine's rules define (an application's folder read from its registry) keeps
    /// its old value, carried into the new user's folders when it was in the old one's.
    fn target(&self, e: &RestoreEntry, i: usize) -> Result<String, String> {
        let a = arg(e, i)?;
        expand_text(a, self.target).or_else(|_| {
            let old = self.source(e, i)?;
            Ok(match self.rebase.map(&old) {
                Mapped::User(new) => new,
                Mapped::Machine => old,
            })
        })
    }
}

fn arg(e: &RestoreEntry, i: usize) -> Result<&str, String> {
    e.script
        .as_ref()
        .and_then(|c| c.args.get(i))
        .map(String::as_str)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("argument {} is missing", i + 1))
}

fn unknown(arg: &str, err: crate::winpath::ExpandError) -> String {
    format!("{arg}: {err} (the old machine did not define it)")
}

struct One {
    kind: ObjectKind,
    matchers: Vec<Compiled>,
    act: Act,
}

/// The instructions that apply to one user (or the machine) of a restore.
#[derive(Default)]
pub struct Helpers {
    list: Vec<One>,
    pub not_applied: Vec<NotApplied>,
}

/// A user's variables (`%CSIDL_APPDATA%`, `%USERPROFILE%`…) from a profile and its known
/// folders: the old machine's as the store recorded them, or the new machine's.
pub fn user_vars(folders: &UserFolders, sid: &str, name: &str) -> HashMap<String, String> {
    let lookup = |value: &str| {
        folders
            .known
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(value))
            .map(|(_, p)| p.clone())
    };
    // Which Windows the folders belong to is not known here: the profile's path decides.
    let xp = crate::known_folders::xp_layout(None, &folders.profile);
    with_aliases(crate::known_folders::user_vars_with(
        &HashMap::new(),
        sid,
        name,
        &folders.profile,
        &lookup,
        xp,
    ))
}

impl Helpers {
    /// The instructions of `entries` read in `sides`' terms (the machine's: no variables,
    /// so only moves written with literal paths apply).
    pub fn new(entries: &[RestoreEntry], sides: &Sides<'_>) -> Helpers {
        let mut h = Helpers::default();
        // An instruction whose objects the old machine could not name applies to nothing.
        for e in entries.iter().filter(|e| !e.patterns.is_empty()) {
            h.add(e, sides);
        }
        h
    }

    fn add(&mut self, e: &RestoreEntry, sides: &Sides<'_>) {
        let not_applied = |why: String| NotApplied {
            component: e.component.clone(),
            kind: e.kind,
            helper: e
                .script
                .as_ref()
                .map_or_else(|| "(no helper)".into(), ToString::to_string),
            why,
        };
        let act = match act(e, sides) {
            Ok(a) => a,
            Err(why) => return self.note(not_applied(why)),
        };
        for kind in [ObjectKind::File, ObjectKind::Registry] {
            let mut matchers = Vec::new();
            for p in e.patterns.iter().filter(|p| kind_of(p) == kind) {
                match pattern::parse(kind, p) {
                    Ok(p) => matchers.push(Compiled::new(&p)),
                    Err(why) => self.note(not_applied(format!("pattern {p}: {why}"))),
                }
            }
            if matchers.is_empty() {
                continue;
            }
            if let (ObjectKind::Registry, Some(why)) = (kind, registry_unsupported(&act)) {
                self.note(not_applied(why));
                continue;
            }
            self.list.push(One {
                kind,
                matchers,
                act: act.clone(),
            });
        }
    }

    /// Each reason once (MigApp repeats the same helper across components' passes).
    fn note(&mut self, n: NotApplied) {
        if !self.not_applied.contains(&n) {
            self.not_applied.push(n);
        }
    }

    /// The most specific instruction matching object `leaf` in `dir` for which `pick` gives
    /// something.
    fn best<'a, T>(
        &'a self,
        kind: ObjectKind,
        dir: &str,
        leaf: &str,
        pick: impl Fn(&'a Act) -> Option<T>,
    ) -> Option<T> {
        let dir = fold(kind, dir);
        let leaf = leaf.to_lowercase();
        let mut best: Option<(Specificity, T)> = None;
        for o in self.list.iter().filter(|o| o.kind == kind) {
            let Some(t) = pick(&o.act) else { continue };
            let Some(s) = o
                .matchers
                .iter()
                .filter(|m| m.matches(dir.as_bytes(), Some(leaf.as_bytes())))
                .map(|m| m.specificity)
                .max()
            else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, t));
            }
        }
        best.map(|(_, t)| t)
    }

    /// Where a file of the old machine (`C:\Users\ann\AppData\Roaming\Old\a.txt`) goes on
    /// the new one, as a Windows path of the new machine, when a `<locationModify>` says.
    pub fn relocate_file(&self, old: &str) -> Option<String> {
        let (dir, name) = old.rsplit_once('\\')?;
        let (dir, leaf) = self.relocate(ObjectKind::File, dir, name)?;
        Some(format!("{dir}\\{leaf}"))
    }

    /// Where a registry value (`HKCU\Software\Old` [`name`]) goes: its new key and name.
    pub fn relocate_value(&self, key: &str, name: &str) -> Option<(String, String)> {
        self.relocate(ObjectKind::Registry, key, name)
    }

    fn relocate(&self, kind: ObjectKind, dir: &str, leaf: &str) -> Option<(String, String)> {
        let r = self.best(kind, dir, leaf, |a| match a {
            Act::Relocate(r) => Some(r),
            _ => None,
        })?;
        let trim = |s: &str| s.trim_end_matches('\\').to_string();
        match r {
            Relocate::Relative { from, to } => {
                let rest = below(kind, dir, from)?;
                Some((format!("{}{rest}", trim(to)), leaf.to_string()))
            }
            Relocate::Exact { node, leaf: l } => {
                Some((trim(node), l.clone().unwrap_or_else(|| leaf.to_string())))
            }
            Relocate::Into { root } => Some((trim(root), leaf.to_string())),
        }
    }

    /// Who wins when a file meets one on the new machine, when a `<merge>` (or a
    /// `<destinationCleanup>`) says.
    pub fn file_policy(&self, old: &str) -> Option<ConflictPolicy> {
        let (dir, name) = old.rsplit_once('\\')?;
        self.best(ObjectKind::File, dir, name, |a| match a {
            Act::Merge(p) => Some(*p),
            _ => None,
        })
    }

    /// `KeepExisting("TimeFields")`: an overwritten file keeps the times of the one it replaces.
    pub fn keep_existing_times(&self, old: &str) -> bool {
        old.rsplit_once('\\').is_some_and(|(dir, name)| {
            self.best(ObjectKind::File, dir, name, |a| {
                (*a == Act::KeepTimes).then_some(())
            })
            .is_some()
        })
    }

    /// `NeverRestore()`: the object was stored and is never applied.
    pub fn never_restore(&self, kind: ObjectKind, dir: &str, leaf: &str) -> bool {
        self.best(kind, dir, leaf, |a| (*a == Act::NeverRestore).then_some(()))
            .is_some()
    }

    /// Whether the value already on the new machine stays (`DestinationPriority`); the
    /// store's value wins otherwise, as LoadState does for registry values.
    pub fn registry_keeps_destination(&self, key: &str, name: &str) -> bool {
        self.best(ObjectKind::Registry, key, name, |a| match a {
            Act::Merge(p) => Some(*p),
            _ => None,
        }) == Some(ConflictPolicy::Keep)
    }

    /// The value as a `<contentModify>` changes it, if one applies and changes it.
    pub fn modify_value(&self, key: &str, v: &RegValue) -> Option<RegValue> {
        let change = self.best(ObjectKind::Registry, key, &v.name, |a| match a {
            Act::Change(c) => Some(c),
            _ => None,
        })?;
        change.apply(v).filter(|n| n != v)
    }
}

/// The components (with a leading backslash each) of `dir` below `folder`, in the case the
/// object has; registry roots may be written either way (`HKEY_CURRENT_USER`, `HKCU`).
fn below(kind: ObjectKind, dir: &str, folder: &str) -> Option<String> {
    fn roots(kind: ObjectKind, p: &str) -> std::borrow::Cow<'_, str> {
        match kind {
            ObjectKind::Registry => pattern::short_root(p.trim()),
            ObjectKind::File => p.trim().into(),
        }
    }
    let (dir, folder) = (roots(kind, dir), roots(kind, folder));
    super::paths::strip_folder(&dir, folder.trim_end_matches('\\')).map(str::to_string)
}

/// What an entry asks for, or why the restore cannot do it.
fn act(e: &RestoreEntry, sides: &Sides<'_>) -> Result<Act, String> {
    let Some(call) = &e.script else {
        return match e.kind {
            RestoreKind::DestinationCleanup => Ok(Act::Merge(ConflictPolicy::Overwrite)),
            _ => Err("no helper recorded".into()),
        };
    };
    let name = call.name.to_ascii_lowercase();
    use RestoreKind as K;
    match (e.kind, name.as_str()) {
        (K::LocationModify, "relativemove") => Ok(Act::Relocate(Relocate::Relative {
            from: sides.source(e, 0)?,
            to: sides.target(e, 1)?,
        })),
        (K::LocationModify, "exactmove") => {
            let to = sides.target(e, 0)?;
            let p = pattern::parse(kind_of(&to), &to)?;
            Ok(Act::Relocate(Relocate::Exact {
                node: p.node,
                leaf: p.leaf,
            }))
        }
        (K::LocationModify, "move") => Ok(Act::Relocate(Relocate::Into {
            root: sides.target(e, 0)?,
        })),
        (K::Merge, "sourcepriority") => Ok(Act::Merge(ConflictPolicy::Overwrite)),
        (K::Merge, "destinationpriority") => Ok(Act::Merge(ConflictPolicy::Keep)),
        (K::Merge, "findfileplacebypattern")
            if arg(e, 0).map_or(true, |p| p.replace(' ', "") == "<F>(<N>).<E>") =>
        {
            Ok(Act::Merge(ConflictPolicy::Rename))
        }
        (K::DestinationCleanup, _) => Ok(Act::Merge(ConflictPolicy::Overwrite)),
        (K::ContentModify | K::Merge, "keepexisting") => keep_existing(&call.args),
        (_, "mergeshelllibraries") => Err(
            "libraries are not merged: a .library-ms file is placed whole, as its <merge> rule or --on-conflict says"
                .into(),
        ),
        (K::ContentModify, _) => Change::parse(&name, &call.args).map(Act::Change),
        (K::IncludeFilter | K::ExcludeFilter, "neverrestore") => Ok(Act::NeverRestore),
        (K::IncludeFilter | K::ExcludeFilter, "ignoreirrelevantlinks") => Err(
            "shortcuts are restored whatever they point to (their targets are not checked here)"
                .into(),
        ),
        (K::AddObjects, _) => Err("objects added by the rules are not created".into()),
        (K::Other, _) => Err("an instruction of a later Lifeboat, which this version does not know".into()),
        (kind, _) => Err(format!(
            "a helper this version does not apply in <{}>",
            kind.element()
        )),
    }
}

/// `KeepExisting("TimeFields")` (or no argument) is honoured; other attributes are not.
fn keep_existing(args: &[String]) -> Result<Act, String> {
    let other: Vec<&String> = args
        .iter()
        .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("TimeFields"))
        .collect();
    if other.is_empty() {
        Ok(Act::KeepTimes)
    } else {
        Err(format!(
            "only TimeFields is kept (a replaced file takes its folder's security and the store's attributes), not {}",
            other.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))
    }
}

/// Registry objects take moves, merges, changes and NeverRestore; keeping times is for files.
fn registry_unsupported(act: &Act) -> Option<String> {
    match act {
        Act::KeepTimes => Some("KeepExisting applies to files only here".into()),
        Act::Relocate(
            Relocate::Relative { to, .. }
            | Relocate::Into { root: to }
            | Relocate::Exact { node: to, .. },
        ) if kind_of(to) == ObjectKind::File => Some(format!("{to} is not a registry key")),
        _ => None,
    }
}

/// A number as MigXML writes them: `0x1F` or `31`.
fn number(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("0x") => i64::from_str_radix(&s[2..], 16).ok(),
        _ => s.parse().ok(),
    }
}

impl Change {
    fn parse(name: &str, args: &[String]) -> Result<Change, String> {
        let arg = |i: usize| args.get(i).map(|a| a.trim()).filter(|a| !a.is_empty());
        let table = |i: usize| -> Vec<String> {
            arg(i)
                .map(|t| t.split(',').map(|x| x.trim().to_string()).collect())
                .unwrap_or_default()
        };
        match name {
            "setvaluebytable" => Ok(Change::ByTable {
                from: table(0),
                to: table(1),
                default: arg(2).map(str::to_string),
            }),
            "offsetvalue" => arg(0)
                .and_then(number)
                .map(Change::Offset)
                .ok_or_else(|| "OffsetValue needs a number".into()),
            "converttodword" => Ok(Change::ToDword(
                arg(0).and_then(number).and_then(|n| u32::try_from(n).ok()),
            )),
            "converttostring" => Ok(Change::ToString),
            _ => Err("a helper this version does not apply in <contentModify>".into()),
        }
    }

    /// The value changed, or None when this change does not apply to its type.
    fn apply(&self, v: &RegValue) -> Option<RegValue> {
        let text = match v.kind {
            REG_SZ | REG_EXPAND_SZ => Some(crate::hive::utf16_until_nul(&v.data)),
            _ => None,
        };
        let dword = (v.kind == REG_DWORD)
            .then(|| crate::le::u32_at(&v.data, 0))
            .flatten();
        let with = |kind: u32, data: Vec<u8>| RegValue {
            name: v.name.clone(),
            kind,
            data,
        };
        match self {
            Change::ByTable { from, to, default } => {
                let hit = from.iter().position(|f| match (dword, &text) {
                    (Some(d), _) => number(f) == Some(i64::from(d)),
                    (None, Some(t)) => f.eq_ignore_ascii_case(t),
                    _ => false,
                });
                let new = match hit {
                    Some(i) => to.get(i)?,
                    None => default.as_ref()?,
                };
                match dword {
                    Some(_) => Some(with(
                        REG_DWORD,
                        u32::try_from(number(new)?).ok()?.to_le_bytes().to_vec(),
                    )),
                    None => Some(with(v.kind, utf16z(new))),
                }
            }
            Change::Offset(n) => {
                let d = u32::try_from(i64::from(dword?).checked_add(*n)?).ok()?;
                Some(with(REG_DWORD, d.to_le_bytes().to_vec()))
            }
            Change::ToDword(default) => {
                let d = text
                    .as_deref()
                    .and_then(number)
                    .and_then(|n| u32::try_from(n).ok())
                    .or(*default)?;
                Some(with(REG_DWORD, d.to_le_bytes().to_vec()))
            }
            Change::ToString => Some(with(REG_SZ, utf16z(&dword?.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: RestoreKind, script: &str, patterns: &[&str]) -> RestoreEntry {
        let (name, args) = crate::rules::migxml_helpers::parse_call(script).unwrap();
        RestoreEntry {
            component: "App".into(),
            kind,
            script: Some(crate::store::schema::Call { name, args }),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            source_args: Vec::new(),
        }
    }

    fn vars(profile: &str, appdata: &str) -> HashMap<String, String> {
        user_vars(
            &UserFolders {
                profile: profile.into(),
                known: [("AppData".to_string(), appdata.to_string())].into(),
            },
            "S-1-5-21-1",
            "x",
        )
    }

    fn helpers(entries: &[RestoreEntry]) -> Helpers {
        let old = UserFolders {
            profile: r"C:\Users\ann".into(),
            known: [(
                "AppData".to_string(),
                r"C:\Users\ann\AppData\Roaming".to_string(),
            )]
            .into(),
        };
        let new_known = [("AppData".to_string(), r"D:\Roam\bob".to_string())].into();
        Helpers::new(
            entries,
            &Sides {
                source: &vars(r"C:\Users\ann", r"C:\Users\ann\AppData\Roaming"),
                target: &vars(r"C:\Users\bob", r"D:\Roam\bob"),
                rebase: &Rebase::new(&old, r"C:\Users\bob", &new_known),
            },
        )
    }

    #[test]
    fn a_kind_a_later_agent_records_reads_and_is_reported_not_applied() {
        let later: RestoreEntry = serde_norway::from_str(
            "component: App\nkind: rename-on-arrival\nscript: {name: Later, args: []}\npatterns: ['C:\\X\\* [*]']\n",
        )
        .unwrap();
        assert_eq!(later.kind, RestoreKind::Other);
        let h = helpers(&[later]);
        assert_eq!(h.not_applied.len(), 1, "{:?}", h.not_applied);
        assert!(h.not_applied[0].why.contains("later Lifeboat"));
    }

    #[test]
    fn moves_are_expanded_on_each_side() {
        use RestoreKind::LocationModify as L;
        let h = helpers(&[
            entry(
                L,
                r"MigXmlHelper.RelativeMove('%CSIDL_APPDATA%\Old','%CSIDL_APPDATA%\New')",
                &[r"C:\Users\ann\AppData\Roaming\Old\* [*]"],
            ),
            entry(
                L,
                r#"ExactMove("HKCU\Software\New [Renamed]")"#,
                &[r"HKCU\Software\Old [Value]"],
            ),
            entry(L, r"Move('%CSIDL_APPDATA%\Into')", &[r"C:\Data\* [*.ini]"]),
            entry(
                L,
                r"RelativeMove('%AppPrivateVar%','%AppPrivateVar%')",
                &[r"C:\X\* [*]"],
            ),
        ]);
        assert_eq!(
            h.relocate_file(r"C:\Users\ANN\AppData\Roaming\Old\Sub\a.txt")
                .as_deref(),
            Some(r"D:\Roam\bob\New\Sub\a.txt")
        );
        assert_eq!(
            h.relocate_file(r"C:\Users\ann\AppData\Roaming\Older\a.txt"),
            None
        );
        assert_eq!(
            h.relocate_file(r"C:\Data\deep\a.ini").as_deref(),
            Some(r"D:\Roam\bob\Into\a.ini")
        );
        assert_eq!(
            h.relocate_value(r"HKCU\Software\Old", "Value"),
            Some((r"HKCU\Software\New".into(), "Renamed".into()))
        );
        assert_eq!(h.relocate_value(r"HKCU\Software\Old", "Other"), None);
        assert_eq!(h.not_applied.len(), 1, "{:?}", h.not_applied);
        assert!(h.not_applied[0].why.contains("%AppPrivateVar%"));
    }

    #[test]
    fn the_most_specific_merge_wins_and_unknown_helpers_are_reported() {
        use RestoreKind::{ContentModify, ExcludeFilter, Merge};
        let h = helpers(&[
            entry(
                Merge,
                "SourcePriority()",
                &[r"C:\Users\ann\Documents\* [*]"],
            ),
            entry(
                Merge,
                "DestinationPriority()",
                &[r"C:\Users\ann\Documents\* [*.ini]"],
            ),
            entry(
                Merge,
                "DestinationPriority()",
                &[r"HKCU\Software\App\* [*]"],
            ),
            entry(Merge, r#"NewestVersion("FileVersion")"#, &[r"C:\P\* [*]"]),
            entry(
                ContentModify,
                r#"KeepExisting("TimeFields")"#,
                &[r"C:\T\* [*]"],
            ),
            entry(
                ExcludeFilter,
                "NeverRestore()",
                &[r"HKCU\Software\App [Secret]"],
            ),
        ]);
        assert_eq!(
            h.file_policy(r"C:\Users\ann\Documents\x\a.ini"),
            Some(ConflictPolicy::Keep)
        );
        assert_eq!(
            h.file_policy(r"C:\Users\ann\Documents\a.txt"),
            Some(ConflictPolicy::Overwrite)
        );
        assert_eq!(h.file_policy(r"C:\Users\ann\a.txt"), None);
        assert!(h.registry_keeps_destination(r"HKEY_CURRENT_USER\Software\App\Sub", "V"));
        assert!(!h.registry_keeps_destination(r"HKCU\Software\Other", "V"));
        assert!(h.keep_existing_times(r"C:\T\a"));
        assert!(h.never_restore(ObjectKind::Registry, r"HKCU\Software\App", "secret"));
        assert!(!h.never_restore(ObjectKind::Registry, r"HKCU\Software\App", "Other"));
        assert_eq!(h.not_applied.len(), 1);
        assert_eq!(h.not_applied[0].helper, r#"NewestVersion("FileVersion")"#);
    }

    #[test]
    fn values_change_by_table_offset_and_conversion() {
        use RestoreKind::ContentModify as C;
        let h = helpers(&[
            entry(
                C,
                "SetValueByTable('0x1,2','0x10,20','0x63')",
                &[r"HKCU\A [Mode]"],
            ),
            entry(
                C,
                "SetValueByTable('Old,Gone','New,','')",
                &[r"HKCU\A [Name]"],
            ),
            entry(C, "OffsetValue('-5')", &[r"HKCU\A [Count]"]),
            entry(C, "ConvertToDWORD('7')", &[r"HKCU\A [Num]"]),
            entry(C, "MergeMultiSzContent('Add','x')", &[r"HKCU\A [List]"]),
        ]);
        let dw = |name: &str, d: u32| RegValue {
            name: name.into(),
            kind: REG_DWORD,
            data: d.to_le_bytes().to_vec(),
        };
        let sz = |name: &str, s: &str| RegValue {
            name: name.into(),
            kind: REG_SZ,
            data: utf16z(s),
        };
        assert_eq!(
            h.modify_value(r"HKCU\A", &dw("Mode", 2)),
            Some(dw("Mode", 20))
        );
        assert_eq!(
            h.modify_value(r"HKCU\A", &dw("Mode", 5)),
            Some(dw("Mode", 0x63))
        );
        assert_eq!(
            h.modify_value(r"HKCU\A", &sz("Name", "old")),
            Some(sz("Name", "New"))
        );
        // Not in the table and no default: unchanged.
        assert_eq!(h.modify_value(r"HKCU\A", &sz("Name", "Other")), None);
        assert_eq!(
            h.modify_value(r"HKCU\A", &dw("Count", 12)),
            Some(dw("Count", 7))
        );
        assert_eq!(h.modify_value(r"HKCU\A", &dw("Count", 2)), None);
        assert_eq!(
            h.modify_value(r"HKCU\A", &sz("Num", "0x20")),
            Some(dw("Num", 32))
        );
        assert_eq!(
            h.modify_value(r"HKCU\A", &sz("Num", "many")),
            Some(dw("Num", 7))
        );
        assert_eq!(h.not_applied.len(), 1);
        assert!(h.not_applied[0].helper.starts_with("MergeMultiSzContent"));
    }

    #[test]
    fn names_whose_case_changes_length_move_whole() {
        // 'İ' lower-cases to 3 bytes from 2, the Kelvin sign 'K' to 1 byte from 3: the cut
        // below the moved folder must be made in the name's own bytes.
        let h = helpers(&[entry(
            RestoreKind::LocationModify,
            r"MigXmlHelper.RelativeMove('%CSIDL_APPDATA%\Old','%CSIDL_APPDATA%\New')",
            &[r"C:\Users\ann\AppData\Roaming\Old\* [*]"],
        )]);
        let kelvin = "C:\\Users\\ann\\AppData\\Roaming\\Old\\\u{212A}elvin\\a.txt";
        assert_eq!(
            h.relocate_file(kelvin).as_deref(),
            Some("D:\\Roam\\bob\\New\\\u{212A}elvin\\a.txt")
        );
        let dotted = "İ".repeat(60);
        let old = format!(r"C:\Users\ann\AppData\Roaming\Old\{dotted}\a.txt");
        assert_eq!(
            h.relocate_file(&old),
            Some(format!(r"D:\Roam\bob\New\{dotted}\a.txt"))
        );
    }
}
