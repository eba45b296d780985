//! USMT encoded patterns: parsing `Node [Leaf]` text into a [`Pattern`], printing it back,
//! and the compiled, lower-cased form the matcher runs (no regex: `*` is the only wildcard,
//! `?` is a literal character in USMT).

use std::fmt;

use super::model::{ObjectKind, Pattern};

/// Parses `C:\Folder\* [*.mp3]`, `HKCU\Keyboard Layout\Toggle []`, `%CSIDL_PERSONAL%\* [*]`.
/// USMT wants a space before `[`; we also accept none (`C:\*[*]`, seen in real files).
/// `^[`, `^]` and `^^` escape brackets and carets inside names.
pub fn parse(kind: ObjectKind, text: &str) -> Result<Pattern, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the pattern is empty".into());
    }
    let chars: Vec<char> = text.chars().collect();
    let (node_chars, leaf) = match split_leaf(&chars)? {
        Some((open, close)) => (
            &chars[..open],
            Some(unescape(&chars[open + 1..close]).trim().to_string()),
        ),
        None => (&chars[..], None),
    };
    let node = unescape(node_chars);
    let node = node.trim();
    if node.is_empty() {
        return Err("nothing before the [leaf]: give a folder or key, e.g. C:\\* [*.doc]".into());
    }
    Ok(normalize(Pattern {
        kind,
        node: node.to_string(),
        recursive: false,
        leaf,
    }))
}

/// Moves a trailing `\*` into `recursive` and drops trailing backslashes (`C:\` → `C:`), so
/// equal patterns compare equal. Run again after variables are expanded.
pub fn normalize(mut p: Pattern) -> Pattern {
    loop {
        let t = p.node.trim_end().to_string();
        if let Some(rest) = t.strip_suffix("\\*") {
            p.recursive = true;
            p.node = rest.to_string();
        } else if t.len() > 1 && t.ends_with('\\') {
            p.node = t.trim_end_matches('\\').to_string();
        } else {
            p.node = t;
            break;
        }
    }
    p
}

/// Positions of the leaf's `[` and `]` when the text ends with an unescaped `]`.
fn split_leaf(chars: &[char]) -> Result<Option<(usize, usize)>, String> {
    let last = chars.len() - 1;
    if chars[last] != ']' || escaped(chars, last) {
        return Ok(None);
    }
    for i in (0..last).rev() {
        if chars[i] == '[' && !escaped(chars, i) {
            return Ok(Some((i, last)));
        }
    }
    Err("it ends with ']' but has no '[' (escape brackets in names as ^[ and ^])".into())
}

/// A character is escaped when an odd number of `^` precede it.
fn escaped(chars: &[char], i: usize) -> bool {
    chars[..i].iter().rev().take_while(|&&c| c == '^').count() % 2 == 1
}

