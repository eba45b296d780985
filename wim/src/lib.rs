//! The one small safe layer over wimlib-sys, shared by the agent (capture, verify,
//! extract) and the media builder (editing boot.wim). Every handle is freed on drop,
//! every error names the WIM file, and wimlib's text type is hidden in [`tchar`].
//! [`writer`] is Lifeboat's own one-pass WIM writer, which uses only wimlib's compressors.

mod progress;
mod read;
mod tchar;
mod update;
mod verify;
mod write;
pub mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Once;

use wimlib_sys as w;

pub use progress::{Keep, OnProgress, Phase, Progress};
pub use read::{Entry, Totals, WimInfo};
pub use update::UpdateCommand;
pub use write::WriteOptions;

/// The compression names the agent, the media builder and a store's manifest share.
pub use lifeboat_common::compression::Compression;

fn raw_compression(c: Compression) -> w::wimlib_compression_type {
    match c {
        Compression::None => w::wimlib_compression_type_WIMLIB_COMPRESSION_TYPE_NONE,
        Compression::Xpress => w::wimlib_compression_type_WIMLIB_COMPRESSION_TYPE_XPRESS,
        Compression::Lzx => w::wimlib_compression_type_WIMLIB_COMPRESSION_TYPE_LZX,
        Compression::Lzms => w::wimlib_compression_type_WIMLIB_COMPRESSION_TYPE_LZMS,
    }
}

fn compression_from_raw(v: i32) -> Option<Compression> {
    [
        Compression::None,
        Compression::Xpress,
        Compression::Lzx,
        Compression::Lzms,
    ]
    .into_iter()
    .find(|&c| raw_compression(c) as i32 == v)
}

#[derive(Debug, Clone)]
pub struct WimError {
    pub path: Option<PathBuf>,
    pub code: i32,
    pub message: String,
    /// The system's error number when wimlib failed in a system call (reading, writing,
    /// making a file or folder), taken as wimlib returned.
    pub os_code: Option<i32>,
}

/// wimlib's codes for a failure to make or write something on the file system it writes
/// to (an extraction's target, a WIM being written).
const WRITE_FAILURES: [i32; 9] = [
    w::wimlib_error_code_WIMLIB_ERR_WRITE as i32,
    w::wimlib_error_code_WIMLIB_ERR_OPEN as i32,
    w::wimlib_error_code_WIMLIB_ERR_MKDIR as i32,
    w::wimlib_error_code_WIMLIB_ERR_LINK as i32,
    w::wimlib_error_code_WIMLIB_ERR_MKNOD as i32,
    w::wimlib_error_code_WIMLIB_ERR_RENAME as i32,
    w::wimlib_error_code_WIMLIB_ERR_SET_ATTRIBUTES as i32,
    w::wimlib_error_code_WIMLIB_ERR_SET_TIMESTAMPS as i32,
    w::wimlib_error_code_WIMLIB_ERR_SET_SECURITY as i32,
];

/// Codes that come from a failed system call, whose error number is kept.
const SYSTEM_CALL_FAILURES: [i32; 3] = [
    w::wimlib_error_code_WIMLIB_ERR_READ as i32,
    w::wimlib_error_code_WIMLIB_ERR_STAT as i32,
    w::wimlib_error_code_WIMLIB_ERR_OPENDIR as i32,
];

impl WimError {
    /// wimlib could not make or write a file or folder where it writes (not a fault of the
    /// WIM it reads).
    pub fn is_write_failure(&self) -> bool {
        WRITE_FAILURES.contains(&self.code)
    }

    /// The system's error behind it, when there is one.
    pub fn os_error(&self) -> Option<std::io::Error> {
        self.os_code.map(std::io::Error::from_raw_os_error)
    }

    /// The destination had no room left (ENOSPC, ERROR_DISK_FULL), or a quota was reached.
    pub fn out_of_space(&self) -> bool {
        self.os_error().is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        })
    }
}

