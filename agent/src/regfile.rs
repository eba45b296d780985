//! Registry settings as a regedit export (`.reg`, "Windows Registry Editor Version 5.00",
//! UTF-16LE with a BOM), so `reg import` works on the new machine without Lifeboat.

use crate::hive::{Value, ValueType};

/// Builds a `.reg` file key by key.
pub struct RegFile {
    text: String,
}

impl Default for RegFile {
    fn default() -> Self {
        Self::new()
    }
}

impl RegFile {
    pub fn new() -> Self {
        RegFile {
            text: "Windows Registry Editor Version 5.00\r\n".into(),
        }
    }

    /// Adds a key (full path such as `HKEY_CURRENT_USER\Control Panel\Desktop`) with the
    /// given values. A key with no values is still written, so it is created on import.
    /// A key or value whose name the format cannot carry ([`representable`]) is left out:
    /// the planner has reported it already.
    pub fn key(&mut self, full_path: &str, values: &[Value]) {
        if !representable(full_path) {
            return;
        }
        self.text.push_str("\r\n[");
        self.text.push_str(full_path);
        self.text.push_str("]\r\n");
        for v in values {
            self.value(v);
        }
    }

    fn value(&mut self, v: &Value) {
        if !representable(&v.name) {
            return;
        }
        let name = if v.name.is_empty() {
            "@".to_string()
        } else {
            format!("\"{}\"", escape(&v.name))
        };
        let prefix_len = name.len() + 1;
        let body = match v.kind {
            Some(ValueType::Sz) => match plain_string(&v.data) {
                Some(s) => format!("\"{}\"", escape(&s)),
                None => hex_body("hex(1):", &v.data, prefix_len),
            },
            Some(ValueType::Dword) if v.data.len() == 4 => {
                format!(
                    "dword:{:08x}",
                    u32::from_le_bytes([v.data[0], v.data[1], v.data[2], v.data[3]])
                )
            }
            Some(ValueType::Binary) => hex_body("hex:", &v.data, prefix_len),
            Some(t) => hex_body(&format!("hex({:x}):", t.code()), &v.data, prefix_len),
            // A type number Windows does not define: kept as bytes of type 0 would lose
            // it, so it is written as binary with a comment-free hex(0).
            None => hex_body("hex(0):", &v.data, prefix_len),
        };
        self.text.push_str(&name);
        self.text.push('=');
        self.text.push_str(&body);
        self.text.push_str("\r\n");
    }

