//! The documentation cannot drift from the programs. Each command of both programs is found
//! by asking the built binaries (`--help`'s command lists), never from a list kept here, so
//! a new command without a page fails. For each: its `--help` names its page
//! (`Reference: docs/commands/….md`), the page exists, every long option the help lists
//! appears in the page, and every option the page's tables list is one the help knows.
//! ScanState's and LoadState's switches (`/?`) must each appear in `docs/usmt.md`. Every
//! link in README.md and under `docs/` leads to a file that exists, and a link to a heading
//! to a heading that exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::winpe::media_bin;
use fixtures::{lifeboat_bin, run, workspace_root};

/// `BIN ARGS… --help`: its standard output (exit 0 asserted).
fn help(bin: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(Command::new(bin).args(args).arg("--help"));
    assert_eq!(code, 0, "{} {args:?} --help: {err}", bin.display());
    out
}

/// The subcommands a help lists under `Commands:` (clap's own `help` left out).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Every command path of a program, from its help: `["detect"]`, `["rules", "explain"]`.
fn command_paths(bin: &Path) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for c in subcommands(&help(bin, &[])) {
        let subs = subcommands(&help(bin, &[c.as_str()]));
        if subs.is_empty() {
            paths.push(vec![c]);
        } else {
            paths.extend(subs.into_iter().map(|s| vec![c.clone(), s]));
        }
    }
    paths
}

/// Whether `c` may continue an option or switch name.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The long options a text names (`--dest`, `--on-conflict`), `--help`/`--version` left out.
fn long_options(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("--") {
        let before = rest[..i].chars().next_back();
        let name: String = rest[i + 2..]
            .chars()
            .take_while(|c| name_char(*c))
            .collect();
        rest = &rest[i + 2..];
        if before.is_some_and(name_char) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        if name != "help" && name != "version" {
            out.insert(format!("--{name}"));
        }
    }
    out
}

/// The long options a help lists in its `Options:` section.
fn help_options(help: &str) -> BTreeSet<String> {
    let section: String = help
        .lines()
        .skip_while(|l| l.trim() != "Options:")
        .take_while(|l| !l.is_empty())
        .filter(|l| l.trim_start().starts_with('-'))
        .map(|l| {
            // `  -v, --verbose   Say more`: the option's own column, not its description.
            let l = l.trim_start();
            l.split("  ").next().unwrap_or(l).to_string() + "\n"
        })
        .collect();
    long_options(&section)
}

/// Whether `text` names `word` as a whole (not as the start of a longer name).
fn names(text: &str, word: &str, ignore_case: bool) -> bool {
    let (text, word) = if ignore_case {
        (text.to_lowercase(), word.to_lowercase())
    } else {
        (text.to_string(), word.to_string())
    };
    text.match_indices(&word)
        .any(|(i, _)| !text[i + word.len()..].chars().next().is_some_and(name_char))
}

/// The page a help names in its `Reference: docs/commands/X.md` line.
fn reference(help: &str, what: &str) -> String {
    let line = help
        .lines()
        .find(|l| l.starts_with("Reference: "))
        .unwrap_or_else(|| panic!("{what} --help names no reference page:\n{help}"));
    let page = line["Reference: ".len()..]
        .split([';', ',', ' '])
        .next()
        .unwrap_or_default();
    assert!(
        page.starts_with("docs/commands/") && page.ends_with(".md"),
        "{what}: {line}"
    );
    page.to_string()
}

