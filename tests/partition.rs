//! Partition tables read by Lifeboat against `sfdisk --json` (which also wrote them): GPT
//! (with a damaged primary header, on 4 KiB sectors, beside a hybrid MBR), MBR with an
//! extended partition and logical ones, a bare volume, and hostile tables. A Windows
//! volume inside the disk image opens through its partition and reads like the volume.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use fixtures::ntfs::{self as fx, Table};
use fixtures::run;
use fixtures::volume::WindowsSpec;
use lifeboat_volume::block::{BlockSource, FileSource, MemSource, Source};
use lifeboat_volume::ntfs::Ntfs;
use lifeboat_volume::partition::{PartitionKind, PartitionTable, TableKind};

fn source(img: &Path) -> Source {
    Arc::new(FileSource::open(img).unwrap())
}

/// One partition as sfdisk lists it: number, first sector, sectors, type, GUID, name,
/// bootable.
#[derive(Debug, PartialEq, Eq)]
struct Listed {
    number: u32,
    start: u64,
    sectors: u64,
    kind: String,
    uuid: Option<String>,
    name: Option<String>,
    bootable: bool,
}

/// `sfdisk --json` of a disk: (label, id, sector size, partitions).
fn sfdisk_json(disk: &Path) -> (String, String, u64, Vec<Listed>) {
    let (code, out, err) = run(Command::new("sfdisk").arg("--json").arg(disk));
    assert_eq!(code, 0, "sfdisk --json: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &v["partitiontable"];
    let parts = t["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let node = p["node"].as_str().unwrap();
            let digits: String = node
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect();
            Listed {
                number: digits.chars().rev().collect::<String>().parse().unwrap(),
                start: p["start"].as_u64().unwrap(),
                sectors: p["size"].as_u64().unwrap(),
                kind: p["type"].as_str().unwrap().to_uppercase(),
                uuid: p["uuid"].as_str().map(str::to_uppercase),
                name: p["name"].as_str().map(String::from),
                bootable: p["bootable"].as_bool().unwrap_or(false),
            }
        })
        .collect();
    (
        t["label"].as_str().unwrap().to_string(),
        t["id"].as_str().unwrap().to_uppercase(),
        t["sectorsize"].as_u64().unwrap(),
        parts,
    )
}

/// Lifeboat's table in sfdisk's terms.
fn listed(t: &PartitionTable) -> Vec<Listed> {
    let s = u64::from(t.sector_size);
    t.partitions
        .iter()
        .map(|p| {
            let (kind, uuid, name, bootable) = match &p.kind {
                PartitionKind::Gpt {
                    type_guid,
                    guid,
                    name,
                    ..
                } => (
                    type_guid.to_string(),
                    Some(guid.to_string()),
                    Some(name.clone()),
                    false,
                ),
                PartitionKind::Mbr {
                    type_byte,
                    bootable,
                    ..
                } => (format!("{type_byte:X}"), None, None, *bootable),
            };
            Listed {
                number: p.number,
                start: p.offset / s,
                sectors: p.size / s,
                kind,
                uuid,
                name: name.filter(|n| !n.is_empty()),
                bootable,
            }
        })
        .collect()
}

fn windows_disk(dir: &Path, table: Table) -> (std::path::PathBuf, u32, WindowsSpec) {
    let spec = WindowsSpec::win10("PARTED-PC");
    let vol = fx::windows_volume(dir, &spec);
    let (disk, number) = fx::disk_image(dir, &vol, table);
    (disk, number, spec)
}

/// The Windows volume opens through its partition: its SYSTEM hive reads as written.
fn hive_through_partition(disk: &Path, table: &PartitionTable, number: u32, spec: &WindowsSpec) {
    let src = source(disk);
    let part = table
        .partitions
        .iter()
        .find(|p| p.number == number)
        .unwrap();
    let window = part.open(&src).unwrap();
    assert_eq!(
        window.name(),
        format!("{}, partition {number}", disk.display())
    );
    let vol = Ntfs::open(Arc::new(window)).unwrap();
    let s = vol
        .stream(vol.resolve(r"windows\system32\config\SYSTEM").unwrap(), "")
        .unwrap();
    let mut got = vec![0u8; s.len() as usize];
    s.read_at(0, &mut got).unwrap();
    assert_eq!(got, spec.system_hive().to_bytes());
}

