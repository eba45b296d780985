//! `$UpCase`: the volume's own table of upper-case letters (one UTF-16 unit for each of the
//! 65,536), by which Windows orders the names in a folder's index and compares names while
//! ignoring case. The table written when the volume was formatted is the one its indexes
//! follow; when it cannot be read, one built from Unicode's simple upper-case mapping
//! stands in (the same for every letter Windows' tables have held).

use std::cmp::Ordering;

pub const UNITS: usize = 65_536;

pub struct UpCase {
    table: Box<[u16]>,
}

impl UpCase {
    /// The table from `$UpCase`'s bytes, if they are exactly one table.
    pub fn from_bytes(b: &[u8]) -> Option<UpCase> {
        (b.len() == 2 * UNITS).then(|| UpCase {
            table: crate::le::u16s(b).collect(),
        })
    }

    /// Unicode's simple upper-case mapping for every unit that maps to one other unit.
    pub fn builtin() -> UpCase {
        let table = (0..UNITS as u32)
            .map(|u| {
                let Some(c) = char::from_u32(u) else {
                    return u as u16;
                };
                let mut up = c.to_uppercase();
                match (up.next(), up.next()) {
                    (Some(x), None) if (x as u32) < 0x1_0000 => x as u32 as u16,
                    _ => u as u16,
                }
            })
            .collect();
        UpCase { table }
    }

    pub fn up(&self, u: u16) -> u16 {
        self.table.get(usize::from(u)).copied().unwrap_or(u)
    }

    /// Compares two names as Windows orders a folder's index: unit by unit after upper-casing,
    /// a shorter name first when one is the start of the other.
    pub fn cmp(&self, a: impl Iterator<Item = u16>, b: impl Iterator<Item = u16>) -> Ordering {
        a.map(|u| self.up(u)).cmp(b.map(|u| self.up(u)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_ignores_case_beyond_ascii() {
        let t = UpCase::builtin();
        let units = |s: &str| s.encode_utf16().collect::<Vec<_>>();
        let eq = |a: &str, b: &str| t.cmp(units(a).into_iter(), units(b).into_iter());
        assert_eq!(eq("Documents", "DOCUMENTS"), Ordering::Equal);
        assert_eq!(eq("ÄRGER", "ärger"), Ordering::Equal);
        assert_eq!(eq("Ωμέγα", "ΩΜΈΓΑ"), Ordering::Equal);
        assert_eq!(eq("a", "B"), Ordering::Less);
        assert_eq!(eq("ab", "A"), Ordering::Greater);
        // ß upper-cases to "SS" (two letters): Windows leaves it alone.
        assert_eq!(t.up('ß' as u16), 'ß' as u16);
    }

    #[test]
    fn a_table_must_be_whole() {
        assert!(UpCase::from_bytes(&[0u8; 100]).is_none());
        let t: Vec<u8> = (0..UNITS as u32)
            .flat_map(|u| (u as u16).to_le_bytes())
            .collect();
        assert_eq!(UpCase::from_bytes(&t).unwrap().up(0x61), 0x61);
    }
}
