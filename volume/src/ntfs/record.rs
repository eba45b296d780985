//! Multi-sector structures (MFT records "FILE", index blocks "INDX", `$LogFile` restart
//! pages "RSTR") and the MFT record's header. Each is protected by an update sequence: the
//! last two bytes of every stride hold the update sequence number (USN), the real bytes
//! being kept in an array in the header. A stride whose bytes are not the USN was torn by
//! an interrupted write, and the structure is refused.

use super::attr::{self, AttrInfo};
use crate::le::{u16_at, u32_at, u64_at};

/// Checks the magic and the update sequence of `b` and puts the real bytes back.
pub fn apply_fixups(b: &mut [u8], magic: &[u8; 4]) -> Result<(), String> {
    if b.get(0..4) != Some(magic.as_slice()) {
        let found = b.get(0..4).unwrap_or(&[]);
        return Err(match found {
            b"BAAD" => "marked bad (BAAD) by chkdsk".into(),
            [0, 0, 0, 0] => "empty (never written)".into(),
            _ => format!(
                "no \"{}\" signature (found {:02x?})",
                String::from_utf8_lossy(magic),
                found
            ),
        });
    }
    let usa_off = usize::from(u16_at(b, 4).unwrap_or(0));
    let usa_count = usize::from(u16_at(b, 6).unwrap_or(0));
    let strides = usa_count.saturating_sub(1);
    let stride = b.len().checked_div(strides).unwrap_or(0);
    if strides == 0
        || stride * strides != b.len()
        || !stride.is_power_of_two()
        || !(256..=4096).contains(&stride)
    {
        return Err(format!(
            "update sequence of {usa_count} entries for {} bytes",
            b.len()
        ));
    }
    if usa_off < 8 || usa_off % 2 != 0 || usa_off + 2 * usa_count > stride {
        return Err(format!("update sequence array at offset {usa_off}"));
    }
    let usn = [b[usa_off], b[usa_off + 1]];
    for i in 0..strides {
        let at = (i + 1) * stride - 2;
        if b[at..at + 2] != usn {
            return Err(format!(
                "torn write: sector {i} does not end with the update sequence number"
            ));
        }
        let saved = usa_off + 2 * (i + 1);
        b[at] = b[saved];
        b[at + 1] = b[saved + 1];
    }
    Ok(())
}

/// Record header flags.
pub const IN_USE: u16 = 0x0001;
pub const DIRECTORY: u16 = 0x0002;

/// A file reference: an MFT record number (48 bits) and the sequence number the record had
/// when the reference was made (0: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileRef {
    pub record: u64,
    pub sequence: u16,
}

impl FileRef {
    pub fn from_raw(raw: u64) -> FileRef {
        FileRef {
            record: raw & 0x0000_FFFF_FFFF_FFFF,
            sequence: (raw >> 48) as u16,
        }
    }

    /// A record with any sequence number.
    pub fn record(record: u64) -> FileRef {
        FileRef {
            record,
            sequence: 0,
        }
    }

    /// The volume's own files ($MFT … $Extend and the reserved records 12–15), hidden from
    /// a listing of the root by Windows and ntfs-3g alike.
    pub fn is_metadata(&self) -> bool {
        self.record < 16
    }
}

impl std::fmt::Display for FileRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.record, self.sequence)
    }
}

/// One MFT record, fixed up, its header and attribute headers checked.
#[derive(Debug)]
pub struct Record {
    pub number: u64,
    pub bytes: Box<[u8]>,
    pub sequence: u16,
    pub link_count: u16,
    pub flags: u16,
    /// The base record when this is an extension record (0 for a base record).
    pub base: FileRef,
    pub attrs: Vec<AttrInfo>,
}

