//! The one PE header reader (Microsoft's "PE Format": DOS header → `PE\0\0` → COFF header →
//! optional header → data directories → section table). The agent reads a kernel's machine
//! type and a program's version resource through it, the media builder an agent's machine
//! type and imports. Every field is read with a bounded reader: a header that points outside
//! the bytes given is an error with the reason, never a panic.

use std::path::Path;

use lifeboat_volume::le::{u16_at, u32_at};
use serde::Serialize;

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

/// Data directory 1: the import directory table.
pub const DIR_IMPORT: usize = 1;
/// Data directory 2: the resource directory.
pub const DIR_RESOURCE: usize = 2;
/// Sections in one image: the PE format allows at most 96.
const MAX_SECTIONS: u16 = 96;
/// Data directories in an optional header: the PE format defines 16.
const MAX_DIRECTORIES: u32 = 16;

/// Offset of the COFF header: where the DOS header's `e_lfanew` points, past `PE\0\0`.
fn coff_header(head: &[u8]) -> Result<usize, &'static str> {
    if head.len() < 0x40 || head.get(..2) != Some(b"MZ") {
        return Err("no 'MZ' header");
    }
    let pe = u32_at(head, 0x3c).ok_or("no 'MZ' header")? as usize;
    let sig = pe
        .checked_add(4)
        .and_then(|end| head.get(pe..end))
        .ok_or("PE header offset points outside the file")?;
    if sig != b"PE\0\0" {
        return Err("no 'PE' signature where the DOS header points");
    }
    Ok(pe + 4)
}

/// The COFF `Machine` field of the PE image whose first bytes are `head` (the first
/// kilobytes are enough); the optional header is not read.
pub fn machine_of(head: &[u8]) -> Result<u16, &'static str> {
    u16_at(head, coff_header(head)?).ok_or("truncated COFF header")
}

/// A section's place in memory and in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub rva: u32,
    pub virtual_size: u32,
    pub raw_offset: u32,
    pub raw_size: u32,
}

/// What the headers of a PE image say: its machine, its data directories and its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    pub machine: u16,
    /// (RVA, size) of each data directory the optional header has room and a count for.
    pub directories: Vec<(u32, u32)>,
    pub sections: Vec<Section>,
}

