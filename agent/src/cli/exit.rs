//! The one mapping from outcomes to exit codes. They follow USMT's where the meaning is the
//! same, so scripts written for ScanState keep working.

use crate::capture::CaptureError;
use crate::detect::DetectError;
use crate::job::JobError;
use crate::store::StoreError;

pub const OK: i32 = 0;
/// Help was asked for (`/?`).
pub const HELP: i32 = 1;
/// Stopped on an EFS file (ScanState's default `/efs:abort`).
pub const CANCELED: i32 = 2;
/// Completed, but some files or settings could not be read and were skipped (`/c`).
pub const SKIPPED: i32 = 3;
pub const INVALID_PARAMETERS: i32 = 11;
/// The `/l` log cannot be written.
pub const LOG_FILE: i32 = 13;
/// A target account is missing and /lac (--create-local) was not given (LoadState).
pub const USE_LAC: i32 = 14;
/// No usable Windows installation (or several where one was needed).
pub const NO_INSTALLATION: i32 = 26;
/// The store's location cannot be used (missing, full, not a store).
pub const BAD_STORE: i32 = 27;
/// A profile or MigXML file cannot be used.
pub const BAD_RULES: i32 = 28;
/// Not an elevated administrator.
pub const INSUFFICIENT_RIGHTS: i32 = 34;
/// The operation needs another platform (settings restore off Windows).
pub const UNSUPPORTED_PLATFORM: i32 = 36;
/// Config.xml cannot be read (`/config`).
pub const CONFIG_FILE: i32 = 39;
/// The `/progress` log cannot be written.
pub const PROGRESS_LOG: i32 = 40;
/// A file ScanState writes before it starts (`/p:FILE`, `/genconfig:FILE`) cannot be
/// made, or exists and `/o` was not given.
pub const PREFLIGHT_FILE: i32 = 41;
pub const CORRUPTED_STORE: i32 = 42;
/// Stopped on a file that could not be read (no `/c`).
pub const IO_STOPPED: i32 = 61;
/// A Windows call failed.
pub const WIN32_ERROR: i32 = 71;
pub const FATAL: i32 = 72;

pub fn detect(e: &DetectError) -> i32 {
    match e {
        DetectError::OfflineXml { .. } | DetectError::NoRoots(_) | DetectError::RootsWithSource => {
            INVALID_PARAMETERS
        }
        DetectError::NotWindows { .. }
        | DetectError::NoValidWinDir { .. }
        | DetectError::MultipleWinDirs { .. } => NO_INSTALLATION,
    }
}

pub fn capture(e: &CaptureError) -> i32 {
    match e {
        CaptureError::Destination { .. } => BAD_STORE,
        CaptureError::Stopped { .. } => IO_STOPPED,
        CaptureError::Failed { .. } => FATAL,
    }
}

pub fn job(e: &JobError) -> i32 {
    match e {
        JobError::Config(_) | JobError::BadAnswer(_) | JobError::NoSuchInstallation { .. } => {
            INVALID_PARAMETERS
        }
        JobError::Rules(_) => BAD_RULES,
        JobError::ConfigXml(_) => CONFIG_FILE,
        JobError::Detect(e) => detect(e),
        JobError::NoInstallation | JobError::Ambiguous { .. } | JobError::NoAnswer { .. } => {
            NO_INSTALLATION
        }
        JobError::NoDestination { .. }
        | JobError::BadDestination { .. }
        | JobError::NoStore { .. }
        | JobError::StoreTaken { .. }
        | JobError::DestinationOnSource { .. } => BAD_STORE,
        JobError::ListFiles { .. } => FATAL,
        JobError::Capture(e) => capture(e),
    }
}

pub fn store(e: &StoreError) -> i32 {
    match e {
        StoreError::NotAStore { .. } | StoreError::NoRoom { .. } => BAD_STORE,
        StoreError::NoSuchUser { .. } => INVALID_PARAMETERS,
        StoreError::Write { .. } => FATAL,
        StoreError::BadManifest { .. }
        | StoreError::UnsafeEntry { .. }
        | StoreError::Damaged { .. }
        | StoreError::ImageMismatch { .. }
        | StoreError::Read(_)
        | StoreError::Wim(_)
        | StoreError::NoFiles { .. } => CORRUPTED_STORE,
    }
}

/// A finished capture: complete, or complete with skipped errors.
pub fn captured(c: &crate::job::Captured) -> i32 {
    if c.skipped_errors {
        SKIPPED
    } else {
        OK
    }
}

/// LoadState's code for a restore that could not be done.
pub fn restore(e: &crate::restore::RestoreError) -> i32 {
    use crate::restore::RestoreError as E;
    match e {
        E::Store(e) => store(e),
        E::Incomplete { .. } => BAD_STORE,
        E::Corrupt { .. } | E::Registry { .. } => CORRUPTED_STORE,
        E::NoSuchStoreUser { .. } => INVALID_PARAMETERS,
        E::MissingAccount { .. } => USE_LAC,
        E::Account { .. } | E::System { .. } => WIN32_ERROR,
        E::NoTarget { .. } => NO_INSTALLATION,
        E::NotAdmin { .. } => INSUFFICIENT_RIGHTS,
        E::Unsupported { .. } => UNSUPPORTED_PLATFORM,
        E::Stopped { .. } => IO_STOPPED,
        E::NoSpace { .. } | E::Io { .. } => FATAL,
    }
}

/// A finished restore: complete, or complete with files not written (`/c`).
pub fn restored(r: &crate::restore::Report) -> i32 {
    if r.failures() > 0 {
        SKIPPED
    } else {
        OK
    }
}

/// `lifeboat image` that could not start or go on.
pub fn image(e: &super::image_cmd::ImageError) -> i32 {
    use super::image_cmd::ImageError as E;
    use lifeboat_volume::block::OpenError;
    use lifeboat_volume::rescue::{MapError, RescueError};
    match e {
        E::Open(OpenError::NotBlock { .. }) => INVALID_PARAMETERS,
        E::Open(OpenError::Io { .. }) => IO_STOPPED,
        E::IsSource { .. } | E::OnSource { .. } | E::MapIsOut { .. } => INVALID_PARAMETERS,
        E::Map(MapError::Write { .. }) => BAD_STORE,
        E::Map(_) => INVALID_PARAMETERS,
        E::Out { .. } => BAD_STORE,
        E::Rescue(RescueError::Store { .. } | RescueError::Map(_)) => BAD_STORE,
        E::Rescue(RescueError::SourceGone { .. }) => IO_STOPPED,
        E::Rescue(RescueError::MapSize { .. }) => INVALID_PARAMETERS,
        E::Rescue(RescueError::Thread { .. } | RescueError::ReaderGone { .. }) => FATAL,
    }
}
