//! An NTFS volume read by Lifeboat itself ([`lifeboat_volume::ntfs`]), as the stages see a
//! volume: from an image file, a partition, a whole disk's partition or a decrypted
//! BitLocker volume, without any operating system's driver. A node's id is its MFT file
//! reference, so a listed entry is opened without a second lookup.

use std::path::PathBuf;

use lifeboat_volume::ntfs::{ErrorKind, FileRef, Ntfs, NtfsError, ReparseKind, Stream};

use super::{
    Entry, Extras, FileData, Kind, Listing, Meta, Node, Problem, Times, Unavailable, Volume,
    VolumeError,
};
use crate::platform::attr;

/// An NTFS volume read through Lifeboat's own reader.
pub struct NtfsVolume {
    ntfs: Ntfs,
    name: String,
}

impl NtfsVolume {
    /// `name` is how the volume is shown: `disk.img (partition 3)`.
    pub fn new(ntfs: Ntfs, name: String) -> NtfsVolume {
        NtfsVolume { ntfs, name }
    }

    pub fn ntfs(&self) -> &Ntfs {
        &self.ntfs
    }

    fn error(&self, node: &Node, e: NtfsError) -> VolumeError {
        VolumeError {
            place: self.show(node),
            problem: problem(e),
        }
    }
}

/// A file named by its folder's index whose own MFT record lies on bad sectors.
#[derive(Debug, thiserror::Error)]
#[error("its MFT record lies on bad sectors: its folder's index names it, but where its data lies is lost")]
struct RecordLost;

fn raw(f: FileRef) -> u64 {
    f.record | (u64::from(f.sequence) << 48)
}

/// What an error of the reader means to the stages: lost bytes and missing files are told
/// apart by type; the rest is the file system's own error, kept whole.
fn problem(e: NtfsError) -> Problem {
    match e.kind() {
        ErrorKind::NotFound(_) | ErrorKind::Stale { .. } => Problem::NotFound,
        ErrorKind::Damaged { lost, .. } => Problem::Damaged(lost.clone()),
        _ => Problem::FileSystem(Box::new(e)),
    }
}

/// A folder behind a reparse point (a junction, a mount point, a directory symlink) is a
/// link; every other reparse point stands on a file whose metadata says more.
fn kind_of(attributes: u32, is_dir: bool) -> Kind {
    match (is_dir, attributes & attr::REPARSE_POINT != 0) {
        (true, true) => Kind::Link,
        (true, false) => Kind::Folder,
        (false, _) => Kind::File,
    }
}

impl Volume for NtfsVolume {
    fn name(&self) -> &str {
        &self.name
    }

    fn root(&self) -> Node {
        Node::new(String::new(), raw(self.ntfs.root()))
    }

    fn show(&self, node: &Node) -> String {
        format!("[{}]\\{}", self.name, node.rel())
    }

    fn host_path(&self, _node: &Node) -> Option<PathBuf> {
        None
    }

    fn list(&self, dir: &Node) -> Result<Listing, VolumeError> {
        let listing = self
            .ntfs
            .read_dir(FileRef::from_raw(dir.id()))
            .map_err(|e| self.error(dir, e))?;
        let mut out = Listing::default();
        for e in listing.entries {
            if e.file_ref.is_metadata() {
                continue;
            }
            let name = e.name().to_string();
            if name.contains('\\') || name.contains('\0') {
                out.bad_names.push(name);
                continue;
            }
            out.entries.push(Entry {
                kind: kind_of(e.file_name.flags, e.is_dir()),
                node: Node::new(dir.child_rel(&name), raw(e.file_ref)),
                name,
            });
        }
        Ok(out)
    }

    fn child(&self, dir: &Node, name: &str) -> Result<Option<Entry>, VolumeError> {
        let found = self
            .ntfs
            .lookup(FileRef::from_raw(dir.id()), name)
            .map_err(|e| self.error(dir, e))?;
        Ok(found.filter(|e| !e.file_ref.is_metadata()).map(|e| {
            let name = e.name().to_string();
            Entry {
                kind: kind_of(e.file_name.flags, e.is_dir()),
                node: Node::new(dir.child_rel(&name), raw(e.file_ref)),
                name,
            }
        }))
    }

