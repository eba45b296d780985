//! Where each sector of the plain volume comes from: the map from the volume Windows shows
//! to the bytes on the disk.
//!
//! - The metadata copies, the relocated sectors' store and the EOW structures read as zeros
//!   (as Windows and `dislocker` show them).
//! - The first sectors (Windows 7 and later) are stored, encrypted, at the relocation offset
//!   the metadata gives; they are read from there and decrypted with the IV of where they lie.
//! - Vista keeps the first 8 KiB plain; its first sector gets back the NTFS signature and the
//!   `$MFTMirr` cluster number BitLocker replaced.
//! - A sector is encrypted per the EOW bitmaps, or else when it lies below the encrypted
//!   size of a volume being converted, or else when the volume is encrypted.

use std::ops::Range;

use super::eow::Eow;

/// What to do for a run of sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Zeros,
    /// Plain bytes at this offset of the disk.
    Plain(u64),
    /// Encrypted bytes at this offset of the disk.
    Encrypted(u64),
    /// Vista's first sector, at 0, to patch.
    VistaBoot,
}

/// A run of the plain volume: `len` bytes from `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub at: u64,
    pub len: u64,
    pub from: Source,
}

/// Which sectors are encrypted.
#[derive(Debug, Clone)]
pub enum Encrypted {
    Nothing,
    Everything,
    /// Bytes below this offset (a volume being converted).
    Below(u64),
    Eow(Eow),
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub sector: u64,
    /// Byte ranges that read as zeros, sorted and not overlapping.
    pub zeros: Vec<Range<u64>>,
    /// Bytes at the start stored elsewhere: (length, where).
    pub relocated: Option<(u64, u64)>,
    /// Vista: the plain header's length (8 KiB).
    pub vista_plain: u64,
    pub encrypted: Encrypted,
}

/// The Vista volume header's plain part.
pub const VISTA_PLAIN: u64 = 0x2000;

impl Layout {
    pub fn new(
        sector: u64,
        mut zeros: Vec<Range<u64>>,
        relocated: Option<(u64, u64)>,
        vista: bool,
        encrypted: Encrypted,
    ) -> Layout {
        // Whole sectors: a hostile offset must not split a sector between two sources.
        for r in zeros.iter_mut() {
            *r = r.start / sector * sector..r.end.div_ceil(sector) * sector;
        }
        zeros.retain(|r| r.start < r.end);
        zeros.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(zeros.len());
        for r in zeros {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        Layout {
            sector,
            zeros: merged,
            relocated,
            vista_plain: if vista { VISTA_PLAIN } else { 0 },
            encrypted,
        }
    }

    /// The runs covering `range` (sector-aligned), in order.
    pub fn runs(&self, range: Range<u64>) -> Vec<Run> {
        let mut out = Vec::new();
        let mut at = range.start;
        while at < range.end {
            let run = self.run_at(at, range.end);
            at += run.len;
            out.push(run);
        }
        out
    }

    /// The longest run from `at` (before `end`) that comes from one place in one way.
    fn run_at(&self, at: u64, end: u64) -> Run {
        let s = self.sector;
        if at < self.vista_plain {
            if at == 0 {
                return Run {
                    at,
                    len: s,
                    from: Source::VistaBoot,
                };
            }
            let len = end.min(self.vista_plain) - at;
            return Run {
                at,
                len,
                from: Source::Plain(at),
            };
        }
        if let Some((n, store)) = self.relocated.filter(|(n, _)| at < *n) {
            let to = end.min(n);
            let (enc, len) = self.class(store + at, to - at);
            return Run {
                at,
                len,
                from: disk(enc, store + at),
            };
        }
        let z = self.zeros.iter().find(|z| z.end > at);
        if let Some(z) = z.filter(|z| z.start <= at) {
            return Run {
                at,
                len: end.min(z.end) - at,
                from: Source::Zeros,
            };
        }
        let to = z.map_or(end, |z| end.min(z.start));
        let (enc, len) = self.class(at, to - at);
        Run {
            at,
            len,
            from: disk(enc, at),
        }
    }

    /// Whether the disk bytes at `at` are encrypted, and for how many of the next `max`
    /// bytes that holds (a multiple of the sector).
    fn class(&self, at: u64, max: u64) -> (bool, u64) {
        let s = self.sector;
        let (enc, until) = match &self.encrypted {
            Encrypted::Nothing => (false, u64::MAX),
            Encrypted::Everything => (true, u64::MAX),
            Encrypted::Below(limit) if at < *limit => (true, limit.div_ceil(s) * s),
            Encrypted::Below(_) => (false, u64::MAX),
            Encrypted::Eow(eow) => match eow.lookup(at) {
                Some((enc, end)) => (enc, end.div_ceil(s) * s),
                // Outside every region: only the relocated sectors' store, encrypted.
                None => (true, at + s),
            },
        };
        (enc, until.saturating_sub(at).min(max))
    }
}

fn disk(encrypted: bool, at: u64) -> Source {
    if encrypted {
        Source::Encrypted(at)
    } else {
        Source::Plain(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_relocated_zeroed_and_partly_encrypted_sectors() {
        let l = Layout::new(
            512,
            vec![0x10000..0x20000, 0x30000..0x32000, 0x18000..0x21000],
            Some((0x2000, 0x30000)),
            false,
            Encrypted::Below(0x40000),
        );
        assert_eq!(l.zeros, vec![0x10000..0x21000, 0x30000..0x32000]);
        let runs = l.runs(0..0x50000);
        assert_eq!(
            runs,
            vec![
                Run {
                    at: 0,
                    len: 0x2000,
                    from: Source::Encrypted(0x30000)
                },
                Run {
                    at: 0x2000,
                    len: 0xe000,
                    from: Source::Encrypted(0x2000)
                },
                Run {
                    at: 0x10000,
                    len: 0x11000,
                    from: Source::Zeros
                },
                Run {
                    at: 0x21000,
                    len: 0xf000,
                    from: Source::Encrypted(0x21000)
                },
                Run {
                    at: 0x30000,
                    len: 0x2000,
                    from: Source::Zeros
                },
                Run {
                    at: 0x32000,
                    len: 0xe000,
                    from: Source::Encrypted(0x32000)
                },
                Run {
                    at: 0x40000,
                    len: 0x10000,
                    from: Source::Plain(0x40000)
                },
            ]
        );
        let vista = Layout::new(512, vec![], None, true, Encrypted::Everything);
        assert_eq!(
            vista.runs(0..0x2400),
            vec![
                Run {
                    at: 0,
                    len: 512,
                    from: Source::VistaBoot
                },
                Run {
                    at: 512,
                    len: 0x1e00,
                    from: Source::Plain(512)
                },
                Run {
                    at: 0x2000,
                    len: 0x400,
                    from: Source::Encrypted(0x2000)
                },
            ]
        );
    }
}
