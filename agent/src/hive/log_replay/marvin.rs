//! Marvin32, the keyed hash Windows uses to check each new-format log entry
//! (Hash-1 and Hash-2 of an `HvLE` entry). Written from Microsoft's published description
//! of the algorithm; the test vectors below are Microsoft's own (.NET `MarvinTests`).

/// The seed the registry uses for log entries. The specification lists it as the bytes
/// 82 EF 4D 88 7A 4E 55 C5; read most significant byte first, that is 0x82EF4D887A4E55C5 (low
/// half 0x7A4E55C5 starts the hash). Real Windows logs verify only with this reading: an older
/// revision of the specification gave 14219357686671994754 "(little-endian)", which is the
/// same bytes reversed (0xC5554E7A884DEF82) and fails on every real entry.
pub const REGISTRY_SEED: u64 = 0x82EF_4D88_7A4E_55C5;

/// Marvin32 of `data` with `seed`, as the 64-bit value `(p1 << 32) | p0`.
pub fn marvin32(seed: u64, data: &[u8]) -> u64 {
    let mut lo = seed as u32;
    let mut hi = (seed >> 32) as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        lo = lo.wrapping_add(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        mix(&mut lo, &mut hi);
    }
    // The tail (0-3 bytes) is padded with a single 0x80 byte, then zeroes.
    let mut last = [0u8; 4];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    lo = lo.wrapping_add(u32::from_le_bytes(last));
    mix(&mut lo, &mut hi);
    mix(&mut lo, &mut hi);
    (u64::from(hi) << 32) | u64::from(lo)
}

fn mix(lo: &mut u32, hi: &mut u32) {
    *hi ^= *lo;
    *lo = lo.rotate_left(20);
    *lo = lo.wrapping_add(*hi);
    *hi = hi.rotate_left(9);
    *hi ^= *lo;
    *lo = lo.rotate_left(27);
    *lo = lo.wrapping_add(*hi);
    *hi = hi.rotate_left(19);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn microsoft_test_vectors() {
        let cases: [(u64, &str, u64); 14] = [
            (0x004F_B61A_001B_DBCC, "", 0x30ED_35C1_00CD_3C7D),
            (0x004F_B61A_001B_DBCC, "af", 0x48E7_3FC7_7D75_DDC1),
            (0x004F_B61A_001B_DBCC, "e70f", 0xB5F6_E1FC_485D_BFF8),
            (0x004F_B61A_001B_DBCC, "37f495", 0xF0B0_7C78_9B8C_F7E8),
            (0x004F_B61A_001B_DBCC, "8642dc59", 0x7008_F2E8_7E9C_F556),
            (0x004F_B61A_001B_DBCC, "153fb79826", 0xE6C0_8C6D_A2AF_A997),
            (0x004F_B61A_001B_DBCC, "0932e6246c47", 0x6F04_BF1A_5EA2_4060),
            (
                0x004F_B61A_001B_DBCC,
                "ab427ea8d10fc7",
                0xE118_47E4_F067_8C41,
            ),
            (0x804F_B61A_001B_DBCC, "", 0x10A9_D5D3_996F_D65D),
            (0x804F_B61A_001B_DBCC, "af", 0x6820_1F91_960E_BF91),
            (0x804F_B61A_001B_DBCC, "e70f", 0x64B5_8163_1F6A_B378),
            (0x804F_B61A_001B_DBCC, "37f495", 0xE1F2_DFA6_E513_1408),
            (0x804F_B61A_001B_DBCC, "8642dc59", 0x3628_9D96_54FB_49F6),
            (0x804F_B61A_001B_DBCC, "153fb79826", 0x0A06_114B_1346_4DBD),
        ];
        for (seed, data, want) in cases {
            assert_eq!(
                marvin32(seed, &hex(data)),
                want,
                "seed {seed:#x} data {data}"
            );
        }
    }

    /// Hash-2 of the first entry of a real Windows 10 log (DFIRArtifactMuseum, RathbunVM
    /// ntuser.dat.LOG1, offset 512): the Marvin32 of its first 32 bytes, stored at 32..40.
    #[test]
    fn registry_seed_verifies_a_real_log_entry() {
        let head = hex("48764c4500de020000000000e5000000001010001f00000010b9c235ffda2a22");
        let stored = u64::from_le_bytes([0xd3, 0x42, 0x0a, 0x6d, 0x4e, 0x6c, 0xb5, 0x40]);
        assert_eq!(marvin32(REGISTRY_SEED, &head), stored);
        assert_ne!(marvin32(REGISTRY_SEED.swap_bytes(), &head), stored);
    }
}
