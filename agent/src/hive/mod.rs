//! Registry hives, opened read-only.
//!
//! A hive file is read whole into memory and never written. When its header says it is
//! dirty (unequal sequence numbers, as Fast Startup, hibernation and crashes leave them),
//! the transaction logs beside it (`.LOG1`, `.LOG2`, `.LOG`, found case-insensitively) are
//! replayed into that in-memory copy first. Lookups then go through nt-hive.
//!
//! Everything here is hostile input: the files are read through [`crate::volume`] (regular
//! files only, within [`crate::limits`]), the base block is checked before nt-hive sees it,
//! nt-hive runs behind a panic guard, and [`Key::walk`] remembers the keys it visited and
//! keeps to its budgets, so a subkey list that loops back cannot make it run for ever.

mod log_replay;
mod walk;

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use nt_hive::{Hive, KeyNode, KeyValueData, KeyValueDataType};
use serde::Serialize;

use crate::le::{u16s, u32_at, u64_at};
use crate::limits;
use crate::volume::{Kind, Place, Problem, VolumeError};

pub use log_replay::{replay_logs, LogFormat, ReplayOutcome};
use walk::Walker;
pub use walk::{Visit, WalkProblem, WalkReport, MAX_WALK_PROBLEMS};

/// Size of the base block (header) at the start of every hive and log file.
pub const BASE_BLOCK_LEN: usize = 4096;

/// What happened to a hive's transaction logs when it was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Recovery {
    /// The hive was consistent on disk; no log was needed.
    Clean,
    /// The hive was dirty and its logs were replayed in memory.
    Replayed {
        /// The logs applied, as their places show.
        logs: Vec<String>,
        format: LogFormat,
        /// Dirty pages (new format: log entries) applied.
        applied: usize,
    },
    /// The hive was dirty but no usable log brought it up to date; what is read is the
    /// (possibly stale) primary file as it is on disk.
    NotRecovered { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum HiveError {
    /// Missing, unreadable, not a regular file, or larger than any hive.
    #[error("cannot read registry hive {0}")]
    Read(#[from] VolumeError),
    /// Read, but damaged where it matters: its base block or its root key.
    #[error("{path} is not a usable registry hive: {reason}")]
    Corrupt { path: String, reason: String },
}

/// A hive file loaded into memory (after any log replay).
pub struct LoadedHive {
    /// Where it was read, as its place shows.
    path: String,
    bytes: Vec<u8>,
    recovery: Recovery,
    /// Ranges of the primary file lost to bad sectors (zeros in `bytes`).
    lost: Vec<std::ops::Range<u64>>,
}

impl fmt::Debug for LoadedHive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedHive")
            .field("path", &self.path)
            .field("len", &self.bytes.len())
            .field("recovery", &self.recovery)
            .finish()
    }
}

impl LoadedHive {
    /// Reads the hive at `place` (never writing it), replays its transaction logs when the
    /// hive is dirty, and checks that the result opens.
    ///
    /// Bytes of the primary file lost to bad sectors read as zeros and the hive is read
    /// all the same (its walk is hostile-input-safe: the cells lost are reported damaged),
    /// named by [`lost`](Self::lost); a hive whose base block is lost is refused.
    pub fn open_at(place: &Place) -> Result<Self, HiveError> {
        let (bytes, lost) = place.read_bounded_lossy(limits::HIVE_MAX_BYTES)?;
        if lost.iter().any(|r| r.start < BASE_BLOCK_LEN as u64) {
            return Err(HiveError::Read(place.error(Problem::Damaged(lost))));
        }
        match Self::from_bytes(&place.to_string(), bytes, &find_logs_at(place)) {
            Ok(mut hive) => {
                hive.lost = lost;
                Ok(hive)
            }
            // What is broken is what the disk lost: say so, not what the parser met.
            Err(HiveError::Corrupt { .. }) if !lost.is_empty() => {
                Err(HiveError::Read(place.error(Problem::Damaged(lost))))
            }
            Err(e) => Err(e),
        }
    }

