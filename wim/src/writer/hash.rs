//! The keyed hash of the writer's tables (names by folder, blobs by SHA-1): a folded
//! 128-bit multiply, fast on short keys, with keys drawn at random for each writer, so
//! that names or contents chosen by whoever filled the volume cannot crowd one bucket
//! without knowing them.

use std::hash::BuildHasher;

#[derive(Clone, Copy)]
pub struct Keyed {
    k0: u64,
    k1: u64,
}

fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl Keyed {
    pub fn new() -> Keyed {
        let s = std::hash::RandomState::new();
        Keyed {
            k0: s.hash_one(0x5157u16),
            k1: s.hash_one(0xB10Bu16) | 1,
        }
    }

    fn mix(&self, h: u64, word: u64) -> u64 {
        fold(h ^ word ^ self.k0, self.k1)
    }

    /// A name in a folder.
    pub fn name(&self, parent: u32, name: &[u16]) -> u64 {
        let mut h = self.mix(0, u64::from(parent) | (name.len() as u64) << 32);
        for w in name.chunks(4) {
            let word = w
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, &u)| acc | u64::from(u) << (16 * i));
            h = self.mix(h, word);
        }
        h
    }

    /// A SHA-1 (already uniform: two of its words suffice).
    pub fn sha1(&self, hash: &[u8; 20]) -> u64 {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&hash[i..i + 8]);
            u64::from_le_bytes(w)
        };
        self.mix(self.mix(0, word(0)), word(8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differing_anywhere_hash_apart() {
        let k = Keyed::new();
        let a: Vec<u16> = "readme.txt".encode_utf16().collect();
        let b: Vec<u16> = "readme.txT".encode_utf16().collect();
        assert_ne!(k.name(1, &a), k.name(1, &b));
        assert_ne!(k.name(1, &a), k.name(2, &a));
        assert_ne!(k.name(1, &a[..4]), k.name(1, &a[..5]));
        assert_eq!(k.name(7, &a), k.name(7, &a));
    }
}
