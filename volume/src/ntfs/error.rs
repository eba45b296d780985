//! The reader's one error type: what went wrong ([`ErrorKind`], decided on by callers),
//! where ([`Place`]: the structure, down to the MFT record, attribute, run list or index
//! block), and the file it belongs to when that is known.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::block::BlockError;

use super::attr::type_name;

/// A structure of the volume, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    BootSector,
    /// An MFT record as a whole (its header, its fix-ups, its sequence number).
    Record(u64),
    /// One attribute of an MFT record: its type code and name.
    Attribute {
        record: u64,
        kind: u32,
        name: String,
    },
    /// The run list of a non-resident attribute.
    RunList {
        record: u64,
        kind: u32,
        name: String,
    },
    /// The `$ATTRIBUTE_LIST` of a file (its base record).
    AttributeList {
        record: u64,
    },
    /// The root of an index (`$INDEX_ROOT`) of the file in `record`.
    IndexRoot {
        record: u64,
    },
    /// An index block (INDX) of the index of the file in `record`.
    IndexBlock {
        record: u64,
        vcn: u64,
    },
    /// A security descriptor of `$Secure`, by its security id.
    SecurityId(u32),
    /// The restart area of `$LogFile`.
    LogFile,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let attr = |f: &mut fmt::Formatter<'_>, kind: u32, name: &str| {
            write!(f, "{}", type_name(kind))?;
            if !name.is_empty() {
                write!(f, ":{name}")?;
            }
            Ok(())
        };
        match self {
            Place::BootSector => write!(f, "boot sector"),
            Place::Record(n) => write!(f, "MFT record {n}"),
            Place::Attribute { record, kind, name } => {
                write!(f, "attribute ")?;
                attr(f, *kind, name)?;
                write!(f, " of MFT record {record}")
            }
            Place::RunList { record, kind, name } => {
                write!(f, "run list of ")?;
                attr(f, *kind, name)?;
                write!(f, " in MFT record {record}")
            }
            Place::AttributeList { record } => write!(f, "attribute list of MFT record {record}"),
            Place::IndexRoot { record } => write!(f, "index root of MFT record {record}"),
            Place::IndexBlock { record, vcn } => {
                write!(f, "index block at VCN {vcn} of MFT record {record}")
            }
            Place::SecurityId(id) => write!(f, "security descriptor {id} in $Secure"),
            Place::LogFile => write!(f, "$LogFile restart area"),
        }
    }
}

/// Why a stream's data cannot be had from this volume, though the file is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// EFS-encrypted: the data is ciphertext whose key is in the user's certificate store.
    Encrypted,
    /// A WOF-compressed file (CompactOS, `compact /exe`): its data is in the
    /// `WofCompressedData` stream or a WIM, which this reader does not decompress.
    Wof,
    /// Windows Server deduplication: the data lives in the chunk store.
    Dedup,
    /// A cloud placeholder (OneDrive "online-only"): the data is on the server.
    Cloud,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unavailable::Encrypted => {
                "encrypted with EFS: the data cannot travel without the user's certificate"
            }
            Unavailable::Wof => {
                "compressed by Windows (WOF/CompactOS); its data is not decompressed here"
            }
            Unavailable::Dedup => "deduplicated by Windows Server; its data is in the chunk store",
            Unavailable::Cloud => "a cloud placeholder; its data is on the server, not this disk",
        })
    }
}

/// What went wrong; callers decide on this, never on a message's wording.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The volume does not start with an NTFS boot sector.
    #[error("not an NTFS volume: {0}")]
    NotNtfs(String),
    /// The bytes could not be had from the source (a bad sector, a disk gone, a structure
    /// pointing past the end).
    #[error("cannot read it: {0}")]
    Read(#[source] BlockError),
    /// A structure fails a check.
    #[error("damaged: {0}")]
    Corrupt(String),
    /// A structure is larger than any real volume writes (`limits`).
    #[error("{what} of {value} is more than the {limit} a real volume has; not read")]
    TooLarge {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// Part of a stream read was lost to bad sectors: the buffer holds the good bytes and
    /// zeros in `lost` (offsets in the stream, sorted); `read` bytes were filled.
    #[error("{} bytes unreadable (bad sectors) at stream offsets {}; zeros stand in for them", lost_bytes(.lost), ranges(.lost))]
    Damaged { lost: Vec<Range<u64>>, read: usize },
    /// The file is there but its data is not on this volume in a form that can be read.
    #[error("{0}")]
    Unavailable(Unavailable),
    /// No such file, name or stream.
    #[error("{0} not found")]
    NotFound(String),
    /// A folder was expected.
    #[error("not a folder")]
    NotADirectory,
    /// A file reference whose record now holds another file (or none).
    #[error("the reference is stale: it names sequence {expected}, the record holds {found}")]
    Stale { expected: u16, found: u16 },
}

fn lost_bytes(lost: &[Range<u64>]) -> u64 {
    lost.iter().map(|r| r.end - r.start).sum()
}

fn ranges(lost: &[Range<u64>]) -> String {
    let mut s: Vec<String> = lost
        .iter()
        .take(4)
        .map(|r| format!("{}..{}", r.start, r.end))
        .collect();
    if lost.len() > 4 {
        s.push(format!("and {} more", lost.len() - 4));
    }
    s.join(", ")
}

/// An error of the NTFS reader: the volume, the structure, the file when known, and what
/// (boxed: results stay small on the paths that succeed).
#[derive(Debug)]
pub struct NtfsError(Box<Details>);

#[derive(Debug)]
struct Details {
    volume: Arc<str>,
    place: Place,
    file: Option<String>,
    kind: ErrorKind,
}

impl NtfsError {
    pub(crate) fn new(volume: &Arc<str>, place: Place, kind: ErrorKind) -> NtfsError {
        NtfsError(Box::new(Details {
            volume: volume.clone(),
            place,
            file: None,
            kind,
        }))
    }

    /// Names the file the structure belongs to (its name as the volume gives it).
    pub(crate) fn in_file(mut self, file: &str) -> NtfsError {
        if self.0.file.is_none() && !file.is_empty() {
            self.0.file = Some(file.to_string());
        }
        self
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    pub fn place(&self) -> &Place {
        &self.0.place
    }

    /// The file's name, when the error belongs to a file whose name is known.
    pub fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }

    /// The ranges lost to bad sectors (stream offsets) when the buffer is otherwise good.
    pub fn lost(&self) -> Option<&[Range<u64>]> {
        match &self.0.kind {
            ErrorKind::Damaged { lost, .. } => Some(lost),
            _ => None,
        }
    }
}

impl fmt::Display for NtfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}: {}", d.volume, d.place)?;
        if let Some(file) = &d.file {
            write!(f, " (file \"{file}\")")?;
        }
        write!(f, ": {}", d.kind)
    }
}

impl std::error::Error for NtfsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Read(e) => Some(e),
            _ => None,
        }
    }
}