    /// Byte ranges of the hive file lost to bad sectors (zeros in memory): the keys and
    /// values stored there are missing.
    pub fn lost(&self) -> &[std::ops::Range<u64>] {
        &self.lost
    }

    /// [`lost`](Self::lost) in words, for a report: `None` when nothing was lost.
    pub fn lost_words(&self) -> Option<String> {
        if self.lost.is_empty() {
            return None;
        }
        let bytes: u64 = self.lost.iter().map(|r| r.end - r.start).sum();
        let at: Vec<String> = self
            .lost
            .iter()
            .take(8)
            .map(|r| format!("{}..{}", r.start, r.end))
            .collect();
        Some(format!(
            "{bytes} bytes of the hive lie on bad sectors (at {}{}): the keys and values stored there are missing, the rest is read",
            at.join(", "),
            if self.lost.len() > 8 { ", …" } else { "" }
        ))
    }

    /// [`LoadedHive::open_at`] for a file of the machine Lifeboat runs on.
    pub fn open(path: &Path) -> Result<Self, HiveError> {
        Self::open_at(&host_place(path)?)
    }

    /// Like [`LoadedHive::open_at`] with the primary file already read (`name` is how it is
    /// shown); the logs are read only when the hive is dirty.
    pub fn from_bytes(name: &str, mut bytes: Vec<u8>, logs: &[Place]) -> Result<Self, HiveError> {
        let corrupt = |reason: String| HiveError::Corrupt {
            path: name.to_string(),
            reason,
        };
        if bytes.len() < BASE_BLOCK_LEN || &bytes[..4] != b"regf" {
            return Err(corrupt(
                "no 'regf' signature at the start of the file".into(),
            ));
        }
        let recovery = if is_dirty(&bytes) {
            let mut log_data: Vec<(String, Vec<u8>)> = Vec::new();
            let mut refused = Vec::new();
            for log in logs {
                match log.read_bounded(limits::HIVE_LOG_MAX_BYTES) {
                    Ok(data) => log_data.push((log.to_string(), data)),
                    Err(e) => refused.push(e.to_string()),
                }
            }
            match replay_logs(&mut bytes, &log_data) {
                Ok(outcome) => Recovery::Replayed {
                    logs: outcome.logs_used,
                    format: outcome.format,
                    applied: outcome.applied,
                },
                Err(reason) => {
                    if !log_data.is_empty() || refused.is_empty() {
                        refused.push(reason);
                    }
                    Recovery::NotRecovered {
                        reason: refused.join("; "),
                    }
                }
            }
        } else {
            Recovery::Clean
        };
        if matches!(recovery, Recovery::NotRecovered { .. }) {
            // Read what the primary file holds: make its header acceptable to the reader,
            // in memory only.
            mark_clean(&mut bytes);
        }
        let hive = LoadedHive {
            path: name.to_string(),
            bytes,
            recovery,
            lost: Vec::new(),
        };
        check_base_block(&hive.bytes).map_err(|reason| hive.corrupt(reason))?;
        // Open the root once so that a broken hive is reported here, by name.
        hive.root()?;
        Ok(hive)
    }

    /// Where the hive was read, as its place shows.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The hive's bytes as read (and recovered) in memory.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Last-written time of the hive header (Windows FILETIME).
    pub fn header_timestamp(&self) -> u64 {
        u64_at(&self.bytes, 12).unwrap_or_default()
    }

