//! Drive letters as the offline system saw them (SYSTEM `MountedDevices`), matched to the
//! volumes visible now by disk signature and offset (MBR) or partition GUID (GPT), so a
//! profile or redirected folder on the old D: is found wherever that volume is now.

use crate::diskid::{guid_string, VolumeIdentity};

use super::model::{DriveIdentity, LetterSource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountedDevice {
    Mbr {
        disk_signature: u32,
        offset: u64,
    },
    Gpt {
        partition_guid: String,
    },
    /// Removable and optical media: a UTF-16 device path.
    DevicePath(String),
    Unknown,
}

impl MountedDevice {
    pub fn identity(&self) -> DriveIdentity {
        match self {
            MountedDevice::Mbr { .. } => DriveIdentity::Mbr,
            MountedDevice::Gpt { .. } => DriveIdentity::Gpt,
            MountedDevice::DevicePath(_) => DriveIdentity::DevicePath,
            MountedDevice::Unknown => DriveIdentity::Unknown,
        }
    }

    /// How a volume matched to this device was found (only MBR and GPT ones can be).
    pub fn found_by(&self) -> Option<LetterSource> {
        match self {
            MountedDevice::Mbr { .. } => Some(LetterSource::Mbr),
            MountedDevice::Gpt { .. } => Some(LetterSource::Gpt),
            MountedDevice::DevicePath(_) | MountedDevice::Unknown => None,
        }
    }

    fn matches(&self, id: &VolumeIdentity) -> bool {
        match (self, id) {
            (
                MountedDevice::Mbr {
                    disk_signature: a,
                    offset: o,
                },
                VolumeIdentity::Mbr {
                    disk_signature: b,
                    offset: p,
                },
            ) => a == b && o == p,
            (
                MountedDevice::Gpt { partition_guid: a },
                VolumeIdentity::Gpt { partition_guid: b },
            ) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }
}

/// Decodes one `MountedDevices` value's data.
pub fn decode(data: &[u8]) -> MountedDevice {
    if data.len() == 12 {
        return MountedDevice::Mbr {
            disk_signature: u32::from_le_bytes([data[0], data[1], data[2], data[3]]),
            offset: u64::from_le_bytes(data[4..12].try_into().unwrap_or_default()),
        };
    }
    if data.len() == 24 && data.starts_with(b"DMIO:ID:") {
        return MountedDevice::Gpt {
            partition_guid: guid_string(&data[8..24]),
        };
    }
    if data.len() >= 2 && data.len() % 2 == 0 {
        let s = crate::hive::utf16_until_nul(data);
        if s.starts_with('\\') || s.starts_with('_') {
            return MountedDevice::DevicePath(s);
        }
    }
    MountedDevice::Unknown
}

/// The `\DosDevices\X:` values, as (letter, device), sorted by letter.
pub fn parse_mounted_devices(values: &[crate::hive::Value]) -> Vec<(char, MountedDevice)> {
    let mut out: Vec<(char, MountedDevice)> = values
        .iter()
        .filter_map(|v| {
            let rest = v.name.strip_prefix(r"\DosDevices\")?;
            let mut c = rest.chars();
            let letter = c.next()?.to_ascii_uppercase();
            (letter.is_ascii_alphabetic() && c.next() == Some(':') && c.next().is_none())
                .then(|| (letter, decode(&v.data)))
        })
        .collect();
    out.sort_by_key(|(l, _)| *l);
    out
}

/// A volume visible now (mounted by the host, or read from a disk by Lifeboat), with how
/// its disk knows it.
#[derive(Debug, Clone)]
pub struct Visible {
    pub identity: Option<VolumeIdentity>,
    pub root: crate::volume::Place,
}

/// The visible volume a device is now, if any.
pub fn find_volume<'a>(device: &MountedDevice, visible: &'a [Visible]) -> Option<&'a Visible> {
    visible
        .iter()
        .find(|v| v.identity.as_ref().is_some_and(|id| device.matches(id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hive::{Value, ValueType};

    fn val(name: &str, data: &[u8]) -> Value {
        Value {
            name: name.into(),
            kind: Some(ValueType::Binary),
            data: data.to_vec(),
        }
    }

    #[test]
    fn decodes_all_three_forms() {
        let mut mbr = 0x1234_abcdu32.to_le_bytes().to_vec();
        mbr.extend_from_slice(&1_048_576u64.to_le_bytes());
        let mut gpt = b"DMIO:ID:".to_vec();
        gpt.extend_from_slice(&[
            0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 1, 2, 3, 4, 5, 6, 7, 8,
        ]);
        let dev: Vec<u8> = r"\??\USBSTOR#Disk"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let parsed = parse_mounted_devices(&[
            val(r"\DosDevices\D:", &gpt),
            val(r"\DosDevices\C:", &mbr),
            val(r"\DosDevices\E:", &dev),
            val(r"\??\Volume{x}", &mbr),
            val(r"\DosDevices\F:", &[1, 2, 3]),
        ]);
        assert_eq!(
            parsed[0],
            (
                'C',
                MountedDevice::Mbr {
                    disk_signature: 0x1234_abcd,
                    offset: 1_048_576
                }
            )
        );
        assert_eq!(
            parsed[1],
            (
                'D',
                MountedDevice::Gpt {
                    partition_guid: "12345678-9abc-def0-0102-030405060708".into()
                }
            )
        );
        assert!(matches!(&parsed[2], ('E', MountedDevice::DevicePath(p)) if p.contains("USBSTOR")));
        assert_eq!(parsed[3], ('F', MountedDevice::Unknown));
        assert_eq!(parsed.len(), 4);
    }
}