impl fmt::Display for WimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.out_of_space() {
            " (the destination is full)"
        } else {
            ""
        };
        match &self.path {
            Some(p) => write!(f, "{}: {}{what}", p.display(), self.message),
            None => write!(f, "{}{what}", self.message),
        }
    }
}

impl std::error::Error for WimError {}

pub type Result<T> = std::result::Result<T, WimError>;

fn init() {
    static INIT: Once = Once::new();
    // SAFETY: called once before any other wimlib call.
    INIT.call_once(|| unsafe {
        w::wimlib_global_init(0);
    });
}

fn check(code: i32, path: Option<&Path>, doing: &str) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    // Taken first, before any other call can change it (wimlib leaves errno as the failed
    // call set it on Unix; its Windows side does not set it, and then none is kept).
    let os_code = (WRITE_FAILURES.contains(&code) || SYSTEM_CALL_FAILURES.contains(&code))
        .then(|| std::io::Error::last_os_error().raw_os_error())
        .flatten()
        .filter(|&n| n != 0);
    // SAFETY: wimlib returns a static string for any code.
    let text = unsafe { tchar::from_t(w::wimlib_get_error_string(code as w::wimlib_error_code)) };
    Err(WimError {
        path: path.map(Path::to_path_buf),
        code,
        message: format!("{doing}: {text}"),
        os_code,
    })
}

/// An open or new WIM.
pub struct Wim {
    raw: *mut w::WIMStruct,
    path: Option<PathBuf>,
}

// SAFETY: a WIMStruct may move between threads; it is never shared (no Sync).
unsafe impl Send for Wim {}

impl Drop for Wim {
    fn drop(&mut self) {
        // SAFETY: raw came from wimlib and is freed once.
        unsafe { w::wimlib_free(self.raw) };
    }
}

impl Wim {
    pub fn create_new(compression: Compression) -> Result<Wim> {
        init();
        let mut raw = std::ptr::null_mut();
        // SAFETY: out-pointer for the new WIMStruct.
        check(
            unsafe { w::wimlib_create_new_wim(raw_compression(compression), &mut raw) },
            None,
            "creating a WIM",
        )?;
        Ok(Wim { raw, path: None })
    }

    /// Opens a WIM; `check_integrity` verifies it against its integrity table, if it has one.
    pub fn open(path: &Path, check_integrity: bool) -> Result<Wim> {
        init();
        let mut raw = std::ptr::null_mut();
        let flags = if check_integrity {
            w::WIMLIB_OPEN_FLAG_CHECK_INTEGRITY as i32
        } else {
            0
        };
        let p = tchar::tpath(path);
        // SAFETY: a NUL-terminated path and an out-pointer.
        check(
            unsafe { w::wimlib_open_wim(p.as_ptr(), flags, &mut raw) },
            Some(path),
            "opening the WIM",
        )?;
        Ok(Wim {
            raw,
            path: Some(path.to_path_buf()),
        })
    }

    /// Opens the first part of a split WIM (`files.swm`) and joins the others
    /// (`files2.swm`, …) found beside it.
    pub fn open_split(first: &Path, check_integrity: bool) -> Result<Wim> {
        let wim = Wim::open(first, check_integrity)?;
        let stem = first
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let glob = first.with_file_name(format!("{stem}*.swm"));
        let g = tchar::tpath(&glob);
        let globs = [g.as_ptr()];
        let flags = w::WIMLIB_REF_FLAG_GLOB_ENABLE as i32;
        let open = if check_integrity {
            w::WIMLIB_OPEN_FLAG_CHECK_INTEGRITY as i32
        } else {
            0
        };
        // SAFETY: one NUL-terminated glob.
        check(
            unsafe { w::wimlib_reference_resource_files(wim.raw, globs.as_ptr(), 1, flags, open) },
            Some(first),
            "joining the split WIM's parts",
        )?;
        Ok(wim)
    }

    fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}
