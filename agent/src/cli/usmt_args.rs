//! USMT's switch syntax, shared by the ScanState and LoadState front ends: `/name` or
//! `-name`, case-insensitive, in any order; the value after `:` (`/l:scan.log`) or, for a
//! switch that needs one, in the next argument (`/l scan.log`). Everything else is a
//! positional argument (the store path). A Unix path (`/mnt/store`) is not a switch.

/// One command-line argument, as USMT reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `/name[:value]`; `name` in lower case.
    Switch {
        name: String,
        value: Option<String>,
    },
    /// A switch whose value is a secret (`/key`, `/lac`): the value is dropped here, never
    /// kept, echoed or logged; only whether one was given is said.
    Secret {
        name: String,
        given: bool,
    },
    Positional(String),
}

/// A value as the Windows command line leaves it: a path quoted with a trailing
/// backslash (`"/l:C:\My Logs\"`) keeps a stray quote, which no Windows path can hold.
fn unquote(v: &str) -> String {
    v.trim_matches('"').to_string()
}

/// The switch in `a` (without its `/` or `-`), or `None` for a positional argument.
fn switch_text(a: &str) -> Option<&str> {
    if let Some(rest) = a.strip_prefix('/') {
        // `/mnt/store` is a path; `/i:/mnt/x.xml` a switch with a path.
        let name = rest.split(':').next().unwrap_or("");
        return (!name.is_empty() && !name.contains('/')).then_some(rest);
    }
    a.strip_prefix('-').filter(|r| !r.is_empty())
}

/// How a secret-taking switch takes its value when none follows its colon (`/key S3cret`,
/// `/key: S3cret`, `/lac Pa55`; USMT separates a value by a colon or a space).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SecretValue {
    /// `/key`: a key is required, so the next argument is it, whatever it looks like (a key
    /// may begin with `-` or `/`; read as a switch it would be echoed as "not valid").
    Required,
    /// `/lac[:Password]`: the next argument is the password unless it is a switch the
    /// command knows (`/lac /lae`).
    Optional,
}

/// The switches whose value is a secret, in every USMT tool Lifeboat reads.
fn secret(name: &str) -> Option<SecretValue> {
    match name {
        "key" => Some(SecretValue::Required),
        "lac" => Some(SecretValue::Optional),
        _ => None,
    }
}

/// Reads `args` into tokens. `needs_value(name)` says which switches take the next
/// argument as their value when none follows a colon; `known(name)` which switches the
/// command has (a secret's optional value is never taken for one of them).
pub fn tokenize(
    args: &[String],
    needs_value: impl Fn(&str) -> bool,
    known: impl Fn(&str) -> bool,
) -> Vec<Token> {
    let mut out = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let Some(text) = switch_text(a) else {
            out.push(Token::Positional(unquote(a)));
            continue;
        };
        let (name, value) = match text.split_once(':') {
            Some((n, v)) => (n.to_ascii_lowercase(), Some(unquote(v))),
            None => (text.to_ascii_lowercase(), None),
        };
        if let Some(how) = secret(&name) {
            let given = match value.filter(|v| !v.is_empty()) {
                Some(_) => true,
                None => match how {
                    SecretValue::Required => it.next().is_some(),
                    SecretValue::Optional => it
                        .next_if(|n| switch_text(n).is_none_or(|t| !known(&switch_name(t))))
                        .is_some(),
                },
            };
            out.push(Token::Secret { name, given });
            continue;
        }
        let mut value = value;
        if value.is_none() && needs_value(&name) {
            if let Some(next) = it.next_if(|n| switch_text(n).is_none()) {
                value = Some(unquote(next));
            }
        }
        out.push(Token::Switch { name, value });
    }
    out
}

/// A switch's name from its text (`lae`, `l` of `l:x.log`), lower case.
fn switch_name(text: &str) -> String {
    text.split(':').next().unwrap_or(text).to_ascii_lowercase()
}

