//! What the writer accepts, each bound with its reason. Every entry comes from a volume
//! that may be corrupt or hostile; nothing it says may make the writer use unbounded
//! memory or write a WIM that wimlib, DISM or 7-Zip cannot read.

/// Longest name of a file, folder or named stream, in UTF-16 units: NTFS's own limit
/// (a name's length is one byte), and Windows' for a path component.
pub const MAX_NAME_UNITS: usize = 255;
/// Deepest path: the agent's walk stops at the same depth (`FOLDER_MAX_DEPTH`), and
/// wimlib reads the tree recursively.
pub const MAX_DEPTH: usize = 512;
/// Entries (files, folders, links) in one image: the tree costs about 100 bytes an entry
/// in memory until the image ends, so 16 million stay under 2 GB.
pub const MAX_ENTRIES: usize = 16_000_000;
/// Named streams on one file: NTFS keeps them in one MFT record's attribute list, and a
/// dentry counts its streams in 16 bits.
pub const MAX_NAMED_STREAMS: usize = 4096;
/// Largest reparse data (after its 8-byte header): Windows' limit for a reparse buffer.
pub const MAX_REPARSE_DATA: usize = 16384 - 8;
/// Largest security descriptor: Windows builds none larger than 64 KiB.
pub const MAX_SECURITY_DESCRIPTOR: usize = 65535;
/// All distinct security descriptors of one image: real volumes hold a few thousand
/// (well under a megabyte); the table's length is 32-bit.
pub const MAX_SECURITY_BYTES: usize = 256 << 20;
/// Longest image name or description, in characters.
pub const MAX_IMAGE_TEXT: usize = 1024;
/// Images in one WIM: the XML lists them all, and WIMGAPI counts them in 16 bits.
pub const MAX_IMAGES: usize = 65535;
