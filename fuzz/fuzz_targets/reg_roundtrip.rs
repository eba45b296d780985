//! The `.reg` writer against a reader of regedit's format: every key and value it writes
//! reads back the same (names, types, bytes), and names that regedit's format cannot carry
//! (line breaks, NUL: they would start a new key or value on import, e.g. an
//! `HKEY_LOCAL_MACHINE\...\Run` entry smuggled in by a hostile hive) are left out whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat::hive::{Value, ValueType};
use lifeboat::regfile::{representable, RegFile};

type Key = (String, Vec<(String, u32, Vec<u8>)>);

fuzz_target!(|input: Vec<(String, Vec<(String, u8, Vec<u8>)>)>| {
    let mut reg = RegFile::new();
    let mut expected: Vec<Key> = Vec::new();
    for (name, values) in input.into_iter().take(16) {
        let path = format!(r"HKEY_CURRENT_USER\{name}");
        let values: Vec<Value> = values
            .into_iter()
            .take(16)
            .map(|(name, t, data)| Value {
                name,
                // 0..=11 are Windows' types; 12 stands for a number it does not define.
                kind: ValueType::from_code(u32::from(t % 13)),
                data,
            })
            .collect();
        reg.key(&path, &values);
        if representable(&path) {
            let kept = values
                .iter()
                .filter(|v| representable(&v.name))
                .map(|v| {
                    (
                        v.name.clone(),
                        v.kind.map_or(0, |k| k.code()),
                        v.data.clone(),
                    )
                })
                .collect();
            expected.push((path, kept));
        }
    }
    let text = reg.text();
    let utf16 = reg.to_utf16le();
    assert_eq!(&utf16[..2], &[0xFF, 0xFE]);
    let got = read(text).unwrap_or_else(|e| panic!("{e}\n{text:?}"));
    assert_eq!(got, expected, "{text:?}");
});

/// regedit's format as `reg import` reads it (the subset the writer uses).
fn read(text: &str) -> Result<Vec<Key>, String> {
    let mut lines = text.split("\r\n");
    if lines.next() != Some("Windows Registry Editor Version 5.00") {
        return Err("no header".into());
    }
    let mut keys: Vec<Key> = Vec::new();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some(path) = line.strip_prefix('[') {
            let path = path.strip_suffix(']').ok_or("unclosed key")?;
            keys.push((path.to_string(), Vec::new()));
            continue;
        }
        let (name, body) = if let Some(body) = line.strip_prefix("@=") {
            (String::new(), body.to_string())
        } else {
            let (name, rest) = quoted(line.strip_prefix('"').ok_or("no value name")?)?;
            (name, rest.strip_prefix('=').ok_or("no =")?.to_string())
        };
        let mut body = body;
        while body.ends_with('\\') && body.contains("hex") {
            body.pop();
            body.push_str(lines.next().ok_or("continued past the end")?.trim_start());
        }
        let value = if let Some(s) = body.strip_prefix('"') {
            let (s, rest) = quoted(s)?;
            if !rest.is_empty() {
                return Err(format!("text after a string: {rest}"));
            }
            let data = s
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect();
            (name, 1, data)
        } else if let Some(h) = body.strip_prefix("dword:") {
            let d = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
            (name, 4, d.to_le_bytes().to_vec())
        } else if let Some(h) = body.strip_prefix("hex:") {
            (name, 3, hex(h)?)
        } else if let Some(h) = body.strip_prefix("hex(") {
            let (t, h) = h.split_once("):").ok_or("bad hex(")?;
            (
                name,
                u32::from_str_radix(t, 16).map_err(|e| e.to_string())?,
                hex(h)?,
            )
        } else {
            return Err(format!("unknown value body {body}"));
        };
        keys.last_mut().ok_or("value before any key")?.1.push(value);
    }
    Ok(keys)
}

/// The text up to the closing quote (`\\` and `\"` unescaped) and what follows it.
fn quoted(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('\\' | '"'))) => out.push(e),
                other => return Err(format!("bad escape {other:?}")),
            },
            '"' => return Ok((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    Err("unclosed quote".into())
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("{b}: {e}")))
        .collect()
}
