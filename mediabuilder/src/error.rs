//! The media builder's one error type. Every variant names the file or object and what was
//! being done to it; `main.rs` maps the variants to exit codes in one place.

use std::path::PathBuf;

use lifeboat_common::config::ConfigError;
use lifeboat_wim::WimError;

pub type Result<T> = std::result::Result<T, MediaError>;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// What was given as the base is not one, or lacks what this build needs.
    #[error("{}: {problem}", path.display())]
    Base { path: PathBuf, problem: String },
    /// The base's boot.wim cannot be read (corrupt, split, not a WIM).
    #[error("reading the base's {}: {source}", path.display())]
    BaseWim {
        path: PathBuf,
        #[source]
        source: WimError,
    },
    /// An agent given with `--agent` cannot go onto this image.
    #[error("--agent {}: {problem}", path.display())]
    Agent { path: PathBuf, problem: String },
    /// A file the technician gave (`--drivers`, `--overlay`) cannot be read or is refused.
    #[error("{option} {}: {problem}", path.display())]
    Input {
        option: &'static str,
        path: PathBuf,
        problem: String,
    },
    /// A `--profile` (YAML or MigXML) cannot be read or is not a valid profile.
    #[error("--profile {}: {problem}", path.display())]
    Profile { path: PathBuf, problem: String },
    /// Where the media should go cannot take it.
    #[error("{option} {}: {problem}", path.display())]
    Output {
        option: &'static str,
        path: PathBuf,
        problem: String,
    },
    /// The `--config` file cannot be read or is not a valid media config (the agent's own
    /// check, so the media never carries a config the agent would refuse).
    #[error("--config {0}")]
    Config(#[from] ConfigError),
    /// Two names in the media tree that FAT32 and Windows take for one.
    #[error("{} and {} are one name on FAT32 and Windows media (letters differ only in case): keep one of them in the base", first.display(), second.display())]
    NameClash { first: PathBuf, second: PathBuf },
    /// A file or folder could not be read or written while building.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Editing or writing the copy of boot.wim failed.
    #[error("{action} {}: {source}", path.display())]
    Wim {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: WimError,
    },
    /// A program the build needs is not installed.
    #[error("cannot run {tool} to {action} ({source}): install the {package} package")]
    ToolMissing {
        tool: &'static str,
        package: &'static str,
        action: String,
        #[source]
        source: std::io::Error,
    },
    /// A program the build runs failed.
    #[error("{tool} failed to {action}: {stderr}")]
    ToolFailed {
        tool: &'static str,
        action: String,
        stderr: String,
    },
}

impl MediaError {
    /// `map_err` helper: an I/O error while doing `action` to `path`.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> MediaError {
        let path = path.into();
        move |source| MediaError::Io {
            action,
            path,
            source,
        }
    }

    /// `map_err` helper: a WIM error while doing `action` to the copy at `path`.
    pub fn wim(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(WimError) -> MediaError {
        let path = path.into();
        move |source| MediaError::Wim {
            action,
            path,
            source,
        }
    }
}
