//! Partition tables: which volumes a disk holds. GPT (the primary header, or the backup at
//! the disk's end when the primary is damaged; a protective or hybrid MBR beside it) and
//! MBR (four primary entries and the chain of extended boot records for logical
//! partitions). Each partition found opens as a [`Window`] onto the disk.
//!
//! What it promises:
//! - every header, entry and chain is checked before use: GPT headers and entry arrays by
//!   their CRC32, every LBA multiplied and added with overflow checked and held against
//!   the disk's size, entry counts and the extended chain bounded (a chain that loops ends
//!   at its first repeat);
//! - a partition that lies outside the disk is not given out but named in
//!   [`PartitionTable::problems`];
//! - a disk whose first sector is a volume's boot sector (NTFS, FAT, exFAT, BitLocker) has
//!   no table: [`TableKind::None`], the whole source is the volume.

mod gpt;
mod guid;
mod mbr;

use crate::block::{BlockError, BlockSource, Source, Window};

pub use guid::Guid;

/// GPT entries read at most: the specification's minimum array is 128; tools allow more
/// but no disk needs thousands.
pub const GPT_MAX_ENTRIES: u32 = 4096;
/// Bytes of one GPT entry at most (128 is what every tool writes; the format allows
/// 128 × 2^n).
pub const GPT_MAX_ENTRY_BYTES: u32 = 1024;
/// Extended boot records followed in an MBR's chain of logical partitions (Windows and
/// Linux stop far below this).
pub const MBR_MAX_LOGICAL: usize = 128;

/// Why a disk's partition table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    #[error("cannot read the partition table: {0}")]
    Read(#[from] BlockError),
    #[error("{disk}: damaged partition table: {why}")]
    Corrupt { disk: String, why: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKind {
    /// No table: the source begins with a volume's boot sector.
    None,
    Mbr {
        /// The disk signature at offset 440 (Windows' MountedDevices names MBR volumes by
        /// it and their offset).
        signature: u32,
    },
    Gpt {
        disk_guid: Guid,
        /// The primary header or its entries were damaged: the backup copy was read.
        used_backup: bool,
        /// The MBR describes partitions of its own beside the protective entry.
        hybrid_mbr: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionKind {
    Gpt {
        type_guid: Guid,
        guid: Guid,
        name: String,
        attributes: u64,
    },
    Mbr {
        type_byte: u8,
        bootable: bool,
        /// Inside the extended partition.
        logical: bool,
    },
}

/// One partition: its number as Linux numbers it (GPT: its slot from 1; MBR: primary 1–4,
/// logical from 5), where it lies in bytes, and what the table says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub number: u32,
    pub offset: u64,
    pub size: u64,
    pub kind: PartitionKind,
}

impl Partition {
    /// The partition as a source of its own, named `<disk>, partition <n>`.
    pub fn open(&self, disk: &Source) -> Result<Window, BlockError> {
        let name = format!("{}, partition {}", disk.name(), self.number);
        Window::new(disk.clone(), self.offset, self.size, name)
    }

    /// A well-known type's name ("Microsoft basic data", "EFI system", "NTFS/exFAT", …).
    pub fn type_name(&self) -> Option<&'static str> {
        match &self.kind {
            PartitionKind::Gpt { type_guid, .. } => gpt::type_name(type_guid),
            PartitionKind::Mbr { type_byte, .. } => mbr::type_name(*type_byte),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionTable {
    pub kind: TableKind,
    /// Bytes per LBA the table was read with.
    pub sector_size: u32,
    pub partitions: Vec<Partition>,
    /// Entries that were not given out, and why (outside the disk, a broken chain).
    pub problems: Vec<String>,
}

impl PartitionTable {
    /// Reads the partition table of `disk`.
    pub fn read(disk: &Source) -> Result<PartitionTable, PartitionError> {
        let mut s0 = [0u8; 512];
        disk.read_at(0, &mut s0)?;
        if is_boot_sector(&s0) {
            return Ok(PartitionTable {
                kind: TableKind::None,
                sector_size: disk.sector_size(),
                partitions: Vec::new(),
                problems: Vec::new(),
            });
        }
        let mbr = mbr::Mbr::parse(&s0);
        match &mbr {
            Some(m) if m.protective() => gpt::read(disk, m),
            Some(m) => mbr::read(disk, m),
            None => Ok(PartitionTable {
                kind: TableKind::None,
                sector_size: disk.sector_size(),
                partitions: Vec::new(),
                problems: vec!["no partition table (no 0x55AA signature in sector 0)".into()],
            }),
        }
    }
}

/// A volume's boot sector rather than an MBR: both end in 0x55AA, but a boot sector names
/// its file system.
fn is_boot_sector(s: &[u8]) -> bool {
    let at = |off: usize, sig: &[u8]| s.get(off..off + sig.len()) == Some(sig);
    at(3, b"NTFS    ")
        || at(3, b"EXFAT   ")
        || at(3, b"-FVE-FS-")
        || at(0x36, b"FAT12   ")
        || at(0x36, b"FAT16   ")
        || at(0x52, b"FAT32   ")
}

/// `lba × sector`, checked.
fn bytes(lba: u64, sector: u32) -> Option<u64> {
    lba.checked_mul(u64::from(sector))
}

fn corrupt(disk: &Source, why: impl Into<String>) -> PartitionError {
    PartitionError::Corrupt {
        disk: disk.name().to_string(),
        why: why.into(),
    }
}
