//! GUIDs as GPT stores them: the first three fields little-endian.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }

    /// Parses `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (either case).
    pub fn parse(s: &str) -> Option<Guid> {
        let hex: Vec<u8> = s.bytes().filter(|&c| c != b'-').collect();
        if hex.len() != 32 || s.len() != 36 {
            return None;
        }
        let mut raw = [0u8; 16];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            raw[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        raw[0..4].reverse();
        raw[4..6].reverse();
        raw[6..8].reverse();
        Some(Guid(raw))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9]
        )?;
        for x in &b[10..] {
            write!(f, "{x:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_mixed_endian_form() {
        let s = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
        let g = Guid::parse(s).unwrap();
        assert_eq!(g.0[..4], [0xA2, 0xA0, 0xD0, 0xEB]);
        assert_eq!(g.to_string(), s);
        assert_eq!(Guid::parse(&s.to_lowercase()), Some(g));
        assert!(Guid::parse("EBD0A0A2").is_none());
        assert!(Guid::parse("ZBD0A0A2-B9E5-4433-87C0-68B6B72699C7").is_none());
    }
}
