//! A BitLocker writer for test fixtures: it encrypts a plain volume image (an `mkntfs`
//! volume, or any image) into a BitLocker volume as Windows 10 lays one out, for each
//! method, protector and sector size.
//!
//! ```ignore
//! let spec = Spec::new(Method::XtsAes128, 512).protect(Protector::recovery_password(1));
//! let volume = bitlocker::encrypt_file(&plain, &out, &spec)?;
//! // volume.keys: the recovery password / password / .BEK bytes to give back.
//! ```
//!
//! The layout: the first 16 sectors are stored, encrypted, in a relocation area; sector 0
//! gets the `-FVE-FS-` volume header with BitLocker's GUID and the three metadata offsets
//! (at 160; at 424 and `MSWIN4.1` for To Go); three 64 KiB metadata copies hold a version-2
//! block header, the dataset (virtualization entry, description, one VMK entry per
//! protector, the FVEK sealed with the VMK) and the validation record (CRC32, and the
//! SHA-256 sealed with the VMK). Every other sector is encrypted in place.
//!
//! It shares no code with `lifeboat_volume::bitlocker`: its encryption (the Elephant
//! diffuser written from Ferguson's paper, XTS by the `xts-mode` crate, the key stretch,
//! the AES-CCM sealing) is checked by the independent readers (`dislocker-file`,
//! `cryptsetup bitlkDump`, libbde, dissect.fve) in `tests/bitlocker.rs`.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use aes::{Aes128, Aes256};
use ccm::aead::AeadInPlace;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    AesCbc128Diffuser,
    AesCbc256Diffuser,
    AesCbc128,
    AesCbc256,
    XtsAes128,
    XtsAes256,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::AesCbc128Diffuser,
        Method::AesCbc256Diffuser,
        Method::AesCbc128,
        Method::AesCbc256,
        Method::XtsAes128,
        Method::XtsAes256,
    ];

    pub fn code(self) -> u16 {
        match self {
            Method::AesCbc128Diffuser => 0x8000,
            Method::AesCbc256Diffuser => 0x8001,
            Method::AesCbc128 => 0x8002,
            Method::AesCbc256 => 0x8003,
            Method::XtsAes128 => 0x8004,
            Method::XtsAes256 => 0x8005,
        }
    }

    /// Bytes of key data in the FVEK entry: 16 or 32; 64 with the diffuser (FVEK and tweak
    /// key in 32-byte halves) and for XTS-256; 32 for XTS-128.
    fn key_len(self) -> usize {
        match self {
            Method::AesCbc128 => 16,
            Method::AesCbc256 | Method::XtsAes128 => 32,
            _ => 64,
        }
    }
}

/// A key protector to write, with what opens it.
#[derive(Debug, Clone)]
pub enum Protector {
    /// 48 digits in 8 dash-separated groups.
    RecoveryPassword(String),
    Password(String),
    /// A startup/recovery key file: its ID and 256-bit key.
    StartupKey {
        id: [u8; 16],
        key: [u8; 32],
    },
    /// Protection suspended.
    ClearKey,
    /// A TPM protector (its blob is random: nothing off the machine opens it).
    Tpm,
}

impl Protector {
    /// A valid recovery password drawn from `seed`.
    pub fn recovery_password(seed: u64) -> Protector {
        let mut r = Rng(seed ^ 0x5eed);
        let groups: Vec<String> = (0..8)
            .map(|_| format!("{:06}", (r.draw() as u32 & 0xffff) * 11))
            .collect();
        Protector::RecoveryPassword(groups.join("-"))
    }

    pub fn startup_key(seed: u64) -> Protector {
        let mut r = Rng(seed ^ 0xbe4);
        Protector::StartupKey {
            id: r.bytes(),
            key: r.bytes(),
        }
    }
}

/// What to write.
#[derive(Debug, Clone)]
pub struct Spec {
    pub method: Method,
    pub sector: u32,
    pub protectors: Vec<Protector>,
    /// BitLocker To Go: `MSWIN4.1` and the GUID at 424.
    pub to_go: bool,
    pub description: String,
    /// Where the metadata copies and the relocation area may go (free space of the plain
    /// volume; they read back as zeros). Default: the last MiB before the final 64 KiB.
    pub free: Option<Range<u64>>,
    pub seed: u64,
}

