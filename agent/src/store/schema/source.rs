//! `source:` in the manifest: the installation a store was captured from, as `lifeboat
//! detect` reported it at the time. The restore reads the computer's name, the build (for
//! the profile layout) and each user's original profile path; the rest is there for the
//! technician. Kinds and states are kept as detect's words (`installed`, `amd64`,
//! `replayed`, `local`), never as types a later word would fail to parse into.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// Its number in `lifeboat detect` (`--select N`).
    pub index: usize,
    /// Host path of the volume (or folder) it was found on.
    pub root: String,
    /// Host path of the Windows folder.
    pub windir: String,
    /// `installed` or `windows.old`.
    pub kind: String,
    pub product_name: Option<String>,
    pub edition: Option<String>,
    pub display_version: Option<String>,
    pub build: Option<u32>,
    pub ubr: Option<u32>,
    /// "Windows 11" for build 22000 and later even though ProductName says 10.
    pub family: Option<String>,
    /// `x86`, `amd64`, `arm64`, `other`.
    pub arch: Option<String>,
    pub arch_evidence: ArchEvidence,
    pub computer_name: Option<String>,
    pub install_date: Option<String>,
    /// `SystemRoot` as the system saw it when it ran (e.g. `C:\Windows`).
    pub system_root_original: Option<String>,
    pub registered_owner: Option<String>,
    /// Each hive read, and whether its transaction logs had to be replayed.
    pub hives: Vec<Hive>,
    /// The machine was hibernated or fast-started: the newest registry data was only in
    /// the logs.
    pub hibernated: bool,
    /// Drive letters as the system saw them, and where those volumes were found.
    pub drive_letters: Vec<DriveLetter>,
    /// Every profile on the installation, captured or not.
    pub users: Vec<SourceUser>,
    pub applications: Vec<Application>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ArchEvidence {
    /// From the PE header of `System32\ntoskrnl.exe`.
    pub kernel: Option<String>,
    /// From `PROCESSOR_ARCHITECTURE` in the SYSTEM hive.
    pub registry: Option<String>,
    /// `MIG_OFFLINE_PLATFORM_ARCH` when set (32 or 64).
    pub override_bits: Option<u32>,
    pub conflict: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hive {
    pub name: String,
    pub path: String,
    /// `clean`, `replayed` or `not-recovered`.
    pub state: String,
    /// Which logs were applied, or why none could be.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriveLetter {
    /// e.g. "D:"
    pub letter: String,
    /// How `MountedDevices` identified the volume: `mbr`, `gpt`, `device-path`, `unknown`.
    pub identity: String,
    /// Host path of that volume at capture, when it was found.
    pub now_at: Option<String>,
    /// How it was found: `installation-volume`, `mbr`, `gpt`, `offline-xml`.
    pub how: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceUser {
    pub sid: String,
    pub name: String,
    /// Where the name was read (`sam`, `identity-cache`, `folder-name`…).
    pub name_source: String,
    /// True when the name is only the profile folder's name.
    pub name_is_guess: bool,
    pub display_name: Option<String>,
    /// `ProfileImagePath` as the system saw it, `%SystemDrive%` expanded.
    pub profile_path_original: String,
    /// Where that folder was found at capture.
    pub profile_path: Option<String>,
    pub has_ntuser: bool,
    pub last_used: Option<String>,
    /// `local`, `domain`, `microsoft`, `entra`, `system`, `service`, `temporary`, `backup`,
    /// `unknown`.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub publisher: Option<String>,
    /// Which Uninstall key listed it: `32-bit`, `64-bit`, `user`.
    pub view: String,
}
