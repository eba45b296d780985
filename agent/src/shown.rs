//! Text from outside (a store's names and manifest strings, an old disk's file names, a
//! command-line argument) as a person reads it: on the console, with `-v`, in `--log`,
//! `--list-files` and a restore's report. Such text may hold control characters: an escape
//! sequence that clears or recolours the technician's screen, a line break that forges a
//! "RESTORE COMPLETE" line, a bidirectional override that shows a name backwards. [`Shown`]
//! is the one place they are escaped; every human-readable output names outside text
//! through it, once, where the text is put into the line. (JSON output escapes by itself.)
//!
//! The escape is `<U+XXXX>`, the character's code point in hex: C0 and C1 controls and DEL,
//! and the invisible formatting characters that change how a line reads (bidirectional
//! marks, embeddings, overrides and isolates, zero-width characters, line and paragraph
//! separators, the byte-order mark). `<` and `>` cannot be part of a Windows file name, so
//! in a name the form never stands for itself.

use std::fmt::{self, Display, Write};
use std::path::Path;

/// Outside text, escaped when displayed.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

/// A path whose names came from outside, escaped when displayed.
#[derive(Debug, Clone, Copy)]
pub struct ShownPath<'a>(pub &'a Path);

/// Whether `c` is written as `<U+XXXX>`.
pub fn escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

impl Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if escaped(c) {
                write!(f, "<U+{:04X}>", c as u32)?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

impl Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown(&self.0.to_string_lossy()).fmt(f)
    }
}

/// [`Shown`] as a `String`, for text assembled before it is shown (a list of names).
pub fn shown(s: &str) -> String {
    Shown(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_invisible_formatting_are_escaped_once() {
        assert_eq!(
            shown("a\x1b[2Jb\r\nRESTORE COMPLETE\u{7f}\u{85}"),
            "a<U+001B>[2Jb<U+000D><U+000A>RESTORE COMPLETE<U+007F><U+0085>"
        );
        assert_eq!(shown("gpj.\u{202E}exe"), "gpj.<U+202E>exe");
        assert_eq!(
            shown("\u{2028}\u{FEFF}\u{200B}"),
            "<U+2028><U+FEFF><U+200B>"
        );
        // Ordinary text, Windows paths and non-Latin names are left as they are.
        let plain = r"C:\Users\ann\Ünïcödé €\日本語 (1).txt";
        assert_eq!(shown(plain), plain);
        assert_eq!(
            ShownPath(Path::new("/mnt/x\ty")).to_string(),
            "/mnt/x<U+0009>y"
        );
    }
}
