//! Windows (and WinPE) side: drive letters, volume labels and file systems, partition
//! positions through disk IOCTLs, the MiniNT key that marks WinPE, and a host file's
//! metadata, security descriptor, reparse data and named streams for a capture.

use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::MetadataExt;
use std::path::{Path, PathBuf};

use windows_sys::core::GUID;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, GetDiskFreeSpaceExW, GetDiskFreeSpaceW, GetDriveTypeW, GetLogicalDrives,
    GetVolumeInformationW, GetVolumePathNameW, FILE_SHARE_READ, FILE_SHARE_WRITE,
    IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, OPEN_EXISTING,
};
use windows_sys::Win32::System::Ioctl::{
    DRIVE_LAYOUT_INFORMATION_EX, IOCTL_DISK_GET_DRIVE_LAYOUT_EX, IOCTL_DISK_GET_PARTITION_INFO_EX,
    PARTITION_INFORMATION_EX, PARTITION_STYLE_GPT, PARTITION_STYLE_MBR, VOLUME_DISK_EXTENTS,
};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegGetValueW, RegOpenKeyExW, HKEY, HKEY_LOCAL_MACHINE, KEY_READ, RRF_RT_REG_SZ,
};
use windows_sys::Win32::System::IO::DeviceIoControl;

use super::{Volume, VolumeIdentity};

const DRIVE_NO_ROOT_DIR: u32 = 1;
const DRIVE_REMOVABLE: u32 = 2;
const DRIVE_REMOTE: u32 = 4;
const DRIVE_CDROM: u32 = 5;

fn wide(s: &str) -> Vec<u16> {
    std::ffi::OsStr::new(s).encode_wide().chain([0]).collect()
}

fn from_wide(buf: &[u16]) -> String {
    let end = buf.iter().position(|&u| u == 0).unwrap_or(buf.len());
    String::from_utf16_lossy(&buf[..end])
}

/// A handle closed on drop.
struct Handle(HANDLE);
impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from CreateFileW and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

fn open_device(path: &str, access: u32) -> Option<Handle> {
    let w = wide(path);
    // SAFETY: a NUL-terminated path; no security attributes or template.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            access,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            std::ptr::null(),
            OPEN_EXISTING,
            0,
            std::ptr::null_mut(),
        )
    };
    (h != INVALID_HANDLE_VALUE && !h.is_null()).then_some(Handle(h))
}

/// DeviceIoControl into a caller-sized, 8-byte aligned buffer.
fn ioctl(h: &Handle, code: u32, out: &mut [u64]) -> bool {
    let mut returned = 0u32;
    // SAFETY: the out buffer is valid for its length in bytes; no input buffer.
    unsafe {
        DeviceIoControl(
            h.0,
            code,
            std::ptr::null(),
            0,
            out.as_mut_ptr().cast(),
            (out.len() * 8) as u32,
            &mut returned,
            std::ptr::null_mut(),
        ) != 0
    }
}

fn guid_bytes(g: &GUID) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&g.data1.to_le_bytes());
    b[4..6].copy_from_slice(&g.data2.to_le_bytes());
    b[6..8].copy_from_slice(&g.data3.to_le_bytes());
    b[8..16].copy_from_slice(&g.data4);
    b
}

/// Partition style, offset and GPT id of a volume, and its disk's MBR signature.
fn identity(letter: char) -> Option<VolumeIdentity> {
    // Access 0: query only, works without opening the volume for reading.
    let vol = open_device(&format!(r"\\.\{letter}:"), 0)?;
    let mut buf = [0u64; 64];
    if !ioctl(&vol, IOCTL_DISK_GET_PARTITION_INFO_EX, &mut buf) {
        return None;
    }
    // SAFETY: the buffer is large and aligned enough for the structure the IOCTL filled.
    let info = unsafe { &*(buf.as_ptr() as *const PARTITION_INFORMATION_EX) };
    let offset = info.StartingOffset as u64;
    if info.PartitionStyle == PARTITION_STYLE_GPT {
        // SAFETY: the style says the GPT member is the one set.
        let id = unsafe { info.Anonymous.Gpt.PartitionId };
        return Some(VolumeIdentity::Gpt {
            partition_guid: crate::diskid::guid_string(&guid_bytes(&id)),
        });
    }
    if info.PartitionStyle != PARTITION_STYLE_MBR {
        return None;
    }
    let mut ext = [0u64; 64];
    if !ioctl(&vol, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &mut ext) {
        return None;
    }
    // SAFETY: as above, for VOLUME_DISK_EXTENTS.
    let extents = unsafe { &*(ext.as_ptr() as *const VOLUME_DISK_EXTENTS) };
    if extents.NumberOfDiskExtents == 0 {
        return None;
    }
    let disk = open_device(
        &format!(r"\\.\PhysicalDrive{}", extents.Extents[0].DiskNumber),
        0,
    )?;
    let mut layout = vec![0u64; 2048];
    if !ioctl(&disk, IOCTL_DISK_GET_DRIVE_LAYOUT_EX, &mut layout) {
        return None;
    }
    // SAFETY: as above, for DRIVE_LAYOUT_INFORMATION_EX; the MBR member matches the style.
    let l = unsafe { &*(layout.as_ptr() as *const DRIVE_LAYOUT_INFORMATION_EX) };
    let disk_signature = unsafe { l.Anonymous.Mbr.Signature };
    Some(VolumeIdentity::Mbr {
        disk_signature,
        offset,
    })
}

fn volume_at(letter: char) -> Option<Volume> {
    let root = format!("{letter}:\\");
    let w = wide(&root);
    // SAFETY: a NUL-terminated root path.
    let kind = unsafe { GetDriveTypeW(w.as_ptr()) };
    if kind == DRIVE_NO_ROOT_DIR || kind == DRIVE_CDROM || kind == DRIVE_REMOTE {
        return None;
    }
    let mut label = [0u16; 261];
    let mut fs = [0u16; 261];
    let (mut serial, mut maxlen, mut flags) = (0u32, 0u32, 0u32);
    // SAFETY: buffers with their sizes; a locked or empty volume just fails.
    let ok = unsafe {
        GetVolumeInformationW(
            w.as_ptr(),
            label.as_mut_ptr(),
            261,
            &mut serial,
            &mut maxlen,
            &mut flags,
            fs.as_mut_ptr(),
            261,
        )
    } != 0;
    Some(Volume {
        root: PathBuf::from(&root),
        letter: Some(letter),
        label: ok.then(|| from_wide(&label)).filter(|s| !s.is_empty()),
        fs_type: ok.then(|| from_wide(&fs)).filter(|s| !s.is_empty()),
        removable: kind == DRIVE_REMOVABLE,
        identity: identity(letter),
    })
}

