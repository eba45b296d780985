//! What a locked volume tells without any key: its format, method, state, and protectors
//! with their IDs, as `detect` shows them. Nothing here is secret: Windows itself shows the
//! IDs so that a technician can look the recovery key up.

use std::fmt;

use super::entry::{self, Entry};
use super::header::{Flavour, VolumeHeader};
use super::metadata::Metadata;

/// A GUID as BitLocker stores it (the first three fields little-endian).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The first 8 hex digits, as Windows shows a key ID ("Recovery key ID: 1A2B3C4D").
    pub fn short_id(&self) -> String {
        self.to_string()[..8].to_string()
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08X}-{:04X}-{:04X}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]])
        )?;
        b[8..10].iter().try_for_each(|x| write!(f, "{x:02X}"))?;
        f.write_str("-")?;
        b[10..].iter().try_for_each(|x| write!(f, "{x:02X}"))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{self}}}")
    }
}

/// Which Windows wrote the volume's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Windows Vista (metadata version 1).
    Vista,
    /// Windows 7's format (metadata version 2 with AES-CBC), which later Windows also write
    /// when told to use AES-CBC.
    Windows7,
    /// Windows 10 or later: XTS-AES, or encrypted on write ("used space only", Windows 8+).
    Windows10,
}

/// How the sectors are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Not encrypted (the volume was decrypted; its metadata remains).
    None,
    AesCbc128Diffuser,
    AesCbc256Diffuser,
    AesCbc128,
    AesCbc256,
    XtsAes128,
    XtsAes256,
    Unknown(u16),
}

impl Method {
    pub fn from_code(code: u16) -> Method {
        match code {
            0 => Method::None,
            0x8000 => Method::AesCbc128Diffuser,
            0x8001 => Method::AesCbc256Diffuser,
            0x8002 => Method::AesCbc128,
            0x8003 => Method::AesCbc256,
            0x8004 => Method::XtsAes128,
            0x8005 => Method::XtsAes256,
            other => Method::Unknown(other),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::None => f.write_str("none (decrypted)"),
            Method::AesCbc128Diffuser => f.write_str("AES-CBC 128-bit with Elephant diffuser"),
            Method::AesCbc256Diffuser => f.write_str("AES-CBC 256-bit with Elephant diffuser"),
            Method::AesCbc128 => f.write_str("AES-CBC 128-bit"),
            Method::AesCbc256 => f.write_str("AES-CBC 256-bit"),
            Method::XtsAes128 => f.write_str("XTS-AES 128-bit"),
            Method::XtsAes256 => f.write_str("XTS-AES 256-bit"),
            Method::Unknown(c) => write!(f, "unknown method 0x{c:04x}"),
        }
    }
}

/// Where a conversion is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    Encrypted,
    Decrypted,
}

/// The volume's encryption state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    FullyEncrypted,
    Decrypted,
    /// Being encrypted or decrypted, paused or interrupted: the first `encrypted_bytes` of
    /// the volume are encrypted, the rest is plain.
    PartlyEncrypted {
        toward: Toward,
        encrypted_bytes: u64,
    },
    /// A state code this reader does not know.
    Unknown(u16),
}

/// What a protector is: what the technician must give to open the volume with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectorKind {
    /// Protection suspended: the key is stored in the clear and used without asking.
    ClearKey,
    Tpm,
    TpmAndPin,
    TpmAndStartupKey,
    TpmAndPinAndStartupKey,
    /// A startup key or recovery key file (`{ID}.BEK`, on a USB stick or saved).
    StartupKey,
    /// The 48-digit recovery password (what Windows calls the recovery key).
    RecoveryPassword,
    /// A password (typical on removable drives).
    Password,
    /// Another kind (certificates, network unlock...), by its code.
    Other(u16),
}

impl ProtectorKind {
    fn from_code(code: u16) -> ProtectorKind {
        match code & 0xff00 {
            0x0000 => ProtectorKind::ClearKey,
            0x0100 => ProtectorKind::Tpm,
            0x0200 => ProtectorKind::StartupKey,
            0x0300 => ProtectorKind::TpmAndStartupKey,
            0x0500 => ProtectorKind::TpmAndPin,
            0x0700 => ProtectorKind::TpmAndPinAndStartupKey,
            0x0800 => ProtectorKind::RecoveryPassword,
            0x2000 => ProtectorKind::Password,
            _ => ProtectorKind::Other(code),
        }
    }

    /// Whether the key lives in a TPM chip, out of reach off the machine.
    pub fn needs_tpm(self) -> bool {
        matches!(
            self,
            ProtectorKind::Tpm
                | ProtectorKind::TpmAndPin
                | ProtectorKind::TpmAndStartupKey
                | ProtectorKind::TpmAndPinAndStartupKey
        )
    }
}

