//! The unlocked volume: a block source giving the plain volume. Each read is mapped to runs
//! (see `layout`), read from the source beneath, decrypted in a buffer of the read's own,
//! and (for large reads) decrypted on several cores at once.

use std::fmt;
use std::ops::Range;

use super::crypt::SectorCipher;
use super::error::{BitLockerError, WrongKeyWhy};
use super::info::Info;
use super::layout::{Layout, Source as From};
use crate::block::{check_range, BlockError, BlockSource, Source};

/// Reads this large or larger are decrypted on several threads.
const PARALLEL_MIN: usize = 256 << 10;
/// Threads used for one read; the machines Lifeboat runs on have 2 to 8 cores.
const THREADS_MAX: usize = 4;

/// A BitLocker volume opened with its key: reads give the plain volume.
pub struct Unlocked {
    src: Source,
    name: String,
    size: u64,
    sector: usize,
    layout: Layout,
    cipher: Option<SectorCipher>,
    info: Info,
    /// Vista: the `$MFTMirr` cluster number to put back in the first sector.
    vista_mirror: u64,
    copy: usize,
    threads: usize,
}

impl Unlocked {
    pub(crate) fn new(
        src: Source,
        layout: Layout,
        cipher: Option<SectorCipher>,
        info: Info,
        vista_mirror: u64,
        copy: usize,
    ) -> Unlocked {
        let sector = layout.sector as usize;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(THREADS_MAX));
        Unlocked {
            name: format!("{} (BitLocker, unlocked)", src.name()),
            // Whole sectors only: a partial last sector cannot be decrypted.
            size: src.size() / layout.sector * layout.sector,
            src,
            sector,
            layout,
            cipher,
            info,
            vista_mirror,
            copy,
            threads,
        }
    }

    /// What the volume said before it was unlocked.
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// Whether `candidate` is the volume's key (the FVEK, and the tweak or second XTS key,
    /// as `cryptsetup bitlkDump --dump-volume-key` shows them): for a test against an
    /// independent reader, without the key leaving this type. False on a decrypted volume.
    pub fn is_volume_key(&self, candidate: &[u8]) -> bool {
        self.cipher.as_ref().is_some_and(|c| c.is_key(candidate))
    }

    /// Which copy of the metadata is used (1, 2 or 3): another than 1 means damage.
    pub fn metadata_copy(&self) -> usize {
        self.copy
    }

    /// Never garbage: the plain volume must begin with an NTFS boot sector whose `$MFT`
    /// record 0 begins with `FILE`, or with a FAT boot sector (BitLocker To Go). Where the
    /// `$MFT` is blank on the disk (trimmed) or lies past the end of an image cut short,
    /// its mirror (`$MFTMirr`, which NTFS falls back to) decides; an image cut short before
    /// both rests on the keys' authentication (AES-CCM) alone.
    pub(crate) fn verify(&self) -> Result<(), BitLockerError> {
        let wrong = |why| BitLockerError::WrongKey {
            name: self.src.name().to_string(),
            why,
        };
        let mut boot = [0u8; 512];
        self.read_at(0, &mut boot)?;
        if &boot[3..11] != b"NTFS    " {
            return if is_fat(&boot) {
                Ok(())
            } else {
                Err(wrong(WrongKeyWhy::NotAFileSystem))
            };
        }
        let (Some(mft), Some(mirror)) = (mft_offset(&boot, 48), mft_offset(&boot, 56)) else {
            return Err(wrong(WrongKeyWhy::NoMft));
        };
        match self.record(mft)? {
            Some(true) => return Ok(()),
            Some(false) if !self.stored_blank(mft)? => return Err(wrong(WrongKeyWhy::NoMft)),
            _ => {}
        }
        match self.record(mirror)? {
            Some(false) => Err(wrong(WrongKeyWhy::NoMft)),
            Some(true) | None => Ok(()),
        }
    }

    /// Whether the MFT record at `at` begins with `FILE`; `None` when `at` lies past the end.
    fn record(&self, at: u64) -> Result<Option<bool>, BlockError> {
        let mut record = [0u8; 4];
        match self.read_at(at, &mut record) {
            Ok(()) => Ok(Some(&record == b"FILE")),
            Err(BlockError::OutOfRange { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the sector holding the plain volume's byte `at` is stored as zeros.
    fn stored_blank(&self, at: u64) -> Result<bool, BlockError> {
        let s = self.sector as u64;
        let start = at / s * s;
        let mut sector = vec![0u8; self.sector];
        for run in self.layout.runs(start..start + s) {
            if let From::Encrypted(disk) | From::Plain(disk) = run.from {
                match self.src.read_at(disk, &mut sector) {
                    Ok(()) => return Ok(sector.iter().all(|&b| b == 0)),
                    Err(BlockError::OutOfRange { .. }) => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(false)
    }

    /// Fills `out` with the plain sectors from `at` (both sector-aligned).
    fn fill(&self, at: u64, out: &mut [u8]) -> Result<(), BlockError> {
        let mut lost = Vec::new();
        for run in self.layout.runs(at..at + out.len() as u64) {
            let part = &mut out[(run.at - at) as usize..][..run.len as usize];
            match run.from {
                From::Zeros => part.fill(0),
                From::Plain(disk) => self.read(disk, part, run.at, false, &mut lost)?,
                From::Encrypted(disk) => lost.extend(self.encrypted(disk, part, run.at)?),
                From::VistaBoot => {
                    self.read(0, part, 0, false, &mut lost)?;
                    part[3..11].copy_from_slice(b"NTFS    ");
                    part[0x38..0x40].copy_from_slice(&self.vista_mirror.to_le_bytes());
                }
            }
        }
        if lost.is_empty() {
            return Ok(());
        }
        Err(BlockError::Damaged {
            name: self.name.clone(),
            lost,
        })
    }

    /// Reads `part` from `disk`, where the plain volume's byte `at` is stored. Bytes the
    /// source lost are noted at the plain volume's offsets, as whole sectors when encrypted.
    fn read(
        &self,
        disk: u64,
        part: &mut [u8],
        at: u64,
        whole: bool,
        lost: &mut Vec<Range<u64>>,
    ) -> Result<(), BlockError> {
        match self.src.read_at(disk, part) {
            Ok(()) => Ok(()),
            Err(BlockError::Damaged { lost: l, .. }) => {
                let s = self.sector as u64;
                let end = at + part.len() as u64;
                for r in l {
                    let (mut a, mut b) = (
                        r.start.saturating_sub(disk) + at,
                        r.end.saturating_sub(disk) + at,
                    );
                    if whole {
                        (a, b) = (a / s * s, b.div_ceil(s) * s);
                    }
                    lost.push(a.max(at)..b.min(end));
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Reads and decrypts the encrypted run `part` stored at `disk` (the plain volume's
    /// byte `at`), returning the sectors lost; a large run is read and decrypted in parts on
    /// several threads at once.
    fn encrypted(
        &self,
        disk: u64,
        part: &mut [u8],
        at: u64,
    ) -> Result<Vec<Range<u64>>, BlockError> {
        let s = self.sector;
        if self.threads < 2 || part.len() < PARALLEL_MIN {
            return self.read_decrypt(disk, part, at);
        }
        let per = (part.len() / s).div_ceil(self.threads) * s;
        let results: Vec<_> = std::thread::scope(|scope| {
            let mut pieces = part.chunks_mut(per).enumerate();
            let first = pieces.next();
            let others: Vec<_> = pieces
                .map(|(i, p)| {
                    let off = (i * per) as u64;
                    scope.spawn(move || self.read_decrypt(disk + off, p, at + off))
                })
                .collect();
            let mut results =
                vec![first.map_or(Ok(Vec::new()), |(_, p)| self.read_decrypt(disk, p, at))];
            results.extend(
                others
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
            );
            results
        });
        let mut lost = Vec::new();
        for r in results {
            lost.extend(r?);
        }
        Ok(lost)
    }

    /// One thread's part of [`Self::encrypted`]: read, decrypt, zero the lost sectors.
    fn read_decrypt(
        &self,
        disk: u64,
        part: &mut [u8],
        at: u64,
    ) -> Result<Vec<Range<u64>>, BlockError> {
        let mut lost = Vec::new();
        self.read(disk, part, at, true, &mut lost)?;
        if let Some(c) = &self.cipher {
            c.decrypt(part, disk, self.sector);
        }
        for r in &lost {
            part[(r.start - at) as usize..(r.end - at) as usize].fill(0);
        }
        Ok(lost)
    }
}

/// Where `$MFT` (field at 48) or `$MFTMirr` (at 56) starts, from an NTFS boot sector.
fn mft_offset(boot: &[u8; 512], field: usize) -> Option<u64> {
    let bps = u64::from(u16::from_le_bytes([boot[11], boot[12]]));
    let spc = boot[13];
    // Above 0x80 the field is a negative power of two: 2^(256 - spc) sectors.
    let cluster = if spc <= 0x80 {
        bps * u64::from(spc)
    } else {
        bps.checked_shl(256 - u32::from(spc))?
    };
    let lcn = u64::from_le_bytes(boot.get(field..field + 8)?.try_into().ok()?);
    lcn.checked_mul(cluster).filter(|_| cluster > 0)
}

fn is_fat(boot: &[u8; 512]) -> bool {
    boot[510..] == [0x55, 0xaa] && (&boot[82..87] == b"FAT32" || &boot[54..57] == b"FAT")
}

impl BlockSource for Unlocked {
    fn size(&self) -> u64 {
        self.size
    }
    fn sector_size(&self) -> u32 {
        self.sector as u32
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(&self.name, self.size, offset, buf.len())?;
        let s = self.sector as u64;
        let (start, end) = (offset / s * s, (offset + buf.len() as u64).div_ceil(s) * s);
        if start == offset && end == offset + buf.len() as u64 {
            return self.fill(offset, buf);
        }
        let mut bounce = vec![0u8; (end - start) as usize];
        let r = self.fill(start, &mut bounce);
        let at = (offset - start) as usize;
        buf.copy_from_slice(&bounce[at..at + buf.len()]);
        match r {
            Err(BlockError::Damaged { name, lost }) => {
                let wanted = offset..offset + buf.len() as u64;
                let lost: Vec<_> = lost
                    .into_iter()
                    .map(|r| r.start.max(wanted.start)..r.end.min(wanted.end))
                    .filter(|r| r.start < r.end)
                    .collect();
                if lost.is_empty() {
                    Ok(())
                } else {
                    Err(BlockError::Damaged { name, lost })
                }
            }
            r => r,
        }
    }
}

impl fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unlocked {{ name: {:?}, size: {}, method: {}, metadata copy: {} }}",
            self.name, self.size, self.info.method, self.copy
        )
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // lists of lost byte ranges, one long here
mod tests {
    use super::*;
    use crate::bitlocker::info::{Guid, Method, State, Version};
    use crate::bitlocker::layout::Encrypted;
    use crate::block::MemSource;
    use std::sync::Arc;

    /// A source that has lost some bytes, as the rescue layer reports bad sectors: zeros
    /// there and `Damaged` with the ranges that meet the read.
    struct Lossy {
        inner: MemSource,
        lost: Vec<Range<u64>>,
    }

    impl BlockSource for Lossy {
        fn size(&self) -> u64 {
            self.inner.size()
        }
        fn name(&self) -> &str {
            "lossy"
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            self.inner.read_at(offset, buf)?;
            let end = offset + buf.len() as u64;
            let hit: Vec<Range<u64>> = self
                .lost
                .iter()
                .map(|r| r.start.max(offset)..r.end.min(end))
                .filter(|r| r.start < r.end)
                .collect();
            for r in &hit {
                buf[(r.start - offset) as usize..(r.end - offset) as usize].fill(0);
            }
            if hit.is_empty() {
                return Ok(());
            }
            Err(BlockError::Damaged {
                name: "lossy".into(),
                lost: hit,
            })
        }
    }

    fn unlocked(lost: Vec<Range<u64>>, encrypted: Encrypted) -> Unlocked {
        let data: Vec<u8> = (0..0x100000u32).map(|i| (i * 7) as u8).collect();
        let src = Arc::new(Lossy {
            inner: MemSource::new("disk", data),
            lost,
        });
        let layout = Layout::new(
            512,
            vec![0x8000..0x8400],
            Some((1024, 0x8000)),
            false,
            encrypted,
        );
        let info = Info {
            version: Version::Windows10,
            to_go: false,
            method: Method::XtsAes128,
            state: State::FullyEncrypted,
            used_space_only: false,
            volume_id: Guid([0; 16]),
            description: None,
            sector_size: 512,
            protectors: Vec::new(),
        };
        let cipher = SectorCipher::new(Method::XtsAes128, &[1; 32]);
        Unlocked::new(src, layout, cipher, info, 0, 1)
    }

    #[test]
    fn lost_bytes_are_reported_at_the_plain_volumes_offsets() {
        // Bytes lost in the relocated sectors' store and in place; encrypted: whole sectors.
        let u = unlocked(
            vec![0x8000 + 600..0x8000 + 700, 0x3000 + 10..0x3000 + 20],
            Encrypted::Everything,
        );
        let mut buf = vec![0xffu8; 0x4000];
        let e = u.read_at(0, &mut buf).unwrap_err();
        assert_eq!(e.lost().unwrap(), [512..1024, 0x3000..0x3200]);
        assert!(buf[512..1024]
            .iter()
            .chain(&buf[0x3000..0x3200])
            .all(|&b| b == 0));
        assert!(
            buf[..512].iter().any(|&b| b != 0),
            "the good sectors are decrypted"
        );
        // An unaligned read: the ranges clipped to it; a read beside the loss is whole.
        let mut small = vec![0u8; 100];
        let e = u.read_at(0x3100, &mut small).unwrap_err();
        assert_eq!(e.lost().unwrap(), [0x3100..0x3164]);
        u.read_at(0x3200, &mut small).unwrap();
        // A read large enough to be decrypted on several threads: the same mapping (the
        // relocated sectors' store reads as zeros, so what it lost is not read).
        let u = unlocked(
            vec![0x8000 + 600..0x8000 + 700, 0xc0000 + 1..0xc0000 + 2],
            Encrypted::Everything,
        );
        let mut big = vec![0xffu8; 0x100000];
        let e = u.read_at(0, &mut big).unwrap_err();
        assert_eq!(e.lost().unwrap(), [512..1024, 0xc0000..0xc0200]);
        assert!(big[0xc0000..0xc0200].iter().all(|&b| b == 0));
        let mut single = vec![0u8; 512];
        u.read_at(0xc0200, &mut single).unwrap();
        assert_eq!(single, big[0xc0200..0xc0400]);
        // Plain bytes keep their exact ranges.
        let u = unlocked(vec![0x3000 + 10..0x3000 + 20], Encrypted::Nothing);
        let e = u.read_at(0x2000, &mut buf[..0x2000]).unwrap_err();
        assert_eq!(e.lost().unwrap(), [0x300a..0x3014]);
        // The store of the relocated sectors reads as zeros.
        u.read_at(0x8000, &mut buf[..1024]).unwrap();
        assert!(buf[..1024].iter().all(|&b| b == 0));
    }
}
