//! Byte-level encoding of regf structures: the base block, hive bins, and the cell records
//! (`nk`, `vk`, `lh`, `ri`, `sk`, `db`), following Suhanov's "Windows registry file format
//! specification".

/// Size of a primary file's base block; hive-bin offsets are relative to its end.
pub const BASE_BLOCK_LEN: usize = 4096;
/// Hive bins are multiples of this.
pub const HBIN_ALIGN: usize = 4096;
const HBIN_HEADER_LEN: usize = 32;
/// Largest value data stored in one cell when the hive has big-data support (minor >= 4).
pub const BIG_DATA_SEGMENT: usize = 16344;
/// "No cell" marker in offset fields.
pub const NIL: u32 = 0xFFFF_FFFF;

pub fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
pub fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
pub fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
/// Reads a little-endian u32; bytes past the end read as zero (callers pass their own fixtures).
pub fn get_u32(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    for (i, slot) in b.iter_mut().enumerate() {
        *slot = buf.get(at + i).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}
pub fn get_u64(buf: &[u8], at: usize) -> u64 {
    u64::from(get_u32(buf, at)) | (u64::from(get_u32(buf, at + 4)) << 32)
}

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// XOR-32 of the first 508 bytes, with Windows' two reserved results remapped
/// (0 -> 1, 0xFFFFFFFF -> 0xFFFFFFFE), as nt-hive and yarp check it.
pub fn base_block_checksum(block: &[u8]) -> u32 {
    let mut x = 0u32;
    for i in (0..508).step_by(4) {
        x ^= get_u32(block, i);
    }
    match x {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        v => v,
    }
}

/// Recomputes and stores the checksum at offset 508.
pub fn fix_checksum(block: &mut [u8]) {
    let c = base_block_checksum(block);
    put_u32(block, 508, c);
}

/// Fields of a base block that the builder and the log writers set.
pub struct BaseBlock<'a> {
    pub seq1: u32,
    pub seq2: u32,
    pub timestamp: u64,
    pub minor: u32,
    pub file_type: u32,
    pub root: u32,
    pub bins_len: u32,
    pub file_name: &'a str,
}

impl BaseBlock<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; BASE_BLOCK_LEN];
        b[0..4].copy_from_slice(b"regf");
        put_u32(&mut b, 4, self.seq1);
        put_u32(&mut b, 8, self.seq2);
        put_u64(&mut b, 12, self.timestamp);
        put_u32(&mut b, 20, 1);
        put_u32(&mut b, 24, self.minor);
        put_u32(&mut b, 28, self.file_type);
        put_u32(&mut b, 32, 1); // direct memory load
        put_u32(&mut b, 36, self.root);
        put_u32(&mut b, 40, self.bins_len);
        put_u32(&mut b, 44, 1); // clustering factor
                                // Windows keeps the last 31 UTF-16 units of the path, NUL-terminated, in 64 bytes.
        let units: Vec<u16> = self.file_name.encode_utf16().collect();
        let tail = &units[units.len().saturating_sub(31)..];
        for (i, u) in tail.iter().enumerate() {
            put_u16(&mut b, 48 + 2 * i, *u);
        }
        fix_checksum(&mut b);
        b
    }
}

/// Appends cells into hive bins. Each cell is sized up front, so offsets are known before
/// the records that point at them are written.
pub struct Bins {
    data: Vec<u8>,
    cursor: usize,
    timestamp: u64,
}

impl Bins {
    pub fn new(timestamp: u64) -> Self {
        let mut b = Bins {
            data: Vec::new(),
            cursor: 0,
            timestamp,
        };
        b.open_bin(HBIN_ALIGN);
        b
    }

    fn open_bin(&mut self, size: usize) {
        let start = self.data.len();
        self.data.resize(start + size, 0);
        self.data[start..start + 4].copy_from_slice(b"hbin");
        put_u32(&mut self.data, start + 4, start as u32);
        put_u32(&mut self.data, start + 8, size as u32);
        if start == 0 {
            // The first bin's timestamp backs up the base block's.
            put_u64(&mut self.data, start + 20, self.timestamp);
        }
        self.cursor = start + HBIN_HEADER_LEN;
    }

    /// Marks the rest of the current bin as one free cell (positive size).
    fn close_bin(&mut self) {
        let rest = self.data.len() - self.cursor;
        if rest > 0 {
            put_u32(&mut self.data, self.cursor, rest as u32);
            self.cursor += rest;
        }
    }

