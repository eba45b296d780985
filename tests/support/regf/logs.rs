//! Dirty hives and their transaction logs, in both formats Windows writes: the new one
//! (Windows 8.1 and later: `HvLE` entries with Marvin32 hashes) and the old one (XP to 8: a
//! `DIRT` bitmap of 512-byte pages). The primary file holds the older state; only replaying
//! the log gives the newer one.

use super::set_checksum;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    New,
    Old,
}

#[derive(Debug, Clone)]
pub struct DirtyHive {
    pub primary: Vec<u8>,
    /// New format: `.LOG1` with the entry; old format: the `.LOG` file.
    pub log1: Vec<u8>,
    /// New format: an empty `.LOG2`, as Windows leaves it between uses.
    pub log2: Vec<u8>,
}

const SEED: u64 = 0x82EF_4D88_7A4E_55C5;

/// Marvin32 (Microsoft's keyed hash), 64-bit result as `(hi << 32) | lo`.
pub fn marvin32(seed: u64, data: &[u8]) -> u64 {
    fn mix(lo: &mut u32, hi: &mut u32) {
        *hi ^= *lo;
        *lo = lo.rotate_left(20).wrapping_add(*hi);
        *hi = hi.rotate_left(9) ^ *lo;
        *lo = lo.rotate_left(27).wrapping_add(*hi);
        *hi = hi.rotate_left(19);
    }
    let (mut lo, mut hi) = (seed as u32, (seed >> 32) as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        lo = lo.wrapping_add(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        mix(&mut lo, &mut hi);
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 4];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    lo = lo.wrapping_add(u32::from_le_bytes(last));
    mix(&mut lo, &mut hi);
    mix(&mut lo, &mut hi);
    (u64::from(hi) << 32) | u64::from(lo)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// `old` and `new` are clean hives from the builder (new may be longer).
pub fn make_dirty(old: &[u8], new: &[u8], format: LogFormat) -> DirtyHive {
    let seq = u32_at(old, 4);
    let old_bins = &old[4096..];
    let new_bins = &new[4096..];
    let mut primary = old.to_vec();
    // Windows bumps the primary sequence number before writing, the secondary after.
    put(&mut primary, 4, seq + 1);
    put(&mut primary, 8, seq);
    set_checksum(&mut primary);
    match format {
        LogFormat::New => new_format(&primary, old_bins, new, new_bins, seq + 1),
        LogFormat::Old => old_format(&primary, old_bins, new, new_bins),
    }
}

fn differs(old_bins: &[u8], new_bins: &[u8], at: usize, len: usize) -> bool {
    old_bins.get(at..at + len) != Some(&new_bins[at..at + len])
}

fn log_header(new: &[u8], seq: u32, file_type: u32, timestamp: u64) -> Vec<u8> {
    let mut h = new[..512].to_vec();
    put(&mut h, 4, seq);
    put(&mut h, 8, seq);
    h[12..20].copy_from_slice(&timestamp.to_le_bytes());
    put(&mut h, 28, file_type);
    set_checksum(&mut h);
    h
}

fn new_format(primary: &[u8], old_bins: &[u8], new: &[u8], new_bins: &[u8], seq: u32) -> DirtyHive {
    let pages: Vec<usize> = (0..new_bins.len())
        .step_by(4096)
        .filter(|&at| differs(old_bins, new_bins, at, 4096))
        .collect();
    let refs = 8 * pages.len();
    let size = (40 + refs + 4096 * pages.len()).next_multiple_of(512);
    let mut e = vec![0u8; size];
    e[0..4].copy_from_slice(b"HvLE");
    put(&mut e, 4, size as u32);
    put(&mut e, 8, 0);
    put(&mut e, 12, seq);
    put(&mut e, 16, new_bins.len() as u32);
    put(&mut e, 20, pages.len() as u32);
    let mut data_at = 40 + refs;
    for (i, &at) in pages.iter().enumerate() {
        put(&mut e, 40 + 8 * i, at as u32);
        put(&mut e, 44 + 8 * i, 4096);
        e[data_at..data_at + 4096].copy_from_slice(&new_bins[at..at + 4096]);
        data_at += 4096;
    }
    // Hash-1 covers everything after the header, Hash-2 the first 32 bytes (with Hash-1).
    let h1 = marvin32(SEED, &e[40..]);
    e[24..32].copy_from_slice(&h1.to_le_bytes());
    let h2 = marvin32(SEED, &e[..32]);
    e[32..40].copy_from_slice(&h2.to_le_bytes());
    let timestamp = u64::from_le_bytes(primary[12..20].try_into().unwrap());
    let mut log1 = log_header(new, seq, 6, timestamp);
    log1.extend_from_slice(&e);
    DirtyHive {
        primary: primary.to_vec(),
        log1,
        log2: Vec::new(),
    }
}

fn old_format(primary: &[u8], old_bins: &[u8], new: &[u8], new_bins: &[u8]) -> DirtyHive {
    let timestamp = u64::from_le_bytes(primary[12..20].try_into().unwrap());
    let seq = u32_at(primary, 4);
    let mut log = log_header(new, seq, 1, timestamp);
    let nbits = new_bins.len() / 512;
    let mut bitmap = vec![0u8; nbits.div_ceil(8)];
    let mut pages = Vec::new();
    for b in 0..nbits {
        if differs(old_bins, new_bins, b * 512, 512) {
            bitmap[b / 8] |= 1 << (b % 8);
            pages.extend_from_slice(&new_bins[b * 512..(b + 1) * 512]);
        }
    }
    log.extend_from_slice(b"DIRT");
    log.extend_from_slice(&bitmap);
    log.resize(log.len().next_multiple_of(512), 0);
    log.extend_from_slice(&pages);
    DirtyHive {
        primary: primary.to_vec(),
        log1: log,
        log2: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marvin32_microsoft_vectors() {
        // From .NET's MarvinTests (seed 0x004FB61A001BDBCC).
        assert_eq!(marvin32(0x004F_B61A_001B_DBCC, b""), 0x30ED_35C1_00CD_3C7D);
        assert_eq!(
            marvin32(0x004F_B61A_001B_DBCC, &[0xaf]),
            0x48E7_3FC7_7D75_DDC1
        );
        assert_eq!(
            marvin32(0x004F_B61A_001B_DBCC, &[0xe7, 0x0f]),
            0xB5F6_E1FC_485D_BFF8
        );
        assert_eq!(
            marvin32(0x004F_B61A_001B_DBCC, &[0x37, 0xf4, 0x95]),
            0xF0B0_7C78_9B8C_F7E8
        );
    }
}
