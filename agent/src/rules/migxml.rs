//! USMT MigXML (`scanstate /i:FILE.xml`) → the rule model.
//!
//! Honoured: `<component context>` (nested, in roles), `<rules context>` (narrowing only),
//! `<include>`/`<exclude>`/`<unconditionalExclude>` with `<objectSet>` `<pattern
//! type="File|Registry">`, the generators GenerateDrivePatterns (fixed drives),
//! GenerateUserPatterns and GenerateDocPatterns, `<detects>`/`<detection>` and
//! `<environment>` (kept as data for the caller, see [`super::expand`]), `<namedElements>`
//! references, `<extensions>`. Ignored because ScanState ignores them too: `<merge>`,
//! `<locationModify>`, `<contentModify>`, `<destinationCleanup>`. Everything else that would
//! change what is captured becomes a warning.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::migxml_helpers::{doc_patterns, drive_pattern, parse_call, user_pattern};
use super::migxml_named::{key, own_sizes, NamedKey};
use super::model::*;
use super::{pattern, RulesError};
use crate::xml::{self as xmltree, Element};

/// Reads a MigXML file: a regular file of at most [`crate::limits::XML_MAX_BYTES`].
pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
    let bytes = crate::fsread::read_bounded(path, crate::limits::XML_MAX_BYTES).map_err(|e| {
        RulesError::Read {
            file: path.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    parse(&bytes, &path.display().to_string())
}

/// `source` names the file in errors, warnings and [`Component::source`].
pub fn parse(bytes: &[u8], source: &str) -> Result<RuleSet, RulesError> {
    let syntax = |(line, msg): (usize, String)| RulesError::Syntax {
        file: source.to_string(),
        line: (line > 0).then_some(line),
        msg,
    };
    let text = xmltree::decode(bytes).map_err(syntax)?;
    let root = xmltree::parse(&text).map_err(syntax)?;
    if !root.is("migration") {
        let what = if root.is("Configuration") {
            "this is a USMT Config.xml (it switches components on and off and has no rules); \
             give Lifeboat the MigXML files (<migration>) or a profile instead"
                .to_string()
        } else if root.is("offline") {
            "this is a USMT Offline.xml (where Windows is), not migration rules".to_string()
        } else {
            format!(
                "the root element is <{}>, a MigXML file starts with <migration>",
                root.name
            )
        };
        return Err(RulesError::NotRules {
            file: source.to_string(),
            msg: what,
        });
    }
    let mut w = Walker {
        source,
        urlid: root.attr("urlid").map(|u| u.trim().to_string()),
        named: HashMap::new(),
        named_sizes: HashMap::new(),
        expanded: 0,
        error: None,
        warnings: BTreeMap::new(),
        out: Vec::new(),
    };
    match root.attr("urlid") {
        None => w.warn(
            root.line,
            "<migration> has no urlid (USMT requires one)".into(),
        ),
        Some(u) if u.trim() != u => w.warn(
            root.line,
            "the urlid has spaces around it; read without them".into(),
        ),
        Some(_) => {}
    }
    for ne in root.children.iter().filter(|c| c.is("namedElements")) {
        for d in &ne.children {
            if let Some(name) = d.attr("name") {
                w.named.insert(key(&d.name, name), d);
            }
        }
    }
    w.named_sizes = own_sizes(&w.named).map_err(syntax)?;
    for child in &root.children {
        if child.is("component") {
            w.component(child, BOTH, None, 0, Vec::new());
        } else if !(child.is("namedElements") || child.is("library") || child.is("_locDefinition"))
        {
            w.warn(
                child.line,
                format!("<{}> under <migration> is not MigXML; ignored", child.name),
            );
        }
    }
    if let Some(e) = w.error {
        return Err(e);
    }
    let mut set = RuleSet {
        components: w.out,
        warnings: Vec::new(),
    };
    for (msg, (n, line)) in w.warnings {
        let more = if n > 1 {
            format!(", and {} more", n - 1)
        } else {
            String::new()
        };
        set.warnings
            .push(format!("{source}, line {line}{more}: {msg}"));
    }
    Ok(set)
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Scopes {
    user: bool,
    system: bool,
}
const BOTH: Scopes = Scopes {
    user: true,
    system: true,
};

impl Scopes {
    fn and(self, o: Scopes) -> Scopes {
        Scopes {
            user: self.user && o.user,
            system: self.system && o.system,
        }
    }
    fn list(self) -> impl Iterator<Item = Scope> {
        [(self.user, Scope::User), (self.system, Scope::System)]
            .into_iter()
            .filter_map(|(on, s)| on.then_some(s))
    }
}

/// One scope's share of a component.
#[derive(Default)]
struct Part {
    rules: Vec<Rule>,
    guarded: Vec<GuardedRules>,
    restore: Vec<RestoreRule>,
}

impl Part {
    fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.guarded.is_empty()
    }

    /// The group for `when`: the last one if it has the same condition, else a new one.
    fn group(&mut self, when: &Condition) -> &mut GuardedRules {
        let same = self
            .guarded
            .last()
            .is_some_and(|g| g.when.as_ref() == Some(when));
        if !same {
            self.guarded.push(GuardedRules {
                when: Some(when.clone()),
                rules: Vec::new(),
                content: Vec::new(),
            });
        }
        let last = self.guarded.len() - 1;
        &mut self.guarded[last]
    }
}

#[derive(Default)]
struct Draft {
    user: Part,
    system: Part,
    detect: Vec<Condition>,
    vars: Vec<Variable>,
}

impl Draft {
    fn parts(&mut self, scopes: Scopes) -> impl Iterator<Item = &mut Part> {
        [
            (scopes.user, &mut self.user),
            (scopes.system, &mut self.system),
        ]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
    }

    /// A rule of the scopes, held by `when` if given.
    fn push(&mut self, scopes: Scopes, rule: Rule, when: Option<&Condition>) {
        for part in self.parts(scopes) {
            match when {
                None => part.rules.push(rule.clone()),
                Some(c) => part.group(c).rules.push(rule.clone()),
            }
        }
    }

    fn push_content(&mut self, scopes: Scopes, rule: ContentRule, when: Option<&Condition>) {
        for part in self.parts(scopes) {
            match when {
                Some(c) => part.group(c).content.push(rule.clone()),
                None => part.guarded.push(GuardedRules {
                    when: None,
                    rules: Vec::new(),
                    content: vec![rule.clone()],
                }),
            }
        }
    }

    fn push_restore(&mut self, scopes: Scopes, rule: RestoreRule) {
        for part in self.parts(scopes) {
            part.restore.push(rule.clone());
        }
    }
}

/// Both conditions, when both are given.
fn and(a: Option<&Condition>, b: Option<Condition>) -> Option<Condition> {
    match (a, b) {
        (None, b) => b,
        (Some(a), None) => Some(a.clone()),
        (Some(a), Some(b)) => Some(Condition::All(vec![a.clone(), b])),
    }
}

struct Walker<'a> {
    source: &'a str,
    urlid: Option<String>,
    named: HashMap<NamedKey, &'a Element>,
    /// Each definition's own size ([`own_sizes`]).
    named_sizes: HashMap<NamedKey, usize>,
    /// Elements taken through references so far, against [`crate::limits::XML_MAX_ELEMENTS`].
    expanded: usize,
    /// Set once references expand beyond that: the file is refused.
    error: Option<RulesError>,
    /// message → (times, first line): real files repeat the same unsupported thing a lot.
    warnings: BTreeMap<String, (usize, usize)>,
    out: Vec<Component>,
}

/// Named references may point at each other; stop following long before the stack ends.
const MAX_NESTING: usize = 32;

impl<'a> Walker<'a> {
    fn warn(&mut self, line: usize, msg: String) {
        let e = self.warnings.entry(msg).or_insert((0, line));
        e.0 += 1;
    }

    fn context(&mut self, el: &Element) -> Option<Scopes> {
        let v = el.attr("context")?;
        match v.trim().to_ascii_lowercase().as_str() {
            "user" => Some(Scopes {
                user: true,
                system: false,
            }),
            "system" => Some(Scopes {
                user: false,
                system: true,
            }),
            "userandsystem" => Some(BOTH),
            _ => {
                self.warn(el.line, format!("context=\"{v}\" is not User, System or UserAndSystem; read as UserAndSystem"));
                Some(BOTH)
            }
        }
    }

    /// `<x name="N"/>` outside namedElements means "use the definition N". Each use is
    /// charged the definition's own size; past [`crate::limits::XML_MAX_ELEMENTS`] the file is
    /// refused and references give nothing more.
    fn resolve(&mut self, el: &'a Element, has_body: bool) -> &'a Element {
        match el.attr("name") {
            Some(n) if !has_body => match self.named.get(&key(&el.name, n)) {
                Some(d) => {
                    let size = self.named_sizes.get(&key(&el.name, n)).copied();
                    self.expanded = self.expanded.saturating_add(size.unwrap_or(usize::MAX));
                    if self.expanded <= crate::limits::XML_MAX_ELEMENTS {
                        return d;
                    }
                    self.error.get_or_insert_with(|| RulesError::Syntax {
                        file: self.source.to_string(),
                        line: Some(el.line),
                        msg: format!(
                            "<{} name=\"{n}\">: <namedElements> references expand to more than {} elements",
                            el.name,
                            crate::limits::XML_MAX_ELEMENTS
                        ),
                    });
                    el
                }
                None => {
                    self.warn(
                        el.line,
                        format!(
                            "<{} name=\"{n}\"> refers to nothing in <namedElements>",
                            el.name
                        ),
                    );
                    el
                }
            },
            _ => el,
        }
    }

    /// `inherited`: the parent's variables (MigXML variables reach child components).
    fn component(
        &mut self,
        el: &'a Element,
        parent: Scopes,
        parent_name: Option<&str>,
        depth: usize,
        inherited: Vec<Variable>,
    ) {
        let ctx = self.context(el).unwrap_or(parent);
        let own = el
            .child("displayName")
            .map(|d| d.text.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("component at line {}", el.line));
        let name = match parent_name {
            Some(p) => format!("{p} / {own}"),
            None => own,
        };
        let mut draft = Draft {
            vars: inherited,
            ..Draft::default()
        };
        // Components nested in this one are pushed before it; they only run where this
        // one is detected too.
        let first_child = self.out.len();
        for child in &el.children {
            let n = child.name.to_ascii_lowercase();
            match n.as_str() {
                "displayname" | "manufacturer" | "version" | "description" | "paths" | "icon"
                | "_locdefinition" => {}
                "environment" => self.environment(child, &mut draft.vars, depth),
                "role" => self.role(child, ctx, &name, &mut draft, depth),
                "component" if depth < MAX_NESTING => {
                    self.component(child, ctx, Some(&name), depth + 1, draft.vars.clone())
                }
                "extensions" => {
                    for ext in child.children.iter().filter(|e| e.is("extension")) {
                        let args = [format!("* [*.{}]", ext.text.trim()), "Fixed".to_string()];
                        match drive_pattern(&args) {
                            Ok(p) => draft.push(
                                ctx,
                                Rule {
                                    action: Action::Include,
                                    pattern: p,
                                },
                                None,
                            ),
                            Err(e) => self.warn(ext.line, e),
                        }
                    }
                }
                _ => self.warn(
                    child.line,
                    format!("<{}> in <component> is not supported; ignored", child.name),
                ),
            }
        }
        let detect = match draft.detect.len() {
            0 => None,
            1 => draft.detect.pop(),
            _ => Some(Condition::Any(std::mem::take(&mut draft.detect))),
        };
        if let Some(d) = &detect {
            for child in &mut self.out[first_child..] {
                child.detect = and(Some(d), child.detect.take());
            }
        }
        for (scope, part) in [(Scope::User, draft.user), (Scope::System, draft.system)] {
            if part.is_empty() {
                continue;
            }
            let mut c = Component::new(&name, scope, self.source);
            c.rules = part.rules;
            c.guarded = part.guarded;
            c.restore = part.restore;
            c.detect = detect.clone();
            c.variables = draft.vars.clone();
            c.category = Category::from_type(el.attr("type").unwrap_or(""));
            c.urlid = self.urlid.clone();
            self.out.push(c);
        }
    }

    fn role(&mut self, el: &'a Element, ctx: Scopes, name: &str, draft: &mut Draft, depth: usize) {
        if depth >= MAX_NESTING {
            return self.warn(
                el.line,
                "roles nested too deep; the inner ones are ignored".into(),
            );
        }
        for child in &el.children {
            match child.name.to_ascii_lowercase().as_str() {
                "rules" => self.rules(child, ctx, draft, depth + 1, None),
                "detection" => {
                    let c = self.detection(child, depth + 1);
                    draft.detect.push(c);
                }
                "detects" => {
                    let c = self.detects(child, depth + 1);
                    draft.detect.push(c);
                }
                "environment" => self.environment(child, &mut draft.vars, depth + 1),
                "component" => {
                    self.component(child, ctx, Some(name), depth + 1, draft.vars.clone())
                }
                "role" => self.role(child, ctx, name, draft, depth + 1),
                // LoadState-only (seen directly under <role> in MigApp.xml): kept as data.
                "destinationcleanup" | "merge" | "locationmodify" | "contentmodify" => {
                    self.restore(child, ctx, draft)
                }
                _ => self.warn(
                    child.line,
                    format!("<{}> in <role> is not supported; ignored", child.name),
                ),
            }
        }
    }

    /// `guard`: the conditions of the enclosing `<rules>` (nested rules inherit them).
    fn rules(
        &mut self,
        el: &'a Element,
        filter: Scopes,
        draft: &mut Draft,
        depth: usize,
        guard: Option<&Condition>,
    ) {
        if depth >= MAX_NESTING {
            return self.warn(
                el.line,
                "<rules> nested or referenced too deep; ignored".into(),
            );
        }
        let here = self.context(el);
        let def = self.resolve(el, !el.children.is_empty());
        let there = if std::ptr::eq(def, el) {
            None
        } else {
            self.context(def)
        };
        let mut scopes = filter;
        for c in [here, there].into_iter().flatten() {
            scopes = scopes.and(c);
        }
        if scopes.list().next().is_none() {
            return self.warn(
                el.line,
                "<rules> whose context lies outside its component's are ignored, as USMT does"
                    .into(),
            );
        }
        // <conditions>, <condition> and <detects> inside <rules> decide whether its
        // objects are taken; all of them must hold.
        let mut own = Vec::new();
        for child in &def.children {
            match child.name.to_ascii_lowercase().as_str() {
                "conditions" => own.push(self.conditions(child, depth + 1)),
                "condition" => own.push(self.condition(child)),
                "detects" => own.push(self.detects(child, depth + 1)),
                _ => {}
            }
        }
        let own = match own.len() {
            0 => None,
            1 => own.pop(),
            _ => Some(Condition::All(own)),
        };
        let guard = and(guard, own);
        let guard = guard.as_ref();
        for child in &def.children {
            let n = child.name.to_ascii_lowercase();
            let action = match n.as_str() {
                "include" => Action::Include,
                "exclude" => Action::Exclude,
                "unconditionalexclude" => Action::UnconditionalExclude,
                "rules" => {
                    self.rules(child, scopes, draft, depth + 1, guard);
                    continue;
                }
                "conditions" | "condition" | "detects" => continue,
                // LoadState-only, ScanState ignores them: kept as data for the restore side.
                "merge" | "locationmodify" | "contentmodify" | "destinationcleanup"
                | "addobjects" => {
                    self.restore(child, scopes, draft);
                    continue;
                }
                "includeattributes" | "excludeattributes" => {
                    self.warn(
                        child.line,
                        format!("<{}>: attributes are captured as found", child.name),
                    );
                    continue;
                }
                _ => {
                    self.warn(
                        child.line,
                        format!(
                            "<{}> in <rules> is not supported offline; ignored",
                            child.name
                        ),
                    );
                    continue;
                }
            };
            if let Some(f) = child.attr("filter") {
                self.filter(child, f, action, scopes, draft);
            }
            for os in &child.children {
                if os.is("objectSet") {
                    self.object_set(os, action, scopes, draft, guard);
                } else {
                    self.warn(
                        os.line,
                        format!("<{}> in <{}> is not MigXML; ignored", os.name, child.name),
                    );
                }
            }
        }
    }

    /// `<include filter="…">`: the capture takes the objects whole (USMT runs most filters
    /// when it applies the store); the filter is recorded for the restore side.
    fn filter(&mut self, el: &Element, f: &str, action: Action, scopes: Scopes, draft: &mut Draft) {
        let Some((name, args)) = parse_call(f) else {
            return self.warn(
                el.line,
                format!("filter '{}' is not a helper call; ignored", f.trim()),
            );
        };
        if !matches!(name.as_str(), "IgnoreIrrelevantLinks" | "NeverRestore") {
            self.warn(
                el.line,
                format!("<{} filter=\"{}\">: the objects are captured whole; the filter is recorded for the restore", el.name, f.trim()),
            );
        }
        let kind = if action == Action::Include {
            RestoreKind::IncludeFilter
        } else {
            RestoreKind::ExcludeFilter
        };
        let patterns = self.patterns_of(el);
        draft.push_restore(
            scopes,
            RestoreRule {
                kind,
                script: Some(Call { name, args }),
                patterns,
                source_args: Vec::new(),
            },
        );
    }

    /// Every `<pattern>` of the `<objectSet>`s directly below `el`.
    fn patterns_of(&mut self, el: &Element) -> Vec<Pattern> {
        let mut out = Vec::new();
        for os in el.children.iter().filter(|c| c.is("objectSet")) {
            for item in os.children.iter().filter(|c| c.is("pattern")) {
                if let Some(kind) = self.pattern_kind(item) {
                    match pattern::parse(kind, &item.text) {
                        Ok(p) => out.push(p),
                        Err(e) => self.warn(
                            item.line,
                            format!("pattern '{}' ignored: {e}", item.text.trim()),
                        ),
                    }
                }
            }
        }
        out
    }

    /// `<merge>`, `<locationModify>`, `<contentModify>`, `<destinationCleanup>`,
    /// `<addObjects>`: recorded with their helper and objects.
    fn restore(&mut self, el: &Element, scopes: Scopes, draft: &mut Draft) {
        let kind = match el.name.to_ascii_lowercase().as_str() {
            "merge" => RestoreKind::Merge,
            "locationmodify" => RestoreKind::LocationModify,
            "contentmodify" => RestoreKind::ContentModify,
            "destinationcleanup" => RestoreKind::DestinationCleanup,
            _ => RestoreKind::AddObjects,
        };
        let script = el
            .attr("script")
            .or_else(|| el.attr("filter"))
            .and_then(parse_call)
            .map(|(name, args)| Call { name, args });
        let mut patterns = self.patterns_of(el);
        if kind == RestoreKind::AddObjects {
            for loc in el
                .children
                .iter()
                .filter(|o| o.is("object"))
                .filter_map(|o| o.child("location"))
            {
                let k = if loc
                    .attr("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("file"))
                {
                    ObjectKind::File
                } else {
                    ObjectKind::Registry
                };
                if let Ok(p) = pattern::parse(k, &loc.text) {
                    patterns.push(p);
                }
            }
        }
        draft.push_restore(
            scopes,
            RestoreRule {
                kind,
                script,
                patterns,
                source_args: Vec::new(),
            },
        );
    }

    fn pattern_kind(&mut self, item: &Element) -> Option<ObjectKind> {
        let ty = item.attr("type").map(str::trim);
        match ty.map(str::to_ascii_lowercase).as_deref() {
            Some("file") => Some(ObjectKind::File),
            Some("registry") => Some(ObjectKind::Registry),
            _ => {
                let t = ty.unwrap_or("(none)");
                self.warn(
                    item.line,
                    format!(
                        "<pattern type=\"{t}\"> is not supported (only File and Registry); ignored"
                    ),
                );
                None
            }
        }
    }

    fn object_set(
        &mut self,
        os: &'a Element,
        action: Action,
        scopes: Scopes,
        draft: &mut Draft,
        guard: Option<&Condition>,
    ) {
        // Conditions on the objectSet: its patterns are taken only where they hold.
        let mut own = Vec::new();
        for item in &os.children {
            if item.is("conditions") {
                own.push(self.conditions(item, 1));
            } else if item.is("condition") {
                own.push(self.condition(item));
            }
        }
        let own = match own.len() {
            0 => None,
            1 => own.pop(),
            _ => Some(Condition::All(own)),
        };
        let guard = and(guard, own);
        let guard = guard.as_ref();
        for item in &os.children {
            match item.name.to_ascii_lowercase().as_str() {
                "pattern" => {
                    let Some(kind) = self.pattern_kind(item) else {
                        continue;
                    };
                    match pattern::parse(kind, &item.text) {
                        Ok(p) => draft.push(scopes, Rule { action, pattern: p }, guard),
                        Err(e) => self.warn(
                            item.line,
                            format!("pattern '{}' ignored: {e}", item.text.trim()),
                        ),
                    }
                }
                "script" => self.script(item, action, scopes, draft, guard),
                "content" => {
                    if let Some(rule) = self.content(item, action) {
                        draft.push_content(scopes, rule, guard);
                    }
                }
                "conditions" | "condition" => {}
                _ => self.warn(
                    item.line,
                    format!("<{}> in <objectSet> is not supported; ignored", item.name),
                ),
            }
        }
    }

    /// `<content filter="ExtractSingleFile(…)"><objectSet>…</objectSet></content>`.
    fn content(&mut self, item: &Element, action: Action) -> Option<ContentRule> {
        let filter = item.attr("filter").and_then(parse_call);
        let Some((name, args)) = filter else {
            self.warn(
                item.line,
                "<content> without a helper call in filter=; ignored".into(),
            );
            return None;
        };
        if !super::content::is_known(&name) {
            self.warn(
                item.line,
                format!("<content filter=\"{name}\"> is not known; its files are not followed"),
            );
            return None;
        }
        let from = self.patterns_of(item);
        Some(ContentRule {
            action,
            filter: Call { name, args },
            from,
        })
    }

    fn script(
        &mut self,
        item: &Element,
        action: Action,
        scopes: Scopes,
        draft: &mut Draft,
        guard: Option<&Condition>,
    ) {
        let Some((name, args)) = parse_call(&item.text) else {
            return self.warn(
                item.line,
                format!(
                    "script '{}' is not a helper call; ignored",
                    item.text.trim()
                ),
            );
        };
        let rule = |pattern| Rule { action, pattern };
        match name.as_str() {
            "GenerateDrivePatterns" => match drive_pattern(&args) {
                Ok(p) => draft.push(scopes, rule(p), guard),
                Err(e) => self.warn(item.line, e),
            },
            "GenerateUserPatterns" => match user_pattern(&args) {
                Ok(p) => draft.push(
                    Scopes {
                        user: true,
                        system: false,
                    },
                    rule(p),
                    guard,
                ),
                Err(e) => self.warn(item.line, e),
            },
            "GenerateDocPatterns" => {
                for scope in scopes.list() {
                    let (generated, warning) = doc_patterns(scope, &args);
                    if let Some(w) = warning {
                        self.warn(item.line, w);
                    }
                    for (a, p) in generated {
                        // Generated includes take the enclosing element's action; its
                        // excludes stay excludes unless the element is unconditional.
                        let a = if a == Action::Include || action == Action::UnconditionalExclude {
                            action
                        } else {
                            a
                        };
                        let only = Scopes {
                            user: scope == Scope::User,
                            system: scope == Scope::System,
                        };
                        draft.push(
                            only,
                            Rule {
                                action: a,
                                pattern: p,
                            },
                            guard,
                        );
                    }
                }
            }
            _ => self.warn(
                item.line,
                format!("script {name}() in an <objectSet> is not supported offline; ignored"),
            ),
        }
    }

    fn environment(&mut self, el: &'a Element, vars: &mut Vec<Variable>, depth: usize) {
        if depth >= MAX_NESTING {
            return;
        }
        let has_vars = el.children.iter().any(|c| c.is("variable"));
        let def = self.resolve(el, has_vars);
        let conds: Vec<Condition> = def
            .children
            .iter()
            .filter(|c| c.is("conditions"))
            .map(|c| self.conditions(c, depth + 1))
            .collect();
        let when = match conds.len() {
            0 => None,
            1 => conds.into_iter().next(),
            _ => Some(Condition::All(conds)),
        };
        for v in def.children.iter().filter(|c| c.is("variable")) {
            let Some(name) = v.attr("name") else {
                self.warn(v.line, "<variable> without a name; ignored".into());
                continue;
            };
            let value = if let Some(t) = v.child("text") {
                VarValue::Text(t.text.trim().to_string())
            } else if let Some(sc) = v.child("script") {
                match variable_script(&sc.text) {
                    Some(value) => value,
                    None => {
                        self.warn(sc.line, format!("variable from script '{}' is not supported; the variable stays unknown", sc.text.trim()));
                        continue;
                    }
                }
            } else if let Some(os) = v.child("objectSet") {
                let mut patterns = Vec::new();
                let mut filter = None;
                for item in &os.children {
                    if item.is("pattern") {
                        if let Some(kind) = self.pattern_kind(item) {
                            if let Ok(p) = pattern::parse(kind, &item.text) {
                                patterns.push(p);
                            }
                        }
                    } else if item.is("content") {
                        if let Some(rule) = self.content(item, Action::Include) {
                            filter = Some(rule.filter);
                            patterns.extend(rule.from);
                        }
                    }
                }
                VarValue::Objects { patterns, filter }
            } else {
                self.warn(
                    v.line,
                    format!(
                        "variable {name} has no <text>, <script> or <objectSet>; it stays unknown"
                    ),
                );
                continue;
            };
            vars.push(Variable {
                name: name.trim().to_string(),
                value,
                when: when.clone(),
            });
        }
    }

    fn detection(&mut self, el: &'a Element, depth: usize) -> Condition {
        let def = self.resolve(el, !el.children.is_empty());
        let mut all = Vec::new();
        for c in &def.children {
            if depth >= MAX_NESTING {
                break;
            }
            if c.is("conditions") {
                all.push(self.conditions(c, depth + 1));
            } else if c.is("condition") {
                all.push(self.condition(c));
            }
        }
        Condition::All(all)
    }

    /// Legacy `<detects>`: its `<detect>`s ANDed, the conditions inside one `<detect>` ORed.
    fn detects(&mut self, el: &'a Element, depth: usize) -> Condition {
        let def = self.resolve(el, !el.children.is_empty());
        let mut all = Vec::new();
        for d in def.children.iter().filter(|c| c.is("detect")) {
            let d = self.resolve(d, !d.children.is_empty());
            let mut any = Vec::new();
            for c in &d.children {
                if c.is("condition") {
                    any.push(self.condition(c));
                } else if c.is("conditions") && depth < MAX_NESTING {
                    any.push(self.conditions(c, depth + 1));
                } else if c.is("objectSet") {
                    // An objectSet in a <detect> holds when any of its objects exists.
                    for item in c.children.iter().filter(|i| i.is("pattern")) {
                        let ty = item.attr("type").unwrap_or("File").trim().to_string();
                        any.push(Condition::Call {
                            name: "DoesObjectExist".into(),
                            args: vec![ty, item.text.trim().to_string()],
                        });
                    }
                } else {
                    self.warn(c.line, format!("<{}> in <detect> is not evaluated", c.name));
                }
            }
            if !any.is_empty() {
                all.push(Condition::Any(any));
            }
        }
        Condition::All(all)
    }

    fn conditions(&mut self, el: &'a Element, depth: usize) -> Condition {
        let def = self.resolve(el, !el.children.is_empty());
        let mut items = Vec::new();
        for c in &def.children {
            if c.is("condition") {
                items.push(self.condition(c));
            } else if c.is("conditions") && depth < MAX_NESTING {
                items.push(self.conditions(c, depth + 1));
            }
        }
        let or = def
            .attr("operation")
            .is_some_and(|o| o.trim().eq_ignore_ascii_case("or"));
        if or {
            Condition::Any(items)
        } else {
            Condition::All(items)
        }
    }

    fn condition(&mut self, el: &Element) -> Condition {
        let call = match parse_call(&el.text) {
            Some((name, args)) => Condition::Call { name, args },
            None => {
                self.warn(
                    el.line,
                    format!(
                        "condition '{}' is not a helper call; taken as unknown",
                        el.text.trim()
                    ),
                );
                Condition::Call {
                    name: "Unparsed".into(),
                    args: vec![el.text.trim().to_string()],
                }
            }
        };
        let negate = el
            .attr("negation")
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("yes"));
        if negate {
            Condition::Not(Box::new(call))
        } else {
            call
        }
    }
}

/// `GetStringContent("Registry", loc)`, `GetStringContent("File", loc, "ExpandContent")`,
/// `GetExpandedStringContent(…)` as a variable's value.
fn variable_script(text: &str) -> Option<VarValue> {
    let (f, a) = parse_call(text)?;
    let expand = match f.as_str() {
        "GetStringContent" => a
            .get(2)
            .is_some_and(|x| x.trim().eq_ignore_ascii_case("ExpandContent")),
        "GetExpandedStringContent" => true,
        _ => return None,
    };
    let kind = match a.first()?.trim().to_ascii_lowercase().as_str() {
        "registry" => ObjectKind::Registry,
        "file" => ObjectKind::File,
        _ => return None,
    };
    Some(VarValue::Content {
        kind,
        location: a.get(1).cloned().unwrap_or_default(),
        expand,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<migration urlid="http://x/t">
  <namedElements>
    <rules name="Shared" context="User">
      <include><objectSet><pattern type="File">%APPDATA%\Shared\* [*]</pattern></objectSet></include>
    </rules>
    <environment name="Env">
      <conditions><condition>MigXmlHelper.IsNative64Bit()</condition></conditions>
      <variable name="Wow"><text>HKLM\SOFTWARE\Wow6432Node</text></variable>
      <variable name="Path"><script>MigXmlHelper.GetStringContent("Registry","%Wow%\App [Dir]")</script></variable>
    </environment>
  </namedElements>
  <component type="Application" context="UserAndSystem">
    <displayName>App</displayName>
    <environment name="Env"/>
    <role role="Container">
      <component type="Application"><displayName>Child</displayName>
        <role role="Settings"><rules><include><objectSet>
          <pattern type="Registry">%Wow%\App\* [*]</pattern></objectSet></include></rules></role>
      </component>
      <detection><conditions operation="OR">
        <condition>MigXmlHelper.DoesObjectExist("Registry","%Wow%\App")</condition>
        <condition negation="Yes">MigXmlHelper.IsSystemContext()</condition>
      </conditions></detection>
      <rules context="System">
        <exclude><objectSet><pattern type="File">%Path%\* [*.log]</pattern></objectSet></exclude>
        <include><objectSet><pattern type="File">%Path%\* [*]</pattern>
          <script>MigXmlHelper.GenerateUserPatterns("File","%USERPROFILE%\x\* [*]","FALSE")</script>
        </objectSet></include>
        <locationModify script="MigXmlHelper.Move('C:\x')"><objectSet><pattern type="File">C:\a [b]</pattern></objectSet></locationModify>
        <externalProcess when="pre-scan"><commandLine>x.exe</commandLine></externalProcess>
      </rules>
      <rules name="Shared"/>
    </role>
    <extensions><extension>abc</extension></extensions>
  </component>
  <component type="Documents" context="User"><displayName>Odd</displayName>
    <role role="Data"><rules context="System"><include><objectSet>
      <pattern type="File">C:\never\* [*]</pattern></objectSet></include></rules></role>
  </component>
</migration>"#;

    #[test]
    fn maps_components_scopes_references_and_warns() {
        let set = parse(XML.as_bytes(), "t.xml").unwrap();
        let names: Vec<(String, Scope, usize)> = set
            .components
            .iter()
            .map(|c| (c.name.clone(), c.scope, c.rules.len()))
            .collect();
        assert_eq!(
            names,
            [
                ("App / Child".to_string(), Scope::User, 1),
                ("App / Child".to_string(), Scope::System, 1),
                // User: GenerateUserPatterns, the named Shared rules, the extension.
                ("App".to_string(), Scope::User, 3),
                // System: exclude, include, extension.
                ("App".to_string(), Scope::System, 3),
            ]
        );
        assert_eq!(set.components[0].variables.len(), 2, "inherited from App");
        let app = &set.components[3];
        assert_eq!(app.variables.len(), 2);
        assert_eq!(
            app.variables[1].value,
            VarValue::Content {
                kind: ObjectKind::Registry,
                location: r"%Wow%\App [Dir]".into(),
                expand: false
            }
        );
        assert!(
            matches!(&app.detect, Some(Condition::All(v)) if matches!(&v[0], Condition::Any(_)))
        );
        let ws = set.warnings.join("\n");
        assert!(ws.contains("<externalProcess>"), "{ws}");
        assert!(ws.contains("context lies outside"), "{ws}");
        assert!(
            !ws.contains("locationModify"),
            "ScanState ignores it: no warning\n{ws}"
        );
    }
}
