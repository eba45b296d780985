//! Lays a key tree out as regf cells in 4 KiB hive bins.

use super::KeyData;

/// Largest data one cell holds before a `db` big-data record is needed.
const BIG_DATA_SEGMENT: usize = 16344;
/// Subkeys per `lh` list before an `ri` index of several lists is used.
const LH_MAX: usize = 500;
const BIN: usize = 4096;
const BIN_HEADER: usize = 32;
const NONE: u32 = 0xFFFF_FFFF;

type Id = usize;

enum Content {
    Nk {
        flags: u16,
        last_written: u64,
        parent: Option<Id>,
        subkeys: Option<Id>,
        subkey_count: u32,
        values: Option<Id>,
        value_count: u32,
        class: Option<(Id, u16)>,
        maxes: [u32; 4],
        name: Vec<u8>,
    },
    Vk {
        name: Vec<u8>,
        compressed: bool,
        size: u32,
        data: VkData,
        reg_type: u32,
    },
    Offsets(Vec<Id>),
    Lh(Vec<(Id, u32)>),
    Ri(Vec<Id>),
    Sk(Vec<u8>),
    Db {
        count: u16,
        list: Id,
    },
    Raw(Vec<u8>),
}

enum VkData {
    Inline([u8; 4]),
    Cell(Id),
}

pub struct Layout {
    cells: Vec<Content>,
    pub root_offset: u32,
    offsets: Vec<u32>,
    /// Cells in bin order: (bin start, cells in it, bin size).
    bins: Vec<(usize, Vec<Id>, usize)>,
}

/// Name as stored: Latin-1 ("compressed") when every character fits, else UTF-16LE.
fn encode_name(s: &str) -> (Vec<u8>, bool) {
    if s.chars().all(|c| (c as u32) < 256) {
        (s.chars().map(|c| c as u8).collect(), true)
    } else {
        (
            s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
            false,
        )
    }
}

/// The `lh` hash: every character upper-cased, hash = hash * 37 + char.
fn lh_hash(name: &str) -> u32 {
    name.chars()
        .flat_map(|c| c.to_uppercase())
        .fold(0u32, |h, c| h.wrapping_mul(37).wrapping_add(c as u32))
}

/// The order Windows keeps subkeys in: compared upper-cased, as UTF-16 units.
fn sort_key(name: &str) -> Vec<u16> {
    name.to_uppercase().encode_utf16().collect()
}

fn cell_body_len(c: &Content) -> usize {
    match c {
        Content::Nk { name, .. } => 76 + name.len(),
        Content::Vk { name, .. } => 20 + name.len(),
        Content::Offsets(v) => 4 * v.len(),
        Content::Lh(v) => 4 + 8 * v.len(),
        Content::Ri(v) => 4 + 4 * v.len(),
        Content::Sk(sd) => 20 + sd.len(),
        Content::Db { .. } => 12,
        Content::Raw(d) => d.len(),
    }
}

fn cell_len(c: &Content) -> usize {
    (4 + cell_body_len(c)).next_multiple_of(8).max(8)
}

