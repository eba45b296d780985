//! `lifeboat image` of a BitLocker volume: OUT written from the rescued raw copy through the
//! BitLocker reader, so OUT holds the plain volume, the bytes `dislocker-file -r` gives.
//!
//! What it promises:
//! - **The disk is not read here**: the caller has closed the rescue's time budget, so
//!   bytes not rescued read as zeros at once, and they are counted (`Written::lost`).
//! - **OUT is whole or absent**: it is written as `OUT.part` and renamed OUT at the end;
//!   an error or a Ctrl-C removes the part, and leaves an OUT from an earlier run alone.
//! - **Sparse**: blocks of zeros (the metadata areas, unused space, lost bytes) are holes.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use lifeboat_volume::bitlocker::Unlocked;
use lifeboat_volume::block::BlockError;
use lifeboat_volume::rescue::{ImageFile, Store};
use lifeboat_volume::BlockSource;

use crate::console::say;

/// Bytes decrypted at a time: large enough for the reader's threads, small in memory.
const CHUNK: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PlainError {
    #[error("{}: cannot write the decrypted image: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Read(BlockError),
    #[error("{}: interrupted while the decrypted image was written; run the same command again (the rescue is kept)", out.display())]
    Interrupted { out: PathBuf },
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    pub size: u64,
    /// Plain bytes that could not be read (zeros in OUT), and in how many areas.
    pub lost: u64,
    pub lost_areas: usize,
}

/// Writes the plain volume to `out`. `raised` is the Ctrl-C flag: raised from now on, the
/// writing stops and OUT is left as it was.
pub fn write(vol: &Unlocked, out: &Path, raised: &AtomicBool) -> Result<Written, PlainError> {
    let part = with_suffix(out, ".part");
    let fail = |source| PlainError::Write {
        path: part.clone(),
        source,
    };
    let _ = std::fs::remove_file(&part);
    let file = ImageFile::create(&part, vol.size()).map_err(fail)?;
    say(&format!(
        "Writing the decrypted volume to {}",
        out.display()
    ));
    let interrupted_before = raised.load(Ordering::Relaxed);
    let result = fill(vol, &file, raised, interrupted_before, out);
    let done = result.and_then(|w| {
        file.sync().map_err(fail)?;
        drop(file);
        std::fs::rename(&part, out).map_err(fail)?;
        Ok(w)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    done
}

fn fill(
    vol: &Unlocked,
    file: &ImageFile,
    raised: &AtomicBool,
    interrupted_before: bool,
    out: &Path,
) -> Result<Written, PlainError> {
    let size = vol.size();
    let mut buf = vec![0u8; CHUNK];
    let mut w = Written {
        size,
        ..Written::default()
    };
    let mut last_lost: Option<u64> = None;
    let mut at = 0u64;
    while at < size {
        if !interrupted_before && raised.load(Ordering::Relaxed) {
            return Err(PlainError::Interrupted {
                out: out.to_path_buf(),
            });
        }
        let n = (size - at).min(CHUNK as u64) as usize;
        let b = &mut buf[..n];
        match vol.read_at(at, b) {
            Ok(()) => {}
            Err(BlockError::Damaged { lost, .. }) => count(&mut w, &mut last_lost, &lost),
            Err(e) => return Err(PlainError::Read(e)),
        }
        file.write_at(at, b).map_err(|source| PlainError::Write {
            path: file.path().to_path_buf(),
            source,
        })?;
        at += n as u64;
    }
    Ok(w)
}

/// Adds lost ranges (sorted, in order of reading), joining one that continues the last.
fn count(w: &mut Written, last_end: &mut Option<u64>, lost: &[Range<u64>]) {
    for r in lost {
        w.lost += r.end.saturating_sub(r.start);
        if *last_end != Some(r.start) {
            w.lost_areas += 1;
        }
        *last_end = Some(r.end);
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// The lines the summary gains.
pub fn summary(w: &Written, out: &Path, side: &Path, map: &Path, all: bool) -> String {
    let lost = if w.lost == 0 {
        String::new()
    } else {
        format!(
            "; {} bytes in {} areas could not be read and are zeros",
            w.lost, w.lost_areas
        )
    };
    let keep = if all {
        "the image is complete: it can be deleted"
    } else {
        "keep it, with the map, to go on"
    };
    format!(
        "decrypted:   {} written, {} bytes{lost}\n\
         encrypted copy: {} (map {}): {keep}\n",
        out.display(),
        w.size,
        side.display(),
        map.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_areas_that_continue_across_reads_count_once() {
        let mut w = Written::default();
        let mut last = None;
        count(&mut w, &mut last, &[0..512, 1024..2048]);
        count(&mut w, &mut last, &[2048..4096, 6144..6656]);
        count(&mut w, &mut last, &[6656..7168, 8192..8704]);
        assert_eq!((w.lost, w.lost_areas), (512 + 1024 + 2048 + 1024 + 512, 4));
    }
}
