//! A volume as the stages see it. detect, hive loading, facts, the plan's walk and the
//! capture's writer read the offline system only through [`Volume`], and name what they
//! read with a [`Place`]: a volume and a path on it. Two implementations:
//! - [`host::HostVolume`]: a folder of the machine Lifeboat runs on (a mounted volume, a
//!   drive letter in WinPE, a folder of test fixtures);
//! - [`ntfs::NtfsVolume`]: an NTFS volume read by Lifeboat itself from an image file, a
//!   partition or a whole disk, decrypted first when BitLocker locks it.
//!
//! What both promise, whatever the volume holds:
//! - **read-only**: the trait has no way to write, create or delete;
//! - **no escape**: a path is resolved one component at a time from the volume's root, `..`
//!   lexically first (it cannot climb above the root), and a link (symlink, junction, any
//!   reparse point on a folder) is never followed: a path through one is not found;
//! - **regular files only** are opened for their data, and whole-file reads are bounded
//!   (a pipe or device where a hive should be is refused by name, never waited on);
//! - **names are data**: a name is never handed to the host as a path except by the host
//!   implementation, component by component, without `:` (a drive or a stream).

pub mod host;
pub mod ntfs;
pub mod open;
pub mod rescue;

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A file or folder on a volume: its path from the volume's root (components joined by
/// `\`, empty for the root) and the implementation's own handle for it (an MFT reference;
/// 0 where the implementation has none and goes by the path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    rel: String,
    id: u64,
}

impl Node {
    pub fn new(rel: String, id: u64) -> Node {
        Node { rel, id }
    }

    /// The path from the volume's root, `\`-separated, without a leading `\`.
    pub fn rel(&self) -> &str {
        &self.rel
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The last component, or "" for the root.
    pub fn name(&self) -> &str {
        self.rel.rsplit('\\').next().unwrap_or("")
    }

    fn child_rel(&self, name: &str) -> String {
        if self.rel.is_empty() {
            name.to_string()
        } else {
            format!("{}\\{name}", self.rel)
        }
    }

    fn parent_rel(&self) -> Option<&str> {
        if self.rel.is_empty() {
            return None;
        }
        Some(self.rel.rsplit_once('\\').map_or("", |(p, _)| p))
    }
}

/// What an entry is, as far as the stages care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    /// A symbolic link, a junction or any other reparse point standing for a folder or a
    /// file elsewhere: never followed.
    Link,
    /// A device, pipe or socket (a host folder only): never opened.
    Other,
}

/// One entry of a folder listing.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub node: Node,
}

/// A folder's entries, and the names in it that are not Unicode (a damaged or hostile
/// file system), shown with replacement characters: no WIM can hold them.
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub bad_names: Vec<String>,
}

/// Windows file times: 100 ns intervals since 1601-01-01 UTC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub created: u64,
    pub written: u64,
    pub accessed: u64,
}

/// What is known of a file or folder without reading its data.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub kind: Option<Kind>,
    pub size: u64,
    /// Windows `FILE_ATTRIBUTE_*` bits; 0 where the volume keeps none (a Linux folder).
    pub attributes: u32,
    pub times: Option<Times>,
    /// The reparse tag of a reparse point.
    pub reparse_tag: Option<u32>,
    /// The file's identity on its volume (device and inode, MFT record): two names with the
    /// same identity are hard links of one file.
    pub file_id: Option<u64>,
    /// Names the file has on the volume (hard links), 1 for most.
    pub links: u32,
    /// Where its data begins on the disk, for reading in on-disk order.
    pub disk_offset: Option<u64>,
    /// Why its data cannot be had from this volume, though the file is there.
    pub unavailable: Option<Unavailable>,
}