pub fn list_volumes() -> Vec<Volume> {
    // SAFETY: no arguments.
    let mask = unsafe { GetLogicalDrives() };
    (0..26u8)
        .filter(|i| mask & (1 << i) != 0)
        .filter_map(|i| volume_at((b'A' + i) as char))
        .collect()
}

fn reg_string(key: &str, value: &str) -> Option<String> {
    let (k, v) = (wide(key), wide(value));
    let mut buf = [0u16; 512];
    let mut size = (buf.len() * 2) as u32;
    // SAFETY: NUL-terminated names, a buffer with its size in bytes.
    let r = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            k.as_ptr(),
            v.as_ptr(),
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
            &mut size,
        )
    };
    (r == 0).then(|| from_wide(&buf))
}

pub fn in_winpe() -> bool {
    let k = wide(r"SYSTEM\CurrentControlSet\Control\MiniNT");
    let mut h: HKEY = std::ptr::null_mut();
    // SAFETY: a NUL-terminated key name and an out handle, closed below.
    let r = unsafe { RegOpenKeyExW(HKEY_LOCAL_MACHINE, k.as_ptr(), 0, KEY_READ, &mut h) };
    if r == 0 {
        unsafe { RegCloseKey(h) };
    }
    r == 0
}

fn letter_of(path: &Path) -> Option<char> {
    let s = path.to_string_lossy();
    let s = s.strip_prefix(r"\\?\").unwrap_or(&s);
    let mut c = s.chars();
    let l = c.next()?;
    (l.is_ascii_alphabetic() && c.next() == Some(':')).then(|| l.to_ascii_uppercase())
}

pub fn volumes_to_skip() -> Vec<(PathBuf, super::VolumeRole)> {
    let mut skip = Vec::new();
    if in_winpe() {
        if let Some(l) = std::env::var("SystemDrive")
            .ok()
            .and_then(|d| letter_of(Path::new(&d)))
        {
            skip.push((
                PathBuf::from(format!("{l}:\\")),
                super::VolumeRole::WinPeRamDrive,
            ));
        }
        // wpeinit records where WinPE booted from.
        if let Some(l) = reg_string(
            r"SYSTEM\CurrentControlSet\Control",
            "PEBootRamdiskSourceDrive",
        )
        .and_then(|d| letter_of(Path::new(&d)))
        {
            skip.push((
                PathBuf::from(format!("{l}:\\")),
                super::VolumeRole::BootMedia,
            ));
        }
    }
    // The agent's own volume when it is boot media (it holds sources\boot.wim).
    if let Some(l) = std::env::current_exe().ok().as_deref().and_then(letter_of) {
        let root = PathBuf::from(format!("{l}:\\"));
        if root.join("sources").join("boot.wim").is_file() {
            skip.push((root, super::VolumeRole::AgentBootMedia));
        }
    }
    skip
}

pub fn volume_for_path(path: &Path) -> Option<Volume> {
    let abs = std::path::absolute(path).ok()?;
    volume_at(letter_of(&abs)?)
}

pub fn free_space(path: &Path) -> std::io::Result<u64> {
    let w: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let mut free = 0u64;
    // SAFETY: a NUL-terminated path and an out value; the totals are not wanted.
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            w.as_ptr(),
            &mut free,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(free)
}

pub fn space(path: &Path) -> std::io::Result<super::Space> {
    let available = free_space(path)?;
    let w: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let mut root = [0u16; 1024];
    // SAFETY: a NUL-terminated path and a buffer whose length in units is passed.
    let ok = unsafe { GetVolumePathNameW(w.as_ptr(), root.as_mut_ptr(), root.len() as u32) };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let (mut per_cluster, mut sector, mut free, mut total) = (0u32, 0u32, 0u32, 0u32);
    // SAFETY: `root` is NUL-terminated by GetVolumePathNameW; four out values.
    let ok = unsafe {
        GetDiskFreeSpaceW(
            root.as_ptr(),
            &mut per_cluster,
            &mut sector,
            &mut free,
            &mut total,
        )
    };
    let cluster = u64::from(per_cluster) * u64::from(sector);
    Ok(super::Space {
        available,
        block: if ok != 0 && cluster > 0 {
            cluster
        } else {
            4096
        },
        entries: None,
    })
}

// ---- A host file as a capture reads it: metadata, security, reparse data, streams ----

use windows_sys::Win32::Storage::FileSystem::{
    GetFileInformationByHandle, GetFileInformationByHandleEx, BY_HANDLE_FILE_INFORMATION,
    FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_REPARSE_POINT, FILE_ATTRIBUTE_TAG_INFO,
    FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_READ_ATTRIBUTES,
    FILE_SHARE_DELETE, READ_CONTROL,
};

/// Every open of a source file lets every other reader and writer go on: the source is
/// read as it is, never locked, never written.
const SHARE_ALL: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
/// The reparse tag bit of a link (symlink, junction): std reads these as symlinks.
const NAME_SURROGATE: u32 = 0x2000_0000;
/// ACCESS_SYSTEM_SECURITY: the right to read a SACL (needs SeSecurityPrivilege).
const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
/// The largest security descriptor read: two ACLs of at most 64 KiB and four SIDs.
const SECURITY_MAX_BYTES: usize = 256 * 1024;
/// The largest stream list read: the WIM writer's 4,096 named streams of 255 characters.
const STREAM_INFO_MAX_BYTES: usize = 4 << 20;
/// MAXIMUM_REPARSE_DATA_BUFFER_SIZE.
const REPARSE_MAX_BYTES: usize = 16 * 1024;

/// SeBackupPrivilege (read any file, whatever its ACL) and SeSecurityPrivilege (read
/// SACLs), turned on once where the account holds them (WinPE's SYSTEM does), as wimlib
/// does before a capture. Where it does not, files and SACLs it may not read are told so.
pub fn read_as_backup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = enable_privilege("SeBackupPrivilege");
        let _ = enable_privilege("SeSecurityPrivilege");
    });
}

/// Opens a file or folder itself (a reparse point not followed) for `access`, read-only
/// and shared, with backup semantics.
fn open_itself(path: &Path, access: u32) -> std::io::Result<Handle> {
    let w = verbatim(path);
    // SAFETY: a NUL-terminated path; no security attributes or template file. The access
    // asked is never a write right.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            access,
            SHARE_ALL,
            std::ptr::null(),
            OPEN_EXISTING,
            FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
            std::ptr::null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE || h.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Handle(h))
}

