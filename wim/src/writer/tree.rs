//! One image's directory tree as the metadata resource will hold it: dentries with their
//! names (UTF-16), attributes, times, security ids and streams, found by (parent, name);
//! the image's security table, each descriptor stored once; and the metadata resource
//! itself, produced piece by piece (`dentry.c`, `security.c`): children sorted as wimlib
//! sorts them, every dentry and stream entry aligned to 8 bytes, no short names.

use std::hash::BuildHasher;
use std::io::Read;

use hashbrown::HashTable;

use super::hash::Keyed;
use super::limits::{MAX_ENTRIES, MAX_SECURITY_BYTES};
use super::{EntryProblem, Times};

pub const NONE: u32 = u32::MAX;
pub const DIRECTORY: u32 = 0x10;
pub const REPARSE_POINT: u32 = 0x400;

/// Fixed part of an on-disk dentry.
const DENTRY_FIXED: u64 = 102;
/// Fixed part of an extra stream entry.
const STREAM_FIXED: u64 = 38;
/// `rp_flags`: the link's target was stored as it was, not fixed up.
const RP_NOT_FIXED: u16 = 1;

/// A blob's SHA-1 by its number (zeros for none).
pub trait Hashes {
    fn hash(&self, blob: u32) -> [u8; 20];
}

#[derive(Clone)]
pub struct Node {
    name_at: u32,
    name_len: u16,
    /// Added by the caller (not only created as someone's parent).
    explicit: bool,
    pub parent: u32,
    first_child: u32,
    next: u32,
    pub attributes: u32,
    security: u32,
    times: Times,
    /// The unnamed data stream's blob, or NONE (empty).
    pub data: u32,
    /// Named streams: a range of `Tree::named`.
    named_at: u32,
    named_len: u16,
    reparse: u32,
    reparse_tag: u32,
    rp_reserved: u16,
    /// The first node of its hard link group, or NONE.
    link: u32,
}

/// A named data stream of a node.
#[derive(Clone, Copy)]
pub struct Named {
    name_at: u32,
    name_len: u16,
    pub blob: u32,
}

/// What an added entry's inode holds, streams already stored.
pub struct Inode<'a> {
    pub attributes: u32,
    pub times: Times,
    /// Its index in the security table ([`Tree::security_id`]), or NONE.
    pub security: u32,
    pub data: u32,
    pub reparse: Option<(u32, u16, u32)>,
    pub named: &'a [(Vec<u16>, u32)],
}

pub struct Tree {
    pub nodes: Vec<Node>,
    names: Vec<u16>,
    named: Vec<Named>,
    index: HashTable<u32>,
    keys: Keyed,
    hasher: std::hash::RandomState,
    sd_bytes: Vec<u8>,
    sd_spans: Vec<(usize, usize)>,
    sd_index: HashTable<u32>,
}

fn align8(n: u64) -> u64 {
    (n + 7) & !7
}

impl Tree {
    /// A tree with its root folder.
    pub fn new(times: Times) -> Tree {
        let mut t = Tree {
            nodes: Vec::new(),
            names: Vec::new(),
            named: Vec::new(),
            index: HashTable::new(),
            keys: Keyed::new(),
            hasher: std::hash::RandomState::new(),
            sd_bytes: Vec::new(),
            sd_spans: Vec::new(),
            sd_index: HashTable::new(),
        };
        t.nodes.push(t.blank(0, 0, NONE, DIRECTORY, times));
        t
    }

    fn blank(
        &self,
        name_at: u32,
        name_len: u16,
        parent: u32,
        attributes: u32,
        times: Times,
    ) -> Node {
        Node {
            name_at,
            name_len,
            explicit: false,
            parent,
            first_child: NONE,
            next: NONE,
            attributes,
            security: NONE,
            times,
            data: NONE,
            named_at: 0,
            named_len: 0,
            reparse: NONE,
            reparse_tag: 0,
            rp_reserved: 0,
            link: NONE,
        }
    }

    pub fn name(&self, n: u32) -> &[u16] {
        let node = &self.nodes[n as usize];
        &self.names[node.name_at as usize..][..usize::from(node.name_len)]
    }

    fn key(&self, parent: u32, name: &[u16]) -> u64 {
        self.keys.name(parent, name)
    }

    /// The child of `parent` called exactly `name`.
    pub fn child(&self, parent: u32, name: &[u16]) -> Option<u32> {
        let key = self.key(parent, name);
        self.index
            .find(key, |&n| {
                self.nodes[n as usize].parent == parent && self.name(n) == name
            })
            .copied()
    }

    pub fn is_explicit(&self, n: u32) -> bool {
        self.nodes[n as usize].explicit
    }

    /// A folder a child may be put in: a folder and not a reparse point.
    pub fn holds_children(&self, n: u32) -> bool {
        self.nodes[n as usize].attributes & (DIRECTORY | REPARSE_POINT) == DIRECTORY
    }

