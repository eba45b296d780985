//! Lifeboat's own WIM writer: one pass from the caller's files to a finished WIM, each
//! file read once.
//!
//! What it promises:
//! - **One read per stream.** Each stream's data is pulled once from the caller's reader,
//!   hashed (SHA-1) as it passes and written; a stream whose hash was seen before is
//!   stored once. A stream of up to 1 MiB, or of up to 64 MiB when a stored blob has its
//!   size, is read whole first, so a copy of it is never compressed or written; a larger
//!   one is written as it is read and taken back if it is a copy. Data goes into the WIM
//!   in the order the caller adds entries.
//! - **Every compression** (none, XPRESS, LZX, LZMS, non-solid), compressed by wimlib's own
//!   compressors on every core, each chunk stored as it is where compression does not
//!   make it smaller. Memory in flight is bounded whatever the file sizes.
//! - **The format as wimlib and DISM read it**: per-resource chunk tables, one metadata
//!   resource per image (security descriptors each stored once, reparse points as reparse
//!   streams with their tag, hard links as one inode, named streams as stream entries, no
//!   short names), the blob table, the XML `wiminfo` and DISM show, an optional integrity
//!   table, and the header with a fresh GUID.
//! - **Nothing half-written is referenced.** A stream whose read fails or whose size
//!   changes while it is read leaves its entry out and returns the error (the writer goes
//!   on); the header is written last, so until [`WimWriter::finish`] returns the file is no
//!   WIM at all, and a writer dropped or aborted before that removes it.
//! - **Bounded** by [`limits`]: names, depth, entries, streams, descriptors.
//!
//! The writer knows nothing of where files come from: the caller gives each entry's path
//! in the image (as components), its metadata and a reader per stream. Parents are
//! created implicitly as plain folders when an entry below them comes first, and take the
//! caller's metadata when the caller adds them later (once), so entries may come in any
//! order, e.g. the order of their data on the disk.
//!
//! ```no_run
//! # use lifeboat_wim::{Compression, writer::*};
//! let mut w = WimWriter::create("files.wim".as_ref(), Options::new(Compression::Lzx))?;
//! w.begin_image("ann", "Lifeboat capture")?;
//! let mut file = std::fs::File::open("notes.txt").unwrap();
//! w.add(Entry::file(&["Users", "ann", "notes.txt"], Data { size: 5, reader: &mut file }))?;
//! w.end_image()?;
//! let summary = w.finish()?;
//! # Ok::<(), Error>(())
//! ```

mod compress;
mod format;
mod hash;
pub mod limits;
mod output;
mod sink;
mod tree;
mod xml;

use std::hash::BuildHasher;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use hashbrown::HashTable;
use sha1::{Digest, Sha1};

use crate::Compression;
use format::{Header, Reshdr, RES_METADATA};
use limits::*;
use output::Output;
use sink::{Sink, Target};
use tree::{Inode, Tree, DIRECTORY, NONE, REPARSE_POINT};

/// Streams up to this size are read whole before anything is written: a duplicate is
/// then never written at all. Larger ones are written as they are read.
const WHOLE: u64 = 1 << 20;
/// A larger stream is read in pieces of this size.
const PIECE: usize = 1 << 20;
/// A larger stream whose size is that of a blob stored before may be a copy of it: up to
/// this size it is read whole too, so that a copy is found before any of it is compressed
/// (a larger one is compressed as it is read and taken back if it is a copy). The bound
/// is the memory one such stream may take.
const HELD: u64 = 64 << 20;
/// Largest chunk size accepted: the memory in flight is a few chunks per worker.
const MAX_CHUNK: u32 = 2 << 20;

const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
const FILE_ATTRIBUTE_ENCRYPTED: u32 = 0x4000;

/// How the WIM is written.
#[derive(Debug, Clone)]
pub struct Options {
    pub compression: Compression,
    /// Bytes per compressed chunk; 0 for wimlib's default (32 KiB for XPRESS and LZX,
    /// 128 KiB for LZMS). A power of two within what the compression allows (at most
    /// 2 MiB).
    pub chunk_size: u32,
    /// Compressor threads; 0 for one per core.
    pub threads: usize,
    /// Append an integrity table (a SHA-1 per 10 MiB, checked by `wimverify` and
    /// `Wim::open(…, true)`).
    pub integrity: bool,
    /// Wait until the WIM is on the disk before `finish` returns.
    pub sync: bool,
}

impl Options {
    /// wimlib's defaults for `compression`, every core, with an integrity table.
    pub fn new(compression: Compression) -> Options {
        Options {
            compression,
            chunk_size: 0,
            threads: 0,
            integrity: true,
            sync: false,
        }
    }

    /// The chunk size to use, or why the one asked for cannot be.
    fn chunk(&self) -> Result<u32, Error> {
        let (min, default, max) = match self.compression {
            Compression::None => return Ok(0),
            Compression::Xpress => (4096, 32768, 65536),
            Compression::Lzx => (32768, 32768, MAX_CHUNK),
            Compression::Lzms => (32768, 131072, MAX_CHUNK),
        };
        match self.chunk_size {
            0 => Ok(default),
            c if c.is_power_of_two() && (min..=max).contains(&c) => Ok(c),
            _ => Err(Error::Usage(
                "the chunk size must be a power of two the compression allows",
            )),
        }
    }
}