impl Spec {
    pub fn new(method: Method, sector: u32) -> Spec {
        Spec {
            method,
            sector,
            protectors: Vec::new(),
            to_go: false,
            description: "LIFEBOAT-PC C: 12/7/2026".into(),
            free: None,
            seed: 1,
        }
    }

    pub fn protect(mut self, p: Protector) -> Spec {
        self.protectors.push(p);
        self
    }
}

/// What was written: where its areas lie, its keys, and the IDs of its protectors.
#[derive(Debug, Clone)]
pub struct Written {
    /// The three metadata copies, 64 KiB each.
    pub metadata: [Range<u64>; 3],
    /// The relocation area holding the first sectors.
    pub relocated: Range<u64>,
    pub volume_id: [u8; 16],
    /// Each protector's ID, in the order given.
    pub protector_ids: Vec<[u8; 16]>,
    pub fvek: Vec<u8>,
}

impl Written {
    /// Byte ranges that read as zeros on the plain volume.
    pub fn zeroed(&self) -> Vec<Range<u64>> {
        let mut v = self.metadata.to_vec();
        v.push(self.relocated.clone());
        v
    }
}

/// The relocated first sectors: 16, as Windows stores them.
const RELOCATED_SECTORS: u64 = 16;
const METADATA_AREA: u64 = 64 << 10;
/// 2026-12-07 as a FILETIME: fixed, so fixtures are reproducible.
const FILETIME: u64 = 134_095_000_000_000_000;

/// Encrypts the plain image at `plain` into `out` (a new file of the same size).
pub fn encrypt_file(plain: &Path, out: &Path, spec: &Spec) -> io::Result<Written> {
    let input = File::open(plain)?;
    let size = input.metadata()?.len();
    let s = u64::from(spec.sector);
    assert!(
        size % s == 0 && size >= 512 << 10,
        "a volume of whole sectors, 512 KiB or more"
    );
    let free = spec.free.clone().unwrap_or_else(|| {
        let end = size.saturating_sub(METADATA_AREA);
        end.saturating_sub(1 << 20)..end
    });
    let areas = place(free, s);
    let mut r = Rng(spec.seed);
    let volume_id: [u8; 16] = r.bytes();
    let fvek: Vec<u8> = (0..spec.method.key_len()).map(|_| r.draw() as u8).collect();
    let vmk: [u8; 32] = r.bytes();
    let cipher = SectorCipher::new(spec.method, &fvek);

    let output = File::create(out)?;
    output.set_len(size)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < size {
        let n = (size - at).min(buf.len() as u64) as usize;
        input.read_exact_at(&mut buf[..n], at)?;
        for (i, sector) in buf[..n].chunks_exact_mut(s as usize).enumerate() {
            cipher.encrypt(sector, at + i as u64 * s);
        }
        output.write_all_at(&buf[..n], at)?;
        at += n as u64;
    }
    // The first sectors, encrypted where they are stored.
    let mut first = vec![0u8; (RELOCATED_SECTORS * s) as usize];
    input.read_exact_at(&mut first, 0)?;
    let boot = first[..512].to_vec();
    for (i, sector) in first.chunks_exact_mut(s as usize).enumerate() {
        cipher.encrypt(sector, areas.relocated.start + i as u64 * s);
    }
    output.write_all_at(&first, areas.relocated.start)?;

    let mut m = MetadataWriter {
        spec,
        r: &mut r,
        vmk,
        nonce: 0,
        ids: Vec::new(),
    };
    let dataset = m.dataset(&volume_id, &fvek, &areas);
    for area in &areas.metadata {
        let block = m.block(&dataset, &areas, size);
        let mut whole = vec![0u8; METADATA_AREA as usize];
        whole[..block.len()].copy_from_slice(&block);
        output.write_all_at(&whole, area.start)?;
    }
    output.write_all_at(&volume_header(&boot, spec, &areas), 0)?;
    Ok(Written {
        metadata: areas.metadata.clone(),
        relocated: areas.relocated.clone(),
        volume_id,
        protector_ids: m.ids,
        fvek,
    })
}

