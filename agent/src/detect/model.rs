//! What `lifeboat detect` reports. This is the documented, stable JSON schema (see
//! docs/commands/detect.md, "`--json`"); add fields, never rename or remove them.

use serde::{Deserialize, Serialize};

use crate::pe::Arch;
use crate::platform::VolumeRole;

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
    pub state: RootState,
    pub label: Option<String>,
    pub filesystem: Option<String>,
    pub installations: usize,
    /// Where the volume lies on its disk, when a disk or disk image was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<ScannedPartition>,
    /// Why the volume is not as a clean shutdown leaves it (read as it is all the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<String>,
    /// What encrypts the volume, when something does (BitLocker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<ScannedEncryption>,
}

/// An encrypted volume as detect saw it: its method, its protectors with their IDs (the
/// recovery key ID a technician looks up), and whether the keys given opened it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScannedEncryption {
    /// `bitlocker`.
    pub kind: String,
    pub method: String,
    pub protectors: Vec<ScannedProtector>,
    pub unlocked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScannedProtector {
    /// `recovery-password`, `password`, `startup-key`, `tpm`, `tpm-pin`, `tpm-startup-key`,
    /// `tpm-pin-startup-key`, `clear-key` (protection suspended) or `other`.
    pub kind: String,
    /// The protector's GUID, `1A2B3C4D-…` as `manage-bde -protectors -get` shows it.
    pub id: String,
    /// Its first eight characters, as Windows' recovery screen shows the key ID.
    pub short_id: String,
}

impl ScannedProtector {
    pub const RECOVERY_PASSWORD: &'static str = "recovery-password";

    pub fn is_recovery_password(&self) -> bool {
        self.kind == Self::RECOVERY_PASSWORD
    }
}

impl ScannedRoot {
    pub fn new(root: String, state: RootState, installations: usize) -> ScannedRoot {
        ScannedRoot {
            root,
            state,
            label: None,
            filesystem: None,
            installations,
            partition: None,
            dirty: None,
            encryption: None,
        }
    }
}

/// A partition of a disk that was scanned: its number as Linux numbers it (GPT: its slot
/// from 1; MBR: 1–4, logical from 5), where it lies in bytes, and its type's name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScannedPartition {
    pub number: u32,
    pub offset: u64,
    pub size: u64,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// What became of a volume or folder detect was given or found. Serialised as `ok`,
/// `locked` (BitLocker), `unreadable`, `not-read` (a file system Lifeboat does not read
/// itself: FAT, exFAT, unknown), or `skipped: <why>` for the volumes detect leaves alone
/// (WinPE's own RAM drive, the boot media). `not-a-folder` was written by earlier agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootState {
    Ok,
    Locked,
    Unreadable,
    NotAFolder,
    NotRead,
    Skipped(VolumeRole),
}

impl std::fmt::Display for RootState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RootState::Ok => f.write_str("ok"),
            RootState::Locked => f.write_str("locked"),
            RootState::Unreadable => f.write_str("unreadable"),
            RootState::NotAFolder => f.write_str("not-a-folder"),
            RootState::NotRead => f.write_str("not-read"),
            RootState::Skipped(role) => write!(f, "skipped: {role}"),
        }
    }
}

impl std::str::FromStr for RootState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ok" => RootState::Ok,
            "locked" => RootState::Locked,
            "unreadable" => RootState::Unreadable,
            "not-a-folder" => RootState::NotAFolder,
            "not-read" => RootState::NotRead,
            _ => RootState::Skipped(
                s.strip_prefix("skipped: ")
                    .and_then(VolumeRole::from_label)
                    .ok_or_else(|| format!("unknown volume state \"{s}\""))?,
            ),
        })
    }
}

impl Serialize for RootState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RootState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
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
    pub state: HiveStatus,
    /// Which logs were applied, or why none could be.
    pub detail: Option<String>,
}

/// Whether a hive had to be brought up to date from its transaction logs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HiveStatus {
    /// Closed cleanly: the file alone is up to date.
    Clean,
    /// Dirty, and its logs were replayed in memory.
    Replayed,
    /// Dirty, and the logs could not be replayed: read as it is on disk.
    NotRecovered,
}

impl std::fmt::Display for HiveStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HiveStatus::Clean => "clean",
            HiveStatus::Replayed => "replayed",
            HiveStatus::NotRecovered => "not-recovered",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriveLetter {
    /// e.g. "D:"
    pub letter: String,
    /// How `MountedDevices` identifies the volume that had this letter.
    pub identity: DriveIdentity,
    /// Host path of that volume now, when it was found.
    pub now_at: Option<String>,
    /// How it was found now; `None` when it was not.
    pub how: Option<LetterSource>,
}

/// How the offline system's `MountedDevices` knew a volume.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum DriveIdentity {
    /// MBR disk signature and partition offset.
    Mbr,
    /// GPT partition GUID.
    Gpt,
    /// A device path (removable media, virtual disks).
    DevicePath,
    Unknown,
}

/// How a drive letter of the offline system was placed on this machine.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LetterSource {
    /// The volume (or Windows.old folder) the installation was found on.
    InstallationVolume,
    /// A visible volume with the recorded MBR signature and offset.
    Mbr,
    /// A visible volume with the recorded GPT partition GUID.
    Gpt,
    /// Offline.xml `<mappings>`.
    OfflineXml,
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
    /// Where the name came from.
    pub name_source: NameSource,
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

/// Where a user's name was read.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NameSource {
    /// SYSTEM, LOCAL SERVICE, NETWORK SERVICE and the like.
    WellKnownSid,
    /// A local account in the SAM.
    Sam,
    /// A local account linked to a Microsoft account (the SAM's InternetUserName).
    SamMicrosoftAccount,
    /// SOFTWARE's IdentityStore cache.
    IdentityCache,
    /// SOFTWARE's LogonCache (Entra ID sign-ins).
    LogonCache,
    /// Group Policy's record of the user's distinguished name.
    GroupPolicy,
    /// LogonUI's last signed-in user and session data.
    LogonUi,
    /// Nothing named the user: the profile folder's name, marked as a guess.
    FolderName,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub publisher: Option<String>,
    pub view: AppView,
}

/// Which Uninstall key listed an application.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppView {
    #[serde(rename = "32-bit")]
    Bits32,
    #[serde(rename = "64-bit")]
    Bits64,
    /// A per-user installation (the user's own Uninstall key).
    #[serde(rename = "user")]
    User,
}

impl std::fmt::Display for AppView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AppView::Bits64 => "64-bit",
            AppView::Bits32 => "32-bit",
            AppView::User => "user",
        })
    }
}
