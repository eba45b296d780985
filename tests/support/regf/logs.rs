//! Dirty hives and their transaction logs, in both on-disk formats.
//!
//! Given two clean hives `old` and `new` (sequence number n in `old`), the primary file is
//! `old` with a dirty header and the logs carry what turns it into `new`:
//!
//! * primary: `old`, header seq1 = n+1, seq2 = n, timestamp = `new`'s, checksum valid.
//! * New format (Windows 8.1+): `log1` = 512-byte base block copy of `new` (file type 6,
//!   both sequence numbers n) + two `HvLE` entries, sequence n and n+1, holding every
//!   4096-byte page of `new`'s hive bins that differs from `old` (page 0 always, as Windows
//!   does). Replay leaves sequence n+1. `log2` is empty or a stale log (see [`Log2`]).
//! * Old format (XP..8): `log1` = 512-byte base block copy of `new` (file type 1, both
//!   sequence numbers n+1), "DIRT" + one bit per 512-byte page of `new`'s hive bins data at
//!   offset 512, then the dirty 512-byte pages in order (page 0 always). `log2` is empty.

use std::io;
use std::path::{Path, PathBuf};

use super::cells::{fix_checksum, get_u32, get_u64, put_u32, put_u64, BASE_BLOCK_LEN, HBIN_ALIGN};
use super::marvin::{marvin32, LOG_ENTRY_SEED};

/// `New` = Windows 8.1+ "HvLE" entries; `Old` = XP..8 "DIRT" bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    New,
    Old,
}

/// What the second new-format log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log2 {
    /// A valid but already applied log: header and one entry with sequence n-1 (a stale
    /// copy of page 0). Falls back to `Empty` when n is 0. Recovery must skip it.
    Stale,
    /// A zero-length file.
    Empty,
}

pub struct DirtyHive {
    pub primary: Vec<u8>,
    pub log1: Vec<u8>,
    pub log2: Vec<u8>,
    pub format: LogFormat,
}

impl DirtyHive {
    /// Writes the files as Windows names them: `stem` plus `stem.LOG1` and `stem.LOG2`
    /// (new format; LOG2 even when empty) or `stem.LOG` (old format). Returns the paths.
    pub fn write_files(&self, dir: &Path, stem: &str) -> io::Result<Vec<PathBuf>> {
        let mut files = vec![(stem.to_owned(), &self.primary)];
        match self.format {
            LogFormat::New => {
                files.push((format!("{stem}.LOG1"), &self.log1));
                files.push((format!("{stem}.LOG2"), &self.log2));
            }
            LogFormat::Old => files.push((format!("{stem}.LOG"), &self.log1)),
        }
        let mut paths = Vec::new();
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes)?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// `make_dirty_with(old, new, format, Log2::Stale)`.
pub fn make_dirty(old: &[u8], new: &[u8], format: LogFormat) -> DirtyHive {
    make_dirty_with(old, new, format, Log2::Stale)
}

/// See the module docs. `log2` only matters for the new format.
pub fn make_dirty_with(old: &[u8], new: &[u8], format: LogFormat, log2: Log2) -> DirtyHive {
    let (old_bins, new_bins) = (bins(old, "old"), bins(new, "new"));
    let n = get_u32(old, 8);
    let mut primary = old.to_vec();
    put_u32(&mut primary, 4, n.wrapping_add(1));
    put_u32(&mut primary, 8, n);
    put_u64(&mut primary, 12, get_u64(new, 12));
    fix_checksum(&mut primary);

    let (log1, log2) = match format {
        LogFormat::New => {
            let stale = match log2 {
                Log2::Stale if n > 0 => stale_new_log(old, old_bins, n - 1),
                _ => Vec::new(),
            };
            (new_log(new, old_bins, new_bins, n), stale)
        }
        LogFormat::Old => (
            old_log(new, old_bins, new_bins, n.wrapping_add(1)),
            Vec::new(),
        ),
    };
    DirtyHive {
        format,
        primary,
        log1,
        log2,
    }
}

/// The hive bins data of a clean hive from the builder.
fn bins<'a>(hive: &'a [u8], what: &str) -> &'a [u8] {
    let len = get_u32(hive, 40) as usize;
    assert!(
        hive.starts_with(b"regf") && len >= HBIN_ALIGN && hive.len() >= BASE_BLOCK_LEN + len,
        "make_dirty: `{what}` is not a hive from HiveBuilder::to_bytes"
    );
    &hive[BASE_BLOCK_LEN..BASE_BLOCK_LEN + len]
}

/// First sector of `hive`'s base block, as a log header: both sequence numbers `seq`.
fn log_header(hive: &[u8], seq: u32, file_type: u32) -> Vec<u8> {
    let mut h = hive[..512].to_vec();
    put_u32(&mut h, 4, seq);
    put_u32(&mut h, 8, seq);
    put_u32(&mut h, 28, file_type);
    fix_checksum(&mut h);
    h
}

