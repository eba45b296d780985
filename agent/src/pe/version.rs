//! The version resource of a PE image (`VS_VERSIONINFO`): the fixed file and product
//! versions (`VS_FIXEDFILEINFO`) and the `StringFileInfo` strings (`FileVersion`,
//! `ProductVersion`, `CompanyName`…) that MigXML's `DoesFileVersionMatch`,
//! `IsFileVersionAbove` and `IsFileVersionBelow` compare.
//!
//! Followed section by section from the PE format (Microsoft's "PE Format": COFF header,
//! optional header data directory 2, section table, resource directory tables) and the
//! version resource layout (`VS_VERSIONINFO`, `StringFileInfo`, `StringTable`, `String`,
//! `VarFileInfo`, `Var`). The file is never read whole: only its headers, the resource
//! directory entries on the way to `RT_VERSION` and the version block itself, each read at
//! an offset that is checked against the file and bounded (see [`crate::limits`]).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::{Headers, DIR_RESOURCE};
use crate::le::{u16_at, u32_at};
use crate::limits::{PE_HEAD_BYTES, PE_VERSION_MAX_BYTES};

/// `RT_VERSION` resource type.
const RT_VERSION: u32 = 16;
/// `VS_FIXEDFILEINFO.dwSignature`.
const FIXED_SIGNATURE: u32 = 0xFEEF_04BD;
/// Entries read from one resource directory table on the way down.
const MAX_DIR_ENTRIES: u32 = 4096;

/// A four-part version `major.minor.build.revision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub [u16; 4]);

impl Version {
    fn from_ms_ls(ms: u32, ls: u32) -> Version {
        Version([(ms >> 16) as u16, ms as u16, (ls >> 16) as u16, ls as u16])
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// `VS_FIXEDFILEINFO`'s version fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedInfo {
    pub file_version: Version,
    pub product_version: Version,
}

/// One `StringTable`: its language and code page (the 8 hex digits of its key) and strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringTable {
    pub language: u16,
    pub codepage: u16,
    pub strings: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub fixed: Option<FixedInfo>,
    pub tables: Vec<StringTable>,
    /// `VarFileInfo\Translation`: (language, code page) pairs, in the file's order.
    pub translations: Vec<(u16, u16)>,
    /// Language ID of the resource read (an image may carry one per language).
    pub resource_language: u16,
}

impl VersionInfo {
    /// A `StringFileInfo` value by key (case-insensitive), from the table Windows'
    /// `VerQueryValue` callers usually take: the first translation's, else US English,
    /// else the first table.
    pub fn string(&self, key: &str) -> Option<&str> {
        let by_translation = self.translations.iter().find_map(|&(l, c)| {
            self.tables
                .iter()
                .find(|t| t.language == l && t.codepage == c)
        });
        let english = self.tables.iter().find(|t| t.language == 0x0409);
        [by_translation, english, self.tables.first()]
            .into_iter()
            .flatten()
            .find_map(|t| t.get(key))
    }
}

