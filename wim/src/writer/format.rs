//! The WIM format's fixed structures, as wimlib reads them (`header.h`, `resource.h`,
//! `blob_table.c`, `integrity.c`): the header, resource headers, blob table entries and
//! the integrity table. Little-endian byte layouts only; no I/O.

/// Size of the header at the start of every WIM.
pub const HEADER_SIZE: u64 = 208;
/// The version every non-solid WIM carries.
const VERSION: u32 = 0x10d00;
/// The integrity table hashes the file in pieces of this size.
pub const INTEGRITY_CHUNK: u64 = 10 << 20;

/// Resource header flags.
pub const RES_METADATA: u8 = 0x02;
pub const RES_COMPRESSED: u8 = 0x04;

/// Header flags.
const HDR_COMPRESSION: u32 = 0x02;
const HDR_XPRESS: u32 = 0x20000;
const HDR_LZX: u32 = 0x40000;
const HDR_LZMS: u32 = 0x80000;

/// Where a resource lies and what it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reshdr {
    pub offset: u64,
    /// Bytes in the file (compressed size, chunk table included).
    pub stored: u64,
    /// Bytes it expands to.
    pub size: u64,
    pub flags: u8,
}

impl Reshdr {
    /// The 24 bytes of `struct wim_reshdr_disk`: a 56-bit stored size, the flags, the
    /// offset and the uncompressed size.
    pub fn to_bytes(self) -> [u8; 24] {
        let mut r = [0u8; 24];
        r[..8].copy_from_slice(&self.stored.to_le_bytes());
        r[7] = self.flags;
        r[8..16].copy_from_slice(&self.offset.to_le_bytes());
        r[16..].copy_from_slice(&self.size.to_le_bytes());
        r
    }
}

/// One blob table entry (`struct blob_descriptor_disk`, 50 bytes): resource header, part
/// number, reference count and SHA-1.
pub fn put_blob_entry(out: &mut Vec<u8>, res: Reshdr, refs: u32, hash: &[u8; 20]) {
    out.extend_from_slice(&res.to_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&refs.to_le_bytes());
    out.extend_from_slice(hash);
}

/// The header's flags for a compression type.
pub fn compression_flags(c: crate::Compression) -> u32 {
    use crate::Compression as C;
    match c {
        C::None => 0,
        C::Xpress => HDR_COMPRESSION | HDR_XPRESS,
        C::Lzx => HDR_COMPRESSION | HDR_LZX,
        C::Lzms => HDR_COMPRESSION | HDR_LZMS,
    }
}

/// What the finished header says.
pub struct Header {
    pub flags: u32,
    pub chunk_size: u32,
    pub guid: [u8; 16],
    pub image_count: u32,
    pub blob_table: Reshdr,
    pub xml: Reshdr,
    pub integrity: Reshdr,
}

impl Header {
    /// `struct wim_header_disk`: one part of one, no bootable image.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER_SIZE as usize);
        h.extend_from_slice(b"MSWIM\0\0\0");
        h.extend_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
        h.extend_from_slice(&VERSION.to_le_bytes());
        h.extend_from_slice(&self.flags.to_le_bytes());
        h.extend_from_slice(&self.chunk_size.to_le_bytes());
        h.extend_from_slice(&self.guid);
        h.extend_from_slice(&1u16.to_le_bytes()); // part 1
        h.extend_from_slice(&1u16.to_le_bytes()); // of 1
        h.extend_from_slice(&self.image_count.to_le_bytes());
        h.extend_from_slice(&self.blob_table.to_bytes());
        h.extend_from_slice(&self.xml.to_bytes());
        h.extend_from_slice(&[0; 24]); // no boot image
        h.extend_from_slice(&0u32.to_le_bytes()); // boot index 0
        h.extend_from_slice(&self.integrity.to_bytes());
        h.resize(HEADER_SIZE as usize, 0);
        h
    }
}

/// The integrity table: its size, entry count, chunk size, then one SHA-1 per chunk.
pub fn integrity_table(hashes: &[[u8; 20]]) -> Vec<u8> {
    let mut t = Vec::with_capacity(12 + hashes.len() * 20);
    let size = 12 + hashes.len() * 20;
    t.extend_from_slice(&(size as u32).to_le_bytes());
    t.extend_from_slice(&(hashes.len() as u32).to_le_bytes());
    t.extend_from_slice(&(INTEGRITY_CHUNK as u32).to_le_bytes());
    for h in hashes {
        t.extend_from_slice(h);
    }
    t
}

/// A non-solid compressed resource's chunk table: for each chunk after the first, where
/// it starts, counted from the end of the table; 8 bytes an entry when the resource
/// expands to more than 4 GiB, else 4.
pub fn chunk_table(size: u64, stored: &[u32]) -> Vec<u8> {
    let wide = size > u64::from(u32::MAX);
    let entries = stored.len().saturating_sub(1);
    let mut t = Vec::with_capacity(entries * if wide { 8 } else { 4 });
    let mut at = 0u64;
    for s in stored.iter().take(entries) {
        at += u64::from(*s);
        if wide {
            t.extend_from_slice(&at.to_le_bytes());
        } else {
            t.extend_from_slice(&(at as u32).to_le_bytes());
        }
    }
    t
}

/// The size of [`chunk_table`] for a resource of `size` bytes in `chunks` chunks.
pub fn chunk_table_len(size: u64, chunks: u64) -> u64 {
    let entry = if size > u64::from(u32::MAX) { 8 } else { 4 };
    chunks.saturating_sub(1) * entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_header_packs_size_and_flags_into_eight_bytes() {
        let r = Reshdr {
            offset: 0x1122,
            stored: 0x00AB_CDEF_0123_4567,
            size: 9,
            flags: RES_COMPRESSED,
        };
        let b = r.to_bytes();
        assert_eq!(&b[..7], &0x00AB_CDEF_0123_4567u64.to_le_bytes()[..7]);
        assert_eq!(b[7], RES_COMPRESSED);
        assert_eq!(u64::from_le_bytes(b[8..16].try_into().unwrap()), 0x1122);
        assert_eq!(u64::from_le_bytes(b[16..].try_into().unwrap()), 9);
    }

    #[test]
    fn chunk_tables_hold_offsets_of_every_chunk_but_the_first() {
        assert_eq!(chunk_table(10, &[10]), Vec::<u8>::new());
        let t = chunk_table(3 << 15, &[100, 200, 300]);
        assert_eq!(t, [100u32.to_le_bytes(), 300u32.to_le_bytes()].concat());
        let wide = chunk_table(5 << 30, &[7, 8]);
        assert_eq!(wide, 7u64.to_le_bytes());
        assert_eq!(chunk_table_len(5 << 30, 3), 16);
        assert_eq!(chunk_table_len(1 << 20, 32), 124);
    }
}
