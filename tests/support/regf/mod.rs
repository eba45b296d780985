//! A registry hive (regf) writer for test fixtures, after Maxim Suhanov's "Windows registry
//! file format specification": base block, 4 KiB hive bins, `nk`/`vk`/`lh`/`ri`/`sk`/`db`
//! cells. Every hive it writes is read back by Debian's `hivexml` in `tests/hive_writer.rs`,
//! an independent reader. [`logs`] makes dirty hives with transaction logs.

mod cells;
pub mod logs;

pub use logs::{make_dirty, DirtyHive, LogFormat};

use cells::Layout;

pub const REG_NONE: u32 = 0;
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_MULTI_SZ: u32 = 7;
pub const REG_QWORD: u32 = 11;

#[derive(Debug, Clone, Default)]
pub(crate) struct KeyData {
    pub name: String,
    pub class: Option<String>,
    pub last_written: u64,
    pub values: Vec<(String, u32, Vec<u8>)>,
    pub children: Vec<KeyData>,
}

impl KeyData {
    fn child_mut(&mut self, name: &str) -> &mut KeyData {
        let pos = match self
            .children
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
        {
            Some(p) => p,
            None => {
                self.children.push(KeyData {
                    name: name.to_string(),
                    last_written: self.last_written,
                    ..Default::default()
                });
                self.children.len() - 1
            }
        };
        &mut self.children[pos]
    }

    fn at_path(&mut self, path: &str) -> &mut KeyData {
        let mut k = self;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            k = k.child_mut(part);
        }
        k
    }
}

/// Builds a hive in memory; [`HiveBuilder::to_bytes`] lays it out.
#[derive(Debug, Clone)]
pub struct HiveBuilder {
    root: KeyData,
    file_name: String,
    timestamp: u64,
    sequence: u32,
    minor: u32,
}

/// A key being filled; every method returns the handle so calls chain.
pub struct KeyHandle<'a> {
    key: &'a mut KeyData,
}

pub fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

impl HiveBuilder {
    pub fn new(root_name: &str) -> Self {
        HiveBuilder {
            root: KeyData {
                name: root_name.to_string(),
                last_written: 132_000_000_000_000_000,
                ..Default::default()
            },
            file_name: String::new(),
            timestamp: 132_000_000_000_000_000,
            sequence: 20,
            minor: 5,
        }
    }

    /// The key at `path` (created with its parents when missing); "" is the root.
    pub fn key(&mut self, path: &str) -> KeyHandle<'_> {
        KeyHandle {
            key: self.root.at_path(path),
        }
    }

    /// Header `FileName`: Windows keeps the last 31 characters of the hive's path.
    pub fn file_name(&mut self, name: &str) -> &mut Self {
        self.file_name = name.to_string();
        self
    }

    pub fn timestamp(&mut self, filetime: u64) -> &mut Self {
        self.timestamp = filetime;
        self
    }

    pub fn sequence(&mut self, seq: u32) -> &mut Self {
        self.sequence = seq;
        self
    }

    /// Format version 1.3 (Windows XP to 7 hives: no big-data records) or 1.5.
    pub fn minor_version(&mut self, minor: u32) -> &mut Self {
        self.minor = minor;
        self
    }

    /// The hive file: consistent (equal sequence numbers, right checksum).
    pub fn to_bytes(&self) -> Vec<u8> {
        let layout = Layout::build(&self.root, self.minor >= 4);
        let data = layout.bins(self.timestamp);
        let mut out = base_block(&BaseBlock {
            seq1: self.sequence,
            seq2: self.sequence,
            timestamp: self.timestamp,
            minor: self.minor,
            file_type: 0,
            root: layout.root_offset,
            bins_size: data.len() as u32,
            file_name: &self.file_name,
        });
        out.extend_from_slice(&data);
        out
    }
}

impl<'a> KeyHandle<'a> {
    pub fn raw(self, name: &str, reg_type: u32, data: &[u8]) -> Self {
        let values = &mut self.key.values;
        match values
            .iter_mut()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        {
            Some(v) => *v = (name.to_string(), reg_type, data.to_vec()),
            None => values.push((name.to_string(), reg_type, data.to_vec())),
        }
        self
    }
    pub fn sz(self, name: &str, v: &str) -> Self {
        self.raw(name, REG_SZ, &utf16z(v))
    }
    pub fn expand_sz(self, name: &str, v: &str) -> Self {
        self.raw(name, REG_EXPAND_SZ, &utf16z(v))
    }
    pub fn multi_sz(self, name: &str, v: &[&str]) -> Self {
        let mut data: Vec<u8> = v.iter().flat_map(|s| utf16z(s)).collect();
        data.extend_from_slice(&[0, 0]);
        self.raw(name, REG_MULTI_SZ, &data)
    }
    pub fn dword(self, name: &str, v: u32) -> Self {
        self.raw(name, REG_DWORD, &v.to_le_bytes())
    }
    pub fn qword(self, name: &str, v: u64) -> Self {
        self.raw(name, REG_QWORD, &v.to_le_bytes())
    }
    pub fn binary(self, name: &str, v: &[u8]) -> Self {
        self.raw(name, REG_BINARY, v)
    }
    /// A child key; the handle returned is the child's.
    pub fn subkey(self, name: &str) -> KeyHandle<'a> {
        KeyHandle {
            key: self.key.child_mut(name),
        }
    }
    pub fn last_written(self, filetime: u64) -> Self {
        self.key.last_written = filetime;
        self
    }
    pub fn class_name(self, class: &str) -> Self {
        self.key.class = Some(class.to_string());
        self
    }
}

pub(crate) struct BaseBlock<'a> {
    pub seq1: u32,
    pub seq2: u32,
    pub timestamp: u64,
    pub minor: u32,
    pub file_type: u32,
    pub root: u32,
    pub bins_size: u32,
    pub file_name: &'a str,
}

/// A 4096-byte base block with its checksum.
pub(crate) fn base_block(b: &BaseBlock<'_>) -> Vec<u8> {
    let mut h = vec![0u8; 4096];
    h[0..4].copy_from_slice(b"regf");
    h[4..8].copy_from_slice(&b.seq1.to_le_bytes());
    h[8..12].copy_from_slice(&b.seq2.to_le_bytes());
    h[12..20].copy_from_slice(&b.timestamp.to_le_bytes());
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[24..28].copy_from_slice(&b.minor.to_le_bytes());
    h[28..32].copy_from_slice(&b.file_type.to_le_bytes());
    h[32..36].copy_from_slice(&1u32.to_le_bytes());
    h[36..40].copy_from_slice(&b.root.to_le_bytes());
    h[40..44].copy_from_slice(&b.bins_size.to_le_bytes());
    h[44..48].copy_from_slice(&1u32.to_le_bytes());
    let name: Vec<u16> = b.file_name.encode_utf16().collect();
    let name = &name[name.len().saturating_sub(31)..];
    for (i, u) in name.iter().enumerate() {
        h[48 + 2 * i..50 + 2 * i].copy_from_slice(&u.to_le_bytes());
    }
    set_checksum(&mut h);
    h
}

pub(crate) fn set_checksum(h: &mut [u8]) {
    let mut sum = 0u32;
    for c in h[..508].chunks_exact(4) {
        sum ^= u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    let sum = match sum {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        s => s,
    };
    h[508..512].copy_from_slice(&sum.to_le_bytes());
}
