//! What the technician sees while bytes move: an indicatif bar with bytes, files and time
//! left on a terminal; plain lines (every 10 %) when the output is a log or a pipe; and
//! ScanState's `/progress` log for the monitoring that reads it.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Reporter {
    bar: Option<ProgressBar>,
    total: u64,
    files: u64,
    last_decile: u64,
    quiet: bool,
    log: Option<ProgressLog>,
    last_percent: u64,
}

impl Reporter {
    pub fn new(total_bytes: u64, files: u64, quiet: bool) -> Reporter {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(total_bytes);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b.set_message(format!("{files} files"));
            b
        });
        Reporter {
            bar,
            total: total_bytes,
            files,
            last_decile: 0,
            quiet,
            log: None,
            last_percent: 0,
        }
    }

    /// Also writes `totalPercentageCompleted` lines to ScanState's progress log.
    pub fn logging_to(mut self, log: Option<ProgressLog>) -> Reporter {
        self.log = log;
        self
    }

    pub fn update(&mut self, done: u64, total: u64) {
        let total = total.max(self.total).max(1);
        let percent = done.min(total) * 100 / total;
        if percent > self.last_percent {
            self.last_percent = percent;
            if let Some(log) = &self.log {
                let _ = log.pairs(&[("totalPercentageCompleted", &percent.to_string())]);
            }
        }
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(done);
            return;
        }
        let decile = done * 10 / total;
        if !self.quiet && decile > self.last_decile {
            self.last_decile = decile;
            crate::console::say(&format!(
                "  {:>3}% of {} ({} files)",
                decile * 10,
                human(total),
                self.files
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// ScanState's progress log (`/progress:FILE`): one line per event, three fixed fields —
/// date, time, time since the start — then key/value pairs, all separated by `, `:
/// `08 Jun 2006, 13:49:13 +00:00, 00:00:10, totalPercentageCompleted, 48`.
#[derive(Debug, Clone)]
pub struct ProgressLog {
    path: PathBuf,
    started: i64,
}

impl ProgressLog {
    /// Starts a new log (an old one is replaced).
    pub fn create(path: &Path) -> std::io::Result<ProgressLog> {
        std::fs::write(path, "")?;
        Ok(ProgressLog {
            path: path.to_path_buf(),
            started: crate::time::now_unix(),
        })
    }

    /// One line of `key, value` pairs. A monitoring log that cannot be written does not
    /// stop a capture: the error is returned for the caller that wants to know.
    pub fn pairs(&self, pairs: &[(&str, &str)]) -> std::io::Result<()> {
        let now = crate::time::now_unix();
        let e = (now - self.started).max(0);
        let mut line = format!(
            "{}, {:02}:{:02}:{:02}",
            crate::time::unix_to_usmt_progress(now),
            e / 3600,
            e % 3600 / 60,
            e % 60
        );
        for (k, v) in pairs {
            // A comma inside a value would shift every field after it.
            line.push_str(&format!(", {k}, {}", v.replace(',', ";")));
        }
        line.push_str("\r\n");
        let mut f = std::fs::OpenOptions::new().append(true).open(&self.path)?;
        f.write_all(line.as_bytes())
    }
}

/// Bytes as a technician reads them.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
