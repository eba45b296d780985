//! Old-format logs (Windows XP to 8, file type 1; 2 before XP): a partial base block in the
//! first sector, the dirty vector (`DIRT` + one bit per 512-byte page of hive-bins data, least
//! significant bit first) from the second sector, then the dirty pages, packed, from the next
//! sector boundary on. Page k of the log belongs to the k-th set bit; bit b lands at
//! 4096 + 512 * b in the primary file.
//!
//! Rules (spec, "Old format" notes and "Multiple transaction log files / Old format"):
//! * a log applies when its base block's last-written timestamp equals the primary's (or,
//!   when the primary's base block is invalid, the first hive bin's timestamp);
//! * the logs are tried in order (`.LOG1`, `.LOG2`, `.LOG`): the next one is used when one
//!   does not apply or fails;
//! * dirty hive bins are checked (signature, offset, size of at least 4096); recovery stops at
//!   an invalid one, which is ignored, and pages beyond it are not applied;
//! * an invalid primary base block is replaced with the log's copy.

use super::{
    finish_header, name, put_u32, Log, LogFormat, ReplayOutcome, FILE_TYPE, HIVE_BINS_SIZE,
    MAX_HIVE_BINS, SECTOR, SEQ1, TIMESTAMP,
};
use crate::hive::BASE_BLOCK_LEN;
use crate::le::{u32_at, u64_at};

const PAGE: usize = 512;
const HIVE_BIN_ALIGN: usize = 4096;
const HBIN_TIMESTAMP: usize = BASE_BLOCK_LEN + 20;

pub(super) fn replay(
    hive: &mut Vec<u8>,
    logs: &[Log<'_>],
    primary_valid: bool,
) -> Result<ReplayOutcome, String> {
    let hive_time = if primary_valid {
        u64_at(hive, TIMESTAMP)
    } else if hive.get(BASE_BLOCK_LEN..BASE_BLOCK_LEN + 4) == Some(b"hbin".as_slice()) {
        u64_at(hive, HBIN_TIMESTAMP)
    } else {
        None
    };
    let mut notes = Vec::new();
    for log in logs {
        if Some(log.header.timestamp) != hive_time {
            notes.push(format!(
                "log {} was written for another state of the hive (its timestamp differs from the hive's)",
                name(log.path)
            ));
            continue;
        }
        match apply_log(hive, log, primary_valid) {
            Ok(applied) => {
                return Ok(ReplayOutcome {
                    format: LogFormat::Old,
                    logs_used: vec![log.path.to_string()],
                    applied,
                })
            }
            Err(why) => notes.push(format!("log {} {why}", name(log.path))),
        }
    }
    Err(notes.join("; "))
}

/// The dirty pages of one log, located and bounds-checked.
struct DirtyPages<'a> {
    /// Indices of the set bits, ascending: page `k` of `data` belongs to bit `bits[k]`.
    bits: Vec<usize>,
    data: &'a [u8],
}

impl DirtyPages<'_> {
    fn page(&self, bit: usize) -> Option<&[u8]> {
        let k = self.bits.binary_search(&bit).ok()?;
        self.data.get(k * PAGE..(k + 1) * PAGE)
    }
}