/// Indices of the `page`-sized pages of `new` that differ from `old` (or lie past its
/// end); page 0 is always included.
fn dirty_pages(old: &[u8], new: &[u8], page: usize) -> Vec<usize> {
    (0..new.len() / page)
        .filter(|&i| {
            let r = i * page..(i + 1) * page;
            i == 0 || old.get(r.clone()) != Some(&new[r])
        })
        .collect()
}

fn new_log(new: &[u8], old_bins: &[u8], new_bins: &[u8], n: u32) -> Vec<u8> {
    let pages = dirty_pages(old_bins, new_bins, HBIN_ALIGN);
    // Two entries (n, n+1) so that replay has to follow the sequence chain.
    let (first, rest) = pages.split_at(pages.len().div_ceil(2));
    let second: &[usize] = if rest.is_empty() { &[0] } else { rest };
    let flags = get_u32(new, 144);
    let mut log = log_header(new, n, 6);
    for (k, set) in [first, second].into_iter().enumerate() {
        let entry = hvle(new_bins, set, n.wrapping_add(k as u32), flags, log.len());
        log.extend_from_slice(&entry);
    }
    log
}

/// An already-applied log from the previous flush: sequence `seq` (< the primary's
/// secondary sequence number), one entry with an older copy of page 0.
fn stale_new_log(old: &[u8], old_bins: &[u8], seq: u32) -> Vec<u8> {
    let mut earlier = old_bins.to_vec();
    let ts = get_u64(&earlier, 20);
    put_u64(&mut earlier, 20, ts.wrapping_sub(1));
    let mut log = log_header(old, seq, 6);
    let entry = hvle(&earlier, &[0], seq, get_u32(old, 144), log.len());
    log.extend_from_slice(&entry);
    log
}

/// One `HvLE` log entry holding the given 4096-byte pages of `bins` (contiguous pages
/// merged into one reference), padded so it ends on a 4096-byte file offset as Windows'
/// entries do; `at` is the entry's file offset.
fn hvle(bins: &[u8], pages: &[usize], seq: u32, flags: u32, at: usize) -> Vec<u8> {
    let mut runs: Vec<(usize, usize)> = Vec::new(); // (first page, count)
    for &p in pages {
        match runs.last_mut() {
            Some((start, count)) if *start + *count == p => *count += 1,
            _ => runs.push((p, 1)),
        }
    }
    let mut body = Vec::new();
    for (start, count) in &runs {
        body.extend_from_slice(&((start * HBIN_ALIGN) as u32).to_le_bytes());
        body.extend_from_slice(&((count * HBIN_ALIGN) as u32).to_le_bytes());
    }
    for (start, count) in &runs {
        body.extend_from_slice(&bins[start * HBIN_ALIGN..(start + count) * HBIN_ALIGN]);
    }
    let end = (at + 40 + body.len()).div_ceil(HBIN_ALIGN) * HBIN_ALIGN;
    let mut e = vec![0u8; end - at];
    e[0..4].copy_from_slice(b"HvLE");
    put_u32(&mut e, 4, (end - at) as u32);
    put_u32(&mut e, 8, flags);
    put_u32(&mut e, 12, seq);
    put_u32(&mut e, 16, bins.len() as u32);
    put_u32(&mut e, 20, runs.len() as u32);
    e[40..40 + body.len()].copy_from_slice(&body);
    // Hash-1 covers everything after the 40-byte header up to Size (padding included);
    // Hash-2 covers the first 32 bytes, i.e. including Hash-1.
    let h1 = marvin32(LOG_ENTRY_SEED, &e[40..]);
    put_u64(&mut e, 24, h1);
    let h2 = marvin32(LOG_ENTRY_SEED, &e[..32]);
    put_u64(&mut e, 32, h2);
    e
}

fn old_log(new: &[u8], old_bins: &[u8], new_bins: &[u8], seq: u32) -> Vec<u8> {
    const SECTOR: usize = 512;
    let pages = dirty_pages(old_bins, new_bins, SECTOR);
    // One bit per 512-byte page, least significant bit first (an RTL_BITMAP buffer).
    let mut bitmap = vec![0u8; new_bins.len() / SECTOR / 8];
    for &p in &pages {
        bitmap[p / 8] |= 1 << (p % 8);
    }
    let mut log = log_header(new, seq, 1);
    log.extend_from_slice(b"DIRT");
    log.extend_from_slice(&bitmap);
    log.resize(log.len().div_ceil(SECTOR) * SECTOR, 0);
    for &p in &pages {
        log.extend_from_slice(&new_bins[p * SECTOR..(p + 1) * SECTOR]);
    }
    log
}
