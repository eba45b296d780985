//! A folder of the machine Lifeboat runs on, as a volume: a mounted NTFS volume on Linux
//! (ntfs-3g), a drive letter in WinPE, a test's folder. Reads go through the host's own
//! file system, by [`crate::platform`]: regular files only, never a pipe, never for writing.
//!
//! What a capture carries besides the data ([`Volume::extras`]) is what the host gives:
//! - Windows: the security descriptor (with the SACL where the privilege allows), the named
//!   data streams, a file's reparse buffer, hard links (file index), through handles opened
//!   for backup (SeBackupPrivilege when the account holds it, as WinPE's SYSTEM does);
//! - Linux (an ntfs-3g mount included): data, times, attributes and hard links, as
//!   wimlib's scan took them; reading ntfs-3g's descriptors costs a round trip per file
//!   (see the Unix side of [`crate::platform`]). ROOT = the device reads them all.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{
    Entry, Extras, FileData, Kind, Listing, Meta, Node, Problem, Times, Unavailable, Volume,
    VolumeError,
};
use crate::fsread::ReadError;
use crate::platform::{self, attr, Attributes, Folder, StatKind};
use lifeboat_volume::ntfs::{Reparse, ReparseKind};

/// The node id of every host place: the host goes by paths.
pub const ROOT_ID: u64 = 0;

/// A host folder read as a volume.
pub struct HostVolume {
    root: PathBuf,
    name: String,
    attrs: Attributes,
    /// The folder last looked into, held open: a walk and a capture go folder by folder,
    /// so its files are described and opened by name from it ([`platform::Folder`]).
    last: Mutex<Option<(String, Arc<Folder>)>>,
}

impl HostVolume {
    pub fn new(root: PathBuf) -> HostVolume {
        crate::platform::read_as_backup();
        HostVolume {
            name: root.display().to_string(),
            attrs: Attributes::for_root(&root),
            root,
            last: Mutex::new(None),
        }
    }

    /// The folder holding `node`, held open, and the node's name in it; `None` where it
    /// cannot be held (then the node is asked for by its whole path, as it would be).
    fn folder_of<'n>(&self, node: &'n Node) -> Option<(Arc<Folder>, &'n str)> {
        let parent = node.parent_rel()?;
        let name = Some(node.name()).filter(|n| !n.is_empty())?;
        let mut last = self.last.lock().ok()?;
        if let Some((_, f)) = last.as_ref().filter(|(rel, _)| rel == parent) {
            return Some((f.clone(), name));
        }
        let f = Arc::new(Folder::open(&self.path(&Node::new(parent.to_string(), ROOT_ID))).ok()?);
        *last = Some((parent.to_string(), f.clone()));
        Some((f, name))
    }

    fn path(&self, node: &Node) -> PathBuf {
        let mut p = self.root.clone();
        for c in node.rel().split('\\').filter(|c| !c.is_empty()) {
            p.push(c);
        }
        p
    }

    fn error(&self, node: &Node, problem: Problem) -> VolumeError {
        VolumeError {
            place: self.show(node),
            problem,
        }
    }

    fn io(&self, node: &Node, e: std::io::Error) -> VolumeError {
        let problem = if e.kind() == std::io::ErrorKind::NotFound {
            Problem::NotFound
        } else {
            Problem::Io(e)
        };
        self.error(node, problem)
    }

    /// What a listed or looked-up entry is: a folder behind a reparse point (a junction as
    /// Windows shows it) is a link, as a symlink is. The path is built only where it is
    /// asked: for a folder on a volume that keeps attributes.
    fn kind_of(&self, path: impl FnOnce() -> PathBuf, ft: std::fs::FileType) -> Kind {
        if ft.is_symlink() {
            Kind::Link
        } else if ft.is_dir() {
            let reparse = self.attrs.kept() && {
                let path = path();
                std::fs::symlink_metadata(&path)
                    .is_ok_and(|m| self.attrs.of_path(&path, &m) & attr::REPARSE_POINT != 0)
            };
            if reparse {
                Kind::Link
            } else {
                Kind::Folder
            }
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Other
        }
    }
}

/// What the attributes say of a file's data as the host gives it: a placeholder's is in
/// the cloud; an EFS file's is ciphertext, whose raw form no store carries
/// ([`crate::platform::CAN_READ_EFS_RAW`]).
fn unavailable(attributes: u32) -> Option<Unavailable> {
    if attributes & (attr::RECALL_ON_DATA_ACCESS | attr::RECALL_ON_OPEN | attr::OFFLINE) != 0 {
        Some(Unavailable::Cloud)
    } else if attributes & attr::ENCRYPTED != 0 && !crate::platform::CAN_READ_EFS_RAW {
        Some(Unavailable::Encrypted)
    } else {
        None
    }
}

