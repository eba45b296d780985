//! The MBR: four entries at offset 446 of sector 0, and for an extended partition a chain
//! of extended boot records (EBRs), each holding one logical partition (its start relative
//! to that EBR) and a link to the next EBR (relative to the extended partition's start).

use std::collections::HashSet;

use super::{bytes, corrupt, Partition, PartitionError, PartitionKind, PartitionTable, TableKind};
use crate::block::Source;
use crate::le::u32_at;

const EXTENDED: [u8; 3] = [0x05, 0x0F, 0x85];
pub const PROTECTIVE: u8 = 0xEE;

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub bootable: bool,
    pub kind: u8,
    pub start: u32,
    pub sectors: u32,
}

/// The MBR of sector 0 (or an EBR).
pub struct Mbr {
    pub signature: u32,
    pub entries: [Option<Entry>; 4],
}

impl Mbr {
    /// None without the 0x55AA signature or with a boot flag other than 0x00 and 0x80.
    pub fn parse(s: &[u8]) -> Option<Mbr> {
        if s.get(510..512) != Some(&[0x55, 0xAA]) {
            return None;
        }
        let mut entries = [None; 4];
        for (i, slot) in entries.iter_mut().enumerate() {
            let e = s.get(446 + 16 * i..446 + 16 * (i + 1))?;
            if e[0] != 0 && e[0] != 0x80 {
                return None;
            }
            let entry = Entry {
                bootable: e[0] == 0x80,
                kind: e[4],
                start: u32_at(e, 8)?,
                sectors: u32_at(e, 12)?,
            };
            *slot = (entry.kind != 0 && entry.sectors != 0).then_some(entry);
        }
        Some(Mbr {
            signature: u32_at(s, 440)?,
            entries,
        })
    }

    pub fn protective(&self) -> bool {
        self.entries.iter().flatten().any(|e| e.kind == PROTECTIVE)
    }

    /// Partitions other than the protective one: a hybrid MBR beside a GPT.
    pub fn hybrid(&self) -> bool {
        self.entries.iter().flatten().any(|e| e.kind != PROTECTIVE)
    }
}

pub fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0x01 => "FAT12",
        0x04 | 0x06 | 0x0E => "FAT16",
        0x05 | 0x0F | 0x85 => "extended",
        0x07 => "NTFS/exFAT",
        0x0B | 0x0C => "FAT32",
        0x12 => "OEM recovery",
        0x17 => "hidden NTFS",
        0x27 => "Windows recovery",
        0x42 => "Windows dynamic disk",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x8E => "Linux LVM",
        0xEE => "GPT protective",
        0xEF => "EFI system",
        _ => return None,
    })
}

pub fn read(disk: &Source, mbr: &Mbr) -> Result<PartitionTable, PartitionError> {
    let sector = disk.sector_size();
    let mut table = PartitionTable {
        kind: TableKind::Mbr {
            signature: mbr.signature,
        },
        sector_size: sector,
        partitions: Vec::new(),
        problems: Vec::new(),
    };
    let mut extended = None;
    for (i, e) in mbr.entries.iter().enumerate() {
        let Some(e) = e else { continue };
        let number = i as u32 + 1;
        if EXTENDED.contains(&e.kind) {
            if extended.is_none() {
                extended = Some(*e);
            } else {
                table
                    .problems
                    .push(format!("entry {number}: a second extended partition"));
            }
            continue;
        }
        push(disk, &mut table, number, u64::from(e.start), e, false);
    }
    if let Some(ext) = extended {
        logical(disk, &mut table, ext)?;
    }
    Ok(table)
}

/// Adds entry `e` starting at LBA `start` if it lies on the disk.
fn push(
    disk: &Source,
    table: &mut PartitionTable,
    number: u32,
    start: u64,
    e: &Entry,
    logical: bool,
) {
    let sector = table.sector_size;
    let place = bytes(start, sector).zip(bytes(u64::from(e.sectors), sector));
    match place {
        Some((offset, size))
            if offset
                .checked_add(size)
                .is_some_and(|end| end <= disk.size())
                && offset > 0 =>
        {
            table.partitions.push(Partition {
                number,
                offset,
                size,
                kind: PartitionKind::Mbr {
                    type_byte: e.kind,
                    bootable: e.bootable,
                    logical,
                },
            })
        }
        _ => table.problems.push(format!(
            "partition {number}: {} sectors at sector {start} lie outside the disk ({} bytes)",
            e.sectors,
            disk.size()
        )),
    }
}

/// Follows the chain of EBRs inside the extended partition `ext`.
fn logical(disk: &Source, table: &mut PartitionTable, ext: Entry) -> Result<(), PartitionError> {
    let sector = table.sector_size;
    let base = u64::from(ext.start);
    let mut ebr = base;
    let mut seen = HashSet::new();
    let mut number = 5;
    loop {
        if !seen.insert(ebr) {
            table.problems.push(format!(
                "the extended partition's chain loops back to sector {ebr}"
            ));
            return Ok(());
        }
        if seen.len() > super::MBR_MAX_LOGICAL {
            table.problems.push(format!(
                "more than {} logical partitions",
                super::MBR_MAX_LOGICAL
            ));
            return Ok(());
        }
        let at = bytes(ebr, sector).ok_or_else(|| corrupt(disk, format!("EBR at sector {ebr}")))?;
        let mut s = vec![0u8; sector as usize];
        if at
            .checked_add(u64::from(sector))
            .is_none_or(|end| end > disk.size())
        {
            table.problems.push(format!(
                "extended boot record at sector {ebr} lies outside the disk"
            ));
            return Ok(());
        }
        disk.read_at(at, &mut s)?;
        let Some(record) = Mbr::parse(&s) else {
            table
                .problems
                .push(format!("no extended boot record at sector {ebr}"));
            return Ok(());
        };
        if let Some(e) = record.entries[0].filter(|e| !EXTENDED.contains(&e.kind)) {
            push(disk, table, number, ebr + u64::from(e.start), &e, true);
            number += 1;
        }
        match record.entries[1].filter(|e| EXTENDED.contains(&e.kind)) {
            Some(next) => ebr = base + u64::from(next.start),
            None => return Ok(()),
        }
    }
}
