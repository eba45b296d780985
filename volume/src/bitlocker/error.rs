//! Why a BitLocker volume cannot be read: one variant per case a caller decides on (ask for
//! a key, say the TPM holds it, report damage). Messages name the volume and, for a locked
//! one, its protectors and key IDs; never a key.

use std::fmt;

use super::info::{Guid, Protector};
use super::metadata::CopyProblem;
use crate::block::BlockError;

#[derive(Debug, thiserror::Error)]
pub enum BitLockerError {
    #[error(transparent)]
    Read(#[from] BlockError),
    /// `unlock` was given a volume that is not BitLocker's.
    #[error("{name}: not a BitLocker volume")]
    NotBitLocker { name: String },
    /// The volume header says BitLocker but cannot be used.
    #[error("{name}: BitLocker volume header: {what}")]
    Header { name: String, what: &'static str },
    /// No copy of the FVE metadata can be used; each copy's problem is listed.
    #[error("{name}: no usable copy of the BitLocker metadata ({}); the volume is damaged", Problems(.problems))]
    Metadata {
        name: String,
        problems: Vec<CopyProblem>,
    },
    /// A method or state this reader does not handle.
    #[error("{name}: {what}")]
    Unsupported { name: String, what: String },
    /// The volume is being converted and its metadata does not say which part is
    /// encrypted: reading it could give garbage.
    #[error("{name}: the volume is partly encrypted (state {state}) and its metadata does not say which part; finish or reverse the conversion in Windows first")]
    PartlyEncryptedUnknown { name: String, state: u16 },
    /// Locked, and no key was given.
    #[error("{name}: BitLocker-locked; give --recovery-password KEY (48 digits), --bitlocker-password or --startup-key FILE.BEK. Protectors: {}", ProtectorList(.protectors))]
    NoKey {
        name: String,
        protectors: Vec<Protector>,
    },
    /// Locked by the machine's TPM, and no key was given.
    #[error("{name}: BitLocker-locked by the TPM: the key lives in the old machine's TPM chip; give the recovery key (48 digits), found in the Microsoft account, Entra ID or Active Directory, with its key ID {}", Ids(.recovery_ids))]
    TpmOnly {
        name: String,
        recovery_ids: Vec<Guid>,
    },
    /// None of the keys given is of a kind the volume has a protector for.
    #[error("{name}: none of the keys given fits this volume's protectors: {}", ProtectorList(.protectors))]
    NoMatchingProtector {
        name: String,
        protectors: Vec<Protector>,
    },
    /// The keys given do not open the volume, or what they open is not a file system.
    #[error("{name}: wrong key or damaged volume ({why})")]
    WrongKey { name: String, why: WrongKeyWhy },
}

/// What told a wrong key (or damage) apart from the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongKeyWhy {
    /// No key given opens any protector of its kind (AES-CCM's tag does not match).
    NoProtectorOpens,
    /// The decrypted boot sector is neither NTFS nor FAT.
    NotAFileSystem,
    /// The decrypted boot sector is NTFS but `$MFT` record 0 does not begin with FILE.
    NoMft,
}

impl fmt::Display for WrongKeyWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WrongKeyWhy::NoProtectorOpens => "no key given opens a protector of its kind",
            WrongKeyWhy::NotAFileSystem => "the decrypted boot sector is neither NTFS nor FAT",
            WrongKeyWhy::NoMft => "the decrypted $MFT does not begin with FILE",
        })
    }
}

struct Problems<'a>(&'a [CopyProblem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

struct ProtectorList<'a>(&'a [Protector]);

impl fmt::Display for ProtectorList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} (ID {}, {})", p.kind, p.id.short_id(), p.id)?;
        }
        Ok(())
    }
}

struct Ids<'a>(&'a [Guid]);

impl fmt::Display for Ids<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(none stored: the volume has no recovery password)");
        }
        for (i, g) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            write!(f, "{} ({g})", g.short_id())?;
        }
        Ok(())
    }
}
