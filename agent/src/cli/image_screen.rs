//! `lifeboat image`'s progress, as ddrescue's users expect to read it: rescued bytes, what
//! is still to try, bad areas, read rates (current and average), time since the last good
//! read, and the pass. On a terminal the block is redrawn in place about once a second;
//! into a file or a pipe a line is written every 10 seconds and at each new pass.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use lifeboat_volume::rescue::{Phase, Progress, RunEnd, Status, Stop};

use crate::console::{say, say_part};

/// Lines of the block drawn on a terminal.
const LINES: usize = 6;
/// How often a line is written when standard error is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Screen {
    tty: bool,
    drawn: bool,
    /// The previous report's run time and good bytes, for the current rate.
    last: Option<(Duration, u64)>,
    rate: u64,
    logged: Option<Instant>,
    pass: Option<(Phase, u32)>,
}

impl Screen {
    pub fn new(source: &Path, out: &Path, map: &Path, direct: bool) -> Screen {
        let how = if direct { ", read directly" } else { "" };
        say(&format!(
            "lifeboat image: {} -> {} (map {}){how}",
            source.display(),
            out.display(),
            map.display()
        ));
        Screen {
            tty: std::io::stderr().is_terminal(),
            drawn: false,
            last: None,
            rate: 0,
            logged: None,
            pass: None,
        }
    }

    /// The state the map starts from, as ddrescue shows it.
    pub fn initial(&mut self, p: &Progress) {
        if p.bytes(Status::NonTried) == p.size {
            return;
        }
        let tried =
            p.bytes(Status::NonTrimmed) + p.bytes(Status::NonScraped) + p.bytes(Status::BadSector);
        say(&format!(
            "Initial status (read from map): rescued: {}, tried: {}, bad-sector: {}, bad areas: {}",
            si(p.bytes(Status::Finished)),
            si(tried),
            si(p.bytes(Status::BadSector)),
            p.bad_areas
        ));
    }

    pub fn show(&mut self, p: &Progress) {
        if let Some((t, good)) = self.last {
            let dt = p.run_time.saturating_sub(t).as_secs_f64();
            if dt > 0.0 {
                self.rate = (p.read_good.saturating_sub(good) as f64 / dt) as u64;
            }
        }
        self.last = Some((p.run_time, p.read_good));
        let pass = (p.position.phase, p.position.pass);
        let new_pass = self.pass != Some(pass);
        self.pass = Some(pass);
        if self.tty {
            self.draw(p);
        } else if new_pass || self.logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            self.logged = Some(Instant::now());
            say(&self.line(p));
        }
    }

    fn draw(&mut self, p: &Progress) {
        let avg = average(p);
        let since = p.since_good.map_or_else(|| "n/a".into(), duration);
        let text = [
            format!(
                "     ipos: {:>9}, non-trimmed: {:>9},  current rate: {:>9}/s",
                si(p.position.pos),
                si(p.bytes(Status::NonTrimmed)),
                si(self.rate)
            ),
            format!(
                "non-tried: {:>9}, non-scraped: {:>9},  average rate: {:>9}/s",
                si(p.bytes(Status::NonTried)),
                si(p.bytes(Status::NonScraped)),
                si(avg)
            ),
            format!(
                "  rescued: {:>9},  bad-sector: {:>9},   read errors: {:>9}",
                si(p.bytes(Status::Finished)),
                si(p.bytes(Status::BadSector)),
                p.read_errors
            ),
            format!(
                "pct rescued: {:>6},  bad areas: {:>9},      run time: {:>9}",
                percent(p),
                p.bad_areas,
                duration(p.run_time)
            ),
            format!(
                " slow reads: {:>6},  time since last successful read: {since}",
                p.slow_reads
            ),
            p.position.message(),
        ];
        let mut out = String::new();
        if self.drawn {
            out.push_str(&format!("\x1b[{LINES}A"));
        }
        for l in text {
            out.push_str(&l);
            out.push_str("\x1b[K\n");
        }
        say_part(&out);
        self.drawn = true;
    }

    fn line(&self, p: &Progress) -> String {
        format!(
            "[{}] {}: rescued {} ({}), non-tried {}, bad-sector {} in {} areas, read errors {}, {}/s (average {}/s), last good read {} ago",
            duration(p.run_time),
            p.position.message(),
            si(p.bytes(Status::Finished)),
            percent(p),
            si(p.bytes(Status::NonTried)),
            si(p.bytes(Status::BadSector)),
            p.bad_areas,
            p.read_errors,
            si(self.rate),
            si(average(p)),
            p.since_good.map_or_else(|| "n/a".into(), duration),
        )
    }

    /// The result, for standard output.
    pub fn summary(&self, p: &Progress, end: RunEnd, hint: &str) -> String {
        let ending = match end {
            RunEnd::Finished => "Finished: every byte rescued.".to_string(),
            RunEnd::Incomplete => format!("Finished, not all rescued: {hint}."),
            RunEnd::Stopped(why) => format!("Stopped ({}): {hint}.", stop(why)),
        };
        format!(
            "rescued:     {} bytes of {} ({}) in {}, average {}/s\n\
             bad-sector:  {} bytes in {} areas\n\
             not tried:   {} bytes; non-trimmed {} bytes; non-scraped {} bytes\n\
             read errors: {}; slow reads: {}\n\
             {ending}\n",
            p.bytes(Status::Finished),
            p.size,
            percent(p),
            duration(p.run_time),
            si(average(p)),
            p.bytes(Status::BadSector),
            p.bad_areas,
            p.bytes(Status::NonTried),
            p.bytes(Status::NonTrimmed),
            p.bytes(Status::NonScraped),
            p.read_errors,
            p.slow_reads,
        )
    }
}

fn stop(why: Stop) -> String {
    match why {
        Stop::MaxTime => "--max-time reached".into(),
        Stop::MaxPasses => "--max-passes reached".into(),
        Stop::Interrupted => "interrupted".into(),
        Stop::Unresponsive { pos } => format!("the disk did not answer a read at offset {pos}"),
        Stop::MapFull => "the map is full".into(),
    }
}

fn average(p: &Progress) -> u64 {
    let t = p.run_time.as_secs_f64();
    if t > 0.0 {
        (p.read_good as f64 / t) as u64
    } else {
        0
    }
}

fn percent(p: &Progress) -> String {
    if p.size == 0 {
        return "100.00%".into();
    }
    format!(
        "{:.2}%",
        p.bytes(Status::Finished) as f64 * 100.0 / p.size as f64
    )
}

/// Bytes with SI prefixes as ddrescue shows them: at most five digits (`2874 MB`).
fn si(mut v: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut unit = 0;
    while v >= 100_000 && unit + 1 < UNITS.len() {
        v /= 1000;
        unit += 1;
    }
    format!("{v} {}", UNITS[unit])
}

/// `35s`, `10m 5s`, `2h 3m`, `3d 4h`.
fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_ddrescue_shows_them() {
        assert_eq!(si(0), "0 B");
        assert_eq!(si(99_999), "99999 B");
        assert_eq!(si(1_000_000), "1000 kB");
        assert_eq!(si(2_874_000_000), "2874 MB");
        assert_eq!(duration(Duration::from_secs(35)), "35s");
        assert_eq!(duration(Duration::from_secs(605)), "10m 5s");
        assert_eq!(duration(Duration::from_secs(7380)), "2h 3m");
    }
}
