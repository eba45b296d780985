//! Lifeboat agent: finds offline Windows installations and rescues their users' files and
//! settings.
//!
//! The pipeline, one module per stage: [`detect`] (volumes → installations, users) →
//! plan → capture → store. Below them sit [`hive`] (registry hives, read-only, with log
//! replay), [`pe`] (architecture of Windows binaries), [`wim`] (the safe layer over
//! wimlib) and [`platform`] (the only place that knows which OS it runs on).

pub mod capture;
pub mod cli;
pub mod console;
pub mod detect;
pub mod diskid;
pub mod facts;
pub mod hive;
pub mod job;
pub mod known_folders;
#[cfg(test)]
mod layers;
pub mod limits;
pub mod lnk;
pub mod pe;
pub mod plan;
pub mod platform;
pub mod progress;
pub mod regfile;
pub mod restore;
pub mod rules;
pub mod selftest;

pub mod store;
pub mod time;
pub mod volume;
pub mod winpath;
pub mod xml;

/// What the agent shares with the media builder, a crate of its own (`common/`): the media
/// config and layout, how a file Lifeboat did not write is read and parsed within a budget.
pub use lifeboat_common::{bounded_yaml, config, fsread, media_layout, shown};

/// Little-endian fields of on-disk structures, shared with the volume stack.
pub use lifeboat_volume::le;

/// The WIM layer, a crate of its own (`wim/`) that both programs use.
pub use lifeboat_wim as wim;

/// Version of the agent, recorded in reports and stores.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
