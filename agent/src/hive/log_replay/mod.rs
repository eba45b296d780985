//! Transaction-log replay, in memory, following Maxim Suhanov's "Windows registry file format
//! specification" (msuhanov/regf): sections "Format of transaction log files", "Dirty state of
//! a hive" and "Multiple transaction log files".
//!
//! Two log formats exist. The new one (Windows 8.1 and later, file type 6) holds `HvLE` log
//! entries, each a numbered batch of dirty pages checked by Marvin32 hashes; see
//! [`new_format`]. The old one (XP to 8, file type 1, or 2 before XP) holds a bitmap of dirty
//! 512-byte pages (`DIRT`) followed by those pages; see [`old_format`].
//!
//! Everything read from a log is hostile input: every offset and size is checked before use,
//! and the hive grows only as far as the pages a log carries can fill.

use serde::Serialize;

use super::{header_checksum, BASE_BLOCK_LEN};
use crate::le::{u32_at, u64_at};

mod marvin;
mod new_format;
mod old_format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Windows 8.1 and later: `HvLE` log entries.
    New,
    /// Windows XP to 8: a dirty-page bitmap (`DIRT`) followed by the dirty pages.
    Old,
}

#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    pub format: LogFormat,
    /// The logs applied, as their places show.
    pub logs_used: Vec<String>,
    /// New format: log entries applied. Old format: 512-byte dirty pages applied.
    pub applied: usize,
}

/// Largest hive-bins data a replay may produce (2 GiB): no real hive comes near it, and it
/// bounds what a hostile log can make us allocate.
const MAX_HIVE_BINS: u32 = 0x8000_0000;

/// A log's sector: its partial copy of the base block fills the first one.
const SECTOR: usize = 512;

/// Offsets of base-block fields used here.
const SEQ1: usize = 4;
const SEQ2: usize = 8;
const TIMESTAMP: usize = 12;
const FILE_TYPE: usize = 28;
const HIVE_BINS_SIZE: usize = 40;
const CLUSTERING: usize = 44;
const CHECKSUM: usize = 508;
const FLAGS: usize = 144;

/// The backup copy of the base block at the start of a log, when it is valid.
struct LogHeader {
    seq: u32,
    timestamp: u64,
    hive_bins_size: u32,
    clustering: u32,
}

/// One log file as handed to the replay.
struct Log<'a> {
    path: &'a str,
    bytes: &'a [u8],
    header: LogHeader,
}

/// Applies the logs to `hive` (the dirty primary file's bytes) in memory.
///
/// `logs` come in the order [`super::find_logs`] gives (`.LOG1`, `.LOG2`, `.LOG`). On `Ok` the
/// hive is consistent (equal sequence numbers, right checksum, hive-bins data size and length
/// as the last applied change left them). On `Err` the hive is untouched and the message says
/// why no log could be used.
pub fn replay_logs(
    hive: &mut Vec<u8>,
    logs: &[(String, Vec<u8>)],
) -> Result<ReplayOutcome, String> {
    if hive.len() < BASE_BLOCK_LEN || &hive[..4] != b"regf" {
        return Err("the hive has no valid base block to replay logs onto".into());
    }
    if logs.is_empty() {
        return Err("no transaction log beside the hive".into());
    }
    let mut reasons = Vec::new();
    let mut new_logs = Vec::new();
    let mut old_logs = Vec::new();
    for (path, bytes) in logs {
        match read_log_header(bytes) {
            Ok((header, LogFormat::New)) => new_logs.push(Log {
                path,
                bytes,
                header,
            }),
            Ok((header, LogFormat::Old)) => old_logs.push(Log {
                path,
                bytes,
                header,
            }),
            Err(why) => reasons.push(format!("log {} {why}", name(path))),
        }
    }
    // A primary base block with a wrong checksum is itself rebuilt from a log.
    let primary_valid = u32_at(hive, CHECKSUM) == Some(header_checksum(hive));
    if !new_logs.is_empty() {
        match new_format::replay(hive, &new_logs, primary_valid) {
            Ok(outcome) => return Ok(outcome),
            Err(why) => reasons.push(why),
        }
    }
    if !old_logs.is_empty() {
        match old_format::replay(hive, &old_logs, primary_valid) {
            Ok(outcome) => return Ok(outcome),
            Err(why) => reasons.push(why),
        }
    }
    Err(reasons.join("; "))
}

/// Checks a log's base block (first sector): `regf`, a right checksum, equal sequence numbers
/// (otherwise the log itself was not completely written) and a log file type.
fn read_log_header(bytes: &[u8]) -> Result<(LogHeader, LogFormat), String> {
    if bytes.is_empty() {
        return Err("is empty or unreadable".into());
    }
    if bytes.len() < SECTOR {
        return Err(format!(
            "is truncated ({} bytes, shorter than its base block)",
            bytes.len()
        ));
    }
    if &bytes[..4] != b"regf" {
        return Err("does not start with a 'regf' base block".into());
    }
    if u32_at(bytes, CHECKSUM) != Some(header_checksum(bytes)) {
        return Err("has a base block that fails its checksum".into());
    }
    let field = |at| u32_at(bytes, at).unwrap_or_default();
    let format = match field(FILE_TYPE) {
        6 => LogFormat::New,
        1 | 2 => LogFormat::Old,
        t => return Err(format!("is not a transaction log (file type {t})")),
    };
    let (seq1, seq2) = (field(SEQ1), field(SEQ2));
    if seq1 != seq2 {
        return Err(format!(
            "was not completely written (sequence numbers {seq1} and {seq2} differ)"
        ));
    }
    let header = LogHeader {
        seq: seq1,
        timestamp: u64_at(bytes, TIMESTAMP).unwrap_or_default(),
        hive_bins_size: field(HIVE_BINS_SIZE),
        clustering: field(CLUSTERING),
    };
    Ok((header, format))
}

/// Makes the hive's header consistent after a replay: both sequence numbers `seq`, the
/// hive-bins data size, the vector at least as long as that size says, and the checksum.
fn finish_header(hive: &mut Vec<u8>, seq: u32, hive_bins_size: u32) {
    let end = BASE_BLOCK_LEN + hive_bins_size as usize;
    if hive.len() < end {
        hive.resize(end, 0);
    }
    put_u32(hive, SEQ1, seq);
    put_u32(hive, SEQ2, seq);
    put_u32(hive, HIVE_BINS_SIZE, hive_bins_size);
    let sum = header_checksum(hive);
    put_u32(hive, CHECKSUM, sum);
}

/// The last component of a log's shown place (host or volume path), for messages.
fn name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

/// Writes a little-endian u32 into the base block (callers keep `at` below 4096).
fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    if let Some(dst) = bytes.get_mut(at..at + 4) {
        dst.copy_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests;