/// The command line as it may be shown or logged: the value of every secret-taking switch
/// replaced, whichever way it was given.
pub fn redacted(args: &[String], known: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let Some(text) = switch_text(a) else {
            out.push(a.clone());
            continue;
        };
        let name = switch_name(text);
        let Some(how) = secret(&name) else {
            out.push(a.clone());
            continue;
        };
        let head = a.split(':').next().unwrap_or(a);
        match text.split_once(':').map(|(_, v)| v) {
            Some(v) if !unquote(v).is_empty() => out.push(format!("{head}:(not shown)")),
            _ => {
                out.push(head.to_string());
                let next = match how {
                    SecretValue::Required => it.next(),
                    SecretValue::Optional => {
                        it.next_if(|n| switch_text(n).is_none_or(|t| !known(&switch_name(t))))
                    }
                };
                if next.is_some() {
                    out.push("(not shown)".into());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Vec<Token> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokenize(
            &v,
            |n| n == "l" || n == "i",
            |n| ["l", "i", "o", "lae"].contains(&n),
        )
    }

    fn secret(name: &str, given: bool) -> Token {
        Token::Secret {
            name: name.into(),
            given,
        }
    }

    fn sw(name: &str, value: Option<&str>) -> Token {
        Token::Switch {
            name: name.into(),
            value: value.map(str::to_string),
        }
    }

    #[test]
    fn every_spelling() {
        assert_eq!(
            t(&[
                "/O",
                "-c",
                "/L:scan.log",
                "-i",
                "MigDocs.xml",
                "/l",
                r"C:\My Logs\x.log",
                "/Progress:\"C:\\a b\\\""
            ]),
            vec![
                sw("o", None),
                sw("c", None),
                sw("l", Some("scan.log")),
                sw("i", Some("MigDocs.xml")),
                sw("l", Some(r"C:\My Logs\x.log")),
                sw("progress", Some(r"C:\a b\")),
            ]
        );
    }

    #[test]
    fn paths_are_not_switches() {
        assert_eq!(
            t(&["/mnt/store", "/i:/tmp/x.xml", r"\\srv\share\PC", "/o"]),
            vec![
                Token::Positional("/mnt/store".into()),
                sw("i", Some("/tmp/x.xml")),
                Token::Positional(r"\\srv\share\PC".into()),
                sw("o", None),
            ]
        );
        // The key takes the next argument even when it looks like a switch, and is dropped.
        assert_eq!(
            t(&["/key", "-S3cret", "/o"]),
            vec![secret("key", true), sw("o", None)]
        );
        // A switch that needs a value does not swallow the next switch.
        assert_eq!(t(&["/l", "/o"]), vec![sw("l", None), sw("o", None)]);
        // One that takes none leaves the store path alone.
        assert_eq!(
            t(&["/o", "store"]),
            vec![sw("o", None), Token::Positional("store".into())]
        );
    }

    #[test]
    fn secrets_are_dropped_however_they_are_given() {
        for (args, want) in [
            (&["/key:S3cret"][..], vec![secret("key", true)]),
            (&["/key:", "S3cret"], vec![secret("key", true)]),
            (&["/KEY", "/S3cret"], vec![secret("key", true)]),
            (&["/key"], vec![secret("key", false)]),
            (&["/lac:Pa55"], vec![secret("lac", true)]),
            (&["/lac", "Pa55"], vec![secret("lac", true)]),
            (&["/lac:", "Pa55"], vec![secret("lac", true)]),
            (&["/lac", "-Pa55"], vec![secret("lac", true)]),
            (
                &["/lac", "/lae"],
                vec![secret("lac", false), sw("lae", None)],
            ),
            (&["/lac"], vec![secret("lac", false)]),
        ] {
            assert_eq!(t(args), want, "{args:?}");
            let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let shown = redacted(&v, |n| n == "lae").join(" ");
            assert!(
                !shown.contains("S3cret") && !shown.contains("Pa55"),
                "{shown}"
            );
        }
        let v: Vec<String> = ["S", "/lac", "Pa55", "/lae", "/l:x.log"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            redacted(&v, |n| n == "lae" || n == "l"),
            vec!["S", "/lac", "(not shown)", "/lae", "/l:x.log"]
        );
    }
}
