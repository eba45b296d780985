//! MigXML's run-time helpers, as the capture recorded them in the manifest
//! (`restore_helpers`): where objects go (`RelativeMove`, `Move`, `ExactMove`) and who wins a
//! collision (`SourcePriority`, `DestinationPriority`, `KeepExisting`,
//! `MergeShellLibraries`). Patterns are USMT's encoded locations, matched with the rule
//! engine's own matcher; paths are in the source's terms and are rebased afterwards.

use super::ConflictPolicy;
use crate::rules::pattern::{self, fold, Compiled};
use crate::rules::ObjectKind;
use crate::store::manifest::{HelperName, HelperObject, Manifest, RestoreHelper, UserRecord};

struct One {
    object: HelperObject,
    matcher: Compiled,
    helper: HelperName,
    args: Vec<String>,
}

/// The helpers that apply to one user (those recorded for its SID and for everyone).
#[derive(Default)]
pub struct Helpers {
    list: Vec<One>,
    /// Recorded helpers that could not be used (unknown name, bad pattern), for the report.
    pub ignored: Vec<String>,
}

pub fn for_user(m: &Manifest, r: &UserRecord) -> Helpers {
    let mut h = Helpers::default();
    for rh in m.restore_helpers.iter().filter(|rh| {
        rh.sid
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&r.sid))
    }) {
        h.add(rh);
    }
    h
}

impl Helpers {
    fn add(&mut self, rh: &RestoreHelper) {
        let kind = match rh.object {
            HelperObject::File => ObjectKind::File,
            HelperObject::Registry => ObjectKind::Registry,
        };
        match (rh.helper, pattern::parse(kind, &rh.pattern)) {
            (HelperName::Unknown, _) => self.ignored.push(format!(
                "{}: a helper this version does not know",
                rh.pattern
            )),
            (_, Err(e)) => self.ignored.push(format!("{}: {e}", rh.pattern)),
            (helper, Ok(p)) => self.list.push(One {
                object: rh.object,
                matcher: Compiled::new(&p),
                helper,
                args: rh.args.clone(),
            }),
        }
    }

    fn matching(&self, object: HelperObject, path: &str) -> impl Iterator<Item = &One> {
        let (dir, leaf) = match path.rsplit_once('\\') {
            Some((d, l)) => (d, Some(l)),
            None => (path, None),
        };
        let kind = match object {
            HelperObject::File => ObjectKind::File,
            HelperObject::Registry => ObjectKind::Registry,
        };
        let dir = fold(kind, dir);
        let leaf = leaf.map(|l| l.to_lowercase());
        self.list.iter().filter(move |o| {
            o.object == object
                && o.matcher
                    .matches(dir.as_bytes(), leaf.as_deref().map(str::as_bytes))
        })
    }

    /// Where a file of the source goes instead, in the source's terms (`locationModify`).
    pub fn relocate(&self, old: &str) -> Option<String> {
        let o = self.matching(HelperObject::File, old).find(|o| {
            matches!(
                o.helper,
                HelperName::RelativeMove | HelperName::Move | HelperName::ExactMove
            )
        })?;
        let name = old.rsplit('\\').next().unwrap_or(old);
        match o.helper {
            // RelativeMove(from, to): the path below `from` is kept below `to`.
            HelperName::RelativeMove => {
                let (from, to) = (o.args.first()?, o.args.get(1)?);
                let rest = super::paths::below(old, from)?;
                Some(
                    std::iter::once(to.trim_end_matches('\\'))
                        .chain(rest)
                        .collect::<Vec<_>>()
                        .join("\\"),
                )
            }
            // Move(destRoot): the object keeps its name, in destRoot.
            HelperName::Move => Some(format!(
                "{}\\{name}",
                o.args.first()?.trim_end_matches('\\')
            )),
            // ExactMove(location): exactly there (a folder: the name kept inside it).
            HelperName::ExactMove => {
                let to = o.args.first()?;
                let (dir, leaf) = match to.find(" [") {
                    Some(i) => (&to[..i], to[i + 2..].trim_end_matches(']')),
                    None => (to.as_str(), name),
                };
                Some(format!("{}\\{leaf}", dir.trim_end_matches('\\')))
            }
            _ => None,
        }
    }

    /// Who wins when a file of the source meets one on the new machine (`<merge>`).
    pub fn file_policy(&self, old: &str) -> Option<ConflictPolicy> {
        self.matching(HelperObject::File, old)
            .find_map(|o| match o.helper {
                HelperName::SourcePriority => Some(ConflictPolicy::Overwrite),
                HelperName::DestinationPriority | HelperName::MergeShellLibraries => {
                    Some(ConflictPolicy::Keep)
                }
                _ => None,
            })
    }

    /// `KeepExisting("TimeFields")` (or no argument): an overwritten file keeps the times
    /// of the one it replaces.
    pub fn keep_existing_times(&self, old: &str) -> bool {
        self.matching(HelperObject::File, old).any(|o| {
            o.helper == HelperName::KeepExisting
                && (o.args.is_empty()
                    || o.args.iter().any(|a| a.eq_ignore_ascii_case("TimeFields")))
        })
    }

    /// Whether a registry value of the source (`HKCU\key [name]` as `HKCU\key\name`) gives
    /// way to the value already on the new machine (`DestinationPriority`).
    pub fn registry_keeps_destination(&self, key: &str, name: &str) -> bool {
        let path = format!("{key}\\{name}");
        self.matching(HelperObject::Registry, &path)
            .any(|o| o.helper == HelperName::DestinationPriority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(
        object: HelperObject,
        pattern: &str,
        helper: HelperName,
        args: &[&str],
    ) -> RestoreHelper {
        RestoreHelper {
            sid: None,
            object,
            pattern: pattern.into(),
            helper,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn moves_and_merges() {
        let mut h = Helpers::default();
        h.add(&helper(
            HelperObject::File,
            r"C:\Users\ann\AppData\Roaming\Old\* [*]",
            HelperName::RelativeMove,
            &[
                r"C:\Users\ann\AppData\Roaming\Old",
                r"C:\Users\ann\AppData\Roaming\New",
            ],
        ));
        h.add(&helper(
            HelperObject::File,
            r"C:\Users\ann\Documents\* [*.ini]",
            HelperName::DestinationPriority,
            &[],
        ));
        h.add(&helper(
            HelperObject::Registry,
            r"HKCU\Software\App\* [*]",
            HelperName::DestinationPriority,
            &[],
        ));
        h.add(&helper(
            HelperObject::File,
            r"C:\x [*]",
            HelperName::Unknown,
            &[],
        ));
        assert_eq!(
            h.relocate(r"C:\Users\ann\AppData\Roaming\Old\sub\a.txt")
                .as_deref(),
            Some(r"C:\Users\ann\AppData\Roaming\New\sub\a.txt")
        );
        assert_eq!(h.relocate(r"C:\Users\ann\Documents\a.ini"), None);
        assert_eq!(
            h.file_policy(r"C:\Users\ann\Documents\x\a.ini"),
            Some(ConflictPolicy::Keep)
        );
        assert_eq!(h.file_policy(r"C:\Users\ann\Documents\a.txt"), None);
        assert!(h.registry_keeps_destination(r"HKCU\Software\App\Sub", "V"));
        assert!(!h.registry_keeps_destination(r"HKCU\Software\Other", "V"));
        assert_eq!(h.ignored.len(), 1);
    }
}
