//! Run lists ("mapping pairs"): where each range of a non-resident attribute's clusters
//! lies on the volume. Each run is a header byte (sizes of the two fields), a length in
//! clusters and a signed offset from the previous run's cluster; an offset of no bytes is a
//! sparse run (zeros, nothing on disk). Every length and cluster is checked against the
//! volume, and the runs must cover exactly the VCNs their attribute header states.

/// One run: `len` clusters from `vcn`, at cluster `lcn` (None: sparse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub vcn: u64,
    pub len: u64,
    pub lcn: Option<u64>,
}

impl Run {
    pub fn end_vcn(&self) -> u64 {
        self.vcn + self.len
    }
}

/// Little-endian integer of `n` bytes at `b[at..]`, sign-extended when `signed`.
fn int(b: &[u8], at: usize, n: usize, signed: bool) -> Option<i64> {
    let bytes = b.get(at..at.checked_add(n)?)?;
    let mut v: u64 = 0;
    for (i, &x) in bytes.iter().enumerate() {
        v |= u64::from(x) << (8 * i);
    }
    if signed && n < 8 && bytes.last().is_some_and(|&x| x & 0x80 != 0) {
        v |= u64::MAX << (8 * n);
    }
    Some(v as i64)
}

/// Decodes the run list `b` of one extent covering VCNs `start_vcn..end_vcn` and appends
/// its runs to `out`, which may hold at most `max_runs` runs in all.
pub fn decode(
    b: &[u8],
    start_vcn: u64,
    end_vcn: u64,
    total_clusters: u64,
    out: &mut Vec<Run>,
    max_runs: usize,
) -> Result<(), String> {
    let mut pos = 0usize;
    let mut vcn = start_vcn;
    let mut lcn: i64 = 0;
    loop {
        let Some(&header) = b.get(pos) else {
            return Err("the run list has no end marker".into());
        };
        if header == 0 {
            break;
        }
        let (len_size, off_size) = (usize::from(header & 0x0F), usize::from(header >> 4));
        if !(1..=8).contains(&len_size) || off_size > 8 {
            return Err(format!("run header {header:#04x} at byte {pos}"));
        }
        let len = int(b, pos + 1, len_size, false)
            .ok_or_else(|| format!("run at byte {pos} runs past the list"))?;
        if len <= 0 {
            return Err(format!("run at byte {pos} has length {len}"));
        }
        let len = len as u64;
        let run_lcn = if off_size == 0 {
            None
        } else {
            let off = int(b, pos + 1 + len_size, off_size, true)
                .ok_or_else(|| format!("run at byte {pos} runs past the list"))?;
            lcn = lcn
                .checked_add(off)
                .filter(|&l| l >= 0)
                .ok_or_else(|| format!("run at byte {pos} starts before cluster 0"))?;
            let end = (lcn as u64).checked_add(len);
            if end.is_none_or(|e| e > total_clusters) {
                return Err(format!(
                    "run of {len} clusters at cluster {lcn} lies past the volume's {total_clusters} clusters"
                ));
            }
            Some(lcn as u64)
        };
        let next = vcn
            .checked_add(len)
            .filter(|&v| v <= end_vcn)
            .ok_or_else(|| {
                format!("runs reach past VCN {end_vcn}, where the attribute header says they end")
            })?;
        if out.len() >= max_runs {
            return Err(format!("more than {max_runs} runs"));
        }
        out.push(Run {
            vcn,
            len,
            lcn: run_lcn,
        });
        vcn = next;
        pos += 1 + len_size + off_size;
    }
    if vcn != end_vcn {
        return Err(format!(
            "runs end at VCN {vcn}, the attribute header says {end_vcn}"
        ));
    }
    Ok(())
}

/// The index of the run holding `vcn` in runs sorted by VCN and without gaps.
pub fn find(runs: &[Run], vcn: u64) -> Option<usize> {
    let i = runs.partition_point(|r| r.end_vcn() <= vcn);
    runs.get(i).filter(|r| r.vcn <= vcn).map(|_| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(b: &[u8], end: u64) -> Result<Vec<Run>, String> {
        let mut out = Vec::new();
        decode(b, 0, end, 1000, &mut out, 100).map(|()| out)
    }

    #[test]
    fn decodes_relative_and_sparse_runs() {
        // 8 clusters at 100, 4 sparse, 2 at 100-36 = 64, end.
        let r = runs(&[0x11, 8, 100, 0x01, 4, 0x11, 2, 0xDC, 0], 14).unwrap();
        assert_eq!(
            r,
            [
                Run {
                    vcn: 0,
                    len: 8,
                    lcn: Some(100)
                },
                Run {
                    vcn: 8,
                    len: 4,
                    lcn: None
                },
                Run {
                    vcn: 12,
                    len: 2,
                    lcn: Some(64)
                },
            ]
        );
        assert_eq!(find(&r, 0), Some(0));
        assert_eq!(find(&r, 11), Some(1));
        assert_eq!(find(&r, 13), Some(2));
        assert_eq!(find(&r, 14), None);
    }

    #[test]
    fn hostile_run_lists_are_refused() {
        // Past the volume's 1000 clusters.
        assert!(runs(&[0x21, 8, 0xE8, 0x03, 0], 8).is_err());
        // Before cluster 0.
        assert!(runs(&[0x11, 8, 0xF0, 0], 8).is_err());
        // Zero length; nine-byte length field.
        assert!(runs(&[0x11, 0, 5, 0], 8).is_err());
        assert!(runs(&[0x19, 8, 5, 0], 8).is_err());
        // Truncated: no end marker, a field past the list.
        assert!(runs(&[0x11, 8, 5], 8).is_err());
        assert!(runs(&[0x31, 8, 5], 8).is_err());
        // Covering more or fewer VCNs than the header says.
        assert!(runs(&[0x11, 8, 5, 0], 7).is_err());
        assert!(runs(&[0x11, 8, 5, 0], 9).is_err());
        // Lengths that would overflow.
        assert!(runs(
            &[0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 5, 0],
            8
        )
        .is_err());
        // The run budget.
        let mut out = Vec::new();
        assert!(decode(&[0x11, 1, 5, 0x11, 1, 5, 0], 0, 2, 1000, &mut out, 1).is_err());
    }
}
