//! The store a capture writes: `files.wim` (one image per user, one for the machine),
//! `registry/*.reg`, `manifest.yaml`, the log; and reading it back ([`read`], [`verify`],
//! [`extract`]), every file it names treated as hostile input. Its format, versioned, is
//! [`schema`]'s: the store imports nothing of detect, the plan or the rules.

pub mod error;
pub mod extract;
pub mod layout;
pub mod manifest;
pub mod read;
pub mod regread;
pub mod schema;
pub mod verify;

pub use error::StoreError;
pub use read::StoreReader;
