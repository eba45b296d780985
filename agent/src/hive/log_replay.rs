//! Transaction-log replay (to be written: see hive/README in the issue notes).
use std::path::PathBuf;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Windows 8.1 and later: `HvLE` log entries.
    New,
    /// Windows XP to 8: a dirty-page bitmap (`DIRT`) followed by the dirty pages.
    Old,
}

#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    pub format: LogFormat,
    pub logs_used: Vec<PathBuf>,
    pub applied: usize,
}

/// Applies the logs to `hive` (the dirty primary file's bytes) in memory.
pub fn replay_logs(
    _hive: &mut Vec<u8>,
    _logs: &[(PathBuf, Vec<u8>)],
) -> Result<ReplayOutcome, String> {
    Err("transaction-log replay is not implemented yet".into())
}
