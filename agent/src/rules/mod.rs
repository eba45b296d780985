//! What to capture: the one rule model ([`model`]) with USMT's pattern syntax ([`pattern`]),
//! per-user/machine variable expansion ([`expand`]) and precedence ([`matcher`]), fed by two
//! front ends: YAML profiles ([`yaml`], shipped ones in [`builtin`]) and USMT MigXML
//! ([`migxml`]).
//!
//! Flow: [`load_profile`] → [`expand::expand`] for one user (or the machine) →
//! [`matcher::Matcher::new`] → `decide` / `might_contain` per object while walking.

pub mod builtin;
pub mod configxml;
pub mod content;
pub mod evaluate;
pub mod expand;
pub mod matcher;
pub mod migxml;
pub(crate) mod migxml_helpers;
mod migxml_named;
pub mod model;
pub mod pattern;
pub mod yaml;

use std::path::Path;

pub use evaluate::{evaluate, ComponentReport, Evaluation, Verdict};
pub use expand::{expand, Answer, Environment, Facts, Lookup, NoFacts};
pub use matcher::{decide, Decision, Matcher};
pub use model::*;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{file}: cannot read it: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}{}: {msg}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Syntax {
        file: String,
        line: Option<usize>,
        msg: String,
    },
    #[error("{file}: component \"{component}\": bad pattern '{pattern}': {msg}")]
    Pattern {
        file: String,
        component: String,
        pattern: String,
        msg: String,
    },
    #[error("{file}: {msg}")]
    NotRules { file: String, msg: String },
    #[error("no profile \"{name}\": not a built-in profile ({known}) and no such file")]
    UnknownProfile { name: String, known: String },
}

/// A built-in profile by name (`documents`, `user`, `full`), or a file: `*.xml` is read as
/// USMT MigXML, anything else as a YAML profile.
pub fn load_profile(name_or_path: &str) -> Result<RuleSet, RulesError> {
    if let Some(text) = builtin::builtin(name_or_path) {
        return yaml::parse(text, &format!("builtin:{name_or_path}"));
    }
    let path = Path::new(name_or_path);
    if !path.is_file() {
        return Err(RulesError::UnknownProfile {
            name: name_or_path.to_string(),
            known: builtin::builtin_names().join(", "),
        });
    }
    let is_xml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    if is_xml {
        migxml::load(path)
    } else {
        yaml::load(path)
    }
}