/// The options named in the first cell of a page's table rows (`| \`--dest DIR\` | …`).
fn table_options(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split(" | ").next())
        .flat_map(long_options)
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks every command of `bin` against its page; returns the pages seen.
fn check_program(bin: &Path, program: &str) -> BTreeSet<String> {
    let root = workspace_root();
    let mut problems = Vec::new();
    let mut pages = BTreeSet::new();
    for path in command_paths(bin) {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let what = format!("{program} {}", path.join(" "));
        let text = help(bin, &args);
        let page = reference(&text, &what);
        let file = root.join(&page);
        assert!(file.is_file(), "{what}: {page} does not exist");
        let doc = read(&file);
        let known = help_options(&text);
        for o in &known {
            if !names(&doc, &format!("`{o}"), false) {
                problems.push(format!("{what}: {o} is not in {page}"));
            }
        }
        for o in table_options(&doc) {
            if !known.contains(&o) {
                problems.push(format!(
                    "{page}: {o} is in its table but not in `{what} --help`"
                ));
            }
        }
        pages.insert(page);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    pages
}

#[test]
fn every_command_names_its_page_and_the_page_every_option() {
    let pages = check_program(&lifeboat_bin(), "lifeboat");
    for p in [
        "detect",
        "capture",
        "restore",
        "image",
        "scanstate",
        "loadstate",
    ] {
        assert!(
            pages.contains(&format!("docs/commands/{p}.md")),
            "no command of lifeboat leads to {p}.md: {pages:?}"
        );
    }
    let pages = check_program(&media_bin(), "lifeboat-media");
    assert!(pages.len() >= 2, "{pages:?}");
}

/// The switches a USMT usage text lists: `/name` after a space, `[`, `(` or `|`.
fn switches(usage: &str) -> BTreeSet<String> {
    // The usage is printed as it is written, not escaped as a quoted command line is.
    assert!(!usage.contains("<U+"), "an escaped usage text: {usage}");
    let mut out = BTreeSet::new();
    let mut prev = ' ';
    for (i, c) in usage.char_indices() {
        if c == '/' && matches!(prev, ' ' | '\n' | '[' | '(' | '|') {
            let name: String = usage[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if !name.is_empty() {
                out.insert(format!("/{name}"));
            }
        }
        prev = c;
    }
    out
}

#[test]
fn every_usmt_switch_is_in_the_mapping() {
    let bin = lifeboat_bin();
    let doc = read(&workspace_root().join("docs/usmt.md"));
    let mut problems = Vec::new();
    for command in ["scanstate", "loadstate"] {
        let (code, out, err) = run(Command::new(&bin).args([command, "/?"]));
        assert_eq!(code, 1, "{command} /?: {err}");
        let usage = out + &err;
        assert!(
            usage.contains("docs/usmt.md"),
            "{command} /? names no page:\n{usage}"
        );
        let found = switches(&usage);
        assert!(found.len() >= 10, "{command} /?: {found:?}\n{usage}");
        for s in found {
            if !names(&doc, &format!("`{s}"), true) {
                problems.push(format!("{command}: {s} is not in docs/usmt.md"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A heading's anchor as GitHub makes it: lower case, spaces to hyphens, punctuation gone.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap_or(c)),
            _ => None,
        })
        .collect()
}

fn anchors(doc: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for l in doc.lines() {
        if l.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && l.starts_with('#') {
            out.insert(slug(l.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of a Markdown file's relative links (`[text](target)`).
fn links(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with("mailto:") && !target.contains(' ') {
            out.push(target.to_string());
        }
    }
    out
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("folder entry").path();
        if p.is_dir() {
            markdown_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
}

#[test]
fn every_link_of_the_readme_and_the_docs_leads_somewhere() {
    let root = workspace_root();
    let mut files = vec![root.join("README.md")];
    markdown_files(&root.join("docs"), &mut files);
    let readme_links = links(&read(&root.join("README.md")));
    assert!(
        readme_links.iter().any(|l| l.starts_with("docs/")),
        "README.md links no page under docs/"
    );
    let mut problems = Vec::new();
    for file in &files {
        let doc = read(file);
        let dir = file.parent().expect("a file's folder");
        for link in links(&doc) {
            let (path, anchor) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !target.exists() {
                problems.push(format!("{}: {link}: no such file", file.display()));
            } else if !anchor.is_empty()
                && target.is_file()
                && !anchors(&read(&target)).contains(anchor)
            {
                problems.push(format!("{}: {link}: no such heading", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