impl Record {
    /// Parses record `number` from its raw bytes (fix-ups not yet applied).
    pub fn parse(number: u64, mut bytes: Box<[u8]>) -> Result<Record, String> {
        apply_fixups(&mut bytes, b"FILE")?;
        let b = &bytes[..];
        let first = usize::from(u16_at(b, 0x14).unwrap_or(0));
        let used = u32_at(b, 0x18).unwrap_or(0) as usize;
        if used > b.len() || first < 0x2A || first % 8 != 0 || first >= used {
            return Err(format!(
                "header gives attributes from {first} to {used} in {} bytes",
                b.len()
            ));
        }
        // Windows XP and later write the record's own number: a record found somewhere
        // else (a wrong MFT run list) gives itself away.
        let usa_off = usize::from(u16_at(b, 4).unwrap_or(0));
        let flags = u16_at(b, 0x16).unwrap_or(0);
        if flags & IN_USE != 0 && first >= 0x30 && usa_off >= 0x30 {
            let own = u32_at(b, 0x2C).unwrap_or(0);
            if u64::from(own) != number & 0xFFFF_FFFF {
                return Err(format!("holds record {own}, not {number}"));
            }
        }
        let attrs = attr::parse_all(b, first, used)?;
        Ok(Record {
            number,
            sequence: u16_at(b, 0x10).unwrap_or(0),
            link_count: u16_at(b, 0x12).unwrap_or(0),
            flags,
            base: FileRef::from_raw(u64_at(b, 0x20).unwrap_or(0)),
            attrs,
            bytes,
        })
    }

    pub fn in_use(&self) -> bool {
        self.flags & IN_USE != 0
    }

    pub fn is_dir(&self) -> bool {
        self.flags & DIRECTORY != 0
    }

    pub fn file_ref(&self) -> FileRef {
        FileRef {
            record: self.number,
            sequence: self.sequence,
        }
    }

    /// The bytes of a resident attribute's value.
    pub fn value(&self, a: &AttrInfo) -> Option<&[u8]> {
        match &a.form {
            attr::Form::Resident { value } => self.bytes.get(value.clone()),
            attr::Form::NonResident { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 KiB structure with two 512-byte strides, protected by USN 0x0007.
    fn protected(magic: &[u8; 4]) -> Vec<u8> {
        let mut b = vec![0xAAu8; 1024];
        b[0..4].copy_from_slice(magic);
        b[4..6].copy_from_slice(&0x30u16.to_le_bytes());
        b[6..8].copy_from_slice(&3u16.to_le_bytes());
        b[0x30..0x32].copy_from_slice(&7u16.to_le_bytes());
        b[0x32..0x34].copy_from_slice(&[1, 2]);
        b[0x34..0x36].copy_from_slice(&[3, 4]);
        b[510..512].copy_from_slice(&7u16.to_le_bytes());
        b[1022..1024].copy_from_slice(&7u16.to_le_bytes());
        b
    }

    #[test]
    fn fixups_put_the_saved_bytes_back() {
        let mut b = protected(b"FILE");
        apply_fixups(&mut b, b"FILE").unwrap();
        assert_eq!(&b[510..512], &[1, 2]);
        assert_eq!(&b[1022..1024], &[3, 4]);
    }

    #[test]
    fn a_torn_sector_or_a_bad_array_is_refused() {
        let mut b = protected(b"FILE");
        b[1023] = 9;
        assert!(apply_fixups(&mut b, b"FILE").unwrap_err().contains("torn"));
        let mut b = protected(b"INDX");
        assert!(apply_fixups(&mut b, b"FILE").is_err());
        let mut b = protected(b"FILE");
        b[6..8].copy_from_slice(&0xFFFFu16.to_le_bytes());
        assert!(apply_fixups(&mut b, b"FILE").is_err());
        let mut b = protected(b"FILE");
        b[4..6].copy_from_slice(&0x1FFu16.to_le_bytes());
        assert!(apply_fixups(&mut b, b"FILE").is_err());
        let mut b = protected(b"FILE");
        b[6..8].copy_from_slice(&1u16.to_le_bytes());
        assert!(apply_fixups(&mut b, b"FILE").is_err());
        let mut b = b"BAAD".to_vec();
        b.resize(1024, 0);
        assert!(apply_fixups(&mut b, b"FILE").unwrap_err().contains("BAAD"));
    }
}
