//! A block source: bytes at offsets, nothing else. The bottom of the stack and the one
//! trait every layer above reads through (a partition is a [`Window`] onto a disk, a
//! BitLocker volume decrypts one, the rescue layer maps one).
//!
//! Promises:
//! - read-only: the trait has no write method and [`FileSource`] opens for reading only;
//! - every read is bounded: a read past the end is [`BlockError::OutOfRange`], never a
//!   short read that a caller could mistake for data;
//! - every error names the source and the offset.
//!
//! Reads take `&self`, so one source serves several threads (the writer's readers) at once.

mod file;
mod window;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use file::{FileSource, OpenError};
pub use window::Window;

/// Bytes at offsets, read-only.
pub trait BlockSource: Send + Sync {
    /// Length in bytes.
    fn size(&self) -> u64;
    /// The logical sector size (512 or 4096). Reads need not be aligned to it; a layer that
    /// needs aligned reads (a raw device on Windows) aligns them itself.
    fn sector_size(&self) -> u32 {
        512
    }
    /// What this source is, for messages: `/dev/sdb`, `disk.img, partition 3`.
    fn name(&self) -> &str;
    /// Fills `buf` with the bytes at `offset`. All of `buf` or an error: a read that would
    /// run past [`size`](Self::size) is [`BlockError::OutOfRange`] and reads nothing.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError>;
}

/// A shared source, as layers hold the one below them.
pub type Source = Arc<dyn BlockSource>;

impl<T: BlockSource + ?Sized> BlockSource for Arc<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn sector_size(&self) -> u32 {
        (**self).sector_size()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_at(offset, buf)
    }
}

/// Why bytes could not be had from a block source.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The operating system refused or failed the read (a bad sector on a disk read
    /// without the rescue layer, a disk gone).
    #[error("{name}: cannot read {len} bytes at offset {offset}: {source}")]
    Io {
        name: String,
        offset: u64,
        len: usize,
        #[source]
        source: std::io::Error,
    },
    /// The read lies (partly) beyond the end of the source: a structure on the disk points
    /// outside its volume.
    #[error("{name}: {len} bytes at offset {offset} lie beyond its end ({size} bytes)")]
    OutOfRange {
        name: String,
        offset: u64,
        len: usize,
        size: u64,
    },
    /// Some bytes of the read are lost for good (bad sectors the rescue layer gave up on):
    /// the buffer holds the good bytes, and zeros in the `lost` ranges (absolute offsets,
    /// sorted, not overlapping). A reader that can use a damaged result keeps the buffer.
    #[error("{name}: {} unreadable bytes (bad sectors) between offsets {} and {}; zeros stand in for them", lost_bytes(.lost), .lost.first().map_or(0, |r| r.start), .lost.last().map_or(0, |r| r.end))]
    Damaged { name: String, lost: Vec<Range<u64>> },
}

fn lost_bytes(lost: &[Range<u64>]) -> u64 {
    lost.iter().map(|r| r.end - r.start).sum()
}

impl BlockError {
    /// The ranges lost when the buffer is otherwise good ([`BlockError::Damaged`]).
    pub fn lost(&self) -> Option<&[Range<u64>]> {
        match self {
            BlockError::Damaged { lost, .. } => Some(lost),
            _ => None,
        }
    }
}

/// Checks that `len` bytes at `offset` lie inside a source of `size` bytes.
pub fn check_range(name: &str, size: u64, offset: u64, len: usize) -> Result<(), BlockError> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(BlockError::OutOfRange {
            name: name.to_string(),
            offset,
            len,
            size,
        }),
    }
}

/// A block source held in memory: tests, and small volumes built in memory.
pub struct MemSource {
    name: String,
    data: Vec<u8>,
    sector: u32,
}

impl MemSource {
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> MemSource {
        MemSource {
            name: name.into(),
            data,
            sector: 512,
        }
    }

    pub fn with_sector_size(mut self, sector: u32) -> MemSource {
        self.sector = sector;
        self
    }
}

impl fmt::Debug for MemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemSource({}, {} bytes)", self.name, self.data.len())
    }
}

impl BlockSource for MemSource {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn sector_size(&self) -> u32 {
        self.sector
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(&self.name, self.size(), offset, buf.len())?;
        let at = offset as usize;
        buf.copy_from_slice(&self.data[at..at + buf.len()]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inside_and_refuses_past_the_end() {
        let m = MemSource::new("m", (0u8..=255).collect());
        let mut b = [0u8; 4];
        m.read_at(252, &mut b).unwrap();
        assert_eq!(b, [252, 253, 254, 255]);
        let e = m.read_at(253, &mut b).unwrap_err();
        assert!(matches!(
            e,
            BlockError::OutOfRange {
                offset: 253,
                len: 4,
                size: 256,
                ..
            }
        ));
        let e = m.read_at(u64::MAX - 1, &mut b).unwrap_err();
        assert!(matches!(e, BlockError::OutOfRange { .. }));
    }
}