    fn meta(&self, node: &Node) -> Result<Meta, VolumeError> {
        let file = self
            .ntfs
            .file(FileRef::from_raw(node.id()))
            .map_err(|e| match e.kind() {
                // No stream was read yet: what was lost is the file's own record.
                ErrorKind::Damaged { .. } => VolumeError {
                    place: self.show(node),
                    problem: Problem::FileSystem(Box::new(RecordLost)),
                },
                _ => self.error(node, e),
            })?;
        let info = file.info();
        let data = info.streams.iter().find(|s| s.name.is_empty());
        let mut kind = kind_of(info.attributes, info.is_dir);
        let reparse = info.reparse.as_ref();
        if matches!(
            reparse.map(|r| &r.kind),
            Some(
                ReparseKind::Symlink { .. }
                    | ReparseKind::LxSymlink { .. }
                    | ReparseKind::MountPoint { .. }
            )
        ) {
            kind = Kind::Link;
        }
        let unavailable = if info.encrypted {
            Some(Unavailable::Encrypted)
        } else {
            match reparse.map(|r| &r.kind) {
                Some(ReparseKind::Cloud) => Some(Unavailable::Cloud),
                Some(ReparseKind::Wof { .. }) => Some(Unavailable::Compressed),
                Some(ReparseKind::Dedup) => Some(Unavailable::Deduplicated),
                _ => None,
            }
        };
        let disk_offset = match (kind, data) {
            (Kind::File, Some(_)) => file
                .stream("")
                .ok()
                .and_then(|s| s.extents().first().and_then(|e| e.volume_offset)),
            _ => None,
        };
        Ok(Meta {
            kind: Some(kind),
            size: data.map_or(0, |d| d.size),
            attributes: info.attributes,
            times: Some(Times {
                created: info.times.created,
                written: info.times.modified,
                accessed: info.times.accessed,
            }),
            reparse_tag: reparse.map(|r| r.tag),
            file_id: Some(info.file_ref.record),
            links: u32::try_from(info.names.len()).unwrap_or(1).max(1),
            disk_offset,
            unavailable,
        })
    }

    fn open(&self, node: &Node) -> Result<Box<dyn FileData + '_>, VolumeError> {
        let fref = FileRef::from_raw(node.id());
        let file = self.ntfs.file(fref).map_err(|e| self.error(node, e))?;
        if file.info().is_dir {
            return Err(VolumeError {
                place: self.show(node),
                problem: Problem::NotRegular("a folder"),
            });
        }
        let stream = file.stream("").map_err(|e| self.error(node, e))?;
        Ok(Box::new(NtfsFile {
            stream,
            shown: self.show(node),
        }))
    }

    fn keeps_attributes(&self) -> bool {
        true
    }

    fn extras(&self, node: &Node) -> Result<Extras, VolumeError> {
        let file = self
            .ntfs
            .file(FileRef::from_raw(node.id()))
            .map_err(|e| self.error(node, e))?;
        let security = self
            .ntfs
            .file_security(&file)
            .map_err(|e| self.error(node, e))?;
        let info = file.info();
        Ok(Extras {
            security: security.map(|d| d.to_vec()),
            reparse: info.reparse.as_ref().map(|r| r.data.clone()),
            streams: info
                .streams
                .iter()
                .filter(|s| !s.name.is_empty())
                .map(|s| (s.name.clone(), s.size))
                .collect(),
        })
    }

    fn open_stream(&self, node: &Node, name: &str) -> Result<Box<dyn FileData + '_>, VolumeError> {
        let stream = self
            .ntfs
            .stream(FileRef::from_raw(node.id()), name)
            .map_err(|e| self.error(node, e))?;
        Ok(Box::new(NtfsFile {
            stream,
            shown: format!("{}:{name}", self.show(node)),
        }))
    }
}

struct NtfsFile {
    stream: Stream,
    shown: String,
}

impl FileData for NtfsFile {
    fn len(&self) -> u64 {
        self.stream.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), VolumeError> {
        let err = |problem| VolumeError {
            place: self.shown.clone(),
            problem,
        };
        let mut done = 0;
        let mut lost = Vec::new();
        while done < buf.len() {
            match self.stream.read_at(offset + done as u64, &mut buf[done..]) {
                Ok(0) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "read past the end of the file",
                    );
                    return Err(err(Problem::Io(e)));
                }
                Ok(n) => done += n,
                Err(e) => match e.kind() {
                    ErrorKind::Damaged { lost: l, read } if *read > 0 => {
                        lost.extend(l.iter().cloned());
                        done += read;
                    }
                    _ => return Err(err(problem(e))),
                },
            }
        }
        if lost.is_empty() {
            Ok(())
        } else {
            Err(err(Problem::Damaged(lost)))
        }
    }
}