impl StringTable {
    /// A value by key (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VersionError {
    /// Not a PE image, or a structure points outside the file: the reason says which.
    #[error("{0}")]
    Malformed(&'static str),
    #[error("cannot read it: {0}")]
    Io(String),
}

/// Random access to the bytes of an image: a file on disk or a buffer in memory.
pub trait ReadAt {
    fn size(&self) -> u64;
    /// Exactly `len` bytes at `offset`, or an error.
    fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, VersionError>;
}

impl ReadAt for &[u8] {
    fn size(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, VersionError> {
        let start = usize::try_from(offset).map_err(|_| outside())?;
        let end = start.checked_add(len).ok_or_else(outside)?;
        self.get(start..end).map(<[u8]>::to_vec).ok_or_else(outside)
    }
}

/// An open file with its size (as [`crate::fsread::open_regular`] gives it).
pub struct FileAt {
    pub file: std::fs::File,
    pub size: u64,
}

impl ReadAt for FileAt {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, VersionError> {
        let end = offset.checked_add(len as u64).ok_or_else(outside)?;
        if end > self.size {
            return Err(outside());
        }
        let io = |e: std::io::Error| VersionError::Io(e.to_string());
        self.file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut buf = Vec::with_capacity(len);
        (&mut self.file)
            .take(len as u64)
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.len() != len {
            return Err(VersionError::Io("the file ended early".into()));
        }
        Ok(buf)
    }
}

fn outside() -> VersionError {
    VersionError::Malformed("a structure points outside the file")
}

/// What the headers say about the resources: the resource directory's RVA, and the
/// sections that map it to the file.
struct Layout {
    resource_rva: u32,
    headers: Headers,
}

impl Layout {
    /// File offset of `rva`, with how many bytes from there the section holds in the file.
    fn file_offset(&self, rva: u32) -> Option<(u64, u64)> {
        self.headers.file_offset(rva)
    }
}

/// The headers, read from the image's first bytes (see [`Headers::parse`]). `None`: the
/// image has no resources.
fn read_layout(src: &mut dyn ReadAt) -> Result<Option<Layout>, VersionError> {
    let head_len = src.size().min(PE_HEAD_BYTES) as usize;
    let head = src.read_at(0, head_len)?;
    let headers = Headers::parse(&head).map_err(VersionError::Malformed)?;
    Ok(headers
        .directory(DIR_RESOURCE)
        .map(|(resource_rva, _)| Layout {
            resource_rva,
            headers,
        }))
}

/// Reads `len` bytes at `rva`, within the section that holds it.
fn read_rva(
    src: &mut dyn ReadAt,
    layout: &Layout,
    rva: u32,
    len: usize,
) -> Result<Vec<u8>, VersionError> {
    let (offset, room) = layout.file_offset(rva).ok_or(VersionError::Malformed(
        "a resource lies outside every section",
    ))?;
    if len as u64 > room {
        return Err(VersionError::Malformed("a resource runs past its section"));
    }
    src.read_at(offset, len)
}

/// Which entry of a resource directory table to follow.
#[derive(Clone, Copy)]
enum Pick {
    /// The entry with this integer ID.
    Id(u32),
    /// The first entry (names of the version resource: there is one, ID 1).
    First,
    /// The language Windows' resource loader falls back to without a user: neutral, then
    /// US English, then the first.
    Language,
}

/// One step down the resource tree: the entry `pick` chooses in the directory table at
/// `dir_offset` (relative to the resource section). Returns (entry ID, offset field).
fn dir_entry(
    src: &mut dyn ReadAt,
    layout: &Layout,
    dir_offset: u32,
    pick: Pick,
) -> Result<Option<(u32, u32)>, VersionError> {
    let rva = layout
        .resource_rva
        .checked_add(dir_offset)
        .ok_or_else(outside)?;
    let header = read_rva(src, layout, rva, 16)?;
    let named = u32::from(u16_at(&header, 12).unwrap_or(0));
    let ids = u32::from(u16_at(&header, 14).unwrap_or(0));
    let total = (named + ids).min(MAX_DIR_ENTRIES);
    if total == 0 {
        return Ok(None);
    }
    let first = rva.checked_add(16).ok_or_else(outside)?;
    let entries = read_rva(src, layout, first, total as usize * 8)?;
    let all: Vec<(u32, u32)> = (0..total as usize)
        .map_while(|i| Some((u32_at(&entries, i * 8)?, u32_at(&entries, i * 8 + 4)?)))
        .collect();
    let by_id = |id: u32| all.iter().copied().find(|&(n, _)| n == id);
    Ok(match pick {
        // A named entry has its top bit set, so it never equals an ID below 2^31.
        Pick::Id(id) => by_id(id),
        Pick::First => all.first().copied(),
        Pick::Language => by_id(0)
            .or_else(|| by_id(0x0409))
            .or_else(|| all.first().copied()),
    })
}

/// The `RT_VERSION` resource (the language [`Pick::Language`] chooses) with its language
/// ID, if the image has one.
pub fn version_block(src: &mut dyn ReadAt) -> Result<Option<(u16, Vec<u8>)>, VersionError> {
    let Some(layout) = read_layout(src)? else {
        return Ok(None);
    };
    let mut offset = 0u32;
    let mut language = 0u32;
    for (level, pick) in [
        Pick::Id(RT_VERSION),
        Pick::First,
        Pick::Language,
        Pick::First,
    ]
    .into_iter()
    .enumerate()
    {
        let Some((id, target)) = dir_entry(src, &layout, offset, pick)? else {
            return Ok(None);
        };
        if level == 2 {
            language = id;
        }
        if target & 0x8000_0000 == 0 {
            // A data entry: RVA, size, code page, reserved.
            let rva = layout
                .resource_rva
                .checked_add(target)
                .ok_or_else(outside)?;
            let entry = read_rva(src, &layout, rva, 16)?;
            let (Some(data_rva), Some(size)) = (u32_at(&entry, 0), u32_at(&entry, 4)) else {
                return Err(outside());
            };
            if u64::from(size) > PE_VERSION_MAX_BYTES {
                return Err(VersionError::Malformed(
                    "the version resource is larger than any real one",
                ));
            }
            let block = read_rva(src, &layout, data_rva, size as usize)?;
            return Ok(Some((language as u16, block)));
        }
        offset = target & 0x7FFF_FFFF;
    }
    Err(VersionError::Malformed(
        "the resource directory nests deeper than type, name and language",
    ))
}

/// The version resource of a PE image, `None` when it has none.
pub fn version_info(src: &mut dyn ReadAt) -> Result<Option<VersionInfo>, VersionError> {
    let Some((language, block)) = version_block(src)? else {
        return Ok(None);
    };
    let mut info = parse_block(&block)?;
    info.resource_language = language;
    Ok(Some(info))
}

/// The version resource of the PE file at `path` (opened through [`crate::fsread`]).
pub fn version_of_file(path: &Path) -> Result<Option<VersionInfo>, VersionError> {
    let (file, size) =
        crate::fsread::open_regular(path).map_err(|e| VersionError::Io(e.to_string()))?;
    version_info(&mut FileAt { file, size })
}

/// One node of the version tree: `wLength`, `wValueLength`, `wType`, `szKey`, padding,
/// `Value`, padding, children. Offsets are into the block it was read from.
struct Node<'a> {
    key: String,
    value: &'a [u8],
    is_text: bool,
    children: &'a [u8],
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Reads the node at the start of `b`; returns it and its length (aligned).
fn node(b: &[u8]) -> Result<(Node<'_>, usize), VersionError> {
    let bad = VersionError::Malformed;
    let len = usize::from(u16_at(b, 0).ok_or(bad("truncated version entry"))?);
    let value_len = usize::from(u16_at(b, 2).ok_or(bad("truncated version entry"))?);
    let is_text = u16_at(b, 4).ok_or(bad("truncated version entry"))? == 1;
    if len < 6 || len > b.len() {
        return Err(bad("a version entry's length runs past its parent"));
    }
    let b = &b[..len];
    let mut units = Vec::new();
    let mut at = 6;
    loop {
        let u = u16_at(b, at).ok_or(bad("a version entry's key is not terminated"))?;
        at += 2;
        if u == 0 {
            break;
        }
        units.push(u);
    }
    let key = String::from_utf16_lossy(&units);
    let value_start = align4(at).min(len);
    // wValueLength counts WORDs for text values and bytes otherwise; some writers count
    // bytes for text too. Either way the value stays inside the entry.
    let value_bytes = if is_text { value_len * 2 } else { value_len };
    let value_end = value_start.saturating_add(value_bytes).min(len);
    let value = &b[value_start..value_end];
    let children_start = align4(value_end).min(len);
    Ok((
        Node {
            key,
            value,
            is_text,
            children: &b[children_start..],
        },
        align4(len),
    ))
}

/// The nodes one after another in `b` (a parent's children).
fn nodes(mut b: &[u8]) -> Result<Vec<Node<'_>>, VersionError> {
    let mut out = Vec::new();
    while b.len() >= 6 {
        let (n, used) = node(b)?;
        out.push(n);
        b = b.get(used..).unwrap_or(&[]);
    }
    Ok(out)
}

/// UTF-16LE text up to the first NUL.
fn text(b: &[u8]) -> String {
    crate::hive::utf16_until_nul(b)
}

/// Parses a `VS_VERSIONINFO` block.
pub fn parse_block(block: &[u8]) -> Result<VersionInfo, VersionError> {
    let (root, _) = node(block)?;
    if !root.key.eq_ignore_ascii_case("VS_VERSION_INFO") {
        return Err(VersionError::Malformed(
            "the version resource does not start with VS_VERSION_INFO",
        ));
    }
    let mut info = VersionInfo::default();
    if root.value.len() >= 52 && u32_at(root.value, 0) == Some(FIXED_SIGNATURE) {
        let f = |o| u32_at(root.value, o).unwrap_or(0);
        info.fixed = Some(FixedInfo {
            file_version: Version::from_ms_ls(f(8), f(12)),
            product_version: Version::from_ms_ls(f(16), f(20)),
        });
    }
    for child in nodes(root.children)? {
        if child.key.eq_ignore_ascii_case("StringFileInfo") {
            for table in nodes(child.children)? {
                let id = u32::from_str_radix(table.key.trim(), 16).unwrap_or(0);
                let mut strings = Vec::new();
                for s in nodes(table.children)? {
                    let value = if s.is_text || !s.value.is_empty() {
                        text(s.value)
                    } else {
                        String::new()
                    };
                    strings.push((s.key, value));
                }
                info.tables.push(StringTable {
                    language: (id >> 16) as u16,
                    codepage: id as u16,
                    strings,
                });
            }
        } else if child.key.eq_ignore_ascii_case("VarFileInfo") {
            for var in nodes(child.children)? {
                if var.key.eq_ignore_ascii_case("Translation") {
                    info.translations.extend(var.value.chunks_exact(4).map(|c| {
                        (
                            u16::from_le_bytes([c[0], c[1]]),
                            u16::from_le_bytes([c[2], c[3]]),
                        )
                    }));
                }
            }
        }
    }
    Ok(info)
}

/// The leading numbers of a version string (`"10.0.19041.1 (WinBuild…)"`, `"5, 1, 2, 0"`,
/// `"QuickTime 7.6"` → none), up to four.
pub fn parse_version_text(s: &str) -> Option<Version> {
    let s = s.trim();
    let mut parts = [0u16; 4];
    let mut n = 0;
    for piece in s.split(['.', ',']) {
        let digits: String = piece
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.is_empty() || n == 4 {
            break;
        }
        parts[n] = digits.parse().ok()?;
        n += 1;
        // "1 (WinBuild.160101)": the number ended inside this piece.
        if digits.len() != piece.trim().len() {
            break;
        }
    }
    (n > 0).then_some(Version(parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node: key, value (text or bytes), children, laid out as the format says.
    fn node_bytes(key: &str, value: &[u8], text_value: bool, children: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![0u8; 6];
        for u in key.encode_utf16().chain([0]) {
            b.extend_from_slice(&u.to_le_bytes());
        }
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b.extend_from_slice(value);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        for c in children {
            b.extend_from_slice(c);
            while b.len() % 4 != 0 {
                b.push(0);
            }
        }
        let len = b.len() as u16;
        b[0..2].copy_from_slice(&len.to_le_bytes());
        let vlen = if text_value {
            value.len() / 2
        } else {
            value.len()
        } as u16;
        b[2..4].copy_from_slice(&vlen.to_le_bytes());
        b[4..6].copy_from_slice(&u16::from(text_value).to_le_bytes());
        b
    }

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    fn block() -> Vec<u8> {
        let mut fixed = vec![0u8; 52];
        fixed[0..4].copy_from_slice(&FIXED_SIGNATURE.to_le_bytes());
        fixed[8..12].copy_from_slice(&((9u32 << 16) | 64).to_le_bytes());
        fixed[12..16].copy_from_slice(&((1u32 << 16) | 2).to_le_bytes());
        fixed[16..20].copy_from_slice(&(9u32 << 16).to_le_bytes());
        let s = |k: &str, v: &str| node_bytes(k, &utf16z(v), true, &[]);
        let table = |k: &str, pv: &str| {
            node_bytes(
                k,
                &[],
                true,
                &[s("ProductVersion", pv), s("CompanyName", "Opera")],
            )
        };
        let sfi = node_bytes(
            "StringFileInfo",
            &[],
            true,
            &[table("040704b0", "9.64 de"), table("040904b0", "9.64")],
        );
        let var = node_bytes("Translation", &[0x09, 0x04, 0xb0, 0x04], false, &[]);
        let vfi = node_bytes("VarFileInfo", &[], true, &[var]);
        node_bytes("VS_VERSION_INFO", &fixed, false, &[sfi, vfi])
    }

    #[test]
    fn parses_fixed_strings_and_translation() {
        let info = parse_block(&block()).unwrap();
        let fixed = info.fixed.unwrap();
        assert_eq!(fixed.file_version, Version([9, 64, 1, 2]));
        assert_eq!(fixed.product_version.to_string(), "9.0.0.0");
        assert_eq!(info.translations, [(0x0409, 0x04b0)]);
        assert_eq!(info.tables.len(), 2);
        assert_eq!(
            info.string("productversion"),
            Some("9.64"),
            "translation's table"
        );
        assert_eq!(info.string("CompanyName"), Some("Opera"));
        assert_eq!(info.string("FileDescription"), None);
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_not_a_panic() {
        let b = block();
        for cut in 0..b.len() {
            let _ = parse_block(&b[..cut]);
        }
        for i in 0..b.len() {
            let mut x = b.clone();
            x[i] ^= 0xff;
            let _ = parse_block(&x);
        }
        assert!(parse_block(&[]).is_err());
    }

    #[test]
    fn version_text() {
        let v = |s| parse_version_text(s).map(|v| v.to_string());
        assert_eq!(
            v("10.0.19041.1 (WinBuild.160101.0800)").as_deref(),
            Some("10.0.19041.1")
        );
        assert_eq!(v("5, 1, 2, 0").as_deref(), Some("5.1.2.0"));
        assert_eq!(v("9.64").as_deref(), Some("9.64.0.0"));
        assert_eq!(v("QuickTime 7.6"), None);
        assert_eq!(v("99999.1"), None);
    }
}
