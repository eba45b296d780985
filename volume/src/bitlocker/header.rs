//! The volume header of a BitLocker volume: its first sector, which says that the volume is
//! BitLocker's and where the three copies of the FVE metadata lie.
//!
//! - Windows 7 and later: `-FVE-FS-` at offset 3 and BitLocker's GUID followed by the three
//!   metadata offsets (at offset 160 on a fixed disk, 424 on a BitLocker To Go volume whose
//!   signature is `MSWIN4.1`); encrypt-on-write volumes carry another GUID followed by the
//!   three offsets and two more, those of the EOW information.
//! - Windows Vista: `-FVE-FS-` and no GUID; the first metadata copy's cluster number stands
//!   where NTFS keeps the `$MFTMirr` cluster (offset 56), and that copy names the others.

use crate::le::{u16_at, u64_at};

/// BitLocker's GUID (4967d63b-2e29-4ad8-8399-f6a339e3d001) as stored.
pub const BITLOCKER_GUID: [u8; 16] = [
    0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01,
];
/// The GUID of a volume encrypted on write, "used space only" (92a84d3b-dd80-4d0e-9e4e-
/// b1e3284eaed8), as stored.
pub const EOW_GUID: [u8; 16] = [
    0x3b, 0x4d, 0xa8, 0x92, 0x80, 0xdd, 0x0e, 0x4d, 0x9e, 0x4e, 0xb1, 0xe3, 0x28, 0x4e, 0xae, 0xd8,
];

pub const FVE_SIGNATURE: &[u8; 8] = b"-FVE-FS-";
pub const TO_GO_SIGNATURE: &[u8; 8] = b"MSWIN4.1";

/// Which kind of volume header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Windows Vista: no GUID, one metadata cluster number.
    Vista,
    /// Windows 7 and later, on a fixed or removable NTFS volume.
    Fixed,
    /// BitLocker To Go on a FAT volume.
    ToGo,
}

/// What the volume header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeHeader {
    pub flavour: Flavour,
    pub sector_size: u32,
    pub cluster_size: u32,
    /// The metadata copies' offsets. For Vista only the first is known here.
    pub metadata: Vec<u64>,
    /// Where the two copies of the EOW information lie, on an encrypt-on-write volume.
    pub eow: Option<[u64; 2]>,
}

/// Why a sector that says it is BitLocker's cannot be read as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    SectorSize,
    ClusterSize,
}

impl HeaderError {
    pub fn what(self) -> &'static str {
        match self {
            HeaderError::SectorSize => "its bytes per sector are not 512, 1024, 2048 or 4096",
            HeaderError::ClusterSize => "its sectors per cluster are not a power of two",
        }
    }
}

/// The header in `boot` (the first 512 bytes), `None` when it is not BitLocker's.
pub fn parse(boot: &[u8]) -> Option<Result<VolumeHeader, HeaderError>> {
    let oem = boot.get(3..11)?;
    let fve = oem == FVE_SIGNATURE;
    let eow = find(boot, &EOW_GUID);
    let plain = find(boot, &BITLOCKER_GUID);
    // BitLocker To Go keeps MSWIN4.1: only the GUID tells it from any FAT32 volume.
    if !fve && !(oem == TO_GO_SIGNATURE && (eow.is_some() || plain.is_some())) {
        return None;
    }
    Some(geometry(boot).map(|(sector_size, cluster_size)| {
        let offsets = |at: usize, n: usize| -> Vec<u64> {
            (0..n)
                .filter_map(|i| u64_at(boot, at + 16 + 8 * i))
                .collect()
        };
        let (flavour, metadata, eow) = match (eow, plain) {
            (Some(at), _) => {
                let o = offsets(at, 5);
                let eow = (o.len() == 5).then(|| [o[3], o[4]]);
                (flavour_of(oem), o.into_iter().take(3).collect(), eow)
            }
            (None, Some(at)) => (flavour_of(oem), offsets(at, 3), None),
            (None, None) => {
                let lcn = u64_at(boot, 56).unwrap_or(0);
                let first = lcn.saturating_mul(u64::from(cluster_size));
                (Flavour::Vista, vec![first], None)
            }
        };
        VolumeHeader {
            flavour,
            sector_size,
            cluster_size,
            metadata,
            eow,
        }
    }))
}

fn flavour_of(oem: &[u8]) -> Flavour {
    if oem == TO_GO_SIGNATURE {
        Flavour::ToGo
    } else {
        Flavour::Fixed
    }
}

/// Where `guid` starts in the sector, at a 8-byte boundary (Windows keeps it at 160 or 424).
fn find(boot: &[u8], guid: &[u8; 16]) -> Option<usize> {
    (0..boot.len().saturating_sub(16))
        .step_by(8)
        .find(|&at| boot.get(at..at + 16) == Some(&guid[..]))
}

fn geometry(boot: &[u8]) -> Result<(u32, u32), HeaderError> {
    let sector = u32::from(u16_at(boot, 11).unwrap_or(0));
    if !matches!(sector, 512 | 1024 | 2048 | 4096) {
        return Err(HeaderError::SectorSize);
    }
    let per_cluster = u32::from(*boot.get(13).unwrap_or(&0));
    if !per_cluster.is_power_of_two() {
        return Err(HeaderError::ClusterSize);
    }
    Ok((sector, sector * per_cluster))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector(oem: &[u8; 8]) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[3..11].copy_from_slice(oem);
        b[11..13].copy_from_slice(&512u16.to_le_bytes());
        b[13] = 8;
        b
    }

    #[test]
    fn reads_the_three_flavours_and_ignores_plain_volumes() {
        let mut b = sector(FVE_SIGNATURE);
        b[160..176].copy_from_slice(&BITLOCKER_GUID);
        for (i, o) in [0x100000u64, 0x200000, 0x300000].iter().enumerate() {
            b[176 + 8 * i..184 + 8 * i].copy_from_slice(&o.to_le_bytes());
        }
        let h = parse(&b).unwrap().unwrap();
        assert_eq!(h.flavour, Flavour::Fixed);
        assert_eq!(h.metadata, [0x100000, 0x200000, 0x300000]);

        let mut b = sector(TO_GO_SIGNATURE);
        assert!(parse(&b).is_none(), "a FAT32 volume is not BitLocker To Go");
        b[424..440].copy_from_slice(&BITLOCKER_GUID);
        assert_eq!(parse(&b).unwrap().unwrap().flavour, Flavour::ToGo);

        let mut b = sector(FVE_SIGNATURE);
        b[56..64].copy_from_slice(&0x1574u64.to_le_bytes());
        let h = parse(&b).unwrap().unwrap();
        assert_eq!((h.flavour, h.metadata[0]), (Flavour::Vista, 0x1574 * 4096));

        assert!(parse(&sector(b"NTFS    ")).is_none());
        let mut b = sector(FVE_SIGNATURE);
        b[11] = 0;
        b[12] = 3;
        assert_eq!(parse(&b), Some(Err(HeaderError::SectorSize)));
    }
}