    /// A new node under `parent` (which has no child of that name).
    pub fn insert(&mut self, parent: u32, name: &[u16], times: Times) -> Result<u32, EntryProblem> {
        if self.nodes.len() >= MAX_ENTRIES || !self.has_room(name.len()) {
            return Err(EntryProblem::TooManyEntries);
        }
        let n = self.nodes.len() as u32;
        let name_at = self.names.len() as u32;
        self.names.extend_from_slice(name);
        let mut node = self.blank(name_at, name.len() as u16, parent, DIRECTORY, times);
        node.next = self.nodes[parent as usize].first_child;
        self.nodes[parent as usize].first_child = n;
        self.nodes.push(node);
        let key = self.key(parent, name);
        let (nodes, names) = (&self.nodes, &self.names);
        let keys = self.keys;
        self.index.insert_unique(key, n, |&m| {
            let node = &nodes[m as usize];
            let name = &names[node.name_at as usize..][..usize::from(node.name_len)];
            keys.name(node.parent, name)
        });
        Ok(n)
    }

    /// Whether names of `units` more UTF-16 units can be kept (their offsets are 32-bit).
    pub fn has_room(&self, units: usize) -> bool {
        self.names.len() + units < u32::MAX as usize && self.named.len() < u32::MAX as usize
    }

    /// Gives node `n` what the caller said of it ([`Tree::has_room`] for its names).
    pub fn set(&mut self, n: u32, inode: &Inode<'_>) {
        let named_at = self.named.len() as u32;
        for (name, blob) in inode.named {
            let at = self.names.len() as u32;
            self.names.extend_from_slice(name);
            self.named.push(Named {
                name_at: at,
                name_len: name.len() as u16,
                blob: *blob,
            });
        }
        let node = &mut self.nodes[n as usize];
        node.explicit = true;
        node.attributes = inode.attributes;
        node.times = inode.times;
        node.security = inode.security;
        node.data = inode.data;
        node.named_at = named_at;
        node.named_len = inode.named.len() as u16;
        if let Some((tag, reserved, blob)) = inode.reparse {
            node.reparse_tag = tag;
            node.rp_reserved = reserved;
            node.reparse = blob;
        }
    }

    /// Makes `n` another name of `first`'s inode.
    pub fn link(&mut self, n: u32, first: u32) {
        let f = self.nodes[first as usize].clone();
        self.nodes[first as usize].link = first;
        let node = &mut self.nodes[n as usize];
        node.explicit = true;
        node.attributes = f.attributes;
        node.times = f.times;
        node.security = f.security;
        node.data = f.data;
        node.named_at = f.named_at;
        node.named_len = f.named_len;
        node.link = first;
    }

    /// The blobs a node's streams refer to (data, reparse data, named streams).
    pub fn blobs_of(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        let node = &self.nodes[n as usize];
        let named = &self.named[node.named_at as usize..][..usize::from(node.named_len)];
        [node.data, node.reparse]
            .into_iter()
            .chain(named.iter().map(|s| s.blob))
            .filter(|&b| b != NONE)
    }

    /// The index of `sd` in the image's security table, adding it if new.
    pub fn security_id(&mut self, sd: &[u8]) -> Result<u32, EntryProblem> {
        let key = self.hasher.hash_one(sd);
        let (bytes, spans) = (&self.sd_bytes, &self.sd_spans);
        if let Some(&id) = self.sd_index.find(key, |&i| {
            let (at, len) = spans[i as usize];
            &bytes[at..at + len] == sd
        }) {
            return Ok(id);
        }
        if self.sd_bytes.len() + sd.len() > MAX_SECURITY_BYTES {
            return Err(EntryProblem::TooManySecurityDescriptors);
        }
        let id = self.sd_spans.len() as u32;
        self.sd_spans.push((self.sd_bytes.len(), sd.len()));
        self.sd_bytes.extend_from_slice(sd);
        let hasher = &self.hasher;
        let (bytes, spans) = (&self.sd_bytes, &self.sd_spans);
        self.sd_index.insert_unique(key, id, |&i| {
            let (at, len) = spans[i as usize];
            hasher.hash_one(&bytes[at..at + len])
        });
        Ok(id)
    }

    /// Puts every folder's children in wimlib's order: names compared ignoring case, then
    /// exactly.
    pub fn sort(&mut self) {
        let mut kids = Vec::new();
        for p in 0..self.nodes.len() {
            kids.clear();
            let mut c = self.nodes[p].first_child;
            while c != NONE {
                kids.push(c);
                c = self.nodes[c as usize].next;
            }
            if kids.len() < 2 {
                continue;
            }
            kids.sort_by(|&a, &b| collate(self.name(a), self.name(b)));
            self.nodes[p].first_child = kids[0];
            for w in kids.windows(2) {
                self.nodes[w[0] as usize].next = w[1];
            }
            if let Some(&last) = kids.last() {
                self.nodes[last as usize].next = NONE;
            }
        }
    }

