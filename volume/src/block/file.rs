//! An image file or a device, opened for reading only. On Linux a block device (`/dev/sdb`,
//! `/dev/sdb3`, `/dev/loop0`) or a regular file; on Windows a file, `\\.\PhysicalDriveN`,
//! `\\.\HarddiskVolumeN` or `\\.\C:`, opened shared so that Windows may keep it mounted. A
//! pipe, socket or character device is refused at once: opening or reading one blocks or
//! never ends.
//!
//! A device may be read directly ([`FileSource::open_direct`]): around the operating
//! system's cache (`O_DIRECT` on Linux, `FILE_FLAG_NO_BUFFERING` on Windows), in whole
//! sectors through a buffer aligned in memory. The rescue layer reads a failing disk so:
//! through the cache, the kernel reads ahead of each read (into sectors nobody asked for,
//! which may be bad and cost minutes of retries) and, when a read fails, reads the failed
//! pages again one by one. An image file is always read through the cache.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{check_range, BlockError, BlockSource};

/// Why an image or device could not be opened as a block source.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {what}, not a disk, partition or image file")]
    NotBlock { path: PathBuf, what: &'static str },
}

/// A read-only image file or device.
#[derive(Debug)]
pub struct FileSource {
    file: File,
    name: String,
    size: u64,
    sector: u32,
    /// Reads must be whole sectors, at sector offsets, into memory aligned to
    /// [`ALIGN`]: a Windows device, or a device read directly.
    aligned: bool,
    direct: bool,
}

/// Memory alignment of a direct read's buffer: Linux asks for the logical block size,
/// Windows for the device's alignment; a page satisfies both.
const ALIGN: usize = 4096;

impl FileSource {
    /// Opens `path` for reading only. Refuses what is not a regular file or a block device.
    pub fn open(path: &Path) -> Result<FileSource, OpenError> {
        FileSource::open_with(path, false)
    }

    /// As [`open`](Self::open), and a device is read directly, around the system's cache
    /// (see the module documentation). Where the system refuses that for a device, it is
    /// read through the cache: [`direct`](Self::direct) says which.
    pub fn open_direct(path: &Path) -> Result<FileSource, OpenError> {
        FileSource::open_with(path, true)
    }

    /// Whether reads go around the system's cache.
    pub fn direct(&self) -> bool {
        self.direct
    }

    fn open_with(path: &Path, direct: bool) -> Result<FileSource, OpenError> {
        let io = |source| OpenError::Io {
            path: path.to_path_buf(),
            source,
        };
        let opened = imp::open(path, direct).map_err(io)?;
        let (file, kind, direct) = match opened {
            Ok(x) => x,
            Err(what) => {
                return Err(OpenError::NotBlock {
                    path: path.to_path_buf(),
                    what,
                })
            }
        };
        let (size, sector) = imp::geometry(&file, kind).map_err(io)?;
        Ok(FileSource {
            file,
            name: path.display().to_string(),
            size,
            sector,
            aligned: direct || kind == Kind::Device && cfg!(windows),
            direct,
        })
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            match imp::read_at(&self.file, &mut buf[done..], offset + done as u64) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A device read through a bounce buffer of whole sectors around the wanted bytes,
    /// aligned in memory.
    fn read_aligned(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let s = u64::from(self.sector);
        let start = offset / s * s;
        let end = (offset + buf.len() as u64).div_ceil(s) * s;
        let len = (end - start) as usize;
        let mut mem = vec![0u8; len + ALIGN];
        let skew = mem.as_ptr().align_offset(ALIGN).min(ALIGN);
        let bounce = &mut mem[skew..skew + len];
        self.read_exact_at(start, bounce)?;
        let at = (offset - start) as usize;
        buf.copy_from_slice(&bounce[at..at + buf.len()]);
        Ok(())
    }
}

impl BlockSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn sector_size(&self) -> u32 {
        self.sector
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(&self.name, self.size, offset, buf.len())?;
        let s = u64::from(self.sector);
        let unaligned =
            offset % s != 0 || buf.len() as u64 % s != 0 || buf.as_ptr().align_offset(ALIGN) != 0;
        let r = if self.aligned && unaligned {
            self.read_aligned(offset, buf)
        } else {
            self.read_exact_at(offset, buf)
        };
        r.map_err(|source| BlockError::Io {
            name: self.name.clone(),
            offset,
            len: buf.len(),
            source,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Device,
}

/// What an opened file is: a usable kind and whether it is read directly, or why it is
/// refused.
type Opened = Result<(File, Kind, bool), &'static str>;

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
    use std::path::Path;

    use super::{Kind, Opened};

    fn open_flags(path: &Path, flags: libc::c_int) -> std::io::Result<File> {
        // Read-only: the evidence is never opened for writing.
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
    }

    pub fn open(path: &Path, direct: bool) -> std::io::Result<Opened> {
        // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer, and is refused
        // below.
        let file = open_flags(path, libc::O_NONBLOCK)?;
        let ft = file.metadata()?.file_type();
        Ok(if ft.is_file() {
            Ok((file, Kind::File, false))
        } else if ft.is_block_device() {
            Ok(with_direct(path, file, direct))
        } else if ft.is_dir() {
            Err("a folder")
        } else if ft.is_fifo() {
            Err("a named pipe")
        } else if ft.is_socket() {
            Err("a socket")
        } else if ft.is_char_device() {
            Err("a character device")
        } else {
            Err("not a file")
        })
    }

    /// The device opened again with `O_DIRECT` when asked and the system allows it (the
    /// same device: the new handle's device number is checked against the first's).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn with_direct(path: &Path, file: File, direct: bool) -> (File, Kind, bool) {
        use std::os::unix::fs::MetadataExt;
        if direct {
            if let Ok(d) = open_flags(path, libc::O_NONBLOCK | libc::O_DIRECT) {
                let same = match (d.metadata(), file.metadata()) {
                    (Ok(a), Ok(b)) => a.rdev() == b.rdev(),
                    _ => false,
                };
                if same {
                    return (d, Kind::Device, true);
                }
            }
        }
        (file, Kind::Device, false)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn with_direct(_: &Path, file: File, _: bool) -> (File, Kind, bool) {
        (file, Kind::Device, false)
    }

    pub fn geometry(file: &File, kind: Kind) -> std::io::Result<(u64, u32)> {
        if kind == Kind::File {
            return Ok((file.metadata()?.len(), 512));
        }
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        let mut size: u64 = 0;
        // SAFETY: BLKGETSIZE64 writes one u64 through the pointer, which is valid for it.
        if unsafe { libc::ioctl(fd, BLKGETSIZE64, &mut size as *mut u64) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut sector: libc::c_int = 0;
        // SAFETY: BLKSSZGET writes one int through the pointer, which is valid for it.
        if unsafe { libc::ioctl(fd, BLKSSZGET, &mut sector as *mut libc::c_int) } != 0 {
            sector = 512;
        }
        let sector = u32::try_from(sector)
            .ok()
            .filter(|s| s.is_power_of_two() && *s >= 512);
        Ok((size, sector.unwrap_or(512)))
    }

    // linux/fs.h: _IOR(0x12, 114, size_t) and _IO(0x12, 104).
    const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;
    const BLKSSZGET: libc::c_ulong = 0x1268;

    pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        file.read_at(buf, offset)
    }
}

#[cfg(windows)]
mod imp {
    use std::fs::File;
    use std::os::windows::fs::{FileExt, OpenOptionsExt};
    use std::os::windows::io::AsRawHandle;
    use std::path::Path;

