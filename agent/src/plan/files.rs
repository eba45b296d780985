//! The files one pass takes, held compactly: each folder's place and Windows path once, the
//! files' names in one shared buffer, 32 bytes of record per file. A profile of a million
//! small files (node_modules, caches) costs tens of MB here instead of hundreds, because
//! wimlib holds its own tree of the same files at the same time.
//!
//! The list also answers wimlib's question during its scan, "is this path taken?", without
//! a second set of paths and without touching the disk ([`FileList::keeps`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::volume::{Entry, Meta, Node, Place};

#[derive(Debug)]
struct Dir {
    place: Place,
    /// As the offline system saw it (`C:\Users\ann\Documents`).
    win: String,
    parent: Option<u32>,
    /// This folder's own files: `files[first..first + count]`, sorted by name.
    first: u32,
    count: u32,
    /// A file is taken at or below this folder.
    taken_below: bool,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The name's UTF-8 bytes are `names[name..name + len]`.
    name: u32,
    len: u16,
    component: u16,
    size: u64,
    /// The volume's own handle for the file (see [`Node::id`]).
    id: u64,
    /// Where its data begins on the disk ([`u64::MAX`] when the volume does not say).
    disk_offset: u64,
}

/// Why a file cannot be listed (the walker reports it as skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFull {
    /// The names of one pass's files passed 4 GiB, or its components 65,535.
    Capacity,
}

#[derive(Debug, Default)]
pub struct FileList {
    dirs: Vec<Dir>,
    files: Vec<Slot>,
    names: Vec<u8>,
    components: Vec<String>,
    component_ids: HashMap<String, u16>,
    /// Host folder → its index, for folders of host volumes; built by [`FileList::seal`].
    by_host: HashMap<PathBuf, u32>,
}

/// One file of a [`FileList`].
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    list: &'a FileList,
    dir: &'a Dir,
    slot: &'a Slot,
}

impl<'a> FileRef<'a> {
    /// The file's path as the offline system saw it (`C:\Users\ann\Documents\a.txt`).
    pub fn win(&self) -> String {
        join_win(&self.dir.win, self.name())
    }
    /// The file's name in its folder.
    pub fn name(&self) -> &'a str {
        std::str::from_utf8(self.list.name_bytes(self.slot)).unwrap_or_default()
    }
    /// Where the file is now.
    pub fn place(&self) -> Place {
        let dir = self.dir.place.node();
        let rel = if dir.rel().is_empty() {
            self.name().to_string()
        } else {
            format!("{}\\{}", dir.rel(), self.name())
        };
        Place::at(
            self.dir.place.volume().clone(),
            Node::new(rel, self.slot.id),
        )
    }
    /// The file on this machine, when its volume is a host folder.
    pub fn host(&self) -> Option<PathBuf> {
        self.place().host_path()
    }
    pub fn size(&self) -> u64 {
        self.slot.size
    }
    /// Where the file's data begins on its disk, when its volume says.
    pub fn disk_offset(&self) -> Option<u64> {
        (self.slot.disk_offset != u64::MAX).then_some(self.slot.disk_offset)
    }
    /// The component (rule) that takes the file.
    pub fn component(&self) -> &'a str {
        self.list
            .components
            .get(usize::from(self.slot.component))
            .map_or("", String::as_str)
    }
}

pub(crate) fn join_win(dir: &str, name: &str) -> String {
    if dir.ends_with('\\') {
        format!("{dir}{name}")
    } else {
        format!("{dir}\\{name}")
    }
}

