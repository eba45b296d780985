//! Reading an attribute's content: a resident value, or clusters through a run list with
//! sparse runs (zeros), the uninitialized tail (zeros), LZNT1-compressed units, and bytes
//! lost to bad sectors (zeros, and their stream offsets reported).

use std::ops::Range;
use std::sync::{Arc, Mutex};

use super::error::{ErrorKind, NtfsError, Place, Unavailable};
use super::limits;
use super::lznt1;
use super::runs::{self, Run};
use crate::block::{BlockError, Source};

/// The volume as the layers above read it: its source and cluster size.
#[derive(Clone)]
pub(crate) struct Device {
    pub source: Source,
    pub name: Arc<str>,
    pub cluster: u64,
}

/// Why a read inside the reader failed, before it is given its place.
#[derive(Debug)]
pub(crate) enum Fail {
    Read(BlockError),
    Corrupt(String),
    Damaged { lost: Vec<Range<u64>>, read: usize },
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fail::Read(e) => write!(f, "{e}"),
            Fail::Corrupt(why) => f.write_str(why),
            Fail::Damaged { lost, .. } => write!(f, "{} ranges lost to bad sectors", lost.len()),
        }
    }
}

impl Fail {
    pub fn at(self, name: &Arc<str>, place: Place) -> NtfsError {
        let kind = match self {
            Fail::Read(e) => ErrorKind::Read(e),
            Fail::Corrupt(why) => ErrorKind::Corrupt(why),
            Fail::Damaged { lost, read } => ErrorKind::Damaged { lost, read },
        };
        NtfsError::new(name, place, kind)
    }
}

impl Device {
    /// Reads `buf` at volume offset `at`, which holds the stream's bytes from `stream_at`.
    /// Bytes lost to bad sectors are zeros in `buf` and their stream ranges go to `lost`.
    fn read(
        &self,
        at: u64,
        buf: &mut [u8],
        stream_at: u64,
        lost: &mut Vec<Range<u64>>,
    ) -> Result<(), Fail> {
        match self.source.read_at(at, buf) {
            Ok(()) => Ok(()),
            Err(BlockError::Damaged { lost: gone, .. }) => {
                let end = at + buf.len() as u64;
                for r in gone {
                    let (s, e) = (r.start.max(at), r.end.min(end));
                    if s < e {
                        lost.push(stream_at + (s - at)..stream_at + (e - at));
                    }
                }
                Ok(())
            }
            Err(e) => Err(Fail::Read(e)),
        }
    }
}

/// Where a stream's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    Resident(Arc<[u8]>),
    NonResident(NonResident),
}

#[derive(Debug, Clone)]
pub(crate) struct NonResident {
    pub runs: Arc<[Run]>,
    pub size: u64,
    pub initialized: u64,
    /// Clusters per compression unit as a power of two, for a compressed stream.
    pub compression_shift: Option<u8>,
}

/// One physical extent of a stream: `len` bytes from `stream_offset` (VCN order) lie at
/// `volume_offset` (None: sparse, nothing on disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub stream_offset: u64,
    pub len: u64,
    pub volume_offset: Option<u64>,
}

impl Content {
    pub fn len(&self) -> u64 {
        match self {
            Content::Resident(v) => v.len() as u64,
            Content::NonResident(n) => n.size,
        }
    }