/// Windows file times: 100-nanosecond intervals since 1601-01-01 UTC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub creation: u64,
    pub last_access: u64,
    pub last_write: u64,
}

impl Times {
    /// A Windows file time from Unix seconds and nanoseconds (before 1601: 0).
    pub fn filetime(secs: i64, nanos: u32) -> u64 {
        let s = secs.saturating_add(11_644_473_600).max(0) as u64;
        s.saturating_mul(10_000_000)
            .saturating_add(u64::from(nanos.min(999_999_999)) / 100)
    }

    fn now() -> u64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Times::filetime(d.as_secs() as i64, d.subsec_nanos())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
}

/// A stream's data: `size` bytes that the writer pulls from `reader`, once.
pub struct Data<'a> {
    pub size: u64,
    pub reader: &'a mut dyn Read,
}

pub struct NamedStream<'a> {
    pub name: &'a str,
    pub data: Data<'a>,
}

/// A reparse point as NTFS holds it: the tag, the reserved field and the data that follow
/// the 8-byte header of the reparse buffer.
#[derive(Debug, Clone, Copy)]
pub struct Reparse<'a> {
    pub tag: u32,
    pub reserved: u16,
    pub data: &'a [u8],
}

/// One file or folder of the image.
pub struct Entry<'a> {
    /// Its path in the image, one name per component; empty for the image's root.
    pub path: &'a [&'a str],
    pub kind: Kind,
    /// `FILE_ATTRIBUTE_*`. The writer sets DIRECTORY for folders and REPARSE_POINT for
    /// reparse points (clearing them otherwise), and NORMAL for a file with none.
    pub attributes: u32,
    pub times: Times,
    /// A self-relative security descriptor; the image stores each distinct one once.
    pub security: Option<&'a [u8]>,
    pub reparse: Option<Reparse<'a>>,
    /// Hard links: entries with the same key are names of one file. The first supplies
    /// its data and metadata; for the others these are ignored and nothing is read.
    pub link: Option<u64>,
    /// The unnamed data stream (files only); `None` for an empty file.
    pub data: Option<Data<'a>>,
    pub named: Vec<NamedStream<'a>>,
}

impl<'a> Entry<'a> {
    pub fn folder(path: &'a [&'a str]) -> Entry<'a> {
        Entry {
            path,
            kind: Kind::Folder,
            attributes: DIRECTORY,
            times: Times::default(),
            security: None,
            reparse: None,
            link: None,
            data: None,
            named: Vec::new(),
        }
    }

    pub fn file(path: &'a [&'a str], data: Data<'a>) -> Entry<'a> {
        Entry {
            kind: Kind::File,
            attributes: FILE_ATTRIBUTE_NORMAL,
            data: Some(data),
            ..Entry::folder(path)
        }
    }
}

/// What [`WimWriter::add`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// The SHA-1 of its unnamed data stream (`None` when empty).
    pub sha1: Option<[u8; 20]>,
    /// Another name of a file added before (nothing was read).
    pub linked: bool,
}

/// One image as its XML describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    pub name: String,
    pub description: String,
    /// Folders, the root included (wimlib's DIRCOUNT); a folder that is a reparse point
    /// (a junction) counts as a file, as wimlib counts it.
    pub folders: u64,
    /// Files, each name of a hard-linked file counted (FILECOUNT).
    pub files: u64,
    /// Bytes of every stream of every name (TOTALBYTES).
    pub bytes: u64,
    /// Bytes of the names beyond the first of hard-linked files (HARDLINKBYTES).
    pub hard_link_bytes: u64,
    /// When the image was begun and ended, as Windows file times.
    pub created: u64,
    pub modified: u64,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub images: Vec<ImageSummary>,
    /// Distinct blobs stored.
    pub blobs: u64,
    /// Streams found to be copies of a blob already stored (not stored again).
    pub duplicates: u64,
    /// The size of the finished WIM.
    pub wim_bytes: u64,
}

