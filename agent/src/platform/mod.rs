//! Everything that depends on the operating system the agent runs on: drive letters and
//! volumes, WinPE, file attributes, free space. This is the only module with
//! `#[cfg(windows)]` / `#[cfg(unix)]`; the rest of the agent calls the functions below.

use std::path::{Path, PathBuf};

pub use crate::diskid::VolumeIdentity;

// Used on Windows; pure, so tested on every platform.
#[cfg_attr(not(windows), allow(dead_code))]
mod ntinfo;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

/// A volume (Windows: a drive letter; Linux: a mounted filesystem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// `E:\` on Windows, the mount point on Linux.
    pub root: PathBuf,
    pub letter: Option<char>,
    pub label: Option<String>,
    /// "NTFS", "FAT32", "exFAT", "fuseblk", …
    pub fs_type: Option<String>,
    pub removable: bool,
    /// Where the volume sits on its disk, to match the offline system's `MountedDevices`.
    pub identity: Option<VolumeIdentity>,
}

impl Volume {
    /// FAT file systems hold no file of 4 GiB or more: a store there is split.
    pub fn is_fat(&self) -> bool {
        self.fs_type.as_deref().is_some_and(|f| {
            let f = f.to_ascii_lowercase();
            f.starts_with("fat") || f == "vfat" || f == "msdos" || f.contains("fusefat")
        })
    }
}

/// Every volume the machine shows now.
pub fn list_volumes() -> Vec<Volume> {
    imp::list_volumes()
}

/// True inside Windows PE (`HKLM\SYSTEM\CurrentControlSet\Control\MiniNT` exists).
pub fn in_winpe() -> bool {
    imp::in_winpe()
}

/// Why a volume is not scanned: it is part of the running rescue environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeRole {
    /// WinPE's own RAM drive (its `%SystemDrive%`, usually X:).
    WinPeRamDrive,
    /// The medium WinPE booted from (`PEBootRamdiskSourceDrive`).
    BootMedia,
    /// The volume the agent runs from, when it holds `sources\boot.wim` (boot media too).
    AgentBootMedia,
}

impl VolumeRole {
    pub fn label(self) -> &'static str {
        match self {
            VolumeRole::WinPeRamDrive => "the WinPE RAM drive (WinPE itself)",
            VolumeRole::BootMedia => "the boot media",
            VolumeRole::AgentBootMedia => "the boot media the agent runs from",
        }
    }

    pub fn from_label(s: &str) -> Option<VolumeRole> {
        [
            VolumeRole::WinPeRamDrive,
            VolumeRole::BootMedia,
            VolumeRole::AgentBootMedia,
        ]
        .into_iter()
        .find(|r| r.label() == s)
    }

    /// The stick the technician booted from: a place a store may go.
    pub fn is_boot_media(self) -> bool {
        matches!(self, VolumeRole::BootMedia | VolumeRole::AgentBootMedia)
    }
}

impl std::fmt::Display for VolumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Volumes detect must not scan, with the reason: inside WinPE the RAM drive that holds
/// WinPE itself and the boot media the agent came from.
pub fn volumes_to_skip() -> Vec<(PathBuf, VolumeRole)> {
    imp::volumes_to_skip()
}

/// The volume holding `path`.
pub fn volume_for_path(path: &Path) -> Option<Volume> {
    imp::volume_for_path(path)
}

/// Bytes free for the current user at `path`.
pub fn free_space(path: &Path) -> std::io::Result<u64> {
    imp::free_space(path)
}

/// Room on the file system holding `path`, as that file system counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes free for the current user.
    pub available: u64,
    /// The unit a file's data is allocated in (a cluster, a block, a page).
    pub block: u64,
    /// Files and folders that can still be made, where the file system has a fixed number
    /// (ext4's and tmpfs's inodes); None where it grows (NTFS's MFT) or is not said.
    pub entries: Option<u64>,
}

/// [`Space`] at `path` (which must exist).
pub fn space(path: &Path) -> std::io::Result<Space> {
    imp::space(path)
}

