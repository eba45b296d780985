//! The FVE metadata: three copies, each a block header (64 bytes), a dataset (a 48-byte
//! header and its entries) and, right after them, a validation record: the CRC32 of block
//! header and dataset, and (Windows 7 and later) an AES-CCM-sealed SHA-256 of the same bytes
//! that only the VMK opens. A copy is used when its CRC32 holds; the SHA-256 is checked once
//! the VMK is known (see `unlock`).
//!
//! Every size is checked before use: the metadata is at most [`METADATA_MAX`] bytes, the
//! dataset lies inside it, and its entries inside the dataset.

use std::fmt;

use super::entry::{Entries, Entry, EntryError};
use super::header::{Flavour, VolumeHeader, FVE_SIGNATURE};
use crate::block::{BlockError, BlockSource};
use crate::le::{u16_at, u32_at, u64_at};

/// Bytes of one metadata copy (block header and dataset). Windows reserves 64 KiB for each
/// copy (Vista 16 KiB) and fills a few hundred bytes to a few KiB of it.
pub const METADATA_MAX: usize = 64 << 10;
/// Bytes of the sealed SHA-256 after the CRC32 (Windows writes 80).
const VALIDATION_ENTRY_MAX: usize = 1024;
const BLOCK_HEADER_LEN: usize = 64;
const DATASET_HEADER_LEN: usize = 48;

/// One copy of the metadata, its CRC32 checked.
#[derive(Clone)]
pub struct Metadata {
    /// 0, 1 or 2.
    pub copy: usize,
    pub offset: u64,
    /// 1: Windows Vista; 2: Windows 7 and later.
    pub version: u16,
    pub state: u16,
    pub next_state: u16,
    /// How much of the volume, from its start, is encrypted while it is being converted.
    pub encrypted_size: u64,
    /// The conversion region of an interrupted conversion.
    pub state_size: u32,
    /// How many of the first sectors are kept elsewhere (Windows 7 and later)...
    pub relocated_sectors: u32,
    /// ... and where (for Vista: the `$MFTMirr` cluster the header's field stands for).
    pub relocated_offset: u64,
    pub copies: [u64; 3],
    pub volume_guid: [u8; 16],
    pub method: u16,
    /// Block header and dataset: what the CRC32 and the sealed SHA-256 cover.
    pub bytes: Vec<u8>,
    /// The dataset's entries, as a range of `bytes`.
    entries: std::ops::Range<usize>,
    /// The sealed SHA-256 (an AES-CCM entry), when the copy has one.
    pub sealed_hash: Option<Vec<u8>>,
}

impl Metadata {
    pub fn entries(&self) -> Entries<'_> {
        Entries::new(&self.bytes[self.entries.clone()])
    }

    /// The top-level entries with `role` and `value` type, in order.
    pub fn find(&self, role: u16, value: u16) -> impl Iterator<Item = Entry<'_>> {
        self.entries()
            .map_while(Result::ok)
            .filter(move |e| e.role == role && e.value == value)
    }

    /// The bytes of its protectors (VMK entries), to tell copies that would open alike.
    pub fn vmk_bytes(&self) -> Vec<u8> {
        self.find(super::entry::ROLE_VMK, super::entry::VALUE_VMK)
            .flat_map(|e| e.data.iter().copied())
            .collect()
    }

    /// Bytes each copy reserves on the volume, which read as zeros.
    pub fn reserved_len(&self, header: &VolumeHeader) -> u64 {
        let (s, c) = (
            u64::from(header.sector_size),
            u64::from(header.cluster_size),
        );
        if self.version == 1 {
            (c + 0x3fff) & !(c - 1)
        } else {
            (s + 0xffff) & !(s - 1)
        }
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Metadata(copy {}, offset {}, version {}, {} bytes)",
            self.copy + 1,
            self.offset,
            self.version,
            self.bytes.len()
        )
    }
}

/// Why one copy of the metadata is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProblem {
    /// 1, 2 or 3, as a technician counts.
    pub copy: usize,
    pub offset: u64,
    pub what: String,
}

impl fmt::Display for CopyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "copy {} at offset {}: {}",
            self.copy, self.offset, self.what
        )
    }
}