struct Areas {
    metadata: [Range<u64>; 3],
    relocated: Range<u64>,
}

/// Three 64 KiB metadata areas and the relocation area, spread over `free`.
fn place(free: Range<u64>, s: u64) -> Areas {
    let align = METADATA_AREA.max(s);
    let step = (free.end - free.start) / 4 / align * align;
    assert!(
        step >= align,
        "the free range is too small for BitLocker's areas"
    );
    let start = free.start.div_ceil(align) * align;
    let area = |k: u64| start + k * step..start + k * step + METADATA_AREA;
    let reloc = start + 3 * step;
    Areas {
        metadata: [area(0), area(1), area(2)],
        relocated: reloc..reloc + RELOCATED_SECTORS * s,
    }
}

/// Sector 0: BitLocker's volume header, the plain boot sector's geometry kept.
fn volume_header(boot: &[u8], spec: &Spec, areas: &Areas) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..3].copy_from_slice(&[0xeb, 0x58, 0x90]);
    h[3..11].copy_from_slice(if spec.to_go { b"MSWIN4.1" } else { b"-FVE-FS-" });
    h[11..13].copy_from_slice(&(spec.sector as u16).to_le_bytes());
    h[13] = if boot[13].is_power_of_two() {
        boot[13]
    } else {
        8
    };
    h[21] = 0xf8;
    h[24..32].copy_from_slice(&boot[24..32]);
    let at = if spec.to_go { 424 } else { 160 };
    h[at..at + 16].copy_from_slice(&BITLOCKER_GUID);
    for (i, area) in areas.metadata.iter().enumerate() {
        h[at + 16 + 8 * i..at + 24 + 8 * i].copy_from_slice(&area.start.to_le_bytes());
    }
    h[510..].copy_from_slice(&[0x55, 0xaa]);
    h
}

const BITLOCKER_GUID: [u8; 16] = [
    0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01,
];

struct MetadataWriter<'a> {
    spec: &'a Spec,
    r: &'a mut Rng,
    vmk: [u8; 32],
    nonce: u32,
    ids: Vec<[u8; 16]>,
}

