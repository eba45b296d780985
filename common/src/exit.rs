//! The one table of exit codes, for both programs. They follow USMT's where the meaning is
//! the same, so scripts written for ScanState and LoadState keep working and a technician
//! meets one convention. The agent maps its outcomes to them in `cli::exit`, the media
//! builder in its `main`; each code says below what it means to each program.

pub const OK: i32 = 0;
/// Help was asked for (ScanState's `/?`).
pub const HELP: i32 = 1;
/// Stopped on an EFS file (ScanState's default `/efs:abort`).
pub const CANCELED: i32 = 2;
/// Completed, but some files or settings could not be read and were skipped (`/c`).
pub const SKIPPED: i32 = 3;
/// USMT_INVALID_PARAMETERS: an option, or a file named by one, cannot be used (both
/// programs; the media builder's `--agent`, `--config`, `--drivers`, `--overlay`).
pub const INVALID_PARAMETERS: i32 = 11;
/// The `/l` log cannot be written.
pub const LOG_FILE: i32 = 13;
/// A target account is missing and /lac (--create-local) was not given (LoadState).
pub const USE_LAC: i32 = 14;
/// USMT_INIT_ERROR. Agent: no usable Windows installation (or several where one was
/// needed). Media builder: the base holds no WinPE image media can be made from.
pub const NO_INSTALLATION: i32 = 26;
/// USMT_INVALID_STORE_LOCATION. Agent: the store's location cannot be used (missing, full,
/// not a store). Media builder: where the media should go cannot take it.
pub const BAD_STORE: i32 = 27;
/// USMT_UNABLE_GET_SCRIPTFILES: a profile or MigXML file cannot be used (both programs).
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
/// USMT_INIT_OPERATING_ENVIRONMENT_FAILED. Agent: a Windows call failed. Media builder: a
/// program the build runs is not installed.
pub const WIN32_ERROR: i32 = 71;
/// USMT_UNABLE_DOMIGRATION: failed while reading or writing (both programs), the output
/// included (a full disk under standard output).
pub const FATAL: i32 = 72;
