//! The store a capture writes: `files.wim` (one image per user, one for the machine),
//! `registry/*.reg`, `manifest.yaml`, the log; and reading it back ([`verify`], [`extract`]).

pub mod extract;
pub mod layout;
pub mod manifest;
pub mod regfile;
pub mod verify;
