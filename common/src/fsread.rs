//! The one way the agent and the media builder open a file they did not write: it must be a
//! regular file (a FIFO, a device or a socket where a hive, a log or a kernel should be would
//! block or never end), and it is read only up to a budget the caller gives (from the
//! agent's `limits` or [`crate::limits`]). The check is made on the opened handle, so a file
//! swapped between a check and the open is still caught.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", crate::shown::ShownPath(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a regular file ({what}); it is not read", crate::shown::ShownPath(.path))]
    NotRegular { path: PathBuf, what: &'static str },
    #[error(
        "{}: {size} bytes, more than the {limit} bytes such a file may have; it is not read",
        crate::shown::ShownPath(.path)
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
}

impl ReadError {
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. } => path,
        }
    }
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a folder"
    } else if ft.is_symlink() {
        "a link"
    } else {
        "not a file"
    }
}

/// Opens `path` for reading if it is a regular file; returns it with its size.
pub fn open_regular(path: &Path) -> Result<(File, u64), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Refuse what is visibly not a file before opening it: opening a FIFO blocks.
    let pre = std::fs::symlink_metadata(path).map_err(io)?;
    if !pre.file_type().is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            what: kind_of(&pre.file_type()),
        });
    }
    let file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            what: kind_of(&meta.file_type()),
        });
    }
    Ok((file, meta.len()))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: if the file was replaced by a FIFO after the check, the open returns at
    // once and the handle check above refuses it.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(path)?;
    if size > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let mut data = Vec::with_capacity(size as usize);
    // take(): a file that grows while it is read still stops at the budget.
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if data.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: data.len() as u64,
            limit,
        });
    }
    Ok(data)
}

/// Reads at most the first `limit` bytes of a regular file of any size (a PE image's
/// headers).
pub fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(path)?;
    let mut data = Vec::with_capacity(size.min(limit) as usize);
    file.take(limit)
        .read_to_end(&mut data)
        .map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(data)
}

/// [`read_bounded`] for text (UTF-8, a BOM allowed).
pub fn read_text_bounded(path: &Path, limit: u64) -> Result<String, ReadError> {
    let data = read_bounded(path, limit)?;
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
    String::from_utf8(data.to_vec()).map_err(|_| ReadError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_only_and_within_budget() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_bounded(&f, 5).unwrap(), b"12345");
        assert!(matches!(
            read_bounded(&f, 4),
            Err(ReadError::TooLarge { size: 5, .. })
        ));
        assert!(matches!(
            read_bounded(dir.path(), 4),
            Err(ReadError::NotRegular { .. })
        ));
        assert_eq!(read_head(&f, 3).unwrap(), b"123");
        assert_eq!(read_head(&f, 9).unwrap(), b"12345");
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system node.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            let e = read_bounded(&fifo, 4).unwrap_err();
            assert!(matches!(
                e,
                ReadError::NotRegular {
                    what: "a named pipe",
                    ..
                }
            ));
            assert_eq!(e.path(), fifo);
            assert!(matches!(
                read_head(&fifo, 4),
                Err(ReadError::NotRegular { .. })
            ));
            std::os::unix::fs::symlink(&f, dir.path().join("link")).unwrap();
            assert!(matches!(
                read_bounded(&dir.path().join("link"), 9),
                Err(ReadError::NotRegular { what: "a link", .. })
            ));
        }
    }
}
