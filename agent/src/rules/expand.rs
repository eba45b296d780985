//! Turning a parsed [`RuleSet`] into one for a single pass (one user, or the machine):
//! picks the components of that [`Scope`], evaluates their detection and private variables,
//! and replaces `%VARIABLES%` in every pattern.
//!
//! The variable values come from the caller (read from the offline hives: User Shell
//! Folders of the user's NTUSER.DAT, ProfileList, …) as a plain map, name in upper case →
//! Windows path. A pattern with an unknown variable matches nothing and is reported once.

use std::collections::HashMap;

use super::model::{ObjectKind, Pattern, RuleSet, Scope};
use crate::limits;
use crate::winpath::{self, ExpandError, Unknown};

/// Node prefix of patterns meant for every fixed drive (`GenerateDrivePatterns(…,"Fixed")`,
/// GenerateDocPatterns); [`expand`] writes one copy per drive in `fixed_drives`.
pub const FIXED_DRIVES: &str = "%LIFEBOAT_FIXED_DRIVES%";

/// What only the offline system can tell. Every answer may be `None` (cannot tell).
pub trait Facts {
    /// A MigXML condition helper (`DoesObjectExist`, `IsNative64Bit`, `DoesFileVersionMatch`…)
    /// with its arguments, variables already expanded.
    fn condition(&self, _name: &str, _args: &[String]) -> Option<bool> {
        None
    }
    /// `GetStringContent("Registry", location)`: the string in the offline hive.
    fn registry_string(&self, _location: &str) -> Option<String> {
        None
    }
    /// [`Facts::condition`] with the reason, for `lifeboat rules explain`
    /// (`"C:\…\opera.exe: ProductVersion is 10.63"`).
    fn check(&self, name: &str, args: &[String]) -> Answer {
        Answer {
            value: self.condition(name, args),
            detail: String::new(),
        }
    }
    /// `GetStringContent(kind, location)`: found, known to be absent, or cannot tell.
    fn string_content(&self, kind: ObjectKind, location: &str) -> Lookup {
        match kind {
            ObjectKind::Registry => self
                .registry_string(location)
                .map_or(Lookup::Unknown, Lookup::Found),
            ObjectKind::File => Lookup::Unknown,
        }
    }
    /// The contents of the objects `pattern` names, as strings (registry values: their
    /// text, a REG_MULTI_SZ's strings joined by NUL; files: their paths), for `<content>`
    /// filters and objectSet variables. `None`: cannot tell.
    fn object_contents(&self, _pattern: &Pattern) -> Option<Vec<String>> {
        None
    }
    /// Whether a file or folder (`C:\…`) exists on the offline system. `None`: cannot tell.
    fn file_exists(&self, _win_path: &str) -> Option<bool> {
        None
    }
}

/// A condition helper's answer with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub value: Option<bool>,
    pub detail: String,
}

/// A value looked up on the offline system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(String),
    /// Looked for and not there; the reason in words.
    Absent(String),
    /// Nobody can tell (no offline system to ask).
    Unknown,
}

/// Knows nothing: every component is taken as present; registry-read variables stay unknown.
pub struct NoFacts;
impl Facts for NoFacts {}

pub struct Environment<'a> {
    /// Upper-case name → value (see [`with_aliases`]).
    pub vars: &'a HashMap<String, String>,
    /// Drive roots of the offline system's fixed volumes as it named them: `["C:", "D:"]`.
    pub fixed_drives: &'a [String],
    pub facts: &'a dyn Facts,
}

/// Expands `%NAME%` references (case-insensitive names, nested values) with the one bounded
/// expander, [`crate::winpath::expand`]: an unknown name, a self-reference, or growth past
/// the limits is an error. A leading [`FIXED_DRIVES`] stays for [`expand`] to multiply.
pub fn expand_text(text: &str, vars: &HashMap<String, String>) -> Result<String, ExpandError> {
    let lookup = |name: &str| vars.get(&name.to_uppercase()).map(String::as_str);
    let (marker, rest) = match text.get(..FIXED_DRIVES.len()) {
        Some(head) if head.eq_ignore_ascii_case(FIXED_DRIVES) => {
            (FIXED_DRIVES, &text[FIXED_DRIVES.len()..])
        }
        _ => ("", text),
    };
    let expanded = winpath::expand(rest, &lookup, Unknown::Fail)?;
    Ok(format!("{marker}{expanded}"))
}

/// What the rules of one pass may still expand to: [`limits::EXPAND_MAX_TOTAL_CHARS`] of
/// variable values and patterns, [`limits::RULE_MAX_VARIABLES`] variables and
/// [`limits::RULE_MAX_PATTERNS`] patterns. A hostile rules file (variables defined from each
/// other, doubling at each line) stops here instead of exhausting memory.
pub(super) struct Budget {
    chars: usize,
    variables: usize,
    patterns: usize,
}

