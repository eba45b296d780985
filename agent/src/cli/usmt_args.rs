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

/// The switch whose value is a secret (`/key`, the store's encryption key): it always takes
/// the next argument, whatever that looks like.
const SECRET: &str = "key";

/// Reads `args` into tokens. `needs_value(name)` says which switches take the next
/// argument as their value when none follows a colon.
pub fn tokenize(args: &[String], needs_value: impl Fn(&str) -> bool) -> Vec<Token> {
    let mut out = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let Some(text) = switch_text(a) else {
            out.push(Token::Positional(unquote(a)));
            continue;
        };
        let (name, mut value) = match text.split_once(':') {
            Some((n, v)) => (n.to_ascii_lowercase(), Some(unquote(v))),
            None => (text.to_ascii_lowercase(), None),
        };
        if value.is_none() && name == SECRET {
            // A key may begin with `-` or `/`: read as a switch, it would be echoed back in
            // the "not a valid option" message.
            value = it.next().map(|next| unquote(next));
        } else if value.is_none() && needs_value(&name) {
            if let Some(next) = it.next_if(|n| switch_text(n).is_none()) {
                value = Some(unquote(next));
            }
        }
        out.push(Token::Switch { name, value });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Vec<Token> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokenize(&v, |n| n == "l" || n == "i")
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
        // The key takes the next argument even when it looks like a switch.
        assert_eq!(
            t(&["/key", "-S3cret", "/o"]),
            vec![sw("key", Some("-S3cret")), sw("o", None)]
        );
        // A switch that needs a value does not swallow the next switch.
        assert_eq!(t(&["/l", "/o"]), vec![sw("l", None), sw("o", None)]);
        // One that takes none leaves the store path alone.
        assert_eq!(
            t(&["/o", "store"]),
            vec![sw("o", None), Token::Positional("store".into())]
        );
    }
}
