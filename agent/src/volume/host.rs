//! A folder of the machine Lifeboat runs on, as a volume: a mounted NTFS volume on Linux
//! (ntfs-3g), a drive letter in WinPE, a test's folder. Reads go through the host's own
//! file system; [`crate::fsread`] opens the files (regular files only, never a pipe).

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{
    Entry, FileData, Kind, Listing, Meta, Node, Problem, Times, Unavailable, Volume, VolumeError,
};
use crate::fsread::{self, ReadError};
use crate::platform::{attr, Attributes};

/// The node id of every host place: the host goes by paths.
pub const ROOT_ID: u64 = 0;

/// A host folder read as a volume.
pub struct HostVolume {
    root: PathBuf,
    name: String,
    attrs: Attributes,
}

impl HostVolume {
    pub fn new(root: PathBuf) -> HostVolume {
        HostVolume {
            name: root.display().to_string(),
            attrs: Attributes::for_root(&root),
            root,
        }
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
    /// Windows shows it) is a link, as a symlink is.
    fn kind_of(&self, path: &Path, ft: std::fs::FileType) -> Kind {
        if ft.is_symlink() {
            Kind::Link
        } else if ft.is_dir() {
            let reparse = self.attrs.kept()
                && std::fs::symlink_metadata(path)
                    .is_ok_and(|m| self.attrs.of_path(path, &m) & attr::REPARSE_POINT != 0);
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
/// the cloud; an EFS file's is ciphertext only Windows can give raw.
fn unavailable(attributes: u32) -> Option<Unavailable> {
    if attributes & (attr::RECALL_ON_DATA_ACCESS | attr::RECALL_ON_OPEN | attr::OFFLINE) != 0 {
        Some(Unavailable::Cloud)
    } else if attributes & attr::ENCRYPTED != 0 && !crate::platform::CAN_READ_EFS_RAW {
        Some(Unavailable::Encrypted)
    } else {
        None
    }
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
                kind: self.kind_of(&e.path(), ft),
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
            kind: self.kind_of(&path, ft),
            node: Node::new(dir.child_rel(&n), ROOT_ID),
            name: n,
        }))
    }

    fn meta(&self, node: &Node) -> Result<Meta, VolumeError> {
        let path = self.path(node);
        let m = std::fs::symlink_metadata(&path).map_err(|e| self.io(node, e))?;
        let attributes = self.attrs.of_path(&path, &m);
        let mut kind = self.kind_of(&path, m.file_type());
        if kind == Kind::Folder && attributes & attr::REPARSE_POINT != 0 {
            kind = Kind::Link;
        }
        Ok(Meta {
            kind: Some(kind),
            size: if m.is_file() { m.len() } else { 0 },
            attributes,
            times: Some(times(&m)),
            reparse_tag: None,
            file_id: file_id(&m),
            links: links(&m),
            disk_offset: None,
            unavailable: unavailable(attributes),
        })
    }

    fn open(&self, node: &Node) -> Result<Box<dyn FileData + '_>, VolumeError> {
        let path = self.path(node);
        let (file, len) = fsread::open_regular(&path).map_err(|e| match e {
            ReadError::NotRegular { what, .. } => self.error(node, Problem::NotRegular(what)),
            ReadError::Io { source, .. } => self.io(node, source),
            ReadError::TooLarge { size, limit, .. } => {
                self.error(node, Problem::TooLarge { size, limit })
            }
        })?;
        Ok(Box::new(HostFile {
            file,
            len,
            shown: path.display().to_string(),
        }))
    }

    fn keeps_attributes(&self) -> bool {
        self.attrs.kept()
    }
}

struct HostFile {
    file: File,
    len: u64,
    shown: String,
}

impl FileData for HostFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), VolumeError> {
        let err = |problem| VolumeError {
            place: self.shown.clone(),
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

/// 100 ns intervals between 1601-01-01 and 1970-01-01.
const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;

fn filetime(t: std::io::Result<std::time::SystemTime>) -> u64 {
    let Ok(t) = t else { return 0 };
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH_AS_FILETIME.saturating_add((d.as_nanos() / 100) as u64),
        Err(before) => {
            UNIX_EPOCH_AS_FILETIME.saturating_sub((before.duration().as_nanos() / 100) as u64)
        }
    }
}

fn times(m: &std::fs::Metadata) -> Times {
    let written = filetime(m.modified());
    Times {
        // A Linux file system without birth times: the write time stands in, as wimlib does.
        created: match filetime(m.created()) {
            0 => written,
            t => t,
        },
        written,
        accessed: filetime(m.accessed()),
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(m.ino())
}

#[cfg(unix)]
fn links(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    u32::try_from(m.nlink()).unwrap_or(u32::MAX)
}

#[cfg(windows)]
fn file_id(_m: &std::fs::Metadata) -> Option<u64> {
    None
}

#[cfg(windows)]
fn links(_m: &std::fs::Metadata) -> u32 {
    1
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
}