impl Headers {
    /// Reads the headers from `head`, the image's first bytes: the section table must lie
    /// within them (64 KiB hold it for any real image).
    pub fn parse(head: &[u8]) -> Result<Headers, &'static str> {
        let coff = coff_header(head)?;
        let field16 = |at: usize| u16_at(head, at).ok_or("truncated COFF header");
        let machine = field16(coff)?;
        let count = field16(coff + 2)?;
        let opt_size = usize::from(field16(coff + 16)?);
        if count > MAX_SECTIONS {
            return Err("more sections than the PE format allows");
        }
        let opt = coff + 20;
        // Data directories start at 96 (PE32) or 112 (PE32+) bytes into the optional header,
        // right after NumberOfRvaAndSizes.
        let dirs = match u16_at(head, opt) {
            Some(0x10b) => opt + 96,
            Some(0x20b) => opt + 112,
            Some(_) => return Err("unknown optional header magic"),
            None => return Err("truncated optional header"),
        };
        let declared = u32_at(head, dirs - 4).ok_or("truncated optional header")?;
        let room = (opt + opt_size).saturating_sub(dirs) / 8;
        let n = declared.min(MAX_DIRECTORIES) as usize;
        let directories = (0..n.min(room))
            .map(|i| {
                let at = dirs + i * 8;
                Some((u32_at(head, at)?, u32_at(head, at + 4)?))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("truncated data directories")?;
        let table = opt + opt_size;
        let sections = (0..usize::from(count))
            .map(|i| {
                let s = table + i * 40;
                Some(Section {
                    virtual_size: u32_at(head, s + 8)?,
                    rva: u32_at(head, s + 12)?,
                    raw_size: u32_at(head, s + 16)?,
                    raw_offset: u32_at(head, s + 20)?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("truncated section table")?;
        Ok(Headers {
            machine,
            directories,
            sections,
        })
    }

    /// Data directory `index` as (RVA, size); `None` when the image has none there.
    pub fn directory(&self, index: usize) -> Option<(u32, u32)> {
        self.directories
            .get(index)
            .copied()
            .filter(|&(rva, size)| rva != 0 && size != 0)
    }

    /// The file offset of `rva`, with how many bytes from there its section holds in the
    /// file; `None` when no section holds it in the file (outside every section, or in the
    /// part of one that exists only in memory).
    pub fn file_offset(&self, rva: u32) -> Option<(u64, u64)> {
        self.sections.iter().find_map(|s| {
            let delta = rva.checked_sub(s.rva)?;
            (delta < s.virtual_size.max(s.raw_size) && delta < s.raw_size).then(|| {
                (
                    u64::from(s.raw_offset) + u64::from(delta),
                    u64::from(s.raw_size - delta),
                )
            })
        })
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

    /// A PE32+ image of `machine` with one section (RVA 0x1000, file offset 0x400, 0x200
    /// bytes in the file) and a resource directory at RVA 0x1010.
    fn stub(machine: u16) -> Vec<u8> {
        let mut b = vec![0u8; 0x600];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        let coff = 0x84;
        b[coff..coff + 2].copy_from_slice(&machine.to_le_bytes());
        b[coff + 2..coff + 4].copy_from_slice(&1u16.to_le_bytes());
        b[coff + 16..coff + 18].copy_from_slice(&240u16.to_le_bytes());
        let opt = coff + 20;
        b[opt..opt + 2].copy_from_slice(&0x20bu16.to_le_bytes());
        b[opt + 108..opt + 112].copy_from_slice(&16u32.to_le_bytes());
        let res = opt + 112 + 2 * 8;
        b[res..res + 4].copy_from_slice(&0x1010u32.to_le_bytes());
        b[res + 4..res + 8].copy_from_slice(&0x20u32.to_le_bytes());
        let s = opt + 240;
        for (at, v) in [(8, 0x300u32), (12, 0x1000), (16, 0x200), (20, 0x400)] {
            b[s + at..s + at + 4].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    #[test]
    fn reads_machine_types() {
        for (machine, arch) in [
            (0x8664, Arch::Amd64),
            (0x14c, Arch::X86),
            (0xaa64, Arch::Arm64),
            (0x1c4, Arch::Other),
        ] {
            assert_eq!(machine_of(&stub(machine)).map(Arch::from_machine), Ok(arch));
            assert_eq!(Headers::parse(&stub(machine)).unwrap().machine, machine);
        }
    }

    #[test]
    fn directories_and_sections_map_to_the_file() {
        let h = Headers::parse(&stub(0x8664)).unwrap();
        assert_eq!(h.directories.len(), 16);
        assert_eq!(h.directory(DIR_RESOURCE), Some((0x1010, 0x20)));
        assert_eq!(h.directory(DIR_IMPORT), None);
        assert_eq!(h.file_offset(0x1010), Some((0x410, 0x1f0)));
        // In the section's memory but past its bytes in the file; before every section.
        assert_eq!(h.file_offset(0x1250), None);
        assert_eq!(h.file_offset(0x10), None);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(machine_of(b"").is_err());
        assert!(machine_of(&[0u8; 100]).is_err());
        let mut b = stub(0x8664);
        b[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(machine_of(&b).is_err());
        assert!(Headers::parse(&b).is_err());
        let mut b = stub(0x8664);
        b.truncate(0x82);
        assert!(machine_of(&b).is_err());
        // Every truncation of a valid image is an error or a shorter reading, never a panic.
        let full = stub(0x8664);
        for len in 0..full.len() {
            let _ = Headers::parse(&full[..len]);
        }
        let mut b = stub(0x8664);
        b[0x86..0x88].copy_from_slice(&97u16.to_le_bytes());
        assert_eq!(
            Headers::parse(&b),
            Err("more sections than the PE format allows")
        );
        let mut b = stub(0x8664);
        b[0x98..0x9a].copy_from_slice(&0x999u16.to_le_bytes());
        assert_eq!(Headers::parse(&b), Err("unknown optional header magic"));
    }
}