/// Why an entry was refused; the writer goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("a name is empty, \".\" or \"..\", or holds a NUL, \\ or /")]
    BadName,
    #[error("a name is longer than {MAX_NAME_UNITS} UTF-16 units")]
    NameTooLong,
    #[error("the path is deeper than {MAX_DEPTH} folders")]
    TooDeep,
    #[error("it was added before")]
    Exists,
    #[error("a folder above it is a file or a reparse point")]
    ParentNotFolder,
    #[error("the image holds {MAX_ENTRIES} entries already")]
    TooManyEntries,
    #[error("more than {MAX_NAMED_STREAMS} named streams")]
    TooManyNamedStreams,
    #[error("two named streams have the same name")]
    DuplicateStream,
    #[error("its reparse data is larger than {MAX_REPARSE_DATA} bytes")]
    ReparseTooLarge,
    #[error("its security descriptor is not a self-relative descriptor of at most {MAX_SECURITY_DESCRIPTOR} bytes")]
    BadSecurityDescriptor,
    #[error("the image's distinct security descriptors exceed {MAX_SECURITY_BYTES} bytes")]
    TooManySecurityDescriptors,
    #[error(
        "a folder or a reparse point cannot be a hard link (the WIM format has no room for it)"
    )]
    BadLink,
    #[error("a hard link's key names a {0:?} and this entry is not one")]
    LinkKindMismatch(Kind),
    #[error("a folder has no unnamed data stream")]
    DataOnFolder,
    #[error("the root must be a folder")]
    RootNotFolder,
    #[error("it is encrypted (EFS); its raw data cannot be stored")]
    Encrypted,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The entry was refused; the WIM is unharmed.
    #[error("{path}: {problem}")]
    Entry { path: String, problem: EntryProblem },
    /// Reading a stream failed; the entry was left out.
    #[error("{path}{}: {error}", stream_suffix(.stream))]
    Read {
        path: String,
        stream: Option<String>,
        error: io::Error,
    },
    /// A stream held more or fewer bytes than declared (it changed while it was read);
    /// the entry was left out.
    #[error("{path}{}: changed while it was read ({declared} bytes declared, {} found)", stream_suffix(.stream), if *.grew { "more".to_string() } else { .read.to_string() })]
    SizeChanged {
        path: String,
        stream: Option<String>,
        declared: u64,
        read: u64,
        grew: bool,
    },
    /// Writing the WIM failed; the writer is stopped.
    #[error("{}: {error}{}", .path.display(), if full(.error) { " (the destination is full)" } else { "" })]
    Output { path: PathBuf, error: io::Error },
    #[error("wimlib could not make a {compression} compressor for {chunk_size}-byte chunks (error {code})")]
    Compressor {
        compression: &'static str,
        chunk_size: u32,
        code: i32,
    },
    #[error("starting a compressor thread: {0}")]
    Thread(io::Error),
    #[error("a compressor thread failed")]
    WorkerFailed,
    #[error("{0}")]
    Usage(&'static str),
    #[error("the writer stopped at an earlier error; the WIM is not written")]
    Stopped,
}

/// A write failed for want of room (a full disk, a quota), as the system says it.
fn full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

fn stream_suffix(s: &Option<String>) -> String {
    s.as_ref().map(|n| format!(":{n}")).unwrap_or_default()
}

impl Error {
    fn output(path: &Path, error: io::Error) -> Error {
        Error::Output {
            path: path.to_path_buf(),
            error,
        }
    }

    /// The destination had no room for the WIM.
    pub fn out_of_space(&self) -> bool {
        matches!(self, Error::Output { error, .. } if full(error))
    }

    /// Whether the writer is stopped (the WIM cannot be finished); otherwise only the
    /// entry was left out and the caller decides whether to go on.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Error::Entry { .. } | Error::Read { .. } | Error::SizeChanged { .. } | Error::Usage(_)
        )
    }
}

/// Why a stream was not stored.
enum ReadFail {
    Io(io::Error),
    Size { read: u64, grew: bool },
    Fatal(Error),
}

impl From<Error> for ReadFail {
    fn from(e: Error) -> Self {
        ReadFail::Fatal(e)
    }
}

/// Every distinct blob: its hash, size and references, found by hash.
struct Blobs {
    hashes: Vec<[u8; 20]>,
    sizes: Vec<u64>,
    refs: Vec<u32>,
    index: HashTable<u32>,
    keys: hash::Keyed,
    /// Sizes of the blobs larger than [`WHOLE`] (few: a stream of one of these sizes may
    /// be a copy, see [`HELD`]).
    large_sizes: std::collections::HashSet<u64>,
}

impl Blobs {
    fn find(&self, hash: &[u8; 20]) -> Option<u32> {
        let key = self.keys.sha1(hash);
        self.index
            .find(key, |&b| self.hashes[b as usize] == *hash)
            .copied()
    }

    fn insert(&mut self, hash: [u8; 20], size: u64) -> u32 {
        let id = self.hashes.len() as u32;
        if size > WHOLE {
            self.large_sizes.insert(size);
        }
        self.hashes.push(hash);
        self.sizes.push(size);
        self.refs.push(0);
        let (hashes, keys) = (&self.hashes, self.keys);
        self.index
            .insert_unique(keys.sha1(&hash), id, |&b| keys.sha1(&hashes[b as usize]));
        id
    }

    fn size(&self, b: u32) -> u64 {
        if b == NONE {
            0
        } else {
            self.sizes[b as usize]
        }
    }
}

impl tree::Hashes for Blobs {
    fn hash(&self, blob: u32) -> [u8; 20] {
        self.hashes[blob as usize]
    }
}

struct Image {
    tree: Tree,
    summary: ImageSummary,
    /// Hard link keys: the first node of each.
    links: HashMap<u64, u32>,
}

/// Read buffers, reused from stream to stream.
struct Buffers {
    whole: Vec<u8>,
    piece: Vec<u8>,
}

