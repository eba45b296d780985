//! One pass (a user, or the machine) of a parsed [`RuleSet`] against what the offline
//! system says ([`Facts`]): each component's private variables, its detection, its
//! conditional and content-derived rules, every `%VARIABLE%` replaced — and, for each
//! component, the reasons (`lifeboat rules explain` prints them).
//!
//! A variable is *defined* (a value), *absent* (the offline system was asked and has no
//! such value: patterns and object conditions using it match nothing, as in USMT) or
//! *unknown* (nobody could tell: patterns using it are dropped with a warning, conditions
//! using it cannot be told).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::content::{self, Extracted};
use super::expand::{expand_text, Budget, Environment, Lookup, FIXED_DRIVES};
use super::model::*;
use super::pattern::{self, normalize};
use crate::limits::{self, FACTS_MAX_OBJECTS};
use crate::winpath::ExpandError;

/// A condition's value and the reason, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `None`: cannot be told here.
    pub value: Option<bool>,
    pub why: String,
}

/// A component variable as this pass saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarReport {
    pub name: String,
    /// The value, when defined.
    pub value: Option<String>,
    /// Where it came from, or why it is not defined.
    pub note: String,
}

/// One component in one pass: whether it is there, why, and what it takes.
#[derive(Debug, Clone)]
pub struct ComponentReport {
    pub name: String,
    pub source: String,
    pub scope: Scope,
    pub category: Category,
    pub urlid: Option<String>,
    /// `None`: cannot tell (it is then taken, as USMT takes a component without detection).
    pub detected: Option<bool>,
    pub why: String,
    pub variables: Vec<VarReport>,
    /// The final patterns, variables replaced (empty when not detected).
    pub rules: Vec<Rule>,
    /// LoadState-side instructions with their patterns expanded for this pass.
    pub restore: Vec<RestoreRule>,
    /// Rules skipped by their conditions, content that named no file, variables undefined.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub reports: Vec<ComponentReport>,
    pub warnings: Vec<String>,
}

impl Evaluation {
    /// The components that take part (detected, or cannot tell), for the matcher.
    pub fn rule_set(&self) -> RuleSet {
        RuleSet {
            components: self
                .reports
                .iter()
                .filter(|r| r.detected != Some(false))
                .map(|r| {
                    let mut c = Component::new(&r.name, r.scope, &r.source);
                    c.rules = r.rules.clone();
                    c.restore = r.restore.clone();
                    c.category = r.category;
                    c.urlid = r.urlid.clone();
                    c
                })
                .collect(),
            warnings: self.warnings.clone(),
        }
    }
}

/// The variables of one component in this pass.
struct Vars {
    known: HashMap<String, String>,
    /// Upper-case name → why the offline system has no value for it.
    absent: HashMap<String, String>,
}

enum Text {
    Done(String),
    Absent {
        name: String,
        why: String,
    },
    Unknown(String),
    /// It refers to itself or grows past the limits ([`crate::winpath::expand`]).
    Failed(ExpandError),
}

impl Vars {
    fn expand(&self, text: &str) -> Text {
        match expand_text(text, &self.known) {
            Ok(s) => Text::Done(s),
            Err(ExpandError::Unknown(name)) => match self.absent.get(&name.to_uppercase()) {
                Some(why) => Text::Absent {
                    name,
                    why: why.clone(),
                },
                None => Text::Unknown(name),
            },
            Err(e) => Text::Failed(e),
        }
    }
}

/// Helpers that look at an object: an undefined variable in their location means the
/// object is not there.
fn about_an_object(name: &str) -> bool {
    matches!(
        name,
        "DoesObjectExist"
            | "DoesFileVersionMatch"
            | "IsFileVersionAbove"
            | "IsFileVersionBelow"
            | "DoesStringContentEqual"
            | "DoesStringContentContain"
            | "IsSameObject"
            | "IsSameContent"
            | "IsSameStringContent"
            | "DoesShortcutRefer"
    )
}

struct Pass<'e, 'a> {
    scope: Scope,
    env: &'e Environment<'a>,
    /// Unknown variable → (patterns dropped, first component).
    unknown: RefCell<BTreeMap<String, (usize, String)>>,
    /// Other failures (self-reference, growth) → times, one line each.
    failed: RefCell<BTreeMap<String, usize>>,
    /// What the pass may still expand to.
    budget: RefCell<Budget>,
}