    /// The root key, once the header validates and the root key node reads.
    pub fn root(&self) -> Result<Key<'_>, HiveError> {
        let node = guarded(|| {
            let hive = Hive::without_validation(&self.bytes[..])?;
            hive.validate()?;
            hive.root_key_node()?.name()?;
            Ok::<_, nt_hive::NtHiveError>(())
        });
        match node {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.corrupt(e.to_string())),
            Err(p) => return Err(self.corrupt(p)),
        }
        Ok(Key {
            hive: self,
            path: Vec::new(),
        })
    }

    /// The key at `path` (backslash-separated, case-insensitive), if it exists and reads.
    pub fn key(&self, path: &str) -> Option<Key<'_>> {
        self.root().ok()?.subkey(path)
    }

    fn corrupt(&self, reason: String) -> HiveError {
        HiveError::Corrupt {
            path: self.path.clone(),
            reason,
        }
    }

    /// Runs `f` on the nt-hive node at `path`. nt-hive borrows the byte slice, so nodes are
    /// re-walked from the root for each call rather than stored; the walk is cheap.
    fn with_node<T>(
        &self,
        path: &[String],
        f: impl FnOnce(&KeyNode<&[u8]>) -> Option<T>,
    ) -> Option<T> {
        guarded(|| {
            let hive = Hive::without_validation(&self.bytes[..]).ok()?;
            let mut node = hive.root_key_node().ok()?;
            for name in path {
                node = node.subkey(name)?.ok()?;
            }
            f(&node)
        })
        .ok()
        .flatten()
    }
}

/// Runs nt-hive code so that a panic on hostile input becomes an error, not a crash.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "malformed hive structure".into());
        format!("malformed hive structure ({msg})")
    })
}

/// A registry key inside a [`LoadedHive`].
#[derive(Clone)]
pub struct Key<'h> {
    hive: &'h LoadedHive,
    path: Vec<String>,
}

impl fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.path.join("\\"))
    }
}

/// Registry value types, as numbered by Windows (`REG_NONE` = 0 … `REG_QWORD` = 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[repr(u32)]
pub enum ValueType {
    None = 0,
    Sz = 1,
    ExpandSz = 2,
    Binary = 3,
    Dword = 4,
    DwordBigEndian = 5,
    Link = 6,
    MultiSz = 7,
    ResourceList = 8,
    FullResourceDescriptor = 9,
    ResourceRequirementsList = 10,
    Qword = 11,
}

impl ValueType {
    /// The type's number in a hive or a `.reg` file's `hex(N):`.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The type Windows numbers `code`; `None` for a number it does not define.
    pub fn from_code(code: u32) -> Option<ValueType> {
        KeyValueDataType::n(code).map(Self::from_nt)
    }

    fn from_nt(t: KeyValueDataType) -> Self {
        match t {
            KeyValueDataType::RegNone => ValueType::None,
            KeyValueDataType::RegSZ => ValueType::Sz,
            KeyValueDataType::RegExpandSZ => ValueType::ExpandSz,
            KeyValueDataType::RegBinary => ValueType::Binary,
            KeyValueDataType::RegDWord => ValueType::Dword,
            KeyValueDataType::RegDWordBigEndian => ValueType::DwordBigEndian,
            KeyValueDataType::RegLink => ValueType::Link,
            KeyValueDataType::RegMultiSZ => ValueType::MultiSz,
            KeyValueDataType::RegResourceList => ValueType::ResourceList,
            KeyValueDataType::RegFullResourceDescriptor => ValueType::FullResourceDescriptor,
            KeyValueDataType::RegResourceRequirementsList => ValueType::ResourceRequirementsList,
            KeyValueDataType::RegQWord => ValueType::Qword,
        }
    }
}

/// A value read out of a hive: its name, type and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Empty for the key's default value.
    pub name: String,
    /// `None` when the hive holds a type number Windows does not define; the data is
    /// then treated as binary.
    pub kind: Option<ValueType>,
    pub data: Vec<u8>,
}

impl Value {
    /// REG_SZ / REG_EXPAND_SZ (and, leniently, REG_BINARY holding UTF-16) as text, without
    /// the terminating NUL and anything after it.
    pub fn as_string(&self) -> Option<String> {
        match self.kind {
            Some(ValueType::Sz | ValueType::ExpandSz | ValueType::Link) => {
                Some(utf16_until_nul(&self.data))
            }
            _ => None,
        }
    }