impl MetadataWriter<'_> {
    /// AES-CCM: nonce (FILETIME, counter), tag, ciphertext of a key entry.
    fn seal(&mut self, key: &[u8; 32], method: u16, data: &[u8]) -> Vec<u8> {
        self.nonce += 1;
        let mut nonce = FILETIME.to_le_bytes().to_vec();
        nonce.extend(self.nonce.to_le_bytes());
        let mut plain = key_entry(method, data);
        let tag = ccm::Ccm::<Aes256, ccm::consts::U16, ccm::consts::U12>::new(
            GenericArray::from_slice(key),
        )
        .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &[], &mut plain)
        .expect("AES-CCM seals any key entry");
        let mut v = nonce;
        v.extend(tag);
        v.extend(plain);
        entry(0, 5, &v)
    }

    fn dataset(&mut self, volume_id: &[u8; 16], fvek: &[u8], areas: &Areas) -> Vec<u8> {
        let s = u64::from(self.spec.sector);
        let mut entries = Vec::new();
        let mut virt = areas.relocated.start.to_le_bytes().to_vec();
        virt.extend((RELOCATED_SECTORS * s).to_le_bytes());
        entries.extend(entry(0x000f, 0x000f, &virt));
        entries.extend(entry(7, 2, &utf16z(&self.spec.description)));
        for p in self.spec.protectors.clone() {
            let id = match p {
                Protector::StartupKey { id, .. } => id,
                _ => self.r.bytes(),
            };
            self.ids.push(id);
            entries.extend(self.vmk_entry(&p, id));
        }
        let vmk = self.vmk;
        let sealed = self.seal(&vmk, self.spec.method.code(), fvek);
        entries.extend(with_role(3, sealed));
        let mut d = Vec::new();
        let len = (48 + entries.len()) as u32;
        d.extend(len.to_le_bytes());
        d.extend(1u32.to_le_bytes());
        d.extend(48u32.to_le_bytes());
        d.extend(len.to_le_bytes());
        d.extend(volume_id);
        d.extend((self.nonce + 100).to_le_bytes());
        d.extend(u32::from(self.spec.method.code()).to_le_bytes());
        d.extend(FILETIME.to_le_bytes());
        d.extend(entries);
        d
    }

    fn vmk_entry(&mut self, p: &Protector, id: [u8; 16]) -> Vec<u8> {
        let vmk = self.vmk;
        let (code, version, props) = match p {
            Protector::RecoveryPassword(text) => {
                let mut props = entry(0, 2, &utf16z("DiskPassword"));
                props.extend(self.stretched(&recovery_hash(text)));
                (0x0800, 1, props)
            }
            Protector::Password(text) => (0x2000, 1, self.stretched(&password_hash(text))),
            Protector::StartupKey { key, .. } => {
                let mut props = entry(0, 2, &utf16z("ExternalKey"));
                props.extend(self.seal(key, 0x2003, &vmk));
                (0x0200, 1, props)
            }
            Protector::ClearKey => {
                let clear: [u8; 32] = self.r.bytes();
                let mut props = entry(0, 1, &[&0x2000u32.to_le_bytes()[..], &clear].concat());
                props.extend(self.seal(&clear, 0x2003, &vmk));
                // Windows writes a suspended volume's clear-key VMK entry as version 3.
                (0x0000, 3, props)
            }
            Protector::Tpm => {
                let blob: Vec<u8> = (0..64).map(|_| self.r.draw() as u8).collect();
                let mut props = entry(0, 6, &[&0x0800_0000u32.to_le_bytes()[..], &blob].concat());
                let junk: [u8; 32] = self.r.bytes();
                props.extend(self.seal(&junk, 0x2003, &vmk));
                (0x0100, 1, props)
            }
        };
        let mut data = id.to_vec();
        data.extend(FILETIME.to_le_bytes());
        data.extend(0u16.to_le_bytes());
        data.extend((code as u16).to_le_bytes());
        data.extend(props);
        let mut e = entry(2, 8, &data);
        e[6..8].copy_from_slice(&(version as u16).to_le_bytes());
        e
    }

    /// A stretch-key entry (salt, and a sealed check as Windows writes) and the VMK sealed
    /// with the stretched key.
    fn stretched(&mut self, hash: &[u8; 32]) -> Vec<u8> {
        let salt: [u8; 16] = self.r.bytes();
        let key = stretch(hash, &salt);
        let mut sk = 0x1000u16.to_le_bytes().to_vec();
        sk.extend(0u16.to_le_bytes());
        sk.extend(salt);
        let check: [u8; 32] = self.r.bytes();
        sk.extend(self.seal(&key, 0x2000, &check));
        let mut v = entry(0, 3, &sk);
        let vmk = self.vmk;
        v.extend(self.seal(&key, 0x2003, &vmk));
        v
    }

    /// One copy: block header, dataset, validation (CRC32 and the sealed SHA-256).
    fn block(&mut self, dataset: &[u8], areas: &Areas, size: u64) -> Vec<u8> {
        let mut b = b"-FVE-FS-".to_vec();
        let len = (64 + dataset.len()).div_ceil(16) * 16;
        b.extend(((len >> 4) as u16).to_le_bytes());
        b.extend(2u16.to_le_bytes());
        b.extend(4u16.to_le_bytes());
        b.extend(4u16.to_le_bytes());
        b.extend(size.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend((RELOCATED_SECTORS as u32).to_le_bytes());
        for a in &areas.metadata {
            b.extend(a.start.to_le_bytes());
        }
        b.extend(areas.relocated.start.to_le_bytes());
        b.extend(dataset);
        b.resize(len, 0);
        let crc = crc32fast::hash(&b);
        let hash: [u8; 32] = Sha256::digest(&b).into();
        let vmk = self.vmk;
        let sealed = self.seal(&vmk, 0x2005, &hash);
        b.extend(((METADATA_AREA as usize - len) as u16).to_le_bytes());
        b.extend(2u16.to_le_bytes());
        b.extend(crc.to_le_bytes());
        b.extend(sealed);
        b
    }
}

