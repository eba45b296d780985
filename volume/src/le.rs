//! Little-endian fields of on-disk structures (hive base blocks and logs, PE headers and
//! version resources, shell links, SAM records). Every reader is bounded: an offset or a
//! field that runs past the buffer, or an offset so large that adding the field's width
//! overflows, gives `None`, never a panic.

/// The `N` bytes at `at`, if they are all inside `b`.
fn field<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    field(b, at).map(u16::from_le_bytes)
}

pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    field(b, at).map(u32::from_le_bytes)
}

pub fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    field(b, at).map(u64::from_le_bytes)
}

/// The UTF-16LE code units in `b`, in order; an odd last byte is not a unit and is left out.
pub fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: [u8; 9] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];

    #[test]
    fn reads_little_endian_at_any_offset() {
        assert_eq!(u16_at(&B, 0), Some(0x0201));
        assert_eq!(u16_at(&B, 7), Some(0x0908));
        assert_eq!(u32_at(&B, 1), Some(0x0504_0302));
        assert_eq!(u32_at(&B, 5), Some(0x0908_0706));
        assert_eq!(u64_at(&B, 0), Some(0x0807_0605_0403_0201));
        assert_eq!(u64_at(&B, 1), Some(0x0908_0706_0504_0302));
    }

    #[test]
    fn a_field_past_the_end_is_none() {
        assert_eq!(u16_at(&B, 8), None);
        assert_eq!(u32_at(&B, 6), None);
        assert_eq!(u64_at(&B, 2), None);
        assert_eq!(u16_at(&B, 9), None);
        assert_eq!(u32_at(&B, 100), None);
        assert_eq!(u16_at(&[], 0), None);
        assert_eq!(u64_at(&[0; 7], 0), None);
    }

    #[test]
    fn offsets_near_usize_max_do_not_overflow() {
        for at in [usize::MAX, usize::MAX - 1, usize::MAX - 3, usize::MAX - 7] {
            assert_eq!(u16_at(&B, at), None);
            assert_eq!(u32_at(&B, at), None);
            assert_eq!(u64_at(&B, at), None);
        }
    }

    #[test]
    fn utf16_units_leave_out_an_odd_last_byte() {
        let text: Vec<u8> = "Aé€".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(u16s(&text).collect::<Vec<_>>(), [0x41, 0xE9, 0x20AC]);
        assert_eq!(u16s(&[0x41, 0x00, 0x42]).collect::<Vec<_>>(), [0x41]);
        assert_eq!(u16s(&[]).count(), 0);
    }
}
