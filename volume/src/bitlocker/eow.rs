//! Encrypt-on-write ("used space only", Windows 8 and later): which chunks of the volume are
//! encrypted. The EOW information (two copies, named by the volume header) lists regions of
//! the volume; each region has a bitmap with one bit per chunk (8 MiB), kept in two records
//! of which the one with the highest sequence number is current. Each structure carries a
//! CRC32, computed with its own CRC field zeroed.

use std::ops::Range;

use crate::block::BlockSource;
use crate::le::{u16_at, u32_at, u64_at};

const INFO_SIGNATURE: &[u8; 8] = b"FVE-EOW\0";
const BITMAP_SIGNATURE: &[u8; 10] = b"FVE-EOWBM\0";
const RECORD_SIGNATURE: &[u8; 10] = b"FVE-EOWBR\0";
/// Bytes of the EOW information: 56 bytes and 8 per region.
const INFO_MAX: usize = 64 << 10;
/// Regions (each with its bitmap block read and kept). Windows writes 6.
const REGIONS_MAX: usize = 256;
/// Bytes of one region's bitmap block (header and records). Windows writes 1536; with
/// [`REGIONS_MAX`], at most 16 MiB of bitmaps are held.
const BITMAP_MAX: usize = 64 << 10;

/// One region's current bitmap.
#[derive(Debug, Clone)]
pub struct Region {
    pub range: Range<u64>,
    bits: Vec<u8>,
    nbits: u64,
}

/// The chunks encrypted on write, and the areas the EOW structures reserve (read as zeros).
#[derive(Debug, Clone)]
pub struct Eow {
    pub chunk: u64,
    pub regions: Vec<Region>,
    pub reserved: Vec<Range<u64>>,
}

impl Eow {
    /// Reads the first copy whose CRC32 holds, its bitmaps included.
    pub fn read(src: &dyn BlockSource, offsets: [u64; 2], sector: u64) -> Result<Eow, String> {
        let mut why = String::new();
        for at in offsets {
            match read_info(src, at, sector) {
                Ok(mut e) => {
                    // Both copies' areas read as zeros, whichever is used.
                    let len = e.reserved[0].end - e.reserved[0].start;
                    e.reserved
                        .extend(offsets.iter().map(|&o| o..o.saturating_add(len)));
                    return Ok(e);
                }
                Err(w) => why = format!("EOW information at offset {at}: {w}"),
            }
        }
        Err(why)
    }

    /// Whether the chunk holding byte `at` is encrypted, and where the chunk ends. `None`
    /// when no region covers `at`.
    pub fn lookup(&self, at: u64) -> Option<(bool, u64)> {
        let r = self.regions.iter().find(|r| r.range.contains(&at))?;
        let chunk = (at - r.range.start) / self.chunk;
        let set = chunk < r.nbits
            && r.bits
                .get((chunk / 8) as usize)
                .is_some_and(|b| b & (1 << (chunk % 8)) != 0);
        let end = (r.range.start + (chunk + 1) * self.chunk).min(r.range.end);
        Some((set, end))
    }
}

fn read_bytes(src: &dyn BlockSource, at: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; len];
    src.read_at(at, &mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

/// The CRC32 of `b` with the four bytes at `crc_at` taken as zeros.
fn crc_without(b: &[u8], crc_at: usize) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&b[..crc_at]);
    h.update(&[0; 4]);
    h.update(&b[crc_at + 4..]);
    h.finalize()
}

fn read_info(src: &dyn BlockSource, at: u64, sector: u64) -> Result<Eow, String> {
    let head = read_bytes(src, at, 16)?;
    let size = usize::from(u16_at(&head, 10).unwrap_or(0));
    if &head[..8] != INFO_SIGNATURE || !(56..=INFO_MAX).contains(&size) {
        return Err("no FVE-EOW signature or a bad size".into());
    }
    let b = read_bytes(src, at, size)?;
    if crc_without(&b, 36) != u32_at(&b, 36).unwrap_or(0) {
        return Err("its CRC32 does not match".into());
    }
    let chunk = u64::from(u32_at(&b, 20).unwrap_or(0));
    let log_size = u64::from(u32_at(&b, 24).unwrap_or(0));
    if !chunk.is_power_of_two() || chunk < sector {
        return Err(format!("its chunk size ({chunk}) is not usable"));
    }
    let header = usize::from(u16_at(&b, 8).unwrap_or(0)).max(56);
    let round = |n: u64| n.div_ceil(sector) * sector;
    let mut eow = Eow {
        chunk,
        regions: Vec::new(),
        reserved: std::iter::once(at..at + round(size as u64)).collect(),
    };
    if (size - header.min(size)) / 8 > REGIONS_MAX {
        return Err(format!("it lists more than {REGIONS_MAX} regions"));
    }
    for i in (header..size.saturating_sub(7)).step_by(8) {
        let off = u64_at(&b, i).unwrap_or(0);
        let (region, bitmap_len, log_at) = read_bitmap(src, off)?;
        eow.reserved.push(off..off + bitmap_len / sector * sector);
        eow.reserved
            .push(log_at..log_at + log_size / sector * sector);
        eow.regions.push(region);
    }
    Ok(eow)
}

/// A region's bitmap block: the region, the block's size, and where its conversion log lies.
fn read_bitmap(src: &dyn BlockSource, at: u64) -> Result<(Region, u64, u64), String> {
    let head = read_bytes(src, at, 60)?;
    let size = u32_at(&head, 12).unwrap_or(0) as usize;
    let header = usize::from(u16_at(&head, 10).unwrap_or(0));
    if &head[..10] != BITMAP_SIGNATURE || !(60..=BITMAP_MAX).contains(&size) || header < 60 {
        return Err(format!(
            "EOW bitmap at offset {at}: no signature or a bad size"
        ));
    }
    let b = read_bytes(src, at, size)?;
    let first = u32_at(&b, 44).unwrap_or(0) as usize;
    let covered = b.get(..first).filter(|_| first >= header);
    if covered.is_none_or(|c| crc_without(c, 56) != u32_at(&b, 56).unwrap_or(0)) {
        return Err(format!(
            "EOW bitmap at offset {at}: its CRC32 does not match"
        ));
    }
    let start = u64_at(&b, 20).unwrap_or(0);
    let len = u64_at(&b, 28).unwrap_or(0);
    let range = start..start.checked_add(len).ok_or("EOW region past the end")?;
    let records = [u32_at(&b, 44), u32_at(&b, 48)];
    let current = records
        .iter()
        .filter_map(|r| record(b.get(r.unwrap_or(0) as usize..)?))
        .max_by_key(|(seq, _, _)| *seq)
        .ok_or(format!("EOW bitmap at offset {at}: no valid record"))?;
    let region = Region {
        range,
        bits: current.2,
        nbits: current.1,
    };
    Ok((region, size as u64, u64_at(&b, 36).unwrap_or(0)))
}

/// A bitmap record: its sequence number, number of bits, and bits, when its CRC32 holds.
fn record(b: &[u8]) -> Option<(u64, u64, Vec<u8>)> {
    let header = usize::from(u16_at(b, 10)?);
    let size = u32_at(b, 12)? as usize;
    if b.get(..10)? != RECORD_SIGNATURE || header < 36 || size < header {
        return None;
    }
    let all = b.get(..size)?;
    if crc_without(all, 32) != u32_at(all, 32)? {
        return None;
    }
    let nbits = u64::from(u32_at(all, 16)?);
    Some((u64_at(all, 20)?, nbits, all[header..].to_vec()))
}