    /// Reserves an allocated cell able to hold `payload` bytes; returns its offset.
    pub fn alloc(&mut self, payload: usize) -> u32 {
        let size = round_up(payload + 4, 8);
        if self.cursor + size > self.data.len() {
            self.close_bin();
            self.open_bin(round_up(size + HBIN_HEADER_LEN, HBIN_ALIGN));
        }
        let off = self.cursor;
        put_u32(&mut self.data, off, (-(size as i32)) as u32);
        self.cursor += size;
        off as u32
    }

    /// Writes a cell's payload (after its 4-byte size field).
    pub fn put(&mut self, cell: u32, payload: &[u8]) {
        let at = cell as usize + 4;
        self.data[at..at + payload.len()].copy_from_slice(payload);
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.close_bin();
        self.data
    }
}

/// A key or value name as stored: Latin-1 bytes when every char fits (the "compressed"
/// flag), UTF-16LE otherwise.
pub struct StoredName {
    pub bytes: Vec<u8>,
    pub compressed: bool,
    /// Length in bytes as UTF-16, which the `nk` "largest name" fields count.
    pub utf16_len: u32,
}

pub fn stored_name(name: &str) -> StoredName {
    let units: Vec<u16> = name.encode_utf16().collect();
    let utf16_len = (units.len() * 2) as u32;
    if units.iter().all(|u| *u <= 0xFF) {
        StoredName {
            bytes: units.iter().map(|u| *u as u8).collect(),
            compressed: true,
            utf16_len,
        }
    } else {
        StoredName {
            bytes: utf16le(name),
            compressed: false,
            utf16_len,
        }
    }
}

pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Uppercases one UTF-16 code unit the way the kernel's upcase table does for the common
/// cases: a simple one-to-one mapping inside the BMP, else unchanged.
fn upcase_unit(u: u16) -> u16 {
    let Some(c) = char::from_u32(u32::from(u)) else {
        return u;
    };
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(one), None) if (one as u32) <= 0xFFFF => one as u32 as u16,
        _ => u,
    }
}

/// The key used to order subkey lists (ascending by uppercased UTF-16 code units).
pub fn sort_key(name: &str) -> Vec<u16> {
    name.encode_utf16().map(upcase_unit).collect()
}

/// `lh` hash: H = 37 * H + C over the uppercased UTF-16 code units.
pub fn name_hash(name: &str) -> u32 {
    sort_key(name)
        .iter()
        .fold(0u32, |h, c| h.wrapping_mul(37).wrapping_add(u32::from(*c)))
}

/// Fields of an `nk` record.
pub struct Nk<'a> {
    pub flags: u16,
    pub timestamp: u64,
    pub parent: u32,
    pub subkey_count: u32,
    pub subkeys: u32,
    pub value_count: u32,
    pub values: u32,
    pub security: u32,
    pub class: u32,
    pub class_len: u16,
    pub max_subkey_name: u32,
    pub max_subkey_class: u32,
    pub max_value_name: u32,
    pub max_value_data: u32,
    pub name: &'a StoredName,
}

pub const KEY_HIVE_ENTRY: u16 = 0x0004;
pub const KEY_NO_DELETE: u16 = 0x0008;
pub const KEY_COMP_NAME: u16 = 0x0020;

pub fn nk_len(name: &StoredName) -> usize {
    76 + name.bytes.len()
}

impl Nk<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; nk_len(self.name)];
        b[0..2].copy_from_slice(b"nk");
        put_u16(&mut b, 2, self.flags);
        put_u64(&mut b, 4, self.timestamp);
        put_u32(&mut b, 16, self.parent);
        put_u32(&mut b, 20, self.subkey_count);
        put_u32(&mut b, 28, self.subkeys);
        put_u32(&mut b, 32, NIL); // volatile subkeys are never on disk
        put_u32(&mut b, 36, self.value_count);
        put_u32(&mut b, 40, self.values);
        put_u32(&mut b, 44, self.security);
        put_u32(&mut b, 48, self.class);
        put_u32(&mut b, 52, self.max_subkey_name);
        put_u32(&mut b, 56, self.max_subkey_class);
        put_u32(&mut b, 60, self.max_value_name);
        put_u32(&mut b, 64, self.max_value_data);
        put_u16(&mut b, 72, self.name.bytes.len() as u16);
        put_u16(&mut b, 74, self.class_len);
        b[76..].copy_from_slice(&self.name.bytes);
        b
    }
}

pub fn vk_len(name: &StoredName) -> usize {
    20 + name.bytes.len()
}

/// A `vk` record. `data_field` is either a cell offset or the inline bytes (<= 4 bytes, in
/// which case the top bit of the size is set).
pub fn vk(
    name: &StoredName,
    data_len: usize,
    inline: bool,
    data_field: u32,
    reg_type: u32,
) -> Vec<u8> {
    let mut b = vec![0u8; vk_len(name)];
    b[0..2].copy_from_slice(b"vk");
    put_u16(&mut b, 2, name.bytes.len() as u16);
    let size = data_len as u32 | if inline { 0x8000_0000 } else { 0 };
    put_u32(&mut b, 4, size);
    put_u32(&mut b, 8, data_field);
    put_u32(&mut b, 12, reg_type);
    put_u16(&mut b, 16, u16::from(name.compressed));
    b[20..].copy_from_slice(&name.bytes);
    b
}

