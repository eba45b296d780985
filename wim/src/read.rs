//! Reading WIMs: information, listing, extraction, verification.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use wimlib_sys as w;

use super::progress::{with_progress, Ctx, OnProgress};
use super::tchar::{from_t, image_path, tpath, tstr};
use super::{check, Compression, Result, Wim};

#[derive(Debug, Clone)]
pub struct WimInfo {
    pub image_count: u32,
    pub boot_index: u32,
    pub part_number: u16,
    pub total_parts: u16,
    pub compression: Option<Compression>,
    pub has_integrity: bool,
}

/// One file or folder of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Backslash-separated, from the image root, without a leading separator.
    pub path: String,
    pub size: u64,
    pub attributes: u32,
    pub is_dir: bool,
    pub reparse_tag: u32,
    /// Seconds since the Unix epoch.
    pub last_write_unix: i64,
    pub last_write_nsec: i32,
    pub sha1: Option<[u8; 20]>,
}

const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x10;

/// The size of an entry's unnamed data stream, and its SHA-1 when it has content.
///
/// # Safety
/// `d` is a valid entry from `wimlib_iterate_dir_tree`.
unsafe fn data_stream(d: &w::wimlib_dir_entry) -> (u64, Option<[u8; 20]>) {
    let stream = d.streams.as_ptr();
    if d.num_named_streams < u32::MAX && !stream.is_null() {
        let r = &(*stream).resource;
        (
            r.uncompressed_size,
            (r.uncompressed_size > 0).then_some(r.sha1_hash),
        )
    } else {
        (0, None)
    }
}

// timespec field types differ between C libraries (Linux, MinGW); casts stay on purpose.
#[allow(clippy::unnecessary_cast)]
unsafe extern "C" fn collect(d: *const w::wimlib_dir_entry, ctx: *mut c_void) -> i32 {
    let out = &mut *(ctx as *mut Vec<Entry>);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let d = &*d;
        let path = from_t(d.full_path).replace('/', "\\");
        let (size, sha1) = data_stream(d);
        out.push(Entry {
            path: path.trim_start_matches('\\').to_string(),
            size,
            attributes: d.attributes,
            is_dir: d.attributes & FILE_ATTRIBUTE_DIRECTORY != 0,
            reparse_tag: d.reparse_tag,
            last_write_unix: d.last_write_time.tv_sec as i64,
            last_write_nsec: d.last_write_time.tv_nsec as i32,
            sha1,
        });
    }));
    i32::from(r.is_err())
}

/// Files (not folders) and their bytes in an image, counted without listing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: u64,
    pub bytes: u64,
}

unsafe extern "C" fn count(d: *const w::wimlib_dir_entry, ctx: *mut c_void) -> i32 {
    // SAFETY: wimlib hands a valid entry; ctx is the caller's Totals, alive for the call.
    let (d, t) = (&*d, &mut *(ctx as *mut Totals));
    if d.attributes & FILE_ATTRIBUTE_DIRECTORY == 0 {
        t.files += 1;
        t.bytes = t.bytes.saturating_add(data_stream(d).0);
    }
    0
}

impl Wim {
    pub fn info(&self) -> Result<WimInfo> {
        // SAFETY: a zeroed out-struct filled by wimlib.
        let mut i: w::wimlib_wim_info = unsafe { std::mem::zeroed() };
        check(
            unsafe { w::wimlib_get_wim_info(self.raw, &mut i) },
            self.path(),
            "reading the WIM header",
        )?;
        Ok(WimInfo {
            image_count: i.image_count,
            boot_index: i.boot_index,
            part_number: i.part_number,
            total_parts: i.total_parts,
            compression: crate::compression_from_raw(i.compression_type),
            has_integrity: i.has_integrity_table() != 0,
        })
    }

    pub fn image_count(&self) -> u32 {
        self.info().map(|i| i.image_count).unwrap_or(0)
    }

    /// An image property from the WIM's XML (`NAME`, `DESCRIPTION`, `WINDOWS/ARCH`, …).
    pub fn image_property(&self, image: u32, name: &str) -> Option<String> {
        let n = tstr(name);
        // SAFETY: a NUL-terminated name; the result is copied at once.
        let p = unsafe { w::wimlib_get_image_property(self.raw, image as i32, n.as_ptr()) };
        (!p.is_null()).then(|| unsafe { from_t(p) })
    }

    pub fn image_name(&self, image: u32) -> String {
        self.image_property(image, "NAME").unwrap_or_default()
    }

    /// Files and bytes of 1-based `image` from its metadata, without building a listing
    /// (a million-file image costs no memory here).
    pub fn totals(&mut self, image: u32) -> Result<Totals> {
        self.count_image(image, 0, "counting")
    }