impl fmt::Display for ProtectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ProtectorKind::ClearKey => "clear key (protection suspended)",
            ProtectorKind::Tpm => "TPM",
            ProtectorKind::TpmAndPin => "TPM and PIN",
            ProtectorKind::TpmAndStartupKey => "TPM and startup key",
            ProtectorKind::TpmAndPinAndStartupKey => "TPM, PIN and startup key",
            ProtectorKind::StartupKey => "startup or recovery key file (.BEK)",
            ProtectorKind::RecoveryPassword => "recovery password (48 digits)",
            ProtectorKind::Password => "password",
            ProtectorKind::Other(c) => return write!(f, "protector of kind 0x{c:04x}"),
        };
        f.write_str(s)
    }
}

/// One key protector (a VMK entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protector {
    pub kind: ProtectorKind,
    pub id: Guid,
    /// The name stored with it, if any ("DiskPassword", "ExternalKey").
    pub name: Option<String>,
}

/// What `detect` shows of a BitLocker volume before it is unlocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub version: Version,
    /// BitLocker To Go (a FAT volume readable by older Windows).
    pub to_go: bool,
    pub method: Method,
    pub state: State,
    /// Encrypted on write ("used space only"): bitmaps tell encrypted chunks from plain.
    pub used_space_only: bool,
    pub volume_id: Guid,
    /// "DESKTOP-1 C: 10/8/2021": computer, drive and date when BitLocker was turned on.
    pub description: Option<String>,
    pub sector_size: u32,
    pub protectors: Vec<Protector>,
}

impl Info {
    /// Protection suspended: a clear key opens the volume without any key given.
    pub fn suspended(&self) -> bool {
        self.protectors
            .iter()
            .any(|p| p.kind == ProtectorKind::ClearKey)
    }

    /// The recovery passwords' IDs, as Windows shows them, to look the key up.
    pub fn recovery_ids(&self) -> Vec<Guid> {
        self.protectors
            .iter()
            .filter(|p| p.kind == ProtectorKind::RecoveryPassword)
            .map(|p| p.id)
            .collect()
    }

    pub(crate) fn from_metadata(header: &VolumeHeader, m: &Metadata) -> Info {
        let method = Method::from_code(m.method);
        let used_space_only = header.eow.is_some();
        let version = match m.version {
            1 => Version::Vista,
            _ if used_space_only || matches!(method, Method::XtsAes128 | Method::XtsAes256) => {
                Version::Windows10
            }
            _ => Version::Windows7,
        };
        Info {
            version,
            to_go: header.flavour == Flavour::ToGo,
            method,
            state: state_of(m),
            used_space_only,
            volume_id: Guid(m.volume_guid),
            description: m
                .find(entry::ROLE_DESCRIPTION, entry::VALUE_UNICODE)
                .next()
                .map(|e| e.text()),
            sector_size: header.sector_size,
            protectors: m
                .find(entry::ROLE_VMK, entry::VALUE_VMK)
                .filter_map(|e| protector(&e))
                .collect(),
        }
    }
}

/// Metadata state codes (`FVE_STATE` in Windows' own names, as dissect.fve reads them).
pub(crate) const STATE_DECRYPTED: u16 = 1;
pub(crate) const STATE_ENCRYPTED: u16 = 4;

fn state_of(m: &Metadata) -> State {
    match m.state {
        STATE_DECRYPTED => State::Decrypted,
        STATE_ENCRYPTED => State::FullyEncrypted,
        2 | 3 | 5 => State::PartlyEncrypted {
            toward: if m.next_state == STATE_DECRYPTED {
                Toward::Decrypted
            } else {
                Toward::Encrypted
            },
            encrypted_bytes: m.encrypted_size,
        },
        other => State::Unknown(other),
    }
}

/// A VMK entry's protector: `guid[16], filetime u64, unknown u16, protection u16`, then its
/// properties.
pub(crate) const VMK_FIELDS: usize = 28;

impl Protector {
    /// The kind of a VMK entry's protector.
    pub(crate) fn kind_of_entry(e: &Entry<'_>) -> Option<ProtectorKind> {
        crate::le::u16_at(e.data, 26).map(ProtectorKind::from_code)
    }
}

fn protector(e: &Entry<'_>) -> Option<Protector> {
    let id = Guid(e.data.get(..16)?.try_into().ok()?);
    Some(Protector {
        kind: Protector::kind_of_entry(e)?,
        id,
        name: e
            .property(VMK_FIELDS, entry::VALUE_UNICODE)
            .map(|s| s.text()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_read_as_windows_shows_them() {
        // 3c116b76-c67b-484e-b439-ce2ed68b561e as stored.
        let g = Guid([
            0x76, 0x6b, 0x11, 0x3c, 0x7b, 0xc6, 0x4e, 0x48, 0xb4, 0x39, 0xce, 0x2e, 0xd6, 0x8b,
            0x56, 0x1e,
        ]);
        assert_eq!(g.to_string(), "3C116B76-C67B-484E-B439-CE2ED68B561E");
        assert_eq!(g.short_id(), "3C116B76");
    }
}
