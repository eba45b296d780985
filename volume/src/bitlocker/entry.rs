//! FVE metadata entries ("datums"): the records of a metadata dataset and of a `.BEK` file.
//! Each is `size u16, entry type u16, value type u16, version u16, data`; some values hold
//! more entries inside them (the properties of a VMK). Walking them is bounded by the bytes
//! given: an entry whose size is below its header or runs past its container ends the walk
//! with an error, never a panic or a loop.

use crate::le::{u16_at, u32_at};

/// Entry types (the role of an entry in the dataset).
pub const ROLE_VMK: u16 = 0x0002;
pub const ROLE_FVEK: u16 = 0x0003;
pub const ROLE_DESCRIPTION: u16 = 0x0007;

/// Value types (what the data holds).
pub const VALUE_KEY: u16 = 0x0001;
pub const VALUE_UNICODE: u16 = 0x0002;
pub const VALUE_STRETCH_KEY: u16 = 0x0003;
pub const VALUE_AES_CCM: u16 = 0x0005;
pub const VALUE_VMK: u16 = 0x0008;
pub const VALUE_EXTERNAL_KEY: u16 = 0x0009;

pub const HEADER_LEN: usize = 8;

/// One entry, borrowed from the bytes that hold it.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub role: u16,
    pub value: u16,
    /// The bytes after the 8-byte header.
    pub data: &'a [u8],
}

impl<'a> Entry<'a> {
    /// The entries nested in this one after `skip` bytes of its own fields (a VMK's 28, a
    /// stretch key's 20, an external key's 24, a use key's 4).
    pub fn nested(&self, skip: usize) -> Entries<'a> {
        Entries::new(self.data.get(skip..).unwrap_or(&[]))
    }

    /// The first nested entry of value type `value`, if the walk reaches one.
    pub fn property(&self, skip: usize, value: u16) -> Option<Entry<'a>> {
        self.nested(skip)
            .map_while(Result::ok)
            .find(|e| e.value == value)
    }

    /// The UTF-16LE text of a string entry, without its terminating NUL.
    pub fn text(&self) -> String {
        let units: Vec<u16> = crate::le::u16s(self.data).take_while(|&u| u != 0).collect();
        String::from_utf16_lossy(&units)
    }
}

/// The entries in a byte range, in order.
pub struct Entries<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Entries<'a> {
    pub fn new(bytes: &'a [u8]) -> Entries<'a> {
        Entries {
            rest: bytes,
            done: false,
        }
    }
}

/// Why a walk of entries stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryError {
    /// The size field is below the 8-byte header.
    TooSmall,
    /// The size field runs past the end of the dataset.
    PastEnd,
}

impl EntryError {
    pub fn what(self) -> &'static str {
        match self {
            EntryError::TooSmall => "an entry's size is below its header",
            EntryError::PastEnd => "an entry runs past the end of the dataset",
        }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, EntryError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Fewer bytes than a header: the padding after the last entry.
        if self.done || self.rest.len() < HEADER_LEN {
            return None;
        }
        let size = usize::from(u16_at(self.rest, 0)?);
        let fail = |e| Some(Err(e));
        if size < HEADER_LEN {
            self.done = true;
            // A size of 0 where entries end is padding, not damage.
            return if size == 0 && self.rest.iter().all(|&b| b == 0) {
                None
            } else {
                fail(EntryError::TooSmall)
            };
        }
        let Some(bytes) = self.rest.get(..size) else {
            self.done = true;
            return fail(EntryError::PastEnd);
        };
        self.rest = &self.rest[size..];
        Some(Ok(Entry {
            role: u16_at(bytes, 2)?,
            value: u16_at(bytes, 4)?,
            data: &bytes[HEADER_LEN..],
        }))
    }
}

/// A key value (type 1): `method u16, flags u16, key bytes`.
pub fn key_of<'a>(entry: &Entry<'a>) -> Option<(u16, &'a [u8])> {
    if entry.value != VALUE_KEY {
        return None;
    }
    let method = u32_at(entry.data, 0)? as u16;
    Some((method, entry.data.get(4..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(role: u16, value: u16, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(((data.len() + 8) as u16).to_le_bytes());
        v.extend(role.to_le_bytes());
        v.extend(value.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(data);
        v
    }

    #[test]
    fn walks_entries_and_stops_at_damage() {
        let mut b = entry(ROLE_DESCRIPTION, VALUE_UNICODE, &[b'a', 0, b'b', 0, 0, 0]);
        b.extend(entry(ROLE_FVEK, VALUE_AES_CCM, &[1; 40]));
        b.extend([0; 5]);
        let got: Vec<_> = Entries::new(&b).collect();
        assert_eq!(got.len(), 2);
        let first = got[0].unwrap();
        assert_eq!(first.text(), "ab");
        assert_eq!(got[1].unwrap().data.len(), 40);

        let mut bad = entry(ROLE_VMK, VALUE_VMK, &[0; 30]);
        bad[0] = 200; // runs past the end
        let got: Vec<_> = Entries::new(&bad).collect();
        assert!(matches!(got[..], [Err(EntryError::PastEnd)]));
        let got: Vec<_> = Entries::new(&[3, 0, 0, 0, 0, 0, 0, 0, 9]).collect();
        assert!(matches!(got[..], [Err(EntryError::TooSmall)]));
        assert_eq!(Entries::new(&[0; 64]).count(), 0);
    }
}
