//! Lifeboat agent: finds offline Windows installations and rescues their users' files and
//! settings.
//!
//! The pipeline, one module per stage: [`detect`] (volumes → installations, users) →
//! plan → capture → store. Below them sit [`hive`] (registry hives, read-only, with log
//! replay), [`pe`] (architecture of Windows binaries), [`wim`] (the safe layer over
//! wimlib) and [`platform`] (the only place that knows which OS it runs on).

pub mod bounded_yaml;
pub mod capture;
pub mod cli;
pub mod config;
pub mod console;
pub mod detect;
pub mod diskid;
pub mod facts;
pub mod fsread;
pub mod hive;
pub mod job;
pub mod limits;
pub mod lnk;
pub mod media_layout;
pub mod pe;
pub mod plan;
pub mod platform;
pub mod regfile;
pub mod restore;
pub mod rules;
pub mod selftest;
pub mod shown;
pub mod store;
pub mod time;
pub mod winpath;
pub mod xml;

/// Little-endian fields of on-disk structures, shared with the volume stack.
pub use lifeboat_volume::le;

/// The volume stack (block sources, partition tables, BitLocker, NTFS), a crate of its own.
pub use lifeboat_volume as volume_stack;

/// The WIM layer, a crate of its own (`wim/`) that both programs use.
pub use lifeboat_wim as wim;

/// Version of the agent, recorded in reports and stores.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
