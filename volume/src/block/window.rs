//! A window onto a block source: a partition on its disk, a volume inside an image.

use super::{check_range, BlockError, BlockSource, Source};

/// `len` bytes of `inner` from `start`, read as a source of their own.
pub struct Window {
    inner: Source,
    start: u64,
    len: u64,
    name: String,
}

impl Window {
    /// A window that must lie inside `inner`: a partition table entry pointing past the end
    /// of its disk is refused here, with the source's name.
    pub fn new(inner: Source, start: u64, len: u64, name: String) -> Result<Window, BlockError> {
        let fits = start.checked_add(len).is_some_and(|e| e <= inner.size());
        if !fits {
            return Err(BlockError::OutOfRange {
                name,
                offset: start,
                len: usize::try_from(len).unwrap_or(usize::MAX),
                size: inner.size(),
            });
        }
        Ok(Window {
            inner,
            start,
            len,
            name,
        })
    }

    /// Where the window starts on the source beneath it.
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl BlockSource for Window {
    fn size(&self) -> u64 {
        self.len
    }
    fn sector_size(&self) -> u32 {
        self.inner.sector_size()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(&self.name, self.len, offset, buf.len())?;
        // Lost ranges come back in the inner source's offsets: give them in the window's.
        self.inner
            .read_at(self.start + offset, buf)
            .map_err(|e| match e {
                BlockError::Damaged { lost, .. } => BlockError::Damaged {
                    name: self.name.clone(),
                    lost: lost
                        .into_iter()
                        .map(|r| {
                            r.start.saturating_sub(self.start)..r.end.saturating_sub(self.start)
                        })
                        .collect(),
                },
                other => other,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::MemSource;
    use std::sync::Arc;

    #[test]
    fn a_window_reads_its_part_and_cannot_reach_past_it() {
        let disk: Source = Arc::new(MemSource::new("disk", (0u8..100).collect()));
        let w = Window::new(disk.clone(), 10, 20, "disk, partition 1".into()).unwrap();
        let mut b = [0u8; 2];
        w.read_at(18, &mut b).unwrap();
        assert_eq!(b, [28, 29]);
        assert!(w.read_at(19, &mut b).is_err());
        assert!(Window::new(disk.clone(), 90, 11, "p".into()).is_err());
        assert!(Window::new(disk, u64::MAX, 2, "p".into()).is_err());
    }

    /// Loses bytes 30..40 of a 100-byte disk.
    struct Lossy;
    impl BlockSource for Lossy {
        fn size(&self) -> u64 {
            100
        }
        fn name(&self) -> &str {
            "lossy"
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            buf.fill(1);
            let end = offset + buf.len() as u64;
            let (s, e) = (offset.max(30), end.min(40));
            if s >= e {
                return Ok(());
            }
            buf[(s - offset) as usize..(e - offset) as usize].fill(0);
            Err(BlockError::Damaged {
                name: "lossy".into(),
                lost: std::iter::once(s..e).collect(),
            })
        }
    }

    #[test]
    fn lost_bytes_are_given_in_the_windows_offsets() {
        let w = Window::new(Arc::new(Lossy), 20, 50, "lossy, partition 2".into()).unwrap();
        let mut b = [9u8; 30];
        match w.read_at(5, &mut b) {
            Err(BlockError::Damaged { name, lost }) => {
                assert_eq!(name, "lossy, partition 2");
                assert_eq!((lost.len(), &lost[0]), (1, &(10..20)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(&b[5..15], &[0; 10]);
        assert!(w.read_at(25, &mut b[..5]).is_ok());
    }
}
