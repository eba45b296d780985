//! New-format logs (Windows 8.1 and later, file type 6): a base block, then `HvLE` log
//! entries from the second sector on. Each entry carries a sequence number, the hive-bins data
//! size at its creation, two Marvin32 hashes and a list of dirty pages with their offsets.
//!
//! Rules (spec, "Log entries" notes 5-11 and "Multiple transaction log files / New format"):
//! * a log's first entry must carry its base block's sequence number, and that number must not
//!   be below the primary file's secondary sequence number; later entries follow as N + 1;
//! * an entry with a wrong hash or a hive-bins data size that is not a multiple of 4096 stops
//!   recovery before it;
//! * with a valid primary base block both logs are used, the one with earlier entries first,
//!   the other continuing at N + 1; with an invalid one, only the log with the latest entries,
//!   whose base block then replaces the primary's;
//! * the hive grows to the applied entry's hive-bins data size, the base block's flag 0x1 is
//!   taken from the entry, and both sequence numbers end as the last applied entry's.

use super::marvin::{marvin32, REGISTRY_SEED};
use super::{
    finish_header, name, put_u32, Log, LogFormat, ReplayOutcome, FILE_TYPE, FLAGS, MAX_HIVE_BINS,
    SECTOR, SEQ2,
};
use crate::hive::BASE_BLOCK_LEN;
use crate::le::{u32_at, u64_at};

const ENTRY_HEADER: usize = 40;
const HIVE_BIN_ALIGN: u32 = 4096;

/// One log entry that passed every check: its pages lie inside the entry and inside the
/// hive-bins data size it declares.
struct Entry<'a> {
    seq: u32,
    flags: u32,
    hive_bins_size: u32,
    /// (offset relative to the hive-bins data, page bytes)
    pages: Vec<(usize, &'a [u8])>,
    page_bytes: usize,
}

pub(super) fn replay(
    hive: &mut Vec<u8>,
    logs: &[Log<'_>],
    primary_valid: bool,
) -> Result<ReplayOutcome, String> {
    let mut notes = Vec::new();
    let chains: Vec<(&Log<'_>, Vec<Entry<'_>>)> = logs
        .iter()
        .map(|log| {
            let (entries, stop) = read_entries(log);
            if let Some(why) = stop {
                notes.push(format!("log {} {why}", name(log.path)));
            }
            (log, entries)
        })
        .collect();

    let hive_secondary = u32_at(hive, SEQ2).unwrap_or_default();
    let order: Vec<&(&Log<'_>, Vec<Entry<'_>>)> = if primary_valid {
        let mut usable: Vec<_> = chains
            .iter()
            .filter(|(log, _)| {
                let fresh = log.header.seq >= hive_secondary;
                if !fresh {
                    notes.push(format!(
                        "log {} is older than the hive (its entries start at sequence number {}, \
                         the hive was last completely written at {hive_secondary})",
                        name(log.path),
                        log.header.seq
                    ));
                }
                fresh
            })
            .collect();
        usable.sort_by_key(|(log, _)| log.header.seq);
        usable
    } else {
        chains
            .iter()
            .max_by_key(|(log, _)| log.header.seq)
            .into_iter()
            .collect()
    };

    let mut expected: Option<u32> = None;
    let mut last: Option<(u32, u32)> = None;
    let mut applied = 0;
    let mut used: Vec<String> = Vec::new();
    'logs: for (log, entries) in order {
        if let Some(n) = expected {
            if log.header.seq != n {
                notes.push(format!(
                    "log {} starts at sequence number {}, but {n} was expected next; it is not applied",
                    name(log.path),
                    log.header.seq
                ));
                break;
            }
        }
        for (i, entry) in entries.iter().enumerate() {
            if let Err(why) = check_growth(hive.len(), entry) {
                notes.push(format!("log {} entry {} {why}", name(log.path), i + 1));
                break 'logs;
            }
            if applied == 0 && !primary_valid {
                // The primary's base block is unusable: take the log's copy, as Windows does.
                hive[..SECTOR].copy_from_slice(&log.bytes[..SECTOR]);
                put_u32(hive, FILE_TYPE, 0);
            }
            apply(hive, entry);
            applied += 1;
            last = Some((entry.seq, entry.hive_bins_size));
            if used.last().map(String::as_str) != Some(log.path) {
                used.push(log.path.to_string());
            }
        }
        expected = Some(match last {
            Some((seq, _)) => seq.wrapping_add(1),
            None => log.header.seq,
        });
    }

    match last {
        Some((seq, size)) => {
            finish_header(hive, seq, size);
            Ok(ReplayOutcome {
                format: LogFormat::New,
                logs_used: used,
                applied,
            })
        }
        None if notes.is_empty() => Err("no log entry applies to the hive".into()),
        None => Err(notes.join("; ")),
    }
}

