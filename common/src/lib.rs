//! What the two Lifeboat programs share, the agent (`lifeboat`) and the media builder
//! (`lifeboat-media`), so that neither defines it twice and the media builder never
//! disagrees with the agent that will read what it wrote:
//!
//! - [`exit`]: the one table of exit codes (USMT's where the meaning is the same);
//! - [`output`]: the one way a command prints (a closed pipe or a full disk is no panic);
//! - [`pe`]: the one PE header reader (machine type, data directories, sections);
//! - [`media_layout`] and [`config`]: where things sit on the boot media and the agent's
//!   config there, with the vocabulary the config is written in ([`compression`],
//!   [`users`]);
//! - [`fsread`], [`bounded_yaml`] and [`limits`]: how a file neither program wrote is opened
//!   and parsed, within a budget.
//!
//! It depends on no other part of either program (only on `lifeboat-volume` for its
//! little-endian readers).

pub mod bounded_yaml;
pub mod compression;
pub mod config;
pub mod exit;
pub mod fsread;
pub mod limits;
pub mod media_layout;
pub mod output;
pub mod pe;
pub mod shown;
pub mod users;

/// Little-endian field readers (bounded: `None` past the end), from the volume stack.
pub use lifeboat_volume::le;