/// Evaluates `set`'s components of `scope` against `env`.
pub fn evaluate(set: &RuleSet, scope: Scope, env: &Environment) -> Evaluation {
    let pass = Pass {
        scope,
        env,
        unknown: Default::default(),
        failed: Default::default(),
        budget: RefCell::new(Budget::new()),
    };
    let mut out = Evaluation {
        reports: Vec::new(),
        warnings: set.warnings.clone(),
    };
    for comp in set.components.iter().filter(|c| c.scope == scope) {
        out.reports.push(pass.component(comp));
        if pass.budget.borrow().spent() {
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
    for (name, (n, first)) in pass.unknown.into_inner() {
        out.warnings.push(format!(
            "%{name}% is not known here: {n} pattern(s) using it match nothing (first in component \"{first}\")"
        ));
    }
    out.warnings.extend(pass.failed.into_inner().into_keys());
    out
}

impl Pass<'_, '_> {
    fn component(&self, comp: &Component) -> ComponentReport {
        let mut report = ComponentReport {
            name: comp.name.clone(),
            source: comp.source.clone(),
            scope: comp.scope,
            category: comp.category,
            urlid: comp.urlid.clone(),
            detected: Some(true),
            why: "no detection rules: always present".into(),
            variables: Vec::new(),
            rules: Vec::new(),
            restore: Vec::new(),
            notes: Vec::new(),
        };
        let vars = self.variables(comp, &mut report.variables);
        if let Some(cond) = &comp.detect {
            let v = self.eval(cond, &vars);
            report.detected = v.value;
            report.why = v.why;
        }
        if report.detected == Some(false) {
            return report;
        }
        self.rules(comp, &comp.rules, &vars, &mut report);
        for g in &comp.guarded {
            if let Some(when) = &g.when {
                let v = self.eval(when, &vars);
                if v.value == Some(false) {
                    report.notes.push(format!(
                        "{} rule(s) not taken: {}",
                        g.rules.len() + g.content.len(),
                        v.why
                    ));
                    continue;
                }
            }
            self.rules(comp, &g.rules, &vars, &mut report);
            for c in &g.content {
                self.content(c, &vars, &mut report);
            }
        }
        for r in &comp.restore {
            let patterns = r
                .patterns
                .iter()
                .filter_map(|p| self.pattern(p, &vars, None).ok())
                .flatten()
                .collect();
            let source_args = r
                .script
                .iter()
                .flat_map(|c| &c.args)
                .map(|a| match vars.expand(a) {
                    Text::Done(s) => s,
                    _ => a.clone(),
                })
                .collect();
            report.restore.push(RestoreRule {
                kind: r.kind,
                script: r.script.clone(),
                patterns,
                source_args,
            });
        }
        report
    }

    /// The component's variables on top of the pass's; the first definition whose
    /// condition is not known to be false wins (MigApp defines each twice, for 32/64-bit).
    fn variables(&self, comp: &Component, reports: &mut Vec<VarReport>) -> Vars {
        let mut vars = Vars {
            known: self.env.vars.clone(),
            absent: HashMap::new(),
        };
        for v in &comp.variables {
            let key = v.name.to_uppercase();
            if reports
                .iter()
                .any(|r| r.value.is_some() && r.name.eq_ignore_ascii_case(&v.name))
            {
                continue;
            }
            if let Some(cond) = &v.when {
                if self.eval(cond, &vars).value == Some(false) {
                    continue;
                }
            }
            let (value, note) = match self.value(comp, &v.name, &v.value, &vars) {
                Lookup::Found(s) => {
                    if !self.budget.borrow_mut().variable(&s) {
                        break;
                    }
                    vars.absent.remove(&key);
                    vars.known.insert(key, s.clone());
                    (Some(s), source_of(&v.value))
                }
                Lookup::Absent(why) => {
                    vars.absent.insert(key, why.clone());
                    (None, why)
                }
                Lookup::Unknown => (None, format!("cannot tell ({})", source_of(&v.value))),
            };
            reports.retain(|r| !r.name.eq_ignore_ascii_case(&v.name));
            reports.push(VarReport {
                name: v.name.clone(),
                value,
                note,
            });
        }
        vars
    }

    fn value(&self, comp: &Component, var: &str, value: &VarValue, vars: &Vars) -> Lookup {
        let facts = self.env.facts;
        let text = |t: &str| match vars.expand(t) {
            Text::Done(s) => Ok(s),
            Text::Absent { name, why } => Err(Lookup::Absent(format!("%{name}%: {why}"))),
            Text::Unknown(_) => Err(Lookup::Unknown),
            Text::Failed(e) => {
                let why = format!(
                    "{}: component \"{}\": variable %{var}% is left undefined: {e}",
                    comp.source, comp.name
                );
                *self.failed.borrow_mut().entry(why).or_default() += 1;
                Err(Lookup::Unknown)
            }
        };
        match value {
            VarValue::Text(t) => match text(t) {
                Ok(s) => Lookup::Found(s),
                Err(l) => l,
            },
            VarValue::Content { kind, location, .. } => match text(location) {
                Ok(loc) => match facts.string_content(*kind, &loc) {
                    // Registry strings hold %ProgramFiles% and the like: expand what is known.
                    Lookup::Found(s) => Lookup::Found(expand_text(&s, &vars.known).unwrap_or(s)),
                    other => other,
                },
                Err(l) => l,
            },
            VarValue::Objects { patterns, filter } => {
                for p in patterns {
                    let Ok(expanded) = self.pattern(p, vars, None) else {
                        continue;
                    };
                    for p in expanded {
                        let Some(contents) = facts.object_contents(&p) else {
                            return Lookup::Unknown;
                        };
                        for c in contents.iter().take(FACTS_MAX_OBJECTS) {
                            let found = match filter {
                                Some(f) => {
                                    content::extract(f, c, &vars.known, &|x| facts.file_exists(x))
                                        .into_iter()
                                        .next()
                                        .map(|e| e.path())
                                }
                                None => Some(c.clone()),
                            };
                            if let Some(found) = found {
                                return Lookup::Found(found);
                            }
                        }
                    }
                }
                Lookup::Absent("no object of its <objectSet> exists here".into())
            }
        }
    }

    /// Expands one pattern: `Ok` with its copies (one per fixed drive for drive
    /// patterns), `Err` when a variable in it is not defined.
    fn pattern(
        &self,
        p: &Pattern,
        vars: &Vars,
        component: Option<&Component>,
    ) -> Result<Vec<Pattern>, Miss> {
        let full = |t: &str| match vars.expand(t) {
            Text::Done(s) => Ok(s),
            Text::Absent { name, why } => Err(Miss::Undefined(format!(
                "%{name}% is not defined here ({why})"
            ))),
            Text::Unknown(name) => {
                if let Some(c) = component {
                    let mut unknown = self.unknown.borrow_mut();
                    let e = unknown.entry(name.clone()).or_insert((0, c.name.clone()));
                    e.0 += 1;
                }
                Err(Miss::Counted)
            }
            Text::Failed(e) => {
                if let Some(c) = component {
                    let why = format!(
                        "{}: component \"{}\": pattern '{p}' is left out: {e}",
                        c.source, c.name
                    );
                    *self.failed.borrow_mut().entry(why).or_default() += 1;
                }
                Err(Miss::Counted)
            }
        };
        let node = full(&p.node)?;
        let leaf = match &p.leaf {
            Some(l) if l.contains('%') => Some(full(l)?),
            other => other.clone(),
        };
        let nodes: Vec<String> = match node.strip_prefix(FIXED_DRIVES) {
            Some(rest) => self
                .env
                .fixed_drives
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

    fn rules(&self, comp: &Component, rules: &[Rule], vars: &Vars, report: &mut ComponentReport) {
        let mut undefined: BTreeMap<String, usize> = BTreeMap::new();
        for rule in rules {
            match self.pattern(&rule.pattern, vars, Some(comp)) {
                Ok(ps) => {
                    for pattern in ps {
                        if !self.budget.borrow_mut().pattern(&pattern) {
                            return;
                        }
                        report.rules.push(Rule {
                            action: rule.action,
                            pattern,
                        });
                    }
                }
                Err(Miss::Undefined(why)) => {
                    *undefined.entry(why).or_default() += 1;
                }
                Err(Miss::Counted) => {}
            }
        }
        for (why, n) in undefined {
            report
                .notes
                .push(format!("{n} pattern(s) match nothing: {why}"));
        }
    }

    /// `<content>`: the objects' contents read from the offline system, the files they
    /// name become objects of the rule.
    fn content(&self, c: &ContentRule, vars: &Vars, report: &mut ComponentReport) {
        let facts = self.env.facts;
        let mut found = 0usize;
        for p in &c.from {
            let Ok(expanded) = self.pattern(p, vars, None) else {
                continue;
            };
            for p in expanded {
                let Some(contents) = facts.object_contents(&p) else {
                    report
                        .notes
                        .push(format!("{}: {p} cannot be read here", c.filter.name));
                    continue;
                };
                for text in contents.iter().take(FACTS_MAX_OBJECTS) {
                    for e in
                        content::extract(&c.filter, text, &vars.known, &|x| facts.file_exists(x))
                    {
                        let kind = match e {
                            Extracted::File { .. } | Extracted::Dir { .. } => ObjectKind::File,
                        };
                        if let Ok(pattern) = pattern::parse(kind, &e.pattern_text()) {
                            found += 1;
                            report.rules.push(Rule {
                                action: c.action,
                                pattern,
                            });
                        }
                    }
                }
            }
        }
        if found == 0 {
            report.notes.push(format!(
                "{}: no file named in {} exists here",
                c.filter.name,
                c.from
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    /// `None` when it cannot be told; `Some` when the facts (or the logic) decide.
    fn eval(&self, c: &Condition, vars: &Vars) -> Verdict {
        match c {
            Condition::Not(inner) => {
                let v = self.eval(inner, vars);
                Verdict {
                    value: v.value.map(|b| !b),
                    why: format!("not [{}]", v.why),
                }
            }
            Condition::All(items) => combine(items.iter().map(|i| self.eval(i, vars)), true),
            Condition::Any(items) => combine(items.iter().map(|i| self.eval(i, vars)), false),
            Condition::Call { name, args } => self.call(name, args, vars),
        }
    }

    fn call(&self, name: &str, args: &[String], vars: &Vars) -> Verdict {
        let shown = |a: &[String]| {
            format!(
                "{name}({})",
                a.iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if name == "IsSystemContext" {
            let v = self.scope == Scope::System;
            return Verdict {
                value: Some(v),
                why: format!(
                    "{name}() is {v}: the {} pass",
                    if v { "machine" } else { "user" }
                ),
            };
        }
        let mut expanded = Vec::with_capacity(args.len());
        for a in args {
            match vars.expand(a) {
                Text::Done(s) => expanded.push(s),
                Text::Absent { name: var, why } if about_an_object(name) => {
                    return Verdict {
                        value: Some(false),
                        why: format!(
                            "{} is false: %{var}% is not defined here ({why})",
                            shown(args)
                        ),
                    }
                }
                // An object under an unknown folder does not exist here.
                Text::Unknown(var) if name == "DoesObjectExist" => {
                    return Verdict {
                        value: Some(false),
                        why: format!("{} is false: %{var}% is not known", shown(args)),
                    }
                }
                Text::Absent { name: var, .. } | Text::Unknown(var) => {
                    return Verdict {
                        value: None,
                        why: format!("{} cannot be told: %{var}% is not known", shown(args)),
                    }
                }
                Text::Failed(e) => {
                    return Verdict {
                        value: None,
                        why: format!("{} cannot be told: {e}", shown(args)),
                    }
                }
            }
        }
        let answer = self.env.facts.check(name, &expanded);
        let what = match answer.value {
            Some(true) => "is true",
            Some(false) => "is false",
            None => "cannot be told",
        };
        let detail = if answer.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", answer.detail)
        };
        Verdict {
            value: answer.value,
            why: format!("{} {what}{detail}", shown(&expanded)),
        }
    }
}

/// AND (`all`) or OR of verdicts, with the reasons that decide.
fn combine(items: impl Iterator<Item = Verdict>, all: bool) -> Verdict {
    let decisive = !all; // OR: a true decides; AND: a false decides.
    let mut unknown = Vec::new();
    let mut rest = Vec::new();
    for v in items {
        match v.value {
            Some(b) if b == decisive => return v,
            None => unknown.push(v.why),
            Some(_) => rest.push(v.why),
        }
    }
    let join = |w: Vec<String>, sep: &str| {
        let n = w.len();
        let mut s = w.into_iter().take(8).collect::<Vec<_>>().join(sep);
        if n > 8 {
            s.push_str(&format!("{sep}… ({} more)", n - 8));
        }
        s
    };
    if !unknown.is_empty() {
        return Verdict {
            value: None,
            why: join(unknown, "; "),
        };
    }
    Verdict {
        value: Some(all),
        why: if rest.is_empty() {
            "nothing to check".into()
        } else {
            join(rest, if all { "; and " } else { "; nor " })
        },
    }
}

fn source_of(v: &VarValue) -> String {
    match v {
        VarValue::Text(t) => format!("text {t}"),
        VarValue::Content { kind, location, .. } => {
            format!("GetStringContent(\"{kind:?}\", \"{location}\")")
        }
        VarValue::Objects { filter, .. } => match filter {
            Some(f) => format!("objectSet through {}", f.name),
            None => "objectSet".into(),
        },
    }
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

/// Why a pattern was not expanded.
enum Miss {
    /// A variable this system does not define (`why`): the pattern matches nothing here,
    /// which the component's notes say.
    Undefined(String),
    /// A variable nobody knows, or one whose value could not be read: counted for the
    /// evaluation's report where it happened.
    Counted,
}