/// An entry: size, role, value type, version 1, data.
fn entry(role: u16, value: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ((data.len() + 8) as u16).to_le_bytes().to_vec();
    v.extend(role.to_le_bytes());
    v.extend(value.to_le_bytes());
    v.extend(1u16.to_le_bytes());
    v.extend(data);
    v
}

fn with_role(role: u16, mut e: Vec<u8>) -> Vec<u8> {
    e[2..4].copy_from_slice(&role.to_le_bytes());
    e
}

fn key_entry(method: u16, key: &[u8]) -> Vec<u8> {
    entry(0, 1, &[&u32::from(method).to_le_bytes()[..], key].concat())
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A `.BEK` file for a startup key. `windows11`: with the description entry beside the key
/// that later Windows write, which makes the file longer than the classic 156 bytes.
pub fn bek_file(id: &[u8; 16], key: &[u8; 32], windows11: bool) -> Vec<u8> {
    let mut ext = id.to_vec();
    ext.extend(FILETIME.to_le_bytes());
    ext.extend(entry(0, 2, &utf16z("ExternalKey")));
    ext.extend(key_entry(0x2002, key));
    let mut entries = Vec::new();
    if windows11 {
        entries.extend(entry(7, 2, &utf16z("LIFEBOAT-PC D: 12/7/2026")));
    }
    entries.extend(entry(6, 9, &ext));
    let len = (48 + entries.len()) as u32;
    let mut f = len.to_le_bytes().to_vec();
    f.extend(1u32.to_le_bytes());
    f.extend(48u32.to_le_bytes());
    f.extend(len.to_le_bytes());
    f.extend(id);
    f.extend(1u32.to_le_bytes());
    f.extend(0u32.to_le_bytes());
    f.extend(FILETIME.to_le_bytes());
    f.extend(entries);
    f
}

/// SHA-256 of the 16-byte key a recovery password stands for.
fn recovery_hash(text: &str) -> [u8; 32] {
    let key: Vec<u8> = text
        .split('-')
        .flat_map(|g| ((g.parse::<u32>().expect("digits") / 11) as u16).to_le_bytes())
        .collect();
    Sha256::digest(&key).into()
}

fn password_hash(text: &str) -> [u8; 32] {
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    Sha256::digest(Sha256::digest(&utf16)).into()
}

/// 2^20 rounds of SHA-256 over (last hash, initial hash, salt, round): 88 bytes, hashed
/// as two padded blocks with SHA-256's compression function (fast in test builds too).
fn stretch(hash: &[u8; 32], salt: &[u8; 16]) -> [u8; 32] {
    let iv: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut b = [GenericArray::from([0u8; 64]); 2];
    b[0][32..].copy_from_slice(hash);
    b[1][..16].copy_from_slice(salt);
    b[1][24] = 0x80;
    b[1][56..].copy_from_slice(&704u64.to_be_bytes());
    for i in 0u64..1 << 20 {
        b[1][16..24].copy_from_slice(&i.to_le_bytes());
        let mut state = iv;
        sha2::compress256(&mut state, &b);
        for (j, w) in state.iter().enumerate() {
            b[0][4 * j..4 * j + 4].copy_from_slice(&w.to_be_bytes());
        }
    }
    b[0][..32].try_into().expect("32 bytes")
}

#[allow(clippy::large_enum_variant)] // one or two per volume written
enum Aes {
    A128(Aes128),
    A256(Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> Aes {
        match key.len() {
            16 => Aes::A128(Aes128::new_from_slice(key).expect("16-byte key")),
            _ => Aes::A256(Aes256::new_from_slice(key).expect("32-byte key")),
        }
    }
    fn ecb(&self, block: [u8; 16]) -> [u8; 16] {
        let mut b = GenericArray::from(block);
        match self {
            Aes::A128(c) => c.encrypt_block(&mut b),
            Aes::A256(c) => c.encrypt_block(&mut b),
        }
        b.into()
    }
}

enum SectorCipher {
    Cbc(Vec<u8>, Aes, Option<Aes>),
    Xts128(xts_mode::Xts128<Aes128>),
    Xts256(xts_mode::Xts128<Aes256>),
}

impl SectorCipher {
    fn new(method: Method, key: &[u8]) -> SectorCipher {
        let half = |k: &[u8]| k.to_vec();
        match method {
            Method::AesCbc128 => SectorCipher::Cbc(half(&key[..16]), Aes::new(&key[..16]), None),
            Method::AesCbc256 => SectorCipher::Cbc(half(&key[..32]), Aes::new(&key[..32]), None),
            Method::AesCbc128Diffuser => SectorCipher::Cbc(
                half(&key[..16]),
                Aes::new(&key[..16]),
                Some(Aes::new(&key[32..48])),
            ),
            Method::AesCbc256Diffuser => SectorCipher::Cbc(
                half(&key[..32]),
                Aes::new(&key[..32]),
                Some(Aes::new(&key[32..64])),
            ),
            Method::XtsAes128 => SectorCipher::Xts128(xts_mode::Xts128::new(
                Aes128::new_from_slice(&key[..16]).expect("key"),
                Aes128::new_from_slice(&key[16..32]).expect("key"),
            )),
            Method::XtsAes256 => SectorCipher::Xts256(xts_mode::Xts128::new(
                Aes256::new_from_slice(&key[..32]).expect("key"),
                Aes256::new_from_slice(&key[32..64]).expect("key"),
            )),
        }
    }

    fn encrypt(&self, sector: &mut [u8], at: u64) {
        let n = sector.len() as u64;
        let le = |v: u64| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&v.to_le_bytes());
            b
        };
        match self {
            SectorCipher::Xts128(x) => x.encrypt_sector(sector, le(at / n)),
            SectorCipher::Xts256(x) => x.encrypt_sector(sector, le(at / n)),
            SectorCipher::Cbc(key, fvek, tweak) => {
                if let Some(tweak) = tweak {
                    let mut hi = le(at);
                    hi[15] = 0x80;
                    let sector_key = [tweak.ecb(le(at)), tweak.ecb(hi)].concat();
                    diffuse(sector, &sector_key);
                }
                let iv = fvek.ecb(le(at));
                let len = sector.len();
                match key.len() {
                    16 => cbc::Encryptor::<Aes128>::new_from_slices(key, &iv)
                        .expect("key")
                        .encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(sector, len)
                        .map(|_| ()),
                    _ => cbc::Encryptor::<Aes256>::new_from_slices(key, &iv)
                        .expect("key")
                        .encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(sector, len)
                        .map(|_| ()),
                }
                .expect("whole blocks");
            }
        }
    }
}

