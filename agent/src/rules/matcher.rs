//! Deciding, for one object of an expanded [`RuleSet`], whether capture takes it — USMT's
//! precedence (Conflicts and Precedence article):
//! * `unconditionalExclude` anywhere beats every include anywhere;
//! * within one component the most specific matching rule wins (see
//!   [`Specificity`](super::pattern::Specificity): folder first, then exact-vs-`\*`, then leaf),
//!   and on a tie the exclude wins; the order of rules does not matter;
//! * components do not affect each other: one component's include is enough.
//!
//! Patterns are compiled once in [`Matcher::new`]; no I/O here.

use super::model::{Action, ObjectKind, RuleSet};
use super::pattern::{self, fold, Compiled, Specificity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Taken; `component` indexes [`RuleSet::components`] (the first that includes it).
    Include { component: usize },
    /// Matched, but an exclude won (or an unconditional exclude applies).
    Exclude,
    /// No rule of any component speaks about it.
    NotMatched,
}

struct CompiledComponent {
    name: String,
    includes: Vec<Compiled>,
    excludes: Vec<Compiled>,
}

pub struct Matcher {
    components: Vec<CompiledComponent>,
    unconditional: Vec<Compiled>,
}

impl Matcher {
    /// Compiles an already expanded set (see [`super::expand::expand`]); variables still
    /// in a pattern are matched literally, i.e. never.
    pub fn new(set: &RuleSet) -> Matcher {
        let mut unconditional = Vec::new();
        let mut components = Vec::with_capacity(set.components.len());
        for c in &set.components {
            let mut cc = CompiledComponent {
                name: c.name.clone(),
                includes: Vec::new(),
                excludes: Vec::new(),
            };
            for r in &c.rules {
                let compiled = Compiled::new(&r.pattern);
                match r.action {
                    Action::Include => cc.includes.push(compiled),
                    Action::Exclude => cc.excludes.push(compiled),
                    Action::UnconditionalExclude => unconditional.push(compiled),
                }
            }
            components.push(cc);
        }
        Matcher {
            components,
            unconditional,
        }
    }

    pub fn component_name(&self, index: usize) -> Option<&str> {
        self.components.get(index).map(|c| c.name.as_str())
    }

    /// One object: `node` is the folder (file objects) or key (registry objects), `leaf` the
    /// file or value name (`Some("")` = a key's default value), `None` for the folder/key
    /// itself. Paths in Windows form, any case: `C:\Users\ann\Documents`, `HKCU\Network\Z`.
    pub fn decide(&self, kind: ObjectKind, node: &str, leaf: Option<&str>) -> Decision {
        let dir = fold(kind, node);
        let dir = dir.trim_end_matches('\\').as_bytes();
        let leaf_lc = leaf.map(str::to_lowercase);
        let leaf = leaf_lc.as_deref().map(str::as_bytes);
        let hit = |c: &Compiled| c.kind == kind && c.matches(dir, leaf);
        if self.unconditional.iter().any(hit) {
            return Decision::Exclude;
        }
        let mut matched = false;
        for (i, comp) in self.components.iter().enumerate() {
            let best_in: Option<Specificity> = comp
                .includes
                .iter()
                .filter(|c| hit(c))
                .map(|c| c.specificity)
                .max();
            let Some(best_in) = best_in else { continue };
            matched = true;
            let beaten = comp
                .excludes
                .iter()
                .any(|c| c.specificity >= best_in && hit(c));
            if !beaten {
                return Decision::Include { component: i };
            }
        }
        if matched {
            Decision::Exclude
        } else {
            Decision::NotMatched
        }
    }

    /// A file by its full path (`C:\Users\ann\Documents\a.docx`), or a registry value by
    /// its encoded location (`HKCU\Control Panel\Desktop [Wallpaper]`; no `[...]` = the key).
    pub fn decide_path(&self, kind: ObjectKind, path: &str) -> Decision {
        match kind {
            ObjectKind::File => match path.trim_end_matches('\\').rsplit_once('\\') {
                Some((dir, name)) => self.decide(kind, dir, Some(name)),
                None => self.decide(kind, path, None),
            },
            ObjectKind::Registry => match pattern::parse(kind, path) {
                Ok(p) => self.decide(kind, &p.node, p.leaf.as_deref()),
                Err(_) => Decision::NotMatched,
            },
        }
    }

