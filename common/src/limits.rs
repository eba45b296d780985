//! The budgets of the files both programs parse (the rest of Lifeboat's budgets are in the
//! agent's `limits`, which re-exports these). Each is far above what a real input needs and
//! low enough that a hostile one cannot exhaust WinPE's RAM or keep a technician waiting.

/// YAML profiles, the media config and a store's manifest. A manifest lists every skipped
/// file, so it is the largest: 100k skipped paths are ~20 MB.
pub const YAML_MAX_BYTES: u64 = 64 << 20;
/// Nesting of YAML documents. Lifeboat's own files nest 5 levels. Checked before the YAML
/// parser sees the text: libyaml's time grows with the square of the nesting.
pub const YAML_MAX_DEPTH: usize = 32;
/// Bytes read from the start of a PE image (`ntoskrnl.exe`, an agent) for its headers: the
/// COFF header sits within the first KiB, the section table right after it.
pub const PE_HEAD_BYTES: u64 = 64 << 10;
