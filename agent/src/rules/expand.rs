//! Turning a parsed [`RuleSet`] into one for a single pass (one user, or the machine):
//! picks the components of that [`Scope`], evaluates their detection and private variables,
//! and replaces `%VARIABLES%` in every pattern.
//!
//! The variable values come from the caller (read from the offline hives: User Shell
//! Folders of the user's NTUSER.DAT, ProfileList, …) as a plain map, name in upper case →
//! Windows path. A pattern with an unknown variable matches nothing and is reported once.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::model::{Component, Condition, Pattern, Rule, RuleSet, Scope, VarValue};
use super::pattern::normalize;
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
struct Budget {
    chars: usize,
    variables: usize,
    patterns: usize,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            chars: limits::EXPAND_MAX_TOTAL_CHARS,
            variables: limits::RULE_MAX_VARIABLES,
            patterns: limits::RULE_MAX_PATTERNS,
        }
    }

    fn variable(&mut self, value: &str) -> bool {
        self.variables = self.variables.saturating_sub(1);
        self.chars = self.chars.saturating_sub(value.len());
        !self.spent()
    }

    fn pattern(&mut self, p: &Pattern) -> bool {
        self.patterns = self.patterns.saturating_sub(1);
        let len = p.node.len() + p.leaf.as_ref().map_or(0, String::len);
        self.chars = self.chars.saturating_sub(len);
        !self.spent()
    }

    fn spent(&self) -> bool {
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
/// rules file. Expansion stops, with a warning, where the pass's budget is spent.
pub fn expand(set: &RuleSet, scope: Scope, env: &Environment) -> RuleSet {
    let mut out = RuleSet {
        components: Vec::new(),
        warnings: set.warnings.clone(),
    };
    // Unknown variable → (patterns dropped, first component): one line each.
    let mut unknown: BTreeMap<String, (usize, String)> = BTreeMap::new();
    // Other failures (self-reference, growth) → one line each.
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let mut budget = Budget::new();
    for comp in set.components.iter().filter(|c| c.scope == scope) {
        let owned;
        let vars = if comp.variables.is_empty() {
            env.vars
        } else {
            owned = component_vars(comp, env, &mut budget, &mut failed);
            &owned
        };
        if let Some(cond) = &comp.detect {
            if eval(cond, vars, env.facts) == Some(false) {
                continue;
            }
        }
        let mut c = Component::new(&comp.name, comp.scope, &comp.source);
        for rule in &comp.rules {
            match expand_pattern(&rule.pattern, vars, env.fixed_drives) {
                Ok(patterns) => {
                    for pattern in patterns {
                        if !budget.pattern(&pattern) {
                            break;
                        }
                        c.rules.push(Rule {
                            action: rule.action,
                            pattern,
                        });
                    }
                }
                Err(ExpandError::Unknown(name)) => {
                    let e = unknown.entry(name).or_insert((0, comp.name.clone()));
                    e.0 += 1;
                }
                Err(e) => {
                    let why = format!(
                        "{}: component \"{}\": pattern '{}' is left out: {e}",
                        comp.source, comp.name, rule.pattern
                    );
                    *failed.entry(why).or_default() += 1;
                }
            }
        }
        out.components.push(c);
        if budget.spent() {
            out.warnings.push(format!(
                "{}: the rules expand beyond {} MiB, {} variables or {} patterns for one pass; \
                 component \"{}\" is cut short there and those after it are left out",
                comp.source,
                limits::EXPAND_MAX_TOTAL_CHARS >> 20,
                limits::RULE_MAX_VARIABLES,
                limits::RULE_MAX_PATTERNS,
                comp.name
            ));
            break;
        }
    }
    for (name, (n, first)) in unknown {
        out.warnings.push(format!(
            "%{name}% is not known here: {n} pattern(s) using it match nothing (first in component \"{first}\")"
        ));
    }
    out.warnings.extend(failed.into_keys());
    out
}

fn expand_pattern(
    p: &Pattern,
    vars: &HashMap<String, String>,
    drives: &[String],
) -> Result<Vec<Pattern>, ExpandError> {
    let node = expand_text(&p.node, vars)?;
    let leaf = match &p.leaf {
        Some(l) if l.contains('%') => Some(expand_text(l, vars)?),
        other => other.clone(),
    };
    let nodes: Vec<String> = match node.strip_prefix(FIXED_DRIVES) {
        Some(rest) => drives
            .iter()
            .map(|d| format!("{}{rest}", d.trim_end_matches('\\')))
            .collect(),
        None => vec![node],
    };
    Ok(nodes
        .into_iter()
        .map(|n| {
            normalize(Pattern {
                kind: p.kind,
                node: collapse_backslashes(&n),
                recursive: p.recursive,
                leaf: leaf.clone(),
            })
        })
        .collect())
}

/// `%VAR%\x` where the value ends with `\` gives `\\`: one is meant.
fn collapse_backslashes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '\\' && out.ends_with('\\')) {
            out.push(c);
        }
    }
    out
}

