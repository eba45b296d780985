//! The one mapping from outcomes to exit codes. They follow USMT's where the meaning is the
//! same, so scripts written for ScanState keep working.

use crate::capture::CaptureError;
use crate::detect::DetectError;
use crate::job::JobError;
use crate::store::StoreError;

pub const OK: i32 = 0;
/// Completed, but some files or settings could not be read and were skipped (`/c`).
pub const SKIPPED: i32 = 3;
pub const INVALID_PARAMETERS: i32 = 11;
/// No usable Windows installation (or several where one was needed).
pub const NO_INSTALLATION: i32 = 26;
/// The store's location cannot be used (missing, full, not a store).
pub const BAD_STORE: i32 = 27;
/// A profile or MigXML file cannot be used.
pub const BAD_RULES: i32 = 28;
pub const CORRUPTED_STORE: i32 = 42;
/// Stopped on a file that could not be read (no `/c`).
pub const IO_STOPPED: i32 = 61;
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
        JobError::Detect(e) => detect(e),
        JobError::NoInstallation | JobError::Ambiguous { .. } | JobError::NoAnswer { .. } => {
            NO_INSTALLATION
        }
        JobError::NoDestination { .. } | JobError::BadDestination { .. } => BAD_STORE,
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
