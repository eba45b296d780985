//! Which module may not import which, checked on the source: the store owns its format
//! (`store/` imports none of detect, the plan, the rules, nor anything above it), and the
//! restore stands beside the capture (`restore/` imports neither capture nor the plan).
//! A `use`, a path in an expression and `super::super::` all count.

use std::path::{Path, PathBuf};

/// (folder below `src/`, the modules of this crate it must not name).
const RULES: &[(&str, &[&str])] = &[
    (
        "store",
        &[
            "detect", "plan", "rules", "capture", "restore", "job", "cli", "facts",
        ],
    ),
    ("restore", &["capture", "plan", "job", "cli"]),
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

/// The top-level modules a source text names after `crate::` (a group `crate::{a, b::c}`
/// names each of its items), and whether it climbs out with `super::super::`.
fn named_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let group = match rest.strip_prefix('{') {
            Some(g) => &g[..g.find('}').unwrap_or(g.len())],
            None => rest,
        };
        for item in group.split(',') {
            let ident: String = item
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(ident);
            if !rest.starts_with('{') {
                break;
            }
        }
    }
    if text.contains("super::super::") {
        names.push("super::super".into());
    }
    names
}

#[test]
fn no_module_imports_against_the_layering() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for (dir, forbidden) in RULES {
        let files = rust_files(&src.join(dir));
        assert!(!files.is_empty(), "no sources in src/{dir}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for m in named_modules(&text) {
                if forbidden.contains(&m.as_str()) || m == "super::super" {
                    wrong.push(format!("{} names crate::{m}", f.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_each_way_of_naming_a_module() {
    let names = named_modules(
        "use crate::plan::x;\nuse crate::{shown, detect::model};\nlet v = crate::rules::f();\nsuper::super::capture",
    );
    for m in ["plan", "shown", "detect", "rules", "super::super"] {
        assert!(names.iter().any(|n| n == m), "{m} not in {names:?}");
    }
}