impl Budget {
    pub(super) fn new() -> Budget {
        Budget {
            chars: limits::EXPAND_MAX_TOTAL_CHARS,
            variables: limits::RULE_MAX_VARIABLES,
            patterns: limits::RULE_MAX_PATTERNS,
        }
    }

    pub(super) fn variable(&mut self, value: &str) -> bool {
        self.variables = self.variables.saturating_sub(1);
        self.chars = self.chars.saturating_sub(value.len());
        !self.spent()
    }

    pub(super) fn pattern(&mut self, p: &Pattern) -> bool {
        self.patterns = self.patterns.saturating_sub(1);
        let len = p.node.len() + p.leaf.as_ref().map_or(0, String::len);
        self.chars = self.chars.saturating_sub(len);
        !self.spent()
    }

    pub(super) fn spent(&self) -> bool {
        self.chars == 0 || self.variables == 0 || self.patterns == 0
    }
}

/// Fills well-known synonyms (ENV article: `CSIDL_PROFILE` = `USERPROFILE`, `APPDATA` =
/// `CSIDL_APPDATA`, …) in both directions where one side is known, plus folders derived
/// from others (Quick Launch below AppData). Existing entries are never changed.
pub fn with_aliases(mut vars: HashMap<String, String>) -> HashMap<String, String> {
    const SAME: &[&[&str]] = &[
        &["USERPROFILE", "CSIDL_PROFILE", "FOLDERID_PROFILE"],
        &["APPDATA", "CSIDL_APPDATA", "FOLDERID_ROAMINGAPPDATA"],
        &[
            "LOCALAPPDATA",
            "CSIDL_LOCAL_APPDATA",
            "FOLDERID_LOCALAPPDATA",
        ],
        &["CSIDL_PERSONAL", "CSIDL_MYDOCUMENTS", "FOLDERID_DOCUMENTS"],
        &[
            "CSIDL_DESKTOP",
            "CSIDL_DESKTOPDIRECTORY",
            "FOLDERID_DESKTOP",
        ],
        &["CSIDL_MYMUSIC", "FOLDERID_MUSIC"],
        &["CSIDL_MYPICTURES", "FOLDERID_PICTURES"],
        &["CSIDL_MYVIDEO", "FOLDERID_VIDEOS"],
        &["CSIDL_FAVORITES", "FOLDERID_FAVORITES"],
        &["CSIDL_STARTMENU", "FOLDERID_STARTMENU"],
        &["WINDIR", "CSIDL_WINDOWS", "SYSTEMROOT"],
        &["PROGRAMFILES", "CSIDL_PROGRAM_FILES"],
        &["PROGRAMFILES(X86)", "CSIDL_PROGRAM_FILESX86"],
        &["COMMONPROGRAMFILES", "CSIDL_PROGRAM_FILES_COMMON"],
        &["COMMONPROGRAMFILES(X86)", "CSIDL_PROGRAM_FILES_COMMONX86"],
        &["PROGRAMDATA", "CSIDL_COMMON_APPDATA", "ALLUSERSAPPDATA"],
        &["CSIDL_COMMON_DOCUMENTS", "FOLDERID_PUBLICDOCUMENTS"],
        &["CSIDL_COMMON_DESKTOPDIRECTORY", "FOLDERID_PUBLICDESKTOP"],
        &["CSIDL_SYSTEM", "SYSTEM32", "SYSTEM"],
    ];
    for group in SAME {
        if let Some(v) = group.iter().find_map(|n| vars.get(*n).cloned()) {
            for n in *group {
                vars.entry(n.to_string()).or_insert_with(|| v.clone());
            }
        }
    }
    const BELOW: &[(&str, &str, &str)] = &[
        (
            "CSIDL_QUICKLAUNCH",
            "APPDATA",
            r"\Microsoft\Internet Explorer\Quick Launch",
        ),
        ("TEMP", "LOCALAPPDATA", r"\Temp"),
        ("TMP", "LOCALAPPDATA", r"\Temp"),
        ("CSIDL_SYSTEM", "WINDIR", r"\System32"),
    ];
    for (name, base, tail) in BELOW {
        if let Some(b) = vars.get(*base).cloned() {
            vars.entry(name.to_string())
                .or_insert_with(|| format!("{b}{tail}"));
        }
    }
    vars
}

