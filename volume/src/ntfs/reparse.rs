//! Reparse points (`$REPARSE_POINT`): the tag says what a file or folder stands for, the
//! data how. Junctions, mount points and symbolic links give their targets; cloud
//! placeholders, WOF-compressed files, deduplicated files and app execution aliases are
//! recognised. A reparse point is reported, never followed.

use crate::le::{u16_at, u32_at};

pub const TAG_MOUNT_POINT: u32 = 0xA000_0003;
pub const TAG_SYMLINK: u32 = 0xA000_000C;
pub const TAG_DEDUP: u32 = 0x8000_0013;
pub const TAG_WOF: u32 = 0x8000_0017;
pub const TAG_APPEXECLINK: u32 = 0x8000_001B;
pub const TAG_LX_SYMLINK: u32 = 0xA000_001D;
/// IO_REPARSE_TAG_CLOUD and its sixteen variants IO_REPARSE_TAG_CLOUD_1..F (0x9000X01A).
const TAG_CLOUD_MASK: u32 = 0xFFFF_0FFF;
const TAG_CLOUD: u32 = 0x9000_001A;

/// A reparse point: its tag, the whole REPARSE_DATA_BUFFER as stored (tag, length and data,
/// as ntfs-3g's `system.ntfs_reparse_data` and a WIM's reparse entry carry it) and what the
/// data says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reparse {
    pub tag: u32,
    pub data: Vec<u8>,
    pub kind: ReparseKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReparseKind {
    /// A junction (`mklink /J`) or a volume mount point: an absolute NT path
    /// (`\??\C:\Target`, `\??\Volume{…}\`).
    MountPoint { substitute: String, print: String },
    /// A symbolic link (`mklink`, `mklink /D`); `relative` when the target is relative to
    /// the link's folder.
    Symlink {
        substitute: String,
        print: String,
        relative: bool,
    },
    /// A WSL symbolic link: a UTF-8 target.
    LxSymlink { target: String },
    /// A cloud files placeholder (OneDrive and other sync engines).
    Cloud,
    /// A file compressed by the Windows Overlay Filter (CompactOS, `compact /exe`);
    /// `algorithm`: 0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K (file provider), None for a
    /// file backed by a WIM.
    Wof {
        provider: u32,
        algorithm: Option<u32>,
    },
    /// A file deduplicated by Windows Server.
    Dedup,
    /// An app execution alias (`%LOCALAPPDATA%\Microsoft\WindowsApps\*.exe`): the package, the
    /// application user model id and the executable it starts.
    AppExecLink {
        package: String,
        app_id: String,
        target: String,
    },
    /// Another tag, or data too damaged to say more.
    Other,
}

impl Reparse {
    /// Parses an attribute value; None when it is shorter than its own header says.
    pub fn parse(data: &[u8]) -> Option<Reparse> {
        let tag = u32_at(data, 0)?;
        let len = usize::from(u16_at(data, 4)?);
        // Microsoft's tags (bit 31) have an 8-byte header; others add a 16-byte GUID.
        let header = if tag & 0x8000_0000 != 0 { 8 } else { 24 };
        let body = data.get(header..header + len)?;
        let kind = match tag {
            TAG_MOUNT_POINT => name_pair(body, 8)
                .map(|(substitute, print)| ReparseKind::MountPoint { substitute, print }),
            TAG_SYMLINK => name_pair(body, 12).map(|(substitute, print)| ReparseKind::Symlink {
                substitute,
                print,
                relative: u32_at(body, 8).is_some_and(|f| f & 1 != 0),
            }),
            TAG_LX_SYMLINK => body.get(4..).map(|t| ReparseKind::LxSymlink {
                target: String::from_utf8_lossy(t).into_owned(),
            }),
            TAG_WOF => u32_at(body, 4).map(|provider| ReparseKind::Wof {
                provider,
                algorithm: if provider == 2 {
                    u32_at(body, 12)
                } else {
                    None
                },
            }),
            TAG_DEDUP => Some(ReparseKind::Dedup),
            TAG_APPEXECLINK => app_exec_link(body),
            t if t & TAG_CLOUD_MASK == TAG_CLOUD => Some(ReparseKind::Cloud),
            _ => Some(ReparseKind::Other),
        };
        Some(Reparse {
            tag,
            data: data[..header + len].to_vec(),
            kind: kind.unwrap_or(ReparseKind::Other),
        })
    }
}