    /// Bytes that were ever written (the rest of the length reads as zeros).
    pub fn initialized(&self) -> u64 {
        match self {
            Content::Resident(v) => v.len() as u64,
            Content::NonResident(n) => n.initialized.min(n.size),
        }
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (fewer only at the end).
    pub fn read_at(
        &self,
        dev: &Device,
        offset: u64,
        buf: &mut [u8],
        unit_cache: Option<&UnitCache>,
    ) -> Result<usize, Fail> {
        let len = self.len();
        if offset >= len {
            return Ok(0);
        }
        let n = buf
            .len()
            .min(usize::try_from(len - offset).unwrap_or(usize::MAX));
        let buf = &mut buf[..n];
        match self {
            Content::Resident(v) => {
                let at = offset as usize;
                buf.copy_from_slice(&v[at..at + n]);
                Ok(n)
            }
            Content::NonResident(nr) => {
                let mut lost = Vec::new();
                let init = nr.initialized.min(len);
                let data_end = usize::try_from(init.saturating_sub(offset))
                    .unwrap_or(usize::MAX)
                    .min(n);
                let (data, tail) = buf.split_at_mut(data_end);
                tail.fill(0);
                match nr.compression_shift {
                    None => nr.read_plain(dev, offset, data, &mut lost)?,
                    Some(shift) => {
                        nr.read_compressed(dev, shift, offset, data, &mut lost, unit_cache)?
                    }
                }
                if lost.is_empty() {
                    Ok(n)
                } else {
                    Err(Fail::Damaged {
                        lost: merge(lost),
                        read: n,
                    })
                }
            }
        }
    }

    /// Fills all of `buf` from `offset`, or fails.
    pub fn read_exact(&self, dev: &Device, offset: u64, buf: &mut [u8]) -> Result<(), Fail> {
        let n = self.read_at(dev, offset, buf, None)?;
        if n < buf.len() {
            return Err(Fail::Corrupt(format!(
                "{} bytes at offset {offset} lie past its end ({} bytes)",
                buf.len(),
                self.len()
            )));
        }
        Ok(())
    }

    /// The whole content, when it is no larger than `max` bytes.
    pub fn read_all(&self, dev: &Device, max: u64) -> Result<Vec<u8>, Fail> {
        let len = self.len();
        if len > max {
            return Err(Fail::Corrupt(format!(
                "{len} bytes, more than the {max} such a structure may have"
            )));
        }
        let mut v = vec![0u8; len as usize];
        self.read_exact(dev, 0, &mut v)?;
        Ok(v)
    }

    /// Where stream offset `at` lies on the volume (None: resident, sparse or unmapped).
    pub fn volume_offset(&self, at: u64, cluster: u64) -> Option<u64> {
        let Content::NonResident(nr) = self else {
            return None;
        };
        let run = nr.runs.get(runs::find(&nr.runs, at / cluster)?)?;
        Some(run.lcn? * cluster + (at - run.vcn * cluster))
    }

    pub fn extents(&self, cluster: u64) -> Vec<Extent> {
        let Content::NonResident(nr) = self else {
            return Vec::new();
        };
        let limit = if nr.compression_shift.is_some() {
            u64::MAX
        } else {
            nr.size
        };
        nr.runs
            .iter()
            .filter_map(|r| {
                let start = r.vcn.saturating_mul(cluster);
                let len = r
                    .len
                    .saturating_mul(cluster)
                    .min(limit.saturating_sub(start));
                (len > 0).then(|| Extent {
                    stream_offset: start,
                    len,
                    volume_offset: r.lcn.map(|l| l * cluster),
                })
            })
            .collect()
    }
}

/// Sorts and joins touching ranges.
fn merge(mut v: Vec<Range<u64>>) -> Vec<Range<u64>> {
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The last decompressed unit of a stream, kept for the next small read.
pub(crate) type UnitCache = Mutex<Option<(u64, Arc<[u8]>, bool)>>;

impl NonResident {
    fn run_at(&self, vcn: u64) -> Result<&Run, Fail> {
        runs::find(&self.runs, vcn)
            .and_then(|i| self.runs.get(i))
            .ok_or_else(|| Fail::Corrupt(format!("no run holds VCN {vcn}")))
    }

    /// An uncompressed range: each run's part in one read.
    fn read_plain(
        &self,
        dev: &Device,
        offset: u64,
        buf: &mut [u8],
        lost: &mut Vec<Range<u64>>,
    ) -> Result<(), Fail> {
        let cs = dev.cluster;
        let mut pos = 0usize;
        while pos < buf.len() {
            let off = offset + pos as u64;
            let vcn = off / cs;
            let run = self.run_at(vcn)?;
            // The run holds `off`, so its start in bytes is at most `off`; its end may be
            // beyond any byte offset (a hostile sparse run of 2^60 clusters).
            let in_run = off - run.vcn * cs;
            let left = run.end_vcn().saturating_mul(cs) - off;
            let take = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(buf.len() - pos);
            let part = &mut buf[pos..pos + take];
            match run.lcn {
                None => part.fill(0),
                Some(lcn) => dev.read(lcn * cs + in_run, part, off, lost)?,
            }
            pos += take;
        }
        Ok(())
    }

    fn read_compressed(
        &self,
        dev: &Device,
        shift: u8,
        offset: u64,
        buf: &mut [u8],
        lost: &mut Vec<Range<u64>>,
        cache: Option<&UnitCache>,
    ) -> Result<(), Fail> {
        let unit_bytes = dev.cluster << shift;
        let mut pos = 0usize;
        while pos < buf.len() {
            let off = offset + pos as u64;
            let unit = off / unit_bytes;
            let in_unit = (off % unit_bytes) as usize;
            let take = (unit_bytes as usize - in_unit).min(buf.len() - pos);
            let part = &mut buf[pos..pos + take];
            match self.unit_kind(shift, unit) {
                UnitKind::Sparse => part.fill(0),
                UnitKind::Raw => self.read_plain(dev, off, part, lost)?,
                UnitKind::Compressed => {
                    let (data, damaged) = self.unit(dev, shift, unit, cache)?;
                    part.copy_from_slice(&data[in_unit..in_unit + take]);
                    if damaged {
                        lost.push(off..off + take as u64);
                    }
                }
            }
            pos += take;
        }
        Ok(())
    }

    /// A unit with no clusters on disk is zeros; one whose clusters are all on disk was
    /// stored uncompressed (it did not compress); one whose clusters end in a sparse run
    /// holds LZNT1 data in the clusters before it.
    fn unit_kind(&self, shift: u8, unit: u64) -> UnitKind {
        let (start, end) = (unit << shift, (unit + 1) << shift);
        let mut vcn = start;
        let (mut allocated, mut sparse) = (0u64, false);
        let mut i = runs::find(&self.runs, vcn);
        while let Some(run) = i.and_then(|i| self.runs.get(i)) {
            if vcn >= end {
                break;
            }
            let n = run.end_vcn().min(end) - vcn;
            match run.lcn {
                Some(_) => allocated += n,
                None => sparse = true,
            }
            vcn += n;
            i = i.map(|i| i + 1);
        }
        match (allocated, sparse) {
            (0, _) => UnitKind::Sparse,
            (_, false) => UnitKind::Raw,
            (_, true) => UnitKind::Compressed,
        }
    }

    /// A compressed unit, decompressed (and whether bad sectors touched it).
    fn unit(
        &self,
        dev: &Device,
        shift: u8,
        unit: u64,
        cache: Option<&UnitCache>,
    ) -> Result<(Arc<[u8]>, bool), Fail> {
        if let Some(c) = cache {
            if let Ok(guard) = c.lock() {
                if let Some((u, data, damaged)) = guard.as_ref() {
                    if *u == unit {
                        return Ok((data.clone(), *damaged));
                    }
                }
            }
        }
        let cs = dev.cluster;
        let unit_bytes = cs << shift;
        let start_vcn = unit << shift;
        // The clusters on disk: from the unit's start up to its first sparse run.
        let mut compressed = Vec::with_capacity(unit_bytes as usize);
        let mut lost = Vec::new();
        let end_vcn = start_vcn + (1 << shift);
        let mut vcn = start_vcn;
        while vcn < end_vcn {
            let run = self.run_at(vcn)?;
            let Some(lcn) = run.lcn else { break };
            let n = run.end_vcn().min(end_vcn) - vcn;
            let from = compressed.len();
            compressed.resize(from + (n * cs) as usize, 0);
            let at = (lcn + (vcn - run.vcn)) * cs;
            dev.read(at, &mut compressed[from..], vcn * cs, &mut lost)?;
            vcn += n;
        }
        let mut out = vec![0u8; unit_bytes as usize];
        let damaged = !lost.is_empty();
        if !damaged {
            lznt1::decompress(&compressed, &mut out)
                .map_err(|why| Fail::Corrupt(format!("compression unit {unit} (LZNT1): {why}")))?;
        }
        let data: Arc<[u8]> = out.into();
        if let Some(c) = cache {
            if let Ok(mut guard) = c.lock() {
                *guard = Some((unit, data.clone(), damaged));
            }
        }
        Ok((data, damaged))
    }
}

enum UnitKind {
    Sparse,
    Raw,
    Compressed,
}

/// Builds a non-resident content from an attribute's extents, each `(start_vcn, end_vcn,
/// run list bytes)`, sorted here by VCN; sizes from the first extent.
pub(crate) fn non_resident(
    extents: &mut [(u64, u64, &[u8])],
    sizes: (u64, u64, u64),
    compression_shift: Option<u8>,
    cluster: u64,
    total_clusters: u64,
) -> Result<NonResident, String> {
    extents.sort_by_key(|e| e.0);
    let mut all = Vec::new();
    let mut next = 0u64;
    for &mut (start, end, bytes) in extents.iter_mut() {
        if start != next {
            return Err(format!(
                "its extents leave a gap or overlap: VCN {start} follows VCN {next}"
            ));
        }
        runs::decode(
            bytes,
            start,
            end,
            total_clusters,
            &mut all,
            limits::STREAM_MAX_RUNS,
        )?;
        next = end;
    }
    let (size, initialized, _allocated) = sizes;
    let span = next.saturating_mul(cluster);
    if initialized > span {
        return Err(format!(
            "{initialized} bytes initialized but only {span} bytes of clusters mapped"
        ));
    }
    if let Some(shift) = compression_shift {
        let unit = cluster.checked_shl(u32::from(shift)).unwrap_or(u64::MAX);
        if shift == 0 || shift > 16 || unit > limits::COMPRESSION_UNIT_MAX_BYTES {
            return Err(format!(
                "compression units of 2^{shift} clusters of {cluster} bytes"
            ));
        }
    }
    Ok(NonResident {
        runs: all.into(),
        size,
        initialized,
        compression_shift,
    })
}

/// A stream of a file, ready to be read from any thread.
pub struct Stream {
    pub(crate) dev: Device,
    pub(crate) place: Place,
    pub(crate) file: String,
    pub(crate) content: Content,
    pub(crate) unavailable: Option<Unavailable>,
    pub(crate) unit: UnitCache,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({}, {} bytes)", self.place, self.len())
    }
}

impl Stream {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.content.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `buf.len()` bytes at `offset` and returns how many (fewer only at the
    /// end; 0 at or past it). Bytes lost to bad sectors read as zeros and the read fails
    /// with [`ErrorKind::Damaged`], which names them in stream offsets; the buffer is then
    /// filled as far as its `read` says.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, NtfsError> {
        if let Some(why) = self.unavailable {
            return Err(self.error(ErrorKind::Unavailable(why)));
        }
        self.content
            .read_at(&self.dev, offset, buf, Some(&self.unit))
            .map_err(|f| f.at(&self.dev.name, self.place.clone()).in_file(&self.file))
    }

