//! Attributes of an MFT record: their headers parsed and checked against the record, the
//! value (resident) or the run list and sizes (non-resident) located but not yet read.

use std::ops::Range;

use crate::le::{u16_at, u32_at, u64_at};

pub const STANDARD_INFORMATION: u32 = 0x10;
pub const ATTRIBUTE_LIST: u32 = 0x20;
pub const FILE_NAME: u32 = 0x30;
pub const SECURITY_DESCRIPTOR: u32 = 0x50;
pub const VOLUME_NAME: u32 = 0x60;
pub const VOLUME_INFORMATION: u32 = 0x70;
pub const DATA: u32 = 0x80;
pub const INDEX_ROOT: u32 = 0x90;
pub const INDEX_ALLOCATION: u32 = 0xA0;
pub const BITMAP: u32 = 0xB0;
pub const REPARSE_POINT: u32 = 0xC0;
pub const LOGGED_UTILITY_STREAM: u32 = 0x100;
const END: u32 = 0xFFFF_FFFF;

/// Attribute flags.
pub const FLAG_COMPRESSED: u16 = 0x0001;
pub const FLAG_ENCRYPTED: u16 = 0x4000;
pub const FLAG_SPARSE: u16 = 0x8000;

/// The name Windows gives an attribute type, for messages.
pub fn type_name(kind: u32) -> String {
    let name = match kind {
        STANDARD_INFORMATION => "$STANDARD_INFORMATION",
        ATTRIBUTE_LIST => "$ATTRIBUTE_LIST",
        FILE_NAME => "$FILE_NAME",
        0x40 => "$OBJECT_ID",
        SECURITY_DESCRIPTOR => "$SECURITY_DESCRIPTOR",
        VOLUME_NAME => "$VOLUME_NAME",
        VOLUME_INFORMATION => "$VOLUME_INFORMATION",
        DATA => "$DATA",
        INDEX_ROOT => "$INDEX_ROOT",
        INDEX_ALLOCATION => "$INDEX_ALLOCATION",
        BITMAP => "$BITMAP",
        REPARSE_POINT => "$REPARSE_POINT",
        0xD0 => "$EA_INFORMATION",
        0xE0 => "$EA",
        LOGGED_UTILITY_STREAM => "$LOGGED_UTILITY_STREAM",
        _ => return format!("attribute type {kind:#x}"),
    };
    name.to_string()
}

/// Where an attribute's content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// In the record: the value's byte range within the record.
    Resident { value: Range<usize> },
    /// In clusters: one extent of the attribute (its VCNs `start_vcn..=last_vcn`), the run
    /// list's byte range within the record. Sizes are meaningful in the first extent only.
    NonResident {
        start_vcn: u64,
        /// One past the last VCN (the header stores the last VCN, -1 when empty).
        end_vcn: u64,
        runs: Range<usize>,
        compression_shift: u8,
        allocated: u64,
        size: u64,
        initialized: u64,
    },
}

/// One attribute header, checked against its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrInfo {
    pub kind: u32,
    pub flags: u16,
    pub id: u16,
    pub name: String,
    pub form: Form,
}

impl AttrInfo {
    pub fn is(&self, kind: u32, name: &str) -> bool {
        self.kind == kind && self.name == name
    }
}

/// Parses the attributes of a (fixed-up) record from `first` to `used`. Returns the
/// attributes or why the list is damaged.
pub fn parse_all(b: &[u8], first: usize, used: usize) -> Result<Vec<AttrInfo>, String> {
    let mut out = Vec::new();
    let mut pos = first;
    loop {
        let kind = u32_at(b, pos)
            .filter(|_| pos + 4 <= used)
            .ok_or_else(|| format!("the attributes run past the record's {used} used bytes"))?;
        if kind == END {
            return Ok(out);
        }
        let len = u32_at(b, pos + 4).unwrap_or(0) as usize;
        let end = pos.checked_add(len).filter(|&e| e <= used);
        let Some(end) = end.filter(|_| len >= 0x18 && len % 8 == 0) else {
            return Err(format!(
                "attribute {} at offset {pos} has length {len}, outside the record",
                type_name(kind)
            ));
        };
        let attr = parse_one(&b[pos..end], kind)
            .map_err(|why| format!("attribute {} at offset {pos}: {why}", type_name(kind)))?;
        out.push(offset_by(attr, pos));
        pos = end;
    }
}

fn offset_by(mut a: AttrInfo, by: usize) -> AttrInfo {
    match &mut a.form {
        Form::Resident { value } => *value = value.start + by..value.end + by,
        Form::NonResident { runs, .. } => *runs = runs.start + by..runs.end + by,
    }
    a
}

