//! Windows shortcuts (`.lnk`): where a shortcut points, read from the Shell Link Binary
//! File Format ([MS-SHLLINK]) section by section — ShellLinkHeader (2.1), LinkTargetIDList
//! (2.2, skipped), LinkInfo (2.3: LocalBasePath, CommonNetworkRelativeLink, CommonPathSuffix),
//! StringData (2.4) and the EnvironmentVariableDataBlock of ExtraData (2.5.4). Every offset
//! is checked against the structure that holds it; nothing is followed or opened.

use std::path::Path;

use crate::le::{u16_at, u16s, u32_at};
use crate::limits::SMALL_FILE_MAX_BYTES;

/// `LinkCLSID` 00021401-0000-0000-C000-000000000046, as stored.
const LINK_CLSID: [u8; 16] = [
    0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
];
const HEADER_SIZE: usize = 0x4C;

/// `LinkFlags` bits (2.1.1).
mod flag {
    pub const HAS_ID_LIST: u32 = 0x1;
    pub const HAS_LINK_INFO: u32 = 0x2;
    pub const HAS_NAME: u32 = 0x4;
    pub const HAS_RELATIVE_PATH: u32 = 0x8;
    pub const HAS_WORKING_DIR: u32 = 0x10;
    pub const HAS_ARGUMENTS: u32 = 0x20;
    pub const HAS_ICON_LOCATION: u32 = 0x40;
    pub const IS_UNICODE: u32 = 0x80;
    pub const FORCE_NO_LINK_INFO: u32 = 0x100;
}

/// `EnvironmentVariableDataBlock` signature (2.5.4).
const ENV_BLOCK: u32 = 0xA000_0001;
/// ExtraData blocks read before giving up on a hostile chain.
const MAX_EXTRA_BLOCKS: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shortcut {
    /// `LocalBasePath` + `CommonPathSuffix`, or `\\server\share` + suffix.
    pub link_target: Option<String>,
    /// The EnvironmentVariableDataBlock's target (`%windir%\notepad.exe`), unexpanded.
    pub env_target: Option<String>,
    pub name: Option<String>,
    pub relative_path: Option<String>,
    pub working_dir: Option<String>,
    pub arguments: Option<String>,
    pub icon_location: Option<String>,
}

