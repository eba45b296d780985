//! Test fixtures.

pub mod regf;