/// Why a file's data cannot be taken from where it lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// A cloud-only placeholder (OneDrive Files On-Demand): its content is on the server.
    Cloud,
    /// EFS-encrypted, and this volume cannot give its raw form.
    Encrypted,
    /// Compressed by Windows' overlay filter (WOF, CompactOS): not decompressed here.
    Compressed,
    /// Deduplicated by Windows Server: its data is in the chunk store.
    Deduplicated,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unavailable::Cloud => "cloud-only placeholder (e.g. OneDrive Files On-Demand): its content is not on this disk; it stays in the cloud",
            Unavailable::Encrypted => "EFS-encrypted: its data is ciphertext only the user's certificate opens, and a store cannot carry its raw form; copy it from the running Windows as that user",
            Unavailable::Compressed => "compressed by Windows (WOF/CompactOS), which is not decompressed here: copy it from the running Windows",
            Unavailable::Deduplicated => "deduplicated by Windows Server: its data is in the volume's chunk store, not in the file",
        })
    }
}

impl Meta {
    pub fn is_file(&self) -> bool {
        self.kind == Some(Kind::File)
    }
    pub fn is_dir(&self) -> bool {
        self.kind == Some(Kind::Folder)
    }
}

/// A stream of a file opened for reading.
pub trait FileData: Send {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `buf` from `offset` (all of it, or an error; a read past the end is an error).
    /// Bytes lost to bad sectors read as zeros and come back as [`Problem::Damaged`] with
    /// the buffer kept.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), VolumeError>;
    /// What the opened file says of itself (a host file's `fstat`), where the volume had
    /// it from the open: the capture takes it instead of asking [`Volume::meta`] again.
    fn meta(&self) -> Option<&Meta> {
        None
    }
}

/// A volume as the stages see it. See the module documentation for what every
/// implementation promises.
pub trait Volume: Send + Sync {
    /// What the volume is, for messages: `/mnt/win`, `disk.img, partition 3`.
    fn name(&self) -> &str;
    /// Its root folder.
    fn root(&self) -> Node;
    /// How a place on it is shown to people and in reports (the host path of a folder).
    fn show(&self, node: &Node) -> String;
    /// The host path of a place, for a volume that is a host folder.
    fn host_path(&self, node: &Node) -> Option<PathBuf>;
    /// The folder's entries, in no particular order.
    fn list(&self, dir: &Node) -> Result<Listing, VolumeError>;
    /// The entry of `dir` named `name`: the exact name first, then without regard to case
    /// as Windows compares names.
    fn child(&self, dir: &Node, name: &str) -> Result<Option<Entry>, VolumeError>;
    /// What is known of `node` without reading it; a link is described, not followed.
    fn meta(&self, node: &Node) -> Result<Meta, VolumeError>;
    /// The unnamed data stream of a regular file.
    fn open(&self, node: &Node) -> Result<Box<dyn FileData + '_>, VolumeError>;
    /// Whether [`Meta::attributes`] come from the volume (an NTFS volume) or are all 0.
    fn keeps_attributes(&self) -> bool;
    /// What a capture carries of a file or folder besides its unnamed data: its security
    /// descriptor, its reparse data, its named streams. A host folder on Linux has none.
    fn extras(&self, _node: &Node) -> Result<Extras, VolumeError> {
        Ok(Extras::default())
    }
    /// A named data stream of a file (one [`Volume::extras`] listed).
    fn open_stream(&self, node: &Node, _name: &str) -> Result<Box<dyn FileData + '_>, VolumeError> {
        Err(VolumeError {
            place: self.show(node),
            problem: Problem::NotFound,
        })
    }
}

/// What a capture carries of a file besides its unnamed data.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The self-relative security descriptor, as Windows stores it.
    pub security: Option<Vec<u8>>,
    /// The whole reparse buffer (tag, length, data) of a reparse point.
    pub reparse: Option<Vec<u8>>,
    /// Named data streams (`Zone.Identifier`): name and size.
    pub streams: Vec<(String, u64)>,
}

/// A place on a volume: what the stages hold where they used to hold a host path.
#[derive(Clone)]
pub struct Place {
    vol: Arc<dyn Volume>,
    node: Node,
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Place({})", self)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.vol.show(&self.node))
    }
}

impl PartialEq for Place {
    fn eq(&self, other: &Place) -> bool {
        Arc::ptr_eq(&self.vol, &other.vol) && self.node == other.node
            || self.to_string() == other.to_string()
    }
}

