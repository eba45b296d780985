//! A USMT MigXML file (`--profile X.xml`): parsed, expanded for a user and for the machine
//! (variables, `<environment>`, named references), compiled and asked about some objects.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use lifeboat::rules::{self, expand, Environment, Matcher, NoFacts, ObjectKind, Scope};

fuzz_target!(|data: &[u8]| {
    let Ok(set) = rules::migxml::parse(data, "fuzz.xml") else {
        return;
    };
    let vars: HashMap<String, String> = [
        ("USERPROFILE", r"C:\Users\ann"),
        ("CSIDL_PERSONAL", r"C:\Users\ann\Documents"),
        ("SYSTEMDRIVE", "C:"),
        ("WINDIR", r"C:\Windows"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let vars = expand::with_aliases(vars);
    let drives = ["C:".to_string(), "D:".to_string()];
    for scope in [Scope::User, Scope::System] {
        let env = Environment {
            vars: &vars,
            fixed_drives: &drives,
            facts: &NoFacts,
        };
        let expanded = expand(&set, scope, &env);
        let m = Matcher::new(&expanded);
        let _ = m.decide_path(ObjectKind::File, r"C:\Users\ann\Documents\a.docx");
        let _ = m.might_contain(ObjectKind::File, r"C:\Users\ann");
        let _ = m.decide(ObjectKind::Registry, r"HKCU\Software\X", Some("v"));
    }
});