/// One attribute's header; `a` is exactly the attribute's bytes.
fn parse_one(a: &[u8], kind: u32) -> Result<AttrInfo, String> {
    let non_resident = a[8] != 0;
    let name_units = usize::from(a[9]);
    let name_off = usize::from(u16_at(a, 0x0A).unwrap_or(0));
    let flags = u16_at(a, 0x0C).unwrap_or(0);
    let id = u16_at(a, 0x0E).unwrap_or(0);
    let name_bytes = a
        .get(name_off..name_off + 2 * name_units)
        .filter(|_| name_units == 0 || name_off >= 0x10)
        .ok_or("its name lies outside it")?;
    let name = utf16_string(name_bytes);
    let form = if non_resident {
        non_resident_form(a)?
    } else {
        let len = u32_at(a, 0x10).unwrap_or(u32::MAX) as usize;
        let off = usize::from(u16_at(a, 0x14).unwrap_or(0));
        match off.checked_add(len) {
            Some(end) if end <= a.len() && off >= 0x18 => Form::Resident { value: off..end },
            _ => return Err(format!("its value ({len} bytes at {off}) lies outside it")),
        }
    };
    Ok(AttrInfo {
        kind,
        flags,
        id,
        name,
        form,
    })
}

fn non_resident_form(a: &[u8]) -> Result<Form, String> {
    if a.len() < 0x40 {
        return Err("a non-resident header shorter than 64 bytes".into());
    }
    let field = |at| u64_at(a, at).unwrap_or(0);
    let start_vcn = field(0x10);
    let last_vcn = field(0x18) as i64;
    let runs_off = usize::from(u16_at(a, 0x20).unwrap_or(0));
    if runs_off < 0x40 || runs_off > a.len() {
        return Err(format!("its run list offset {runs_off} lies outside it"));
    }
    // An empty attribute stores -1 as its last VCN.
    let end_vcn = u64::try_from(last_vcn.wrapping_add(1))
        .ok()
        .filter(|&e| e >= start_vcn && start_vcn <= i64::MAX as u64)
        .ok_or_else(|| format!("VCNs {start_vcn} to {last_vcn}"))?;
    let (allocated, size, initialized) = (field(0x28), field(0x30), field(0x38));
    if start_vcn == 0
        && (initialized > size || size > i64::MAX as u64 || allocated > i64::MAX as u64)
    {
        return Err(format!(
            "sizes out of order: {initialized} initialized, {size} long, {allocated} allocated"
        ));
    }
    Ok(Form::NonResident {
        start_vcn,
        end_vcn,
        runs: runs_off..a.len(),
        compression_shift: a[0x22],
        allocated,
        size,
        initialized,
    })
}

/// The UTF-16 name at `b` as a string (unpaired surrogates become U+FFFD).
pub fn utf16_string(b: &[u8]) -> String {
    // Most names are ASCII: those need no decoding.
    if b.len() % 2 == 0 && b.chunks_exact(2).all(|u| u[0] < 0x80 && u[1] == 0) {
        return b.iter().step_by(2).map(|&c| c as char).collect();
    }
    let units: Vec<u16> = crate::le::u16s(b).collect();
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resident(kind: u32, name: &str, value: &[u8]) -> Vec<u8> {
        let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let value_off = (0x18 + name.len()).div_ceil(8) * 8;
        let len = (value_off + value.len()).div_ceil(8) * 8;
        let mut a = vec![0u8; len];
        a[0..4].copy_from_slice(&kind.to_le_bytes());
        a[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        a[9] = (name.len() / 2) as u8;
        a[0x0A..0x0C].copy_from_slice(&0x18u16.to_le_bytes());
        a[0x10..0x14].copy_from_slice(&(value.len() as u32).to_le_bytes());
        a[0x14..0x16].copy_from_slice(&(value_off as u16).to_le_bytes());
        a[0x18..0x18 + name.len()].copy_from_slice(&name);
        a[value_off..value_off + value.len()].copy_from_slice(value);
        a
    }

    #[test]
    fn parses_resident_attributes_until_the_end_marker() {
        let mut rec = vec![0u8; 0x38];
        rec.extend(resident(DATA, "Zone.Identifier", b"[ZoneTransfer]"));
        rec.extend(resident(DATA, "", b"hello"));
        rec.extend(END.to_le_bytes());
        let used = rec.len();
        let attrs = parse_all(&rec, 0x38, used).unwrap();
        assert_eq!(attrs.len(), 2);
        assert!(attrs[0].is(DATA, "Zone.Identifier"));
        let Form::Resident { value } = &attrs[1].form else {
            panic!("resident")
        };
        assert_eq!(&rec[value.clone()], b"hello");
    }

    #[test]
    fn lengths_outside_the_record_are_refused() {
        let mut rec = vec![0u8; 0x38];
        let mut a = resident(DATA, "", b"hello");
        a[4..8].copy_from_slice(&0x1000u32.to_le_bytes());
        rec.extend(a);
        rec.extend(END.to_le_bytes());
        assert!(parse_all(&rec, 0x38, rec.len()).is_err());

        let mut rec = vec![0u8; 0x38];
        let mut a = resident(DATA, "", b"hello");
        a[0x10..0x14].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        rec.extend(a);
        rec.extend(END.to_le_bytes());
        assert!(parse_all(&rec, 0x38, rec.len()).is_err());

        // No end marker before the used size.
        let mut rec = vec![0u8; 0x38];
        rec.extend(resident(DATA, "", b"x"));
        assert!(parse_all(&rec, 0x38, rec.len()).is_err());
    }
}
