//! USMT's Config.xml (`scanstate /config:FILE`, written by `/genconfig:FILE`) as a type:
//! the components switched on and off (`migrate="yes|no"`, nested, in `<Applications>`,
//! `<Documents>` and `<WindowsComponents>`), `<Policies><ErrorControl>` as a policy the
//! capture consults per file or registry error, and `<ProfileControl>` (local group
//! mappings, domain and user mappings) recorded for the restore side. And the generator
//! that writes one for the offline system in USMT's shape. (CFG article; usmt-offline.md
//! §3.8 and §1.3.)

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::evaluate::ComponentReport;
use super::model::{Category, ObjectKind, Pattern, RuleSet};
use super::pattern::{self, fold, Compiled};
use super::RulesError;
use crate::xml::{self as xmltree, Element};

/// One `<component displayname=… migrate=… ID=…>` with the ones nested in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigComponent {
    pub display_name: String,
    pub id: Option<String>,
    pub migrate: bool,
    pub children: Vec<ConfigComponent>,
}

/// `<Applications>`, `<Documents>` or `<WindowsComponents>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `defaultMigrate="no"`: components not listed as `migrate="yes"` stay out.
    pub default_migrate: bool,
    pub components: Vec<ConfigComponent>,
}

/// A section the Config.xml leaves out switches nothing off (a file with only
/// `<Policies>` must not drop every component).
impl Default for Section {
    fn default() -> Self {
        Section {
            default_migrate: true,
            components: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// `<nonFatal>`: log it and go on, as with ScanState's `/c`.
    NonFatal,
    /// `<fatal>`: stop, even with `/c`.
    Fatal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Any,
    /// A Win32 error number (5 access denied, 32 sharing violation, 33 lock violation…).
    Code(u32),
}

/// One `<nonFatal errorCode="33">* [*]</nonFatal>`.
#[derive(Debug, Clone)]
pub struct ErrorRule {
    pub severity: Severity,
    pub code: ErrorCode,
    pub pattern: Pattern,
    compiled: Compiled,
}

/// `<ErrorControl>`: for a file or registry error, the first rule (in the file's order)
/// whose error code and pattern match decides.
#[derive(Debug, Clone, Default)]
pub struct ErrorControl {
    pub file: Vec<ErrorRule>,
    pub registry: Vec<ErrorRule>,
}

impl ErrorControl {
    /// What Config.xml says about error `code` on the object `node [leaf]` (a file: its
    /// folder and name; a registry value: key and value name). `None`: Config.xml says
    /// nothing, the command line (`/c`) decides.
    pub fn decide(
        &self,
        kind: ObjectKind,
        code: u32,
        node: &str,
        leaf: Option<&str>,
    ) -> Option<Severity> {
        let rules = match kind {
            ObjectKind::File => &self.file,
            ObjectKind::Registry => &self.registry,
        };
        let dir = fold(kind, node);
        let dir = dir.trim_end_matches('\\').as_bytes();
        let leaf = leaf.map(str::to_lowercase);
        rules
            .iter()
            .find(|r| {
                (r.code == ErrorCode::Any || r.code == ErrorCode::Code(code))
                    && r.compiled.matches(dir, leaf.as_deref().map(str::as_bytes))
            })
            .map(|r| r.severity)
    }

    pub fn is_empty(&self) -> bool {
        self.file.is_empty() && self.registry.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    MigratedUsers,
    NonMigratedUsers,
    AllUsers,
}

/// `<changeGroup from="Administrators" to="Users" appliesTo="MigratedUsers">`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeGroup {
    pub from: String,
    pub to: String,
    pub applies_to: AppliesTo,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// `<ProfileControl>`: what the restore side does with group membership and accounts
/// (offline captures do not keep group membership; this says which groups users join).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileControl {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub change_groups: Vec<ChangeGroup>,
    /// `<domains><domain from to/>`: (from, to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<(String, String)>,
    /// `<users><user from to/>`: (from, to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<(String, String)>,
}

impl ProfileControl {
    pub fn is_empty(&self) -> bool {
        self.change_groups.is_empty() && self.domains.is_empty() && self.users.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct ConfigXml {
    pub source: String,
    pub applications: Section,
    pub documents: Section,
    pub windows_components: Section,
    pub error_control: ErrorControl,
    pub profile_control: ProfileControl,
    /// What was read but has no effect offline (HardLinkStoreControl…), in words.
    pub warnings: Vec<String>,
}

pub fn load(path: &Path) -> Result<ConfigXml, RulesError> {
    let file = path.display().to_string();
    let bytes = crate::fsread::read_bounded(path, crate::limits::XML_MAX_BYTES).map_err(|e| {
        RulesError::Read {
            file: file.clone(),
            reason: e.to_string(),
        }
    })?;
    parse(&bytes, &file)
}

fn yes(v: Option<&str>, default: bool) -> bool {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("yes" | "true") => true,
        Some("no" | "false") => false,
        _ => default,
    }
}

pub fn parse(bytes: &[u8], source: &str) -> Result<ConfigXml, RulesError> {
    let syntax = |line: usize, msg: String| RulesError::Syntax {
        file: source.to_string(),
        line: (line > 0).then_some(line),
        msg,
    };
    let text = xmltree::decode(bytes).map_err(|(l, m)| syntax(l, m))?;
    let root = xmltree::parse(&text).map_err(|(l, m)| syntax(l, m))?;
    if !root.is("Configuration") {
        let msg = if root.is("migration") {
            "this is a MigXML rules file (<migration>); give it with /i: (--profile), not as a Config.xml".to_string()
        } else {
            format!(
                "the root element is <{}>, a Config.xml starts with <Configuration>",
                crate::shown::Shown(&root.name)
            )
        };
        return Err(RulesError::NotRules {
            file: source.to_string(),
            msg,
        });
    }
    let mut cfg = ConfigXml {
        source: source.to_string(),
        ..Default::default()
    };
    for child in &root.children {
        match child.name.to_ascii_lowercase().as_str() {
            "applications" => cfg.applications = section(child)?,
            "documents" => cfg.documents = section(child)?,
            "windowscomponents" => cfg.windows_components = section(child)?,
            "policies" => {
                for p in &child.children {
                    if p.is("ErrorControl") {
                        cfg.error_control = error_control(p, source)?;
                    } else if p.is("HardLinkStoreControl") && !p.children.is_empty() {
                        cfg.warnings.push(format!(
                            "{source}, line {}: <HardLinkStoreControl> applies to hard-link stores; a WIM store has none",
                            p.line
                        ));
                    }
                }
            }
            // One CFG example wraps ErrorControl in <Policy>; accept it there too.
            "errorcontrol" => cfg.error_control = error_control(child, source)?,
            "profilecontrol" => cfg.profile_control = profile_control(child),
            other => cfg.warnings.push(format!(
                "{source}, line {}: <{other}> is not part of Config.xml; ignored",
                child.line
            )),
        }
    }
    Ok(cfg)
}

fn section(el: &Element) -> Result<Section, RulesError> {
    fn comps(el: &Element) -> Vec<ConfigComponent> {
        el.children
            .iter()
            .filter(|c| c.is("component"))
            .map(|c| ConfigComponent {
                display_name: c.attr("displayname").unwrap_or("").trim().to_string(),
                id: c.attr("ID").map(|s| s.trim().to_string()),
                migrate: yes(c.attr("migrate"), true),
                children: comps(c),
            })
            .collect()
    }
    Ok(Section {
        default_migrate: yes(el.attr("defaultMigrate"), true),
        components: comps(el),
    })
}

fn error_control(el: &Element, source: &str) -> Result<ErrorControl, RulesError> {
    let mut ec = ErrorControl::default();
    for group in &el.children {
        let (kind, list) = if group.is("fileError") {
            (ObjectKind::File, &mut ec.file)
        } else if group.is("registryError") {
            (ObjectKind::Registry, &mut ec.registry)
        } else {
            continue;
        };
        for r in &group.children {
            let severity = if r.is("nonFatal") {
                Severity::NonFatal
            } else if r.is("fatal") {
                Severity::Fatal
            } else {
                continue;
            };
            let code_text = r.attr("errorCode").unwrap_or("any").trim();
            let code = if code_text.eq_ignore_ascii_case("any") {
                ErrorCode::Any
            } else {
                ErrorCode::Code(code_text.parse().map_err(|_| RulesError::Syntax {
                    file: source.to_string(),
                    line: Some(r.line),
                    msg: format!(
                        "<{}> errorCode is neither \"any\" nor a Windows error number (the value given is not shown)",
                        r.name
                    ),
                })?)
            };
            let p = pattern::parse(kind, &r.text).map_err(|e| RulesError::Syntax {
                file: source.to_string(),
                line: Some(r.line),
                msg: format!(
                    "<{}> pattern '{}': {e}",
                    r.name,
                    crate::shown::Shown(r.text.trim())
                ),
            })?;
            list.push(ErrorRule {
                severity,
                code,
                compiled: Compiled::new(&p),
                pattern: p,
            });
        }
    }
    Ok(ec)
}

fn profile_control(el: &Element) -> ProfileControl {
    let mut pc = ProfileControl::default();
    let patterns = |e: Option<&Element>| -> Vec<String> {
        e.map(|x| {
            x.children
                .iter()
                .filter(|p| p.is("pattern"))
                .map(|p| p.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
    };
    let mut stack: Vec<&Element> = vec![el];
    while let Some(e) = stack.pop() {
        for c in &e.children {
            if c.is("changeGroup") {
                let applies = match c
                    .attr("appliesTo")
                    .unwrap_or("MigratedUsers")
                    .trim()
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "nonmigratedusers" => AppliesTo::NonMigratedUsers,
                    "allusers" => AppliesTo::AllUsers,
                    _ => AppliesTo::MigratedUsers,
                };
                pc.change_groups.push(ChangeGroup {
                    from: c.attr("from").unwrap_or("").trim().to_string(),
                    to: c.attr("to").unwrap_or("").trim().to_string(),
                    applies_to: applies,
                    include: patterns(c.child("include")),
                    exclude: patterns(c.child("exclude")),
                });
            } else if c.is("domain") || c.is("user") {
                let pair = (
                    c.attr("from").unwrap_or("").trim().to_string(),
                    c.attr("to").unwrap_or("").trim().to_string(),
                );
                if c.is("domain") {
                    pc.domains.push(pair);
                } else {
                    pc.users.push(pair);
                }
            } else {
                stack.push(c);
            }
        }
    }
    pc
}

impl ConfigXml {
    /// Whether Config.xml lets component `name` (`Parent / Child`, as the rule model
    /// names nested components) of `category` migrate: a `migrate="no"` on it or on a
    /// parent drops it; a section with `defaultMigrate="no"` drops what it does not list.
    pub fn allows(&self, category: Category, name: &str) -> bool {
        let section = match category {
            Category::Application => &self.applications,
            Category::Documents => &self.documents,
            Category::System | Category::Device => &self.windows_components,
        };
        let path: Vec<&str> = name.split(" / ").map(str::trim).collect();
        let mut level = &section.components;
        let mut listed = false;
        for part in &path {
            let Some(c) = level
                .iter()
                .find(|c| c.display_name.eq_ignore_ascii_case(part))
            else {
                break;
            };
            if !c.migrate {
                return false;
            }
            listed = true;
            level = &c.children;
        }
        listed || section.default_migrate
    }

    /// Drops the components Config.xml switches off; returns their names.
    pub fn apply(&self, set: &mut RuleSet) -> Vec<String> {
        let mut dropped = Vec::new();
        set.components.retain(|c| {
            let keep = self.allows(c.category, &c.name);
            if !keep && !dropped.contains(&c.name) {
                dropped.push(c.name.clone());
            }
            keep
        });
        dropped
    }
}

/// Text as an attribute value of the generated Config.xml (a display name comes from the
/// rules and the offline system, so it may hold anything): `&`, `<`, `>` and `"` as
/// entities; tab, line feed and carriage return as character references (literal ones
/// would be read back as spaces); DEL and the C1 controls as character references too.
/// The other C0 characters, U+FFFE and U+FFFF cannot be carried by XML 1.0 at all, not even
/// as references: each is written as the text `<U+XXXX>` (its code point in hex, the form
/// [`crate::shown`] uses on the console), so the file stays well-formed and says what was
/// there.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' | '\u{7F}'..='\u{9F}' => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                out.push_str(&format!("&lt;U+{:04X}&gt;", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// A node of the generated tree: a display name and its nested components.
#[derive(Default)]
struct Node {
    name: String,
    id: String,
    children: Vec<Node>,
}

fn insert(level: &mut Vec<Node>, path: &[&str], id_base: &str, role: &str) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let i = match level.iter().position(|n| n.name == *first) {
        Some(i) => i,
        None => {
            level.push(Node {
                name: first.to_string(),
                id: format!("{id_base}/{}/{role}", first.to_lowercase()),
                children: Vec::new(),
            });
            level.len() - 1
        }
    };
    insert(&mut level[i].children, rest, id_base, role);
}

fn write_nodes(out: &mut String, nodes: &[Node], depth: usize) {
    for n in nodes {
        let pad = "  ".repeat(depth);
        let head = format!(
            "{pad}<component displayname=\"{}\" migrate=\"yes\" ID=\"{}\"",
            escape(&n.name),
            escape(&n.id)
        );
        if n.children.is_empty() {
            out.push_str(&format!("{head}/>\n"));
        } else {
            out.push_str(&format!("{head}>\n"));
            write_nodes(out, &n.children, depth + 1);
            out.push_str(&format!("{pad}</component>\n"));
        }
    }
}

/// A Config.xml in USMT's `/genconfig` shape for the components detected on the offline
/// system (reports of every pass: a component detected for any user or the machine is
/// listed once), with the ErrorControl and ProfileControl skeletons as comments.
pub fn generate(reports: &[&ComponentReport]) -> String {
    let mut apps: Vec<Node> = Vec::new();
    let mut docs: Vec<Node> = Vec::new();
    let mut system: Vec<Node> = Vec::new();
    for r in reports.iter().filter(|r| r.detected != Some(false)) {
        let base = r
            .urlid
            .clone()
            .unwrap_or_else(|| format!("lifeboat:{}", r.source));
        let (level, role) = match r.category {
            Category::Application => (&mut apps, "settings"),
            Category::Documents => (&mut docs, "data"),
            Category::System | Category::Device => (&mut system, "settings"),
        };
        let path: Vec<&str> = r.name.split(" / ").map(str::trim).collect();
        insert(level, &path, &base, role);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Configuration>\n");
    for (tag, nodes) in [
        ("Applications", &apps),
        ("Documents", &docs),
        ("WindowsComponents", &system),
    ] {
        if nodes.is_empty() {
            out.push_str(&format!("  <{tag}/>\n"));
        } else {
            out.push_str(&format!("  <{tag}>\n"));
            write_nodes(&mut out, nodes, 2);
            out.push_str(&format!("  </{tag}>\n"));
        }
    }
    out.push_str(SKELETONS);
    out.push_str("</Configuration>\n");
    out
}

const SKELETONS: &str = r#"  <Policies>
    <ErrorControl>
      <!--   Example:

          <fileError>
            <nonFatal errorCode="33">* [*]</nonFatal>
            <fatal errorCode="any">C:\Users\* [*]</fatal>
          </fileError>
          <registryError>
            <nonFatal errorCode="5">* [*]</nonFatal>
          </registryError>
      -->
    </ErrorControl>
    <HardLinkStoreControl>
      <!--   Example:

          <fileLocked>
            <createHardLink>c:\Users\* [*]</createHardLink>
            <errorHardLink>C:\* [*]</errorHardLink>
          </fileLocked>
      -->
    </HardLinkStoreControl>
  </Policies>
  <ProfileControl>
    <!--   Example (local group mapping):

          <localGroups>
            <mappings>
              <changeGroup from="Administrators" to="Users" appliesTo="MigratedUsers">
                <include>
                  <pattern>DomainName1\Username</pattern>
                </include>
                <exclude>
                  <pattern>DomainName2\Username</pattern>
                </exclude>
              </changeGroup>
            </mappings>
          </localGroups>

      -->
    <!--   Example (domain and user mapping):

          <domains>
            <domain from="Domain1" to="Domain2"/>
          </domains>

          <users>
            <user from="Domain1\User1" to="Domain2\User2"/>
          </users>

      -->
  </ProfileControl>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Applications>
    <component displayname="Mozilla Firefox" migrate="no" ID="x/mozilla firefox/settings"/>
    <component displayname="Microsoft Office 2010" migrate="yes" ID="x">
      <component displayname="Microsoft Office Excel 2010" migrate="no" ID="y"/>
    </component>
  </Applications>
  <Documents defaultMigrate="no">
    <component displayname="My Documents" migrate="yes" ID="z"/>
  </Documents>
  <Policies>
    <ErrorControl>
      <fileError>
        <nonFatal errorCode="33">* [*]</nonFatal>
        <fatal errorCode="any">C:\Users\* [*]</fatal>
      </fileError>
      <registryError><nonFatal errorCode="5">HKCU\SOFTWARE\Microsoft\* [*]</nonFatal></registryError>
    </ErrorControl>
  </Policies>
  <ProfileControl><localGroups><mappings>
    <changeGroup from="*" to="Users" appliesTo="MigratedUsers"><include><pattern>*</pattern></include></changeGroup>
  </mappings></localGroups></ProfileControl>
</Configuration>"#;

    #[test]
    fn components_error_control_profile_control() {
        let c = parse(CFG.as_bytes(), "Config.xml").unwrap();
        assert!(!c.allows(Category::Application, "Mozilla Firefox"));
        assert!(c.allows(Category::Application, "Microsoft Office 2010"));
        assert!(!c.allows(
            Category::Application,
            "Microsoft Office 2010 / Microsoft Office Excel 2010"
        ));
        assert!(
            c.allows(Category::Application, "Google Chrome"),
            "not listed: default yes"
        );
        assert!(
            !c.allows(Category::Documents, "Desktop"),
            "defaultMigrate=no"
        );
        assert!(c.allows(Category::Documents, "My Documents"));
        let ec = &c.error_control;
        use ObjectKind::*;
        assert_eq!(
            ec.decide(File, 33, r"D:\x", Some("a.txt")),
            Some(Severity::NonFatal)
        );
        assert_eq!(
            ec.decide(File, 5, r"C:\Users\ann", Some("a.txt")),
            Some(Severity::Fatal)
        );
        assert_eq!(ec.decide(File, 5, r"D:\x", Some("a.txt")), None);
        assert_eq!(
            ec.decide(
                Registry,
                5,
                r"HKEY_CURRENT_USER\Software\Microsoft\Office",
                Some("x")
            ),
            Some(Severity::NonFatal)
        );
        assert_eq!(c.profile_control.change_groups[0].to, "Users");
        assert_eq!(c.profile_control.change_groups[0].include, ["*"]);
    }

    #[test]
    fn bad_error_code_names_file_and_line_not_the_value() {
        let bad = CFG.replace(r#"errorCode="33""#, "errorCode=\"lots\x1b[2J\"");
        let e = parse(bad.as_bytes(), "C.xml").unwrap_err().to_string();
        assert!(
            e.contains("C.xml, line 15") && e.contains("errorCode"),
            "{e}"
        );
        assert!(!e.contains("lots") && !e.contains('\x1b'), "{e}");
    }

    #[test]
    fn generated_names_stay_well_formed_and_faithful() {
        let name = "Tab\there\nLF\rCR \x1b[2J\u{1}\u{85}\u{7f} \"q\" <a> & \u{FFFF} é";
        let xml = format!(
            "<Configuration><Applications><component displayname=\"{}\"/></Applications></Configuration>",
            escape(name)
        );
        // An XML reader takes it, and gives back every character XML can carry.
        let root = xmltree::parse(&xml).expect("well-formed");
        let back = root.children[0].children[0].attr("displayname").unwrap();
        assert_eq!(
            back,
            "Tab\there\nLF\rCR <U+001B>[2J<U+0001>\u{85}\u{7f} \"q\" <a> & <U+FFFF> é"
        );
    }
}