    fn children(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        let mut c = self.nodes[n as usize].first_child;
        std::iter::from_fn(move || {
            (c != NONE).then(|| {
                let this = c;
                c = self.nodes[c as usize].next;
                this
            })
        })
    }

    fn security_len(&self) -> u64 {
        let sizes: u64 = self.sd_spans.iter().map(|s| s.1 as u64).sum();
        align8(8 + 8 * self.sd_spans.len() as u64 + sizes)
    }

    /// The unnamed streams written for a node (wimlib's `write_dentry_streams`, which
    /// matches DISM): the reparse data for a reparse point, then the data for anything
    /// but a folder.
    fn unnamed(&self, node: &Node) -> ([u32; 2], usize) {
        let mut s = [NONE; 2];
        let mut n = 0;
        if node.attributes & REPARSE_POINT != 0 {
            s[n] = node.reparse;
            n += 1;
        }
        if node.attributes & DIRECTORY == 0 {
            s[n] = node.data;
            n += 1;
        }
        (s, n)
    }

    /// Whether the node's streams go into extra stream entries.
    fn has_extra(&self, node: &Node) -> bool {
        self.unnamed(node).1 > 1 || node.named_len > 0
    }

    fn dentry_len(&self, n: u32) -> u64 {
        let node = &self.nodes[n as usize];
        let name = u64::from(node.name_len) * 2;
        let mut len = align8(DENTRY_FIXED + if name > 0 { name + 2 } else { 0 });
        if self.has_extra(node) {
            len += self.unnamed(node).1 as u64 * align8(STREAM_FIXED);
            for s in &self.named[node.named_at as usize..][..usize::from(node.named_len)] {
                len += align8(STREAM_FIXED + u64::from(s.name_len) * 2 + 2);
            }
        }
        len
    }

    /// The folders whose child lists the metadata holds, in the order they are written
    /// (depth first, children in order), and where each list starts; and the total size.
    fn layout(&self) -> (Vec<u32>, Vec<u64>, u64) {
        let mut order = Vec::new();
        let mut subdir = vec![0u64; self.nodes.len()];
        let mut at = self.security_len() + self.dentry_len(0) + 8;
        let mut stack = vec![0u32];
        let mut kids = Vec::new();
        while let Some(d) = stack.pop() {
            subdir[d as usize] = at;
            order.push(d);
            kids.clear();
            for c in self.children(d) {
                at += self.dentry_len(c);
                kids.push(c);
            }
            at += 8;
            stack.extend(kids.iter().rev().filter(|&&c| self.holds_children(c)));
        }
        (order, subdir, at)
    }

    /// The metadata resource, produced as it is read.
    pub fn metadata<'a>(&'a self, hashes: &'a dyn Hashes) -> Metadata<'a> {
        let (order, subdir, size) = self.layout();
        Metadata {
            tree: self,
            hashes,
            order,
            subdir,
            size,
            stage: Stage::Security,
            buf: Vec::new(),
            at: 0,
        }
    }

    fn put_security(&self, m: &mut Vec<u8>) {
        let start = m.len();
        m.extend_from_slice(&(self.security_len() as u32).to_le_bytes());
        m.extend_from_slice(&(self.sd_spans.len() as u32).to_le_bytes());
        for s in &self.sd_spans {
            m.extend_from_slice(&(s.1 as u64).to_le_bytes());
        }
        m.extend_from_slice(&self.sd_bytes);
        m.resize(start + self.security_len() as usize, 0);
    }

