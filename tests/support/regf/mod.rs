//! A registry hive (regf) writer for test fixtures, plus dirty-hive/transaction-log makers.
//!
//! ```ignore
//! let mut b = HiveBuilder::new("ROOT");
//! b.key(r"Software\Vendor").sz("Name", "x").dword("Count", 3);
//! let clean: Vec<u8> = b.to_bytes();
//! ```
//! Layout follows Suhanov's "Windows registry file format specification" (msuhanov/regf).

mod cells;
mod logs;
mod marvin;

use cells::Bins;

pub use cells::{base_block_checksum, name_hash, BASE_BLOCK_LEN, BIG_DATA_SEGMENT};
pub use logs::{make_dirty, make_dirty_with, DirtyHive, Log2, LogFormat};
pub use marvin::{marvin32, LOG_ENTRY_SEED};

pub const REG_NONE: u32 = 0;
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_DWORD_BIG_ENDIAN: u32 = 5;
pub const REG_LINK: u32 = 6;
pub const REG_MULTI_SZ: u32 = 7;
pub const REG_QWORD: u32 = 11;

/// 2024-01-01T00:00:00Z as a FILETIME: a fixed default keeps fixtures reproducible.
pub const DEFAULT_FILETIME: u64 = 133_485_408_000_000_000;

/// Subkey lists longer than this are split into several `lh` leaves under an `ri` root.
const MAX_LEAF: usize = 512;

struct Value {
    name: String,
    reg_type: u32,
    data: Vec<u8>,
}

struct Key {
    name: String,
    class: Option<String>,
    last_written: Option<u64>,
    values: Vec<Value>,
    children: Vec<usize>,
    /// Keys listed in this key's subkey list besides its children: the key itself or an
    /// ancestor, as a damaged or hostile hive loops (see [`KeyHandle::link_to`]).
    links: Vec<usize>,
}

impl Key {
    fn new(name: &str) -> Self {
        Key {
            name: name.to_owned(),
            class: None,
            last_written: None,
            values: Vec::new(),
            children: Vec::new(),
            links: Vec::new(),
        }
    }
}

/// Builds a hive in memory; `to_bytes` serialises it as a clean primary file.
pub struct HiveBuilder {
    keys: Vec<Key>, // keys[0] is the root
    file_name: String,
    timestamp: u64,
    sequence: u32,
    minor: u32,
}

impl HiveBuilder {
    /// `root_name`: stored name of the root key (e.g. "ROOT", "CMI-CreateHive{...}").
    pub fn new(root_name: &str) -> Self {
        HiveBuilder {
            keys: vec![Key::new(root_name)],
            file_name: String::new(),
            timestamp: DEFAULT_FILETIME,
            sequence: 1,
            minor: 5,
        }
    }