/// Every copy whose CRC32 holds, in order, and why the others are not.
pub fn read_all(src: &dyn BlockSource, header: &VolumeHeader) -> (Vec<Metadata>, Vec<CopyProblem>) {
    let mut good: Vec<Metadata> = Vec::new();
    let mut bad = Vec::new();
    let mut offsets = header.metadata.clone();
    let mut i = 0;
    while i < offsets.len().min(3) {
        let offset = offsets[i];
        match read_copy(src, i, offset) {
            Ok(m) => {
                // Vista's volume header names the first copy only; it names the others.
                if header.flavour == Flavour::Vista && offsets.len() == 1 {
                    offsets.extend(&m.copies[1..]);
                }
                good.push(m);
            }
            Err(what) => bad.push(CopyProblem {
                copy: i + 1,
                offset,
                what,
            }),
        }
        i += 1;
    }
    (good, bad)
}

fn read_copy(src: &dyn BlockSource, copy: usize, offset: u64) -> Result<Metadata, String> {
    let mut head = [0u8; BLOCK_HEADER_LEN];
    read(src, offset, &mut head)?;
    if &head[..8] != FVE_SIGNATURE {
        return Err("no -FVE-FS- signature".into());
    }
    let version = u16_at(&head, 10).unwrap_or(0);
    let size_field = usize::from(u16_at(&head, 8).unwrap_or(0));
    let size = match version {
        1 => size_field,
        2 => size_field << 4,
        v => return Err(format!("unknown metadata version {v}")),
    };
    if !(BLOCK_HEADER_LEN + DATASET_HEADER_LEN..=METADATA_MAX).contains(&size) {
        return Err(format!("its size ({size} bytes) is out of bounds"));
    }
    let mut bytes = vec![0u8; size + 8];
    read(src, offset, &mut bytes)?;
    let validation = bytes.split_off(size);
    let crc = u32_at(&validation, 4).unwrap_or(0);
    if crc32fast::hash(&bytes) != crc {
        return Err("its CRC32 does not match (damaged)".into());
    }
    let sealed_hash = read_sealed_hash(src, offset + (size as u64) + 8);
    parse(copy, offset, version, bytes, sealed_hash)
}

fn read(src: &dyn BlockSource, offset: u64, buf: &mut [u8]) -> Result<(), String> {
    src.read_at(offset, buf).map_err(|e| match e {
        BlockError::OutOfRange { .. } => "it lies beyond the end of the volume".to_string(),
        e => format!("unreadable: {e}"),
    })
}

/// The AES-CCM entry after the CRC32, if it is there and whole.
fn read_sealed_hash(src: &dyn BlockSource, at: u64) -> Option<Vec<u8>> {
    let mut head = [0u8; 8];
    src.read_at(at, &mut head).ok()?;
    let size = usize::from(u16_at(&head, 0)?);
    if !(8..=VALIDATION_ENTRY_MAX).contains(&size) {
        return None;
    }
    let mut entry = vec![0u8; size];
    src.read_at(at, &mut entry).ok()?;
    Some(entry)
}

fn parse(
    copy: usize,
    offset: u64,
    version: u16,
    bytes: Vec<u8>,
    sealed_hash: Option<Vec<u8>>,
) -> Result<Metadata, String> {
    let b = &bytes;
    let ds = &b[BLOCK_HEADER_LEN..];
    let ds_size = u32_at(ds, 0).unwrap_or(0) as usize;
    let start = u32_at(ds, 8).unwrap_or(0) as usize;
    let end = u32_at(ds, 12).unwrap_or(0) as usize;
    if ds_size > ds.len() || start < DATASET_HEADER_LEN || start > end || end > ds_size {
        return Err(format!(
            "its dataset's bounds (size {ds_size}, entries {start}..{end}) do not fit in its {} bytes",
            ds.len()
        ));
    }
    let entries = BLOCK_HEADER_LEN + start..BLOCK_HEADER_LEN + end;
    if let Some(Err(e)) = Entries::new(&b[entries.clone()]).find(Result::is_err) {
        return Err(EntryError::what(e).to_string());
    }
    let q = |at| u64_at(b, at).unwrap_or(0);
    Ok(Metadata {
        copy,
        offset,
        version,
        state: u16_at(b, 12).unwrap_or(0),
        next_state: u16_at(b, 14).unwrap_or(0),
        encrypted_size: if version == 1 { 0 } else { q(16) },
        state_size: if version == 1 {
            0
        } else {
            u32_at(b, 24).unwrap_or(0)
        },
        relocated_sectors: if version == 1 {
            0
        } else {
            u32_at(b, 28).unwrap_or(0)
        },
        copies: [q(32), q(40), q(48)],
        relocated_offset: q(56),
        volume_guid: ds[16..32].try_into().unwrap_or([0; 16]),
        method: u16_at(ds, 36).unwrap_or(0),
        entries,
        sealed_hash,
        bytes,
    })
}