/// The component's private variables on top of the caller's; the first definition whose
/// condition is not known to be false wins (MigApp defines each twice, for 32/64-bit).
/// Each defined value is taken from the pass's `budget`; none once it is spent. A value
/// that cannot be expanded (it refers to itself, or grows past the limits) leaves the
/// variable undefined, with a line in `failed`.
fn component_vars(
    comp: &Component,
    env: &Environment,
    budget: &mut Budget,
    failed: &mut BTreeMap<String, usize>,
) -> HashMap<String, String> {
    let mut vars = env.vars.clone();
    let mut defined: HashSet<String> = HashSet::new();
    for v in &comp.variables {
        let key = v.name.to_uppercase();
        if defined.contains(&key) {
            continue;
        }
        if let Some(cond) = &v.when {
            if eval(cond, &vars, env.facts) == Some(false) {
                continue;
            }
        }
        let value = match &v.value {
            VarValue::Text(t) => expand_text(t, &vars).map(Some),
            VarValue::Registry(loc) => expand_text(loc, &vars).map(|l| {
                env.facts
                    .registry_string(&l)
                    .map(|s| expand_text(&s, &vars).unwrap_or(s))
            }),
        };
        let value = match value {
            Ok(v) => v,
            // Unknown names are reported where a pattern uses the variable.
            Err(ExpandError::Unknown(_)) => None,
            Err(e) => {
                let why = format!(
                    "{}: component \"{}\": variable %{}% is left undefined: {e}",
                    comp.source, comp.name, v.name
                );
                *failed.entry(why).or_default() += 1;
                None
            }
        };
        if let Some(value) = value {
            if !budget.variable(&value) {
                break;
            }
            vars.insert(key.clone(), value);
            defined.insert(key);
        }
    }
    vars
}

/// `None` when it cannot be told; `Some` when the facts (or the logic) decide.
pub fn eval(c: &Condition, vars: &HashMap<String, String>, facts: &dyn Facts) -> Option<bool> {
    match c {
        Condition::Not(inner) => eval(inner, vars, facts).map(|b| !b),
        Condition::All(items) => {
            let mut result = Some(true);
            for i in items {
                match eval(i, vars, facts) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Condition::Any(items) => {
            let mut result = Some(false);
            for i in items {
                match eval(i, vars, facts) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Condition::Call { name, args } => {
            let mut expanded = Vec::with_capacity(args.len());
            for a in args {
                match expand_text(a, vars) {
                    Ok(s) => expanded.push(s),
                    // An object under an unknown folder does not exist here.
                    Err(_) if name.eq_ignore_ascii_case("DoesObjectExist") => return Some(false),
                    Err(_) => return None,
                }
            }
            facts.condition(name, &expanded)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Action, ObjectKind, Variable};
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