impl FileList {
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = FileRef<'_>> {
        self.dirs.iter().flat_map(move |dir| {
            self.dir_slots(dir).iter().map(move |slot| FileRef {
                list: self,
                dir,
                slot,
            })
        })
    }

    /// The file at index `i` of [`FileList::iter`]'s order.
    pub fn get(&self, i: u32) -> Option<FileRef<'_>> {
        // Each folder's files follow the folder before's: the first whose end passes `i`.
        let d = self.dirs.partition_point(|d| d.first + d.count <= i);
        let dir = self.dirs.get(d).filter(|d| d.first <= i)?;
        let slot = self.files.get(i as usize)?;
        Some(FileRef {
            list: self,
            dir,
            slot,
        })
    }

    /// The files' indexes (as [`FileList::get`] takes them): first those of the folders
    /// `first` picks (it is asked with each folder's Windows path), then the rest; within
    /// each, by where their data begins on the disk, ties (and a volume that does not say)
    /// in walk order.
    pub fn read_order(&self, first: impl Fn(&str) -> bool) -> Vec<u32> {
        let firsts: Vec<bool> = self.dirs.iter().map(|d| first(&d.win)).collect();
        let mut order = Vec::with_capacity(self.files.len());
        for want in [true, false] {
            let start = order.len();
            for (d, _) in self.dirs.iter().zip(&firsts).filter(|(_, f)| **f == want) {
                order.extend(d.first..d.first + d.count);
            }
            if let Some(group) = order.get_mut(start..) {
                // Stable: equal offsets keep walk order.
                group.sort_by_key(|&i| {
                    self.files
                        .get(i as usize)
                        .map_or(u64::MAX, |s| s.disk_offset)
                });
            }
        }
        order
    }

    /// Is `host` (a path wimlib met during its scan) a taken file or a folder on the way
    /// to one? Answered from the list alone: no second set of paths, no stat.
    pub fn keeps(&self, host: &Path) -> bool {
        if let Some(&d) = self.by_host.get(host) {
            return self.dirs.get(d as usize).is_some_and(|d| d.taken_below);
        }
        let (Some(parent), Some(name)) = (host.parent(), host.file_name()) else {
            return false;
        };
        let Some(dir) = self
            .by_host
            .get(parent)
            .and_then(|&d| self.dirs.get(d as usize))
        else {
            return false;
        };
        let want = name.as_encoded_bytes();
        self.dir_slots(dir)
            .binary_search_by(|s| self.name_bytes(s).cmp(want))
            .is_ok()
    }

    fn dir_slots(&self, dir: &Dir) -> &[Slot] {
        let start = dir.first as usize;
        self.files
            .get(start..start + dir.count as usize)
            .unwrap_or_default()
    }

    fn name_bytes(&self, s: &Slot) -> &[u8] {
        let start = s.name as usize;
        self.names
            .get(start..start + usize::from(s.len))
            .unwrap_or_default()
    }

    /// Starts a folder (the walker calls this before listing its files); returns its index.
    pub(crate) fn open_dir(&mut self, place: &Place, win: &str, parent: Option<u32>) -> u32 {
        self.dirs.push(Dir {
            place: place.clone(),
            win: win.to_string(),
            parent,
            first: self.files.len() as u32,
            count: 0,
            taken_below: false,
        });
        (self.dirs.len() - 1) as u32
    }

    /// Adds a file of the folder opened last. Files of one folder come in name order.
    pub(crate) fn push(
        &mut self,
        dir: u32,
        entry: &Entry,
        meta: &Meta,
        component: &str,
    ) -> Result<(), ListFull> {
        let bytes = entry.name.as_bytes();
        let start = u32::try_from(self.names.len()).map_err(|_| ListFull::Capacity)?;
        let len = u16::try_from(bytes.len()).map_err(|_| ListFull::Capacity)?;
        u32::try_from(self.names.len() + bytes.len()).map_err(|_| ListFull::Capacity)?;
        u32::try_from(self.files.len() + 1).map_err(|_| ListFull::Capacity)?;
        let component = self.component_id(component)?;
        let Some(d) = self.dirs.get_mut(dir as usize) else {
            return Err(ListFull::Capacity);
        };
        d.count += 1;
        self.names.extend_from_slice(bytes);
        self.files.push(Slot {
            name: start,
            len,
            component,
            size: meta.size,
            id: entry.node.id(),
            disk_offset: meta.disk_offset.unwrap_or(u64::MAX),
        });
        self.mark_taken(dir);
        Ok(())
    }

    fn component_id(&mut self, name: &str) -> Result<u16, ListFull> {
        if let Some(&id) = self.component_ids.get(name) {
            return Ok(id);
        }
        let id = u16::try_from(self.components.len()).map_err(|_| ListFull::Capacity)?;
        self.components.push(name.to_string());
        self.component_ids.insert(name.to_string(), id);
        Ok(id)
    }

    fn mark_taken(&mut self, mut dir: u32) {
        while let Some(d) = self.dirs.get_mut(dir as usize) {
            if d.taken_below {
                return;
            }
            d.taken_below = true;
            match d.parent {
                Some(p) => dir = p,
                None => return,
            }
        }
    }

    /// Ends the walk of folder `dir`: when nothing below it was taken, it and every folder
    /// walked after it (its descendants) are dropped, so folders full of what the rules
    /// leave out cost nothing.
    pub(crate) fn close_dir(&mut self, dir: u32) {
        if self.dirs.get(dir as usize).is_some_and(|d| !d.taken_below) {
            self.dirs.truncate(dir as usize);
        }
    }

    /// How many folders are listed (the index the next one gets).
    pub(crate) fn dirs_len(&self) -> u32 {
        self.dirs.len() as u32
    }

    /// Whether anything was taken at or below the folder `dir`.
    pub(crate) fn taken_below(&self, dir: u32) -> bool {
        self.dirs.get(dir as usize).is_some_and(|d| d.taken_below)
    }

    /// The folders listed (each with something taken at or below it), in walk order: their
    /// Windows paths and places.
    pub fn folders(&self) -> impl Iterator<Item = (&str, &Place)> {
        self.dirs.iter().map(|d| (d.win.as_str(), &d.place))
    }

    /// Called once the walk is over: indexes the folders for [`FileList::keeps`].
    pub(crate) fn seal(&mut self) {
        self.component_ids = HashMap::new();
        self.by_host = self
            .dirs
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((d.place.host_path()?, i as u32)))
            .collect();
        self.dirs.shrink_to_fit();
        self.files.shrink_to_fit();
        self.names.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> Entry {
        Entry {
            name: name.into(),
            kind: crate::volume::Kind::File,
            node: Node::new(name.into(), 0),
        }
    }

    fn list() -> FileList {
        let mut l = FileList::default();
        let vol = Place::host("/v");
        let at = |rel: &str| Place::at(vol.volume().clone(), Node::new(rel.into(), 0));
        let root = l.open_dir(&at(r"Users\ann"), r"C:\Users\ann", None);
        let docs = l.open_dir(
            &at(r"Users\ann\Documents"),
            r"C:\Users\ann\Documents",
            Some(root),
        );
        for n in ["a.txt", "b.txt", "é.txt"] {
            let meta = Meta {
                size: 3,
                ..Default::default()
            };
            l.push(docs, &entry(n), &meta, "Docs").unwrap();
        }
        l.close_dir(docs);
        let cache = l.open_dir(&at(r"Users\ann\Cache"), r"C:\Users\ann\Cache", Some(root));
        l.close_dir(cache);
        l.close_dir(root);
        l.seal();
        l
    }

    #[test]
    fn keeps_taken_files_and_the_folders_above_them_only() {
        let l = list();
        for p in [
            "/v/Users/ann",
            "/v/Users/ann/Documents",
            "/v/Users/ann/Documents/a.txt",
            "/v/Users/ann/Documents/é.txt",
            "/v/Users/ann//Documents/b.txt",
        ] {
            assert!(l.keeps(Path::new(p)), "{p}");
        }
        for p in [
            "/v/Users/ann/Cache",
            "/v/Users/ann/Documents/c.txt",
            "/v/Users/ann/Documents/A.txt",
            "/v/Users/ann/Other/a.txt",
            "/v/Users",
            "/",
        ] {
            assert!(!l.keeps(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn orders_picked_folders_first_then_by_disk_offset() {
        let mut l = FileList::default();
        let vol = Place::host("/v");
        let at = |rel: &str| Place::at(vol.volume().clone(), Node::new(rel.into(), 0));
        let add = |l: &mut FileList, dir, name: &str, offset: Option<u64>| {
            let meta = Meta {
                disk_offset: offset,
                ..Default::default()
            };
            l.push(dir, &entry(name), &meta, "Docs").unwrap();
        };
        let root = l.open_dir(&at("ann"), r"C:\ann", None);
        add(&mut l, root, "r1", Some(50));
        add(&mut l, root, "r2", None);
        add(&mut l, root, "r3", Some(10));
        let empty = l.open_dir(&at(r"ann\Empty"), r"C:\ann\Empty", Some(root));
        let sub = l.open_dir(&at(r"ann\Empty\Docs"), r"C:\ann\Empty\Docs", Some(empty));
        add(&mut l, sub, "d1", Some(90));
        add(&mut l, sub, "d2", Some(5));
        add(&mut l, sub, "d3", Some(90));
        l.close_dir(sub);
        l.close_dir(empty);
        let late = l.open_dir(&at(r"ann\Late"), r"C:\ann\Late", Some(root));
        add(&mut l, late, "l1", None);
        l.close_dir(late);
        l.close_dir(root);
        l.seal();
        let names = |order: Vec<u32>| -> Vec<String> {
            order
                .into_iter()
                .map(|i| l.get(i).unwrap().name().to_string())
                .collect()
        };
        assert_eq!(
            names(l.read_order(|d| d.ends_with("Docs"))),
            ["d2", "d1", "d3", "r3", "r1", "r2", "l1"]
        );
        assert_eq!(
            names(l.read_order(|_| false)),
            ["d2", "r3", "r1", "d1", "d3", "r2", "l1"]
        );
        let all: Vec<String> = l.iter().map(|f| f.name().to_string()).collect();
        let by_index: Vec<String> = (0..l.len() as u32)
            .map(|i| l.get(i).unwrap().win())
            .collect();
        assert_eq!(all, ["r1", "r2", "r3", "d1", "d2", "d3", "l1"]);
        assert_eq!(by_index[3], r"C:\ann\Empty\Docs\d1");
        assert_eq!(by_index[6], r"C:\ann\Late\l1");
        assert!(l.get(7).is_none());
    }

    #[test]
    fn lists_windows_paths_sizes_and_components() {
        let l = list();
        let got: Vec<(String, u64, String)> = l
            .iter()
            .map(|f| (f.win(), f.size(), f.component().to_string()))
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, r"C:\Users\ann\Documents\a.txt");
        assert_eq!(got[2].0, r"C:\Users\ann\Documents\é.txt");
        assert!(got.iter().all(|(_, s, c)| *s == 3 && c == "Docs"));
        assert_eq!(l.len(), 3);
    }
}