/// Attributes and reparse tag of an open handle.
fn attribute_tag(h: &Handle) -> std::io::Result<FILE_ATTRIBUTE_TAG_INFO> {
    use windows_sys::Win32::Storage::FileSystem::FileAttributeTagInfo;
    // SAFETY: a plain structure of integers, filled by the call.
    let mut info: FILE_ATTRIBUTE_TAG_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: an open handle and an out structure whose size is passed.
    let ok = unsafe {
        GetFileInformationByHandleEx(
            h.0,
            FileAttributeTagInfo,
            (&mut info as *mut FILE_ATTRIBUTE_TAG_INFO).cast(),
            std::mem::size_of::<FILE_ATTRIBUTE_TAG_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(info)
}

pub fn stat(path: &Path, _kept: bool) -> std::io::Result<super::Stat> {
    read_as_backup();
    let Ok(h) = open_itself(path, FILE_READ_ATTRIBUTES) else {
        // A file Windows will not open even for its attributes (pagefile.sys, in use
        // without sharing): what std finds (from its folder's listing).
        let m = std::fs::symlink_metadata(path)?;
        return Ok(super::stat_from_std(&m, m.file_attributes()));
    };
    // SAFETY: a plain structure of integers, filled by the call.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: an open handle and an out structure of the type the call fills.
    if unsafe { GetFileInformationByHandle(h.0, &mut info) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let attributes = info.dwFileAttributes;
    let reparse_tag = if attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        attribute_tag(&h).ok().map(|t| t.ReparseTag)
    } else {
        None
    };
    let dir = attributes & FILE_ATTRIBUTE_DIRECTORY != 0;
    let kind = if reparse_tag.is_some_and(|t| t & NAME_SURROGATE != 0) {
        super::StatKind::Link
    } else if dir {
        super::StatKind::Dir
    } else {
        super::StatKind::File
    };
    let time = |t: windows_sys::Win32::Foundation::FILETIME| {
        u64::from(t.dwHighDateTime) << 32 | u64::from(t.dwLowDateTime)
    };
    Ok(super::Stat {
        kind,
        size: if dir {
            0
        } else {
            u64::from(info.nFileSizeHigh) << 32 | u64::from(info.nFileSizeLow)
        },
        attributes,
        created: time(info.ftCreationTime),
        written: time(info.ftLastWriteTime),
        accessed: time(info.ftLastAccessTime),
        file_id: Some(u64::from(info.nFileIndexHigh) << 32 | u64::from(info.nFileIndexLow)),
        links: info.nNumberOfLinks.max(1),
        reparse_tag,
    })
}

/// A file itself opened for what its extras need, with the rights the account has: the
/// SACL's right where SeSecurityPrivilege allows it, READ_CONTROL where the ACL (or
/// SeBackupPrivilege) allows it, always its attributes. Returns the rights obtained.
fn open_for_extras(path: &Path) -> std::io::Result<(Handle, u32)> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_PRIVILEGE_NOT_HELD};
    /// The account cannot read SACLs: not asked again for every file.
    static NO_SACL: AtomicBool = AtomicBool::new(false);
    let basic = FILE_READ_ATTRIBUTES;
    let tries = [
        READ_CONTROL | ACCESS_SYSTEM_SECURITY | basic,
        READ_CONTROL | basic,
        basic,
    ];
    let skip = usize::from(NO_SACL.load(Ordering::Relaxed));
    let mut last = None;
    for access in tries.into_iter().skip(skip) {
        match open_itself(path, access) {
            Ok(h) => return Ok((h, access)),
            Err(e) => {
                let code = e.raw_os_error().map(|c| c as u32);
                if access & ACCESS_SYSTEM_SECURITY != 0 && code == Some(ERROR_PRIVILEGE_NOT_HELD) {
                    NO_SACL.store(true, Ordering::Relaxed);
                }
                if !matches!(code, Some(ERROR_ACCESS_DENIED | ERROR_PRIVILEGE_NOT_HELD)) {
                    return Err(e);
                }
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| std::io::ErrorKind::PermissionDenied.into()))
}

/// The handle's self-relative security descriptor: owner, group, DACL, and the SACL (with
/// its label and the rest a backup reads) when `sacl`. None when the account may not read
/// it (the file is still taken, as wimlib takes it) or the file system keeps none.
fn security_descriptor(h: &Handle, sacl: bool) -> std::io::Result<Option<Vec<u8>>> {
    use windows_sys::Win32::Foundation::{
        ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, ERROR_PRIVILEGE_NOT_HELD,
    };
    use windows_sys::Win32::Security::{
        GetKernelObjectSecurity, BACKUP_SECURITY_INFORMATION, DACL_SECURITY_INFORMATION,
        GROUP_SECURITY_INFORMATION, LABEL_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION,
        SACL_SECURITY_INFORMATION,
    };
    let base = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    let full =
        base | SACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION | BACKUP_SECURITY_INFORMATION;
    let mut what = if sacl { full } else { base };
    let mut buf = vec![0u8; 4096];
    loop {
        let mut needed = 0u32;
        // SAFETY: an open handle and a buffer whose length is passed.
        let ok = unsafe {
            GetKernelObjectSecurity(
                h.0,
                what,
                buf.as_mut_ptr().cast(),
                buf.len() as u32,
                &mut needed,
            )
        } != 0;
        let needed = needed as usize;
        if ok {
            // A file system that keeps no descriptor (a Samba share) says 0 bytes.
            return Ok((needed > 0 && needed <= buf.len()).then(|| {
                buf.truncate(needed);
                buf
            }));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error().map(|c| c as u32) {
            Some(ERROR_INSUFFICIENT_BUFFER) if needed > buf.len() => {
                if needed > SECURITY_MAX_BYTES {
                    return Err(std::io::Error::other(format!(
                        "its security descriptor is {needed} bytes, more than the \
                         {SECURITY_MAX_BYTES} any valid one has"
                    )));
                }
                buf.resize(needed, 0);
            }
            Some(ERROR_PRIVILEGE_NOT_HELD | ERROR_ACCESS_DENIED | ERROR_INVALID_PARAMETER)
                if what != base =>
            {
                what = base;
            }
            Some(ERROR_PRIVILEGE_NOT_HELD | ERROR_ACCESS_DENIED) => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// A reparse point's whole buffer (tag, length, reserved, data), as FSCTL_GET_REPARSE_POINT
/// gives it; None if it stopped being one.
fn reparse_buffer(h: &Handle) -> std::io::Result<Option<Vec<u8>>> {
    use windows_sys::Win32::Foundation::ERROR_NOT_A_REPARSE_POINT;
    use windows_sys::Win32::System::Ioctl::FSCTL_GET_REPARSE_POINT;
    let mut buf = vec![0u64; REPARSE_MAX_BYTES / 8];
    let mut returned = 0u32;
    // SAFETY: an open handle, no input, an 8-byte aligned out buffer whose length in bytes
    // is passed, and no overlapped I/O.
    let ok = unsafe {
        DeviceIoControl(
            h.0,
            FSCTL_GET_REPARSE_POINT,
            std::ptr::null(),
            0,
            buf.as_mut_ptr().cast(),
            REPARSE_MAX_BYTES as u32,
            &mut returned,
            std::ptr::null_mut(),
        )
    } != 0;
    if !ok {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(ERROR_NOT_A_REPARSE_POINT as i32) {
            return Ok(None);
        }
        return Err(e);
    }
    let mut bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.truncate((returned as usize).min(REPARSE_MAX_BYTES));
    Ok(Some(bytes))
}

/// The named data streams of an open file or folder (FILE_STREAM_INFO through the handle,
/// so backup semantics hold, where FindFirstStreamW would open the file again without
/// them). A file system that keeps no streams (FAT, a share, Wine) has none.
fn named_streams(h: &Handle) -> std::io::Result<Vec<(String, u64)>> {
    use windows_sys::Win32::Foundation::{
        ERROR_CALL_NOT_IMPLEMENTED, ERROR_HANDLE_EOF, ERROR_INVALID_FUNCTION,
        ERROR_INVALID_PARAMETER, ERROR_MORE_DATA, ERROR_NOT_SUPPORTED,
    };
    use windows_sys::Win32::Storage::FileSystem::FileStreamInfo;
    let mut words = 4096 / 8;
    loop {
        // 8-byte aligned, as the structure's 64-bit sizes need; zeroed, so a list that
        // does not fill it ends there.
        let mut buf = vec![0u64; words];
        // SAFETY: an open handle and a buffer whose length in bytes is passed.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                h.0,
                FileStreamInfo,
                buf.as_mut_ptr().cast(),
                (words * 8) as u32,
            )
        } != 0;
        if ok {
            let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_le_bytes()).collect();
            return Ok(super::ntinfo::named_data_streams(&bytes));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error().map(|c| c as u32) {
            Some(ERROR_MORE_DATA | ERROR_INSUFFICIENT_BUFFER)
                if words * 8 < STREAM_INFO_MAX_BYTES =>
            {
                words *= 2;
            }
            Some(
                ERROR_HANDLE_EOF
                | ERROR_INVALID_FUNCTION
                | ERROR_NOT_SUPPORTED
                | ERROR_INVALID_PARAMETER
                | ERROR_CALL_NOT_IMPLEMENTED,
            ) => return Ok(Vec::new()),
            _ => return Err(e),
        }
    }
}

/// A file's or folder's security descriptor, reparse buffer and named streams, through one
/// handle opened for backup that does not follow a reparse point.
pub fn file_extras(path: &Path, _kept: bool) -> std::io::Result<super::FileExtras> {
    read_as_backup();
    let (h, access) = open_for_extras(path)?;
    let attributes = attribute_tag(&h)?.FileAttributes;
    let security = if access & READ_CONTROL != 0 {
        security_descriptor(&h, access & ACCESS_SYSTEM_SECURITY != 0)?
    } else {
        None
    };
    let reparse = if attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        reparse_buffer(&h)?
    } else {
        None
    };
    Ok(super::FileExtras {
        security,
        reparse,
        streams: named_streams(&h)?,
    })
}

/// Opens `path` (a file or one of its streams) for reading only, shared, with backup
/// semantics; `itself`: without following a reparse point.
fn open_shared(path: &std::ffi::OsStr, itself: bool) -> std::io::Result<std::fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    read_as_backup();
    let flags = FILE_FLAG_BACKUP_SEMANTICS
        | if itself {
            FILE_FLAG_OPEN_REPARSE_POINT
        } else {
            0
        };
    std::fs::OpenOptions::new()
        .read(true)
        .share_mode(SHARE_ALL)
        .custom_flags(flags)
        .open(path)
}

/// A regular file's unnamed data. The file itself is opened first (a link is never
/// followed: it is refused). A reparse point that is not a link (WOF, deduplication, a
/// cloud file) is opened again through the filter that serves it, so that what is read is
/// its content, or the open fails when no filter serves it; read raw it would give the
/// zeros its sparse data holds.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), crate::fsread::ReadError> {
    use crate::fsread::ReadError;
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not = |what| ReadError::NotRegular {
        path: path.to_path_buf(),
        what,
    };
    let mut file = open_shared(path.as_os_str(), true).map_err(io)?;
    let mut meta = file.metadata().map_err(io)?;
    if meta.file_type().is_symlink() {
        return Err(not("a link"));
    }
    if meta.is_dir() {
        return Err(not("a folder"));
    }
    if meta.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        file = open_shared(path.as_os_str(), false).map_err(io)?;
        meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(not("not a file"));
        }
    }
    Ok((file, meta.len()))
}