    pub fn as_dword(&self) -> Option<u32> {
        match self.kind {
            Some(ValueType::Dword) => u32_at(&self.data, 0),
            Some(ValueType::DwordBigEndian) if self.data.len() >= 4 => {
                Some(u32::from_be_bytes(self.data[..4].try_into().ok()?))
            }
            _ => None,
        }
    }

    pub fn as_qword(&self) -> Option<u64> {
        match self.kind {
            Some(ValueType::Qword) => u64_at(&self.data, 0),
            _ => self.as_dword().map(u64::from),
        }
    }

    pub fn as_multi_string(&self) -> Option<Vec<String>> {
        if self.kind != Some(ValueType::MultiSz) {
            return None;
        }
        let units: Vec<u16> = u16s(&self.data).collect();
        Some(
            units
                .split(|&u| u == 0)
                .filter(|s| !s.is_empty())
                .map(String::from_utf16_lossy)
                .collect(),
        )
    }
}

/// Decodes UTF-16LE up to the first NUL (lossily: hives hold odd strings).
pub fn utf16_until_nul(data: &[u8]) -> String {
    let units: Vec<u16> = u16s(data).take_while(|&u| u != 0).collect();
    String::from_utf16_lossy(&units)
}

impl<'h> Key<'h> {
    /// The key's own name (the root key's stored name for the root).
    pub fn name(&self) -> String {
        match self.path.last() {
            Some(n) => n.clone(),
            None => self
                .hive
                .with_node(&self.path, |n| n.name().ok().map(|s| s.to_string_lossy()))
                .unwrap_or_default(),
        }
    }

    /// Path from the hive root, backslash-separated.
    pub fn path(&self) -> String {
        self.path.join("\\")
    }

    /// A descendant key by backslash-separated relative path (case-insensitive).
    pub fn subkey(&self, rel: &str) -> Option<Key<'h>> {
        let mut path = self.path.clone();
        let mut names = Vec::new();
        for part in rel.split('\\').filter(|p| !p.is_empty()) {
            names.push(part.to_string());
        }
        // Resolve each step to the name as stored, so later walks are exact.
        let resolved = self.hive.with_node(&self.path, |node| {
            let mut node = node.clone();
            let mut stored = Vec::new();
            for name in &names {
                node = node.subkey(name)?.ok()?;
                stored.push(node.name().ok()?.to_string_lossy());
            }
            Some(stored)
        })?;
        path.extend(resolved);
        Some(Key {
            hive: self.hive,
            path,
        })
    }

    /// Direct subkeys, in the hive's order. Unreadable entries are left out.
    pub fn subkeys(&self) -> Vec<Key<'h>> {
        let names = self
            .hive
            .with_node(&self.path, |node| {
                let mut out = Vec::new();
                if let Some(Ok(iter)) = node.subkeys() {
                    for sk in iter.flatten() {
                        if let Ok(n) = sk.name() {
                            out.push(n.to_string_lossy());
                        }
                    }
                }
                Some(out)
            })
            .unwrap_or_default();
        names
            .into_iter()
            .map(|n| {
                let mut path = self.path.clone();
                path.push(n);
                Key {
                    hive: self.hive,
                    path,
                }
            })
            .collect()
    }

    /// One value by name (case-insensitive; "" is the default value).
    pub fn value(&self, name: &str) -> Option<Value> {
        self.hive.with_node(&self.path, |node| {
            let v = node.value(name)?.ok()?;
            read_value(&v)
        })
    }

    /// All values of the key, in the hive's order. Unreadable values are left out.
    pub fn values(&self) -> Vec<Value> {
        self.hive
            .with_node(&self.path, |node| {
                let mut out = Vec::new();
                if let Some(Ok(iter)) = node.values() {
                    for v in iter.flatten() {
                        if let Some(val) = read_value(&v) {
                            out.push(val);
                        }
                    }
                }
                Some(out)
            })
            .unwrap_or_default()
    }

    /// Visits this key and every key below it, depth first in the hive's order, with its
    /// path relative to this key ("" for itself) and its values. One walk over the hive, for
    /// exports. Each key cell is visited once: a subkey list that leads back to a key
    /// already visited (a loop to the key itself or an ancestor, or a key listed under two
    /// parents) is reported and not followed. At most `keys_left` keys are visited (the
    /// count is taken from it) and none deeper than [`limits::REGISTRY_MAX_DEPTH`]; the
    /// visitor may stop the walk. What was not visited, and why, is in the report.
    pub fn walk(
        &self,
        keys_left: &mut usize,
        visit: &mut dyn FnMut(&str, &[Value]) -> Visit,
    ) -> WalkReport {
        let mut walker = Walker::new(keys_left, visit);
        let outcome = guarded(|| {
            let hive = Hive::without_validation(&self.hive.bytes[..]).ok()?;
            let mut node = hive.root_key_node().ok()?;
            for name in &self.path {
                node = node.subkey(name)?.ok()?;
            }
            walker.run(node);
            Some(())
        });
        if let Err(reason) = outcome {
            walker.problem(WalkProblem::Damaged {
                path: String::new(),
                reason,
            });
        }
        walker.finish()
    }

    /// The type number of one value as stored, also when Windows defines no such type:
    /// the SAM keeps a user's RID in the type of `Users\Names\<name>`'s default value.
    pub fn value_type_code(&self, name: &str) -> Option<u32> {
        self.hive.with_node(&self.path, |node| {
            let v = node.value(name)?.ok()?;
            match v.data_type() {
                Ok(t) => Some(ValueType::from_nt(t).code()),
                Err(nt_hive::NtHiveError::UnsupportedKeyValueDataType { actual, .. }) => {
                    Some(actual)
                }
                Err(_) => None,
            }
        })
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.value(name)?.as_string()
    }

    pub fn dword(&self, name: &str) -> Option<u32> {
        self.value(name)?.as_dword()
    }
}

