//! The one way Lifeboat parses YAML it may not have written (profiles, the media config, a
//! store's manifest): the text's size and nesting are checked before the YAML parser sees
//! it. libyaml's time grows with the square of the nesting (100k levels took 49 s), and the
//! parser's own depth limit is only applied after the whole text has been parsed.
//!
//! The nesting is measured by one cheap pass over the lines that never counts less than a
//! YAML parser would: block levels by indentation, one more for every `-`, `?` and `:`
//! indicator that opens a nested node on the same line, and flow brackets outside quotes,
//! comments and block scalars. Aliases (`*name`) are refused: Lifeboat's files have no use
//! for them, and expanding them is the other way a small text becomes a large document.

use serde::de::DeserializeOwned;

use crate::limits::{YAML_MAX_BYTES, YAML_MAX_DEPTH};

#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("it is {size} bytes, more than the {YAML_MAX_BYTES} bytes such a file may have")]
    TooLarge { size: usize },
    #[error("line {line}: nested more than {YAML_MAX_DEPTH} levels deep")]
    TooDeep { line: usize },
    #[error("line {line}: aliases (*name) are not accepted")]
    Alias { line: usize },
    #[error(transparent)]
    Syntax(#[from] serde_norway::Error),
}

impl YamlError {
    /// The line the problem is on, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            YamlError::TooLarge { .. } => None,
            YamlError::TooDeep { line } | YamlError::Alias { line } => Some(*line),
            YamlError::Syntax(e) => e.location().map(|l| l.line()),
        }
    }
}

/// Checks `text` ([`check`]), then deserializes it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    check(text)?;
    Ok(serde_norway::from_str(text)?)
}

/// Size, nesting and aliases of `text`, in one pass over its bytes.
pub fn check(text: &str) -> Result<(), YamlError> {
    if text.len() as u64 > YAML_MAX_BYTES {
        return Err(YamlError::TooLarge { size: text.len() });
    }
    let mut s = Scan::default();
    for (i, line) in text.lines().enumerate() {
        s.line(line.as_bytes()).map_err(|e| e.at(i + 1))?;
    }
    Ok(())
}

/// What a line broke, before its number is known.
enum Broken {
    Deep,
    Alias,
}

impl Broken {
    fn at(self, line: usize) -> YamlError {
        match self {
            Broken::Deep => YamlError::TooDeep { line },
            Broken::Alias => YamlError::Alias { line },
        }
    }
}

#[derive(Default)]
struct Scan {
    /// Indentation of each open block level.
    indents: Vec<usize>,
    /// Open flow collections (`[`, `{`).
    flow: usize,
    /// Inside a quoted scalar that goes on over lines: its quote.
    quote: Option<u8>,
    /// Inside a block scalar (`|`, `>`): the indentation of the line that opened it.
    block_scalar: Option<usize>,
}

