//! The Elephant diffuser of AES-CBC + diffuser (Niels Ferguson, "AES-CBC + Elephant diffuser:
//! A Disk Encryption Algorithm for Windows Vista", 2006), decryption side: after AES-CBC,
//! diffuser B (3 cycles), diffuser A (5 cycles), then the XOR with the sector key. The
//! sector is read as little-endian 32-bit words; indices wrap around the sector.

use super::crypt::MAX_SECTOR;

const A_CYCLES: usize = 5;
const B_CYCLES: usize = 3;
const RA: [u32; 4] = [9, 0, 13, 0];
const RB: [u32; 4] = [0, 10, 0, 25];

/// Undoes the diffusers and the sector key on one sector (512 to 4096 bytes, a power of
/// two); `words` is scratch of at least a sector's words. The wrapping indices are taken
/// at the ends only, so that the long middle runs without a division or a bounds check.
pub fn decrypt(sector: &mut [u8], sector_key: &[u8; 32], words: &mut [u32; MAX_SECTOR / 4]) {
    let n = sector.len() / 4;
    let d = &mut words[..n];
    for (w, b) in d.iter_mut().zip(sector.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    // The middle runs four words a step, the rotations then constants (RB = 0, 10, 0, 25;
    // RA = 9, 0, 13, 0); the ends wrap. n is a multiple of 4 and at least 128.
    for _ in 0..B_CYCLES {
        for i in (0..n - 8).step_by(4) {
            d[i] = d[i].wrapping_add(d[i + 2] ^ d[i + 5]);
            d[i + 1] = d[i + 1].wrapping_add(d[i + 3] ^ d[i + 6].rotate_left(10));
            d[i + 2] = d[i + 2].wrapping_add(d[i + 4] ^ d[i + 7]);
            d[i + 3] = d[i + 3].wrapping_add(d[i + 5] ^ d[i + 8].rotate_left(25));
        }
        for i in n - 8..n {
            d[i] = d[i].wrapping_add(d[(i + 2) % n] ^ d[(i + 5) % n].rotate_left(RB[i % 4]));
        }
    }
    for _ in 0..A_CYCLES {
        for i in 0..8 {
            d[i] =
                d[i].wrapping_add(d[(i + n - 2) % n] ^ d[(i + n - 5) % n].rotate_left(RA[i % 4]));
        }
        for i in (8..n).step_by(4) {
            d[i] = d[i].wrapping_add(d[i - 2] ^ d[i - 5].rotate_left(9));
            d[i + 1] = d[i + 1].wrapping_add(d[i - 1] ^ d[i - 4]);
            d[i + 2] = d[i + 2].wrapping_add(d[i] ^ d[i - 3].rotate_left(13));
            d[i + 3] = d[i + 3].wrapping_add(d[i + 1] ^ d[i - 2]);
        }
    }
    for (i, (w, b)) in d.iter().zip(sector.chunks_exact_mut(4)).enumerate() {
        let k = 4 * i % 32;
        let x = w.to_le_bytes();
        for j in 0..4 {
            b[j] = x[j] ^ sector_key[k + j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encryption as the paper gives it: sector key, diffuser A, diffuser B, each cycle
    /// running from the last word down.
    fn encrypt(sector: &mut [u8], key: &[u8; 32]) {
        let n = sector.len() / 4;
        let mut d: Vec<u32> = sector
            .chunks_exact(4)
            .enumerate()
            .map(|(i, b)| {
                let k = &key[(i * 4) % 32..];
                u32::from_le_bytes([b[0] ^ k[0], b[1] ^ k[1], b[2] ^ k[2], b[3] ^ k[3]])
            })
            .collect();
        for _ in 0..A_CYCLES {
            for i in (0..n).rev() {
                d[i] = d[i]
                    .wrapping_sub(d[(i + n - 2) % n] ^ d[(i + n - 5) % n].rotate_left(RA[i % 4]));
            }
        }
        for _ in 0..B_CYCLES {
            for i in (0..n).rev() {
                d[i] = d[i].wrapping_sub(d[(i + 2) % n] ^ d[(i + 5) % n].rotate_left(RB[i % 4]));
            }
        }
        for (w, b) in d.iter().zip(sector.chunks_exact_mut(4)) {
            b.copy_from_slice(&w.to_le_bytes());
        }
    }

    #[test]
    fn decrypt_undoes_encrypt_and_diffuses() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 31) as u8);
        for size in [512usize, 4096] {
            let plain: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut s = plain.clone();
            encrypt(&mut s, &key);
            let mut flipped = s.clone();
            flipped[size / 2] ^= 1;
            let mut words = [0u32; MAX_SECTOR / 4];
            decrypt(&mut s, &key, &mut words);
            assert_eq!(s, plain);
            decrypt(&mut flipped, &key, &mut words);
            let changed = flipped.iter().zip(&plain).filter(|(a, b)| a != b).count();
            assert!(
                changed > size / 2,
                "one flipped bit changes most of the sector"
            );
        }
    }
}