/// Ferguson's encryption side: XOR the sector key, diffuser A (5 cycles), diffuser B (3
/// cycles), each cycle from the last 32-bit word down to the first.
fn diffuse(sector: &mut [u8], key: &[u8]) {
    let n = sector.len() / 4;
    let mut d: Vec<u32> = sector
        .chunks_exact(4)
        .enumerate()
        .map(|(i, w)| {
            let k = &key[(4 * i) % 32..];
            u32::from_le_bytes([w[0] ^ k[0], w[1] ^ k[1], w[2] ^ k[2], w[3] ^ k[3]])
        })
        .collect();
    let (ra, rb) = ([9u32, 0, 13, 0], [0u32, 10, 0, 25]);
    for _ in 0..5 {
        for i in (0..n).rev() {
            let x = d[(i + n - 2) % n] ^ d[(i + n - 5) % n].rotate_left(ra[i % 4]);
            d[i] = d[i].wrapping_sub(x);
        }
    }
    for _ in 0..3 {
        for i in (0..n).rev() {
            let x = d[(i + 2) % n] ^ d[(i + 5) % n].rotate_left(rb[i % 4]);
            d[i] = d[i].wrapping_sub(x);
        }
    }
    for (w, out) in d.iter().zip(sector.chunks_exact_mut(4)) {
        out.copy_from_slice(&w.to_le_bytes());
    }
}

/// splitmix64: reproducible keys, salts and IDs from a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn draw(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.draw() as u8)
    }
}