#[test]
fn gpt_matches_sfdisk_and_its_volume_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (disk, number, spec) = windows_disk(dir.path(), Table::Gpt);
    let t = PartitionTable::read(&source(&disk)).unwrap();
    let (label, id, sector, parts) = sfdisk_json(&disk);
    assert_eq!((label.as_str(), sector), ("gpt", 512));
    match &t.kind {
        TableKind::Gpt {
            disk_guid,
            used_backup,
            hybrid_mbr,
        } => {
            assert_eq!(disk_guid.to_string(), id);
            assert!(!used_backup && !hybrid_mbr);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(listed(&t), parts);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.partitions[2].type_name(), Some("Microsoft basic data"));
    hive_through_partition(&disk, &t, number, &spec);

    // The primary header damaged: the backup at the disk's end is read, as sfdisk does.
    let mut bytes = std::fs::read(&disk).unwrap();
    bytes[512 + 100] ^= 0xFF;
    bytes[512 + 24] ^= 0x01; // and its own LBA: not merely its CRC
    std::fs::write(&disk, &bytes).unwrap();
    let t2 = PartitionTable::read(&source(&disk)).unwrap();
    assert!(matches!(
        t2.kind,
        TableKind::Gpt {
            used_backup: true,
            ..
        }
    ));
    assert_eq!(listed(&t2), sfdisk_json(&disk).3);
    assert_eq!(t2.partitions, t.partitions);

    // A hybrid MBR (gdisk's): the protective entry and one for the Windows volume.
    let mut bytes = std::fs::read(&disk).unwrap();
    let p = &t.partitions[2];
    let entry = 446 + 16;
    bytes[entry + 4] = 0x07;
    bytes[entry + 8..entry + 12].copy_from_slice(&((p.offset / 512) as u32).to_le_bytes());
    bytes[entry + 12..entry + 16].copy_from_slice(&((p.size / 512) as u32).to_le_bytes());
    std::fs::write(&disk, &bytes).unwrap();
    let t3 = PartitionTable::read(&source(&disk)).unwrap();
    assert!(matches!(
        t3.kind,
        TableKind::Gpt {
            hybrid_mbr: true,
            ..
        }
    ));
    assert_eq!(t3.partitions, t.partitions);
}

#[test]
fn mbr_with_logical_partitions_matches_sfdisk() {
    let dir = tempfile::tempdir().unwrap();
    let (disk, number, spec) = windows_disk(dir.path(), Table::Mbr);
    let t = PartitionTable::read(&source(&disk)).unwrap();
    let (label, id, _, parts) = sfdisk_json(&disk);
    assert_eq!(label, "dos");
    assert_eq!(
        t.kind,
        TableKind::Mbr {
            signature: 0x1234_abcd
        }
    );
    assert_eq!(id, "0X1234ABCD");
    // sfdisk lists the extended partition itself; Lifeboat gives out the volumes only.
    let volumes: Vec<Listed> = parts.into_iter().filter(|p| p.kind != "5").collect();
    assert_eq!(listed(&t), volumes);
    assert_eq!(number, 6);
    assert!(matches!(
        t.partitions.iter().find(|p| p.number == 6).unwrap().kind,
        PartitionKind::Mbr {
            logical: true,
            type_byte: 7,
            ..
        }
    ));
    hive_through_partition(&disk, &t, number, &spec);
}

#[test]
fn gpt_on_4k_sectors_matches_sfdisk() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("4kn.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let (code, dev, err) = run(Command::new("losetup")
        .args(["-f", "--show", "--sector-size", "4096"])
        .arg(&img));
    assert_eq!(code, 0, "losetup (needs root): {err}");
    let dev = dev.trim().to_string();
    struct Detach(String);
    impl Drop for Detach {
        fn drop(&mut self) {
            let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
        }
    }
    let _detach = Detach(dev.clone());
    fx::sfdisk(
        Path::new(&dev),
        "label: gpt\nstart=256, size=2560, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=4096, size=8192, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"Data\"\n",
    );
    let (_, _, sector, parts) = sfdisk_json(Path::new(&dev));
    assert_eq!(sector, 4096);
    let t = PartitionTable::read(&source(&img)).unwrap();
    assert_eq!(t.sector_size, 4096);
    assert_eq!(listed(&t), parts);
    assert_eq!(t.partitions[1].offset, 4096 * 4096);
}