/// A write failed because the file system (or the user's quota on it) is full: ENOSPC,
/// EDQUOT, ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL.
pub fn is_out_of_space(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Windows file attribute bits that change what can be captured.
pub mod attr {
    pub const REPARSE_POINT: u32 = 0x400;
    pub const OFFLINE: u32 = 0x1000;
    pub const ENCRYPTED: u32 = 0x4000;
    pub const RECALL_ON_OPEN: u32 = 0x4_0000;
    pub const RECALL_ON_DATA_ACCESS: u32 = 0x40_0000;
}

/// Reads Windows file attributes (`FILE_ATTRIBUTE_*`) under one walked root: from the
/// file system on Windows, from ntfs-3g's `system.ntfs_attrib_be` attribute on Linux.
#[derive(Debug, Clone, Copy)]
pub struct Attributes {
    /// The root's volume keeps NTFS attributes (always on Windows; on Linux when the root
    /// itself has ntfs-3g's attribute). Elsewhere every file reads as 0, without asking.
    kept: bool,
}

impl Attributes {
    /// Asks the root once whether its volume keeps NTFS attributes, so that a walk of a
    /// million files on ext4 or FAT does not ask each of them.
    pub fn for_root(root: &Path) -> Self {
        Attributes {
            kept: imp::keeps_ntfs_attributes(root),
        }
    }

    /// Whether the root's volume keeps NTFS attributes.
    pub fn kept(&self) -> bool {
        self.kept
    }

    /// The attributes of the file or folder at `path`; 0 when the volume keeps none.
    pub fn of_path(&self, path: &Path, meta: &std::fs::Metadata) -> u32 {
        if self.kept {
            imp::file_attributes(path, meta)
        } else {
            0
        }
    }

    /// The attributes of one file or folder of a listing; 0 when the volume keeps none
    /// (then not even its path is built).
    pub fn of(&self, entry: &std::fs::DirEntry, meta: &std::fs::Metadata) -> u32 {
        if self.kept {
            imp::file_attributes(&entry.path(), meta)
        } else {
            0
        }
    }
}

/// Whether opening a file that its stat showed to be a regular file can still fail here.
/// wimlib stops a whole image at a file it cannot open, so the walk tries those first and
/// skips the ones that fail. On Windows any file can (an ACL, a sharing violation); on
/// Linux, root opens every regular file except those behind a reparse point ntfs-3g cannot
/// read (deduplicated, WOF-compressed without its plugin), and another user may lack the
/// permission.
pub fn open_may_fail(attrs: u32) -> bool {
    imp::open_may_fail(attrs)
}

/// Whether EFS-encrypted files can be captured raw here. Nowhere: Windows could give their
/// raw form (`ReadEncryptedFileRaw`), but Lifeboat's WIM writer does not store it (wimlib
/// keeps it as a stream of its own kind, which the writer refuses), so the walk reports an
/// EFS file as one that cannot travel, on every platform, as the NTFS reader does.
pub const CAN_READ_EFS_RAW: bool = false;

/// What kind of entry the host's file system says a path is, a link not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatKind {
    File,
    Dir,
    /// A symbolic link; on Windows also a junction and any other name-surrogate reparse
    /// point, as std reads them.
    Link,
    /// A device, pipe or socket.
    Other,
}

/// A file or folder as the host's file system describes it, without following a link.
#[derive(Debug, Clone)]
pub struct Stat {
    pub kind: StatKind,
    /// The unnamed data's size (0 for anything but a file).
    pub size: u64,
    /// `FILE_ATTRIBUTE_*`, 0 where the volume keeps none.
    pub attributes: u32,
    /// Windows file times (100 ns since 1601); a Linux file system without birth times
    /// gives the write time as creation time, as wimlib does.
    pub created: u64,
    pub written: u64,
    pub accessed: u64,
    /// The file's identity on its volume (inode, NTFS file index): two names with the same
    /// one are hard links of one file.
    pub file_id: Option<u64>,
    pub links: u32,
    /// A reparse point's tag, where the host says it without another call (Windows).
    pub reparse_tag: Option<u32>,
}