pub fn open_regular_stat(
    path: &Path,
    kept: bool,
) -> Result<(std::fs::File, super::Stat), crate::fsread::ReadError> {
    let (file, _) = open_regular(path)?;
    let st = stat(path, kept).map_err(|source| crate::fsread::ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((file, st))
}

/// A folder as its path: Windows is asked by whole path, as before.
pub struct Folder;

impl Folder {
    pub fn open(_path: &Path) -> std::io::Result<Folder> {
        Ok(Folder)
    }

    pub fn stat(&self, _name: &str, path: &Path, kept: bool) -> std::io::Result<super::Stat> {
        stat(path, kept)
    }

    pub fn open_regular_stat(
        &self,
        _name: &str,
        path: &Path,
        kept: bool,
    ) -> Result<(std::fs::File, super::Stat), crate::fsread::ReadError> {
        open_regular_stat(path, kept)
    }
}

/// Named stream `name` of the file at `path`: `path:name`, built only from a name
/// [`file_extras`] listed (one with no `:`, `\`, `/` or NUL), read raw.
pub fn open_stream(path: &Path, name: &str) -> std::io::Result<(std::fs::File, u64)> {
    if name.is_empty() || name.contains([':', '\\', '/', '\0']) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a stream name",
        ));
    }
    let mut full = path.as_os_str().to_os_string();
    full.push(":");
    full.push(name);
    let file = open_shared(&full, true)?;
    let len = file.metadata()?.len();
    Ok((file, len))
}

pub fn keeps_ntfs_attributes(_root: &Path) -> bool {
    true
}

