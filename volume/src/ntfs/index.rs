//! Indexes: a folder's file names (`$I30`) and `$Secure`'s security ids (`$SII`) are
//! B+trees whose root is the resident `$INDEX_ROOT` and whose other nodes are index blocks
//! (INDX, with fix-ups) in `$INDEX_ALLOCATION`, in use as `$BITMAP` says. Each node is a
//! sorted list of entries; an entry may point to a sub-node holding the keys before it.
//!
//! A walk visits each block at most once (a hostile index whose pointers form a cycle is
//! refused at the second visit), no deeper than [`limits::INDEX_MAX_DEPTH`] and over no more
//! than [`limits::INDEX_MAX_BLOCKS`] blocks.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use super::attr;
use super::error::{ErrorKind, NtfsError, Place};
use super::file::File;
use super::limits;
use super::record::apply_fixups;
use super::stream::Content;
use super::Inner;
use crate::le::{u16_at, u32_at, u64_at};

const ENTRY_SUBNODE: u16 = 0x01;
const ENTRY_LAST: u16 = 0x02;
const NODE_HAS_CHILDREN: u8 = 0x01;

/// One entry of a node: its bytes within the node and where its key and sub-node are.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub start: usize,
    pub key: std::ops::Range<usize>,
    pub last: bool,
    pub subnode: Option<u64>,
}

/// A node: the bytes it lives in (the root's value or a fixed-up block) and its entries.
pub(crate) struct Node {
    pub bytes: Arc<[u8]>,
    pub entries: Vec<Entry>,
}

impl Node {
    pub fn key(&self, e: &Entry) -> &[u8] {
        self.bytes.get(e.key.clone()).unwrap_or(&[])
    }

    /// The entry's bytes from its start (file reference or data offsets, then the key).
    pub fn entry(&self, e: &Entry) -> &[u8] {
        self.bytes.get(e.start..).unwrap_or(&[])
    }
}

/// Parses the entries of the node whose header is at `header` in `b`.
fn parse_node(b: &[u8], header: usize) -> Result<Vec<Entry>, String> {
    let first = u32_at(b, header).unwrap_or(0) as usize;
    let used = u32_at(b, header + 4).unwrap_or(0) as usize;
    let (start, end) = (header.saturating_add(first), header.saturating_add(used));
    if first < 16 || start > end || end > b.len() {
        return Err(format!(
            "node header gives entries from {first} to {used} in {} bytes",
            b.len() - header.min(b.len())
        ));
    }
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let len = usize::from(u16_at(b, pos + 8).unwrap_or(0));
        let key_len = usize::from(u16_at(b, pos + 10).unwrap_or(0));
        let flags = u16_at(b, pos + 12).unwrap_or(0);
        let entry_end = pos.saturating_add(len);
        if len < 16 || len % 8 != 0 || entry_end > end {
            return Err(format!("entry at byte {pos} has length {len}"));
        }
        let subnode = if flags & ENTRY_SUBNODE != 0 {
            if len < 24 {
                return Err(format!("entry at byte {pos} is too short for its sub-node"));
            }
            u64_at(b, entry_end - 8)
        } else {
            None
        };
        let key_room = entry_end - if subnode.is_some() { 8 } else { 0 };
        let last = flags & ENTRY_LAST != 0;
        if !last && (key_len == 0 || pos + 16 + key_len > key_room) {
            return Err(format!(
                "entry at byte {pos}: a key of {key_len} bytes in {len}"
            ));
        }
        out.push(Entry {
            start: pos,
            key: pos + 16..pos + 16 + if last { 0 } else { key_len },
            last,
            subnode,
        });
        if last {
            return Ok(out);
        }
        pos = entry_end;
    }
    Err("the node has no last entry".into())
}

/// An index of a file: `$I30` of a folder, `$SII` of `$Secure`.
pub(crate) struct Index<'a> {
    vol: &'a Arc<Inner>,
    record: u64,
    file: String,
    root: Node,
    alloc: Option<Content>,
    bitmap: Vec<u8>,
    block_size: u64,
    /// Bytes per VCN of the allocation: clusters when a block holds one or more, else 512.
    vcn_bytes: u64,
}