    /// Creates the key (and its parents) if missing; `path` is backslash separated,
    /// relative to the root ("" = root). Existing keys are matched case-insensitively.
    pub fn key(&mut self, path: &str) -> KeyHandle<'_> {
        let mut idx = 0;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            idx = self.child(idx, part);
        }
        KeyHandle { b: self, idx }
    }

    fn child(&mut self, parent: usize, name: &str) -> usize {
        let want = cells::sort_key(name);
        let found = self.keys[parent]
            .children
            .iter()
            .copied()
            .find(|c| cells::sort_key(&self.keys[*c].name) == want);
        found.unwrap_or_else(|| {
            self.keys.push(Key::new(name));
            let idx = self.keys.len() - 1;
            self.keys[parent].children.push(idx);
            idx
        })
    }

    /// Header `FileName` field (Windows keeps the last 31 UTF-16 units of the path).
    pub fn file_name(&mut self, name: &str) -> &mut Self {
        self.file_name = name.to_owned();
        self
    }

    /// Header (and first hive bin) timestamp. Keys keep [`DEFAULT_FILETIME`] unless
    /// [`KeyHandle::last_written`] says otherwise, so two builds differ only where asked.
    pub fn timestamp(&mut self, filetime: u64) -> &mut Self {
        self.timestamp = filetime;
        self
    }

    /// Both sequence numbers of the clean hive.
    pub fn sequence(&mut self, seq: u32) -> &mut Self {
        self.sequence = seq;
        self
    }

    /// Hive minor version: 5 (default, Windows XP and later) or 3 (NT 4 / 2000 style: no
    /// big-data records, large values go into one cell).
    pub fn minor_version(&mut self, minor: u32) -> &mut Self {
        self.minor = minor;
        self
    }

    /// A clean hive: equal sequence numbers, valid checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bins = Bins::new(self.timestamp);
        let root_name = cells::stored_name(&self.keys[0].name);
        // Root first, so it lands at offset 0x20 like in hives Windows writes.
        let root = bins.alloc(cells::nk_len(&root_name));
        let sd = cells::default_security_descriptor();
        let sk = bins.alloc(20 + sd.len());
        bins.put(sk, &cells::sk(sk, self.keys.len() as u32, &sd));
        let mut placed = vec![None; self.keys.len()];
        placed[0] = Some(root);
        self.emit_key(&mut bins, 0, root, 0, sk, &mut placed);
        let data = bins.finish();
        let mut out = cells::BaseBlock {
            seq1: self.sequence,
            seq2: self.sequence,
            timestamp: self.timestamp,
            minor: self.minor,
            file_type: 0,
            root,
            bins_len: data.len() as u32,
            file_name: &self.file_name,
        }
        .encode();
        out.extend_from_slice(&data);
        out
    }

    /// Writes everything a key owns, then its `nk` at the already reserved `nk_off`.
    /// `placed` holds the `nk` offsets reserved so far (the key and its ancestors among them).
    fn emit_key(
        &self,
        bins: &mut Bins,
        idx: usize,
        nk_off: u32,
        parent: u32,
        sk: u32,
        placed: &mut [Option<u32>],
    ) {
        let key = &self.keys[idx];
        let name = cells::stored_name(&key.name);

        let (class, class_len) = match &key.class {
            Some(c) => {
                let bytes = cells::utf16le(c);
                let off = bins.alloc(bytes.len());
                bins.put(off, &bytes);
                (off, bytes.len() as u16)
            }
            None => (cells::NIL, 0),
        };

        let (values, max_value_name, max_value_data) = self.emit_values(bins, &key.values);

        let mut children = key.children.clone();
        children.sort_by_cached_key(|c| cells::sort_key(&self.keys[*c].name));
        let mut items = Vec::with_capacity(children.len() + key.links.len());
        for c in &children {
            let child_name = cells::stored_name(&self.keys[*c].name);
            let off = bins.alloc(cells::nk_len(&child_name));
            placed[*c] = Some(off);
            self.emit_key(bins, *c, off, nk_off, sk, placed);
            items.push((off, *c));
        }
        for l in &key.links {
            let off = placed[*l].expect("a link points to the key itself or an ancestor");
            items.push((off, *l));
        }
        // Subkey lists are sorted by name, links among the children.
        items.sort_by_cached_key(|(_, k)| cells::sort_key(&self.keys[*k].name));
        let children: Vec<usize> = items.iter().map(|(_, k)| *k).collect();
        let items: Vec<(u32, u32)> = items
            .iter()
            .map(|(off, k)| (*off, cells::name_hash(&self.keys[*k].name)))
            .collect();
        let subkeys = emit_subkey_list(bins, &items);

        let mut flags = if name.compressed {
            cells::KEY_COMP_NAME
        } else {
            0
        };
        if idx == 0 {
            flags |= cells::KEY_HIVE_ENTRY | cells::KEY_NO_DELETE;
        }
        let nk = cells::Nk {
            flags,
            timestamp: key.last_written.unwrap_or(DEFAULT_FILETIME),
            parent,
            subkey_count: children.len() as u32,
            subkeys,
            value_count: key.values.len() as u32,
            values,
            security: sk,
            class,
            class_len,
            max_subkey_name: children
                .iter()
                .map(|c| cells::stored_name(&self.keys[*c].name).utf16_len)
                .max()
                .unwrap_or(0),
            max_subkey_class: children
                .iter()
                .map(|c| {
                    self.keys[*c]
                        .class
                        .as_ref()
                        .map_or(0, |s| s.encode_utf16().count() as u32 * 2)
                })
                .max()
                .unwrap_or(0),
            max_value_name,
            max_value_data,
            name: &name,
        };
        bins.put(nk_off, &nk.encode());
    }

    /// Returns (values list offset, largest name length, largest data size).
    fn emit_values(&self, bins: &mut Bins, values: &[Value]) -> (u32, u32, u32) {
        if values.is_empty() {
            return (cells::NIL, 0, 0);
        }
        let list = bins.alloc(4 * values.len());
        let mut offsets = Vec::with_capacity(values.len());
        let (mut max_name, mut max_data) = (0, 0);
        for v in values {
            let name = cells::stored_name(&v.name);
            max_name = max_name.max(name.utf16_len);
            max_data = max_data.max(v.data.len() as u32);
            let vk = bins.alloc(cells::vk_len(&name));
            let (inline, field) = self.emit_data(bins, &v.data);
            bins.put(
                vk,
                &cells::vk(&name, v.data.len(), inline, field, v.reg_type),
            );
            offsets.push(vk);
        }
        bins.put(list, &cells::offset_list(&offsets));
        (list, max_name, max_data)
    }

    /// Stores value data; returns (inline?, data offset field).
    fn emit_data(&self, bins: &mut Bins, data: &[u8]) -> (bool, u32) {
        if data.len() <= 4 {
            let mut field = [0u8; 4];
            field[..data.len()].copy_from_slice(data);
            return (true, u32::from_le_bytes(field));
        }
        if data.len() <= BIG_DATA_SEGMENT || self.minor < 4 {
            let off = bins.alloc(data.len());
            bins.put(off, data);
            return (false, off);
        }
        // Big data: segments of 16344 bytes. Each segment cell gets at least 4 spare bytes
        // (16344 -> a 16352-byte cell, as Windows allocates it), because hivex reads
        // "cell size - 8" bytes per segment.
        let mut segments = Vec::new();
        for chunk in data.chunks(BIG_DATA_SEGMENT) {
            let off = bins.alloc(chunk.len() + 4);
            bins.put(off, chunk);
            segments.push(off);
        }
        let list = bins.alloc(4 * segments.len());
        bins.put(list, &cells::offset_list(&segments));
        let db = bins.alloc(8);
        bins.put(db, &cells::db(segments.len() as u16, list));
        (false, db)
    }
}

