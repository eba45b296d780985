//! Reading a store's `.reg` files back (the format [`crate::regfile`] writes, which is
//! regedit's): keys with their values, each value's type number and bytes exactly as they
//! were captured. The text is hostile input: every line is checked, nothing is guessed.

use crate::hive::{Value, ValueType};

/// One `[KEY]` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegKey {
    /// The full path as written (`HKEY_CURRENT_USER\Control Panel\Desktop`).
    pub path: String,
    pub values: Vec<RegValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegValue {
    /// Empty for the key's default value (`@`).
    pub name: String,
    /// The registry type number (1 REG_SZ, 2 REG_EXPAND_SZ, 4 REG_DWORD, 7 REG_MULTI_SZ…).
    pub kind: u32,
    pub data: Vec<u8>,
}

pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_MULTI_SZ: u32 = 7;

/// What is wrong with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineProblem {
    /// A value line before any `[KEY]`.
    ValueOutsideKey,
    /// Neither `"name"=…`, `@=…`, `[KEY]` nor a comment.
    Unrecognised,
    /// A quoted string without its closing quote.
    UnterminatedString,
    /// `dword:` without eight hex digits.
    BadDword,
    /// `hex…:` with something that is not a two-digit hex byte.
    BadHex,
    /// A deletion (`[-KEY]`, `"name"=-`): a capture never writes one.
    Deletion,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LineProblem::ValueOutsideKey => "a value before any [key]",
            LineProblem::Unrecognised => "not a key, a value or a comment",
            LineProblem::UnterminatedString => "a string without its closing quote",
            LineProblem::BadDword => "dword: needs eight hex digits",
            LineProblem::BadHex => "hex data that is not two-digit bytes",
            LineProblem::Deletion => "a deletion, which a capture never writes",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegReadError {
    #[error("not a registry file (no \"Windows Registry Editor Version 5.00\" header)")]
    NoHeader,
    #[error("not UTF-16 text")]
    NotUtf16,
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: LineProblem },
}

/// Decodes a `.reg` file's bytes: UTF-16LE with a BOM (what regedit and Lifeboat write),
/// or UTF-8 (what some tools write).
pub fn decode(bytes: &[u8]) -> Result<String, RegReadError> {
    if let Some(body) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        if body.len() % 2 != 0 {
            return Err(RegReadError::NotUtf16);
        }
        let units: Vec<u16> = crate::le::u16s(body).collect();
        return String::from_utf16(&units).map_err(|_| RegReadError::NotUtf16);
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(body.to_vec()).map_err(|_| RegReadError::NotUtf16)
}

/// Parses the text of a `.reg` file.
pub fn parse(text: &str) -> Result<Vec<RegKey>, RegReadError> {
    let mut lines = logical_lines(text);
    match lines.next() {
        Some((_, h)) if h.trim() == "Windows Registry Editor Version 5.00" => {}
        _ => return Err(RegReadError::NoHeader),
    }
    let mut keys: Vec<RegKey> = Vec::new();
    for (line, l) in lines {
        let err = |problem| RegReadError::Line { line, problem };
        let t = l.trim_start();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        if let Some(rest) = t.strip_prefix('[') {
            let path = rest
                .trim_end()
                .strip_suffix(']')
                .ok_or(err(LineProblem::Unrecognised))?;
            if path.starts_with('-') {
                return Err(err(LineProblem::Deletion));
            }
            keys.push(RegKey {
                path: path.to_string(),
                values: Vec::new(),
            });
            continue;
        }
        let key = keys.last_mut().ok_or(err(LineProblem::ValueOutsideKey))?;
        key.values.push(parse_value(t).map_err(err)?);
    }
    Ok(keys)
}

/// Physical lines joined where a hex list continues (`…,\` then `  00,…`), with the
/// number of the line each starts on.
fn logical_lines(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut physical = text.lines().enumerate().peekable();
    std::iter::from_fn(move || {
        let (i, first) = physical.next()?;
        let mut l = first.trim_end_matches('\r').to_string();
        while l.ends_with('\\') && is_hex_line(&l) {
            l.pop();
            match physical.next() {
                Some((_, next)) => l.push_str(next.trim_end_matches('\r').trim_start()),
                None => break,
            }
        }
        Some((i + 1, l))
    })
}

/// A value line whose data is a hex list (only those continue with a backslash; a string
/// may end in an escaped backslash).
fn is_hex_line(l: &str) -> bool {
    match split_name(l.trim_start()) {
        Ok((_, rest)) => rest.starts_with("hex"),
        Err(_) => false,
    }
}

/// `"name"=rest` or `@=rest` → (name, rest).
fn split_name(t: &str) -> Result<(String, &str), LineProblem> {
    if let Some(rest) = t.strip_prefix("@=") {
        return Ok((String::new(), rest));
    }
    let inner = t.strip_prefix('"').ok_or(LineProblem::Unrecognised)?;
    let (name, after) = unquote(inner)?;
    let rest = after.strip_prefix('=').ok_or(LineProblem::Unrecognised)?;
    Ok((name, rest))
}