impl Scan {
    fn line(&mut self, line: &[u8]) -> Result<(), Broken> {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let rest = &line[indent..];
        if let Some(parent) = self.block_scalar {
            if rest.is_empty() || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let blank = rest.is_empty() || rest.starts_with(b"#") || rest.starts_with(b"\t");
        let mut depth = self.indents.len();
        if self.flow == 0 && self.quote.is_none() && !blank {
            while self.indents.last().is_some_and(|&top| top > indent) {
                self.indents.pop();
            }
            if self.indents.last().is_none_or(|&top| top < indent) {
                self.indents.push(indent);
            }
            depth = self.indents.len();
        }
        self.tokens(rest, depth, indent)
    }

    /// Walks one line's content after its indentation.
    fn tokens(&mut self, rest: &[u8], mut depth: usize, indent: usize) -> Result<(), Broken> {
        let deep = |d: usize| {
            if d > YAML_MAX_DEPTH {
                Err(Broken::Deep)
            } else {
                Ok(())
            }
        };
        // A node may start here: at the line's start, after an indicator or a flow opener.
        let mut node_start = true;
        let mut last = b' ';
        let mut i = 0;
        while i < rest.len() {
            let b = rest[i];
            if let Some(q) = self.quote {
                if b == b'\\' && q == b'"' {
                    i += 2;
                    continue;
                }
                if b == q {
                    if q == b'\'' && rest.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    self.quote = None;
                }
                i += 1;
                continue;
            }
            let next_blank = rest.get(i + 1).is_none_or(|c| *c == b' ' || *c == b'\t');
            match b {
                b'#' if last == b' ' || last == b'\t' || i == 0 => break,
                b'\'' | b'"' if node_start => self.quote = Some(b),
                b'*' if node_start => return Err(Broken::Alias),
                // An anchor or a tag comes before the node it names: skip it.
                b'&' | b'!' if node_start => {
                    while i < rest.len() && rest[i] != b' ' && rest[i] != b'\t' {
                        i += 1;
                    }
                    continue;
                }
                // `-`/`?` open a node only where one may start (`a - b` is text); `: ` is
                // a mapping indicator wherever it stands.
                b'-' | b'?' if next_blank && node_start => {
                    depth += 1;
                    deep(depth + self.flow)?;
                    last = b;
                    i += 1;
                    continue;
                }
                b':' if next_blank => {
                    depth += 1;
                    deep(depth + self.flow)?;
                    node_start = true;
                    last = b;
                    i += 1;
                    continue;
                }
                b'[' | b'{' if node_start || self.flow > 0 => {
                    self.flow += 1;
                    deep(depth + self.flow)?;
                    node_start = true;
                    last = b;
                    i += 1;
                    continue;
                }
                b']' | b'}' if self.flow > 0 => self.flow -= 1,
                b',' if self.flow > 0 => {
                    node_start = true;
                    last = b;
                    i += 1;
                    continue;
                }
                b'|' | b'>' if node_start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    return Ok(());
                }
                _ => {}
            }
            if b != b' ' && b != b'\t' {
                node_start = false;
            }
            last = b;
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        check(text).is_ok()
    }

    #[test]
    fn real_shapes_pass() {
        let profile = "name: x\ncomponents:\n  - name: Documents\n    scope: user\n    include:\n      - '%CSIDL_PERSONAL%\\* [*]'\n      - \"a: [b\"\n    exclude: []\n";
        assert!(depth_ok(profile));
        let v: serde_norway::Value = from_str(profile).unwrap();
        assert_eq!(v["components"][0]["include"][1], "a: [b");
        assert!(depth_ok(
            "reason: cannot be read [x] {y\nnote: |\n  - - - - [[[[ text\n   *not an alias\nnext: 1\n"
        ));
        assert!(depth_ok(
            "a: 'it''s [ {'\nb: \"q\\\" [\"\nc: # [[[[\n  d: e\n"
        ));
        let dashes = format!("reason: {}\n", "a - ".repeat(100));
        assert!(depth_ok(&dashes));
        assert!(from_str::<serde_norway::Value>(&dashes).is_ok());
    }

    #[test]
    fn deep_or_aliased_text_is_refused_before_parsing() {
        for deep in [
            "[".repeat(100_000) + &"]".repeat(100_000),
            "{a: ".repeat(100_000) + &"}".repeat(100_000),
            "- ".repeat(100_000) + "x",
            (0..40)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect(),
            format!("a:\n  b: {}", "[".repeat(40)),
        ] {
            let e = check(&deep).unwrap_err();
            assert!(matches!(e, YamlError::TooDeep { .. }), "{e}");
            assert!(matches!(
                from_str::<serde_norway::Value>(&deep),
                Err(YamlError::TooDeep { .. })
            ));
        }
        let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        assert!(matches!(check(bomb), Err(YamlError::Alias { line: 2 })));
        assert_eq!(check(bomb).unwrap_err().line(), Some(2));
        assert!(check(&"x".repeat(YAML_MAX_BYTES as usize + 1)).is_err());
    }
}