/// Writes one WIM. See the module documentation.
pub struct WimWriter {
    sink: Option<Sink>,
    compression: Compression,
    chunk_size: u32,
    sync: bool,
    path: PathBuf,
    blobs: Blobs,
    image: Option<Image>,
    images: Vec<ImageSummary>,
    bufs: Buffers,
    duplicates: u64,
    stopped: bool,
    /// [`HELD`] (smaller in tests, to take back copies of small files).
    held: u64,
}

impl WimWriter {
    /// Creates (or replaces) the WIM at `path` and starts the compressor threads.
    pub fn create(path: &Path, options: Options) -> Result<WimWriter, Error> {
        let chunk_size = options.chunk()?;
        let pool = if options.compression == Compression::None {
            None
        } else {
            let threads = match options.threads {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            Some(compress::Pool::start(
                options.compression,
                chunk_size,
                threads,
            )?)
        };
        let out = Output::create(path, options.integrity)?;
        Ok(WimWriter {
            sink: Some(Sink::new(out, pool, chunk_size.max(1))),
            compression: options.compression,
            chunk_size,
            sync: options.sync,
            path: path.to_path_buf(),
            blobs: Blobs {
                hashes: Vec::new(),
                sizes: Vec::new(),
                refs: Vec::new(),
                index: HashTable::new(),
                keys: hash::Keyed::new(),
                large_sizes: Default::default(),
            },
            image: None,
            images: Vec::new(),
            bufs: Buffers {
                whole: Vec::new(),
                piece: Vec::new(),
            },
            duplicates: 0,
            stopped: false,
            held: HELD,
        })
    }

    /// Starts the next image; its root is a plain folder until an entry with an empty
    /// path says otherwise.
    pub fn begin_image(&mut self, name: &str, description: &str) -> Result<(), Error> {
        self.usable()?;
        if self.image.is_some() {
            return Err(Error::Usage("an image is open already"));
        }
        if self.images.len() >= MAX_IMAGES {
            return Err(Error::Usage("a WIM holds at most 65535 images"));
        }
        for text in [name, description] {
            if text.chars().count() > MAX_IMAGE_TEXT || !xml::legal(text) {
                return Err(Error::Usage("an image's name and description are at most 1024 characters, without control characters"));
            }
        }
        if name.is_empty()
            || self
                .images
                .iter()
                .any(|i| i.name.to_lowercase() == name.to_lowercase())
        {
            return Err(Error::Usage("each image needs a name of its own"));
        }
        let now = Times::now();
        let root_times = Times {
            creation: now,
            last_access: now,
            last_write: now,
        };
        self.image = Some(Image {
            tree: Tree::new(root_times),
            summary: ImageSummary {
                name: name.to_string(),
                description: description.to_string(),
                folders: 1,
                files: 0,
                bytes: 0,
                hard_link_bytes: 0,
                created: now,
                modified: now,
            },
            links: HashMap::new(),
        });
        Ok(())
    }

    /// Adds one entry to the open image, reading its streams. An error that is not
    /// [fatal](Error::is_fatal) left this entry out and nothing else.
    pub fn add(&mut self, entry: Entry<'_>) -> Result<Added, Error> {
        self.usable()?;
        let r = self.add_entry(entry);
        if r.as_ref().is_err_and(Error::is_fatal) {
            self.stopped = true;
        }
        r
    }

    fn add_entry(&mut self, mut e: Entry<'_>) -> Result<Added, Error> {
        let shown = e.path.join("\\");
        let refuse = |problem| Error::Entry {
            path: shown.clone(),
            problem,
        };
        let names = check_entry(&e).map_err(refuse)?;
        let image = self
            .image
            .as_mut()
            .ok_or(Error::Usage("add before begin_image"))?;
        let (parent, found, leaf) =
            resolve(&image.tree, &names, e.reparse.is_some()).map_err(refuse)?;
        if let Some(&first) = e.link.as_ref().and_then(|k| image.links.get(k)) {
            return self
                .add_link(e, &names, parent, found, first)
                .map_err(refuse);
        }
        let (data, reparse, named) = self.read_streams(&mut e, &shown)?;
        let image = self
            .image
            .as_mut()
            .ok_or(Error::Usage("add before begin_image"))?;
        let security = match e.security {
            Some(sd) => image.tree.security_id(sd).map_err(refuse)?,
            None => NONE,
        };
        if !image.tree.has_room(named.iter().map(|n| n.0.len()).sum()) {
            return Err(refuse(EntryProblem::TooManyEntries));
        }
        let inode = Inode {
            attributes: attributes(&e),
            times: e.times,
            security,
            data,
            reparse: e.reparse.map(|r| (r.tag, r.reserved, reparse)),
            named: &named,
        };
        let node = place(image, &names, parent, found, leaf, e.kind).map_err(refuse)?;
        image.tree.set(node, &inode);
        if let Some(key) = e.link {
            image.links.insert(key, node);
        }
        let mut bytes = 0;
        for b in image.tree.blobs_of(node) {
            self.blobs.refs[b as usize] += 1;
            bytes += self.blobs.size(b);
        }
        image.summary.bytes += bytes;
        if found < leaf {
            // wimlib counts a folder that is a reparse point (a junction) as a file.
            let folder = e.kind == Kind::Folder && e.reparse.is_none();
            image.summary.folders += u64::from(folder);
            image.summary.files += u64::from(!folder);
        }
        Ok(Added {
            sha1: (data != NONE).then(|| self.blobs.hashes[data as usize]),
            linked: false,
        })
    }

    /// Another name for a file added before: no stream is read.
    fn add_link(
        &mut self,
        e: Entry<'_>,
        names: &[Vec<u16>],
        parent: u32,
        found: usize,
        first: u32,
    ) -> Result<Added, EntryProblem> {
        let image = self.image.as_mut().ok_or(EntryProblem::Exists)?;
        if e.kind != Kind::File {
            return Err(EntryProblem::LinkKindMismatch(Kind::File));
        }
        let node = place(image, names, parent, found, names.len(), Kind::File)?;
        image.tree.link(node, first);
        let mut bytes = 0;
        for b in image.tree.blobs_of(node) {
            self.blobs.refs[b as usize] += 1;
            bytes += self.blobs.size(b);
        }
        image.summary.files += 1;
        image.summary.bytes += bytes;
        image.summary.hard_link_bytes += bytes;
        let data = image.tree.nodes[node as usize].data;
        Ok(Added {
            sha1: (data != NONE).then(|| self.blobs.hashes[data as usize]),
            linked: true,
        })
    }

    /// Stores an entry's data, reparse data and named streams; their blobs.
    #[allow(clippy::type_complexity)]
    fn read_streams(
        &mut self,
        e: &mut Entry<'_>,
        shown: &str,
    ) -> Result<(u32, u32, Vec<(Vec<u16>, u32)>), Error> {
        let fail = |stream: Option<&str>, f: ReadFail, declared: u64| match f {
            ReadFail::Io(error) => Error::Read {
                path: shown.to_string(),
                stream: stream.map(str::to_string),
                error,
            },
            ReadFail::Size { read, grew } => Error::SizeChanged {
                path: shown.to_string(),
                stream: stream.map(str::to_string),
                declared,
                read,
                grew,
            },
            ReadFail::Fatal(e) => e,
        };
        let data = match e.data.as_mut() {
            Some(d) => self
                .store(d.size, d.reader)
                .map_err(|f| fail(None, f, d.size))?,
            None => NONE,
        };
        let reparse = match e.reparse {
            Some(r) => {
                let size = r.data.len() as u64;
                self.store(size, &mut { r.data })
                    .map_err(|f| fail(None, f, size))?
            }
            None => NONE,
        };
        let mut named = Vec::with_capacity(e.named.len());
        for s in &mut e.named {
            let blob = self
                .store(s.data.size, s.data.reader)
                .map_err(|f| fail(Some(s.name), f, s.data.size))?;
            named.push((s.name.encode_utf16().collect(), blob));
        }
        Ok((data, reparse, named))
    }

    /// Stores one stream as a blob (or finds it stored): its number, NONE when empty.
    fn store(&mut self, size: u64, reader: &mut dyn Read) -> Result<u32, ReadFail> {
        let sink = self.sink.as_mut().ok_or(Error::Stopped)?;
        let blobs = &mut self.blobs;
        let hold = size <= WHOLE || (size <= self.held && blobs.large_sizes.contains(&size));
        let mut new = false;
        let hash = read_resource(
            sink,
            &mut self.bufs,
            size,
            hold,
            reader,
            &mut |hash, sink| {
                if blobs.find(&hash).is_some() {
                    return None;
                }
                let id = blobs.insert(hash, size);
                sink.blob_res.push(Reshdr::default());
                new = true;
                Some(Target::Blob(id))
            },
        )?;
        let Some(hash) = hash else { return Ok(NONE) };
        if !new {
            self.duplicates += 1;
        }
        Ok(self.blobs.find(&hash).unwrap_or(NONE))
    }

    /// Ends the open image: its metadata resource is written, its tree let go.
    pub fn end_image(&mut self) -> Result<ImageSummary, Error> {
        self.usable()?;
        let r = self.write_metadata();
        if r.is_err() {
            self.stopped = true;
        }
        r
    }

    fn write_metadata(&mut self) -> Result<ImageSummary, Error> {
        let Some(mut image) = self.image.take() else {
            return Err(Error::Usage("end_image without begin_image"));
        };
        image.tree.sort();
        let index = self.images.len();
        let mut md = image.tree.metadata(&self.blobs);
        let sink = self.sink.as_mut().ok_or(Error::Stopped)?;
        let size = md.size;
        let done = read_resource(
            sink,
            &mut self.bufs,
            size,
            size <= WHOLE,
            &mut md,
            &mut |_, _| Some(Target::Metadata(index)),
        );
        match done {
            Ok(Some(hash)) => {
                if sink.meta_hashes.len() <= index {
                    sink.meta_hashes.resize(index + 1, [0; 20]);
                }
                sink.meta_hashes[index] = hash;
            }
            Err(ReadFail::Fatal(e)) => return Err(e),
            // The metadata is never empty, and reading it from memory cannot fail.
            Ok(None) | Err(_) => {
                return Err(Error::Usage("the image's metadata could not be made"))
            }
        }
        image.summary.modified = Times::now();
        self.images.push(image.summary.clone());
        Ok(image.summary)
    }

    /// Ends the open image if any, writes the blob table, the XML, the integrity table
    /// and at last the header.
    pub fn finish(mut self) -> Result<Summary, Error> {
        self.usable()?;
        if self.image.is_some() {
            self.end_image()?;
        }
        if self.images.is_empty() {
            return Err(Error::Usage("a WIM needs at least one image"));
        }
        let mut sink = self.sink.take().ok_or(Error::Stopped)?;
        let r = self.write_tables(&mut sink);
        let end = match r {
            Ok(header) => sink.close(&header, self.sync),
            Err(e) => Err(e),
        };
        let wim_bytes = match end {
            Ok(n) => n,
            Err(e) => {
                let _ = std::fs::remove_file(&self.path);
                return Err(e);
            }
        };
        Ok(Summary {
            images: std::mem::take(&mut self.images),
            blobs: self.blobs.refs.iter().filter(|&&r| r > 0).count() as u64,
            duplicates: self.duplicates,
            wim_bytes,
        })
    }

    /// Blob table, XML and integrity table; the header that points at them.
    fn write_tables(&mut self, sink: &mut Sink) -> Result<Vec<u8>, Error> {
        sink.drain()?;
        let mut order: Vec<u32> = (0..self.blobs.hashes.len() as u32)
            .filter(|&b| self.blobs.refs[b as usize] > 0)
            .collect();
        order.sort_unstable_by_key(|&b| sink.blob_res[b as usize].offset);
        let mut table = Vec::with_capacity((order.len() + self.images.len()) * 50);
        for (res, hash) in sink.meta_res.iter().zip(&sink.meta_hashes) {
            format::put_blob_entry(&mut table, *res, 1, hash);
        }
        for &b in &order {
            let (res, refs, hash) = (
                sink.blob_res[b as usize],
                self.blobs.refs[b as usize],
                &self.blobs.hashes[b as usize],
            );
            format::put_blob_entry(&mut table, res, refs, hash);
        }
        let blob_table = sink.write_plain(&table, RES_METADATA)?;
        let integrity_hashes = sink.out.integrity_hashes()?;
        let xml_at = sink.out.pos();
        let xml = sink.write_plain(&xml::document(&self.images, xml_at), RES_METADATA)?;
        let integrity = match integrity_hashes {
            Some(h) => sink.write_plain(&format::integrity_table(&h), 0)?,
            None => Reshdr::default(),
        };
        Ok(Header {
            flags: format::compression_flags(self.compression),
            chunk_size: self.chunk_size,
            guid: guid(),
            image_count: self.images.len() as u32,
            blob_table,
            xml,
            integrity,
        }
        .to_bytes())
    }

    /// Stops without a WIM: the file is removed.
    pub fn abort(self) {}

    fn usable(&self) -> Result<(), Error> {
        if self.stopped || self.sink.is_none() {
            return Err(Error::Stopped);
        }
        Ok(())
    }
}

impl Drop for WimWriter {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            drop(sink); // the compressor threads end, the file is closed
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Reads one resource of `size` bytes from `reader`, hashing it; `decide` is given the
/// hash and says where it goes (`None`: nowhere, a copy of one stored). A resource to
/// `hold` is read before anything is written; any other is written as it is read and
/// taken back if `decide` says so or the read fails. Its hash, `None` if empty.
fn read_resource(
    sink: &mut Sink,
    bufs: &mut Buffers,
    size: u64,
    hold: bool,
    reader: &mut dyn Read,
    decide: &mut dyn FnMut([u8; 20], &mut Sink) -> Option<Target>,
) -> Result<Option<[u8; 20]>, ReadFail> {
    if hold {
        let buf = &mut bufs.whole;
        buf.resize(size as usize + 1, 0);
        let got = fill(reader, buf).map_err(ReadFail::Io)?;
        if got as u64 != size {
            return Err(ReadFail::Size {
                read: got as u64,
                grew: got as u64 > size,
            });
        }
        if size == 0 {
            return Ok(None);
        }
        let hash: [u8; 20] = Sha1::digest(&buf[..got]).into();
        match decide(hash, sink) {
            Some(target) if size <= WHOLE => sink.whole(target, &buf[..got])?,
            Some(target) => {
                // Large: its chunks go in as they are compressed, as a stream's do.
                sink.begin_stream(size);
                for piece in buf[..got].chunks(PIECE.max(sink.chunk_size() as usize)) {
                    sink.piece(piece)?;
                }
                sink.end_stream(Some(target))?;
            }
            None => {}
        }
        return Ok(Some(hash));
    }
    let piece_len = PIECE.max(sink.chunk_size() as usize);
    bufs.piece.resize(piece_len, 0);
    let mut hash = Sha1::new();
    sink.begin_stream(size);
    let mut left = size;
    while left > 0 {
        let n = left.min(piece_len as u64) as usize;
        let got = match fill(reader, &mut bufs.piece[..n]) {
            Ok(got) => got,
            Err(e) => {
                sink.end_stream(None)?;
                return Err(ReadFail::Io(e));
            }
        };
        if got < n {
            sink.end_stream(None)?;
            return Err(ReadFail::Size {
                read: size - left + got as u64,
                grew: false,
            });
        }
        hash.update(&bufs.piece[..n]);
        sink.piece(&bufs.piece[..n])?;
        left -= n as u64;
    }
    match fill(reader, &mut [0u8; 1]) {
        Ok(0) => {}
        other => {
            sink.end_stream(None)?;
            return Err(match other {
                Err(e) => ReadFail::Io(e),
                Ok(_) => ReadFail::Size {
                    read: size,
                    grew: true,
                },
            });
        }
    }
    let hash: [u8; 20] = hash.finalize().into();
    let target = decide(hash, sink);
    sink.end_stream(target)?;
    Ok(Some(hash))
}

/// Reads until `buf` is full or the reader ends; the bytes read.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The entry's names in UTF-16, or why it is refused before anything is read.
fn check_entry(e: &Entry<'_>) -> Result<Vec<Vec<u16>>, EntryProblem> {
    if e.path.len() > MAX_DEPTH {
        return Err(EntryProblem::TooDeep);
    }
    let names = e
        .path
        .iter()
        .map(|n| name_units(n))
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() && (e.kind != Kind::Folder || e.link.is_some()) {
        return Err(EntryProblem::RootNotFolder);
    }
    if e.kind == Kind::Folder && e.data.is_some() {
        return Err(EntryProblem::DataOnFolder);
    }
    if e.link.is_some() && (e.kind == Kind::Folder || e.reparse.is_some()) {
        return Err(EntryProblem::BadLink);
    }
    if e.attributes & FILE_ATTRIBUTE_ENCRYPTED != 0 {
        return Err(EntryProblem::Encrypted);
    }
    if e.reparse.is_some_and(|r| r.data.len() > MAX_REPARSE_DATA) {
        return Err(EntryProblem::ReparseTooLarge);
    }
    if let Some(sd) = e.security {
        // Self-relative, revision 1, at least its 20-byte header.
        if sd.len() < 20 || sd.len() > MAX_SECURITY_DESCRIPTOR || sd[0] != 1 {
            return Err(EntryProblem::BadSecurityDescriptor);
        }
    }
    if e.named.len() > MAX_NAMED_STREAMS {
        return Err(EntryProblem::TooManyNamedStreams);
    }
    let mut seen = std::collections::HashSet::new();
    for s in &e.named {
        name_units(s.name)?;
        if !seen.insert(s.name) {
            return Err(EntryProblem::DuplicateStream);
        }
    }
    Ok(names)
}

fn name_units(name: &str) -> Result<Vec<u16>, EntryProblem> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['\0', '\\', '/']) {
        return Err(EntryProblem::BadName);
    }
    let units: Vec<u16> = name.encode_utf16().collect();
    if units.len() > MAX_NAME_UNITS {
        return Err(EntryProblem::NameTooLong);
    }
    Ok(units)
}