/// Applies one log; returns the number of dirty pages written. Leaves `hive` untouched on Err.
fn apply_log(hive: &mut Vec<u8>, log: &Log<'_>, primary_valid: bool) -> Result<usize, String> {
    let size = log.header.hive_bins_size;
    if size == 0 || size as usize % HIVE_BIN_ALIGN != 0 || size > MAX_HIVE_BINS {
        return Err(format!("has a bogus hive-bins data size ({size})"));
    }
    let size = size as usize;
    let dirty = read_dirty_pages(log, size)?;
    let growth = (BASE_BLOCK_LEN + size).saturating_sub(hive.len());
    if growth > dirty.bits.len() * PAGE {
        return Err(format!(
            "would grow the hive by {growth} bytes, more than the {} bytes of pages it carries",
            dirty.bits.len() * PAGE
        ));
    }
    let end = valid_bins_end(hive, &dirty, size);
    if end == 0 {
        return Err("holds an invalid first hive bin".into());
    }
    let old_size = u32_at(hive, HIVE_BINS_SIZE).unwrap_or_default() as usize;
    let final_size = if end == size || !primary_valid {
        end
    } else {
        // The bad bin is ignored: the primary's own bins from there on stay as they were.
        old_size.max(end).min(size)
    };

    if hive.len() < BASE_BLOCK_LEN + final_size {
        hive.resize(BASE_BLOCK_LEN + final_size, 0);
    }
    let mut applied = 0;
    for (k, &bit) in dirty.bits.iter().enumerate() {
        let at = bit * PAGE;
        if at >= end {
            break;
        }
        let (Some(src), Some(dst)) = (
            dirty.data.get(k * PAGE..(k + 1) * PAGE),
            hive.get_mut(BASE_BLOCK_LEN + at..BASE_BLOCK_LEN + at + PAGE),
        ) else {
            break;
        };
        dst.copy_from_slice(src);
        applied += 1;
    }
    let seq = if primary_valid {
        u32_at(hive, SEQ1).unwrap_or_default()
    } else {
        hive[..SECTOR].copy_from_slice(&log.bytes[..SECTOR]);
        put_u32(hive, FILE_TYPE, 0);
        log.header.seq
    };
    finish_header(hive, seq, final_size as u32);
    Ok(applied)
}

fn read_dirty_pages<'a>(log: &Log<'a>, size: usize) -> Result<DirtyPages<'a>, String> {
    let bytes = log.bytes;
    // The base block copy fills one disk sector (clustering factor x 512 bytes).
    let sector = match log.header.clustering {
        c @ (1 | 2 | 4 | 8) => c as usize * SECTOR,
        _ => SECTOR,
    };
    let vector = [sector, SECTOR]
        .into_iter()
        .find(|&at| bytes.get(at..at + 4) == Some(b"DIRT".as_slice()))
        .ok_or("has no dirty vector ('DIRT') after its base block")?;
    let nbits = size / PAGE;
    let bitmap = bytes
        .get(vector + 4..vector + 4 + nbits.div_ceil(8))
        .ok_or("is truncated inside its dirty vector")?;
    let bits: Vec<usize> = (0..nbits)
        .filter(|&b| bitmap[b / 8] & (1 << (b % 8)) != 0)
        .collect();
    let start = (vector + 4 + bitmap.len()).next_multiple_of(sector);
    let data = bytes
        .get(start..start.saturating_add(bits.len() * PAGE))
        .ok_or_else(|| {
            format!(
                "is truncated: its dirty vector marks {} pages of 512 bytes, but only {} bytes follow it",
                bits.len(),
                bytes.len().saturating_sub(start)
            )
        })?;
    Ok(DirtyPages { bits, data })
}

/// Walks the hive bins as they will be after the replay and returns where the valid ones end
/// (`size` when all are valid): a bin needs its signature, its own offset and a size that is
/// a positive multiple of 4096 within the hive-bins data.
fn valid_bins_end(hive: &[u8], dirty: &DirtyPages<'_>, size: usize) -> usize {
    let mut pos = 0;
    while pos < size {
        // A bin header (32 bytes at a 4096-byte boundary) lies inside one 512-byte page.
        let header = match dirty.page(pos / PAGE) {
            Some(page) => page.get(..32),
            None => hive.get(BASE_BLOCK_LEN + pos..BASE_BLOCK_LEN + pos + 32),
        };
        let Some(header) = header else { return pos };
        let bin_size = u32_at(header, 8).unwrap_or_default() as usize;
        let valid = &header[..4] == b"hbin"
            && u32_at(header, 4) == Some(pos as u32)
            && bin_size >= HIVE_BIN_ALIGN
            && bin_size % HIVE_BIN_ALIGN == 0
            && pos + bin_size <= size;
        if !valid {
            return pos;
        }
        pos += bin_size;
    }
    size
}