fn read_value(v: &nt_hive::KeyValue<&[u8]>) -> Option<Value> {
    decode_value(v).ok()
}

/// A value's name, type and data, or why they do not read.
pub(super) fn decode_value(v: &nt_hive::KeyValue<&[u8]>) -> Result<Value, String> {
    let name = v.name().map_err(|e| e.to_string())?.to_string_lossy();
    let kind = v.data_type().ok().map(ValueType::from_nt);
    let data = match v.data().map_err(|e| e.to_string())? {
        KeyValueData::Small(d) => d.to_vec(),
        big @ KeyValueData::Big(_) => big.into_vec().map_err(|e| e.to_string())?,
    };
    Ok(Value { name, kind, data })
}

/// Base-block fields checked before nt-hive reads the hive.
const ROOT_CELL_OFFSET: usize = 36;
const HIVE_BINS_SIZE: usize = 40;

/// The base block's promises that nt-hive takes on trust: hive-bins data the file really
/// holds, and a root cell inside it (a root offset of 0xFFFFFFFF, "no cell", used to trip an
/// assertion deep in nt-hive and leave an empty hive behind).
fn check_base_block(bytes: &[u8]) -> Result<(), String> {
    let (Some(root), Some(bins)) = (
        u32_at(bytes, ROOT_CELL_OFFSET),
        u32_at(bytes, HIVE_BINS_SIZE),
    ) else {
        return Err("the base block is truncated".into());
    };
    let held = bytes.len().saturating_sub(BASE_BLOCK_LEN);
    if bins as usize > held {
        return Err(format!(
            "the base block says {bins} bytes of hive bins follow it, the file holds {held}"
        ));
    }
    if root >= bins || root % 8 != 0 {
        return Err(format!(
            "the root key's cell offset {root:#x} lies outside the {bins:#x} bytes of hive bins"
        ));
    }
    Ok(())
}

/// Header sequence numbers differ: the hive was not cleanly flushed.
pub fn is_dirty(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && bytes[4..8] != bytes[8..12]
}

