//! The one mapping from the agent's outcomes to exit codes. The codes themselves are the
//! table both programs share ([`lifeboat_common::exit`]): USMT's where the meaning is the
//! same, so scripts written for ScanState keep working.

use crate::capture::CaptureError;
use crate::detect::DetectError;
use crate::job::JobError;
use crate::store::StoreError;

pub use lifeboat_common::exit::*;

pub fn detect(e: &DetectError) -> i32 {
    match e {
        DetectError::OfflineXml { .. } | DetectError::NoRoots(_) | DetectError::RootsWithSource => {
            INVALID_PARAMETERS
        }
        DetectError::NotWindows { .. }
        | DetectError::NotRead { .. }
        | DetectError::NoValidWinDir { .. }
        | DetectError::MultipleWinDirs { .. } => NO_INSTALLATION,
        DetectError::Rescue(e) => rescue(e),
    }
}

/// `--map` refused for a disk: a place or map that cannot be used is a bad option, one
/// that cannot be written a bad destination (as `lifeboat image`).
pub fn rescue(e: &crate::volume::rescue::RescueOpenError) -> i32 {
    use crate::volume::rescue::RescueOpenError as E;
    match e {
        E::Open(e) => source_open(e),
        E::IsSource { .. } | E::OnSource { .. } | E::MapIsImage { .. } | E::SecondDisk { .. } => {
            INVALID_PARAMETERS
        }
        E::Map(e) => map(e),
        E::Image { .. } => BAD_STORE,
        E::Rescue(e) => rescuer(e),
    }
}

/// A disk, partition or image that cannot be opened for reading.
fn source_open(e: &lifeboat_volume::block::OpenError) -> i32 {
    use lifeboat_volume::block::OpenError;
    match e {
        OpenError::NotBlock { .. } => INVALID_PARAMETERS,
        OpenError::Io { .. } => IO_STOPPED,
    }
}

/// A ddrescue mapfile that cannot be read (the technician's to fix) or written.
fn map(e: &lifeboat_volume::rescue::MapError) -> i32 {
    match e {
        lifeboat_volume::rescue::MapError::Write { .. } => BAD_STORE,
        _ => INVALID_PARAMETERS,
    }
}

/// The rescue layer that could not start or go on.
fn rescuer(e: &lifeboat_volume::rescue::RescueError) -> i32 {
    use lifeboat_volume::rescue::RescueError;
    match e {
        RescueError::Store { .. } | RescueError::Map(_) => BAD_STORE,
        RescueError::SourceGone { .. } => IO_STOPPED,
        RescueError::MapSize { .. } => INVALID_PARAMETERS,
        RescueError::Thread { .. } | RescueError::ReaderGone { .. } => FATAL,
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
        JobError::Config(_)
        | JobError::BadAnswer(_)
        | JobError::NoSuchInstallation { .. }
        | JobError::NoDestinationGiven => INVALID_PARAMETERS,
        JobError::Rules(_) => BAD_RULES,
        JobError::ConfigXml(_) => CONFIG_FILE,
        JobError::Detect(e) => detect(e),
        JobError::NoInstallation { .. }
        | JobError::Ambiguous { .. }
        | JobError::NoAnswer { .. } => NO_INSTALLATION,
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
        // wimlib could not write where the files go: the disk, not the store, failed.
        StoreError::Wim(e) if e.out_of_space() => FATAL,
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
        E::NoSpace { .. } | E::DiskFull { .. } | E::TargetWrite { .. } | E::Io { .. } => FATAL,
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
    use super::image_plain::PlainError;
    match e {
        E::Open(e) => source_open(e),
        E::IsSource { .. } | E::OnSource { .. } | E::MapIsOut { .. } => INVALID_PARAMETERS,
        E::Map(e) => map(e),
        E::Out { .. } => BAD_STORE,
        E::Rescue(e) => rescuer(e),
        E::Key(_) | E::NoPartition { .. } | E::Locked { .. } | E::RawBegun { .. } => {
            INVALID_PARAMETERS
        }
        E::Table(_) | E::Read(_) | E::BitLocker(_) => IO_STOPPED,
        E::Plain(PlainError::Write { .. }) => BAD_STORE,
        E::Plain(PlainError::Read(_)) => IO_STOPPED,
        E::Plain(PlainError::Interrupted { .. }) => CANCELED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wim_error(os_code: Option<i32>) -> StoreError {
        StoreError::Wim(crate::wim::WimError {
            path: None,
            code: 72,
            message: "writing the files: Failed to write data to a file".into(),
            os_code,
        })
    }

    /// The system's number for a full disk: ENOSPC, ERROR_DISK_FULL.
    fn libc_enospc() -> i32 {
        if cfg!(windows) {
            112
        } else {
            28
        }
    }

    #[test]
    fn a_full_disk_is_fatal_and_a_bad_wim_a_corrupt_store() {
        assert_eq!(store(&wim_error(Some(libc_enospc()))), FATAL);
        assert_eq!(store(&wim_error(None)), CORRUPTED_STORE);
        assert_eq!(store(&wim_error(Some(13))), CORRUPTED_STORE);
    }
}