/// Asks, once, for the rights a backup reads with, where the account holds them: on Windows
/// SeBackupPrivilege (any file and folder, whatever its ACL, through opens and listings
/// made for backup) and SeSecurityPrivilege (SACLs), as wimlib does; WinPE's SYSTEM holds
/// both. Nothing on Linux. Called before a host volume is read.
pub fn read_as_backup() {
    imp::read_as_backup()
}

/// Describes `path` without following a link: on Windows through one handle opened for
/// backup (attributes, times, size, links and file index from the file system itself); on
/// Linux from its stat and, when `attrs` says the volume keeps them, ntfs-3g's attributes.
pub fn stat(path: &Path, attrs: &Attributes) -> std::io::Result<Stat> {
    imp::stat(path, attrs.kept)
}

/// 100 ns intervals between 1601-01-01 and 1970-01-01.
const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;

/// A time std gives, as a Windows file time; 0 where the file system keeps none.
fn filetime(t: std::io::Result<std::time::SystemTime>) -> u64 {
    let Ok(t) = t else { return 0 };
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH_AS_FILETIME.saturating_add((d.as_nanos() / 100) as u64),
        Err(before) => {
            UNIX_EPOCH_AS_FILETIME.saturating_sub((before.duration().as_nanos() / 100) as u64)
        }
    }
}

/// What std's metadata says of a path, for a host whose own calls could not be used.
fn stat_from_std(m: &std::fs::Metadata, attributes: u32) -> Stat {
    let ft = m.file_type();
    let kind = if ft.is_symlink() {
        StatKind::Link
    } else if ft.is_dir() {
        StatKind::Dir
    } else if ft.is_file() {
        StatKind::File
    } else {
        StatKind::Other
    };
    let written = filetime(m.modified());
    Stat {
        kind,
        size: if ft.is_file() { m.len() } else { 0 },
        attributes,
        created: match filetime(m.created()) {
            0 => written,
            t => t,
        },
        written,
        accessed: filetime(m.accessed()),
        file_id: None,
        links: 1,
        reparse_tag: None,
    }
}

/// What a capture carries of a host file or folder besides its unnamed data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileExtras {
    /// Its self-relative security descriptor.
    pub security: Option<Vec<u8>>,
    /// A reparse point's whole REPARSE_DATA_BUFFER (tag, length, reserved, data).
    pub reparse: Option<Vec<u8>>,
    /// Its named data streams: name (without `:` and `:$DATA`) and size.
    pub streams: Vec<(String, u64)>,
}

/// Reads a file's or folder's [`FileExtras`], read-only. Windows: through one handle opened
/// for backup, without following a reparse point. Linux: none (what it would cost over
/// ntfs-3g is measured on the Unix side); the NTFS reader carries them instead.
pub fn file_extras(path: &Path, attrs: &Attributes) -> std::io::Result<FileExtras> {
    imp::file_extras(path, attrs.kept)
}

/// Opens a regular file's unnamed data for reading, shared with every other reader and
/// writer, and never for writing: [`crate::fsread::open_regular`]'s checks (regular files
/// only), on Windows with backup semantics so a file whose ACL shuts others out is still
/// read (with SeBackupPrivilege, which WinPE's SYSTEM account holds).
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), crate::fsread::ReadError> {
    imp::open_regular(path)
}

/// A folder held open so that its entries are described and opened by name from it: on
/// Linux an `O_PATH` descriptor (the kernel does not walk the whole path again for each
/// file of a folder of thousands); on Windows its path. As [`stat`] and
/// [`open_regular_stat`], a link is never followed, the folder's own included.
pub struct Folder(imp::Folder);

impl Folder {
    pub fn open(path: &Path) -> std::io::Result<Folder> {
        imp::Folder::open(path).map(Folder)
    }

    /// [`stat`] of its entry `name`, whose whole path is `path`.
    pub fn stat(&self, name: &str, path: &Path, attrs: &Attributes) -> std::io::Result<Stat> {
        self.0.stat(name, path, attrs.kept)
    }

    /// [`open_regular_stat`] of its entry `name`, whose whole path is `path`.
    pub fn open_regular_stat(
        &self,
        name: &str,
        path: &Path,
        attrs: &Attributes,
    ) -> Result<(std::fs::File, Stat), crate::fsread::ReadError> {
        self.0.open_regular_stat(name, path, attrs.kept)
    }
}

