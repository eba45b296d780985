//! The store a capture writes: `files.wim`, `registry/*.reg`, `manifest.yaml`, the log.

pub mod manifest;
pub mod regfile;