    fn put_dentry(&self, m: &mut Vec<u8>, n: u32, subdir: u64, hashes: &dyn Hashes) {
        let node = &self.nodes[n as usize];
        let start = m.len();
        let name = self.name(n);
        let fixed_len = align8(
            DENTRY_FIXED
                + if name.is_empty() {
                    0
                } else {
                    name.len() as u64 * 2 + 2
                },
        );
        let (unnamed, count) = self.unnamed(node);
        let extra = self.has_extra(node);
        let hash = |b: u32| if b == NONE { [0; 20] } else { hashes.hash(b) };
        m.extend_from_slice(&fixed_len.to_le_bytes());
        m.extend_from_slice(&node.attributes.to_le_bytes());
        m.extend_from_slice(&node.security.to_le_bytes());
        let subdir = if self.holds_children(n) { subdir } else { 0 };
        m.extend_from_slice(&subdir.to_le_bytes());
        m.extend_from_slice(&[0; 16]);
        for t in [
            node.times.creation,
            node.times.last_access,
            node.times.last_write,
        ] {
            m.extend_from_slice(&t.to_le_bytes());
        }
        let main = if extra || count == 0 {
            [0; 20]
        } else {
            hash(unnamed[0])
        };
        m.extend_from_slice(&main);
        m.extend_from_slice(&0u32.to_le_bytes());
        if node.attributes & REPARSE_POINT != 0 {
            m.extend_from_slice(&node.reparse_tag.to_le_bytes());
            m.extend_from_slice(&node.rp_reserved.to_le_bytes());
            m.extend_from_slice(&RP_NOT_FIXED.to_le_bytes());
        } else {
            let group = if node.link == NONE {
                0
            } else {
                u64::from(node.link) + 1
            };
            m.extend_from_slice(&group.to_le_bytes());
        }
        let streams = if extra {
            count + usize::from(node.named_len)
        } else {
            0
        };
        m.extend_from_slice(&(streams as u16).to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes()); // no short name
        m.extend_from_slice(&((name.len() * 2) as u16).to_le_bytes());
        if !name.is_empty() {
            m.extend(name.iter().flat_map(|c| c.to_le_bytes()));
            m.extend_from_slice(&[0, 0]);
        }
        m.resize(start + fixed_len as usize, 0);
        if extra {
            for &b in &unnamed[..count] {
                put_stream(m, &[], &hash(b));
            }
            for s in &self.named[node.named_at as usize..][..usize::from(node.named_len)] {
                let name = &self.names[s.name_at as usize..][..usize::from(s.name_len)];
                put_stream(m, name, &hash(s.blob));
            }
        }
    }
}

fn put_stream(m: &mut Vec<u8>, name: &[u16], hash: &[u8; 20]) {
    let named = if name.is_empty() {
        0
    } else {
        name.len() as u64 * 2 + 2
    };
    let len = align8(STREAM_FIXED + named);
    let start = m.len();
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&((name.len() * 2) as u16).to_le_bytes());
    if !name.is_empty() {
        m.extend(name.iter().flat_map(|c| c.to_le_bytes()));
        m.extend_from_slice(&[0, 0]);
    }
    m.resize(start + len as usize, 0);
}

/// wimlib's collation of names: ignoring case first (each UTF-16 unit upper-cased where
/// it maps to one unit), then exactly.
fn collate(a: &[u16], b: &[u16]) -> std::cmp::Ordering {
    a.iter()
        .map(|&c| upcase(c))
        .cmp(b.iter().map(|&c| upcase(c)))
        .then_with(|| a.cmp(b))
}

fn upcase(c: u16) -> u16 {
    if c < 0x80 {
        return u16::from((c as u8).to_ascii_uppercase());
    }
    let Some(ch) = char::from_u32(u32::from(c)) else {
        return c;
    };
    let mut up = ch.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) if (u as u32) <= 0xFFFF => u as u16,
        _ => c,
    }
}

enum Stage {
    Security,
    Root,
    Folder(usize),
    Done,
}

/// The metadata resource as a reader: security data, the root and its end mark, then
/// each folder's children and end mark, one folder at a time.
pub struct Metadata<'a> {
    tree: &'a Tree,
    hashes: &'a dyn Hashes,
    order: Vec<u32>,
    subdir: Vec<u64>,
    pub size: u64,
    stage: Stage,
    buf: Vec<u8>,
    at: usize,
}

impl Metadata<'_> {
    fn refill(&mut self) {
        self.buf.clear();
        self.at = 0;
        let t = self.tree;
        match self.stage {
            Stage::Security => {
                t.put_security(&mut self.buf);
                self.stage = Stage::Root;
            }
            Stage::Root => {
                t.put_dentry(&mut self.buf, 0, self.subdir[0], self.hashes);
                self.buf.extend_from_slice(&[0; 8]);
                self.stage = Stage::Folder(0);
            }
            Stage::Folder(i) => {
                if let Some(&d) = self.order.get(i) {
                    for c in t.children(d) {
                        t.put_dentry(&mut self.buf, c, self.subdir[c as usize], self.hashes);
                    }
                    self.buf.extend_from_slice(&[0; 8]);
                    self.stage = Stage::Folder(i + 1);
                } else {
                    self.stage = Stage::Done;
                }
            }
            Stage::Done => {}
        }
    }
}

impl Read for Metadata<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buf.len() && !matches!(self.stage, Stage::Done) {
            self.refill();
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_ignoring_case_then_exactly() {
        let u = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        let mut v = [u("b"), u("B"), u("a"), u("ä"), u("Ä"), u("A"), u("_")];
        v.sort_by(|a, b| collate(a, b));
        let back: Vec<String> = v.iter().map(|s| String::from_utf16_lossy(s)).collect();
        assert_eq!(back, ["A", "a", "B", "b", "_", "Ä", "ä"]);
    }
}