impl Shortcut {
    /// The best statement of the target: LinkInfo's path, else the environment block's,
    /// else the relative path.
    pub fn target(&self) -> Option<&str> {
        self.link_target
            .as_deref()
            .or(self.env_target.as_deref())
            .or(self.relative_path.as_deref())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LnkError {
    #[error("{0}")]
    Malformed(&'static str),
    #[error("cannot read it: {0}")]
    Io(String),
}

fn bad(what: &'static str) -> LnkError {
    LnkError::Malformed(what)
}

/// A NUL-terminated code-page string at `at` (read as Latin-1: the code page of the machine
/// that wrote it is unknown; paths are ASCII in practice).
fn ansi_z(b: &[u8], at: usize) -> Option<String> {
    let rest = b.get(at..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    Some(rest[..end].iter().map(|&c| char::from(c)).collect())
}

/// A NUL-terminated UTF-16LE string at `at`.
fn unicode_z(b: &[u8], at: usize) -> Option<String> {
    let rest = b.get(at..)?;
    let units: Vec<u16> = u16s(rest).take_while(|&u| u != 0).collect();
    // The terminator must be inside the structure.
    (units.len() * 2 + 2 <= rest.len()).then(|| String::from_utf16_lossy(&units))
}

/// Reads the shortcut at `path` (a regular file, bounded, through [`crate::fsread`]).
pub fn read_file(path: &Path) -> Result<Shortcut, LnkError> {
    let data = crate::fsread::read_bounded(path, SMALL_FILE_MAX_BYTES)
        .map_err(|e| LnkError::Io(e.to_string()))?;
    parse(&data)
}

pub fn parse(b: &[u8]) -> Result<Shortcut, LnkError> {
    if u32_at(b, 0) != Some(HEADER_SIZE as u32) || b.get(4..20) != Some(&LINK_CLSID) {
        return Err(bad("not a Windows shortcut (no ShellLinkHeader)"));
    }
    let flags = u32_at(b, 0x14).ok_or(bad("truncated ShellLinkHeader"))?;
    let mut at = HEADER_SIZE;
    if flags & flag::HAS_ID_LIST != 0 {
        let size = u16_at(b, at).ok_or(bad("truncated LinkTargetIDList"))?;
        at += 2 + usize::from(size);
    }
    let mut s = Shortcut::default();
    if flags & flag::HAS_LINK_INFO != 0 {
        let size = u32_at(b, at).ok_or(bad("truncated LinkInfo"))? as usize;
        let info = b
            .get(at..at.saturating_add(size))
            .ok_or(bad("LinkInfo runs past the end of the file"))?;
        if flags & flag::FORCE_NO_LINK_INFO == 0 {
            s.link_target = link_info(info)?;
        }
        at += size;
    }
    let unicode = flags & flag::IS_UNICODE != 0;
    for (bit, slot) in [
        (flag::HAS_NAME, &mut s.name),
        (flag::HAS_RELATIVE_PATH, &mut s.relative_path),
        (flag::HAS_WORKING_DIR, &mut s.working_dir),
        (flag::HAS_ARGUMENTS, &mut s.arguments),
        (flag::HAS_ICON_LOCATION, &mut s.icon_location),
    ] {
        if flags & bit == 0 {
            continue;
        }
        let count = usize::from(u16_at(b, at).ok_or(bad("truncated StringData"))?);
        let len = if unicode { count * 2 } else { count };
        let raw = b
            .get(at + 2..at + 2 + len)
            .ok_or(bad("StringData runs past the end of the file"))?;
        *slot = Some(if unicode {
            let units: Vec<u16> = u16s(raw).collect();
            String::from_utf16_lossy(&units)
        } else {
            raw.iter().map(|&c| char::from(c)).collect()
        });
        at += 2 + len;
    }
    s.env_target = env_block(b.get(at..).unwrap_or(&[]));
    Ok(s)
}

/// LinkInfo (2.3): the local path (`VolumeIDAndLocalBasePath`) or the network share
/// (`CommonNetworkRelativeLinkAndPathSuffix`), joined with the common path suffix.
fn link_info(info: &[u8]) -> Result<Option<String>, LnkError> {
    let field = |o: usize| u32_at(info, o).ok_or(bad("truncated LinkInfo header"));
    let header_size = field(4)? as usize;
    let link_flags = field(8)?;
    let unicode_offsets = header_size >= 0x24;
    let suffix = if unicode_offsets {
        unicode_z(info, field(0x20)? as usize)
    } else {
        None
    }
    .or_else(|| field(0x18).ok().and_then(|o| ansi_z(info, o as usize)))
    .unwrap_or_default();
    let base = if link_flags & 0x1 != 0 {
        let unicode = if unicode_offsets {
            unicode_z(info, field(0x1C)? as usize)
        } else {
            None
        };
        unicode.or_else(|| ansi_z(info, field(0x10).ok()? as usize))
    } else if link_flags & 0x2 != 0 {
        let net = info
            .get(field(0x14)? as usize..)
            .ok_or(bad("CommonNetworkRelativeLink lies outside LinkInfo"))?;
        u32_at(net, 8).and_then(|o| ansi_z(net, o as usize))
    } else {
        None
    };
    Ok(base.map(|base| {
        if suffix.is_empty() {
            base
        } else if base.ends_with('\\') {
            format!("{base}{suffix}")
        } else {
            format!("{base}\\{suffix}")
        }
    }))
}

/// The EnvironmentVariableDataBlock's target among the ExtraData blocks.
fn env_block(mut b: &[u8]) -> Option<String> {
    for _ in 0..MAX_EXTRA_BLOCKS {
        let size = u32_at(b, 0)? as usize;
        if size < 8 {
            return None;
        }
        let block = b.get(..size)?;
        if u32_at(block, 4) == Some(ENV_BLOCK) && size >= 0x314 {
            return unicode_z(block.get(8 + 260..0x314)?, 0)
                .filter(|s| !s.is_empty())
                .or_else(|| ansi_z(block.get(8..8 + 260)?, 0))
                .filter(|s| !s.is_empty());
        }
        b = b.get(size..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shortcut with a local LinkInfo, a relative path and an environment block.
    pub(crate) fn sample() -> Vec<u8> {
        let mut b = vec![0u8; HEADER_SIZE];
        b[0..4].copy_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
        b[4..20].copy_from_slice(&LINK_CLSID);
        let flags = flag::HAS_LINK_INFO | flag::HAS_RELATIVE_PATH | flag::IS_UNICODE;
        b[0x14..0x18].copy_from_slice(&flags.to_le_bytes());
        // LinkInfo with ANSI offsets only (header 0x1C).
        let base = b"C:\\Program Files\\App\0";
        let suffix = b"app.exe\0";
        let mut info = vec![0u8; 0x1C];
        let base_at = 0x1C + 0x11; // after an empty VolumeID-sized gap
        info.resize(base_at, 0);
        info.extend_from_slice(base);
        let suffix_at = info.len();
        info.extend_from_slice(suffix);
        let len = info.len() as u32;
        info[0..4].copy_from_slice(&len.to_le_bytes());
        info[4..8].copy_from_slice(&0x1Cu32.to_le_bytes());
        info[8..12].copy_from_slice(&1u32.to_le_bytes());
        info[0x0C..0x10].copy_from_slice(&0x1Cu32.to_le_bytes());
        info[0x10..0x14].copy_from_slice(&(base_at as u32).to_le_bytes());
        info[0x18..0x1C].copy_from_slice(&(suffix_at as u32).to_le_bytes());
        b.extend_from_slice(&info);
        let rel = "..\\App\\app.exe";
        b.extend_from_slice(&(rel.encode_utf16().count() as u16).to_le_bytes());
        b.extend(rel.encode_utf16().flat_map(u16::to_le_bytes));
        b.extend_from_slice(&0u32.to_le_bytes()); // TerminalBlock
        b
    }

    #[test]
    fn reads_link_info_and_string_data() {
        let s = parse(&sample()).unwrap();
        assert_eq!(
            s.link_target.as_deref(),
            Some(r"C:\Program Files\App\app.exe")
        );
        assert_eq!(s.relative_path.as_deref(), Some(r"..\App\app.exe"));
        assert_eq!(s.target(), Some(r"C:\Program Files\App\app.exe"));
        assert_eq!(s.working_dir, None);
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        let b = sample();
        for cut in 0..b.len() {
            let _ = parse(&b[..cut]);
        }
        for i in 0..b.len() {
            for v in [0x00, 0xff, 0x7f] {
                let mut x = b.clone();
                x[i] = v;
                let _ = parse(&x);
            }
        }
        assert!(parse(b"").is_err());
        assert!(parse(&[0u8; 200]).is_err());
    }
}
