//! What a capture leaves behind and why: files, folders and hives it skips, users it does
//! not take. The kinds decide (does the capture stop, is the exit code 3); the reason is
//! the sentence a technician reads. The capture records both in the manifest, in the
//! store's own terms (`store::schema`).

/// Why something was not captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// EFS-encrypted, and this platform cannot read it raw.
    Encrypted,
    /// A registry key or value the capture stopped at (a cycle, a budget exceeded).
    RegistryDamaged,
    /// A folder nested deeper than [`crate::limits::FOLDER_MAX_DEPTH`]: not entered.
    TooDeep,
    /// A store's record that does not say why (written by an early agent, or a kind a
    /// later one added): read back, never decided by a capture.
    Other,
}

impl SkipKind {
    /// Errors: data was there and could not be taken. Without `--continue` the first one
    /// stops the capture; with it the capture ends with exit code 3. The other kinds are
    /// what Lifeboat leaves on purpose (links, placeholders…) and change neither.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            SkipKind::Unreadable
                | SkipKind::FolderUnreadable
                | SkipKind::HiveUnreadable
                | SkipKind::Vanished
                | SkipKind::BadName
                | SkipKind::RegistryDamaged
                | SkipKind::TooDeep
        )
    }

    /// A registry error (Config.xml's `<registryError>`), not a file error.
    pub fn is_registry(self) -> bool {
        matches!(self, SkipKind::HiveUnreadable | SkipKind::RegistryDamaged)
    }

    /// The Win32 error a Windows reader meets for this kind, for Config.xml's
    /// `<ErrorControl errorCode="…">`: access denied (5), not found (2), bad name (123),
    /// a damaged registry (1009 ERROR_BADDB), a path too long (206 ERROR_FILENAME_EXCED_RANGE). The walk keeps the kind, not the OS's number,
    /// so `errorCode="any"` is the exact way to match every error.
    pub fn win32_code(self) -> u32 {
        match self {
            SkipKind::Vanished => 2,
            SkipKind::BadName => 123,
            SkipKind::TooDeep => 206,
            SkipKind::RegistryDamaged | SkipKind::HiveUnreadable => 1009,
            _ => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    pub kind: SkipKind,
}

impl Skipped {
    pub fn new(path: impl Into<String>, kind: SkipKind, reason: impl Into<String>) -> Skipped {
        Skipped {
            path: path.into(),
            reason: reason.into(),
            kind,
        }
    }
}

/// Why a user on the installation was not captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

#[derive(Debug, Clone)]
pub struct LeftUser {
    pub sid: String,
    pub name: String,
    pub reason: String,
    pub kind: LeaveKind,
}
