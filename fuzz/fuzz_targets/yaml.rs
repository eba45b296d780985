//! YAML a technician or a stick brings: a profile (`--profile X.yaml`) or the media's
//! config.yaml; and the bound on YAML nesting, checked against the YAML parser itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat::bounded_yaml;
use lifeboat::config::Config;
use lifeboat::rules;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 3 {
        0 => {
            let _ = rules::yaml::parse(text, "fuzz.yaml");
        }
        1 => {
            let _ = Config::parse(text, std::path::Path::new("config.yaml"), &|p: &str| {
                p.len() < 8
            });
        }
        _ => {
            // What the check lets through, the parser must finish quickly (libFuzzer's
            // -timeout says how quickly).
            if bounded_yaml::check(text).is_ok() {
                let _ = serde_norway::from_str::<serde_norway::Value>(text);
            }
        }
    }
});
