//! The cryptography of BitLocker, on RustCrypto's crates:
//! - keys are sealed with AES-256-CCM (12-byte nonce, 16-byte tag stored before the
//!   ciphertext); the plaintext is a key entry;
//! - passwords and recovery passwords are stretched by 2^20 rounds of SHA-256;
//! - sectors are encrypted with AES-CBC (the IV is the sector's byte offset encrypted with
//!   the FVEK), AES-CBC with the Elephant diffuser (Ferguson 2006: a sector key from the
//!   tweak key, diffusers A and B), or XTS-AES (the tweak is the sector number).
//!
//! Every key is held in zeroized memory ([`Zeroizing`], and `aes`' own `zeroize` feature for
//! the key schedules).

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::{Aes128, Aes256};
use ccm::aead::AeadInPlace;
use zeroize::Zeroizing;

use super::elephant;
use super::entry::{self, Entry, VALUE_AES_CCM};
use super::info::Method;

type Ccm256 = ccm::Ccm<Aes256, ccm::consts::U16, ccm::consts::U12>;

/// A 256-bit key in zeroized memory: a VMK, a stretched password, an external key.
pub type Key32 = Zeroizing<[u8; 32]>;

/// Opens an AES-CCM entry with `key`: the key entry inside (its method and key bytes), or
/// `None` when the key is wrong or the entry is damaged (the tag does not match).
pub fn unseal(key: &[u8; 32], sealed: &Entry<'_>) -> Option<(u16, Zeroizing<Vec<u8>>)> {
    if sealed.value != VALUE_AES_CCM || sealed.data.len() < 12 + 16 {
        return None;
    }
    let (nonce, rest) = sealed.data.split_at(12);
    let (tag, body) = rest.split_at(16);
    let mut plain = Zeroizing::new(body.to_vec());
    Ccm256::new(GenericArray::from_slice(key))
        .decrypt_in_place_detached(
            GenericArray::from_slice(nonce),
            &[],
            &mut plain,
            GenericArray::from_slice(tag),
        )
        .ok()?;
    let inner = entry::Entries::new(&plain).next()?.ok()?;
    let (method, bytes) = entry::key_of(&inner)?;
    Some((method, Zeroizing::new(bytes.to_vec())))
}

/// Opens a sealed key that must be 256 bits (a VMK).
pub fn unseal_key32(key: &[u8; 32], sealed: &Entry<'_>) -> Option<Key32> {
    let (_, bytes) = unseal(key, sealed)?;
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(bytes.get(..32)?);
    Some(k)
}

/// Rounds of the key stretch; Windows' fixed count.
const STRETCH_ROUNDS: u64 = 1 << 20;

