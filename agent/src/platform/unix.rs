//! Linux (and other Unix) side: volumes from /proc/self/mountinfo, disk positions from sysfs
//! and the partition tables themselves, ntfs-3g's attribute xattr.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Volume, VolumeIdentity};

struct Mount {
    point: PathBuf,
    fs_type: String,
    source: String,
}

/// Mount points are written with octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mounts() -> Vec<Mount> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            let mut r = right.split(' ');
            let fs_type = r.next()?.to_string();
            let source = r.next().unwrap_or("").to_string();
            Some(Mount {
                point: PathBuf::from(unescape(point)),
                fs_type,
                source: unescape(&source),
            })
        })
        .collect()
}

fn volume_of(m: &Mount) -> Volume {
    Volume {
        root: m.point.clone(),
        letter: None,
        label: None,
        fs_type: Some(m.fs_type.clone()),
        removable: false,
        identity: identity_of_device(&m.source),
    }
}

pub fn list_volumes() -> Vec<Volume> {
    mounts()
        .iter()
        .filter(|m| m.source.starts_with("/dev/"))
        .map(volume_of)
        .collect()
}

pub fn in_winpe() -> bool {
    false
}

pub fn volumes_to_skip() -> Vec<(PathBuf, super::VolumeRole)> {
    Vec::new()
}

pub fn volume_for_path(path: &Path) -> Option<Volume> {
    let path = path.canonicalize().ok()?;
    mounts()
        .into_iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.as_os_str().len())
        .map(|m| volume_of(&m))
}

pub fn free_space(path: &Path) -> std::io::Result<u64> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a valid NUL-terminated path and a zeroed out-struct of the right type.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

pub fn space(path: &Path) -> std::io::Result<super::Space> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a valid NUL-terminated path and a zeroed out-struct of the right type.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let block = [st.f_frsize as u64, st.f_bsize as u64]
        .into_iter()
        .find(|&b| b > 0)
        .unwrap_or(4096);
    Ok(super::Space {
        available: (st.f_bavail as u64).saturating_mul(block),
        block,
        // A file system without a fixed number of inodes says 0 in all (btrfs, FUSE ones).
        entries: (st.f_files > 0).then_some(st.f_favail as u64),
    })
}

/// ntfs-3g's view of a file's Windows attributes, big-endian in an extended attribute.
fn ntfs_attrib(path: &Path) -> Option<u32> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    let name = c"system.ntfs_attrib_be";
    let mut buf = [0u8; 4];
    // SAFETY: valid C strings and a 4-byte buffer whose length is passed.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n == 4).then(|| u32::from_be_bytes(buf))
}

/// ntfs-3g gives every file and folder the attribute, the root of a walk included.
pub fn keeps_ntfs_attributes(root: &Path) -> bool {
    ntfs_attrib(root).is_some()
}

pub fn file_attributes(path: &Path, _meta: &std::fs::Metadata) -> u32 {
    ntfs_attrib(path).unwrap_or(0)
}

pub fn read_as_backup() {}

pub fn stat(path: &Path, kept: bool) -> std::io::Result<super::Stat> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path)?;
    let attributes = if kept {
        ntfs_attrib(path).unwrap_or(0)
    } else {
        0
    };
    Ok(super::Stat {
        file_id: Some(m.ino()),
        links: u32::try_from(m.nlink()).unwrap_or(u32::MAX),
        ..super::stat_from_std(&m, attributes)
    })
}

/// Nothing besides data, times and hard links, as wimlib's Linux scan took from an ntfs-3g
/// mount. ntfs-3g could give the descriptor (`system.ntfs_acl`) and a reparse buffer
/// (`system.ntfs_reparse_data`), but each is a FUSE round trip per file: measured on a
/// mount of 30,000 tiny files (`make-fixture small-files`), reading them took the capture
/// from 2.3 s to 4.3 s (median of five). Named streams are listed only with ntfs-3g's
/// `streams_interface=xattr`, as `user.` attributes Linux caps at 64 KiB. A capture that
/// needs all of it reads the volume itself (ROOT = the device or image), faster.
pub fn file_extras(_path: &Path, _kept: bool) -> std::io::Result<super::FileExtras> {
    Ok(super::FileExtras::default())
}

pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), crate::fsread::ReadError> {
    open_regular_stat(path, false).map(|(f, st)| (f, st.size))
}

/// fsread's guarantees with one open and one `fstat`, no `lstat` before.
pub fn open_regular_stat(
    path: &Path,
    kept: bool,
) -> Result<(std::fs::File, super::Stat), crate::fsread::ReadError> {
    let c =
        CString::new(path.as_os_str().as_bytes()).map_err(|e| crate::fsread::ReadError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
    open_regular_at(libc::AT_FDCWD, &c, path, kept)
}

/// Opens `name` in the folder `dir` (or the working folder's `path` with `AT_FDCWD`):
/// `O_NOFOLLOW` refuses a link as the last component, `O_NONBLOCK` returns at once from a
/// FIFO (and `O_NOCTTY` keeps a terminal from becoming ours), and the handle's own type
/// decides. `path` is the whole path, for messages.
fn open_regular_at(
    dir: std::os::fd::RawFd,
    name: &std::ffi::CStr,
    path: &Path,
    kept: bool,
) -> Result<(std::fs::File, super::Stat), crate::fsread::ReadError> {
    use crate::fsread::ReadError;
    use std::os::fd::FromRawFd;
    use std::os::unix::fs::MetadataExt;
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not = |what| ReadError::NotRegular {
        path: path.to_path_buf(),
        what,
    };
    let flags =
        libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: a valid C string; the descriptor returned is owned by the File below.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        // A link (ELOOP), a socket (ENXIO): what the name is, said as fsread says it.
        return match std::fs::symlink_metadata(path) {
            Ok(m) if !m.file_type().is_file() => Err(not(what(m.file_type()))),
            _ => Err(io(e)),
        };
    }
    // SAFETY: a descriptor just opened, owned by nothing else.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    let m = file.metadata().map_err(io)?;
    if !m.file_type().is_file() {
        return Err(not(what(m.file_type())));
    }
    let attributes = if kept {
        fd_ntfs_attrib(&file).unwrap_or(0)
    } else {
        0
    };
    let st = super::Stat {
        file_id: Some(m.ino()),
        links: u32::try_from(m.nlink()).unwrap_or(u32::MAX),
        ..super::stat_from_std(&m, attributes)
    };
    Ok((file, st))
}

/// What something that is not a regular file is, in fsread's words.
fn what(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        "a link"
    } else if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a named pipe"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// A folder held by an `O_PATH` descriptor: its entries are looked up from it by name.
pub struct Folder(std::os::fd::OwnedFd);

