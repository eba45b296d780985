//! The NTFS boot sector: the volume's geometry (sector, cluster, MFT record and index block
//! sizes), where `$MFT` starts, and the serial number. Every field is checked before use.

use super::limits;
use crate::le::{u16_at, u64_at};

/// The geometry the boot sector gives, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub sector_size: u32,
    pub cluster_size: u64,
    pub record_size: u64,
    pub index_block_size: u64,
    /// Bytes of the volume as the boot sector states them.
    pub volume_size: u64,
    pub total_clusters: u64,
    pub mft_lcn: u64,
    pub mft_mirror_lcn: u64,
    pub serial: u64,
}

/// Bytes read to find the boot sector's fields (they all lie in the first 512).
pub const BOOT_BYTES: usize = 512;

fn power_of_two_in(v: u64, min: u64, max: u64) -> bool {
    v.is_power_of_two() && (min..=max).contains(&v)
}

/// A size given in clusters when positive, else as 2^-n bytes (records and index blocks
/// smaller than a cluster: -10 is 1 KiB).
fn clusters_or_shift(raw: u8, cluster_size: u64) -> Option<u64> {
    let v = raw as i8;
    if v > 0 {
        cluster_size.checked_mul(v as u64)
    } else {
        let shift = v.unsigned_abs();
        (shift < 32).then(|| 1u64 << shift)
    }
}

/// Reads the geometry from the first 512 bytes of a volume, or says why they are not an
/// NTFS boot sector.
pub fn parse(b: &[u8], source_size: u64) -> Result<Geometry, String> {
    if b.get(3..11) != Some(b"NTFS    ".as_slice()) {
        return Err("no \"NTFS\" signature at offset 3 of the boot sector".into());
    }
    let sector = u64::from(u16_at(b, 0x0B).unwrap_or(0));
    if !power_of_two_in(sector, 256, 4096) {
        return Err(format!("{sector} bytes per sector"));
    }
    let spc_raw = *b.get(0x0D).unwrap_or(&0);
    // 1..=128 sectors per cluster as they are; above 128 the byte is a negative power of two
    // (0xF4 = 2^12 sectors: 2 MiB clusters of 512-byte sectors).
    let spc = if spc_raw <= 0x80 {
        u64::from(spc_raw)
    } else {
        let shift = 256 - u32::from(spc_raw);
        if shift > 20 {
            return Err(format!("sectors per cluster byte {spc_raw:#x}"));
        }
        1u64 << shift
    };
    let cluster = sector * spc;
    if !power_of_two_in(
        cluster,
        limits::CLUSTER_MIN_BYTES,
        limits::CLUSTER_MAX_BYTES,
    ) {
        return Err(format!("{cluster} bytes per cluster"));
    }
    let total_sectors = u64_at(b, 0x28).unwrap_or(0);
    let volume_size = total_sectors
        .checked_mul(sector)
        .ok_or_else(|| format!("{total_sectors} sectors"))?;
    let record = clusters_or_shift(*b.get(0x40).unwrap_or(&0), cluster).unwrap_or(0);
    if !power_of_two_in(record, limits::RECORD_MIN_BYTES, limits::RECORD_MAX_BYTES) {
        return Err(format!("MFT records of {record} bytes"));
    }
    let index = clusters_or_shift(*b.get(0x44).unwrap_or(&0), cluster).unwrap_or(0);
    if !power_of_two_in(
        index,
        limits::INDEX_BLOCK_MIN_BYTES,
        limits::INDEX_BLOCK_MAX_BYTES,
    ) {
        return Err(format!("index blocks of {index} bytes"));
    }
    let total_clusters = volume_size / cluster;
    let mft_lcn = u64_at(b, 0x30).unwrap_or(0);
    let mft_mirror_lcn = u64_at(b, 0x38).unwrap_or(0);
    if mft_lcn == 0 || mft_lcn >= total_clusters {
        return Err(format!(
            "$MFT at cluster {mft_lcn}, outside the volume's {total_clusters} clusters"
        ));
    }
    if mft_lcn.saturating_mul(cluster) >= source_size {
        return Err(format!(
            "$MFT at byte {}, past the end of the source ({source_size} bytes)",
            mft_lcn.saturating_mul(cluster)
        ));
    }
    Ok(Geometry {
        sector_size: sector as u32,
        cluster_size: cluster,
        record_size: record,
        index_block_size: index,
        volume_size,
        total_clusters,
        mft_lcn,
        mft_mirror_lcn,
        serial: u64_at(b, 0x48).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(sector: u16, spc: u8, record: u8, index: u8) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[3..11].copy_from_slice(b"NTFS    ");
        b[0x0B..0x0D].copy_from_slice(&sector.to_le_bytes());
        b[0x0D] = spc;
        b[0x28..0x30].copy_from_slice(&(1u64 << 24).to_le_bytes());
        b[0x30..0x38].copy_from_slice(&4u64.to_le_bytes());
        b[0x40] = record;
        b[0x44] = index;
        b
    }

    #[test]
    fn sizes_in_clusters_or_as_negative_powers_of_two() {
        let g = parse(&boot(512, 8, 0xF6, 1), u64::MAX).unwrap();
        assert_eq!(
            (g.cluster_size, g.record_size, g.index_block_size),
            (4096, 1024, 4096)
        );
        // 2 MiB clusters: 4096 sectors of 512 bytes, written as 0xF4 (2^12).
        let g = parse(&boot(512, 0xF4, 0xF6, 0xF4), u64::MAX).unwrap();
        assert_eq!(
            (g.cluster_size, g.record_size, g.index_block_size),
            (2 << 20, 1024, 4096)
        );
        // 4 KiB sectors, one sector per cluster, a record of one cluster.
        let g = parse(&boot(4096, 1, 1, 1), u64::MAX).unwrap();
        assert_eq!((g.cluster_size, g.record_size), (4096, 4096));
    }

    #[test]
    fn impossible_geometry_is_refused() {
        assert!(parse(&boot(500, 8, 0xF6, 1), u64::MAX).is_err());
        assert!(parse(&boot(512, 3, 0xF6, 1), u64::MAX).is_err());
        assert!(parse(&boot(512, 0x80 + 1, 0xF6, 1), u64::MAX).is_err());
        assert!(parse(&boot(512, 8, 0x80, 1), u64::MAX).is_err());
        assert!(parse(&boot(512, 8, 0xF6, 100), u64::MAX).is_err());
        assert!(parse(&boot(512, 8, 0, 1), u64::MAX).is_err());
        assert!(parse(&[0u8; 20], u64::MAX).is_err());
        // $MFT past the end of the source.
        assert!(parse(&boot(512, 8, 0xF6, 1), 4096).is_err());
    }
}
