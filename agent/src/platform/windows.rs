//! Windows (and WinPE) side: drive letters, volume labels and file systems, partition
//! positions through disk IOCTLs, the MiniNT key that marks WinPE.

use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::MetadataExt;
use std::path::{Path, PathBuf};

use windows_sys::core::GUID;
use windows_sys::Win32::Foundation::{CloseHandle, GENERIC_READ, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, GetDiskFreeSpaceExW, GetDriveTypeW, GetLogicalDrives, GetVolumeInformationW,
    ReadFile, FILE_SHARE_READ, FILE_SHARE_WRITE, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS,
    OPEN_EXISTING,
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

pub fn file_attributes(_path: &Path, meta: &std::fs::Metadata) -> u32 {
    meta.file_attributes()
}

pub fn raw_boot_sector(root: &Path) -> std::io::Result<Vec<u8>> {
    let device = match letter_of(root) {
        Some(l) if root.to_string_lossy().trim_end_matches(['\\', '/']).len() <= 2 => {
            format!(r"\\.\{l}:")
        }
        _ => root.to_string_lossy().into_owned(),
    };
    let h = open_device(&device, GENERIC_READ).ok_or_else(std::io::Error::last_os_error)?;
    let mut buf = vec![0u8; 512];
    let mut read = 0u32;
    // SAFETY: a 512-byte buffer; sector-sized reads are what raw volumes need.
    let ok = unsafe { ReadFile(h.0, buf.as_mut_ptr(), 512, &mut read, std::ptr::null_mut()) };
    if ok == 0 || read != 512 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(buf)
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
        eprintln!();
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