/// The substitute and print names of a mount point or symlink: offsets and lengths (bytes)
/// at the start of `body`, the names in the path buffer at `path_at`.
fn name_pair(body: &[u8], path_at: usize) -> Option<(String, String)> {
    let paths = body.get(path_at..)?;
    let name = |at: usize| {
        let off = usize::from(u16_at(body, at)?);
        let len = usize::from(u16_at(body, at + 2)?);
        paths.get(off..off + len).map(super::attr::utf16_string)
    };
    Some((name(0)?, name(4)?))
}

/// Version 3: NUL-terminated UTF-16 strings: package, app id, target, …
fn app_exec_link(body: &[u8]) -> Option<ReparseKind> {
    let units: Vec<u16> = crate::le::u16s(body.get(4..)?).collect();
    let mut parts = units.split(|&u| u == 0).map(String::from_utf16_lossy);
    Some(ReparseKind::AppExecLink {
        package: parts.next()?,
        app_id: parts.next()?,
        target: parts.next()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A junction's buffer as `mklink /J` writes it.
    pub fn junction(target: &str) -> Vec<u8> {
        let sub = utf16(&format!(r"\??\{target}"));
        let print = utf16(target);
        let mut body = Vec::new();
        body.extend(0u16.to_le_bytes());
        body.extend((sub.len() as u16).to_le_bytes());
        body.extend((sub.len() as u16 + 2).to_le_bytes());
        body.extend((print.len() as u16).to_le_bytes());
        body.extend(&sub);
        body.extend([0, 0]);
        body.extend(&print);
        body.extend([0, 0]);
        let mut v = TAG_MOUNT_POINT.to_le_bytes().to_vec();
        v.extend((body.len() as u16).to_le_bytes());
        v.extend([0, 0]);
        v.extend(body);
        v
    }

    #[test]
    fn junction_targets_are_read() {
        let r = Reparse::parse(&junction(r"C:\Users\ann\Documents")).unwrap();
        assert_eq!(
            r.kind,
            ReparseKind::MountPoint {
                substitute: r"\??\C:\Users\ann\Documents".into(),
                print: r"C:\Users\ann\Documents".into()
            }
        );
    }

    #[test]
    fn cloud_variants_and_unknown_tags() {
        for tag in [0x9000_001Au32, 0x9000_101A, 0x9000_F01A] {
            let mut v = tag.to_le_bytes().to_vec();
            v.extend([0, 0, 0, 0]);
            assert_eq!(Reparse::parse(&v).unwrap().kind, ReparseKind::Cloud);
        }
        let mut v = 0x8000_0099u32.to_le_bytes().to_vec();
        v.extend([2, 0, 0, 0, 1, 2]);
        assert_eq!(Reparse::parse(&v).unwrap().kind, ReparseKind::Other);
    }

    #[test]
    fn short_or_lying_buffers_do_not_panic() {
        assert!(Reparse::parse(&[1, 2, 3]).is_none());
        let mut v = TAG_MOUNT_POINT.to_le_bytes().to_vec();
        v.extend([0xFF, 0x00, 0, 0]);
        assert!(Reparse::parse(&v).is_none());
        // Names pointing past the buffer: the tag is kept, the kind is Other.
        let mut v = TAG_SYMLINK.to_le_bytes().to_vec();
        v.extend([12, 0, 0, 0]);
        v.extend([0xF0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Reparse::parse(&v).unwrap().kind, ReparseKind::Other);
    }
}
