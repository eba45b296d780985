//! Every budget Lifeboat keeps when it reads something it did not write: a source disk from
//! a crashed, infected or tampered machine, a store that travelled on a stick, a rules file
//! from anywhere. Each limit is far above what a real input needs (the reasoning is beside
//! it) and low enough that a hostile input can neither exhaust WinPE's RAM (it runs from
//! memory; 2–8 GB machines are common) nor keep a technician waiting for ever. A limit that
//! is exceeded is reported as a problem naming the file; the rest of the work goes on.

/// A registry hive is read into memory whole. Windows refuses to load hives above 2 GiB
/// (cell offsets are 31-bit); the largest real SOFTWARE hives seen are a few hundred MB.
pub const HIVE_MAX_BYTES: u64 = 2 << 30;
/// A transaction log (`.LOG1`, `.LOG2`, `.LOG`) is read whole to be replayed. Windows
/// resets a log once it passes about a quarter of the hive or 1 MiB of dirty data; logs of
/// hundreds of MB are the sign of a broken or hostile file, not of a busy machine.
pub const HIVE_LOG_MAX_BYTES: u64 = 1 << 30;
/// Keys visited in one registry walk (the capture of one user's or the machine's
/// settings). A large real NTUSER.DAT holds ~200k keys, SOFTWARE ~1M.
pub const REGISTRY_WALK_MAX_KEYS: usize = 4_000_000;
/// Depth of a registry walk. Windows itself limits key nesting to 512 levels.
pub const REGISTRY_MAX_DEPTH: usize = 512;
/// Bytes of one user's `.reg` file. Real captures of a user's settings are tens of MB.
pub const REG_FILE_MAX_BYTES: u64 = 1 << 30;

/// Any XML the agent reads (MigXML, Offline.xml, Config.xml). MigApp.xml is ~650 KB.
pub const XML_MAX_BYTES: u64 = 8 << 20;
/// Element nesting of that XML. MigXML nests about 8 levels; Offline.xml 3.
pub const XML_MAX_DEPTH: usize = 64;
/// Elements in one XML file. MigApp.xml holds ~40k.
pub const XML_MAX_ELEMENTS: usize = 500_000;
/// Attributes of one element: MigXML uses at most 4. The XML reader checks each attribute
/// name against the earlier ones, so their number must stay small.
pub const XML_MAX_ATTRIBUTES: usize = 64;
/// Offline.xml (ScanState `/offline:FILE`): a few hundred bytes.
pub const OFFLINE_XML_MAX_BYTES: u64 = 1 << 20;
/// YAML profiles, the media config and a store's manifest: shared with the media builder,
/// kept (with their reasons) in `lifeboat_common::limits`.
pub use lifeboat_common::limits::{YAML_MAX_BYTES, YAML_MAX_DEPTH};

/// Variables one rule set may define (MigApp.xml defines ~1,500).
pub const RULE_MAX_VARIABLES: usize = 20_000;
/// `<namedElements>` references followed one inside another (real MigXML: two or three).
pub const RULE_MAX_REFERENCE_DEPTH: usize = 32;
/// Patterns in one rule set after expansion (MigApp.xml expands to ~30k).
pub const RULE_MAX_PATTERNS: usize = 200_000;
/// Nesting of `%VARIABLE%` references inside one value (real ones nest 2–3 deep).
pub const EXPAND_MAX_DEPTH: usize = 8;
/// `%VARIABLE%` references followed in one text, nested ones included (a real path names
/// one to three): variables with empty values make no text to bound, yet cost time.
pub const EXPAND_MAX_REFERENCES: usize = 4096;
/// Length of one expanded text: far above any Windows path (32,767 UTF-16 units).
pub const EXPAND_MAX_CHARS: usize = 64 * 1024;
/// Characters of all variable values and patterns one pass's rules expand to. MigApp.xml
/// for one user comes to ~3 MB; without this budget, variables defined from each other
/// (`B=%A%%A%`, `C=%B%%B%`, …) double with every line.
pub const EXPAND_MAX_TOTAL_CHARS: usize = 64 << 20;

/// Length of a Windows path the agent will follow (NTFS's own limit is 32,767 units).
pub const PATH_MAX_CHARS: usize = 32_767;
/// Folders (components of the Windows path, the drive counted) the capture walks into.
/// Explorer and most Windows tools stop at MAX_PATH (260 characters, ~130 levels of
/// one-letter names); long paths allow 32,767 characters, so ~16,000 levels, and the walk
/// recurses once per level (~1 KiB of stack each, on WinPE's 1 MiB main thread). 512 is
/// four times what a MAX_PATH tool can make and far below what overflows the stack: a
/// folder deeper than it is not entered and is reported as skipped (`too-deep`).
pub const FOLDER_MAX_DEPTH: usize = 512;
/// Small files read whole from a source (a kernel's PE headers, a `.lnk`, Offline.xml):
/// nothing of that kind is larger.
pub const SMALL_FILE_MAX_BYTES: u64 = 16 << 20;
/// Bytes read from the start of a PE image for its headers: shared with the media builder,
/// kept (with its reason) in `lifeboat_common::limits`.
pub use lifeboat_common::limits::PE_HEAD_BYTES;

/// `name (N).ext` candidates a restore tries for an incoming file that meets another one.
/// LoadState counts up the same way; thousands of copies of one name are a loop, not a
/// migration.
pub const RESTORE_RENAME_MAX: u32 = 9_999;
/// Files of one image a restore plans at once. A large real profile holds ~1M files; the
/// store's verification has already matched the image against its manifest.
pub const RESTORE_MAX_FILES: usize = 10_000_000;
/// Bytes of one registry string whose old folder paths a restore rewrites, before and after.
/// Real path-holding values (an MRU list, a search path) are a few KB; Windows advises
/// against values above 2 KB and stores none above 1 MB in the standard hive format. A
/// longer string is applied as it is, and no rewrite grows one past this (a short old
/// folder replaced by a long new one in a value made of nothing else).
pub const RESTORE_REWRITE_MAX_BYTES: usize = 1 << 20;
/// Bytes a file system spends on each file or folder besides its data, in a restore's
/// free-space check: an NTFS file record (1 KiB, the largest of the file systems a restore
/// writes to; ext4 and tmpfs preallocate their inodes, counted apart as free entries).
pub const RESTORE_ENTRY_BYTES: u64 = 1024;
/// A `VS_VERSIONINFO` block: its own length field is 16 bits.
pub const PE_VERSION_MAX_BYTES: u64 = 64 * 1024;
/// Directory entries (files, subfolders, registry keys or values) one MigXML condition may
/// enumerate to answer a wildcard (`DoesObjectExist("Registry", "HKLM\…\Firefox 3.*\bin
/// [PathToExe]")`). Real wildcards look at a few dozen entries; a hostile tree of millions
/// must not make detection hang.
pub const FACTS_MAX_ENTRIES: usize = 200_000;
/// Objects one `<content>` filter or objectSet variable reads from the offline system
/// (Outlook's profile values: tens).
pub const FACTS_MAX_OBJECTS: usize = 10_000;