/// `lh` leaf: (key node offset, name hash) pairs, already sorted by the caller.
pub fn lh(items: &[(u32, u32)]) -> Vec<u8> {
    let mut b = vec![0u8; 4 + 8 * items.len()];
    b[0..2].copy_from_slice(b"lh");
    put_u16(&mut b, 2, items.len() as u16);
    for (i, (off, hash)) in items.iter().enumerate() {
        put_u32(&mut b, 4 + 8 * i, *off);
        put_u32(&mut b, 8 + 8 * i, *hash);
    }
    b
}

/// `ri` index root over several leaves.
pub fn ri(leaves: &[u32]) -> Vec<u8> {
    let mut b = vec![0u8; 4 + 4 * leaves.len()];
    b[0..2].copy_from_slice(b"ri");
    put_u16(&mut b, 2, leaves.len() as u16);
    for (i, off) in leaves.iter().enumerate() {
        put_u32(&mut b, 4 + 4 * i, *off);
    }
    b
}

/// A plain list of u32 offsets (value lists, big-data segment lists).
pub fn offset_list(items: &[u32]) -> Vec<u8> {
    items.iter().flat_map(|o| o.to_le_bytes()).collect()
}

/// `db` big-data header.
pub fn db(segments: u16, list: u32) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    b[0..2].copy_from_slice(b"db");
    put_u16(&mut b, 2, segments);
    put_u32(&mut b, 4, list);
    b
}

/// `sk` record that is the only entry of the hive's security list (flink = blink = itself).
pub fn sk(own: u32, refcount: u32, descriptor: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 20 + descriptor.len()];
    b[0..2].copy_from_slice(b"sk");
    put_u32(&mut b, 4, own);
    put_u32(&mut b, 8, own);
    put_u32(&mut b, 12, refcount);
    put_u32(&mut b, 16, descriptor.len() as u32);
    b[20..].copy_from_slice(descriptor);
    b
}

fn sid(authority: u8, subs: &[u32]) -> Vec<u8> {
    let mut b = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, authority];
    for s in subs {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

/// Self-relative security descriptor like the one on a stock hive root: owner
/// Administrators, group SYSTEM, DACL: SYSTEM and Administrators full control, Users read,
/// all inherited by subkeys (CONTAINER_INHERIT).
pub fn default_security_descriptor() -> Vec<u8> {
    const KEY_ALL_ACCESS: u32 = 0x000F_003F;
    const KEY_READ: u32 = 0x0002_0019;
    let system = sid(5, &[18]);
    let admins = sid(5, &[32, 544]);
    let users = sid(5, &[32, 545]);
    let mut aces = Vec::new();
    for (mask, who) in [
        (KEY_ALL_ACCESS, &system),
        (KEY_ALL_ACCESS, &admins),
        (KEY_READ, &users),
    ] {
        let size = 8 + who.len();
        aces.push(0u8); // ACCESS_ALLOWED_ACE_TYPE
        aces.push(0x02); // CONTAINER_INHERIT_ACE
        aces.extend_from_slice(&(size as u16).to_le_bytes());
        aces.extend_from_slice(&mask.to_le_bytes());
        aces.extend_from_slice(who);
    }
    let mut acl = vec![2u8, 0]; // ACL_REVISION
    acl.extend_from_slice(&((8 + aces.len()) as u16).to_le_bytes());
    acl.extend_from_slice(&3u16.to_le_bytes());
    acl.extend_from_slice(&0u16.to_le_bytes());
    acl.extend_from_slice(&aces);

    let dacl_at = 20u32;
    let owner_at = dacl_at + acl.len() as u32;
    let group_at = owner_at + admins.len() as u32;
    let mut sd = vec![1u8, 0]; // revision, sbz1
    sd.extend_from_slice(&0x8004u16.to_le_bytes()); // SE_SELF_RELATIVE | SE_DACL_PRESENT
    sd.extend_from_slice(&owner_at.to_le_bytes());
    sd.extend_from_slice(&group_at.to_le_bytes());
    sd.extend_from_slice(&0u32.to_le_bytes()); // no SACL
    sd.extend_from_slice(&dacl_at.to_le_bytes());
    sd.extend_from_slice(&acl);
    sd.extend_from_slice(&admins);
    sd.extend_from_slice(&system);
    sd
}