pub fn file_attributes(_path: &Path, meta: &std::fs::Metadata) -> u32 {
    meta.file_attributes()
}

pub fn open_may_fail(_attrs: u32) -> bool {
    true
}

pub fn device_of(root: &Path) -> Option<PathBuf> {
    // Only a drive's root is a volume of its own: `D:`, `D:\`.
    let l = letter_of(root)?;
    (root.to_string_lossy().trim_end_matches(['\\', '/']).len() <= 2)
        .then(|| PathBuf::from(format!(r"\\.\{l}:")))
}

pub fn read_secret() -> std::io::Result<String> {
    use std::io::BufRead;
    use windows_sys::Win32::System::Console::{
        GetConsoleMode, GetStdHandle, SetConsoleMode, ENABLE_ECHO_INPUT, STD_INPUT_HANDLE,
    };
    // SAFETY: console mode calls on the process's own input handle; the mode is restored.
    let h = unsafe { GetStdHandle(STD_INPUT_HANDLE) };
    let mut mode = 0u32;
    let console = unsafe { GetConsoleMode(h, &mut mode) } != 0;
    if console {
        unsafe { SetConsoleMode(h, mode & !ENABLE_ECHO_INPUT) };
    }
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    if console {
        unsafe { SetConsoleMode(h, mode) };
        crate::console::say("");
    }
    r.map(|_| line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn connect_share(unc: &str, user: &str, password: &str) -> Result<PathBuf, String> {
    use windows_sys::Win32::NetworkManagement::WNet::{
        WNetAddConnection2W, NETRESOURCEW, RESOURCETYPE_DISK,
    };
    let remote = wide(unc.trim_end_matches('\\'));
    let (u, p) = (wide(user), wide(password));
    // SAFETY: a zeroed resource with the type and remote name set; strings live for the call.
    let mut res: NETRESOURCEW = unsafe { std::mem::zeroed() };
    res.dwType = RESOURCETYPE_DISK;
    res.lpRemoteName = remote.as_ptr() as *mut u16;
    let code = unsafe {
        WNetAddConnection2W(
            &res,
            if password.is_empty() {
                std::ptr::null()
            } else {
                p.as_ptr()
            },
            if user.is_empty() {
                std::ptr::null()
            } else {
                u.as_ptr()
            },
            0,
        )
    };
    match code {
        0 | 1219 => Ok(PathBuf::from(unc)),
        5 | 86 | 1326 => Err(format!("{unc}: access denied: wrong user name or password (error {code})")),
        53 | 67 | 1203 => Err(format!("{unc}: the share cannot be found: check the name and that the network is up (wpeutil InitializeNetwork) (error {code})")),
        c => Err(format!("{unc}: cannot connect (Windows error {c}; `net helpmsg {c}` explains it)")),
    }
}

pub fn shutdown() -> std::io::Result<()> {
    let mut cmd = if in_winpe() {
        std::process::Command::new("wpeutil")
    } else {
        std::process::Command::new("shutdown")
    };
    if in_winpe() {
        cmd.arg("shutdown");
    } else {
        cmd.args(["/s", "/t", "0"]);
    }
    cmd.status().map(|_| ())
}

// ---- Accounts, profiles, hives and file security, for `lifeboat restore` ----

use windows_sys::Win32::Foundation::{GetLastError, LocalFree, LUID};
use windows_sys::Win32::Security::{PSID, SID_NAME_USE};
use windows_sys::Win32::System::Registry::HKEY_USERS;

use super::{Account, SysError};

const ERROR_INSUFFICIENT_BUFFER: u32 = 122;
const ERROR_NONE_MAPPED: u32 = 1332;
const ERROR_NOT_ALL_ASSIGNED: u32 = 1300;

fn last(call: &'static str) -> SysError {
    // SAFETY: reads the calling thread's last-error value.
    SysError::Win32 {
        call,
        code: unsafe { GetLastError() },
    }
}

fn status(call: &'static str, code: u32) -> Result<(), SysError> {
    if code == 0 {
        Ok(())
    } else {
        Err(SysError::Win32 { call, code })
    }
}

/// Memory Windows allocated with LocalAlloc, freed on drop.
struct Local(*mut core::ffi::c_void);
impl Drop for Local {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from a call that documents LocalFree for it; freed once.
            unsafe { LocalFree(self.0) };
        }
    }
}