/// Windows' key stretch: 2^20 rounds of SHA-256 over `last hash, initial hash, salt,
/// round number` (88 bytes: two SHA-256 blocks, the second padded), the last hash being
/// the key that opens the VMK. SHA-256's compression function is called directly (SHA-NI
/// when the CPU has it): a hasher per round would cost more than the hashing.
pub fn stretch(initial: &[u8; 32], salt: &[u8; 16]) -> Key32 {
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    // Block 1: last hash, initial hash. Block 2: salt, round, 0x80, zeros, length in bits.
    let mut blocks = Blocks([GenericArray::from([0u8; 64]); 2]);
    let blocks = &mut blocks.0;
    blocks[0][32..].copy_from_slice(initial);
    blocks[1][..16].copy_from_slice(salt);
    blocks[1][24] = 0x80;
    blocks[1][56..].copy_from_slice(&(88u64 * 8).to_be_bytes());
    let mut state = Zeroizing::new(IV);
    for round in 0..STRETCH_ROUNDS {
        blocks[1][16..24].copy_from_slice(&round.to_le_bytes());
        *state = IV;
        sha2::compress256(&mut state, &blocks[..]);
        for (i, w) in state.iter().enumerate() {
            blocks[0][4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&blocks[0][..32]);
    key
}

/// The stretch's two SHA-256 blocks, zeroized when dropped.
struct Blocks([GenericArray<u8, sha2::digest::consts::U64>; 2]);

impl Drop for Blocks {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.0.iter_mut().for_each(|b| b.as_mut_slice().zeroize());
    }
}

/// AES with a 128- or 256-bit key. One or two per volume, so the size of the larger
/// variant costs nothing worth a box.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
enum Aes {
    A128(Aes128),
    A256(Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> Option<Aes> {
        match key.len() {
            16 => Some(Aes::A128(Aes128::new_from_slice(key).ok()?)),
            32 => Some(Aes::A256(Aes256::new_from_slice(key).ok()?)),
            _ => None,
        }
    }

    fn encrypt(&self, block: &mut [u8; 16]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }

    /// Decrypts whole blocks at once, several in flight (AES-NI pipelines them).
    fn decrypt_blocks(&self, data: &mut [u8]) {
        let blocks = as_blocks(data);
        match self {
            Aes::A128(c) => c.decrypt_blocks(blocks),
            Aes::A256(c) => c.decrypt_blocks(blocks),
        }
    }
}

fn as_blocks(data: &mut [u8]) -> &mut [GenericArray<u8, aes::cipher::consts::U16>] {
    let n = data.len() / 16;
    // SAFETY: GenericArray<u8, U16> is a #[repr(transparent)] [u8; 16] with alignment 1;
    // the slice covers n * 16 bytes of `data`, which stays borrowed mutably for its life.
    unsafe { std::slice::from_raw_parts_mut(data.as_mut_ptr().cast(), n) }
}

/// The largest sector BitLocker uses (the volume header allows no more).
pub const MAX_SECTOR: usize = 4096;

/// 16 bytes little-endian: the offset or sector number an IV or tweak is made of.
fn le128(v: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&v.to_le_bytes());
    b
}

/// How to decrypt a sector, from the FVEK.
#[derive(Clone)]
pub struct SectorCipher {
    fvek: Aes,
    kind: Kind,
    /// The keys in use, as `cryptsetup bitlkDump --dump-volume-key` shows them: the FVEK
    /// then the tweak or XTS key, 128-bit keys without their unused halves.
    used: Zeroizing<Vec<u8>>,
}

#[derive(Clone)]
enum Kind {
    Cbc,
    /// The Elephant diffuser's tweak key.
    Diffuser(Aes),
    /// XTS: the tweak cipher.
    Xts(Aes),
}

impl SectorCipher {
    /// The cipher for `method` from the FVEK entry's key bytes: 16 or 32 bytes for AES-CBC;
    /// FVEK and tweak key in two 32-byte halves with the diffuser (128-bit keys use the first
    /// 16 bytes of each); two keys for XTS.
    pub fn new(method: Method, key: &[u8]) -> Option<SectorCipher> {
        let (fvek, kind) = match method {
            Method::AesCbc128 => (Aes::new(key.get(..16)?)?, Kind::Cbc),
            Method::AesCbc256 => (Aes::new(key.get(..32)?)?, Kind::Cbc),
            Method::AesCbc128Diffuser => (
                Aes::new(key.get(..16)?)?,
                Kind::Diffuser(Aes::new(key.get(32..48)?)?),
            ),
            Method::AesCbc256Diffuser => (
                Aes::new(key.get(..32)?)?,
                Kind::Diffuser(Aes::new(key.get(32..64)?)?),
            ),
            Method::XtsAes128 => (
                Aes::new(key.get(..16)?)?,
                Kind::Xts(Aes::new(key.get(16..32)?)?),
            ),
            Method::XtsAes256 => (
                Aes::new(key.get(..32)?)?,
                Kind::Xts(Aes::new(key.get(32..64)?)?),
            ),
            Method::None | Method::Unknown(_) => return None,
        };
        let used = match method {
            Method::AesCbc128 => key.get(..16),
            Method::AesCbc256 | Method::XtsAes128 => key.get(..32),
            Method::AesCbc128Diffuser => None,
            _ => key.get(..64),
        };
        let used = Zeroizing::new(match used {
            Some(k) => k.to_vec(),
            None => [key.get(..16)?, key.get(32..48)?].concat(),
        });
        Some(SectorCipher { fvek, kind, used })
    }

    /// Whether `candidate` is the key in use (compared in full, in constant time).
    pub fn is_key(&self, candidate: &[u8]) -> bool {
        candidate.len() == self.used.len()
            && candidate
                .iter()
                .zip(self.used.iter())
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                == 0
    }

    /// Decrypts the whole sectors of `data` in place; the first lies at byte `offset` of the
    /// volume (where it is stored: IVs and tweaks come from the stored place).
    pub fn decrypt(&self, data: &mut [u8], offset: u64, sector_size: usize) {
        // Scratch for the whole call: a sector's ciphertext (CBC) or tweaks (XTS), its words
        // (diffuser).
        let mut saved = [0u8; MAX_SECTOR];
        let mut words = [0u32; MAX_SECTOR / 4];
        for (i, sector) in data.chunks_exact_mut(sector_size).enumerate() {
            let at = offset + (i * sector_size) as u64;
            match &self.kind {
                Kind::Cbc => self.cbc(sector, at, &mut saved),
                Kind::Diffuser(tweak) => {
                    self.cbc(sector, at, &mut saved);
                    elephant::decrypt(sector, &sector_key(tweak, at), &mut words);
                }
                Kind::Xts(tweak) => self.xts(tweak, sector, at / sector_size as u64, &mut saved),
            }
        }
    }

    /// AES-CBC with the sector's own IV. Every block is decrypted at once, then XORed with
    /// the ciphertext block before it (kept in `saved`): a `cbc::Decryptor` per sector
    /// would copy and zeroize the key schedule for every 512 bytes.
    fn cbc(&self, sector: &mut [u8], at: u64, saved: &mut [u8; MAX_SECTOR]) {
        let mut iv = le128(at);
        self.fvek.encrypt(&mut iv);
        let n = sector.len();
        saved[..n].copy_from_slice(sector);
        self.fvek.decrypt_blocks(sector);
        xor(&mut sector[..16], &iv);
        xor(&mut sector[16..], &saved[..n - 16]);
    }

    /// XTS: every block XORed with its tweak (kept in `tweaks`), all blocks decrypted at
    /// once, XORed again. Blocks and tweaks are handled as `u128`s.
    fn xts(
        &self,
        tweak_cipher: &Aes,
        sector: &mut [u8],
        number: u64,
        tweaks: &mut [u8; MAX_SECTOR],
    ) {
        let mut t = le128(number);
        tweak_cipher.encrypt(&mut t);
        let mut t = u128::from_le_bytes(t);
        let tw = &mut tweaks[..sector.len()];
        for (block, saved) in sector.chunks_exact_mut(16).zip(tw.chunks_exact_mut(16)) {
            saved.copy_from_slice(&t.to_le_bytes());
            xor16(block, t);
            t = gf_double(t);
        }
        self.fvek.decrypt_blocks(sector);
        for (block, saved) in sector.chunks_exact_mut(16).zip(tw.chunks_exact(16)) {
            xor16(
                block,
                u128::from_le_bytes(saved.try_into().unwrap_or([0; 16])),
            );
        }
    }
}

/// XORs a 16-byte block with `t` (little-endian).
fn xor16(block: &mut [u8], t: u128) {
    if let Ok(b) = <&mut [u8; 16]>::try_from(block) {
        *b = (u128::from_le_bytes(*b) ^ t).to_le_bytes();
    }
}

/// Multiplication by x in GF(2^128), little-endian (the XTS tweak of the next block).
fn gf_double(t: u128) -> u128 {
    (t << 1) ^ ((t >> 127) * 0x87)
}

fn xor(data: &mut [u8], with: &[u8]) {
    data.iter_mut().zip(with).for_each(|(d, w)| *d ^= w);
}

/// The diffuser's 32-byte sector key: the offset encrypted with the tweak key, and again
/// with its top byte set to 0x80.
fn sector_key(tweak: &Aes, at: u64) -> Zeroizing<[u8; 32]> {
    let mut lo = le128(at);
    let mut hi = lo;
    hi[15] = 0x80;
    tweak.encrypt(&mut lo);
    tweak.encrypt(&mut hi);
    let mut k = Zeroizing::new([0u8; 32]);
    k[..16].copy_from_slice(&lo);
    k[16..].copy_from_slice(&hi);
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use xts_mode::Xts128;

    #[test]
    fn the_stretch_is_sha256_over_the_88_byte_record() {
        let (initial, salt) = ([7u8; 32], [9u8; 16]);
        let mut block = [0u8; 88];
        block[32..64].copy_from_slice(&initial);
        block[64..80].copy_from_slice(&salt);
        for round in 0u64..STRETCH_ROUNDS {
            block[80..].copy_from_slice(&round.to_le_bytes());
            let h = Sha256::digest(block);
            block[..32].copy_from_slice(&h);
        }
        assert_eq!(*stretch(&initial, &salt), block[..32]);
    }

    #[test]
    fn xts_matches_the_xts_mode_crate() {
        let key: Vec<u8> = (0u8..64).collect();
        let mut plain: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
        plain.extend(plain.clone());
        for (method, half) in [(Method::XtsAes128, 16), (Method::XtsAes256, 32)] {
            for sector in [512usize, 4096] {
                let mut data = plain.clone();
                if half == 16 {
                    let x = Xts128::new(
                        Aes128::new_from_slice(&key[..16]).unwrap(),
                        Aes128::new_from_slice(&key[16..32]).unwrap(),
                    );
                    x.encrypt_area(&mut data, sector, 77, |n| le128(n as u64));
                } else {
                    let x = Xts128::new(
                        Aes256::new_from_slice(&key[..32]).unwrap(),
                        Aes256::new_from_slice(&key[32..]).unwrap(),
                    );
                    x.encrypt_area(&mut data, sector, 77, |n| le128(n as u64));
                }
                let c = SectorCipher::new(method, &key).unwrap();
                c.decrypt(&mut data, 77 * sector as u64, sector);
                assert_eq!(data, plain);
            }
        }
    }

    #[test]
    fn cbc_matches_the_cbc_crate() {
        use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
        let key = [9u8; 32];
        let plain: Vec<u8> = (0..1024u32).map(|i| (i * 13) as u8).collect();
        let mut data = plain.clone();
        for (i, s) in data.chunks_exact_mut(512).enumerate() {
            let at = 0x10000 + i as u64 * 512;
            let mut iv = le128(at);
            Aes256::new_from_slice(&key)
                .unwrap()
                .encrypt_block(GenericArray::from_mut_slice(&mut iv));
            cbc::Encryptor::<Aes256>::new_from_slices(&key, &iv)
                .unwrap()
                .encrypt_padded_mut::<NoPadding>(s, 512)
                .unwrap();
        }
        SectorCipher::new(Method::AesCbc256, &key)
            .unwrap()
            .decrypt(&mut data, 0x10000, 512);
        assert_eq!(data, plain);
    }
}
