//! The machine type of a Windows PE image (EXE, DLL, SYS), read from its COFF header.

use std::path::Path;

pub mod version;

use serde::Serialize;

use crate::le::{u16_at, u32_at};

/// CPU architectures Lifeboat distinguishes, named as Windows does (`PROCESSOR_ARCHITECTURE`
/// aside, which says `AMD64` and `ARM64` in capitals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    X86,
    Amd64,
    Arm64,
    /// 32-bit ARM (Windows RT), Itanium and anything else: reported, never captured from.
    Other,
}

impl Arch {
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
            Arch::Other => "other",
        }
    }

    /// Bitness, for `MIG_OFFLINE_PLATFORM_ARCH`-style comparisons.
    pub fn bits(self) -> Option<u32> {
        match self {
            Arch::X86 => Some(32),
            Arch::Amd64 | Arch::Arm64 => Some(64),
            Arch::Other => None,
        }
    }

    /// From a COFF `Machine` field.
    pub fn from_machine(machine: u16) -> Arch {
        match machine {
            0x014c => Arch::X86,
            0x8664 => Arch::Amd64,
            0xaa64 => Arch::Arm64,
            _ => Arch::Other,
        }
    }

    /// From the registry's `PROCESSOR_ARCHITECTURE` value (`x86`, `AMD64`, `ARM64`, `IA64`).
    pub fn from_processor_architecture(s: &str) -> Arch {
        match s.trim().to_ascii_lowercase().as_str() {
            "x86" => Arch::X86,
            "amd64" | "x64" => Arch::Amd64,
            "arm64" => Arch::Arm64,
            _ => Arch::Other,
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeError {
    /// Not a regular file, or unreadable (see [`crate::fsread`]).
    #[error(transparent)]
    Read(#[from] crate::fsread::ReadError),
    #[error("{path} is not a Windows executable: {reason}")]
    NotPe { path: String, reason: &'static str },
}

/// The COFF `Machine` field of the PE image in `bytes` (only its first kilobytes are needed).
pub fn machine_of(bytes: &[u8]) -> Result<u16, &'static str> {
    if bytes.len() < 0x40 || &bytes[..2] != b"MZ" {
        return Err("no 'MZ' header");
    }
    let pe = u32_at(bytes, 0x3c).ok_or("no 'MZ' header")? as usize;
    let sig = pe
        .checked_add(4)
        .and_then(|end| bytes.get(pe..end))
        .ok_or("PE header offset points outside the file")?;
    if sig != b"PE\0\0" {
        return Err("no 'PE' signature where the DOS header points");
    }
    u16_at(bytes, pe + 4).ok_or("truncated COFF header")
}

/// Architecture of the PE file at `path` (a regular file; only its head is read).
pub fn arch_of_file(path: &Path) -> Result<Arch, PeError> {
    let head = crate::fsread::read_head(path, crate::limits::PE_HEAD_BYTES)?;
    machine_of(&head)
        .map(Arch::from_machine)
        .map_err(|reason| PeError::NotPe {
            path: path.display().to_string(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stub(machine: u16) -> Vec<u8> {
        let mut b = vec![0u8; 0x200];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        b[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
        b
    }

    #[test]
    fn reads_machine_types() {
        assert_eq!(
            machine_of(&stub(0x8664)).map(Arch::from_machine),
            Ok(Arch::Amd64)
        );
        assert_eq!(
            machine_of(&stub(0x14c)).map(Arch::from_machine),
            Ok(Arch::X86)
        );
        assert_eq!(
            machine_of(&stub(0xaa64)).map(Arch::from_machine),
            Ok(Arch::Arm64)
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(machine_of(b"").is_err());
        assert!(machine_of(&[0u8; 100]).is_err());
        let mut b = stub(0x8664);
        b[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(machine_of(&b).is_err());
        b.truncate(0x82);
        b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        assert!(machine_of(&b).is_err());
    }
}
