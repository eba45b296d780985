//! Readers used to check the writer: raw-byte walkers written from the spec, nt-hive
//! lookups, and the hivex command-line tools.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use fixtures::regf::{marvin32, LOG_ENTRY_SEED};
use nt_hive::{KeyNode, NtHiveError};

/// One value the built hive must contain.
pub struct Expect {
    pub path: String,
    pub name: String,
    pub reg_type: u32,
    pub data: Vec<u8>,
}

impl Expect {
    pub fn new(path: &str, name: &str, reg_type: u32, data: Vec<u8>) -> Self {
        Expect {
            path: path.to_owned(),
            name: name.to_owned(),
            reg_type,
            data,
        }
    }

    fn utf16_strings(&self) -> Vec<String> {
        let units: Vec<u16> = self
            .data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        units
            .split(|u| *u == 0)
            .map(String::from_utf16_lossy)
            .collect()
    }

    /// What `hivexget FILE PATH NAME` prints for this value (hivexsh's `lsval NAME`).
    pub fn hivex_rendering(&self) -> Vec<u8> {
        let d = &self.data;
        let text = match self.reg_type {
            1 | 2 | 6 => format!("{}\n", self.utf16_strings()[0]),
            4 => format!("{}\n", i32::from_le_bytes([d[0], d[1], d[2], d[3]])),
            5 => format!("{}\n", i32::from_be_bytes([d[0], d[1], d[2], d[3]])),
            11 => format!("{}\n", i64::from_le_bytes(d[..8].try_into().unwrap())),
            7 => {
                let strings = self.utf16_strings();
                let live = strings.iter().take_while(|s| !s.is_empty());
                live.map(|s| format!("{s}\n")).collect::<String>() + "\n"
            }
            _ => return d.clone(),
        };
        text.into_bytes()
    }
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The hive bins data of a primary file, by its header's size field.
pub fn bins(hive: &[u8]) -> &[u8] {
    &hive[4096..4096 + u32_at(hive, 40) as usize]
}

/// Walks every hbin and cell, asserting the spec's framing rules; returns (offset, size).
pub fn cells_of(hive: &[u8]) -> Vec<(usize, i32)> {
    let data = bins(hive);
    let mut out = Vec::new();
    let mut bin = 0;
    while bin < data.len() {
        assert_eq!(&data[bin..bin + 4], b"hbin", "hbin at {bin:#x}");
        assert_eq!(u32_at(data, bin + 4) as usize, bin, "hbin offset field");
        let size = u32_at(data, bin + 8) as usize;
        assert!(size >= 4096 && size % 4096 == 0, "hbin size {size}");
        let mut at = bin + 32;
        while at < bin + size {
            let cell = u32_at(data, at) as i32;
            let len = cell.unsigned_abs() as usize;
            assert!(
                len >= 8 && len % 8 == 0 && at + len <= bin + size,
                "cell at {at:#x} size {cell}"
            );
            out.push((at, cell));
            at += len;
        }
        assert_eq!(at, bin + size, "cells fill hbin {bin:#x}");
        bin += size;
    }
    out
}

/// Offset of the allocated `nk` cell with this (Latin-1) name.
pub fn nk_offset_of(hive: &[u8], name: &str) -> u32 {
    let data = bins(hive);
    cells_of(hive)
        .into_iter()
        .find(|(at, size)| {
            let c = &data[*at + 4..];
            *size < 0 && &c[..2] == b"nk" && {
                let len = u16::from_le_bytes([c[72], c[73]]) as usize;
                &c[76..76 + len] == name.as_bytes()
            }
        })
        .map(|(at, _)| at as u32)
        .unwrap_or_else(|| panic!("no nk named {name}"))
}

/// Checks one expected value through nt-hive: name, type and data.
pub fn nt_hive_value(root: &KeyNode<&[u8]>, x: &Expect) {
    let key = if x.path.is_empty() {
        root.clone()
    } else {
        root.subpath(&x.path).unwrap().unwrap()
    };
    let v = key
        .value(&x.name)
        .unwrap_or_else(|| panic!("nt-hive finds {}\\{:?}", x.path, x.name))
        .unwrap();
    assert_eq!(v.name().unwrap().to_string_lossy(), x.name);
    let ty = match v.data_type() {
        Ok(t) => t as u32,
        Err(NtHiveError::UnsupportedKeyValueDataType { actual, .. }) => actual,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(ty, x.reg_type, "type of {}\\{:?}", x.path, x.name);
    assert!(
        v.data().unwrap().into_vec().unwrap() == x.data,
        "data of {}\\{:?}",
        x.path,
        x.name
    );
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}); install Debian's libhivex-bin"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn hivexml(hive: &Path) -> String {
    String::from_utf8(run("hivexml", &[hive.as_os_str()])).unwrap()
}

