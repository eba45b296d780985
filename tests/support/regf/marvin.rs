//! Marvin32, the 64-bit hash that guards new-format (`HvLE`) transaction-log entries.
//!
//! Written from the algorithm description (two 32-bit lanes, four rotate/add/xor rounds per
//! 4-byte little-endian word, a 0x80 terminator byte after the tail, one extra zero round).
//! Checked against .NET's published Marvin test vectors and against real Windows logs.

/// Seed Windows uses for both hashes of a log entry (bytes 82 EF 4D 88 7A 4E 55 C5 read
/// as a little-endian u64; see the regf spec, "Log entries", note 3).
pub const LOG_ENTRY_SEED: u64 = 0x82EF_4D88_7A4E_55C5;

fn block(lo: &mut u32, hi: &mut u32) {
    *hi ^= *lo;
    *lo = lo.rotate_left(20).wrapping_add(*hi);
    *hi = hi.rotate_left(9) ^ *lo;
    *lo = lo.rotate_left(27).wrapping_add(*hi);
    *hi = hi.rotate_left(19);
}

/// Marvin32 of `data` with `seed`; the result is `hi << 32 | lo`, as .NET and Windows store it.
pub fn marvin32(seed: u64, data: &[u8]) -> u64 {
    let mut lo = seed as u32;
    let mut hi = (seed >> 32) as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        block(&mut lo, &mut hi);
    }
    // The 0-3 tail bytes, little-endian, followed by a 0x80 byte.
    let tail = words.remainder();
    let mut last: u32 = 0x80 << (8 * tail.len());
    for (i, b) in tail.iter().enumerate() {
        last |= u32::from(*b) << (8 * i);
    }
    lo = lo.wrapping_add(last);
    block(&mut lo, &mut hi);
    block(&mut lo, &mut hi);
    (u64::from(hi) << 32) | u64::from(lo)
}
