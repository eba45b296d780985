//! `$Secure`: the security descriptors of an NTFS 3.x volume, each stored once in the
//! `$SDS` stream and found by its security id through the `$SII` index. Each `$SDS` entry
//! repeats its hash, id, offset and length in a header; all four are checked against the
//! index and the descriptor's bytes before the descriptor is given out. Windows keeps a
//! second copy of each entry 256 KiB further on, used when the first fails its checks.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::{ErrorKind, NtfsError, Place};
use super::file::File;
use super::index::Index;
use super::limits;
use super::stream::Content;
use super::{attr, Inner};
use crate::le::{u32_at, u64_at};

/// The `$Secure` file's record.
pub const SECURE_RECORD: u64 = 9;
/// Bytes of an `$SDS` entry header (hash, id, offset, length).
const HEADER: usize = 20;
/// Distance to the mirror copy of an `$SDS` entry.
const MIRROR: u64 = 0x40000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SdsHeader {
    hash: u32,
    id: u32,
    offset: u64,
    len: u32,
}

impl SdsHeader {
    fn parse(b: &[u8]) -> Option<SdsHeader> {
        Some(SdsHeader {
            hash: u32_at(b, 0)?,
            id: u32_at(b, 4)?,
            offset: u64_at(b, 8)?,
            len: u32_at(b, 16)?,
        })
    }
}

/// The hash NTFS keeps of a descriptor: each 32-bit word added to the hash rotated left 3.
pub fn hash(descriptor: &[u8]) -> u32 {
    descriptor.chunks_exact(4).fold(0u32, |h, w| {
        h.rotate_left(3)
            .wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    })
}

/// `$SII` read whole: security id → its `$SDS` entry.
pub(crate) struct Secure {
    sds: Content,
    ids: HashMap<u32, SdsHeader>,
}

impl Secure {
    pub fn load(vol: &Arc<Inner>) -> Result<Secure, NtfsError> {
        let file = File::load(vol, super::record::FileRef::record(SECURE_RECORD))?;
        let corrupt = |why: &str| {
            NtfsError::new(
                &vol.dev.name,
                Place::Record(SECURE_RECORD),
                ErrorKind::Corrupt(why.to_string()),
            )
        };
        let sds = file
            .content(attr::DATA, "$SDS")?
            .ok_or_else(|| corrupt("$Secure has no $SDS stream"))?;
        let index =
            Index::open(vol, &file, "$SII")?.ok_or_else(|| corrupt("$Secure has no $SII index"))?;
        let mut ids = HashMap::new();
        let mut problems = Vec::new();
        let mut visit = |node: &super::index::Node, e: &super::index::Entry| {
            let entry = node.entry(e);
            let off = usize::from(crate::le::u16_at(entry, 0).unwrap_or(0));
            let header = entry.get(off..off + HEADER).and_then(SdsHeader::parse);
            if let Some(h) = header {
                if ids.len() >= limits::SECURITY_IDS_MAX {
                    return Err(NtfsError::new(
                        &vol.dev.name,
                        Place::Record(SECURE_RECORD),
                        ErrorKind::TooLarge {
                            what: "security ids",
                            value: ids.len() as u64,
                            limit: limits::SECURITY_IDS_MAX as u64,
                        },
                    ));
                }
                ids.insert(h.id, h);
            }
            Ok(())
        };
        index.walk(&mut visit, &mut problems)?;
        if let Some(p) = problems.into_iter().next() {
            return Err(p);
        }
        Ok(Secure { sds, ids })
    }

    /// The descriptor for `id`: None when `$SII` has no such id.
    pub fn descriptor(&self, vol: &Inner, id: u32) -> Result<Option<Vec<u8>>, NtfsError> {
        let Some(&want) = self.ids.get(&id) else {
            return Ok(None);
        };
        let err = |kind| NtfsError::new(&vol.dev.name, Place::SecurityId(id), kind);
        let len = u64::from(want.len);
        if len > limits::SECURITY_DESCRIPTOR_MAX_BYTES {
            return Err(err(ErrorKind::TooLarge {
                what: "a security descriptor",
                value: len,
                limit: limits::SECURITY_DESCRIPTOR_MAX_BYTES,
            }));
        }
        let first = self.entry_at(vol, want, want.offset);
        match first {
            Ok(d) => Ok(Some(d)),
            Err(why) => match self.entry_at(vol, want, want.offset.saturating_add(MIRROR)) {
                Ok(d) => Ok(Some(d)),
                Err(_) => Err(err(ErrorKind::Corrupt(why))),
            },
        }
    }

    /// The descriptor of the `$SDS` entry at `at`, if it matches `want` in every field.
    fn entry_at(&self, vol: &Inner, want: SdsHeader, at: u64) -> Result<Vec<u8>, String> {
        if (want.len as usize) < HEADER {
            return Err(format!("an $SDS entry of {} bytes", want.len));
        }
        let mut b = vec![0u8; want.len as usize];
        self.sds
            .read_exact(&vol.dev, at, &mut b)
            .map_err(|f| format!("$SDS at offset {at}: {f}"))?;
        let got = SdsHeader::parse(&b).ok_or("a short $SDS entry")?;
        let expected = SdsHeader {
            offset: want.offset,
            ..want
        };
        if got != expected {
            return Err(format!(
                "$SDS at offset {at} holds {got:?}, $SII says {expected:?}"
            ));
        }
        let descriptor = b.split_off(HEADER);
        if hash(&descriptor) != want.hash {
            return Err(format!(
                "$SDS at offset {at}: the descriptor fails its hash"
            ));
        }
        Ok(descriptor)
    }
}
