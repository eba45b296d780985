//! YAML profiles: the technician-facing way to say what to capture, mapped 1:1 onto the
//! model (one entry per component, one list per action). Format: `profiles/README.md`.

use std::path::Path;

use serde::Deserialize;

use super::model::{Action, Component, Rule, RuleSet, Scope};
use super::{pattern, RulesError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    #[serde(default)]
    description: String,
    components: Vec<YamlComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlComponent {
    name: String,
    scope: YamlScope,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    unconditional_exclude: Vec<String>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum YamlScope {
    User,
    System,
    /// Runs in both passes (MigXML `UserAndSystem`).
    Both,
}

/// Reads a profile: a regular file of at most [`crate::limits::YAML_MAX_BYTES`], UTF-8.
pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
    let text =
        crate::fsread::read_text_bounded(path, crate::limits::YAML_MAX_BYTES).map_err(|e| {
            RulesError::Read {
                file: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
    parse(&text, &path.display().to_string())
}

/// `source` names the profile in errors and in [`Component::source`].
pub fn parse(text: &str, source: &str) -> Result<RuleSet, RulesError> {
    let profile: Profile = crate::bounded_yaml::from_str(text).map_err(|e| RulesError::Syntax {
        file: source.to_string(),
        line: e.line(),
        msg: e.to_string(),
    })?;
    let mut set = RuleSet::default();
    for yc in &profile.components {
        let scopes: &[Scope] = match yc.scope {
            YamlScope::User => &[Scope::User],
            YamlScope::System => &[Scope::System],
            YamlScope::Both => &[Scope::User, Scope::System],
        };
        let mut rules = Vec::new();
        for (action, list) in [
            (Action::Include, &yc.include),
            (Action::Exclude, &yc.exclude),
            (Action::UnconditionalExclude, &yc.unconditional_exclude),
        ] {
            for text in list {
                let p = pattern::parse(pattern::kind_of(text), text).map_err(|msg| {
                    RulesError::Pattern {
                        file: source.to_string(),
                        component: yc.name.clone(),
                        pattern: text.clone(),
                        msg,
                    }
                })?;
                rules.push(Rule { action, pattern: p });
            }
        }
        for &scope in scopes {
            let mut c = Component::new(&yc.name, scope, source);
            c.rules = rules.clone();
            set.components.push(c);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ObjectKind;

    #[test]
    fn maps_one_to_one() {
        let set = parse(
            r"
name: t
components:
  - name: Docs
    scope: both
    include: ['%USERPROFILE%\* [*.doc*]', 'HKCU\Control Panel\Desktop [Wallpaper]']
    exclude: ['%LOCALAPPDATA%\* [*]']
",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(set.components.len(), 2);
        let c = &set.components[0];
        assert_eq!(
            (c.name.as_str(), c.scope, c.rules.len()),
            ("Docs", Scope::User, 3)
        );
        assert_eq!(c.rules[1].pattern.kind, ObjectKind::Registry);
        assert_eq!(c.rules[2].action, Action::Exclude);
        assert_eq!(c.source, "t.yaml");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let e = parse(
            "name: t\ncomponents:\n  - name: A\n    scope: user\n    inclde: []\n",
            "p.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("p.yaml, line 5"), "{e}");
        assert!(e.contains("inclde"), "{e}");
    }

    #[test]
    fn bad_pattern_names_component_and_text() {
        let e = parse(
            "name: t\ncomponents:\n  - name: Mine\n    scope: system\n    include: ['C:\\x ]']\n",
            "p.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"Mine\"") && e.contains(r"'C:\x ]'"), "{e}");
    }

    #[test]
    fn nesting_is_refused_before_parsing() {
        // 100k levels took 49 s inside the YAML parser.
        let deep = format!(
            "name: t\ncomponents: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = parse(&deep, "deep.yaml").unwrap_err().to_string();
        assert!(
            e.starts_with("deep.yaml, line 2") && e.contains("nested"),
            "{e}"
        );
    }
}
