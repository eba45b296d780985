//! Opening a volume: the protectors tried with the keys given (the clear key of a suspended
//! volume first), the VMK checked against the metadata's sealed SHA-256, the FVEK unsealed,
//! and the result checked to be a file system before anything is handed out.

use super::crypt::{self, Key32, SectorCipher};
use super::entry::{self, Entry};
use super::eow::Eow;
use super::error::{BitLockerError, WrongKeyWhy};
use super::header::{self, Flavour, VolumeHeader};
use super::info::{self, Info, Method, ProtectorKind, VMK_FIELDS};
use super::keys::Keys;
use super::layout::{Encrypted, Layout};
use super::metadata::{self, CopyProblem, Metadata};
use crate::block::{BlockError, BlockSource};
use sha2::{Digest, Sha256};

/// A BitLocker volume's header and its usable metadata copies.
pub(crate) struct Volume {
    pub header: VolumeHeader,
    pub copies: Vec<Metadata>,
    pub problems: Vec<CopyProblem>,
}

impl Volume {
    /// `None` when the volume is not BitLocker's.
    pub fn open(src: &dyn BlockSource) -> Result<Option<Volume>, BitLockerError> {
        let mut boot = [0u8; 512];
        match src.read_at(0, &mut boot) {
            Ok(()) => {}
            Err(BlockError::OutOfRange { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let header = match header::parse(&boot) {
            None => return Ok(None),
            Some(h) => h.map_err(|e| BitLockerError::Header {
                name: src.name().to_string(),
                what: e.what(),
            })?,
        };
        let (copies, problems) = metadata::read_all(src, &header);
        if copies.is_empty() {
            return Err(BitLockerError::Metadata {
                name: src.name().to_string(),
                problems,
            });
        }
        Ok(Some(Volume {
            header,
            copies,
            problems,
        }))
    }

    pub fn info(&self) -> Info {
        Info::from_metadata(&self.header, &self.copies[0])
    }
}

/// The VMK, from the first protector a key opens.
pub(crate) fn find_vmk(
    name: &str,
    m: &Metadata,
    info: &Info,
    keys: &Keys,
) -> Result<Key32, BitLockerError> {
    let vmks: Vec<(ProtectorKind, Entry<'_>)> = m
        .find(entry::ROLE_VMK, entry::VALUE_VMK)
        .filter_map(|e| Some((kind_of(&e)?, e)))
        .collect();
    let of = |k: ProtectorKind| {
        vmks.iter()
            .filter(move |(kind, _)| *kind == k)
            .map(|(_, e)| e)
    };
    let open = |e: &Entry<'_>, key: &[u8; 32]| {
        crypt::unseal_key32(key, &e.property(VMK_FIELDS, entry::VALUE_AES_CCM)?)
    };

    // The clear key of a suspended volume.
    for e in of(ProtectorKind::ClearKey) {
        let clear = e.property(VMK_FIELDS, entry::VALUE_KEY);
        let key = clear.and_then(|k| entry::key_of(&k)?.1.get(..32)?.try_into().ok());
        if let Some(vmk) = key.and_then(|k: [u8; 32]| open(e, &k)) {
            return Ok(vmk);
        }
    }
    let mut fitting = false;
    for sk in &keys.startup {
        for e in of(ProtectorKind::StartupKey).filter(|e| e.data.get(..16) == Some(&sk.id.0[..])) {
            fitting = true;
            if let Some(vmk) = open(e, &sk.key) {
                return Ok(vmk);
            }
        }
    }
    let stretched = [
        (
            ProtectorKind::RecoveryPassword,
            keys.recovery.iter().map(|r| &r.hash).collect::<Vec<_>>(),
        ),
        (
            ProtectorKind::Password,
            keys.passwords.iter().map(|p| &p.hash).collect(),
        ),
    ];
    for (kind, hashes) in stretched {
        for e in of(kind) {
            let Some(salt) = salt_of(e) else { continue };
            for hash in &hashes {
                fitting = true;
                if let Some(vmk) = open(e, &crypt::stretch(hash, &salt)) {
                    return Ok(vmk);
                }
            }
        }
    }
    let name = name.to_string();
    Err(if fitting {
        BitLockerError::WrongKey {
            name,
            why: WrongKeyWhy::NoProtectorOpens,
        }
    } else if keys.is_empty() && info.protectors.iter().any(|p| p.kind.needs_tpm()) {
        BitLockerError::TpmOnly {
            name,
            recovery_ids: info.recovery_ids(),
        }
    } else if keys.is_empty() {
        BitLockerError::NoKey {
            name,
            protectors: info.protectors.clone(),
        }
    } else {
        BitLockerError::NoMatchingProtector {
            name,
            protectors: info.protectors.clone(),
        }
    })
}

fn kind_of(e: &Entry<'_>) -> Option<ProtectorKind> {
    info::Protector::kind_of_entry(e)
}

/// The salt of a password's or recovery password's stretch key: `method u16, flags u16,
/// salt[16]`.
fn salt_of(vmk: &Entry<'_>) -> Option<[u8; 16]> {
    let s = vmk.property(VMK_FIELDS, entry::VALUE_STRETCH_KEY)?;
    s.data.get(4..20)?.try_into().ok()
}

/// Why a copy cannot be used with the VMK.
pub(crate) enum CopyFailure {
    /// Damaged: its sealed SHA-256 or its FVEK entry fails.
    Damaged(String),
    /// Authentic, but its method is one this reader does not know.
    Unsupported(Method),
}

/// Checks a copy with the VMK (its sealed SHA-256) and unseals its FVEK.
pub(crate) fn open_copy(m: &Metadata, vmk: &[u8; 32]) -> Result<SectorCipher, CopyFailure> {
    let damaged = |s: &str| CopyFailure::Damaged(s.to_string());
    if let Some(sealed) = &m.sealed_hash {
        let e = entry::Entries::new(sealed).next().and_then(Result::ok);
        let hash = e.and_then(|e| crypt::unseal(vmk, &e));
        let good = hash.is_some_and(|(_, h)| h.get(..32) == Some(&Sha256::digest(&m.bytes)[..]));
        // Vista's copies carry the record but it does not seal this hash; only Windows 7
        // and later are held to it.
        if !good && m.version >= 2 {
            return Err(damaged(
                "its authenticated check (the sealed SHA-256) fails",
            ));
        }
    }
    let method = Method::from_code(m.method);
    if let Method::Unknown(_) = method {
        return Err(CopyFailure::Unsupported(method));
    }
    let fvek = m
        .find(entry::ROLE_FVEK, entry::VALUE_AES_CCM)
        .next()
        .ok_or(damaged("it has no volume key (FVEK) entry"))?;
    let (_, key) =
        crypt::unseal(vmk, &fvek).ok_or(damaged("the VMK does not open its volume key"))?;
    SectorCipher::new(method, &key)
        .ok_or_else(|| CopyFailure::Damaged(format!("its volume key does not fit {method}")))
}

/// The map of the plain volume from a copy of the metadata.
pub(crate) fn layout(
    src: &dyn BlockSource,
    v: &Volume,
    m: &Metadata,
) -> Result<Layout, BitLockerError> {
    let h = &v.header;
    let s = u64::from(h.sector_size);
    let name = || src.name().to_string();
    let mut zeros: Vec<_> = m
        .copies
        .iter()
        .filter(|&&c| c != 0)
        .map(|&c| c..c.saturating_add(m.reserved_len(h)))
        .collect();
    let mut relocated = None;
    if m.version >= 2 {
        let n = u64::from(m.relocated_sectors.max(1)) * s;
        zeros.push(m.relocated_offset..m.relocated_offset.saturating_add(n));
        if m.relocated_sectors > 0 {
            relocated = Some((u64::from(m.relocated_sectors) * s, m.relocated_offset));
        }
    }
    let eow = match h.eow {
        Some(offsets) => {
            Some(
                Eow::read(src, offsets, s).map_err(|what| BitLockerError::Unsupported {
                    name: name(),
                    what: format!("encrypted on write, and its bitmaps cannot be read: {what}"),
                })?,
            )
        }
        None => None,
    };
    if let Some(eow) = &eow {
        zeros.extend(eow.reserved.iter().cloned());
    }
    let encrypted = match (m.state, eow) {
        (info::STATE_DECRYPTED, _) => Encrypted::Nothing,
        (_, Some(eow)) => Encrypted::Eow(eow),
        (info::STATE_ENCRYPTED, None) => Encrypted::Everything,
        (2 | 3 | 5, None) if m.encrypted_size > 0 => {
            if m.state == 2 && m.state_size > 0 {
                let at = m.encrypted_size;
                zeros.push(at..at.saturating_add(u64::from(m.state_size)));
            }
            Encrypted::Below(m.encrypted_size)
        }
        (state, None) => {
            return Err(BitLockerError::PartlyEncryptedUnknown {
                name: name(),
                state,
            })
        }
    };
    Ok(Layout::new(
        s,
        zeros,
        relocated,
        h.flavour == Flavour::Vista,
        encrypted,
    ))
}