/// Whether a file's reparse buffer travels with it. Not where the host reads the data
/// through the reparse point (Windows' filters, ntfs-3g's plugins): a WOF-compressed,
/// deduplicated or cloud file that could be read goes as the plain file it reads as (as
/// wimlib takes deduplicated files); with its reparse point it would come back as a
/// placeholder that nothing serves, its data beside it ignored.
fn carried(reparse: &[u8]) -> bool {
    !Reparse::parse(reparse).is_some_and(|r| {
        matches!(
            r.kind,
            ReparseKind::Wof { .. } | ReparseKind::Dedup | ReparseKind::Cloud
        )
    })
}

/// A name the host gave that a Windows path can carry: Unicode, and no `\` (a Linux folder
/// may hold one; it would read as two components).
fn usable(name: &std::ffi::OsStr) -> Option<&str> {
    name.to_str().filter(|n| !n.contains('\\'))
}

impl Volume for HostVolume {
    fn name(&self) -> &str {
        &self.name
    }

    fn root(&self) -> Node {
        Node::new(String::new(), ROOT_ID)
    }

    fn show(&self, node: &Node) -> String {
        self.path(node).display().to_string()
    }

    fn host_path(&self, node: &Node) -> Option<PathBuf> {
        Some(self.path(node))
    }

    fn list(&self, dir: &Node) -> Result<Listing, VolumeError> {
        let path = self.path(dir);
        let rd = std::fs::read_dir(&path).map_err(|e| self.io(dir, e))?;
        let mut out = Listing::default();
        for e in rd.flatten() {
            let os_name = e.file_name();
            let Some(name) = usable(&os_name) else {
                out.bad_names.push(os_name.to_string_lossy().into_owned());
                continue;
            };
            let Ok(ft) = e.file_type() else { continue };
            out.entries.push(Entry {
                kind: self.kind_of(|| e.path(), ft),
                node: Node::new(dir.child_rel(name), ROOT_ID),
                name: name.to_string(),
            });
        }
        Ok(out)
    }

    fn child(&self, dir: &Node, name: &str) -> Result<Option<Entry>, VolumeError> {
        let base = self.path(dir);
        let exact = base.join(name);
        let found = match std::fs::symlink_metadata(&exact) {
            Ok(m) => Some((name.to_string(), exact, m.file_type())),
            Err(_) => {
                let lower = name.to_lowercase();
                let rd = std::fs::read_dir(&base).map_err(|e| self.io(dir, e))?;
                rd.flatten()
                    .filter_map(|e| {
                        let n = usable(&e.file_name())?.to_string();
                        (n.to_lowercase() == lower).then_some((n, e))
                    })
                    .find_map(|(n, e)| Some((n, e.path(), e.file_type().ok()?)))
            }
        };
        Ok(found.map(|(n, path, ft)| Entry {
            kind: self.kind_of(|| path, ft),
            node: Node::new(dir.child_rel(&n), ROOT_ID),
            name: n,
        }))
    }

    fn meta(&self, node: &Node) -> Result<Meta, VolumeError> {
        let path = self.path(node);
        let st = match self.folder_of(node) {
            Some((folder, name)) => folder.stat(name, &path, &self.attrs),
            None => platform::stat(&path, &self.attrs),
        };
        Ok(meta_of(st.map_err(|e| self.io(node, e))?))
    }

    fn open(&self, node: &Node) -> Result<Box<dyn FileData + '_>, VolumeError> {
        let path = self.path(node);
        let opened = match self.folder_of(node) {
            Some((folder, name)) => folder.open_regular_stat(name, &path, &self.attrs),
            None => platform::open_regular_stat(&path, &self.attrs),
        };
        let (file, st) = opened.map_err(|e| match e {
            ReadError::NotRegular { what, .. } => self.error(node, Problem::NotRegular(what)),
            ReadError::Io { source, .. } => self.io(node, source),
            ReadError::TooLarge { size, limit, .. } => {
                self.error(node, Problem::TooLarge { size, limit })
            }
        })?;
        Ok(Box::new(HostFile {
            file,
            len: st.size,
            meta: Some(meta_of(st)),
            path,
        }))
    }

    fn extras(&self, node: &Node) -> Result<Extras, VolumeError> {
        let x =
            platform::file_extras(&self.path(node), &self.attrs).map_err(|e| self.io(node, e))?;
        Ok(Extras {
            security: x.security,
            reparse: x.reparse.filter(|r| carried(r)),
            streams: x.streams,
        })
    }

    fn open_stream(&self, node: &Node, name: &str) -> Result<Box<dyn FileData + '_>, VolumeError> {
        let path = self.path(node);
        let shown = format!("{}:{name}", path.display());
        let (file, len) = platform::open_stream(&path, name).map_err(|e| VolumeError {
            place: shown.clone(),
            problem: match e.kind() {
                std::io::ErrorKind::NotFound => Problem::NotFound,
                _ => Problem::Io(e),
            },
        })?;
        Ok(Box::new(HostFile {
            file,
            len,
            meta: None,
            path: PathBuf::from(shown),
        }))
    }

    fn keeps_attributes(&self) -> bool {
        self.attrs.kept()
    }
}