/// Reads a quoted string's body (after the opening quote) up to its closing quote.
fn unquote(s: &str) -> Result<(String, &str), LineProblem> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => return Err(LineProblem::UnterminatedString),
            },
            '"' => return Ok((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    Err(LineProblem::UnterminatedString)
}

fn parse_value(t: &str) -> Result<RegValue, LineProblem> {
    let (name, rest) = split_name(t)?;
    let rest = rest.trim_end();
    let (kind, data) = if let Some(s) = rest.strip_prefix('"') {
        let (text, after) = unquote(s)?;
        if !after.trim().is_empty() {
            return Err(LineProblem::Unrecognised);
        }
        (REG_SZ, utf16z(&text))
    } else if let Some(d) = rest.strip_prefix("dword:") {
        if d.len() != 8 {
            return Err(LineProblem::BadDword);
        }
        let v = u32::from_str_radix(d, 16).map_err(|_| LineProblem::BadDword)?;
        (REG_DWORD, v.to_le_bytes().to_vec())
    } else if let Some(h) = rest.strip_prefix("hex:") {
        (REG_BINARY, hex_bytes(h)?)
    } else if let Some(h) = rest.strip_prefix("hex(") {
        let (num, bytes) = h.split_once("):").ok_or(LineProblem::BadHex)?;
        let kind = u32::from_str_radix(num, 16).map_err(|_| LineProblem::BadHex)?;
        (kind, hex_bytes(bytes)?)
    } else if rest == "-" {
        return Err(LineProblem::Deletion);
    } else {
        return Err(LineProblem::Unrecognised);
    };
    Ok(RegValue { name, kind, data })
}

fn hex_bytes(h: &str) -> Result<Vec<u8>, LineProblem> {
    let h = h.trim();
    if h.is_empty() {
        return Ok(Vec::new());
    }
    h.split(',')
        .map(|b| {
            let b = b.trim();
            if b.len() != 2 {
                return Err(LineProblem::BadHex);
            }
            u8::from_str_radix(b, 16).map_err(|_| LineProblem::BadHex)
        })
        .collect()
}

/// UTF-16LE with a terminating NUL, as the registry stores REG_SZ.
pub fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

impl RegValue {
    /// The value in the hive model, for writing it out again with [`crate::regfile`].
    pub fn to_value(&self) -> Value {
        Value {
            name: self.name.clone(),
            kind: ValueType::from_code(self.kind),
            data: self.data.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regfile::RegFile;

    #[test]
    fn reads_back_what_the_writer_writes() {
        let long: Vec<u8> = (0..200u8).collect();
        let values = vec![
            RegValue {
                name: r#"Wall "paper" \x"#.into(),
                kind: REG_SZ,
                data: utf16z(r"C:\Users\ann\a.jpg"),
            },
            RegValue {
                name: String::new(),
                kind: REG_SZ,
                data: utf16z("default"),
            },
            RegValue {
                name: "Count".into(),
                kind: REG_DWORD,
                data: 7u32.to_le_bytes().to_vec(),
            },
            RegValue {
                name: "Bin".into(),
                kind: REG_BINARY,
                data: long,
            },
            RegValue {
                name: "Multi".into(),
                kind: REG_MULTI_SZ,
                data: b"a\0\0\0b\0\0\0\0\0".to_vec(),
            },
            RegValue {
                name: "Odd".into(),
                kind: 0x1234,
                data: vec![1, 2],
            },
            RegValue {
                name: "Empty".into(),
                kind: REG_BINARY,
                data: Vec::new(),
            },
        ];
        let mut w = RegFile::new();
        let hv: Vec<Value> = values.iter().map(RegValue::to_value).collect();
        w.key(r"HKEY_CURRENT_USER\Software\Ünï", &hv);
        w.key(r"HKEY_CURRENT_USER\Empty", &[]);
        let text = decode(&w.to_utf16le()).unwrap();
        let keys = parse(&text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].path, r"HKEY_CURRENT_USER\Software\Ünï");
        // The unknown type 0x1234 is written as hex(0) by the writer: its bytes survive.
        let mut want = values.clone();
        want[5].kind = 0;
        assert_eq!(keys[0].values, want);
        assert!(keys[1].values.is_empty());
    }

    #[test]
    fn refuses_what_a_capture_never_writes() {
        let h = "Windows Registry Editor Version 5.00\r\n";
        assert_eq!(parse("REGEDIT4\n"), Err(RegReadError::NoHeader));
        for (body, problem) in [
            ("\"a\"=\"x\"", LineProblem::ValueOutsideKey),
            ("[K]\n\"a\"=dword:1", LineProblem::BadDword),
            ("[K]\n\"a\"=hex:1,zz", LineProblem::BadHex),
            ("[K]\n\"a=\"x\"", LineProblem::Unrecognised),
            ("[K]\n\"a\"=\"x", LineProblem::UnterminatedString),
            ("[-K]", LineProblem::Deletion),
            ("[K]\n\"a\"=-", LineProblem::Deletion),
        ] {
            match parse(&format!("{h}{body}\n")) {
                Err(RegReadError::Line { problem: p, .. }) => assert_eq!(p, problem, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert_eq!(decode(&[0xFF, 0xFE, 0x41]), Err(RegReadError::NotUtf16));
    }
}