    /// The text as regedit writes it: UTF-16LE with a byte-order mark.
    pub fn to_utf16le(&self) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for u in self.text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        // regedit ends the file with an empty line.
        out.extend_from_slice(&[b'\r', 0, b'\n', 0]);
        out
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Whether a key path or value name can stand in a `.reg` file. regedit's format has no
/// escape for line breaks or NUL: a name holding one (a hostile hive may have it) would end
/// the line and start a new key or value on import, anywhere in the registry.
pub fn representable(name: &str) -> bool {
    !name.contains(['\r', '\n', '\0'])
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A REG_SZ that regedit would write as a quoted string: UTF-16 ending in one NUL, with no
/// NUL or line break inside. Anything else is written as `hex(1):` so no byte is lost.
fn plain_string(data: &[u8]) -> Option<String> {
    if data.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = crate::le::u16s(data).collect();
    // Empty data (no NUL at all) is not `""`, which imports as one NUL: found by fuzzing.
    let body = match units.split_last() {
        Some((0, body)) => body,
        _ => return None,
    };
    if body
        .iter()
        .any(|&u| u == 0 || u == u16::from(b'\r') || u == u16::from(b'\n'))
    {
        return None;
    }
    String::from_utf16(body).ok()
}

/// `hex:00,01,…` wrapped the way regedit wraps it: lines of at most 80 characters,
/// continued with a backslash and two spaces.
fn hex_body(tag: &str, data: &[u8], prefix_len: usize) -> String {
    let mut out = String::from(tag);
    let mut col = prefix_len + tag.len();
    for (i, b) in data.iter().enumerate() {
        let last = i + 1 == data.len();
        let piece = if last {
            format!("{b:02x}")
        } else {
            format!("{b:02x},")
        };
        if col + piece.len() > 79 && !last {
            out.push_str("\\\r\n  ");
            col = 2;
        }
        out.push_str(&piece);
        col += piece.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, kind: ValueType, data: &[u8]) -> Value {
        Value {
            name: name.into(),
            kind: Some(kind),
            data: data.to_vec(),
        }
    }

    fn sz(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(|u| u.to_le_bytes())
            .collect()
    }

    #[test]
    fn writes_each_type_as_regedit_does() {
        let mut r = RegFile::new();
        r.key(
            r"HKEY_CURRENT_USER\Control Panel\Desktop",
            &[
                v("Wallpaper", ValueType::Sz, &sz(r#"C:\a "b".jpg"#)),
                v("", ValueType::Sz, &sz("default")),
                v("Count", ValueType::Dword, &7u32.to_le_bytes()),
                v("Path", ValueType::ExpandSz, &sz("%A%")),
                v("Q", ValueType::Qword, &1u64.to_le_bytes()),
            ],
        );
        let t = r.text();
        assert!(t.starts_with("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Control Panel\\Desktop]\r\n"));
        assert!(
            t.contains("\"Wallpaper\"=\"C:\\\\a \\\"b\\\".jpg\"\r\n"),
            "{t}"
        );
        assert!(t.contains("@=\"default\"\r\n"));
        assert!(t.contains("\"Count\"=dword:00000007\r\n"));
        assert!(t.contains("\"Path\"=hex(2):25,00,41,00,25,00,00,00\r\n"));
        assert!(t.contains("\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n"));
        let bytes = r.to_utf16le();
        assert_eq!(&bytes[..4], &[0xFF, 0xFE, b'W', 0]);
    }

    #[test]
    fn names_with_line_breaks_are_never_written() {
        let mut r = RegFile::new();
        let evil = "x\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n\"e\"=\"cmd";
        r.key(
            &format!(r"HKEY_CURRENT_USER\{evil}"),
            &[v("a", ValueType::Sz, &sz("b"))],
        );
        r.key(
            r"HKEY_CURRENT_USER\Ok",
            &[
                v(evil, ValueType::Sz, &sz("b")),
                v("fine", ValueType::Dword, &[1, 0, 0, 0]),
            ],
        );
        let t = r.text();
        assert!(!t.contains("HKEY_LOCAL_MACHINE"), "{t}");
        assert!(
            t.contains("[HKEY_CURRENT_USER\\Ok]\r\n\"fine\"=dword:00000001\r\n"),
            "{t}"
        );
    }

    #[test]
    fn odd_strings_and_long_binaries_keep_every_byte() {
        let mut r = RegFile::new();
        let long: Vec<u8> = (0..100u8).collect();
        r.key(
            r"HKEY_CURRENT_USER\X",
            &[
                v("NoNul", ValueType::Sz, b"a\0b\0"),
                v("Empty", ValueType::Sz, b""),
                v("Bin", ValueType::Binary, &long),
            ],
        );
        let t = r.text();
        assert!(t.contains("\"NoNul\"=hex(1):61,00,62,00\r\n"), "{t}");
        assert!(t.contains("\"Empty\"=hex(1):\r\n"), "{t}");
        for line in t.lines() {
            assert!(line.len() <= 80, "line too long: {line}");
        }
        let joined: String = t
            .split("\"Bin\"=hex:")
            .nth(1)
            .unwrap()
            .replace("\\\r\n  ", "");
        let first_line = joined.lines().next().unwrap();
        assert_eq!(first_line.split(',').count(), 100);
    }
}