impl Folder {
    pub fn open(path: &Path) -> std::io::Result<Folder> {
        use std::os::fd::FromRawFd;
        let c = CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a valid C string; the descriptor returned is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), flags) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a descriptor just opened, owned by nothing else.
        Ok(Folder(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// `statx` of `name` in the folder, a link not followed: what [`stat`] gives of `path`.
    pub fn stat(&self, name: &str, path: &Path, kept: bool) -> std::io::Result<super::Stat> {
        use std::os::fd::AsRawFd;
        let c = CString::new(name).map_err(std::io::Error::other)?;
        // SAFETY: a plain structure of integers, filled by the call.
        let mut x: libc::statx = unsafe { std::mem::zeroed() };
        let mask = libc::STATX_BASIC_STATS | libc::STATX_BTIME;
        // SAFETY: an open descriptor, a valid C string and an out structure of the type the
        // call fills.
        let r = unsafe {
            libc::statx(
                self.0.as_raw_fd(),
                c.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW | libc::AT_STATX_SYNC_AS_STAT,
                mask,
                &mut x,
            )
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let attributes = if kept {
            ntfs_attrib(path).unwrap_or(0)
        } else {
            0
        };
        Ok(stat_of(&x, attributes))
    }

    pub fn open_regular_stat(
        &self,
        name: &str,
        path: &Path,
        kept: bool,
    ) -> Result<(std::fs::File, super::Stat), crate::fsread::ReadError> {
        use std::os::fd::AsRawFd;
        let c = CString::new(name).map_err(|e| crate::fsread::ReadError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        open_regular_at(self.0.as_raw_fd(), &c, path, kept)
    }
}

/// What `statx` says, as [`stat`] reads std's metadata (a file system without birth times
/// gives the write time as creation time).
fn stat_of(x: &libc::statx, attributes: u32) -> super::Stat {
    let time = |t: libc::statx_timestamp| filetime(t.tv_sec, t.tv_nsec);
    let kind = match u32::from(x.stx_mode) & libc::S_IFMT {
        libc::S_IFLNK => super::StatKind::Link,
        libc::S_IFDIR => super::StatKind::Dir,
        libc::S_IFREG => super::StatKind::File,
        _ => super::StatKind::Other,
    };
    let written = time(x.stx_mtime);
    super::Stat {
        kind,
        size: if kind == super::StatKind::File {
            x.stx_size
        } else {
            0
        },
        attributes,
        created: if x.stx_mask & libc::STATX_BTIME != 0 {
            time(x.stx_btime)
        } else {
            written
        },
        written,
        accessed: time(x.stx_atime),
        file_id: Some(x.stx_ino),
        links: x.stx_nlink,
        reparse_tag: None,
    }
}

/// A Unix time as a Windows file time (100 ns since 1601), as std's times are converted.
fn filetime(secs: i64, nanos: u32) -> u64 {
    let ns = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    let epoch = i128::from(super::UNIX_EPOCH_AS_FILETIME);
    u64::try_from((epoch + ns.div_euclid(100) + i128::from(ns < 0 && ns % 100 != 0)).max(0))
        .unwrap_or(u64::MAX)
}

/// [`ntfs_attrib`] asked of an open file.
fn fd_ntfs_attrib(file: &std::fs::File) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let name = c"system.ntfs_attrib_be";
    let mut buf = [0u8; 4];
    // SAFETY: an open descriptor, a valid C string and a 4-byte buffer whose length is
    // passed.
    let n = unsafe {
        libc::fgetxattr(
            file.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n == 4).then(|| u32::from_be_bytes(buf))
}

pub fn open_stream(_path: &Path, _name: &str) -> std::io::Result<(std::fs::File, u64)> {
    // file_extras lists none here.
    Err(std::io::ErrorKind::NotFound.into())
}

pub fn open_may_fail(attrs: u32) -> bool {
    static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = *ROOT.get_or_init(|| unsafe { libc::geteuid() } == 0);
    !root || attrs & super::attr::REPARSE_POINT != 0
}

pub fn device_of(root: &Path) -> Option<PathBuf> {
    let real = root.canonicalize().ok()?;
    mounts()
        .into_iter()
        .find(|m| m.point == real && m.source.starts_with("/dev/"))
        .map(|m| PathBuf::from(m.source))
}

fn sysfs(path: String) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Where a block device sits: a partition (sysfs `start` on its parent disk) or a loop
/// device over a disk image with an offset (`losetup -o`).
fn identity_of_device(source: &str) -> Option<VolumeIdentity> {
    let dev = Path::new(source).canonicalize().ok()?;
    let name = dev.file_name()?.to_string_lossy().into_owned();
    let class = format!("/sys/class/block/{name}");
    if Path::new(&format!("{class}/partition")).exists() {
        let start: u64 = sysfs(format!("{class}/start"))?.parse().ok()?;
        let real = std::fs::canonicalize(&class).ok()?;
        let disk = real.parent()?.file_name()?.to_string_lossy().into_owned();
        return identity_in_table(Path::new(&format!("/dev/{disk}")), start.checked_mul(512)?);
    }
    if name.starts_with("loop") {
        let backing = sysfs(format!("/sys/block/{name}/loop/backing_file"))?;
        let offset: u64 = sysfs(format!("/sys/block/{name}/loop/offset"))?
            .parse()
            .ok()?;
        if offset > 0 {
            return identity_in_table(Path::new(&backing), offset);
        }
    }
    None
}

/// Reads the disk's partition table (with the volume layer's reader, bounded and checked)
/// and finds the partition starting at `offset` bytes.
fn identity_in_table(disk: &Path, offset: u64) -> Option<VolumeIdentity> {
    use lifeboat_volume::block::FileSource;
    use lifeboat_volume::partition::PartitionTable;
    let source: lifeboat_volume::block::Source = std::sync::Arc::new(FileSource::open(disk).ok()?);
    let table = PartitionTable::read(&source).ok()?;
    let p = table.partitions.iter().find(|p| p.offset == offset)?;
    VolumeIdentity::of(&table.kind, p)
}

pub fn read_secret() -> std::io::Result<String> {
    use std::io::BufRead;
    // SAFETY: termios calls on stdin with a zeroed struct they fill; echo restored below.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    let tty = unsafe { libc::tcgetattr(0, &mut term) } == 0;
    if tty {
        let mut quiet = term;
        quiet.c_lflag &= !libc::ECHO;
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    if tty {
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &term) };
        crate::console::say("");
    }
    r.map(|_| line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn connect_share(unc: &str, _user: &str, _password: &str) -> Result<PathBuf, String> {
    // On Linux the share is mounted by the technician (mount -t cifs); use it if it is there.
    Err(format!(
        "{unc}: mount the share first (mount -t cifs) and give its folder as the destination"
    ))
}

pub fn shutdown() -> std::io::Result<()> {
    std::process::Command::new("systemctl")
        .arg("poweroff")
        .status()
        .map(|_| ())
}

// Accounts, profiles and hives of a running Windows: there is none here.

use super::{Account, SysError};

pub fn lookup_account(_name: &str) -> Result<Option<Account>, SysError> {
    Err(SysError::Unsupported)
}

pub fn is_admin() -> bool {
    false
}

pub fn profile_of(_sid: &str) -> Option<String> {
    None
}

pub fn profiles_directory() -> Option<String> {
    None
}

pub fn create_profile(_sid: &str, _name: &str) -> Result<String, SysError> {
    Err(SysError::Unsupported)
}

pub fn create_local_account(_name: &str, _password: &str, _enabled: bool) -> Result<(), SysError> {
    Err(SysError::Unsupported)
}

/// Never made on Unix.
pub enum UserHive {}

impl UserHive {
    pub fn loaded_privately(&self) -> bool {
        match *self {}
    }
    pub fn get(&self, _key: &str, _name: &str) -> Option<(u32, Vec<u8>)> {
        match *self {}
    }
    pub fn set(&self, _key: &str, _name: &str, _kind: u32, _data: &[u8]) -> Result<(), SysError> {
        match *self {}
    }
}

pub fn open_user_hive(_sid: &str, _ntuser: &Path) -> Result<UserHive, SysError> {
    Err(SysError::Unsupported)
}

pub fn adopt_file(_path: &Path, _owner_sid: &str) -> Result<(), SysError> {
    Err(SysError::Unsupported)
}

pub fn clear_readonly(_path: &Path) {}

pub fn is_cross_device(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EXDEV)
}

pub fn known_folder_paths() -> Vec<(&'static str, Result<String, SysError>)> {
    Vec::new()
}

pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

pub fn lies_on(path: &Path, device: &Path) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(dev) = std::fs::metadata(device) else {
        return false;
    };
    if !dev.file_type().is_block_device() {
        return false;
    }
    let Ok(here) = std::fs::metadata(super::existing_ancestor(path)) else {
        return false;
    };
    here.dev() == dev.rdev() || disk_of(here.dev()) == Some(dev.rdev())
}

/// The whole disk a partition's device number belongs to (sysfs: the partition's folder
/// sits in its disk's, whose `dev` file holds `major:minor`).
fn disk_of(dev: u64) -> Option<u64> {
    let part = format!(
        "/sys/dev/block/{}:{}",
        libc::major(dev as libc::dev_t),
        libc::minor(dev as libc::dev_t)
    );
    let folder = std::fs::canonicalize(part).ok()?;
    folder.join("partition").exists().then_some(())?;
    let text = std::fs::read_to_string(folder.parent()?.join("dev")).ok()?;
    let (major, minor) = text.trim().split_once(':')?;
    Some(libc::makedev(major.parse().ok()?, minor.parse().ok()?) as u64)
}

pub fn catch_interrupt() -> &'static std::sync::atomic::AtomicBool {
    use std::sync::atomic::{AtomicBool, Ordering};
    static RAISED: AtomicBool = AtomicBool::new(false);
    extern "C" fn on_signal(_: libc::c_int) {
        RAISED.store(true, Ordering::SeqCst);
    }
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid start; the handler only stores to an
        // atomic, which is async-signal-safe; SA_RESETHAND makes a second signal end the
        // program as usual.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    &RAISED
}