    /// [`totals`](Self::totals) with `extra` iteration flags; `doing` names the step in
    /// an error.
    pub(crate) fn count_image(&mut self, image: u32, extra: u32, doing: &str) -> Result<Totals> {
        let mut t = Totals::default();
        let root = tstr(&image_path("\\"));
        let flags = w::WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE | extra;
        // SAFETY: the callback only touches `t`, alive for the call.
        let code = unsafe {
            w::wimlib_iterate_dir_tree(
                self.raw,
                image as i32,
                root.as_ptr(),
                flags as i32,
                Some(count),
                &mut t as *mut Totals as *mut c_void,
            )
        };
        check(code, self.path(), &format!("{doing} image {image}"))?;
        Ok(t)
    }

    /// Every entry at and below `path` ("" = the whole image) of 1-based `image`.
    pub fn iterate(&mut self, image: u32, path: &str) -> Result<Vec<Entry>> {
        let mut out: Vec<Entry> = Vec::new();
        let p = tstr(&image_path(if path.is_empty() { "\\" } else { path }));
        // SAFETY: the callback only touches `out`, alive for the call.
        let code = unsafe {
            w::wimlib_iterate_dir_tree(
                self.raw,
                image as i32,
                p.as_ptr(),
                w::WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE as i32,
                Some(collect),
                &mut out as *mut Vec<Entry> as *mut c_void,
            )
        };
        check(code, self.path(), &format!("listing image {image}"))?;
        Ok(out)
    }

    /// Extracts 1-based `image` into `target`.
    pub fn extract_image(
        &mut self,
        image: u32,
        target: &Path,
        progress: Option<OnProgress<'_>>,
    ) -> Result<()> {
        let t = tpath(target);
        let mut ctx = Ctx {
            on_progress: progress,
            keep: None,
        };
        let raw = self.raw;
        let code = with_progress(raw, &mut ctx, || {
            // SAFETY: a NUL-terminated target path.
            unsafe {
                w::wimlib_extract_image(
                    raw,
                    image as i32,
                    t.as_ptr(),
                    w::WIMLIB_EXTRACT_FLAG_NORPFIX as i32,
                )
            }
        });
        check(
            code,
            self.path(),
            &format!("extracting image {image} to {}", target.display()),
        )
    }

    /// Extracts 1-based `image`, or only `paths` of it (backslash paths, each with its
    /// folders), into `target` for a restore: without the security descriptors stored in
    /// the image (the files take their new folder's, not the old machine's SIDs) and without
    /// reparse-point fix-ups. Timestamps and attributes are restored.
    pub fn extract_for_restore(
        &mut self,
        image: u32,
        paths: Option<&[&str]>,
        target: &Path,
        progress: Option<OnProgress<'_>>,
    ) -> Result<()> {
        let t = tpath(target);
        let flags = (w::WIMLIB_EXTRACT_FLAG_NORPFIX | w::WIMLIB_EXTRACT_FLAG_NO_ACLS) as i32;
        let owned: Vec<Vec<w::wimlib_tchar>> = paths
            .unwrap_or(&[])
            .iter()
            .map(|p| tstr(&image_path(p)))
            .collect();
        let ptrs: Vec<*const w::wimlib_tchar> = owned.iter().map(|p| p.as_ptr()).collect();
        let mut ctx = Ctx {
            on_progress: progress,
            keep: None,
        };
        let raw = self.raw;
        let code = with_progress(raw, &mut ctx, || match paths {
            // SAFETY: a NUL-terminated target path.
            None => unsafe { w::wimlib_extract_image(raw, image as i32, t.as_ptr(), flags) },
            // SAFETY: `owned` keeps every path alive for the call.
            Some(_) => unsafe {
                w::wimlib_extract_paths(
                    raw,
                    image as i32,
                    t.as_ptr(),
                    ptrs.as_ptr(),
                    ptrs.len(),
                    flags,
                )
            },
        });
        check(
            code,
            self.path(),
            &format!("extracting image {image} to {}", target.display()),
        )
    }

    /// Extracts the given files (backslash paths in the image) straight into `target`,
    /// without their folders.
    pub fn extract_paths(&mut self, image: u32, paths: &[&str], target: &Path) -> Result<()> {
        let owned: Vec<Vec<w::wimlib_tchar>> = paths.iter().map(|p| tstr(&image_path(p))).collect();
        let ptrs: Vec<*const w::wimlib_tchar> = owned.iter().map(|p| p.as_ptr()).collect();
        let t = tpath(target);
        let flags = (w::WIMLIB_EXTRACT_FLAG_NO_PRESERVE_DIR_STRUCTURE
            | w::WIMLIB_EXTRACT_FLAG_NORPFIX) as i32;
        // SAFETY: `owned` keeps every path alive for the call.
        let code = unsafe {
            w::wimlib_extract_paths(
                self.raw,
                image as i32,
                t.as_ptr(),
                ptrs.as_ptr(),
                ptrs.len(),
                flags,
            )
        };
        check(
            code,
            self.path(),
            &format!("extracting {} from image {image}", paths.join(", ")),
        )
    }
}