/// [`open_regular`], with what the opened file says of itself, so that a capture looks
/// the path up once: on Linux one open that refuses a link (`O_NOFOLLOW`) and one `fstat`
/// (ntfs-3g's attributes asked of the handle); on Windows the open and [`stat`].
pub fn open_regular_stat(
    path: &Path,
    attrs: &Attributes,
) -> Result<(std::fs::File, Stat), crate::fsread::ReadError> {
    imp::open_regular_stat(path, attrs.kept)
}

/// Opens named data stream `name` of the file at `path` for reading, as
/// [`open_regular`] opens the file. `name` must be one [`file_extras`] listed for it.
pub fn open_stream(path: &Path, name: &str) -> std::io::Result<(std::fs::File, u64)> {
    imp::open_stream(path, name)
}

/// The device behind a volume the host mounted: `\\.\D:` for a drive letter's root on
/// Windows, the mount's source (`/dev/sdb3`) for a mount point on Linux. Lifeboat reads it
/// itself when the host cannot (a locked or damaged volume) or is told not to (`--raw`).
pub fn device_of(root: &Path) -> Option<PathBuf> {
    imp::device_of(root)
}

/// What a boot sector says its volume is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootSector {
    BitLocker,
    Ntfs,
    ExFat,
    Fat32,
    /// FAT12 or FAT16.
    Fat,
}

impl std::fmt::Display for BootSector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BootSector::BitLocker => "BitLocker",
            BootSector::Ntfs => "NTFS",
            BootSector::ExFat => "exFAT",
            BootSector::Fat32 => "FAT32",
            BootSector::Fat => "FAT",
        })
    }
}

/// What a boot sector says about its volume.
pub fn describe_boot_sector(sector: &[u8]) -> Option<BootSector> {
    let oem = sector.get(3..11)?;
    match oem {
        b"-FVE-FS-" => Some(BootSector::BitLocker),
        b"NTFS    " => Some(BootSector::Ntfs),
        b"EXFAT   " => Some(BootSector::ExFat),
        _ if sector.get(82..90) == Some(b"FAT32   ".as_slice()) => Some(BootSector::Fat32),
        _ if sector.get(54..59) == Some(b"FAT16".as_slice())
            || sector.get(54..59) == Some(b"FAT12".as_slice()) =>
        {
            Some(BootSector::Fat)
        }
        _ => None,
    }
}

/// Reads a line from the console without echoing it (a share password). When standard
/// input is not a console (a script, a test) the line is read as it comes.
pub fn read_secret() -> std::io::Result<String> {
    imp::read_secret()
}

/// Connects a network share (`\\\\server\\share`) with these credentials, for this session
/// only: nothing is stored. Returns the folder to write to.
pub fn connect_share(unc: &str, user: &str, password: &str) -> Result<PathBuf, String> {
    imp::connect_share(unc, user, password)
}

/// Powers the machine off (WinPE: `wpeutil shutdown`).
pub fn shutdown() -> std::io::Result<()> {
    imp::shutdown()
}

/// A system call of the running Windows that failed, or one only Windows has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SysError {
    #[error("{call} failed with Windows error {code} (`net helpmsg {code}` explains it)")]
    Win32 { call: &'static str, code: u32 },
    #[error("only available on Windows")]
    Unsupported,
}

/// An account of the running Windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `S-1-5-21-…`
    pub sid: String,
    /// The domain (or computer) that holds it.
    pub domain: String,
}

/// `LookupAccountNameW`: the account called `name` (`name` or `DOMAIN\name`), or None when
/// no such account exists.
pub fn lookup_account(name: &str) -> Result<Option<Account>, SysError> {
    imp::lookup_account(name)
}

/// The running Windows' computer name.
pub fn computer_name() -> Option<String> {
    std::env::var("COMPUTERNAME").ok().filter(|c| !c.is_empty())
}

/// Whether this process may write other users' profiles and hives (an administrator,
/// elevated).
pub fn is_admin() -> bool {
    imp::is_admin()
}

