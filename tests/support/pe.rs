//! Minimal PE images: just enough header for an architecture probe.

/// COFF machine numbers.
pub const I386: u16 = 0x014c;
pub const AMD64: u16 = 0x8664;
pub const ARM64: u16 = 0xaa64;

/// A 1 KiB file with DOS and PE headers for `machine` (PE32 for x86, PE32+ otherwise).
pub fn pe_stub(machine: u16) -> Vec<u8> {
    let mut b = vec![0u8; 1024];
    b[..2].copy_from_slice(b"MZ");
    b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b[0x80..0x84].copy_from_slice(b"PE\0\0");
    b[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
    b[0x86..0x88].copy_from_slice(&1u16.to_le_bytes()); // one section
    let opt_size: u16 = if machine == I386 { 0xe0 } else { 0xf0 };
    b[0x94..0x96].copy_from_slice(&opt_size.to_le_bytes());
    b[0x96..0x98].copy_from_slice(&0x0102u16.to_le_bytes()); // executable, 32-bit-word machine
    let magic: u16 = if machine == I386 { 0x10b } else { 0x20b };
    b[0x98..0x9a].copy_from_slice(&magic.to_le_bytes());
    b
}
