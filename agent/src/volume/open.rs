//! What a technician names as ROOT, opened: an image file, a partition or a whole disk
//! (`disk.img`, `/dev/sdb`, `/dev/sdb3`, `\\.\PhysicalDrive1`, `\\.\HarddiskVolume3`) is read
//! by Lifeboat itself: its partition table first (GPT or MBR; none when it begins with a
//! volume's boot sector), then each volume's file system. NTFS is read here; BitLocker is
//! unlocked first with the keys given (each key tried on every locked volume), and what it
//! holds read like any other volume; any other file system is named, not read.
//!
//! Nothing is opened for writing: the image or device is opened read-only (shared on
//! Windows), and every layer above it has no way to write.

use std::path::Path;
use std::sync::Arc;

use lifeboat_volume::bitlocker::{self, BitLockerError, Keys};
use lifeboat_volume::block::{BlockSource, FileSource, Source};
use lifeboat_volume::ntfs::{LogState, Ntfs};
use lifeboat_volume::partition::{Partition, PartitionTable, TableKind};

use super::ntfs::NtfsVolume;
use super::Place;
use crate::diskid::VolumeIdentity;
use crate::platform::{describe_boot_sector, BootSector};

/// One volume found on a ROOT, readable or not.
pub struct Found {
    /// How it is shown: `disk.img` or `disk.img, partition 2`.
    pub name: String,
    /// Where it lies on its disk, when the ROOT held a partition table.
    pub partition: Option<Partition>,
    /// What its boot sector says it is (`NTFS`, `BitLocker`, `FAT32`, …).
    pub filesystem: Option<BootSector>,
    /// How the offline Windows knew it in `MountedDevices`, to place its drive letters.
    pub identity: Option<VolumeIdentity>,
    /// What BitLocker says of it, when it is encrypted (no key needed to know it).
    pub encryption: Option<bitlocker::Info>,
    pub state: State,
}

/// What became of one volume.
pub enum State {
    /// Read by Lifeboat: its root, and whether Windows left it dirty.
    Ready { root: Place, dirty: Option<Dirty> },
    /// A file system Lifeboat does not read itself, or none it knows: not read.
    Other,
    /// BitLocker-encrypted and not opened: why (no key, the TPM holds it, a wrong key…).
    Locked(BitLockerError),
    /// Its file system could not be opened: why.
    Unreadable(String),
}

/// Why a volume is not as Windows left it after a clean shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dirty {
    /// The volume's dirty bit is set (a check is pending: chkdsk would run).
    DirtyBit,
    /// `$LogFile` holds changes that were never written (a crash, hibernation, Fast
    /// Startup).
    LogNotClean,
}

impl std::fmt::Display for Dirty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dirty::DirtyBit => "marked dirty: Windows wants to check it (chkdsk)",
            Dirty::LogNotClean => {
                "Windows did not shut it down cleanly (a crash, hibernation or Fast Startup): its journal holds changes"
            }
        })
    }
}

/// Why a ROOT could not be opened at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Open(#[from] lifeboat_volume::block::OpenError),
    #[error(transparent)]
    Table(#[from] lifeboat_volume::partition::PartitionError),
}

/// The volumes of an image file or a device; `keys` open the locked ones.
pub fn open_image(path: &Path, keys: &Keys) -> Result<Vec<Found>, OpenError> {
    let disk: Source = Arc::new(FileSource::open(path)?);
    open_disk(disk, keys)
}

/// The volumes of a disk (or of a single volume: a source that begins with a boot sector).
pub fn open_disk(disk: Source, keys: &Keys) -> Result<Vec<Found>, OpenError> {
    let table = PartitionTable::read(&disk)?;
    if table.kind == TableKind::None {
        return Ok(vec![volume(disk, None, None, keys)]);
    }
    let mut found = Vec::new();
    for p in &table.partitions {
        let identity = VolumeIdentity::of(&table.kind, p);
        match p.open(&disk) {
            Ok(window) => found.push(volume(Arc::new(window), Some(p.clone()), identity, keys)),
            Err(e) => found.push(Found {
                name: format!("{}, partition {}", disk.name(), p.number),
                partition: Some(p.clone()),
                filesystem: None,
                identity,
                encryption: None,
                state: State::Unreadable(e.to_string()),
            }),
        }
    }
    Ok(found)
}

/// One volume: what its boot sector says, and its file system opened when Lifeboat reads it
/// (a BitLocker volume unlocked first).
fn volume(
    src: Source,
    partition: Option<Partition>,
    identity: Option<VolumeIdentity>,
    keys: &Keys,
) -> Found {
    let mut found = Found {
        name: src.name().to_string(),
        partition,
        filesystem: None,
        identity,
        encryption: None,
        state: State::Other,
    };
    found.filesystem = match boot_sector(&*src) {
        Ok(fs) => fs,
        Err(why) => {
            found.state = State::Unreadable(why);
            return found;
        }
    };
    let src = match found.filesystem {
        Some(BootSector::BitLocker) => match unlock(src, keys, &mut found) {
            Some(plain) => plain,
            None => return found,
        },
        _ => src,
    };
    let fs = match found.encryption {
        Some(_) => boot_sector(&*src).ok().flatten(),
        None => found.filesystem,
    };
    found.state = match fs {
        Some(BootSector::Ntfs) => open_ntfs(src),
        _ => State::Other,
    };
    found
}

/// What a volume's first sector says it is. When it cannot be read (a bad sector), NTFS's
/// backup copy in the volume's last sector is looked at: the NTFS reader opens the volume
/// from it.
fn boot_sector(src: &dyn BlockSource) -> Result<Option<BootSector>, String> {
    let mut boot = [0u8; 512];
    match src.read_at(0, &mut boot) {
        Ok(()) => Ok(describe_boot_sector(&boot)),
        Err(e) => backup_is_ntfs(src)
            .then_some(Some(BootSector::Ntfs))
            .ok_or_else(|| e.to_string()),
    }
}

/// Whether the volume's last sector (of 512 bytes or 4 KiB) holds NTFS's backup boot
/// sector.
fn backup_is_ntfs(src: &dyn BlockSource) -> bool {
    [512u64, 4096].iter().any(|&sector| {
        let mut b = [0u8; 512];
        src.size()
            .checked_sub(sector)
            .is_some_and(|at| src.read_at(at, &mut b).is_ok())
            && describe_boot_sector(&b) == Some(BootSector::Ntfs)
    })
}

/// A BitLocker volume opened with the keys given: its plain volume, or `None` with the
/// reason in `found` (locked, damaged).
fn unlock(src: Source, keys: &Keys, found: &mut Found) -> Option<Source> {
    match bitlocker::probe(&*src) {
        Ok(info) => found.encryption = info,
        Err(e) => {
            found.state = State::Locked(e);
            return None;
        }
    }
    match bitlocker::unlock(src, keys) {
        Ok(plain) => Some(Arc::new(plain)),
        Err(e) => {
            found.state = State::Locked(e);
            None
        }
    }
}

fn open_ntfs(src: Source) -> State {
    let name = src.name().to_string();
    match Ntfs::open(src) {
        Ok(ntfs) => {
            let info = ntfs.info();
            let dirty = if info.dirty_flag() {
                Some(Dirty::DirtyBit)
            } else if info.log == LogState::Dirty {
                Some(Dirty::LogNotClean)
            } else {
                None
            };
            State::Ready {
                root: Place::root(Arc::new(NtfsVolume::new(ntfs, name))),
                dirty,
            }
        }
        Err(e) => State::Unreadable(e.to_string()),
    }
}
