//! Every budget the NTFS reader keeps when it reads a volume it did not write: a disk from
//! a crashed, infected or tampered machine. Each limit is far above what Windows itself
//! writes (the reasoning is beside it) and low enough that a hostile volume can neither
//! exhaust WinPE's memory nor keep a technician waiting for ever. A structure over a limit
//! is an error naming it ([`super::ErrorKind::TooLarge`]); the rest of the volume stays
//! readable.

/// Size of one MFT record. Windows writes 1 KiB records (4 KiB on 4Kn disks since
/// Windows 10); the format allows a power of two from 256 bytes.
pub const RECORD_MIN_BYTES: u64 = 256;
pub const RECORD_MAX_BYTES: u64 = 64 << 10;
/// Size of one index block (INDX). Windows writes 4 KiB.
pub const INDEX_BLOCK_MIN_BYTES: u64 = 256;
pub const INDEX_BLOCK_MAX_BYTES: u64 = 64 << 10;
/// Cluster size: the format allows 512 B to 2 MiB (Windows 10 1709 and later).
pub const CLUSTER_MIN_BYTES: u64 = 256;
pub const CLUSTER_MAX_BYTES: u64 = 2 << 20;

/// Bytes of one `$ATTRIBUTE_LIST`. Each entry is 32+ bytes; a file with the 1,024 hard
/// links Windows allows, or a file split into a million fragments (≈4,000 extension
/// records), needs well under 1 MiB.
pub const ATTRIBUTE_LIST_MAX_BYTES: u64 = 8 << 20;
/// Extension records one file's attribute list may name (see above: ≈4,000 for a million
/// fragments).
pub const EXTENSION_RECORDS_MAX: usize = 65_536;
/// Runs (fragments) of one stream, over all its extents: a 1 TiB file in 256 KiB pieces.
/// Each run costs 24 bytes of memory.
pub const STREAM_MAX_RUNS: usize = 4 << 20;
/// Bytes of a resident value or a small stream read whole into memory ($UpCase is 128 KiB,
/// $Volume's attributes a few hundred bytes, a reparse point at most 16 KiB).
pub const SMALL_VALUE_MAX_BYTES: u64 = 16 << 20;
/// A reparse point's data: Windows refuses more than 16 KiB
/// (MAXIMUM_REPARSE_DATA_BUFFER_SIZE).
pub const REPARSE_MAX_BYTES: u64 = 16 << 10;
/// A security descriptor: its ACLs are limited to 64 KiB each (16-bit sizes), so a
/// descriptor stays below 3 × 64 KiB plus two SIDs.
pub const SECURITY_DESCRIPTOR_MAX_BYTES: u64 = 256 << 10;
/// Security ids in `$Secure:$SII`: one per distinct descriptor; a large server volume has
/// tens of thousands.
pub const SECURITY_IDS_MAX: usize = 1 << 20;

/// Depth of an index B+tree. A 4 KiB block holds at least ~8 file names of the longest kind,
/// so 32 levels could index more entries than a volume can hold; real trees have 2 to 5.
pub const INDEX_MAX_DEPTH: usize = 32;
/// Entries of one folder's listing. The largest real folders (WinSxS, mail stores, caches)
/// hold hundreds of thousands; each entry costs ~100 bytes of memory.
pub const FOLDER_MAX_ENTRIES: usize = 4 << 20;
/// Index blocks of one index: the same bound, counted in 4 KiB blocks of ~15 entries.
pub const INDEX_MAX_BLOCKS: u64 = 1 << 20;
/// Name length in UTF-16 units: NTFS stores it in one byte.
pub const NAME_MAX_UNITS: usize = 255;

/// One compression unit decompressed: Windows compresses 16 clusters of at most 4 KiB
/// (64 KiB); a larger unit is allowed by the format up to this size.
pub const COMPRESSION_UNIT_MAX_BYTES: u64 = 1 << 20;

/// MFT records and index blocks kept decoded in memory for reuse (each ≤ 4 KiB on real
/// volumes): enough for a folder's listing and the records of its children.
pub const CACHE_RECORDS: usize = 4096;
/// Bytes of the MFT read at once by a scan in MFT order.
pub const SCAN_CHUNK_BYTES: usize = 1 << 20;
