//! BitLocker: a locked volume read with the key a technician has, read-only, beneath any
//! operating system's driver.
//!
//! - [`probe`] tells, without a key, whether a volume is BitLocker's, and what `detect`
//!   shows of it: format (Vista, 7, 10+, To Go), method, state, protectors with their IDs.
//! - [`unlock`] opens it with the [`Keys`] given (every protector of a key's kind is tried,
//!   and the clear key of a suspended volume needs none), and returns [`Unlocked`], a
//!   [`BlockSource`](crate::block::BlockSource) that reads the plain volume: the sectors
//!   decrypted (AES-CBC 128/256 with or without the Elephant diffuser, XTS-AES 128/256;
//!   sectors of 512 B to 4 KiB), the metadata areas as zeros, the relocated first sectors
//!   back in place, partly encrypted and encrypted-on-write volumes read per their metadata.
//!
//! What it promises:
//! - **Plaintext or an error, never garbage.** A key opens a protector only when AES-CCM's
//!   tag matches; the metadata copy used is confirmed by its sealed SHA-256 once the VMK is
//!   known; and the decrypted boot sector must be NTFS with `$MFT` record 0 beginning with
//!   `FILE`, or FAT, before [`unlock`] returns.
//! - **Every copy of the metadata is tried**: one whose CRC32 or sealed hash fails is
//!   passed over for the next; when none holds, the error names each copy and its damage.
//! - **Keys stay in memory, zeroized**: keys, VMK and FVEK live in `Zeroizing` buffers and
//!   AES key schedules that zeroize on drop; no `Debug`, `Display` or error shows one.
//! - **Hostile metadata is bounded**: every size, offset and count is checked against its
//!   container before use (`metadata`, `entry`, `eow`).
//! - **Refusals are variants, not messages**: a TPM-only volume, a missing or wrong key, a
//!   conversion whose extent is unknown, damaged metadata ([`BitLockerError`]).

mod crypt;
mod elephant;
mod entry;
mod eow;
mod error;
mod header;
mod info;
mod keys;
mod layout;
mod metadata;
mod reader;
mod unlock;

pub use error::{BitLockerError, WrongKeyWhy};
pub use info::{Guid, Info, Method, Protector, ProtectorKind, State, Toward, Version};
pub use keys::{
    BekError, Keys, Password, RecoveryPassword, RecoveryPasswordError, StartupKey, BEK_MAX,
};
pub use metadata::CopyProblem;
pub use reader::Unlocked;

use crate::block::{BlockSource, Source};
use info::STATE_DECRYPTED;
use metadata::Metadata;
use unlock::Volume;

/// What `detect` shows of a BitLocker volume, without a key; `None` when the volume is not
/// BitLocker's. An error when it is, but its header or every copy of its metadata is
/// damaged.
pub fn probe(src: &dyn BlockSource) -> Result<Option<Info>, BitLockerError> {
    Ok(Volume::open(src)?.map(|v| v.info()))
}

/// Opens a BitLocker volume with `keys` (or its clear key, when protection is suspended).
pub fn unlock(src: Source, keys: &Keys) -> Result<Unlocked, BitLockerError> {
    let name = src.name().to_string();
    let vol =
        Volume::open(&*src)?.ok_or_else(|| BitLockerError::NotBitLocker { name: name.clone() })?;
    let info = vol.info();
    let first = &vol.copies[0];
    // A decrypted volume (its metadata left behind) needs no key, whatever method it names.
    let (m, cipher) = if first.state == STATE_DECRYPTED {
        (first.clone(), None)
    } else {
        let (m, c) = open_with_keys(&name, &vol, &info, keys)?;
        (m, Some(c))
    };
    let layout = unlock::layout(&*src, &vol, &m)?;
    let vista_mirror = if m.version == 1 {
        m.relocated_offset
    } else {
        0
    };
    let unlocked = Unlocked::new(src, layout, cipher, info, vista_mirror, m.copy + 1);
    unlocked.verify()?;
    Ok(unlocked)
}

/// A copy's protectors (their bytes) and the VMK a key opened from them, if any.
type Tried = (Vec<u8>, Option<crypt::Key32>);

/// The first copy whose protectors a key opens and whose sealed hash the VMK confirms,
/// with the sector cipher from its FVEK. Copies whose protectors are the same bytes as one
/// tried already are not tried again (no second key stretch).
fn open_with_keys(
    name: &str,
    vol: &Volume,
    info: &Info,
    keys: &Keys,
) -> Result<(Metadata, crypt::SectorCipher), BitLockerError> {
    let mut problems = vol.problems.clone();
    let mut tried: Vec<Tried> = Vec::new();
    let mut key_error = None;
    for m in &vol.copies {
        let vmks = m.vmk_bytes();
        let vmk = match tried.iter().find(|(b, _)| *b == vmks) {
            Some((_, vmk)) => vmk.clone(),
            None => {
                let vmk = match unlock::find_vmk(name, m, info, keys) {
                    Ok(vmk) => Some(vmk),
                    Err(e) => {
                        key_error.get_or_insert(e);
                        None
                    }
                };
                tried.push((vmks, vmk.clone()));
                vmk
            }
        };
        let Some(vmk) = vmk else { continue };
        match unlock::open_copy(m, &vmk) {
            Ok(c) => return Ok((m.clone(), c)),
            Err(unlock::CopyFailure::Unsupported(method)) => {
                return Err(BitLockerError::Unsupported {
                    name: name.to_string(),
                    what: format!("BitLocker encryption method {method} is not known"),
                })
            }
            Err(unlock::CopyFailure::Damaged(what)) => problems.push(CopyProblem {
                copy: m.copy + 1,
                offset: m.offset,
                what,
            }),
        }
    }
    // No key opened any copy's protectors: that is the error; otherwise every copy it
    // opened is damaged.
    if let (Some(e), true) = (key_error, tried.iter().all(|(_, v)| v.is_none())) {
        return Err(e);
    }
    problems.sort_by_key(|p| p.copy);
    Err(BitLockerError::Metadata {
        name: name.to_string(),
        problems,
    })
}