#[test]
fn a_bare_volume_has_no_table() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("bare.img");
    fx::mkntfs(&img, 8 << 20, 4096, 512, "Bare");
    let t = PartitionTable::read(&source(&img)).unwrap();
    assert_eq!(t.kind, TableKind::None);
    assert!(t.partitions.is_empty());
    let empty: Source = Arc::new(MemSource::new("zeros", vec![0u8; 1 << 20]));
    assert_eq!(PartitionTable::read(&empty).unwrap().kind, TableKind::None);
}

/// An MBR (sector 0) with the given entries: (boot flag, type, first sector, sectors).
fn mbr(entries: &[(u8, u8, u32, u32)]) -> Vec<u8> {
    let mut s = vec![0u8; 512];
    for (i, (flag, kind, start, count)) in entries.iter().enumerate() {
        let e = 446 + 16 * i;
        s[e] = *flag;
        s[e + 4] = *kind;
        s[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        s[e + 12..e + 16].copy_from_slice(&count.to_le_bytes());
    }
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

fn table_of(disk: Vec<u8>) -> Result<PartitionTable, lifeboat_volume::partition::PartitionError> {
    let src: Source = Arc::new(MemSource::new("hostile.img", disk));
    PartitionTable::read(&src)
}

#[test]
fn hostile_tables_are_bounded_and_named() {
    let sectors = 4096u32; // a 2 MiB disk
    let disk = |s0: Vec<u8>, more: &[(u32, Vec<u8>)]| {
        let mut d = vec![0u8; sectors as usize * 512];
        d[..512].copy_from_slice(&s0);
        for (lba, s) in more {
            d[*lba as usize * 512..*lba as usize * 512 + 512].copy_from_slice(s);
        }
        d
    };
    // Entries past the end of the disk, or starting at sector 0, are named, not given.
    let t = table_of(disk(
        mbr(&[(0, 7, 2048, 1 << 30), (0, 7, 0, 10), (0x80, 7, 100, 100)]),
        &[],
    ))
    .unwrap();
    assert_eq!(t.partitions.len(), 1);
    assert_eq!(t.problems.len(), 2, "{:?}", t.problems);
    assert!(t.problems[0].contains("outside the disk"));
    // An extended chain that loops back on itself ends at the repeat.
    let ebr = mbr(&[(0, 7, 10, 20), (0, 5, 0, 100)]);
    let t = table_of(disk(mbr(&[(0, 5, 1000, 2000)]), &[(1000, ebr)])).unwrap();
    assert_eq!(t.partitions.len(), 1);
    assert!(
        t.problems.iter().any(|p| p.contains("loops")),
        "{:?}",
        t.problems
    );
    // A chain running past the disk.
    let ebr = mbr(&[(0, 7, 10, 20), (0, 5, 1 << 30, 100)]);
    let t = table_of(disk(mbr(&[(0, 5, 1000, 2000)]), &[(1000, ebr)])).unwrap();
    assert!(
        t.problems.iter().any(|p| p.contains("outside the disk")),
        "{:?}",
        t.problems
    );
    // A protective MBR without any GPT header: an error naming the disk.
    let e = table_of(disk(mbr(&[(0, 0xEE, 1, sectors - 1)]), &[])).unwrap_err();
    assert!(
        e.to_string().contains("hostile.img") && e.to_string().contains("GPT"),
        "{e}"
    );
    // A GPT header claiming four billion entries; a disk smaller than a sector.
    let mut gpt = vec![0u8; 512];
    gpt[..8].copy_from_slice(b"EFI PART");
    gpt[12..16].copy_from_slice(&92u32.to_le_bytes());
    gpt[24..32].copy_from_slice(&1u64.to_le_bytes());
    gpt[72..80].copy_from_slice(&2u64.to_le_bytes());
    gpt[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
    gpt[84..88].copy_from_slice(&128u32.to_le_bytes());
    let crc = crc32(&gpt[..92]);
    gpt[16..20].copy_from_slice(&crc.to_le_bytes());
    assert!(table_of(disk(mbr(&[(0, 0xEE, 1, sectors - 1)]), &[(1, gpt)])).is_err());
    assert!(table_of(vec![0u8; 100]).is_err());
}

/// CRC-32 (IEEE), bit by bit: the test's own, not the reader's.
fn crc32(b: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in b {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}