fn key_arg(path: &str) -> &str {
    if path.is_empty() {
        "\\"
    } else {
        path
    }
}

/// Value data as printed by `hivexget FILE PATH NAME`.
pub fn hivex_value(hive: &Path, x: &Expect) -> Vec<u8> {
    run(
        "hivexget",
        &[hive.as_os_str(), key_arg(&x.path).as_ref(), x.name.as_ref()],
    )
}

/// Value name -> type number, from the regedit-style listing of `hivexget FILE PATH`.
pub fn hivex_types(hive: &Path, path: &str) -> HashMap<String, u32> {
    let listing =
        String::from_utf8(run("hivexget", &[hive.as_os_str(), key_arg(path).as_ref()])).unwrap();
    let mut out = HashMap::new();
    for line in listing.lines().filter(|l| l.starts_with('"')) {
        let mut name = String::new();
        let mut chars = line[1..].char_indices();
        let mut rest = "";
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => name.extend(chars.next().map(|(_, c)| c)),
                '"' => {
                    rest = &line[1 + i + 1..];
                    break;
                }
                c => name.push(c),
            }
        }
        let rest = rest
            .strip_prefix('=')
            .unwrap_or_else(|| panic!("listing line {line:?}"));
        let number = |s: &str| s[..s.find(')').unwrap()].parse::<u32>().unwrap();
        let ty = if rest.starts_with('"') {
            1
        } else if rest.starts_with("dword:") {
            4
        } else if rest.starts_with("hex:") {
            3
        } else if let Some(n) = rest
            .strip_prefix("hex(")
            .or_else(|| rest.strip_prefix("str("))
        {
            number(n)
        } else {
            panic!("listing line {line:?}")
        };
        out.insert(if name == "@" { String::new() } else { name }, ty);
    }
    out
}

/// A parsed `HvLE` log entry.
pub struct Entry {
    pub at: usize,
    pub size: usize,
    pub seq: u32,
    pub bins_len: u32,
    pub hashes_ok: bool,
    /// (offset in hive bins data, page bytes)
    pub pages: Vec<(usize, Vec<u8>)>,
}

/// The consecutive `HvLE` entries of a new-format log, from offset 512.
pub fn hvle_entries(log: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut at = 512;
    while at + 40 <= log.len() && &log[at..at + 4] == b"HvLE" {
        let size = u32_at(log, at + 4) as usize;
        if size < 40 || at + size > log.len() {
            break;
        }
        let e = &log[at..at + size];
        let hashes_ok = marvin32(LOG_ENTRY_SEED, &e[40..]) == u64_at(e, 24)
            && marvin32(LOG_ENTRY_SEED, &e[..32]) == u64_at(e, 32);
        let count = u32_at(e, 20) as usize;
        let mut pages = Vec::new();
        let mut data_at = 40 + 8 * count;
        for i in 0..count {
            let (off, len) = (
                u32_at(e, 40 + 8 * i) as usize,
                u32_at(e, 44 + 8 * i) as usize,
            );
            if let Some(page) = e.get(data_at..data_at + len) {
                pages.push((off, page.to_vec()));
            }
            data_at += len;
        }
        out.push(Entry {
            at,
            size,
            seq: u32_at(e, 12),
            bins_len: u32_at(e, 16),
            hashes_ok,
            pages,
        });
        at += size;
    }
    out
}
