//! `users:` and `machine:` in the manifest: one record per pass (a user, or the machine's
//! settings), saying which WIM image and `.reg` file hold it, what was left behind and why,
//! where its folders were, and what the rules ask of the restore side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// The bytes lost in words: `4096 bytes lost at 8192..12288`.
impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes: u64 = self.lost.iter().map(|[a, b]| b.saturating_sub(*a)).sum();
        write!(f, "{bytes} bytes lost at ")?;
        for (i, [a, b]) in self.lost.iter().take(8).enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{a}..{b}")?;
        }
        if self.lost.len() > 8 {
            write!(f, " and {} more", self.lost.len() - 8)?;
        }
        Ok(())
    }
}

/// Something the capture left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    /// The sentence a technician reads.
    pub reason: String,
    #[serde(default = "other_skip")]
    pub kind: SkipKind,
}

/// Why something was not captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipKind {
    /// A file that could not be opened or read.
    Unreadable,
    /// A folder whose contents could not be listed.
    FolderUnreadable,
    /// A user's hive (NTUSER.DAT, UsrClass.dat) that could not be read: their settings.
    HiveUnreadable,
    /// A file that was there when the folders were walked and gone when it was captured.
    Vanished,
    /// A name that is not valid Unicode, which no WIM can hold.
    BadName,
    /// A junction or symbolic link: never followed.
    Link,
    /// A device, pipe or socket.
    NotRegular,
    /// A cloud-only placeholder (OneDrive Files On-Demand): its content is not on the disk.
    CloudPlaceholder,
    /// EFS-encrypted, and the capturing platform could not read it raw.
    Encrypted,
    /// A registry key or value the capture stopped at (a cycle, a budget exceeded).
    RegistryDamaged,
    /// A folder nested too deep: not entered.
    TooDeep,
    /// Recorded by an agent that did not yet say why, or by a later one with a new kind.
    #[serde(other)]
    Other,
}

fn other_skip() -> SkipKind {
    SkipKind::Other
}

/// A user's folders as the source Windows saw them.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct UserFolders {
    /// The profile folder (`C:\Users\ann`).
    pub profile: String,
    /// Each known folder by its `User Shell Folders` value name (`Personal`, `Desktop`,
    /// `{374DE290-123F-4565-9164-39C4925E467B}` for Downloads…) with its path, variables
    /// expanded (`D:\Docs`, `C:\Users\ann\OneDrive\Documents`).
    pub known: BTreeMap<String, String>,
}

/// What one rule component took in one pass.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct ComponentSize {
    pub component: String,
    pub files: u64,
    pub bytes: u64,
}

/// One LoadState-side instruction of a rule component.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RestoreEntry {
    pub component: String,
    pub kind: RestoreKind,
    /// `RelativeMove` with its arguments as written (`%CSIDL_APPDATA%\X`, to be expanded
    /// on the destination); absent for a destinationCleanup without a filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Call>,
    /// The objects it applies to, in USMT's pattern syntax, variables replaced with the
    /// source's values (as the store holds them).
    pub patterns: Vec<String>,
    /// The helper's arguments with the source's variables replaced, the component's own
    /// (`%QuickTimeDataUser2%`) too, when any held one: the restore reads the old place
    /// from them, and the new place when only the old machine could name it (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_args: Vec<String>,
}

/// Which MigXML element a [`RestoreEntry`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreKind {
    /// `<merge script>`: SourcePriority, DestinationPriority, NewestVersion…
    Merge,
    /// `<locationModify script>`: RelativeMove, ExactMove, Move.
    LocationModify,
    /// `<contentModify script>`: SetValueByTable, KeepExisting, MergeMultiSzContent…
    ContentModify,
    /// `<destinationCleanup>`: delete on the destination before applying.
    DestinationCleanup,
    /// `<include filter>` (IgnoreIrrelevantLinks, NeverRestore, FileProperties…).
    IncludeFilter,
    /// `<exclude filter>`.
    ExcludeFilter,
    /// `<addObjects>`: objects emulated as if they existed on the source.
    AddObjects,
    /// A kind a later agent recorded: reported as not applied.
    #[serde(other)]
    Other,
}

impl RestoreKind {
    /// The MigXML element it comes from.
    pub fn element(self) -> &'static str {
        match self {
            RestoreKind::Merge => "merge",
            RestoreKind::LocationModify => "locationModify",
            RestoreKind::ContentModify => "contentModify",
            RestoreKind::DestinationCleanup => "destinationCleanup",
            RestoreKind::IncludeFilter => "include filter",
            RestoreKind::ExcludeFilter => "exclude filter",
            RestoreKind::AddObjects => "addObjects",
            RestoreKind::Other => "unknown",
        }
    }
}

/// A helper call as the MigXML wrote it: `MigXmlHelper.RelativeMove("%CSIDL_APPDATA%\X",
/// "%CSIDL_APPDATA%")` → name `RelativeMove`, args as written (variables not expanded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub name: String,
    pub args: Vec<String>,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self.args.iter().map(|a| format!("\"{a}\"")).collect();
        write!(f, "{}({})", self.name, args.join(","))
    }
}
