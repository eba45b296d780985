//! Everything that depends on the operating system the agent runs on. This is the only
//! module with `#[cfg(windows)]`.