impl Place {
    /// The root of a volume.
    pub fn root(vol: Arc<dyn Volume>) -> Place {
        Place {
            node: vol.root(),
            vol,
        }
    }

    /// A folder of the machine Lifeboat runs on, as the root of a volume of its own.
    pub fn host(path: impl Into<PathBuf>) -> Place {
        Place::root(Arc::new(host::HostVolume::new(path.into())))
    }

    /// A path of the machine Lifeboat runs on that a technician gave (`--windir`, an
    /// Offline.xml `<path>`), as a place whose parents can be reached up to the root of
    /// the mounted volume holding it (the file system's root when none is known). `..` is
    /// resolved lexically, as Windows resolves it.
    pub fn host_within(path: &std::path::Path) -> Place {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let path: PathBuf = path.components().fold(PathBuf::new(), |mut p, c| {
            match c {
                std::path::Component::ParentDir => {
                    p.pop();
                }
                std::path::Component::CurDir => {}
                c => p.push(c.as_os_str()),
            }
            p
        });
        let mount = crate::platform::volume_for_path(&path).map(|v| v.root);
        let root = mount
            .filter(|m| path.starts_with(m))
            .or_else(|| path.ancestors().last().map(PathBuf::from))
            .unwrap_or_default();
        let parts: Option<Vec<&str>> = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_str().filter(|n| !n.contains('\\')))
            .collect();
        match parts {
            Some(parts) => Place::at(
                Arc::new(host::HostVolume::new(root)),
                Node::new(parts.join("\\"), host::ROOT_ID),
            ),
            // A name no Windows path can carry: the place is the whole path.
            None => Place::host(path),
        }
    }

    pub fn at(vol: Arc<dyn Volume>, node: Node) -> Place {
        Place { vol, node }
    }

    pub fn volume(&self) -> &Arc<dyn Volume> {
        &self.vol
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The last component of the path ("" at the root).
    pub fn name(&self) -> &str {
        self.node.name()
    }

    /// The host path, when the volume is a host folder.
    pub fn host_path(&self) -> Option<PathBuf> {
        self.vol.host_path(&self.node)
    }

    /// The folder holding this place; `None` at the root. Found again from the root, so a
    /// parent is never reached through a link.
    pub fn parent(&self) -> Option<Place> {
        let rel = self.node.parent_rel()?.to_string();
        Place::root(self.vol.clone()).resolve_ci(&rel)
    }

    /// The entry of this folder named `name` (see [`Volume::child`]).
    pub fn child(&self, name: &str) -> Option<Place> {
        let e = self.vol.child(&self.node, name).ok()??;
        (e.kind != Kind::Link).then(|| self.with(e.node))
    }

    fn with(&self, node: Node) -> Place {
        Place {
            vol: self.vol.clone(),
            node,
        }
    }

    /// Finds `rel` (backslash- or slash-separated) below this place, each component matched
    /// as Windows matches names. It cannot leave the place: `..` is resolved lexically first
    /// ([`crate::winpath::normal_components`]), a component with a `:` (a drive, a data
    /// stream) is never looked up, and a link on the way is never followed (the path is
    /// then not found).
    pub fn resolve_ci(&self, rel: &str) -> Option<Place> {
        let mut cur = self.clone();
        for part in crate::winpath::normal_components(rel) {
            if part.contains(':') {
                return None;
            }
            cur = cur.child(part)?;
        }
        Some(cur)
    }

    /// The path a child called `name` has here, whether or not it exists (for messages).
    pub fn shown_child(&self, name: &str) -> String {
        self.vol.show(&Node::new(self.node.child_rel(name), 0))
    }

    /// Entries of this folder, each with its place.
    pub fn list(&self) -> Result<Vec<(Entry, Place)>, VolumeError> {
        let listing = self.vol.list(&self.node)?;
        Ok(listing
            .entries
            .into_iter()
            .map(|e| {
                let p = self.with(e.node.clone());
                (e, p)
            })
            .collect())
    }

    /// [`Volume::list`] as it comes, bad names included.
    pub fn listing(&self) -> Result<Listing, VolumeError> {
        self.vol.list(&self.node)
    }

    /// The place of an entry of this folder's listing.
    pub fn entry(&self, e: &Entry) -> Place {
        self.with(e.node.clone())
    }

    pub fn meta(&self) -> Result<Meta, VolumeError> {
        self.vol.meta(&self.node)
    }

    pub fn is_dir(&self) -> bool {
        self.meta().is_ok_and(|m| m.is_dir())
    }

    pub fn is_file(&self) -> bool {
        self.meta().is_ok_and(|m| m.is_file())
    }

    pub fn open(&self) -> Result<Box<dyn FileData + '_>, VolumeError> {
        self.vol.open(&self.node)
    }

    pub fn extras(&self) -> Result<Extras, VolumeError> {
        self.vol.extras(&self.node)
    }

    pub fn open_stream(&self, name: &str) -> Result<Box<dyn FileData + '_>, VolumeError> {
        self.vol.open_stream(&self.node, name)
    }

    /// Reads a whole regular file of at most `limit` bytes (a hive, a log, Offline.xml):
    /// anything else, or anything larger, is refused by name before a byte is read.
    pub fn read_bounded(&self, limit: u64) -> Result<Vec<u8>, VolumeError> {
        let data = self.open()?;
        let size = data.len();
        if size > limit {
            return Err(self.error(Problem::TooLarge { size, limit }));
        }
        let mut buf = vec![0u8; size as usize];
        data.read_at(0, &mut buf)?;
        Ok(buf)
    }

    /// As [`read_bounded`](Self::read_bounded), but bytes lost to bad sectors do not
    /// refuse the file: they read as zeros, and their ranges come with the bytes (a hive
    /// that lost a few cells is still worth reading).
    pub fn read_bounded_lossy(
        &self,
        limit: u64,
    ) -> Result<(Vec<u8>, Vec<Range<u64>>), VolumeError> {
        let data = self.open()?;
        let size = data.len();
        if size > limit {
            return Err(self.error(Problem::TooLarge { size, limit }));
        }
        let mut buf = vec![0u8; size as usize];
        match data.read_at(0, &mut buf) {
            Ok(()) => Ok((buf, Vec::new())),
            Err(VolumeError {
                problem: Problem::Damaged(lost),
                ..
            }) => Ok((buf, lost)),
            Err(e) => Err(e),
        }
    }

    /// Reads at most the first `limit` bytes of a regular file of any size.
    pub fn read_head(&self, limit: u64) -> Result<Vec<u8>, VolumeError> {
        let data = self.open()?;
        let mut buf = vec![0u8; data.len().min(limit) as usize];
        data.read_at(0, &mut buf)?;
        Ok(buf)
    }

    /// An error about this place.
    pub fn error(&self, problem: Problem) -> VolumeError {
        VolumeError {
            place: self.to_string(),
            problem,
        }
    }
}

/// What went wrong reading a place of a volume.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct VolumeError {
    /// The place as [`Place`] shows it.
    pub place: String,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("not found")]
    NotFound,
    #[error("not a regular file ({0}); it is not read")]
    NotRegular(&'static str),
    #[error("{size} bytes, more than the {limit} bytes such a file may have; it is not read")]
    TooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The file system itself is damaged or hostile where this place lies (the error of
    /// the layer beneath: the NTFS reader, BitLocker, the disk).
    #[error("{0}")]
    FileSystem(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Bytes of the file lie on bad sectors: zeros stand in for them (ranges are byte
    /// offsets in the file).
    #[error("{} bytes unreadable (bad sectors); zeros stand in for them", lost_bytes(.0))]
    Damaged(Vec<Range<u64>>),
}

fn lost_bytes(lost: &[Range<u64>]) -> u64 {
    lost.iter().map(|r| r.end - r.start).sum()
}

impl VolumeError {
    pub fn is_not_found(&self) -> bool {
        matches!(self.problem, Problem::NotFound)
            || matches!(&self.problem, Problem::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}
