//! GPT: the header at LBA 1 (its backup at the disk's last LBA), CRC32-checked, and the
//! array of partition entries it points at, CRC32-checked too. On 4Kn disks the LBA is
//! 4096 bytes: the header is looked for at both sizes.

use super::mbr::Mbr;
use super::{
    bytes, corrupt, Guid, Partition, PartitionError, PartitionKind, PartitionTable, TableKind,
};
use crate::block::Source;
use crate::le::{u32_at, u64_at};

struct Header {
    disk_guid: Guid,
    entries_lba: u64,
    count: u32,
    entry_size: u32,
    entries_crc: u32,
}

pub fn type_name(g: &Guid) -> Option<&'static str> {
    Some(match g.to_string().as_str() {
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "Microsoft basic data",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "EFI system",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" => "Microsoft reserved",
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC" => "Windows recovery",
        "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3" => "Windows LDM metadata",
        "AF9B60A0-1431-4F62-BC68-3311714A69AD" => "Windows LDM data",
        "E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D" => "Windows Storage Spaces",
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "Linux filesystem",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" => "Linux swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928" => "Linux LVM",
        "21686148-6449-6E6F-744E-656564454649" => "BIOS boot",
        _ => return None,
    })
}

/// The header at `lba` if it is one: signature, size, CRC and its own LBA checked.
fn header(disk: &Source, sector: u32, lba: u64) -> Result<Header, String> {
    let at = bytes(lba, sector).ok_or("header LBA overflows")?;
    let mut b = vec![0u8; sector as usize];
    disk.read_at(at, &mut b).map_err(|e| e.to_string())?;
    if b.get(..8) != Some(b"EFI PART") {
        return Err(format!("no GPT header at LBA {lba}"));
    }
    let size = u32_at(&b, 12).unwrap_or(0) as usize;
    if size < 92 || size > b.len() {
        return Err(format!("GPT header at LBA {lba} of {size} bytes"));
    }
    let mut h = b[..size].to_vec();
    h[16..20].fill(0);
    if crc32fast::hash(&h) != u32_at(&b, 16).unwrap_or(0) {
        return Err(format!("GPT header at LBA {lba} fails its CRC"));
    }
    if u64_at(&b, 24) != Some(lba) {
        return Err(format!("GPT header at LBA {lba} says it is elsewhere"));
    }
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&b[56..72]);
    Ok(Header {
        disk_guid: Guid(guid),
        entries_lba: u64_at(&b, 72).unwrap_or(0),
        count: u32_at(&b, 80).unwrap_or(0),
        entry_size: u32_at(&b, 84).unwrap_or(0),
        entries_crc: u32_at(&b, 88).unwrap_or(0),
    })
}

/// The entry array a header points at, checked by its CRC.
fn entries(disk: &Source, sector: u32, h: &Header) -> Result<Vec<u8>, String> {
    if h.count > super::GPT_MAX_ENTRIES
        || h.entry_size < 128
        || h.entry_size > super::GPT_MAX_ENTRY_BYTES
        || h.entry_size % 8 != 0
    {
        return Err(format!("{} entries of {} bytes", h.count, h.entry_size));
    }
    let len = h.count as usize * h.entry_size as usize;
    let at = bytes(h.entries_lba, sector)
        .filter(|a| {
            a.checked_add(len as u64)
                .is_some_and(|end| end <= disk.size())
        })
        .ok_or_else(|| format!("entry array at LBA {} lies outside the disk", h.entries_lba))?;
    let mut b = vec![0u8; len];
    disk.read_at(at, &mut b).map_err(|e| e.to_string())?;
    if crc32fast::hash(&b) != h.entries_crc {
        return Err("the partition entry array fails its CRC".into());
    }
    Ok(b)
}

pub fn read(disk: &Source, mbr: &Mbr) -> Result<PartitionTable, PartitionError> {
    let mut sizes = vec![disk.sector_size()];
    for s in [512, 4096] {
        if !sizes.contains(&s) {
            sizes.push(s);
        }
    }
    let mut why = Vec::new();
    for sector in sizes {
        let primary = header(disk, sector, 1).and_then(|h| Ok((entries(disk, sector, &h)?, h)));
        let (found, backup) = match primary {
            Ok(x) => (Ok(x), false),
            Err(e) => {
                why.push(e);
                let last = (disk.size() / u64::from(sector)).checked_sub(1);
                let b = last
                    .ok_or_else(|| "the disk is smaller than a sector".to_string())
                    .and_then(|last| header(disk, sector, last))
                    .and_then(|h| Ok((entries(disk, sector, &h)?, h)));
                (b, true)
            }
        };
        match found {
            Ok((array, h)) => return Ok(table(disk, sector, &array, &h, backup, mbr.hybrid())),
            Err(e) => why.push(e),
        }
    }
    Err(corrupt(
        disk,
        format!("a protective MBR but no usable GPT: {}", why.join("; ")),
    ))
}

fn table(
    disk: &Source,
    sector: u32,
    array: &[u8],
    h: &Header,
    backup: bool,
    hybrid: bool,
) -> PartitionTable {
    let mut t = PartitionTable {
        kind: TableKind::Gpt {
            disk_guid: h.disk_guid,
            used_backup: backup,
            hybrid_mbr: hybrid,
        },
        sector_size: sector,
        partitions: Vec::new(),
        problems: Vec::new(),
    };
    for (i, e) in array.chunks_exact(h.entry_size as usize).enumerate() {
        let guid = |at: usize| {
            let mut g = [0u8; 16];
            g.copy_from_slice(&e[at..at + 16]);
            Guid(g)
        };
        let type_guid = guid(0);
        if type_guid.is_zero() {
            continue;
        }
        let number = i as u32 + 1;
        let (first, last) = (u64_at(e, 32).unwrap_or(0), u64_at(e, 40).unwrap_or(0));
        let place = last
            .checked_add(1)
            .filter(|&end| first > 0 && first < end)
            .and_then(|end| Some((bytes(first, sector)?, bytes(end - first, sector)?)))
            .filter(|(off, size)| off.checked_add(*size).is_some_and(|e| e <= disk.size()));
        let Some((offset, size)) = place else {
            t.problems.push(format!(
                "partition {number}: LBAs {first} to {last} lie outside the disk ({} bytes)",
                disk.size()
            ));
            continue;
        };
        let name_units: Vec<u16> = crate::le::u16s(&e[56..128])
            .take_while(|&u| u != 0)
            .collect();
        t.partitions.push(Partition {
            number,
            offset,
            size,
            kind: PartitionKind::Gpt {
                type_guid,
                guid: guid(16),
                name: String::from_utf16_lossy(&name_units),
                attributes: u64_at(e, 48).unwrap_or(0),
            },
        });
    }
    t
}