fn unescape(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut it = chars.iter().peekable();
    while let Some(&c) = it.next() {
        if c == '^' {
            if let Some(&&n) = it.peek() {
                if matches!(n, '[' | ']' | '^') {
                    out.push(n);
                    it.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '[' | ']' | '^') {
            out.push('^');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape(&self.node))?;
        if self.recursive {
            write!(f, "\\*")?;
        }
        if let Some(leaf) = &self.leaf {
            write!(f, " [{}]", escape(leaf))?;
        }
        Ok(())
    }
}

/// `true` when `text` matches `pat`, where `*` matches any run of bytes (backslashes too).
/// Both sides are already lower-cased UTF-8, so byte comparison is exact.
pub fn glob(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pat.len() && pat[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Lower-cases a path and writes registry roots the short way, as patterns are compiled.
pub fn fold(kind: ObjectKind, path: &str) -> String {
    match kind {
        ObjectKind::File => path.trim().to_lowercase(),
        ObjectKind::Registry => short_root(path.trim()).to_lowercase(),
    }
}

/// `path` with a long registry root written the short way (`HKEY_CURRENT_USER\X` →
/// `hkcu\X`), the rest byte for byte as it was.
pub fn short_root(path: &str) -> std::borrow::Cow<'_, str> {
    const ROOTS: [(&str, &str); 5] = [
        ("hkey_local_machine", "hklm"),
        ("hkey_current_user", "hkcu"),
        ("hkey_users", "hku"),
        ("hk_users", "hku"),
        ("hkey_classes_root", "hkcr"),
    ];
    for (long, short) in ROOTS {
        let Some(head) = path.get(..long.len()) else {
            continue;
        };
        let rest = &path[long.len()..];
        if head.eq_ignore_ascii_case(long) && (rest.is_empty() || rest.starts_with('\\')) {
            return format!("{short}{rest}").into();
        }
    }
    path.into()
}

/// Registry patterns are told apart by their root key (`HKCU`, `HKLM`, `HKEY_…`); everything
/// else (a drive, a share, `*`, a `%variable%`) is a file pattern.
pub fn kind_of(text: &str) -> ObjectKind {
    let head = text
        .trim_start()
        .split('\\')
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let roots = ["HKCU", "HKLM", "HKU", "HKCR", "HKCC"];
    if roots.contains(&head.as_str()) || head.starts_with("HKEY_") {
        ObjectKind::Registry
    } else {
        ObjectKind::File
    }
}

/// A pattern ready to match: lower-cased, with a cheap literal prefix to reject most paths.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub kind: ObjectKind,
    node: Vec<u8>,
    /// `node` + `\*`, for recursive patterns.
    below: Vec<u8>,
    /// Bytes of `node` before its first `*`.
    prefix: usize,
    literal: bool,
    recursive: bool,
    leaf: Option<Vec<u8>>,
    pub specificity: Specificity,
}

/// How specific a pattern is; the greater wins within a component (USMT "most specific rule
/// wins"; folder specificity beats the leaf, so include `C:\Data\* [*]` beats exclude
/// `C:\* [*.mp3]`). Compared field by field:
/// 1. `segments`: node segments holding any non-`*` character.
///    `C:` = 1, `C:\Data` = 2, `C:\Users\*\AppData` = 3, `*` = 0.
/// 2. `exact`: 1 for a node without trailing `\*` (`C:\Data\ [*]` beats `C:\Data\* [*]`;
///    `...\Command Processor [DefaultColor]` beats `...\Command Processor\* [*]`).
/// 3. `leaf`: non-`*` characters of the leaf: `*` = 0, `*.mp3` = 4, `DefaultColor` = 12.
///
/// Equal specificity: exclude wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    pub segments: u32,
    pub exact: u8,
    pub leaf: u32,
}

impl Compiled {
    pub fn new(p: &Pattern) -> Compiled {
        let node = fold(p.kind, &p.node).into_bytes();
        let mut below = node.clone();
        below.extend_from_slice(b"\\*");
        let prefix = node.iter().position(|&c| c == b'*').unwrap_or(node.len());
        let segments = node
            .split(|&c| c == b'\\')
            .filter(|s| s.iter().any(|&c| c != b'*'))
            .count() as u32;
        let leaf = p.leaf.as_ref().map(|l| l.to_lowercase().into_bytes());
        let leaf_score = leaf
            .as_ref()
            .map(|l| l.iter().filter(|&&c| c != b'*').count() as u32)
            .unwrap_or(0);
        Compiled {
            kind: p.kind,
            literal: prefix == node.len(),
            node,
            below,
            prefix,
            recursive: p.recursive,
            leaf,
            specificity: Specificity {
                segments,
                exact: u8::from(!p.recursive),
                leaf: leaf_score,
            },
        }
    }

    /// Does the node part match folder/key `dir` (folded, no trailing backslash)?
    pub fn matches_node(&self, dir: &[u8]) -> bool {
        let prefix = &self.node[..self.prefix];
        if !dir.starts_with(prefix) {
            return false;
        }
        if self.literal {
            return dir.len() == self.node.len()
                || (self.recursive && dir.get(self.node.len()) == Some(&b'\\'));
        }
        glob(&self.node, dir) || (self.recursive && glob(&self.below, dir))
    }

    /// Object `leaf` in `dir` (leaf `None` = the folder/key itself). A folder/key is matched
    /// by patterns without a leaf and by those whose leaf is all `*` (`C:\X\* [*]` takes the
    /// folders too).
    pub fn matches(&self, dir: &[u8], leaf: Option<&[u8]>) -> bool {
        let leaf_ok = match (&self.leaf, leaf) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(p), None) => p.iter().all(|&c| c == b'*'),
            (Some(p), Some(l)) => glob(p, l),
        };
        leaf_ok && self.matches_node(dir)
    }

    /// Whether every object at or below `dir` matches (a recursive node with a `*` leaf
    /// covering `dir`): lets a walker drop a folder an unconditional exclude removes.
    pub fn covers_tree(&self, dir: &[u8]) -> bool {
        self.recursive
            && self
                .leaf
                .as_ref()
                .is_some_and(|l| !l.is_empty() && l.iter().all(|&c| c == b'*'))
            && self.matches_node(dir)
    }

    /// Whether something at or below `dir` could match (cheap, may say yes wrongly).
    pub fn may_reach(&self, dir: &[u8]) -> bool {
        let prefix = &self.node[..self.prefix];
        let dir_is_ancestor = prefix.starts_with(dir)
            && (prefix.len() == dir.len() || prefix[dir.len()] == b'\\' || !self.literal);
        if dir_is_ancestor {
            return true;
        }
        if self.literal {
            self.recursive
                && dir.starts_with(&self.node)
                && dir.get(self.node.len()) == Some(&b'\\')
        } else {
            dir.starts_with(prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        parse(ObjectKind::File, s).unwrap()
    }

    #[test]
    fn parses_documented_forms() {
        let x = p(r"C:\Folder\* [*.mp3]");
        assert_eq!((x.node.as_str(), x.recursive), (r"C:\Folder", true));
        assert_eq!(x.leaf.as_deref(), Some("*.mp3"));
        let x = p(r"C:\Folder\ [*]");
        assert_eq!((x.node.as_str(), x.recursive), (r"C:\Folder", false));
        let x = p(r"c:\Windows\System32");
        assert_eq!((x.node.as_str(), x.leaf), (r"c:\Windows\System32", None));
        let x = parse(ObjectKind::Registry, r"HKCU\Keyboard Layout\Toggle []").unwrap();
        assert_eq!(x.leaf.as_deref(), Some(""));
        let x = p(r"  C:\*[*]  ");
        assert_eq!(
            (x.node.as_str(), x.recursive, x.leaf.as_deref()),
            ("C:", true, Some("*"))
        );
        let x = p(r"c:\documents\mydocs [file^].txt]");
        assert_eq!(x.leaf.as_deref(), Some("file].txt"));
        let x = p(r"C:\Games ^[old^]\* [a^[1^].txt]");
        assert_eq!(
            (x.node.as_str(), x.leaf.as_deref()),
            (r"C:\Games [old]", Some("a[1].txt"))
        );
        let x = p(r"C:\ [pagefile.sys]");
        assert_eq!(x.node, "C:");
        assert_eq!(x.to_string(), r"C: [pagefile.sys]");
        assert_eq!(
            p(r"%CSIDL_PERSONAL%\* [*]").to_string(),
            r"%CSIDL_PERSONAL%\* [*]"
        );
    }

    #[test]
    fn rejects_broken_patterns() {
        assert!(parse(ObjectKind::File, "   ").is_err());
        assert!(parse(ObjectKind::File, r"C:\x ]").is_err());
        assert!(parse(ObjectKind::File, "[*.doc]").is_err());
    }

    #[test]
    fn glob_star_spans_and_question_mark_is_literal() {
        assert!(glob(b"c:\\users\\*\\appdata", b"c:\\users\\ann\\appdata"));
        assert!(glob(b"c:\\*\\appdata", b"c:\\users\\ann\\appdata"));
        assert!(glob(b"*.doc*", b"a.docx"));
        assert!(!glob(b"*.doc", b"a.docx"));
        assert!(!glob(b"a?c", b"abc"));
        assert!(glob(b"a?c", b"a?c"));
        assert!(glob(b"", b""));
        assert!(!glob(b"", b"x"));
    }

    #[test]
    fn node_matching_is_case_insensitive_and_recursive_includes_self() {
        let c = Compiled::new(&p(r"C:\Data\* [*]"));
        assert!(c.matches(b"c:\\data", Some(b"a.txt")));
        assert!(c.matches(b"c:\\data\\sub\\deeper", Some(b"a.txt")));
        assert!(!c.matches(b"c:\\database", Some(b"a.txt")));
        assert!(c.matches(b"c:\\data\\sub", None), "folders come with [*]");
        let c = Compiled::new(&p(r"C:\Data\ [*]"));
        assert!(c.matches(b"c:\\data", Some(b"a.txt")));
        assert!(!c.matches(b"c:\\data\\sub", Some(b"a.txt")));
        let c = Compiled::new(&p(r"C:\ProgramData\Microsoft\Windows Defender* [*]"));
        assert!(c.matches(
            b"c:\\programdata\\microsoft\\windows defender\\scans",
            Some(b"x")
        ));
    }

    #[test]
    fn registry_roots_are_folded() {
        assert_eq!(
            fold(ObjectKind::Registry, r"HKEY_CURRENT_USER\Software"),
            r"hkcu\software"
        );
        assert_eq!(fold(ObjectKind::Registry, r"HKEY_USERSX"), "hkey_usersx");
        assert_eq!(
            fold(ObjectKind::File, r"HKEY_CURRENT_USER"),
            "hkey_current_user"
        );
    }

    #[test]
    fn reachability_for_pruning() {
        let c = Compiled::new(&p(r"C:\Users\ann\Documents\* [*]"));
        assert!(c.may_reach(b"c:"));
        assert!(c.may_reach(b"c:\\users"));
        assert!(c.may_reach(b"c:\\users\\ann\\documents\\x"));
        assert!(!c.may_reach(b"c:\\users\\bob"));
        assert!(!c.may_reach(b"c:\\windows"));
        let c = Compiled::new(&p(
            r"C:\Users\*\AppData\Local\Google\Chrome\User Data\Default\ [Bookmarks]",
        ));
        assert!(
            c.may_reach(b"c:\\users\\bob\\music"),
            "may say yes wrongly, never no wrongly"
        );
        assert!(!c.may_reach(b"c:\\windows"));
    }

    #[test]
    fn kinds() {
        assert_eq!(
            kind_of(r"HKEY_LOCAL_MACHINE\Software [x]"),
            ObjectKind::Registry
        );
        assert_eq!(kind_of(r"hkcu\Network\* [*]"), ObjectKind::Registry);
        assert_eq!(kind_of(r"%HKCU%\x"), ObjectKind::File);
        assert_eq!(kind_of(r"C:\HKCU\x"), ObjectKind::File);
        assert_eq!(kind_of(r"hkx\y"), ObjectKind::File);
    }

    #[test]
    fn short_root_keeps_the_rest_as_it_is() {
        assert_eq!(
            short_root("HKEY_Current_User\\İ\\\u{212A}"),
            "hkcu\\İ\\\u{212A}"
        );
        assert_eq!(short_root(r"HKEY_CURRENT_USERS\x"), r"HKEY_CURRENT_USERS\x");
        assert_eq!(fold(ObjectKind::Registry, r" HKEY_USERS\A "), r"hku\a");
    }
}