/// The attributes stored for an entry.
fn attributes(e: &Entry<'_>) -> u32 {
    let mut a = e.attributes & !(DIRECTORY | REPARSE_POINT);
    if e.kind == Kind::Folder {
        a |= DIRECTORY;
    }
    if e.reparse.is_some() {
        a |= REPARSE_POINT;
    }
    if a == 0 {
        a = FILE_ATTRIBUTE_NORMAL;
    }
    a
}

/// Where an entry goes: the deepest folder of its path that exists, how many of its
/// names exist, and the leaf's index (the path's length; 0 for the root). Refused if
/// something on the way is not a folder, or the entry itself was added already.
fn resolve(
    tree: &Tree,
    names: &[Vec<u16>],
    reparse: bool,
) -> Result<(u32, usize, usize), EntryProblem> {
    let mut at = 0u32;
    let mut found = 0;
    for name in names {
        if !tree.holds_children(at) {
            return Err(EntryProblem::ParentNotFolder);
        }
        match tree.child(at, name) {
            Some(c) => {
                at = c;
                found += 1;
            }
            None => break,
        }
    }
    if found == names.len() {
        // The entry exists: only a folder created as a parent may be given its metadata,
        // and it has children, so it cannot become a reparse point.
        if tree.is_explicit(at) || (at != 0 && !tree.holds_children(at)) || reparse {
            return Err(EntryProblem::Exists);
        }
        let parent = if at == 0 {
            0
        } else {
            tree.nodes[at as usize].parent
        };
        return Ok((parent, found, names.len()));
    }
    Ok((at, found, names.len()))
}