/// The components of `scope`, present according to `env.facts`, with every variable
/// replaced. Warnings of the input are kept; new ones are added once per cause, naming the
/// rules file. Expansion stops, with a warning, where the pass's budget is spent. (The
/// reasons per component are in [`super::evaluate::evaluate`]'s reports.)
pub fn expand(set: &RuleSet, scope: Scope, env: &Environment) -> RuleSet {
    super::evaluate::evaluate(set, scope, env).rule_set()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Action, Component, Condition, Rule, VarValue, Variable};
    use crate::rules::pattern::parse;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn text_expansion() {
        let v = vars(&[("USERPROFILE", r"C:\Users\ann"), ("A", "%USERPROFILE%\\x")]);
        assert_eq!(
            expand_text(r"%userprofile%\Docs", &v).unwrap(),
            r"C:\Users\ann\Docs"
        );
        assert_eq!(expand_text(r"%A%\y", &v).unwrap(), r"C:\Users\ann\x\y");
        assert_eq!(expand_text("100% sure", &v).unwrap(), "100% sure");
        assert_eq!(
            expand_text(r"%NOPE%\x", &v),
            Err(ExpandError::Unknown("NOPE".to_string()))
        );
        let looped = vars(&[("L", "%L%")]);
        assert_eq!(
            expand_text("%L%", &looped),
            Err(ExpandError::SelfReference("L".to_string()))
        );
        assert_eq!(
            expand_text(r"%LIFEBOAT_FIXED_DRIVES%\%A%", &v).unwrap(),
            r"%LIFEBOAT_FIXED_DRIVES%\C:\Users\ann\x"
        );
    }

    #[test]
    fn aliases_fill_both_ways() {
        let v = with_aliases(vars(&[
            ("CSIDL_PERSONAL", r"D:\Docs"),
            ("APPDATA", r"C:\R"),
        ]));
        assert_eq!(v["FOLDERID_DOCUMENTS"], r"D:\Docs");
        assert_eq!(v["CSIDL_APPDATA"], r"C:\R");
        assert_eq!(
            v["CSIDL_QUICKLAUNCH"],
            r"C:\R\Microsoft\Internet Explorer\Quick Launch"
        );
    }

    struct X64;
    impl Facts for X64 {
        fn condition(&self, name: &str, args: &[String]) -> Option<bool> {
            match name {
                "IsNative64Bit" => Some(true),
                "DoesObjectExist" => Some(args[1].starts_with(r"HKLM\SOFTWARE\Wow6432Node\App")),
                _ => None,
            }
        }
    }

    #[test]
    fn component_variables_detection_and_drives() {
        let call = |n: &str, a: &[&str]| Condition::Call {
            name: n.into(),
            args: a.iter().map(|s| s.to_string()).collect(),
        };
        let mut c = Component::new("App", Scope::System, "t");
        c.variables = vec![
            Variable {
                name: "HklmWowSoftware".into(),
                value: VarValue::Text(r"HKLM\Software".into()),
                when: Some(Condition::Not(Box::new(call("IsNative64Bit", &[])))),
            },
            Variable {
                name: "HklmWowSoftware".into(),
                value: VarValue::Text(r"HKLM\SOFTWARE\Wow6432Node".into()),
                when: Some(call("IsNative64Bit", &[])),
            },
        ];
        c.detect = Some(call(
            "DoesObjectExist",
            &["Registry", r"%HklmWowSoftware%\App"],
        ));
        for (a, k, p) in [
            (
                Action::Include,
                ObjectKind::Registry,
                r"%HklmWowSoftware%\App\* [*]",
            ),
            (
                Action::Include,
                ObjectKind::File,
                r"%LIFEBOAT_FIXED_DRIVES%\* [*.doc]",
            ),
            (Action::Include, ObjectKind::File, r"%UNKNOWN%\* [*]"),
        ] {
            c.rules.push(Rule {
                action: a,
                pattern: parse(k, p).unwrap(),
            });
        }
        let set = RuleSet {
            components: vec![c],
            warnings: vec![],
        };
        let v = HashMap::new();
        let drives = vec!["C:".to_string(), "D:\\".to_string()];
        let env = Environment {
            vars: &v,
            fixed_drives: &drives,
            facts: &X64,
        };
        let out = expand(&set, Scope::System, &env);
        let pats: Vec<String> = out.components[0]
            .rules
            .iter()
            .map(|r| r.pattern.to_string())
            .collect();
        assert_eq!(
            pats,
            [
                r"HKLM\SOFTWARE\Wow6432Node\App\* [*]",
                r"C:\* [*.doc]",
                r"D:\* [*.doc]"
            ]
        );
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("%UNKNOWN%"));
        assert!(expand(&set, Scope::User, &env).components.is_empty());
        let env = Environment {
            vars: &v,
            fixed_drives: &drives,
            facts: &NoFacts,
        };
        assert_eq!(
            expand(&set, Scope::System, &env).components.len(),
            1,
            "unknown = present"
        );
    }
}
