//! The store's file format: the records `manifest.yaml` holds, owned here and nowhere else.
//!
//! This is format [`STORE_VERSION`] (`lifeboat_store: 1`), and every store written since the
//! first must keep reading: **fields are only ever added, never renamed, removed or given
//! another meaning**, and each added field is optional on reading (`#[serde(default)]`), so a
//! store made before it existed still reads (`tests/fixtures/store-v1/` is such a store, and
//! `tests/store_v1.rs` reads it with each new agent). A record that needs another shape gets
//! a new field beside the old one, or a new format version with a reader for both.
//!
//! The capture fills these records in from its own types (`capture::record`); nothing here
//! depends on how detect, the plan or the rules see things, so a change there cannot change
//! the format by accident. What a store only reports (kinds, states, where a name came from)
//! it keeps as the words `lifeboat detect` used, so a word a later agent adds never makes a
//! store unreadable; what a restore decides on is typed, with a catch-all where a later
//! agent may add kinds.

mod source;
mod user;

use serde::{Deserialize, Serialize};

pub use source::{Application, ArchEvidence, DriveLetter, Hive, Source, SourceUser};
pub use user::{
    Call, ComponentSize, Damaged, RestoreEntry, RestoreKind, SkipKind, Skipped, UserFolders,
    UserRecord,
};

/// The format version written in `lifeboat_store`.
pub const STORE_VERSION: u32 = 1;

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
    /// The installation captured, as `lifeboat detect` reported it.
    pub source: Source,
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
    pub profile_control: Option<ProfileControl>,
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
pub struct Totals {
    pub files: u64,
    pub bytes: u64,
    pub skipped: u64,
    pub registry_values: u64,
}

/// A user on the installation that was not captured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeftUser {
    pub sid: String,
    pub name: String,
    /// The sentence a technician reads.
    pub reason: String,
    #[serde(default = "other_leave")]
    pub kind: LeaveKind,
}

/// Why a user was not captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaveKind {
    /// Matched a `--users !pattern` (ScanState `/ue`).
    Excluded,
    /// `--users` named others only (ScanState `/ui`).
    NotNamed,
    /// A system, service, temporary, backup or setup profile.
    NotARealUser,
    /// Not used for longer than `--unused-days` (ScanState `/uel`).
    Unused,
    /// The profile folder is not on any volume found.
    ProfileMissing,
    /// Recorded by an agent that did not yet say why, or by a later one with a new reason.
    #[serde(other)]
    Other,
}

fn other_leave() -> LeaveKind {
    LeaveKind::Other
}

/// Config.xml's `<ProfileControl>`: what the restore side does with group membership and
/// accounts (offline captures do not keep group membership; this says which groups users
/// join).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileControl {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub change_groups: Vec<ChangeGroup>,
    /// `<domains><domain from to/>`: (from, to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<(String, String)>,
    /// `<users><user from to/>`: (from, to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<(String, String)>,
}

/// `<changeGroup from="Administrators" to="Users" appliesTo="MigratedUsers">`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeGroup {
    pub from: String,
    pub to: String,
    pub applies_to: AppliesTo,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// Whose group membership a `<changeGroup>` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    MigratedUsers,
    NonMigratedUsers,
    AllUsers,
    /// Written by a later agent: not acted on.
    #[serde(other)]
    Other,
}
