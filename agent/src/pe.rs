//! Windows PE images (EXE, DLL, SYS): their machine type, read by the one PE header reader
//! both programs share ([`lifeboat_common::pe`]), and their version resource ([`version`]).

pub mod version;

pub use lifeboat_common::pe::*;