/// The run of valid, consecutive entries at the start of a log, and why the run ended if that
/// is worth telling (a bad entry; not the normal end of the entries written last).
fn read_entries<'a>(log: &Log<'a>) -> (Vec<Entry<'a>>, Option<String>) {
    let bytes = log.bytes;
    let mut entries = Vec::new();
    let mut off = SECTOR;
    let mut expected_seq = log.header.seq;
    loop {
        let n = entries.len() + 1;
        if bytes.get(off..off + 4) != Some(b"HvLE".as_slice()) {
            let why = entries.is_empty().then(|| "holds no log entry".to_string());
            return (entries, why);
        }
        let raw = match entry_bytes(bytes, off) {
            Ok(raw) => raw,
            Err(why) => return (entries, Some(format!("entry {n} {why}"))),
        };
        let seq = u32_at(raw, 12).unwrap_or_default();
        if seq != expected_seq {
            // Entries left over from an earlier use of the file end the run.
            let why = entries.is_empty().then(|| {
                format!("entry 1 has sequence number {seq}, its base block says {expected_seq}")
            });
            return (entries, why);
        }
        match parse_entry(raw) {
            Ok(entry) => entries.push(entry),
            Err(why) => return (entries, Some(format!("entry {n} {why}"))),
        }
        off += raw.len();
        expected_seq = match expected_seq.checked_add(1) {
            Some(s) => s,
            None => return (entries, None),
        };
    }
}

/// The bytes of the entry at `off`, once its size and hashes check out.
fn entry_bytes(bytes: &[u8], off: usize) -> Result<&[u8], String> {
    let size = u32_at(bytes, off + 4).ok_or("is truncated")? as usize;
    if size < ENTRY_HEADER || size % SECTOR != 0 {
        return Err(format!("has a bogus size ({size} bytes)"));
    }
    let raw = bytes.get(off..off.saturating_add(size)).ok_or_else(|| {
        format!("runs past the end of the log ({size} bytes at offset {off}): the log is truncated")
    })?;
    let hash1 = u64_at(raw, 24).unwrap_or_default();
    let hash2 = u64_at(raw, 32).unwrap_or_default();
    if marvin32(REGISTRY_SEED, &raw[..32]) != hash2
        || marvin32(REGISTRY_SEED, &raw[ENTRY_HEADER..]) != hash1
    {
        return Err("fails its checksum".into());
    }
    Ok(raw)
}

fn parse_entry(raw: &[u8]) -> Result<Entry<'_>, String> {
    let field = |at| u32_at(raw, at).unwrap_or_default();
    let hive_bins_size = field(16);
    if hive_bins_size == 0 || hive_bins_size % HIVE_BIN_ALIGN != 0 || hive_bins_size > MAX_HIVE_BINS
    {
        return Err(format!(
            "has a bogus hive-bins data size ({hive_bins_size})"
        ));
    }
    let count = field(20) as usize;
    let refs_end = count
        .checked_mul(8)
        .and_then(|r| r.checked_add(ENTRY_HEADER))
        .filter(|&end| end <= raw.len())
        .ok_or_else(|| format!("lists {count} dirty pages, more than it can hold"))?;
    let mut pages = Vec::with_capacity(count);
    let mut cursor = refs_end;
    for k in 0..count {
        let at = ENTRY_HEADER + 8 * k;
        let (offset, size) = (field(at) as usize, field(at + 4) as usize);
        let data = raw
            .get(cursor..cursor.saturating_add(size))
            .ok_or_else(|| format!("dirty page {} runs past the end of the entry", k + 1))?;
        if offset.saturating_add(size) > hive_bins_size as usize {
            return Err(format!(
                "dirty page {} (offset {offset:#x}, {size} bytes) lies outside the hive ({hive_bins_size} bytes of hive bins)",
                k + 1
            ));
        }
        pages.push((offset, data));
        cursor += size;
    }
    Ok(Entry {
        seq: field(12),
        flags: field(8),
        hive_bins_size,
        page_bytes: cursor - refs_end,
        pages,
    })
}

/// A growing hive must be filled by the entry's own pages (new hive bins are always dirty):
/// this stops a forged size from allocating memory no log data backs.
fn check_growth(hive_len: usize, entry: &Entry<'_>) -> Result<(), String> {
    let end = BASE_BLOCK_LEN + entry.hive_bins_size as usize;
    let growth = end.saturating_sub(hive_len);
    if growth > entry.page_bytes {
        return Err(format!(
            "would grow the hive by {growth} bytes, more than the {} bytes of pages it carries",
            entry.page_bytes
        ));
    }
    Ok(())
}

fn apply(hive: &mut Vec<u8>, entry: &Entry<'_>) {
    let end = BASE_BLOCK_LEN + entry.hive_bins_size as usize;
    if hive.len() < end {
        hive.resize(end, 0);
    }
    for &(offset, data) in &entry.pages {
        // parse_entry bounded offset + len by the hive-bins size, and the hive is that long.
        let at = BASE_BLOCK_LEN + offset;
        if let Some(dst) = hive.get_mut(at..at + data.len()) {
            dst.copy_from_slice(data);
        }
    }
    // Only flag 0x1 (KTM locked the hive) travels in a log entry.
    let flags = (u32_at(hive, FLAGS).unwrap_or_default() & !1) | (entry.flags & 1);
    put_u32(hive, FLAGS, flags);
    // The size is set as each entry applies so the header always matches the data so far.
    put_u32(hive, super::HIVE_BINS_SIZE, entry.hive_bins_size);
}
