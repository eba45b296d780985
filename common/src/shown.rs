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
//!
//! JSON output keeps every string exactly (a program reads it back), yet a technician may
//! read it on the same terminal: [`json_pretty`] writes those characters as JSON's own
//! `\uXXXX` escapes, which parse back to the same text.

use std::fmt::{self, Display, Write};
use std::io;
use std::path::Path;

use serde_json::ser::{Formatter, PrettyFormatter};

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

/// `v` as pretty JSON whose strings hold no character [`escaped`] raw (serde_json escapes
/// the C0 controls itself; the others are written as `\uXXXX` here).
pub fn json_pretty<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, Terminal(PrettyFormatter::new()));
    v.serialize(&mut ser)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// serde_json's pretty layout, with [`escaped`] characters in strings as `\uXXXX`.
struct Terminal<'a>(PrettyFormatter<'a>);

impl Formatter for Terminal<'_> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut plain = 0;
        for (i, c) in fragment.char_indices() {
            if escaped(c) {
                w.write_all(bytes.get(plain..i).unwrap_or_default())?;
                write!(w, "\\u{:04x}", c as u32)?;
                plain = i + c.len_utf8();
            }
        }
        w.write_all(bytes.get(plain..).unwrap_or_default())
    }
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

    #[test]
    fn json_strings_carry_no_raw_control_and_read_back_the_same() {
        let v = serde_json::json!({"from": "a\u{85}b\u{202E}c\x1b\u{7f}d\u{1F600}é"});
        let text = json_pretty(&v).unwrap();
        assert!(!text.chars().any(|c| escaped(c) && c != '\n'), "{text}");
        assert!(
            text.contains("a\\u0085b\\u202ec\\u001b\\u007fd\u{1F600}é"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        assert_eq!(
            text,
            serde_json::to_string_pretty(&serde_json::json!({"from": "x"}))
                .unwrap()
                .replace('x', "a\\u0085b\\u202ec\\u001b\\u007fd\u{1F600}é")
        );
    }
}