/// One `lh` leaf, or an `ri` over several leaves when the list is long.
fn emit_subkey_list(bins: &mut Bins, items: &[(u32, u32)]) -> u32 {
    if items.is_empty() {
        return cells::NIL;
    }
    let mut leaves = Vec::new();
    for chunk in items.chunks(MAX_LEAF) {
        let leaf = cells::lh(chunk);
        let off = bins.alloc(leaf.len());
        bins.put(off, &leaf);
        leaves.push(off);
    }
    if leaves.len() == 1 {
        return leaves[0];
    }
    let root = cells::ri(&leaves);
    let off = bins.alloc(root.len());
    bins.put(off, &root);
    off
}

/// A handle on one key of a [`HiveBuilder`]; every method returns the handle for chaining.
pub struct KeyHandle<'a> {
    b: &'a mut HiveBuilder,
    idx: usize,
}

fn utf16z(s: &str) -> Vec<u8> {
    let mut v = cells::utf16le(s);
    v.extend_from_slice(&[0, 0]);
    v
}

impl KeyHandle<'_> {
    /// Any type number, any bytes. A value of the same name (case-insensitive) is replaced.
    pub fn raw(self, name: &str, reg_type: u32, data: &[u8]) -> Self {
        let want = cells::sort_key(name);
        let values = &mut self.b.keys[self.idx].values;
        let v = Value {
            name: name.to_owned(),
            reg_type,
            data: data.to_vec(),
        };
        match values.iter_mut().find(|x| cells::sort_key(&x.name) == want) {
            Some(slot) => *slot = v,
            None => values.push(v),
        }
        self
    }
    /// REG_SZ: UTF-16LE with a terminating NUL. Name "" is the default value.
    pub fn sz(self, name: &str, v: &str) -> Self {
        self.raw(name, REG_SZ, &utf16z(v))
    }
    pub fn expand_sz(self, name: &str, v: &str) -> Self {
        self.raw(name, REG_EXPAND_SZ, &utf16z(v))
    }
    /// REG_MULTI_SZ: each string NUL-terminated, then one more NUL.
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
    /// Creates (or finds) a child and returns a handle TO THE CHILD.
    pub fn subkey(self, name: &str) -> Self {
        let idx = self.b.child(self.idx, name);
        KeyHandle { b: self.b, idx }
    }
    /// Key last-written timestamp (FILETIME); defaults to [`DEFAULT_FILETIME`].
    pub fn last_written(self, filetime: u64) -> Self {
        self.b.keys[self.idx].last_written = Some(filetime);
        self
    }
    /// Key class name (SAM's JD/Skew1/GBG/Data keep boot-key parts here).
    pub fn class_name(self, class: &str) -> Self {
        self.b.keys[self.idx].class = Some(class.to_owned());
        self
    }
    /// Lists the key at `target` (root-relative; the key itself or one of its ancestors)
    /// in this key's subkey list too: the loop a damaged or hostile hive has, which hivex
    /// shows as a key containing itself.
    pub fn link_to(self, target: &str) -> Self {
        let t = self.b.key(target).idx;
        self.b.keys[self.idx].links.push(t);
        self
    }
}

/// Sets the root cell offset of a hive's base block (and its checksum): for hives whose
/// header points nowhere (0xFFFFFFFF, "no cell") or outside their data.
pub fn set_root_offset(hive: &mut [u8], offset: u32) {
    cells::put_u32(hive, 36, offset);
    cells::fix_checksum(&mut hive[..BASE_BLOCK_LEN]);
}