/// What the host's stat says, as the stages see it.
fn meta_of(st: platform::Stat) -> Meta {
    let kind = match st.kind {
        StatKind::Dir if st.attributes & attr::REPARSE_POINT != 0 => Kind::Link,
        StatKind::Dir => Kind::Folder,
        StatKind::File => Kind::File,
        StatKind::Link => Kind::Link,
        StatKind::Other => Kind::Other,
    };
    Meta {
        kind: Some(kind),
        size: st.size,
        attributes: st.attributes,
        times: Some(Times {
            created: st.created,
            written: st.written,
            accessed: st.accessed,
        }),
        reparse_tag: st.reparse_tag,
        file_id: st.file_id,
        links: st.links,
        disk_offset: None,
        unavailable: unavailable(st.attributes),
    }
}

/// An opened host file (or named stream), with what its handle said of it when opened.
struct HostFile {
    file: File,
    len: u64,
    /// The file's own (none for a named stream).
    meta: Option<Meta>,
    /// For messages only (a stream's as `path:name`).
    path: PathBuf,
}

impl FileData for HostFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn meta(&self) -> Option<&Meta> {
        self.meta.as_ref()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), VolumeError> {
        let err = |problem| VolumeError {
            place: self.path.display().to_string(),
            problem,
        };
        let mut done = 0;
        while done < buf.len() {
            match read_at(&self.file, &mut buf[done..], offset + done as u64) {
                Ok(0) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file is shorter than it was (changed while it was read?)",
                    );
                    return Err(err(Problem::Io(e)));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(err(Problem::Io(e))),
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::super::Place;

    #[test]
    fn finds_names_without_regard_to_case_and_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("Users/Ann/Documents")).unwrap();
        std::fs::write(root.join("Users/Ann/Documents/a.txt"), b"abc").unwrap();
        let vol = Place::host(root);
        let f = vol.resolve_ci(r"users\ANN\documents\A.TXT").unwrap();
        assert_eq!(f.name(), "a.txt");
        assert_eq!(f.read_bounded(3).unwrap(), b"abc");
        assert!(f.read_bounded(2).is_err());
        assert_eq!(
            f.to_string(),
            root.join("Users/Ann/Documents/a.txt").display().to_string()
        );
        assert!(vol.resolve_ci(r"Users\..\..\..\etc\passwd").is_none());
        assert!(vol
            .resolve_ci(r"Users\Ann\Documents\a.txt:hidden")
            .is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("Users/Ann"), root.join("Users/Link")).unwrap();
            assert!(vol.resolve_ci(r"Users\Link\Documents").is_none());
            assert!(vol.resolve_ci(r"Users\Ann\Documents").is_some());
        }
        let docs = vol.resolve_ci(r"Users\Ann\Documents").unwrap();
        assert_eq!(docs.parent().unwrap().name(), "Ann");
        assert!(docs.open().is_err());
    }

    #[test]
    fn hard_links_share_an_identity_and_times_are_the_file_systems() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, b"one file").unwrap();
        std::fs::hard_link(&a, dir.path().join("b.txt")).unwrap();
        std::fs::write(dir.path().join("c.txt"), b"another").unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(when)
            .unwrap();
        let vol = Place::host(dir.path());
        let meta = |n: &str| vol.child(n).unwrap().meta().unwrap();
        let (ma, mb, mc) = (meta("a.txt"), meta("b.txt"), meta("c.txt"));
        assert_eq!((ma.links, mb.links, mc.links), (2, 2, 1));
        assert_eq!(ma.file_id, mb.file_id);
        assert_ne!(ma.file_id, mc.file_id);
        assert_eq!((ma.size, ma.kind), (8, Some(super::Kind::File)));
        // 2001-09-09T01:46:40Z as a Windows file time.
        assert_eq!(ma.times.unwrap().written, 126_444_736_000_000_000);
        // A folder of a file system that keeps no NTFS metadata: nothing besides data.
        let x = vol.child("a.txt").unwrap().extras().unwrap();
        assert!(x.security.is_none() && x.reparse.is_none() && x.streams.is_empty());
    }

    /// A file's description and its opening from its folder held open give what the whole
    /// path gives (std's metadata is the independent view), and never a link's target or a
    /// pipe's wait, in a folder or at the root.
    #[cfg(unix)]
    #[test]
    fn files_are_described_and_opened_from_their_folder_as_by_path() {
        use super::super::{Kind, Problem};
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("Docs/Sub")).unwrap();
        for f in ["top.txt", "Docs/a.txt", "Docs/b.txt", "Docs/Sub/c.txt"] {
            std::fs::write(root.join(f), f.as_bytes()).unwrap();
        }
        std::os::unix::fs::symlink(root.join("Docs/a.txt"), root.join("Docs/link.txt")).unwrap();
        let fifo = std::ffi::CString::new(root.join("Docs/pipe").to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let _socket = std::os::unix::net::UnixListener::bind(root.join("Docs/sock")).unwrap();
        let vol = Place::host(root);
        for rel in [r"top.txt", r"Docs\a.txt", r"Docs\Sub\c.txt", r"Docs\b.txt"] {
            let p = vol.resolve_ci(rel).unwrap();
            let std_meta = std::fs::symlink_metadata(p.host_path().unwrap()).unwrap();
            let m = p.meta().unwrap();
            assert_eq!(m.kind, Some(Kind::File), "{rel}");
            assert_eq!(m.size, std_meta.len(), "{rel}");
            assert_eq!(m.file_id, Some(std_meta.ino()), "{rel}");
            let written = crate::platform::stat(
                &p.host_path().unwrap(),
                &crate::platform::Attributes::for_root(root),
            )
            .unwrap();
            let t = m.times.unwrap();
            assert_eq!(
                (t.created, t.written, t.accessed),
                (written.created, written.written, written.accessed),
                "{rel}"
            );
            let data = p.open().unwrap();
            let opened = data.meta().unwrap();
            assert_eq!(
                (opened.size, opened.file_id, opened.links),
                (m.size, m.file_id, m.links)
            );
            let mut buf = vec![0; data.len() as usize];
            data.read_at(0, &mut buf).unwrap();
            assert_eq!(buf, rel.replace('\\', "/").as_bytes());
        }
        let docs = vol.resolve_ci("Docs").unwrap();
        let listed = docs.list().unwrap();
        let entry = |name: &str| {
            listed
                .iter()
                .find(|(e, _)| e.name == name)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(entry("link.txt").meta().unwrap().kind, Some(Kind::Link));
        let refused = |p: Place| match p.open().map(|_| ()).unwrap_err().problem {
            Problem::NotRegular(what) => what,
            other => panic!("{other}"),
        };
        assert_eq!(refused(entry("link.txt")), "a link");
        assert_eq!(refused(entry("pipe")), "a named pipe");
        assert_eq!(refused(entry("sock")), "a socket");
        assert_eq!(refused(entry("Sub")), "a folder");
        // Gone since it was listed: not found, as by path.
        let b = entry("b.txt");
        std::fs::remove_file(root.join("Docs/b.txt")).unwrap();
        assert!(b.meta().unwrap_err().is_not_found());
        assert!(b.open().map(|_| ()).unwrap_err().is_not_found());
    }

    #[test]
    fn reparse_points_read_through_travel_as_plain_files() {
        let buffer = |tag: u32, data: &[u8]| {
            let mut b = tag.to_le_bytes().to_vec();
            b.extend((data.len() as u16).to_le_bytes());
            b.extend([0, 0]);
            b.extend(data);
            b
        };
        let wof: Vec<u8> = [1u32, 2, 1, 0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert!(!super::carried(&buffer(0x8000_0017, &wof)));
        assert!(!super::carried(&buffer(0x8000_0013, &[7; 80])));
        assert!(!super::carried(&buffer(0x9000_101A, &[6; 60])));
        // An app execution alias, an HSM tag nobody here knows: their data is the file's.
        assert!(super::carried(&buffer(0x8000_001B, &[3, 0, 0, 0])));
        assert!(super::carried(&buffer(0x8000_0099, &[1, 2, 3])));
    }
}