    /// The stream's clusters on the volume in VCN order (empty for a resident stream, whose
    /// bytes are in its MFT record). For a compressed stream the offsets are those of the
    /// compressed clusters: a lost byte there loses its whole compression unit.
    pub fn extents(&self) -> Vec<Extent> {
        self.content.extents(self.dev.cluster)
    }

    /// Bytes of one compression unit when the stream is compressed.
    pub fn compression_unit(&self) -> Option<u64> {
        match &self.content {
            Content::NonResident(nr) => nr.compression_shift.map(|s| self.dev.cluster << s),
            Content::Resident(_) => None,
        }
    }

    /// True when the bytes are inside the MFT record.
    pub fn is_resident(&self) -> bool {
        matches!(self.content, Content::Resident(_))
    }

    /// Why the data cannot be read here (EFS, WOF, dedup, a cloud placeholder), if so.
    pub fn unavailable(&self) -> Option<Unavailable> {
        self.unavailable
    }

    fn error(&self, kind: ErrorKind) -> NtfsError {
        NtfsError::new(&self.dev.name, self.place.clone(), kind).in_file(&self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::MemSource;

    fn dev(data: Vec<u8>) -> Device {
        Device {
            source: Arc::new(MemSource::new("v", data)),
            name: "v".into(),
            cluster: 512,
        }
    }

    #[test]
    fn sparse_runs_and_the_uninitialized_tail_read_as_zeros() {
        let mut disk = vec![0u8; 512 * 8];
        disk[512..1024].fill(1);
        disk[1536..2048].fill(3);
        let d = dev(disk);
        let nr = NonResident {
            runs: vec![
                Run {
                    vcn: 0,
                    len: 1,
                    lcn: Some(1),
                },
                Run {
                    vcn: 1,
                    len: 1,
                    lcn: None,
                },
                Run {
                    vcn: 2,
                    len: 1,
                    lcn: Some(3),
                },
            ]
            .into(),
            size: 1500,
            initialized: 1400,
            compression_shift: None,
        };
        let c = Content::NonResident(nr);
        let mut buf = vec![9u8; 2000];
        assert_eq!(c.read_at(&d, 0, &mut buf, None).unwrap(), 1500);
        assert!(buf[..512].iter().all(|&b| b == 1));
        assert!(buf[512..1024].iter().all(|&b| b == 0));
        assert!(buf[1024..1400].iter().all(|&b| b == 3));
        assert!(buf[1400..1500].iter().all(|&b| b == 0));
        assert_eq!(c.read_at(&d, 1500, &mut buf, None).unwrap(), 0);
        let mut small = [0u8; 4];
        assert_eq!(c.read_at(&d, 1022, &mut small, None).unwrap(), 4);
        assert_eq!(small, [0, 0, 3, 3]);
    }

    #[test]
    fn extents_that_leave_a_gap_are_refused() {
        let a = [0x11u8, 2, 5, 0];
        let b = [0x11u8, 2, 9, 0];
        let mut ext = [(0u64, 2u64, &a[..]), (3, 5, &b[..])];
        assert!(non_resident(&mut ext, (2048, 2048, 2048), None, 512, 100).is_err());
        let mut ext = [(2u64, 4u64, &b[..]), (0, 2, &a[..])];
        let nr = non_resident(&mut ext, (2048, 2048, 2048), None, 512, 100).unwrap();
        assert_eq!(nr.runs.len(), 2);
        assert_eq!(
            nr.runs[1],
            Run {
                vcn: 2,
                len: 2,
                lcn: Some(9)
            }
        );
    }
}