fn sid_string(sid: PSID) -> Result<String, SysError> {
    use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
    let mut s: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` is a valid SID; the out string is freed by `Local`.
    if unsafe { ConvertSidToStringSidW(sid, &mut s) } == 0 {
        return Err(last("ConvertSidToStringSidW"));
    }
    let guard = Local(s.cast());
    // SAFETY: a NUL-terminated string Windows just returned, read before it is freed.
    let len = (0..).take_while(|&i| unsafe { *s.add(i) } != 0).count();
    let text = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(s, len) });
    drop(guard);
    Ok(text)
}

/// A binary SID from its string form, freed on drop.
fn sid_from_string(sid: &str) -> Result<Local, SysError> {
    use windows_sys::Win32::Security::Authorization::ConvertStringSidToSidW;
    let w = wide(sid);
    let mut p: PSID = std::ptr::null_mut();
    // SAFETY: a NUL-terminated string and an out pointer freed by `Local`.
    if unsafe { ConvertStringSidToSidW(w.as_ptr(), &mut p) } == 0 {
        return Err(last("ConvertStringSidToSidW"));
    }
    Ok(Local(p))
}

pub fn lookup_account(name: &str) -> Result<Option<Account>, SysError> {
    use windows_sys::Win32::Security::LookupAccountNameW;
    let w = wide(name);
    let (mut sid_len, mut dom_len) = (0u32, 0u32);
    let mut kind: SID_NAME_USE = 0;
    // SAFETY: a size query: null buffers with zero sizes.
    unsafe {
        LookupAccountNameW(
            std::ptr::null(),
            w.as_ptr(),
            std::ptr::null_mut(),
            &mut sid_len,
            std::ptr::null_mut(),
            &mut dom_len,
            &mut kind,
        )
    };
    // SAFETY: reads the thread's last error.
    match unsafe { GetLastError() } {
        ERROR_NONE_MAPPED => return Ok(None),
        ERROR_INSUFFICIENT_BUFFER => {}
        code => {
            return Err(SysError::Win32 {
                call: "LookupAccountNameW",
                code,
            })
        }
    }
    let mut sid = vec![0u64; (sid_len as usize).div_ceil(8)];
    let mut dom = vec![0u16; dom_len as usize + 1];
    // SAFETY: buffers of the sizes Windows asked for.
    let ok = unsafe {
        LookupAccountNameW(
            std::ptr::null(),
            w.as_ptr(),
            sid.as_mut_ptr().cast(),
            &mut sid_len,
            dom.as_mut_ptr(),
            &mut dom_len,
            &mut kind,
        )
    };
    if ok == 0 {
        return Err(last("LookupAccountNameW"));
    }
    Ok(Some(Account {
        sid: sid_string(sid.as_mut_ptr().cast())?,
        domain: from_wide(&dom),
    }))
}

pub fn is_admin() -> bool {
    // SAFETY: no arguments; checks the calling process's token.
    unsafe { windows_sys::Win32::UI::Shell::IsUserAnAdmin() != 0 }
}

fn expand_env(s: &str) -> String {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    crate::winpath::expand_vars(s, &pairs)
}

const PROFILE_LIST: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";

pub fn profile_of(sid: &str) -> Option<String> {
    reg_string(&format!(r"{PROFILE_LIST}\{sid}"), "ProfileImagePath").map(|p| expand_env(&p))
}

pub fn profiles_directory() -> Option<String> {
    reg_string(PROFILE_LIST, "ProfilesDirectory").map(|p| expand_env(&p))
}

pub fn create_profile(sid: &str, name: &str) -> Result<String, SysError> {
    let (s, n) = (wide(sid), wide(name));
    let mut buf = vec![0u16; 1024];
    // SAFETY: NUL-terminated strings and a buffer with its length in characters.
    let hr = unsafe {
        windows_sys::Win32::UI::Shell::CreateProfile(
            s.as_ptr(),
            n.as_ptr(),
            buf.as_mut_ptr(),
            buf.len() as u32,
        )
    };
    // HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS): the profile is there, with its path.
    if hr == 0 || hr as u32 == 0x8007_00B7 {
        let p = from_wide(&buf);
        if !p.is_empty() {
            return Ok(p);
        }
        if let Some(p) = profile_of(sid) {
            return Ok(p);
        }
    }
    Err(SysError::Win32 {
        call: "CreateProfile",
        code: hr as u32,
    })
}

/// `NetUserAdd`'s signature (lmaccess.h).
type NetUserAddFn = unsafe extern "system" fn(*const u16, u32, *const u8, *mut u32) -> u32;

/// `NetUserAdd`, looked up in netapi32.dll when an account is to be created. The agent does
/// not import netapi32: only `restore --create-local` needs it, and loading it (with the
/// network stack it pulls in: ws2_32, dnsapi) at every start costs WinPE time and makes the
/// x86 agent fail to start where that stack cannot initialise (Wine's WoW64).
fn net_user_add() -> Result<NetUserAddFn, SysError> {
    use windows_sys::Win32::System::LibraryLoader::{
        GetProcAddress, LoadLibraryExW, LOAD_LIBRARY_SEARCH_SYSTEM32,
    };
    let dll = wide("netapi32.dll");
    // SAFETY: a NUL-terminated name, searched in System32 only (never the program's own
    // folder, a stick or a share); the module stays loaded for the rest of the process.
    let module = unsafe {
        LoadLibraryExW(
            dll.as_ptr(),
            std::ptr::null_mut(),
            LOAD_LIBRARY_SEARCH_SYSTEM32,
        )
    };
    if module.is_null() {
        return Err(SysError::Win32 {
            call: "LoadLibraryExW(netapi32.dll)",
            // SAFETY: reads this thread's last error.
            code: unsafe { GetLastError() },
        });
    }
    // SAFETY: a loaded module and a NUL-terminated ANSI name.
    let found = unsafe { GetProcAddress(module, b"NetUserAdd\0".as_ptr()) };
    match found {
        // SAFETY: netapi32's NetUserAdd has exactly the signature of `NetUserAddFn`.
        Some(f) => Ok(unsafe {
            std::mem::transmute::<unsafe extern "system" fn() -> isize, NetUserAddFn>(f)
        }),
        None => Err(SysError::Win32 {
            call: "GetProcAddress(NetUserAdd)",
            // SAFETY: reads this thread's last error.
            code: unsafe { GetLastError() },
        }),
    }
}

pub fn create_local_account(name: &str, password: &str, enabled: bool) -> Result<(), SysError> {
    use windows_sys::Win32::NetworkManagement::NetManagement::{
        UF_ACCOUNTDISABLE, UF_SCRIPT, USER_INFO_1, USER_PRIV_USER,
    };
    let net_user_add = net_user_add()?;
    let mut n = wide(name);
    let mut p = wide(password);
    let info = USER_INFO_1 {
        usri1_name: n.as_mut_ptr(),
        usri1_password: p.as_mut_ptr(),
        usri1_password_age: 0,
        usri1_priv: USER_PRIV_USER,
        usri1_home_dir: std::ptr::null_mut(),
        usri1_comment: std::ptr::null_mut(),
        usri1_flags: UF_SCRIPT | if enabled { 0 } else { UF_ACCOUNTDISABLE },
        usri1_script_path: std::ptr::null_mut(),
    };
    let mut parm = 0u32;
    // SAFETY: a level-1 structure whose strings outlive the call.
    let code = unsafe {
        net_user_add(
            std::ptr::null(),
            1,
            (&info as *const USER_INFO_1).cast(),
            &mut parm,
        )
    };
    // The password's copy is wiped before it is freed (volatile: a plain store before the
    // free may be optimised away).
    for u in p.iter_mut() {
        // SAFETY: a valid, aligned element of the vector.
        unsafe { std::ptr::write_volatile(u, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    status("NetUserAdd", code)
}

/// Turns on a privilege of this process's token (SeBackupPrivilege, SeRestorePrivilege).
fn enable_privilege(name: &str) -> Result<(), SysError> {
    use windows_sys::Win32::Security::{
        AdjustTokenPrivileges, LookupPrivilegeValueW, LUID_AND_ATTRIBUTES, SE_PRIVILEGE_ENABLED,
        TOKEN_ADJUST_PRIVILEGES, TOKEN_PRIVILEGES, TOKEN_QUERY,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: the process's own pseudo-handle; the token handle is closed by `Handle`.
    if unsafe {
        OpenProcessToken(
            GetCurrentProcess(),
            TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY,
            &mut token,
        )
    } == 0
    {
        return Err(last("OpenProcessToken"));
    }
    let token = Handle(token);
    let mut luid = LUID {
        LowPart: 0,
        HighPart: 0,
    };
    let w = wide(name);
    // SAFETY: a NUL-terminated privilege name and an out LUID.
    if unsafe { LookupPrivilegeValueW(std::ptr::null(), w.as_ptr(), &mut luid) } == 0 {
        return Err(last("LookupPrivilegeValueW"));
    }
    let tp = TOKEN_PRIVILEGES {
        PrivilegeCount: 1,
        Privileges: [LUID_AND_ATTRIBUTES {
            Luid: luid,
            Attributes: SE_PRIVILEGE_ENABLED,
        }],
    };
    // SAFETY: one privilege in a complete structure; the previous state is not wanted.
    let ok = unsafe {
        AdjustTokenPrivileges(
            token.0,
            0,
            &tp,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    // SAFETY: reads the thread's last error, which AdjustTokenPrivileges sets on success too.
    let err = unsafe { GetLastError() };
    if ok == 0 || err == ERROR_NOT_ALL_ASSIGNED {
        return Err(SysError::Win32 {
            call: "AdjustTokenPrivileges",
            code: err,
        });
    }
    Ok(())
}

/// An open registry key, closed on drop.
struct Key(HKEY);
impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the key was opened by this module and is closed once.
        unsafe { RegCloseKey(self.0) };
    }
}

pub struct UserHive {
    root: Option<Key>,
    /// The private name under HKEY_USERS while loaded for this restore.
    private: Option<Vec<u16>>,
}

impl Drop for UserHive {
    fn drop(&mut self) {
        // Every handle into the hive is closed before it can be unloaded.
        self.root = None;
        if let Some(name) = &self.private {
            // SAFETY: the name this module loaded the hive under; unloaded once.
            unsafe {
                windows_sys::Win32::System::Registry::RegUnLoadKeyW(HKEY_USERS, name.as_ptr())
            };
        }
    }
}

fn open_key(parent: HKEY, sub: &[u16]) -> Result<Key, u32> {
    use windows_sys::Win32::System::Registry::{KEY_READ, KEY_WRITE};
    let mut h: HKEY = std::ptr::null_mut();
    // SAFETY: a NUL-terminated subkey name and an out handle owned by `Key`.
    let code = unsafe { RegOpenKeyExW(parent, sub.as_ptr(), 0, KEY_READ | KEY_WRITE, &mut h) };
    if code == 0 {
        Ok(Key(h))
    } else {
        Err(code)
    }
}

pub fn open_user_hive(sid: &str, ntuser: &Path) -> Result<UserHive, SysError> {
    use windows_sys::Win32::System::Registry::RegLoadKeyW;
    if let Ok(k) = open_key(HKEY_USERS, &wide(sid)) {
        return Ok(UserHive {
            root: Some(k),
            private: None,
        });
    }
    enable_privilege("SeBackupPrivilege")?;
    enable_privilege("SeRestorePrivilege")?;
    let name = wide(&format!("Lifeboat-{sid}"));
    let file: Vec<u16> = ntuser.as_os_str().encode_wide().chain([0]).collect();
    // SAFETY: NUL-terminated names; the hive is unloaded by UserHive's drop.
    let code = unsafe { RegLoadKeyW(HKEY_USERS, name.as_ptr(), file.as_ptr()) };
    status("RegLoadKeyW", code)?;
    let mut hive = UserHive {
        root: None,
        private: Some(name.clone()),
    };
    hive.root = Some(open_key(HKEY_USERS, &name).map_err(|code| SysError::Win32 {
        call: "RegOpenKeyExW",
        code,
    })?);
    Ok(hive)
}

impl UserHive {
    pub fn loaded_privately(&self) -> bool {
        self.private.is_some()
    }

    fn root(&self) -> HKEY {
        self.root.as_ref().map_or(std::ptr::null_mut(), |k| k.0)
    }

    pub fn get(&self, key: &str, name: &str) -> Option<(u32, Vec<u8>)> {
        use windows_sys::Win32::System::Registry::{RRF_NOEXPAND, RRF_RT_ANY};
        let (k, n) = (wide(key), wide(name));
        let (mut kind, mut size) = (0u32, 0u32);
        // SAFETY: a size query with a null buffer.
        let code = unsafe {
            RegGetValueW(
                self.root(),
                k.as_ptr(),
                n.as_ptr(),
                RRF_RT_ANY | RRF_NOEXPAND,
                &mut kind,
                std::ptr::null_mut(),
                &mut size,
            )
        };
        if code != 0 {
            return None;
        }
        let mut buf = vec![0u8; size as usize];
        // SAFETY: a buffer of the size just reported.
        let code = unsafe {
            RegGetValueW(
                self.root(),
                k.as_ptr(),
                n.as_ptr(),
                RRF_RT_ANY | RRF_NOEXPAND,
                &mut kind,
                buf.as_mut_ptr().cast(),
                &mut size,
            )
        };
        (code == 0).then(|| {
            buf.truncate(size as usize);
            (kind, buf)
        })
    }

    pub fn set(&self, key: &str, name: &str, kind: u32, data: &[u8]) -> Result<(), SysError> {
        use windows_sys::Win32::System::Registry::{
            RegCreateKeyExW, RegSetValueExW, KEY_WRITE, REG_OPTION_NON_VOLATILE,
        };
        let k = wide(key);
        let mut h: HKEY = std::ptr::null_mut();
        // SAFETY: a NUL-terminated subkey; the new handle is owned by `Key`.
        let code = unsafe {
            RegCreateKeyExW(
                self.root(),
                k.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_WRITE,
                std::ptr::null(),
                &mut h,
                std::ptr::null_mut(),
            )
        };
        status("RegCreateKeyExW", code)?;
        let h = Key(h);
        let n = wide(name);
        // SAFETY: the data slice with its length in bytes.
        let code =
            unsafe { RegSetValueExW(h.0, n.as_ptr(), 0, kind, data.as_ptr(), data.len() as u32) };
        status("RegSetValueExW", code)
    }
}

/// `\\?\` before an absolute path, so security calls reach paths past 260 characters.
fn verbatim(path: &Path) -> Vec<u16> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let s = abs.to_string_lossy();
    let long = if s.starts_with(r"\\?\") {
        s.into_owned()
    } else if let Some(unc) = s.strip_prefix(r"\\") {
        format!(r"\\?\UNC\{unc}")
    } else {
        format!(r"\\?\{s}")
    };
    wide(&long)
}

pub fn adopt_file(path: &Path, owner_sid: &str) -> Result<(), SysError> {
    use windows_sys::Win32::Security::Authorization::{SetNamedSecurityInfoW, SE_FILE_OBJECT};
    use windows_sys::Win32::Security::{
        InitializeAcl, ACL, ACL_REVISION, DACL_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION,
        UNPROTECTED_DACL_SECURITY_INFORMATION,
    };
    // Setting another account as owner needs SeRestorePrivilege.
    let _ = enable_privilege("SeRestorePrivilege");
    let owner = sid_from_string(owner_sid)?;
    // SAFETY: a zeroed ACL header initialised in place as an empty ACL.
    let mut acl: ACL = unsafe { std::mem::zeroed() };
    if unsafe { InitializeAcl(&mut acl, std::mem::size_of::<ACL>() as u32, ACL_REVISION) } == 0 {
        return Err(last("InitializeAcl"));
    }
    let p = verbatim(path);
    // An empty DACL that is not protected: the file keeps only what its folder passes on.
    // SAFETY: a NUL-terminated path, a valid SID and ACL living for the call.
    let code = unsafe {
        SetNamedSecurityInfoW(
            p.as_ptr(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION
                | DACL_SECURITY_INFORMATION
                | UNPROTECTED_DACL_SECURITY_INFORMATION,
            owner.0,
            std::ptr::null_mut(),
            &acl,
            std::ptr::null(),
        )
    };
    status("SetNamedSecurityInfoW", code)
}

pub fn clear_readonly(path: &Path) {
    if let Ok(m) = std::fs::metadata(path) {
        let mut perm = m.permissions();
        if perm.readonly() {
            perm.set_readonly(false);
            let _ = std::fs::set_permissions(path, perm);
        }
    }
}

pub fn is_cross_device(e: &std::io::Error) -> bool {
    // ERROR_NOT_SAME_DEVICE
    e.raw_os_error() == Some(17)
}

pub fn known_folder_paths() -> Vec<(&'static str, Result<String, SysError>)> {
    use windows_sys::Win32::UI::Shell::{
        FOLDERID_Desktop, FOLDERID_Documents, FOLDERID_Downloads, FOLDERID_Music,
        FOLDERID_Pictures, FOLDERID_Profile, FOLDERID_RoamingAppData, FOLDERID_Videos,
        SHGetKnownFolderPath,
    };
    let ids: [(&'static str, &GUID); 8] = [
        ("Profile", &FOLDERID_Profile),
        ("Desktop", &FOLDERID_Desktop),
        ("Documents", &FOLDERID_Documents),
        ("Downloads", &FOLDERID_Downloads),
        ("Music", &FOLDERID_Music),
        ("Pictures", &FOLDERID_Pictures),
        ("Videos", &FOLDERID_Videos),
        ("RoamingAppData", &FOLDERID_RoamingAppData),
    ];
    ids.iter()
        .map(|(name, id)| {
            let mut p: *mut u16 = std::ptr::null_mut();
            // SAFETY: a known-folder id and an out string freed with CoTaskMemFree below.
            let hr = unsafe { SHGetKnownFolderPath(*id, 0, std::ptr::null_mut(), &mut p) };
            let r = if hr == 0 && !p.is_null() {
                // SAFETY: a NUL-terminated string from the shell, read before it is freed.
                let len = (0..).take_while(|&i| unsafe { *p.add(i) } != 0).count();
                Ok(String::from_utf16_lossy(unsafe {
                    std::slice::from_raw_parts(p, len)
                }))
            } else {
                Err(SysError::Win32 {
                    call: "SHGetKnownFolderPath",
                    code: hr as u32,
                })
            };
            // SAFETY: the shell's allocation (or null), freed once.
            unsafe { windows_sys::Win32::System::Com::CoTaskMemFree(p.cast()) };
            (*name, r)
        })
        .collect()
}

/// (volume serial number, file index) of an open file.
fn file_identity(path: &Path) -> Option<(u32, u64)> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION,
    };
    let f = std::fs::File::open(path).ok()?;
    // SAFETY: a plain C struct for which all-zero bytes are valid; the handle is open.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    if unsafe { GetFileInformationByHandle(f.as_raw_handle() as _, &mut info) } == 0 {
        return None;
    }
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Some((info.dwVolumeSerialNumber, index))
}

pub fn same_file(a: &Path, b: &Path) -> bool {
    match (file_identity(a), file_identity(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `X:\` for the volume that holds `path`.
fn volume_root(path: &Path) -> Option<String> {
    use windows_sys::Win32::Storage::FileSystem::GetVolumePathNameW;
    let p = wide(&super::existing_ancestor(path).to_string_lossy());
    let mut buf = [0u16; 1024];
    // SAFETY: NUL-terminated input; the output buffer's length is passed.
    if unsafe { GetVolumePathNameW(p.as_ptr(), buf.as_mut_ptr(), buf.len() as u32) } == 0 {
        return None;
    }
    Some(from_wide(&buf))
}

pub fn lies_on(path: &Path, device: &Path) -> bool {
    let dev = device.to_string_lossy().to_ascii_uppercase();
    let Some(root) = volume_root(path) else {
        return false;
    };
    let root = root.to_ascii_uppercase();
    if let Some(letter) = dev
        .strip_prefix(r"\\.\")
        .filter(|d| d.len() == 2 && d.ends_with(':'))
    {
        return root.starts_with(letter);
    }
    let Some(n) = dev
        .strip_prefix(r"\\.\PHYSICALDRIVE")
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return false;
    };
    let Some(vol) = open_device(&format!(r"\\.\{}", root.trim_end_matches('\\')), 0) else {
        return false;
    };
    let mut ext = [0u64; 64];
    if !ioctl(&vol, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &mut ext) {
        return false;
    }
    // SAFETY: the buffer holds a VOLUME_DISK_EXTENTS the call filled, 8-byte aligned;
    // at most as many extents as fit in it are read.
    let extents = unsafe { &*(ext.as_ptr() as *const VOLUME_DISK_EXTENTS) };
    let fit = (ext.len() * 8 - 8) / std::mem::size_of_val(&extents.Extents[0]);
    let count = (extents.NumberOfDiskExtents as usize).min(fit);
    // SAFETY: `count` extents lie inside the buffer (checked above).
    let all = unsafe { std::slice::from_raw_parts(extents.Extents.as_ptr(), count) };
    all.iter().any(|e| e.DiskNumber == n)
}

pub fn catch_interrupt() -> &'static std::sync::atomic::AtomicBool {
    use std::sync::atomic::{AtomicBool, Ordering};
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
    static RAISED: AtomicBool = AtomicBool::new(false);
    unsafe extern "system" fn on_ctrl(_kind: u32) -> i32 {
        // The first Ctrl-C is taken (TRUE); a second one ends the program (FALSE).
        i32::from(!RAISED.swap(true, Ordering::SeqCst))
    }
    // SAFETY: registers a handler that only touches an atomic.
    unsafe { SetConsoleCtrlHandler(Some(on_ctrl), 1) };
    &RAISED
}
