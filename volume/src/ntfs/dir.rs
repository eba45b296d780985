//! Folders: the whole listing of a folder from its `$I30` index, and the lookup of one name
//! in it, ignoring case as Windows does (through the volume's `$UpCase`).
//!
//! A listing names every child from the index entries alone, so a child whose own MFT
//! record cannot be read is still listed. Index blocks that cannot be read are reported
//! beside the listing, and the folder's other in-use blocks (by `$BITMAP`) are read so the
//! children below a bad block are listed all the same.

use std::collections::HashSet;
use std::sync::Arc;

use super::error::{ErrorKind, NtfsError, Place};
use super::file::{File, FileName, Namespace};
use super::index::{Entry, Index, Node};
use super::limits;
use super::record::FileRef;
use super::Inner;
use crate::le::u64_at;

/// One child of a folder as its index entry names it. The name's times, sizes and flags are
/// the copy kept in the folder, which Windows updates lazily: ask [`super::Ntfs::file`] for
/// the file's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub file_ref: FileRef,
    pub file_name: FileName,
}

impl DirEntry {
    pub fn name(&self) -> &str {
        &self.file_name.name
    }

    pub fn is_dir(&self) -> bool {
        self.file_name.is_dir()
    }
}

/// A folder's children, and the index blocks that could not be read (their children may
/// be missing from `entries` when no other copy of them was found).
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<DirEntry>,
    pub problems: Vec<NtfsError>,
}

fn open_index<'a>(vol: &'a Arc<Inner>, dir: &File) -> Result<Index<'a>, NtfsError> {
    match Index::open(vol, dir, "$I30")? {
        Some(index) => Ok(index),
        None => {
            let record = dir.info().file_ref.record;
            let kind = if dir.info().is_dir {
                ErrorKind::Corrupt("a folder without its $I30 index".into())
            } else {
                ErrorKind::NotADirectory
            };
            Err(NtfsError::new(&vol.dev.name, Place::Record(record), kind)
                .in_file(dir.info().name()))
        }
    }
}

/// The entry's file name, or None for a DOS-only name or a key too short to hold one.
fn entry_of(node: &Node, e: &Entry) -> Option<DirEntry> {
    let name = FileName::parse(node.key(e))?;
    (name.namespace != Namespace::Dos).then(|| DirEntry {
        file_ref: FileRef::from_raw(u64_at(node.entry(e), 0).unwrap_or(0)),
        file_name: name,
    })
}

pub(crate) fn read_dir(vol: &Arc<Inner>, dir: &File) -> Result<Listing, NtfsError> {
    let index = open_index(vol, dir)?;
    let own = dir.info().file_ref.record;
    let mut listing = Listing::default();
    let add = |node: &Node, e: &Entry, entries: &mut Vec<DirEntry>| -> Result<(), NtfsError> {
        if let Some(d) = entry_of(node, e).filter(|d| d.file_ref.record != own) {
            if entries.len() >= limits::FOLDER_MAX_ENTRIES {
                return Err(NtfsError::new(
                    &vol.dev.name,
                    Place::IndexRoot { record: own },
                    ErrorKind::TooLarge {
                        what: "a folder's entries",
                        value: entries.len() as u64,
                        limit: limits::FOLDER_MAX_ENTRIES as u64,
                    },
                )
                .in_file(dir.info().name()));
            }
            entries.push(d);
        }
        Ok(())
    };
    let mut entries = Vec::new();
    let seen = index.walk(&mut |n, e| add(n, e, &mut entries), &mut listing.problems)?;
    if !listing.problems.is_empty() {
        let mut known: HashSet<(u64, String)> = entries
            .iter()
            .map(|d| (d.file_ref.record, d.file_name.name.clone()))
            .collect();
        let mut found = Vec::new();
        for vcn in index.unvisited_blocks(&seen) {
            match index.block(vcn) {
                Ok(node) => {
                    for e in node.entries.iter().filter(|e| !e.last) {
                        add(&node, e, &mut found)?;
                    }
                }
                Err(err) => listing.problems.push(err),
            }
        }
        for d in found {
            if known.insert((d.file_ref.record, d.file_name.name.clone())) {
                entries.push(d);
            }
        }
        let up = &vol.upcase;
        entries.sort_by(|a, b| up.cmp(a.name().encode_utf16(), b.name().encode_utf16()));
    }
    listing.entries = entries;
    Ok(listing)
}

pub(crate) fn lookup(
    vol: &Arc<Inner>,
    dir: &File,
    name: &str,
) -> Result<Option<DirEntry>, NtfsError> {
    let index = open_index(vol, dir)?;
    let wanted: Vec<u16> = name.encode_utf16().collect();
    let up = &vol.upcase;
    let cmp = |key: &[u8]| {
        let units = usize::from(key.get(0x40).copied().unwrap_or(0));
        let stored = key.get(0x42..0x42 + 2 * units).unwrap_or(&[]);
        up.cmp(wanted.iter().copied(), crate::le::u16s(stored))
    };
    index.find(&cmp, &|node, e| entry_of(node, e))
}
