//! Where rescued bytes are kept, at the source's own offsets: the image `lifeboat image`
//! writes, or a cache file under a capture. What is kept is never read from the source
//! again, so a read of a finished area is answered from here.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Rescued bytes, kept at the offsets they were read from.
pub trait Store: Send + Sync {
    /// Keeps `data`, read from the source at `offset`.
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Gives back bytes kept earlier.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Makes every write so far durable. Called before a map that counts them as rescued
    /// is saved, so a crash can lose work but never leave a map that claims lost bytes.
    fn sync(&self) -> io::Result<()>;
}

/// Blocks of the image checked for zeros: a file system's block, so that a block of zeros
/// is left a hole.
const HOLE_BLOCK: u64 = 4096;
/// Bytes written between two starts of the system's write-back (Linux): the image goes to
/// its disk while the source is read, rather than all at once when the map is saved.
const WRITEBACK_EVERY: u64 = 32 << 20;

/// An image file being built: a regular file as long as the source, sparse where the
/// source reads as zeros. A block of zeros is not written where the file holds no data
/// (a hole reads as zeros already); where a previous run or tool left data, it is written,
/// so the image always equals what was read.
#[derive(Debug)]
pub struct ImageFile {
    file: File,
    path: PathBuf,
    /// Parts of the file that held data when it was opened, sorted.
    held: Vec<Range<u64>>,
    /// Bytes written since the write-back was last started.
    unflushed: AtomicU64,
}

impl ImageFile {
    /// A new image of a source of `size` bytes at `path`, which must not exist or be empty.
    pub fn create(path: &Path, size: u64) -> io::Result<ImageFile> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if meta.len() != 0 {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the file exists and is not empty",
            ));
        }
        imp::make_sparse(&file);
        file.set_len(size)?;
        Ok(ImageFile {
            file,
            path: path.to_path_buf(),
            held: Vec::new(),
            unflushed: AtomicU64::new(0),
        })
    }

    /// An image a previous run (Lifeboat's or GNU ddrescue's) began, for a source of
    /// `size` bytes. A shorter file is extended with a hole; a longer one is refused (it
    /// is the image of something else).
    pub fn resume(path: &Path, size: u64) -> io::Result<ImageFile> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if meta.len() > size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the image is larger ({} bytes) than the source ({size} bytes)",
                    meta.len()
                ),
            ));
        }
        let held = imp::data_extents(&file, meta.len());
        if meta.len() < size {
            file.set_len(size)?;
        }
        Ok(ImageFile {
            file,
            path: path.to_path_buf(),
            held,
            unflushed: AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file held data in `r` when it was opened.
    fn held_data(&self, r: Range<u64>) -> bool {
        let i = self.held.partition_point(|h| h.end <= r.start);
        self.held.get(i).is_some_and(|h| h.start < r.end)
    }
}

impl Store for ImageFile {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        // Runs of blocks to write, between blocks of zeros over holes that are skipped.
        let mut run: Option<usize> = None;
        let mut i = 0;
        while i < data.len() {
            let at = offset + i as u64;
            let next = ((at / HOLE_BLOCK + 1) * HOLE_BLOCK - offset).min(data.len() as u64);
            let next = next as usize;
            let skip = is_zero(&data[i..next]) && !self.held_data(at..offset + next as u64);
            match (skip, run) {
                (true, Some(s)) => {
                    imp::write_all_at(&self.file, &data[s..i], offset + s as u64)?;
                    run = None;
                }
                (false, None) => run = Some(i),
                _ => {}
            }
            i = next;
        }
        if let Some(s) = run {
            imp::write_all_at(&self.file, &data[s..], offset + s as u64)?;
        }
        let written = self
            .unflushed
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        if written + data.len() as u64 >= WRITEBACK_EVERY {
            self.unflushed.store(0, Ordering::Relaxed);
            imp::start_writeback(&self.file);
        }
        Ok(())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        imp::read_exact_at(&self.file, buf, offset)
    }

    fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Whether `b` is all zeros: OR-ed 64 bytes at a time (which the compiler turns into
/// vector instructions), stopping at the first chunk that is not.
fn is_zero(b: &[u8]) -> bool {
    b.chunks(64).all(|c| c.iter().fold(0u8, |a, &x| a | x) == 0)
}

/// Rescued bytes in memory: tests, and small sources.
#[derive(Debug, Default)]
pub struct MemStore {
    data: Mutex<Vec<u8>>,
}

impl MemStore {
    pub fn new(size: usize) -> MemStore {
        MemStore {
            data: Mutex::new(vec![0; size]),
        }
    }

    /// A copy of everything kept.
    pub fn contents(&self) -> Vec<u8> {
        self.data.lock().map(|d| d.clone()).unwrap_or_default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<u8>) -> Option<T>) -> io::Result<T> {
        let mut d = self
            .data
            .lock()
            .map_err(|_| io::Error::other("the store's lock is poisoned"))?;
        f(&mut d)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "past the store's end"))
    }
}