/// Creates the missing folders of the path and the entry's node (or finds the folder
/// created before as a parent); its number.
fn place(
    image: &mut Image,
    names: &[Vec<u16>],
    parent: u32,
    found: usize,
    leaf: usize,
    kind: Kind,
) -> Result<u32, EntryProblem> {
    if found == leaf {
        // A folder created as a parent, now given its own metadata.
        if kind != Kind::Folder {
            return Err(EntryProblem::Exists);
        }
        return Ok(if leaf == 0 {
            0
        } else {
            image
                .tree
                .child(parent, &names[leaf - 1])
                .ok_or(EntryProblem::Exists)?
        });
    }
    let times = Times {
        creation: image.summary.created,
        last_access: image.summary.created,
        last_write: image.summary.created,
    };
    let mut at = parent;
    for name in &names[found..leaf - 1] {
        at = image.tree.insert(at, name, times)?;
        image.summary.folders += 1;
    }
    image.tree.insert(at, &names[leaf - 1], times)
}

/// A fresh GUID for the WIM: random bytes from the standard library's hasher keys, the
/// time and the process.
fn guid() -> [u8; 16] {
    let s = std::hash::RandomState::new();
    let t = Times::now();
    let a = s.hash_one((t, std::process::id(), 1u8));
    let b = s.hash_one((t, std::process::id(), 2u8));
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&a.to_le_bytes());
    g[8..].copy_from_slice(&b.to_le_bytes());
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn chunk_sizes_are_wimlibs_defaults_or_refused_when_the_format_forbids_them() {
        let chunk = |c, size| {
            let mut o = Options::new(c);
            o.chunk_size = size;
            o.chunk().ok()
        };
        assert_eq!(chunk(Compression::None, 0), Some(0));
        assert_eq!(chunk(Compression::Xpress, 0), Some(32768));
        assert_eq!(chunk(Compression::Lzx, 0), Some(32768));
        assert_eq!(chunk(Compression::Lzms, 0), Some(131072));
        assert_eq!(chunk(Compression::Xpress, 4096), Some(4096));
        assert_eq!(
            chunk(Compression::Xpress, 1 << 17),
            None,
            "XPRESS stops at 64 KiB"
        );
        assert_eq!(chunk(Compression::Lzx, 16384), None, "LZX starts at 32 KiB");
        assert_eq!(chunk(Compression::Lzx, 40000), None, "a power of two");
        assert_eq!(chunk(Compression::Lzms, 4 << 20), None, "bounded memory");
    }

    /// One compressor thread and a chunk size of 64 KiB: wimlib reads the files back.
    #[test]
    fn one_thread_and_a_larger_chunk_size_write_a_wim_wimlib_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.wim");
        let mut o = Options::new(Compression::Lzx);
        (o.threads, o.chunk_size, o.integrity) = (1, 1 << 16, false);
        let mut w = WimWriter::create(&path, o).unwrap();
        w.begin_image("one", "").unwrap();
        let data: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 1000).to_le_bytes())
            .collect();
        let size = data.len() as u64;
        w.add(Entry::file(
            &["d", "f"],
            Data {
                size,
                reader: &mut &data[..],
            },
        ))
        .unwrap();
        w.finish().unwrap();
        let mut wim = crate::Wim::open(&path, false).unwrap();
        assert!(!wim.info().unwrap().has_integrity);
        assert_eq!(wim.verify(None).unwrap()[0].bytes, size);
        let out = dir.path().join("out");
        wim.extract_image(1, &out, None).unwrap();
        assert_eq!(std::fs::read(out.join("d/f")).unwrap(), data);
    }

    /// A large copy read as a stream (its size not held) is written, compressed, then
    /// taken back: the WIM holds one copy and wimlib reads every file back.
    #[test]
    fn a_large_copy_written_as_it_is_read_is_taken_back() {
        for c in [Compression::None, Compression::Xpress, Compression::Lzms] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.wim");
            let mut w = WimWriter::create(&path, Options::new(c)).unwrap();
            w.held = 0;
            w.begin_image("t", "").unwrap();
            let big = noise(3 << 20, 9);
            let after = noise((1 << 20) + 7, 10);
            for (name, data) in [("a", &big), ("b", &big), ("c", &after)] {
                let size = data.len() as u64;
                let added = w.add(Entry::file(
                    &[name],
                    Data {
                        size,
                        reader: &mut &data[..],
                    },
                ));
                assert_eq!(added.unwrap().sha1, Some(Sha1::digest(data).into()));
            }
            let s = w.finish().unwrap();
            assert_eq!((s.blobs, s.duplicates), (2, 1), "{c:?}");
            let size = std::fs::metadata(&path).unwrap().len();
            assert!(
                size < (4 << 20) + (64 << 10),
                "{c:?}: the copy stayed ({size} bytes)"
            );
            let mut wim = crate::Wim::open(&path, true).unwrap();
            let totals = wim.verify(None).unwrap();
            assert_eq!(totals[0].files, 3);
            assert_eq!(totals[0].bytes, 2 * big.len() as u64 + after.len() as u64);
            let out = dir.path().join("out");
            wim.extract_image(1, &out, None).unwrap();
            assert_eq!(std::fs::read(out.join("b")).unwrap(), big);
            assert_eq!(std::fs::read(out.join("c")).unwrap(), after);
        }
    }
}
