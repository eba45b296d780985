//! What the technician sees while bytes move: an indicatif bar with bytes, files and time
//! left on a terminal; plain lines (every 10 %) when the output is a log or a pipe.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Reporter {
    bar: Option<ProgressBar>,
    total: u64,
    files: u64,
    last_decile: u64,
    quiet: bool,
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
        }
    }

    pub fn update(&mut self, done: u64, total: u64) {
        let total = total.max(self.total).max(1);
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