/// Owner Administrators, group SYSTEM, one ACE granting Everyone full access.
fn security_descriptor() -> Vec<u8> {
    let sid = |auth: u8, subs: &[u32]| {
        let mut b = vec![1u8, subs.len() as u8, 0, 0, 0, 0, 0, auth];
        for s in subs {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    };
    let owner = sid(5, &[32, 544]);
    let group = sid(5, &[18]);
    let everyone = sid(1, &[0]);
    let ace_len = 8 + everyone.len();
    let mut ace = vec![0u8, 0x02]; // ACCESS_ALLOWED, CONTAINER_INHERIT
    ace.extend_from_slice(&(ace_len as u16).to_le_bytes());
    ace.extend_from_slice(&0x000F_003Fu32.to_le_bytes()); // KEY_ALL_ACCESS
    ace.extend_from_slice(&everyone);
    let acl_len = 8 + ace.len();
    let mut acl = vec![2u8, 0];
    acl.extend_from_slice(&(acl_len as u16).to_le_bytes());
    acl.extend_from_slice(&1u16.to_le_bytes());
    acl.extend_from_slice(&0u16.to_le_bytes());
    acl.extend_from_slice(&ace);
    let owner_off = 20u32;
    let group_off = owner_off + owner.len() as u32;
    let dacl_off = group_off + group.len() as u32;
    let mut sd = vec![1u8, 0];
    sd.extend_from_slice(&0x8004u16.to_le_bytes()); // self-relative, DACL present
    sd.extend_from_slice(&owner_off.to_le_bytes());
    sd.extend_from_slice(&group_off.to_le_bytes());
    sd.extend_from_slice(&0u32.to_le_bytes());
    sd.extend_from_slice(&dacl_off.to_le_bytes());
    sd.extend(owner);
    sd.extend(group);
    sd.extend(acl);
    sd
}

impl Layout {
    pub fn build(root: &KeyData, big_data: bool) -> Layout {
        let mut l = Layout {
            cells: vec![Content::Sk(security_descriptor())],
            root_offset: 0,
            offsets: Vec::new(),
            bins: Vec::new(),
        };
        let root_id = l.add_key(root, None, true, big_data);
        l.place();
        l.root_offset = l.offsets[root_id];
        l
    }

    fn push(&mut self, c: Content) -> Id {
        self.cells.push(c);
        self.cells.len() - 1
    }

    fn add_key(&mut self, key: &KeyData, parent: Option<Id>, is_root: bool, big_data: bool) -> Id {
        let (name, compressed) = encode_name(&key.name);
        let mut flags = if compressed { 0x20 } else { 0 };
        if is_root {
            flags |= 0x0C;
        }
        let id = self.push(Content::Nk {
            flags,
            last_written: key.last_written,
            parent,
            subkeys: None,
            subkey_count: 0,
            values: None,
            value_count: 0,
            class: None,
            maxes: [0; 4],
            name,
        });
        // Values.
        let mut value_ids = Vec::new();
        let mut max_value_name = 0u32;
        let mut max_data = 0u32;
        for (vname, vtype, data) in &key.values {
            let (nbytes, vcomp) = encode_name(vname);
            max_value_name = max_value_name.max(2 * vname.encode_utf16().count() as u32);
            max_data = max_data.max(data.len() as u32);
            let vdata = if data.len() <= 4 {
                let mut b = [0u8; 4];
                b[..data.len()].copy_from_slice(data);
                VkData::Inline(b)
            } else if big_data && data.len() > BIG_DATA_SEGMENT {
                let segs: Vec<Id> = data
                    .chunks(BIG_DATA_SEGMENT)
                    .map(|c| self.push(Content::Raw(c.to_vec())))
                    .collect();
                let count = segs.len() as u16;
                let list = self.push(Content::Offsets(segs));
                VkData::Cell(self.push(Content::Db { count, list }))
            } else {
                VkData::Cell(self.push(Content::Raw(data.clone())))
            };
            let size = if data.len() <= 4 {
                data.len() as u32 | 0x8000_0000
            } else {
                data.len() as u32
            };
            value_ids.push(self.push(Content::Vk {
                name: nbytes,
                compressed: vcomp,
                size,
                data: vdata,
                reg_type: *vtype,
            }));
        }
        let value_count = value_ids.len() as u32;
        let values = (!value_ids.is_empty()).then(|| self.push(Content::Offsets(value_ids)));
        let class = key.class.as_ref().map(|c| {
            let bytes: Vec<u8> = c.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            let len = bytes.len() as u16;
            (self.push(Content::Raw(bytes)), len)
        });
        // Subkeys, sorted as Windows keeps them.
        let mut children: Vec<&KeyData> = key.children.iter().collect();
        children.sort_by_key(|c| sort_key(&c.name));
        let mut entries = Vec::new();
        let mut max_sub = 0u32;
        let mut max_class = 0u32;
        for c in &children {
            max_sub = max_sub.max(2 * c.name.encode_utf16().count() as u32);
            max_class = max_class.max(
                c.class
                    .as_ref()
                    .map_or(0, |s| 2 * s.encode_utf16().count() as u32),
            );
            let cid = self.add_key(c, Some(id), false, big_data);
            entries.push((cid, lh_hash(&c.name)));
        }
        let subkey_count = entries.len() as u32;
        let subkeys = if entries.is_empty() {
            None
        } else if entries.len() <= LH_MAX {
            Some(self.push(Content::Lh(entries)))
        } else {
            let lists: Vec<Id> = entries
                .chunks(LH_MAX)
                .map(|c| self.push(Content::Lh(c.to_vec())))
                .collect();
            Some(self.push(Content::Ri(lists)))
        };
        if let Content::Nk {
            subkeys: s,
            subkey_count: sc,
            values: v,
            value_count: vc,
            class: cl,
            maxes,
            ..
        } = &mut self.cells[id]
        {
            *s = subkeys;
            *sc = subkey_count;
            *v = values;
            *vc = value_count;
            *cl = class;
            *maxes = [max_sub, max_class, max_value_name, max_data];
        }
        id
    }

    /// Assigns every cell an offset, starting a new bin when a cell does not fit.
    fn place(&mut self) {
        self.offsets = vec![0; self.cells.len()];
        let mut bin_start = 0usize;
        let mut bin_size = BIN;
        let mut pos = BIN_HEADER;
        let mut in_bin = Vec::new();
        for id in 0..self.cells.len() {
            let len = cell_len(&self.cells[id]);
            if pos + len > bin_size {
                self.bins
                    .push((bin_start, std::mem::take(&mut in_bin), bin_size));
                bin_start += bin_size;
                bin_size = (BIN_HEADER + len).next_multiple_of(BIN);
                pos = BIN_HEADER;
            }
            self.offsets[id] = (bin_start + pos) as u32;
            in_bin.push(id);
            pos += len;
        }
        self.bins.push((bin_start, in_bin, bin_size));
    }

    /// The hive-bins data.
    pub fn bins(&self, timestamp: u64) -> Vec<u8> {
        let total: usize = self.bins.iter().map(|b| b.2).sum();
        let mut out = vec![0u8; total];
        for (start, ids, size) in &self.bins {
            let h = &mut out[*start..*start + BIN_HEADER];
            h[0..4].copy_from_slice(b"hbin");
            h[4..8].copy_from_slice(&(*start as u32).to_le_bytes());
            h[8..12].copy_from_slice(&(*size as u32).to_le_bytes());
            h[20..28].copy_from_slice(&timestamp.to_le_bytes());
            let mut pos = *start + BIN_HEADER;
            for &id in ids {
                let len = cell_len(&self.cells[id]);
                let cell = self.serialize(id, len);
                out[pos..pos + len].copy_from_slice(&cell);
                pos += len;
            }
            // The rest of the bin is one free cell (positive size).
            let free = *start + size - pos;
            if free >= 4 {
                out[pos..pos + 4].copy_from_slice(&(free as i32).to_le_bytes());
            }
        }
        out
    }

    fn off(&self, id: Option<Id>) -> u32 {
        id.map_or(NONE, |i| self.offsets[i])
    }

    fn serialize(&self, id: Id, len: usize) -> Vec<u8> {
        let mut b = Vec::with_capacity(len);
        b.extend_from_slice(&(-(len as i32)).to_le_bytes());
        let u32le = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_le_bytes());
        match &self.cells[id] {
            Content::Nk {
                flags,
                last_written,
                parent,
                subkeys,
                subkey_count,
                values,
                value_count,
                class,
                maxes,
                name,
            } => {
                b.extend_from_slice(b"nk");
                b.extend_from_slice(&flags.to_le_bytes());
                b.extend_from_slice(&last_written.to_le_bytes());
                u32le(&mut b, 0);
                u32le(&mut b, parent.map_or(0, |p| self.offsets[p]));
                u32le(&mut b, *subkey_count);
                u32le(&mut b, 0);
                u32le(&mut b, self.off(*subkeys));
                u32le(&mut b, NONE);
                u32le(&mut b, *value_count);
                u32le(&mut b, self.off(*values));
                u32le(&mut b, self.offsets[0]);
                u32le(&mut b, self.off(class.map(|c| c.0)));
                for m in maxes {
                    u32le(&mut b, *m);
                }
                u32le(&mut b, 0);
                b.extend_from_slice(&(name.len() as u16).to_le_bytes());
                b.extend_from_slice(&class.map_or(0, |c| c.1).to_le_bytes());
                b.extend_from_slice(name);
            }
            Content::Vk {
                name,
                compressed,
                size,
                data,
                reg_type,
            } => {
                b.extend_from_slice(b"vk");
                b.extend_from_slice(&(name.len() as u16).to_le_bytes());
                u32le(&mut b, *size);
                match data {
                    VkData::Inline(d) => b.extend_from_slice(d),
                    VkData::Cell(c) => u32le(&mut b, self.offsets[*c]),
                }
                u32le(&mut b, *reg_type);
                b.extend_from_slice(&(u16::from(*compressed)).to_le_bytes());
                b.extend_from_slice(&0u16.to_le_bytes());
                b.extend_from_slice(name);
            }
            Content::Offsets(v) => v.iter().for_each(|i| u32le(&mut b, self.offsets[*i])),
            Content::Lh(v) => {
                b.extend_from_slice(b"lh");
                b.extend_from_slice(&(v.len() as u16).to_le_bytes());
                for (i, h) in v {
                    u32le(&mut b, self.offsets[*i]);
                    u32le(&mut b, *h);
                }
            }
            Content::Ri(v) => {
                b.extend_from_slice(b"ri");
                b.extend_from_slice(&(v.len() as u16).to_le_bytes());
                v.iter().for_each(|i| u32le(&mut b, self.offsets[*i]));
            }
            Content::Sk(sd) => {
                let me = self.offsets[id];
                b.extend_from_slice(b"sk");
                b.extend_from_slice(&0u16.to_le_bytes());
                u32le(&mut b, me);
                u32le(&mut b, me);
                u32le(
                    &mut b,
                    self.cells
                        .iter()
                        .filter(|c| matches!(c, Content::Nk { .. }))
                        .count() as u32,
                );
                u32le(&mut b, sd.len() as u32);
                b.extend_from_slice(sd);
            }
            Content::Db { count, list } => {
                b.extend_from_slice(b"db");
                b.extend_from_slice(&count.to_le_bytes());
                u32le(&mut b, self.offsets[*list]);
                u32le(&mut b, 0);
            }
            Content::Raw(d) => b.extend_from_slice(d),
        }
        b.resize(len, 0);
        b
    }
}
