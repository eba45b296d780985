//! `manifest.yaml`: what a store holds, how it was made, what was left behind and why, and
//! whether it is complete. `lifeboat verify` checks the store against it.

use serde::{Deserialize, Serialize};

use crate::detect::model::Installation;
pub use crate::known_folders::UserFolders;
pub use crate::plan::records::{ComponentSize, RestoreEntry};
pub use crate::plan::skip::{LeaveKind, LeftUser, SkipKind, Skipped};

pub const MANIFEST_FILE: &str = "manifest.yaml";
pub const FILES_WIM: &str = "files.wim";
pub const REGISTRY_DIR: &str = "registry";
pub const LOG_FILE: &str = "lifeboat.log";
/// Written first and removed last: a store with this marker was not finished.
pub const INCOMPLETE_MARKER: &str = "INCOMPLETE.txt";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub lifeboat_store: u32,
    pub agent_version: String,
    pub complete: bool,
    /// Why the store is incomplete, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    pub started: String,
    pub finished: Option<String>,
    pub command_line: Vec<String>,
    pub source: Installation,
    /// Profiles and MigXML files the rules came from.
    pub rules: Vec<String>,
    pub rule_warnings: Vec<String>,
    pub wim: WimInfo,
    pub users: Vec<UserRecord>,
    /// Machine-wide settings (HKLM\SOFTWARE, shared folders), when any rule asked for them.
    pub machine: Option<UserRecord>,
    /// Users on the installation that were not captured, and why.
    pub users_left: Vec<LeftUser>,
    /// What cannot travel in any store (DPAPI secrets, Wi-Fi keys, printers…).
    pub cannot_travel: Vec<String>,
    /// Config.xml's `<ProfileControl>` (groups migrated users join, domain and user
    /// mappings), for the restore side (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_control: Option<crate::rules::configxml::ProfileControl>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct WimInfo {
    /// `files.wim`, or the parts of a split store (`files.swm`, `files2.swm`, …).
    pub parts: Vec<String>,
    pub compression: String,
    pub integrity_table: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct UserRecord {
    pub sid: String,
    pub name: String,
    /// Image index in files.wim holding this user's files (1-based), if any files.
    pub wim_image: Option<u32>,
    pub wim_image_name: Option<String>,
    pub files: u64,
    pub bytes: u64,
    pub registry_file: Option<String>,
    /// SHA-256 of the .reg file, hex.
    pub registry_sha256: Option<String>,
    pub registry_keys: u64,
    pub registry_values: u64,
    pub skipped: Vec<Skipped>,
    /// Where the profile and its known folders were on the source, for the restore to put
    /// each file in the same known folder on the new machine. Optional: stores written
    /// before it existed restore with Windows' default layout under the old profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folders: Option<UserFolders>,
    /// Files and bytes per rule component (optional; stores before 0.1 lack it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentSize>,
    /// What the rules ask of the restore side for this user's (or the machine's) objects:
    /// MigXML's `<merge>`, `<locationModify>`, `<contentModify>`, `<destinationCleanup>`,
    /// include/exclude filters and `<addObjects>`, with their helper call as written and
    /// the objects they apply to as this store holds them (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restore: Vec<RestoreEntry>,
    /// Files captured with bytes their disk could not give (bad sectors): zeros stand in
    /// for the ranges lost (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub damaged: Vec<Damaged>,
}

/// A file captured from a failing disk with some of its bytes lost: zeros stand in for
/// them in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Damaged {
    /// As the offline system saw it (`C:\Users\ann\Documents\thesis.docx`).
    pub path: String,
    /// Byte ranges of the file lost, `[start, end)`, sorted.
    pub lost: Vec<[u64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Totals {
    pub files: u64,
    pub bytes: u64,
    pub skipped: u64,
    pub registry_values: u64,
}

impl Manifest {
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_norway::to_string(self).map_err(|e| e.to_string())
    }

    /// Parses a manifest read from a store (size and nesting bounded first).
    pub fn from_yaml(text: &str) -> Result<Manifest, String> {
        crate::bounded_yaml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_manifests_are_refused_before_parsing() {
        let deep = format!("lifeboat_store: {}", "{a: ".repeat(100_000));
        assert!(Manifest::from_yaml(&deep).unwrap_err().contains("nested"));
        let aliased = "lifeboat_store: 1\nrules: &r [a, b]\nrule_warnings: *r\n";
        assert!(Manifest::from_yaml(aliased).unwrap_err().contains("alias"));
    }
}
