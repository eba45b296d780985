//! What `lifeboat detect` reports. This is the documented, stable JSON schema (see
//! README "detect --json"); add fields, never rename or remove them.

use serde::{Deserialize, Serialize};

use crate::pe::Arch;

/// Version of the JSON schema below.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DetectReport {
    pub schema: u32,
    pub agent_version: String,
    /// Volumes or folders looked at, with what was found there.
    pub scanned: Vec<ScannedRoot>,
    pub installations: Vec<Installation>,
    /// Things that could not be read; the rest of the report still stands.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScannedRoot {
    pub root: String,
    /// "ok" | "locked" (BitLocker) | "unreadable" | "not-a-folder"
    pub state: String,
    pub label: Option<String>,
    pub filesystem: Option<String>,
    pub installations: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub error: String,
    /// What a technician can do about it, when there is something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum InstallKind {
    Installed,
    #[serde(rename = "windows.old")]
    WindowsOld,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installation {
    /// 1-based position in this report (`--select N`).
    pub index: usize,
    /// Host path of the volume (or folder) the installation was found on.
    pub root: String,
    /// Host path of the Windows folder.
    pub windir: String,
    pub kind: InstallKind,
    pub product_name: Option<String>,
    pub edition: Option<String>,
    pub display_version: Option<String>,
    pub build: Option<u32>,
    pub ubr: Option<u32>,
    /// "Windows 11" for build 22000 and later even though ProductName says 10.
    pub family: Option<String>,
    pub arch: Option<Arch>,
    /// How the architecture was established, and any disagreement.
    pub arch_evidence: ArchEvidence,
    pub computer_name: Option<String>,
    pub install_date: Option<String>,
    /// `SystemRoot` as the system saw it when it ran (e.g. `C:\Windows`).
    pub system_root_original: Option<String>,
    pub registered_owner: Option<String>,
    /// Each hive read, and whether its transaction logs had to be replayed.
    pub hives: Vec<HiveState>,
    /// Set when `hiberfil.sys` sits beside a dirty hive: the machine was hibernated or
    /// fast-started, so the newest registry data was only in the logs.
    pub hibernated: bool,
    /// Drive letters as the system saw them, and where those volumes are now.
    pub drive_letters: Vec<DriveLetter>,
    pub users: Vec<User>,
    pub applications: Vec<Application>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ArchEvidence {
    /// From the PE header of `System32\ntoskrnl.exe`.
    pub kernel: Option<Arch>,
    /// From `PROCESSOR_ARCHITECTURE` in the SYSTEM hive.
    pub registry: Option<Arch>,
    /// `MIG_OFFLINE_PLATFORM_ARCH` when set (32 or 64).
    pub override_bits: Option<u32>,
    pub conflict: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HiveState {
    pub name: String,
    pub path: String,
    /// "clean" | "replayed" | "not-recovered"
    pub state: String,
    /// Which logs were applied, or why none could be.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriveLetter {
    /// e.g. "D:"
    pub letter: String,
    /// "mbr" | "gpt" | "device-path" | "unknown"
    pub identity: String,
    /// Host path of that volume now, when it was found.
    pub now_at: Option<String>,
    /// "installation-volume" | "mbr" | "gpt" | "offline-xml"
    pub how: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum UserKind {
    Local,
    Domain,
    Microsoft,
    Entra,
    System,
    Service,
    Temporary,
    Backup,
    Unknown,
}

impl UserKind {
    /// Real people's profiles, captured by default.
    pub fn is_real_user(self) -> bool {
        matches!(
            self,
            UserKind::Local
                | UserKind::Domain
                | UserKind::Microsoft
                | UserKind::Entra
                | UserKind::Unknown
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub sid: String,
    pub name: String,
    /// Where the name came from ("sam", "identity-cache", …, "folder-name").
    pub name_source: String,
    /// True when the name is only the profile folder's name.
    pub name_is_guess: bool,
    pub display_name: Option<String>,
    /// `ProfileImagePath` as the system saw it, `%SystemDrive%` expanded.
    pub profile_path_original: String,
    /// Where that folder is now on this machine, when it was found.
    pub profile_path: Option<String>,
    pub has_ntuser: bool,
    pub last_used: Option<String>,
    pub kind: UserKind,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub publisher: Option<String>,
    /// "64-bit" | "32-bit" | "user"
    pub view: String,
}