/// Sets the secondary sequence number to the primary one and fixes the header checksum,
/// in memory, so the reader accepts the hive.
pub fn mark_clean(bytes: &mut [u8]) {
    if bytes.len() < BASE_BLOCK_LEN {
        return;
    }
    let primary: [u8; 4] = bytes[4..8].try_into().unwrap_or_default();
    bytes[8..12].copy_from_slice(&primary);
    let sum = header_checksum(bytes);
    bytes[508..512].copy_from_slice(&sum.to_le_bytes());
}

/// XOR-32 checksum of the first 508 bytes of a base block, as Windows computes it.
pub fn header_checksum(block: &[u8]) -> u32 {
    let mut sum = 0u32;
    for c in block[..508].chunks_exact(4) {
        sum ^= u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    match sum {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        s => s,
    }
}

/// A host file as a place: the entry of its folder's volume.
fn host_place(path: &Path) -> Result<Place, VolumeError> {
    let shown = || VolumeError {
        place: path.display().to_string(),
        problem: Problem::NotFound,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(shown)?;
    let folder = Place::host(dir);
    let e = folder
        .listing()?
        .entries
        .into_iter()
        .find(|e| e.name == name);
    e.map(|e| folder.entry(&e)).ok_or_else(shown)
}

/// The transaction logs beside the hive at `hive`: `<name>.LOG1`, `.LOG2` and the older
/// `.LOG`, matched case-insensitively (on a real volume the case differs between files).
pub fn find_logs_at(hive: &Place) -> Vec<Place> {
    let Some(dir) = hive.parent() else {
        return Vec::new();
    };
    let base = hive.name().to_lowercase();
    let wanted = [".log1", ".log2", ".log"].map(|s| format!("{base}{s}"));
    let mut found: Vec<(usize, Place)> = Vec::new();
    for (e, place) in dir.list().unwrap_or_default() {
        let n = e.name.to_lowercase();
        if let Some(i) = wanted.iter().position(|w| *w == n) {
            if e.kind != Kind::Folder {
                found.push((i, place));
            }
        }
    }
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, p)| p).collect()
}

/// [`find_logs_at`] for a hive file of the machine Lifeboat runs on.
pub fn find_logs(hive: &Path) -> Vec<std::path::PathBuf> {
    host_place(hive)
        .map(|p| find_logs_at(&p))
        .unwrap_or_default()
        .iter()
        .filter_map(Place::host_path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_type_codes_are_windows_numbers() {
        // winnt.h: REG_NONE 0, REG_SZ 1, REG_EXPAND_SZ 2, REG_BINARY 3, REG_DWORD 4,
        // REG_DWORD_BIG_ENDIAN 5, REG_LINK 6, REG_MULTI_SZ 7, REG_RESOURCE_LIST 8,
        // REG_FULL_RESOURCE_DESCRIPTOR 9, REG_RESOURCE_REQUIREMENTS_LIST 10, REG_QWORD 11.
        let windows = [
            (0, ValueType::None),
            (1, ValueType::Sz),
            (2, ValueType::ExpandSz),
            (3, ValueType::Binary),
            (4, ValueType::Dword),
            (5, ValueType::DwordBigEndian),
            (6, ValueType::Link),
            (7, ValueType::MultiSz),
            (8, ValueType::ResourceList),
            (9, ValueType::FullResourceDescriptor),
            (10, ValueType::ResourceRequirementsList),
            (11, ValueType::Qword),
        ];
        for (code, t) in windows {
            assert_eq!(ValueType::from_code(code), Some(t), "{code}");
            assert_eq!(t.code(), code, "{t:?}");
        }
    }

    #[test]
    fn value_type_numbers_windows_does_not_define_are_none() {
        // 12 and above are unused; the SAM stores RIDs (0x1F4 = 500) as value types.
        for code in [12, 0x1F4, 0x8000_0000, u32::MAX] {
            assert_eq!(ValueType::from_code(code), None, "{code:#x}");
        }
    }
}