/// `ProfileList\<SID>\ProfileImagePath`, expanded: the user's profile folder, if any.
pub fn profile_of(sid: &str) -> Option<String> {
    imp::profile_of(sid)
}

/// `ProfileList\ProfilesDirectory`, expanded (`C:\Users`).
pub fn profiles_directory() -> Option<String> {
    imp::profiles_directory()
}

/// `CreateProfile`: the profile a user who never logged on gets, made the way Windows makes
/// it (from the Default profile). Returns its folder.
pub fn create_profile(sid: &str, name: &str) -> Result<String, SysError> {
    imp::create_profile(sid, name)
}

/// `NetUserAdd`: a local account, disabled unless `enabled`. The password is used for this
/// call only.
pub fn create_local_account(name: &str, password: &str, enabled: bool) -> Result<(), SysError> {
    imp::create_local_account(name, password, enabled)
}

/// A user's registry hive, open for writing: `HKEY_USERS\<SID>` when the user is logged on,
/// otherwise their NTUSER.DAT loaded under a private key (with SeBackupPrivilege and
/// SeRestorePrivilege), unloaded when this is dropped, on every path.
pub struct UserHive(imp::UserHive);

/// Opens the hive of user `sid` whose NTUSER.DAT is `ntuser`.
pub fn open_user_hive(sid: &str, ntuser: &Path) -> Result<UserHive, SysError> {
    imp::open_user_hive(sid, ntuser).map(UserHive)
}

impl UserHive {
    /// True when the hive was loaded for this restore (the user is not logged on).
    pub fn loaded_privately(&self) -> bool {
        self.0.loaded_privately()
    }

    /// A value's type and bytes, under `key` (relative to the user's root).
    pub fn get(&self, key: &str, name: &str) -> Option<(u32, Vec<u8>)> {
        self.0.get(key, name)
    }

    /// Creates `key` if needed and sets a value in it.
    pub fn set(&self, key: &str, name: &str, kind: u32, data: &[u8]) -> Result<(), SysError> {
        self.0.set(key, name, kind, data)
    }
}

/// Gives a restored file the security its folder passes on (the explicit ACL replaced by the
/// inherited one) and `owner_sid` as owner.
pub fn adopt_file(path: &Path, owner_sid: &str) -> Result<(), SysError> {
    imp::adopt_file(path, owner_sid)
}

/// Clears the read-only attribute before a file is replaced (Windows refuses otherwise).
pub fn clear_readonly(path: &Path) {
    imp::clear_readonly(path)
}

/// Whether a rename failed because source and destination are on different volumes.
pub fn is_cross_device(e: &std::io::Error) -> bool {
    imp::is_cross_device(e)
}

/// `SHGetKnownFolderPath` for the current user: (name, path) of the main known folders, as
/// the running Windows reports them.
pub fn known_folder_paths() -> Vec<(&'static str, Result<String, SysError>)> {
    imp::known_folder_paths()
}

/// Whether `a` and `b` are one file or device (the same inode on Unix, the same file index
/// on the same volume on Windows). False when either cannot be looked at.
pub fn same_file(a: &Path, b: &Path) -> bool {
    imp::same_file(a, b)
}

/// Whether `path` (or, when it does not exist yet, the folder it would be made in) lies on
/// a file system on the device `device`: the device itself or, for a whole disk, one of
/// its partitions. Linux: device numbers and sysfs; Windows: `\\.\PhysicalDriveN` against
/// the disks under the volume holding `path`, and `\\.\X:` against its drive letter.
pub fn lies_on(path: &Path, device: &Path) -> bool {
    imp::lies_on(path, device)
}

/// Catches the first Ctrl-C (and, on Unix, SIGTERM): the flag returned is raised instead of
/// the program ending, so a long job can stop cleanly. A second one ends the program.
pub fn catch_interrupt() -> &'static std::sync::atomic::AtomicBool {
    imp::catch_interrupt()
}

/// The deepest part of `path` that exists (the path itself, or a folder above it).
fn existing_ancestor(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    abs.ancestors()
        .find(|p| p.exists())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