    /// Whether a walker must descend into folder `dir` (or registry key): false when no
    /// include of any component can reach anything at or below it, or when an unconditional
    /// exclude removes the whole tree. May say true wrongly, never false wrongly.
    pub fn might_contain(&self, kind: ObjectKind, dir: &str) -> bool {
        let dir = fold(kind, dir);
        let dir = dir.trim_end_matches('\\').as_bytes();
        if self
            .unconditional
            .iter()
            .any(|c| c.kind == kind && c.covers_tree(dir))
        {
            return false;
        }
        self.components
            .iter()
            .flat_map(|c| c.includes.iter())
            .any(|c| c.kind == kind && c.may_reach(dir))
    }
}

/// One-shot convenience over [`Matcher`] (compiles every call: use a `Matcher` in loops).
pub fn decide(set: &RuleSet, kind: ObjectKind, path: &str) -> Decision {
    Matcher::new(set).decide_path(kind, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Component, Rule, Scope};

    fn comp(name: &str, rules: &[(Action, ObjectKind, &str)]) -> Component {
        let mut c = Component::new(name, Scope::System, "test");
        for (a, k, p) in rules {
            c.rules.push(Rule {
                action: *a,
                pattern: pattern::parse(*k, p).unwrap(),
            });
        }
        c
    }
    use Action::{Exclude as Ex, Include as In, UnconditionalExclude as Ue};
    use ObjectKind::{File as F, Registry as R};

    fn set(cs: Vec<Component>) -> Matcher {
        Matcher::new(&RuleSet {
            components: cs,
            warnings: vec![],
        })
    }

    #[test]
    fn folder_beats_extension_and_ties_go_to_exclude() {
        let m = set(vec![comp(
            "c",
            &[(In, F, r"C:\Data\* [*]"), (Ex, F, r"C:\* [*.mp3]")],
        )]);
        assert_eq!(
            m.decide_path(F, r"C:\Data\x.mp3"),
            Decision::Include { component: 0 }
        );
        assert_eq!(m.decide_path(F, r"C:\Other\x.mp3"), Decision::NotMatched);
        let m = set(vec![comp(
            "c",
            &[
                (In, F, r"C:\Dir1\Dir2\* [*.txt]"),
                (Ex, F, r"C:\Dir1\Dir2\* [*.txt]"),
            ],
        )]);
        assert_eq!(m.decide_path(F, r"C:\Dir1\Dir2\a.txt"), Decision::Exclude);
    }

    #[test]
    fn unconditional_exclude_crosses_components_plain_exclude_does_not() {
        let m = set(vec![
            comp("a", &[(Ex, F, r"C:\Userdocs\* [*.mp3]")]),
            comp("b", &[(In, F, r"C:\Userdocs\ [*]")]),
        ]);
        assert_eq!(
            m.decide_path(F, r"C:\Userdocs\a.mp3"),
            Decision::Include { component: 1 }
        );
        let m = set(vec![
            comp("a", &[(Ue, F, r"C:\* [*.mp3]")]),
            comp("b", &[(In, F, r"C:\Userdocs\ [a.mp3]")]),
        ]);
        assert_eq!(m.decide_path(F, r"C:\Userdocs\a.mp3"), Decision::Exclude);
    }

    #[test]
    fn registry_default_value_and_keys() {
        let m = set(vec![comp(
            "k",
            &[(In, R, r"HKCU\Keyboard Layout\Toggle []")],
        )]);
        assert_eq!(
            m.decide(R, r"HKEY_CURRENT_USER\Keyboard Layout\Toggle", Some("")),
            Decision::Include { component: 0 }
        );
        assert_eq!(
            m.decide(R, r"HKCU\Keyboard Layout\Toggle", Some("Hotkey")),
            Decision::NotMatched
        );
        assert_eq!(
            m.decide(F, r"HKCU\Keyboard Layout\Toggle", Some("")),
            Decision::NotMatched
        );
    }

    #[test]
    fn pruning() {
        let m = set(vec![
            comp("docs", &[(In, F, r"C:\Users\ann\Documents\* [*]")]),
            comp("no", &[(Ue, F, r"C:\Users\ann\Documents\Junk\* [*]")]),
        ]);
        assert!(m.might_contain(F, r"C:\"));
        assert!(m.might_contain(F, r"C:\Users\ann\Documents\Work"));
        assert!(!m.might_contain(F, r"C:\Windows"));
        assert!(!m.might_contain(F, r"C:\Users\ann\Documents\Junk\Sub"));
    }
}
