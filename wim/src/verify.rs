//! Reading a WIM back: every blob against its SHA-1, every image's files against the data
//! present, and what each image holds.
//!
//! wimlib's own check reads blob after blob, one system call each, which for a million
//! small files costs more than the data. A WIM whose blobs all sit uncompressed in this
//! one file (what `--compress none` writes) is instead read once from start to end, each
//! blob hashed as it passes; any other WIM is checked by wimlib.

use std::ffi::c_void;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use sha1::{Digest, Sha1};
use wimlib_sys as w;

use super::progress::{with_progress, Ctx, OnProgress, Phase, Progress};
use super::read::Totals;
use super::{check, Result, Wim, WimError};

/// Bytes read at once in the sequential pass.
const READ_BUFFER: usize = 1 << 20;

/// Where one blob's bytes lie, as the blob table says.
struct Extent {
    offset: u64,
    size: u64,
    sha1: [u8; 20],
}

/// The blob table as extents, gathered while every blob lies plain in this file;
/// `only_plain` turns false at the first compressed, solid or other-part blob, and the
/// whole WIM is then left to wimlib.
struct Extents {
    list: Vec<Extent>,
    only_plain: bool,
}

/// # Safety
/// `r` is a valid entry from `wimlib_iterate_lookup_table`; `ctx` is an `Extents`.
unsafe extern "C" fn collect_extent(r: *const w::wimlib_resource_entry, ctx: *mut c_void) -> i32 {
    // SAFETY: as the contract above says; ctx is alive for the call.
    let (r, e) = (&*r, &mut *(ctx as *mut Extents));
    let plain = r.is_compressed() == 0
        && r.packed() == 0
        && r.is_spanned() == 0
        && r.part_number == 1
        && r.compressed_size == r.uncompressed_size;
    if !plain {
        e.only_plain = false;
        return 1; // stop: wimlib checks this WIM
    }
    let r = catch_unwind(AssertUnwindSafe(|| {
        e.list.push(Extent {
            offset: r.offset,
            size: r.uncompressed_size,
            sha1: r.sha1_hash,
        })
    }));
    i32::from(r.is_err())
}

impl Wim {
    /// Reads every stored file back and checks it against its SHA-1, and every image's
    /// files against the data present; returns what each image holds (files and bytes,
    /// as [`Wim::totals`] counts them), in image order.
    pub fn verify(&mut self, progress: Option<OnProgress<'_>>) -> Result<Vec<Totals>> {
        match self.plain_extents()? {
            Some((path, extents)) => hash_sequentially(&path, extents, progress)?,
            None => self.verify_by_wimlib(progress)?,
        }
        (1..=self.image_count())
            .map(|image| self.checked_totals(image))
            .collect()
    }

    /// The blob table when every blob lies uncompressed in this file, with its path.
    fn plain_extents(&mut self) -> Result<Option<(std::path::PathBuf, Vec<Extent>)>> {
        let Some(path) = self.path.clone() else {
            return Ok(None);
        };
        if self.info()?.total_parts != 1 {
            return Ok(None);
        }
        let mut e = Extents {
            list: Vec::new(),
            only_plain: true,
        };
        // SAFETY: the callback only touches `e`, alive for the call.
        let code = unsafe {
            w::wimlib_iterate_lookup_table(
                self.raw,
                0,
                Some(collect_extent),
                &mut e as *mut Extents as *mut c_void,
            )
        };
        if !e.only_plain {
            return Ok(None);
        }
        check(code, Some(&path), "reading the WIM's blob table")?;
        Ok(Some((path, e.list)))
    }

    fn verify_by_wimlib(&mut self, progress: Option<OnProgress<'_>>) -> Result<()> {
        let mut ctx = Ctx {
            on_progress: progress,
            keep: None,
        };
        let raw = self.raw;
        // SAFETY: `raw` is this open WIM; no flags.
        let code = with_progress(raw, &mut ctx, || unsafe { w::wimlib_verify_wim(raw, 0) });
        check(code, self.path(), "verifying the WIM's contents")
    }

    /// An image's totals, refused when a file's data is not in the WIM.
    fn checked_totals(&mut self, image: u32) -> Result<Totals> {
        let needed = w::WIMLIB_ITERATE_DIR_TREE_FLAG_RESOURCES_NEEDED;
        self.count_image(image, needed, "verifying")
    }
}

/// Reads `path` once in offset order, hashing each extent as it passes.
fn hash_sequentially(
    path: &Path,
    mut extents: Vec<Extent>,
    mut progress: Option<OnProgress<'_>>,
) -> Result<()> {
    let fail = |code: w::wimlib_error_code, what: String, os_code| WimError {
        path: Some(path.to_path_buf()),
        code: code as i32,
        message: format!("verifying the WIM's contents: {what}"),
        os_code,
    };
    let io = |e: std::io::Error| {
        fail(
            w::wimlib_error_code_WIMLIB_ERR_READ,
            e.to_string(),
            e.raw_os_error(),
        )
    };
    extents.sort_unstable_by_key(|e| e.offset);
    let total = extents.iter().fold(0u64, |t, e| t.saturating_add(e.size));
    let mut file = BufReader::with_capacity(READ_BUFFER, File::open(path).map_err(io)?);
    let (mut at, mut done, mut told) = (0u64, 0u64, 0u64);
    let mut buf = vec![0u8; READ_BUFFER];
    for e in &extents {
        if e.offset != at {
            // A short step forward keeps what is buffered; anything else seeks.
            match i64::try_from(i128::from(e.offset) - i128::from(at)) {
                Ok(step) => file.seek_relative(step),
                Err(_) => file.seek(SeekFrom::Start(e.offset)).map(drop),
            }
            .map_err(io)?;
        }
        let mut hash = Sha1::new();
        let mut left = e.size;
        while left > 0 {
            let n = left.min(READ_BUFFER as u64) as usize;
            file.read_exact(&mut buf[..n])
                .map_err(|err| match err.kind() {
                    std::io::ErrorKind::UnexpectedEof => fail(
                        w::wimlib_error_code_WIMLIB_ERR_UNEXPECTED_END_OF_FILE,
                        format!(
                            "the data at offset {} runs past the end of the file",
                            e.offset
                        ),
                        None,
                    ),
                    _ => io(err),
                })?;
            hash.update(&buf[..n]);
            left -= n as u64;
        }
        if hash.finalize().as_slice() != e.sha1 {
            return Err(fail(
                w::wimlib_error_code_WIMLIB_ERR_INVALID_RESOURCE_HASH,
                format!("the data at offset {} does not match its SHA-1", e.offset),
                None,
            ));
        }
        at = e.offset.saturating_add(e.size);
        done = done.saturating_add(e.size);
        if let Some(p) = progress
            .as_mut()
            .filter(|_| done - told >= 64 << 20 || done == total)
        {
            told = done;
            p(Progress {
                phase: Phase::Verify,
                bytes_done: done,
                bytes_total: total,
            });
        }
    }
    Ok(())
}
