//! Adding images and writing WIMs (whole or split).

use std::path::{Path, PathBuf};

use wimlib_sys as w;

use super::progress::{with_progress, Ctx, Keep, OnProgress};
use super::tchar::{image_path, tpath, tstr};
use super::{check, Result, Wim};

#[derive(Default)]
pub struct WriteOptions<'a> {
    /// Append an integrity table (SHA-1 per 10 MiB chunk) that `open(…, true)` checks.
    pub integrity: bool,
    /// Compressor threads; 0 lets wimlib use every core.
    pub threads: u32,
    pub progress: Option<OnProgress<'a>>,
}

impl WriteOptions<'_> {
    fn flags(&self) -> i32 {
        if self.integrity {
            w::WIMLIB_WRITE_FLAG_CHECK_INTEGRITY as i32
        } else {
            0
        }
    }
}

impl Wim {
    /// Captures a folder as a new image. Links and junctions are stored as what they are,
    /// never followed.
    pub fn add_image(&mut self, source: &Path, name: &str) -> Result<()> {
        self.add_image_filtered(&[(source.to_path_buf(), String::new())], name, None)
    }

    /// Captures several folders or files into one image, each at its own place in it
    /// (backslash-separated, "" for the root). `keep`, when given, is asked about every
    /// file and folder during wimlib's scan.
    pub fn add_image_filtered(
        &mut self,
        sources: &[(PathBuf, String)],
        name: &str,
        keep: Option<Keep<'_>>,
    ) -> Result<()> {
        let owned: Vec<(Vec<w::wimlib_tchar>, Vec<w::wimlib_tchar>)> = sources
            .iter()
            .map(|(src, target)| (tpath(src), tstr(&image_path(target))))
            .collect();
        let mut raw: Vec<w::wimlib_capture_source> = owned
            .iter()
            .map(|(s, t)| w::wimlib_capture_source {
                fs_source_path: s.as_ptr() as *mut _,
                wim_target_path: t.as_ptr() as *mut _,
                reserved: 0,
            })
            .collect();
        let n = tstr(name);
        // Nothing asks for a file's path after the scan: on Windows wimlib then opens files
        // by their ID and keeps no path per file (less memory with millions of files).
        let mut flags = w::WIMLIB_ADD_FLAG_FILE_PATHS_UNNEEDED as i32;
        if keep.is_some() {
            flags |= w::WIMLIB_ADD_FLAG_TEST_FILE_EXCLUSION as i32;
        }
        let mut ctx = Ctx {
            on_progress: None,
            keep,
        };
        let raw_wim = self.raw;
        let code = with_progress(raw_wim, &mut ctx, || {
            // SAFETY: `owned` keeps every string alive for the call; wimlib copies what it keeps.
            unsafe {
                w::wimlib_add_image_multisource(
                    raw_wim,
                    raw.as_mut_ptr(),
                    raw.len(),
                    n.as_ptr(),
                    std::ptr::null(),
                    flags,
                )
            }
        });
        let shown = sources.first().map(|(p, _)| p.as_path());
        check(code, shown, "capturing files into the image")
    }

    /// Writes every image to `path`.
    pub fn write(&mut self, path: &Path, opts: WriteOptions<'_>) -> Result<()> {
        let flags = opts.flags();
        let threads = opts.threads;
        let mut ctx = Ctx {
            on_progress: opts.progress,
            keep: None,
        };
        let p = tpath(path);
        let raw = self.raw;
        let code = with_progress(raw, &mut ctx, || {
            // SAFETY: a NUL-terminated path; all images.
            unsafe { w::wimlib_write(raw, p.as_ptr(), w::WIMLIB_ALL_IMAGES, flags, threads) }
        });
        check(code, Some(path), "writing the WIM")?;
        self.path = Some(path.to_path_buf());
        Ok(())
    }

    /// Writes the WIM as parts of at most `part_size` bytes: `files.swm`, `files2.swm`, …
    /// (for FAT32, which holds no file of 4 GiB). The WIM must have been written or opened.
    pub fn write_split(
        &mut self,
        first_part: &Path,
        part_size: u64,
        opts: WriteOptions<'_>,
    ) -> Result<()> {
        let flags = opts.flags();
        let mut ctx = Ctx {
            on_progress: opts.progress,
            keep: None,
        };
        let p = tpath(first_part);
        let raw = self.raw;
        let code = with_progress(raw, &mut ctx, || {
            // SAFETY: a NUL-terminated path.
            unsafe { w::wimlib_split(raw, p.as_ptr(), part_size, flags) }
        });
        check(code, Some(first_part), "writing the split WIM")
    }
}