impl Store for MemStore {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.with(|d| {
            let at = usize::try_from(offset).ok()?;
            d.get_mut(at..at.checked_add(data.len())?)?
                .copy_from_slice(data);
            Some(())
        })
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.with(|d| {
            let at = usize::try_from(offset).ok()?;
            buf.copy_from_slice(d.get(at..at.checked_add(buf.len())?)?);
            Some(())
        })
    }
    fn sync(&self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::ops::Range;
    use std::os::unix::fs::FileExt;

    pub fn make_sparse(_: &File) {}

    /// Starts the write-back of the file's dirty pages without waiting for it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn start_writeback(f: &File) {
        use std::os::fd::AsRawFd;
        // SAFETY: a system call on an open descriptor; no memory is passed. A failure only
        // leaves the write-back to the system, so it is not reported.
        unsafe {
            libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn start_writeback(_: &File) {}

    pub fn write_all_at(f: &File, data: &[u8], offset: u64) -> io::Result<()> {
        f.write_all_at(data, offset)
    }

    pub fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
        f.read_exact_at(buf, offset)
    }

    /// Data extents of a file opened for resuming that are tracked one by one; past this
    /// the whole file is treated as holding data (zeros are then written, never skipped).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const MAX_EXTENTS: usize = 1 << 20;

    /// The parts of the first `len` bytes that hold data (`SEEK_DATA`/`SEEK_HOLE`). Where
    /// the file system cannot say, or there are too many parts, all of it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn data_extents(f: &File, len: u64) -> Vec<Range<u64>> {
        use std::os::fd::AsRawFd;
        let whole: Vec<Range<u64>> = std::iter::once(0..len).collect();
        let fd = f.as_raw_fd();
        let mut out = Vec::new();
        let mut pos: u64 = 0;
        while pos < len {
            let Ok(at) = libc::off_t::try_from(pos) else {
                return whole;
            };
            // SAFETY: lseek on an open descriptor; no memory is passed.
            let start = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
            if start < 0 {
                let e = io::Error::last_os_error();
                // ENXIO: no data after `pos`.
                return if e.raw_os_error() == Some(libc::ENXIO) {
                    out
                } else {
                    whole
                };
            }
            // SAFETY: as above.
            let end = unsafe { libc::lseek(fd, start, libc::SEEK_HOLE) };
            if end < start || out.len() >= MAX_EXTENTS {
                return whole;
            }
            out.push(start as u64..(end as u64).min(len));
            pos = end as u64;
        }
        out
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn data_extents(_: &File, len: u64) -> Vec<Range<u64>> {
        std::iter::once(0..len).collect()
    }
}

#[cfg(windows)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::ops::Range;
    use std::os::windows::fs::FileExt;
    use std::os::windows::io::AsRawHandle;

    use windows_sys::Win32::System::Ioctl::FSCTL_SET_SPARSE;
    use windows_sys::Win32::System::IO::DeviceIoControl;

    /// Marks a new image sparse, so that NTFS leaves holes where nothing is written. A file
    /// system without sparse files (FAT32, exFAT) refuses; the image is then written whole.
    pub fn make_sparse(f: &File) {
        let mut got = 0u32;
        // SAFETY: the handle is open; FSCTL_SET_SPARSE without a buffer sets the flag.
        unsafe {
            DeviceIoControl(
                f.as_raw_handle() as _,
                FSCTL_SET_SPARSE,
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
                0,
                &mut got,
                std::ptr::null_mut(),
            )
        };
    }

    /// Windows writes back on its own schedule; the map's save flushes the image.
    pub fn start_writeback(_: &File) {}

    pub fn write_all_at(f: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
        while !data.is_empty() {
            match f.seek_write(data, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    data = &data[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match f.seek_read(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Windows: an image being resumed is treated as holding data everywhere.
    pub fn data_extents(_: &File, len: u64) -> Vec<Range<u64>> {
        std::iter::once(0..len).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_over_holes_are_not_written_but_zeros_over_old_data_are() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.img");
        let size = 64 * 1024;
        let img = ImageFile::create(&path, size).unwrap();
        let mut data = vec![0u8; 32 * 1024];
        data[5000] = 7; // the second 4 KiB block
        img.write_at(0, &data).unwrap();
        img.sync().unwrap();
        drop(img);
        let back = std::fs::read(&path).unwrap();
        assert_eq!(back.len() as u64, size);
        assert_eq!(&back[..32 * 1024], &data[..]);
        #[cfg(target_os = "linux")]
        {
            let f = File::open(&path).unwrap();
            let held = imp::data_extents(&f, size);
            // Only the block holding the 7 was written.
            assert_eq!(held, vec![4096..8192]);
        }
        // Resumed: the old data at 4096..8192 is overwritten with zeros when zeros are read.
        let img = ImageFile::resume(&path, size).unwrap();
        img.write_at(4096, &[0u8; 4096]).unwrap();
        let mut b = [1u8; 4096];
        img.read_at(4096, &mut b).unwrap();
        assert!(b.iter().all(|&x| x == 0));
        assert!(
            ImageFile::create(&path, size).is_err(),
            "an image with data is not made anew"
        );
        assert!(
            ImageFile::resume(&path, size - 1).is_err(),
            "nor resumed for a smaller source"
        );
    }

    #[test]
    fn mem_store_refuses_past_its_end() {
        let m = MemStore::new(10);
        m.write_at(8, &[1, 2]).unwrap();
        assert!(m.write_at(9, &[1, 2]).is_err());
        assert!(m.write_at(u64::MAX, &[1]).is_err());
        assert_eq!(m.contents()[8..], [1, 2]);
    }
}