    use windows_sys::Win32::Storage::FileSystem::{
        FILE_FLAG_NO_BUFFERING, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    };
    use windows_sys::Win32::System::Ioctl::{
        DISK_GEOMETRY_EX, GET_LENGTH_INFORMATION, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX,
        IOCTL_DISK_GET_LENGTH_INFO,
    };
    use windows_sys::Win32::System::IO::DeviceIoControl;

    use super::{Kind, Opened};

    /// `\\.\…` names a device: a disk, a volume or a drive letter's volume.
    fn is_device_path(path: &Path) -> bool {
        let s = path.as_os_str().to_string_lossy();
        s.starts_with(r"\\.\") || s.to_ascii_uppercase().starts_with(r"\\?\GLOBALROOT\")
    }

    pub fn open(path: &Path, direct: bool) -> std::io::Result<Opened> {
        // Read-only, and shared: Windows (or another tool) may keep the volume mounted.
        let device = is_device_path(path);
        let direct = direct && device;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
            .custom_flags(if direct { FILE_FLAG_NO_BUFFERING } else { 0 })
            .open(path)?;
        if device {
            return Ok(Ok((file, Kind::Device, direct)));
        }
        let ft = file.metadata()?.file_type();
        Ok(if ft.is_file() {
            Ok((file, Kind::File, false))
        } else if ft.is_dir() {
            Err("a folder")
        } else {
            Err("not a file")
        })
    }

    fn ioctl<T>(file: &File, code: u32, out: &mut T) -> std::io::Result<()> {
        let mut got = 0u32;
        // SAFETY: the handle is open; `out` is valid for writes of size_of::<T>() bytes,
        // which is the size passed; no input buffer.
        let ok = unsafe {
            DeviceIoControl(
                file.as_raw_handle() as _,
                code,
                std::ptr::null(),
                0,
                out as *mut T as *mut _,
                std::mem::size_of::<T>() as u32,
                &mut got,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn geometry(file: &File, kind: Kind) -> std::io::Result<(u64, u32)> {
        if kind == Kind::File {
            return Ok((file.metadata()?.len(), 512));
        }
        // SAFETY: both are plain C structs for which all-zero bytes are valid.
        let mut len: GET_LENGTH_INFORMATION = unsafe { std::mem::zeroed() };
        ioctl(file, IOCTL_DISK_GET_LENGTH_INFO, &mut len)?;
        let mut geo: DISK_GEOMETRY_EX = unsafe { std::mem::zeroed() };
        let sector = match ioctl(file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &mut geo) {
            Ok(()) => geo.Geometry.BytesPerSector,
            Err(_) => 512,
        };
        let sector = if sector.is_power_of_two() && sector >= 512 {
            sector
        } else {
            512
        };
        Ok((len.Length as u64, sector))
    }

    pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        file.seek_read(buf, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_file_reads_and_a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("disk.img");
        std::fs::write(&img, (0..4096u32).map(|i| i as u8).collect::<Vec<_>>()).unwrap();
        let src = FileSource::open(&img).unwrap();
        assert_eq!(src.size(), 4096);
        let mut b = [0u8; 3];
        src.read_at(4093, &mut b).unwrap();
        assert_eq!(b, [253, 254, 255]);
        assert!(matches!(
            src.read_at(4094, &mut b),
            Err(BlockError::OutOfRange { .. })
        ));
        let e = FileSource::open(dir.path()).unwrap_err();
        assert!(matches!(
            e,
            OpenError::NotBlock {
                what: "a folder",
                ..
            }
        ));
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            let e = FileSource::open(&fifo).unwrap_err();
            assert!(matches!(
                e,
                OpenError::NotBlock {
                    what: "a named pipe",
                    ..
                }
            ));
            let e = FileSource::open(Path::new("/dev/null")).unwrap_err();
            assert!(matches!(
                e,
                OpenError::NotBlock {
                    what: "a character device",
                    ..
                }
            ));
        }
    }
}
