//! wimlib's text type: `wchar_t` (UTF-16) on Windows, `char` (UTF-8) elsewhere. The only
//! `cfg` in the WIM layer lives here.

use std::path::{Path, PathBuf};

use wimlib_sys::wimlib_tchar;

/// A NUL-terminated wimlib string.
pub fn tstr(s: &str) -> Vec<wimlib_tchar> {
    #[cfg(windows)]
    {
        s.encode_utf16().chain([0]).collect()
    }
    #[cfg(not(windows))]
    {
        s.bytes().chain([0]).map(|b| b as wimlib_tchar).collect()
    }
}

pub fn tpath(p: &Path) -> Vec<wimlib_tchar> {
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        p.as_os_str().encode_wide().chain([0]).collect()
    }
    #[cfg(not(windows))]
    {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str()
            .as_bytes()
            .iter()
            .copied()
            .chain([0])
            .map(|b| b as wimlib_tchar)
            .collect()
    }
}

/// Reads a string wimlib returned (NULL → empty).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated wimlib string.
pub unsafe fn from_t(p: *const wimlib_tchar) -> String {
    if p.is_null() {
        return String::new();
    }
    let mut len = 0;
    while *p.add(len) != 0 {
        len += 1;
    }
    let s = std::slice::from_raw_parts(p, len);
    #[cfg(windows)]
    {
        String::from_utf16_lossy(s)
    }
    #[cfg(not(windows))]
    {
        let bytes: Vec<u8> = s.iter().map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A host path wimlib hands over during a scan, byte for byte (names that are not valid
/// Unicode stay as they are). On Windows wimlib adds the `\\?\` prefix; it is removed.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated wimlib string.
pub unsafe fn host_path(p: *const wimlib_tchar) -> PathBuf {
    if p.is_null() {
        return PathBuf::new();
    }
    let mut len = 0;
    while *p.add(len) != 0 {
        len += 1;
    }
    let s = std::slice::from_raw_parts(p, len);
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStringExt;
        let prefix: Vec<u16> = r"\\?\".encode_utf16().collect();
        let s = s.strip_prefix(prefix.as_slice()).unwrap_or(s);
        PathBuf::from(std::ffi::OsString::from_wide(s))
    }
    #[cfg(not(windows))]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes: Vec<u8> = s.iter().map(|&c| c as u8).collect();
        PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
    }
}

/// wimlib's own separator inside an image: `\` on Windows, `/` elsewhere. Callers use
/// backslashes; this converts.
pub fn image_path(p: &str) -> String {
    if cfg!(windows) {
        p.replace('/', "\\")
    } else {
        p.replace('\\', "/")
    }
}
