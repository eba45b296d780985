//! How a volume is known on its disk, as Windows records it in `MountedDevices` and as the
//! platform reads it from the partition table now. A leaf: both `platform` and
//! `detect::drive_map` use it, neither through the other.

use lifeboat_volume::partition::{Partition, PartitionKind, TableKind};

/// Where a volume sits on its disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeIdentity {
    Mbr {
        disk_signature: u32,
        offset: u64,
    },
    /// Canonical lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    Gpt {
        partition_guid: String,
    },
}

impl VolumeIdentity {
    /// How `MountedDevices` names a partition: the MBR disk signature with the partition's
    /// byte offset, or the GPT partition GUID.
    pub fn of(table: &TableKind, p: &Partition) -> Option<VolumeIdentity> {
        match (table, &p.kind) {
            (TableKind::Mbr { signature }, _) => Some(VolumeIdentity::Mbr {
                disk_signature: *signature,
                offset: p.offset,
            }),
            (TableKind::Gpt { .. }, PartitionKind::Gpt { guid, .. }) => Some(VolumeIdentity::Gpt {
                partition_guid: guid.to_string().to_lowercase(),
            }),
            _ => None,
        }
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` for a GUID in Windows' mixed-endian byte order.
pub fn guid_string(b: &[u8]) -> String {
    if b.len() < 16 {
        return String::new();
    }
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}