impl<'a> Index<'a> {
    /// The index `name` of `file`; None when the file has no such index.
    pub fn open(
        vol: &'a Arc<Inner>,
        file: &File,
        name: &str,
    ) -> Result<Option<Index<'a>>, NtfsError> {
        let record = file.info().file_ref.record;
        let fname = file.info().name().to_string();
        let place = Place::IndexRoot { record };
        let err = |why: String| {
            NtfsError::new(&vol.dev.name, place.clone(), ErrorKind::Corrupt(why)).in_file(&fname)
        };
        let Some(Content::Resident(root)) = file.content(attr::INDEX_ROOT, name)? else {
            return Ok(None);
        };
        let block_size = u64::from(u32_at(&root, 8).unwrap_or(0));
        if !block_size.is_power_of_two()
            || !(limits::INDEX_BLOCK_MIN_BYTES..=limits::INDEX_BLOCK_MAX_BYTES)
                .contains(&block_size)
        {
            return Err(err(format!("index blocks of {block_size} bytes")));
        }
        let entries = parse_node(&root, 0x10).map_err(err)?;
        let has_children = root.get(0x1C).is_some_and(|f| f & NODE_HAS_CHILDREN != 0);
        let alloc = if has_children || entries.iter().any(|e| e.subnode.is_some()) {
            file.content(attr::INDEX_ALLOCATION, name)?
        } else {
            None
        };
        let bitmap = match file.content(attr::BITMAP, name)? {
            Some(c) => c
                .read_all(&vol.dev, limits::INDEX_MAX_BLOCKS / 8)
                .map_err(|f| f.at(&vol.dev.name, place.clone()).in_file(&fname))?,
            None => Vec::new(),
        };
        let cluster = vol.geo.cluster_size;
        Ok(Some(Index {
            vol,
            record,
            file: fname,
            root: Node {
                bytes: root,
                entries,
            },
            alloc,
            bitmap,
            block_size,
            vcn_bytes: if block_size >= cluster { cluster } else { 512 },
        }))
    }

    fn block_place(&self, vcn: u64) -> Place {
        Place::IndexBlock {
            record: self.record,
            vcn,
        }
    }

    fn block_error(&self, vcn: u64, kind: ErrorKind) -> NtfsError {
        NtfsError::new(&self.vol.dev.name, self.block_place(vcn), kind).in_file(&self.file)
    }

    /// Reads and checks the index block at `vcn`.
    pub fn block(&self, vcn: u64) -> Result<Node, NtfsError> {
        let corrupt = |why: String| self.block_error(vcn, ErrorKind::Corrupt(why));
        let Some(alloc) = &self.alloc else {
            return Err(corrupt("the index has no $INDEX_ALLOCATION".into()));
        };
        let offset = vcn
            .checked_mul(self.vcn_bytes)
            .filter(|o| {
                o.checked_add(self.block_size)
                    .is_some_and(|e| e <= alloc.len())
            })
            .ok_or_else(|| corrupt(format!("outside the index's {} bytes", alloc.len())))?;
        let mut b = vec![0u8; self.block_size as usize];
        alloc
            .read_exact(&self.vol.dev, offset, &mut b)
            .map_err(|f| {
                f.at(&self.vol.dev.name, self.block_place(vcn))
                    .in_file(&self.file)
            })?;
        apply_fixups(&mut b, b"INDX").map_err(corrupt)?;
        let own = u64_at(&b, 0x10).unwrap_or(u64::MAX);
        if own != vcn {
            return Err(corrupt(format!("the block says it is at VCN {own}")));
        }
        let entries = parse_node(&b, 0x18).map_err(corrupt)?;
        Ok(Node {
            bytes: b.into(),
            entries,
        })
    }

    /// Visits every entry (not the last, keyless ones) in key order. Blocks that cannot be
    /// read are skipped with their error in `problems`; the walk goes on with the rest.
    pub fn walk(
        &self,
        visit: &mut dyn FnMut(&Node, &Entry) -> Result<(), NtfsError>,
        problems: &mut Vec<NtfsError>,
    ) -> Result<HashSet<u64>, NtfsError> {
        let mut seen = HashSet::new();
        self.walk_node(&self.root, 0, &mut seen, visit, problems)?;
        Ok(seen)
    }

    fn walk_node(
        &self,
        node: &Node,
        depth: usize,
        seen: &mut HashSet<u64>,
        visit: &mut dyn FnMut(&Node, &Entry) -> Result<(), NtfsError>,
        problems: &mut Vec<NtfsError>,
    ) -> Result<(), NtfsError> {
        for e in &node.entries {
            if let Some(vcn) = e.subnode {
                match self.enter(vcn, depth, seen) {
                    Ok(child) => self.walk_node(&child, depth + 1, seen, visit, problems)?,
                    Err(err) if is_fatal(&err) => return Err(err),
                    Err(err) => problems.push(err),
                }
            }
            if !e.last {
                visit(node, e)?;
            }
        }
        Ok(())
    }

    /// The sub-node at `vcn`, entered from depth `depth`: checked for depth, budget and
    /// cycles before it is read.
    fn enter(&self, vcn: u64, depth: usize, seen: &mut HashSet<u64>) -> Result<Node, NtfsError> {
        if depth + 1 > limits::INDEX_MAX_DEPTH {
            return Err(self.block_error(
                vcn,
                ErrorKind::TooLarge {
                    what: "an index depth",
                    value: depth as u64 + 1,
                    limit: limits::INDEX_MAX_DEPTH as u64,
                },
            ));
        }
        if seen.len() as u64 >= limits::INDEX_MAX_BLOCKS {
            return Err(self.block_error(
                vcn,
                ErrorKind::TooLarge {
                    what: "index blocks",
                    value: seen.len() as u64,
                    limit: limits::INDEX_MAX_BLOCKS,
                },
            ));
        }
        if !seen.insert(vcn) {
            return Err(self.block_error(
                vcn,
                ErrorKind::Corrupt("the index points at this block twice (a cycle)".into()),
            ));
        }
        self.block(vcn)
    }

    /// Finds an entry by descending the tree: `cmp` orders the wanted key against an
    /// entry's key; `accept` says whether an equal entry is the one wanted (else the search
    /// goes on to the next entries).
    pub fn find<T>(
        &self,
        cmp: &dyn Fn(&[u8]) -> Ordering,
        accept: &dyn Fn(&Node, &Entry) -> Option<T>,
    ) -> Result<Option<T>, NtfsError> {
        let mut seen = HashSet::new();
        let mut owned;
        let mut node = &self.root;
        let mut depth = 0;
        loop {
            let mut down = None;
            for e in &node.entries {
                if !e.last {
                    match cmp(node.key(e)) {
                        Ordering::Greater => continue,
                        Ordering::Equal => {
                            if let Some(found) = accept(node, e) {
                                return Ok(Some(found));
                            }
                            continue;
                        }
                        Ordering::Less => {}
                    }
                }
                down = e.subnode;
                break;
            }
            let Some(vcn) = down else {
                return Ok(None);
            };
            owned = self.enter(vcn, depth, &mut seen)?;
            node = &owned;
            depth += 1;
        }
    }

    /// The in-use blocks the walk did not reach (after a bad block hid them): their
    /// entries are still the folder's.
    pub fn unvisited_blocks(&self, seen: &HashSet<u64>) -> Vec<u64> {
        let per_block = self.block_size / self.vcn_bytes;
        let count = self.alloc.as_ref().map_or(0, |a| a.len() / self.block_size);
        (0..count.min(limits::INDEX_MAX_BLOCKS))
            .filter(|&i| {
                let byte = self.bitmap.get((i / 8) as usize).copied().unwrap_or(0);
                byte & (1 << (i % 8)) != 0
            })
            .map(|i| i * per_block)
            .filter(|vcn| !seen.contains(vcn))
            .collect()
    }
}

/// Errors that end a walk rather than skip a block: a cycle or a budget exceeded says the
/// index is hostile, not merely damaged.
fn is_fatal(e: &NtfsError) -> bool {
    matches!(e.kind(), ErrorKind::TooLarge { .. })
}
