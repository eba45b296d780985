//! Which compression a store gets. `auto` (the default) measures how fast the destination
//! really takes data (a short write, flushed to the device) and compares it with how fast
//! XPRESS compresses on this machine's cores: a destination faster than the compressor
//! gets the files as they are (compressing would only slow the capture), a slower one gets
//! XPRESS (a smaller store, and a faster capture, since fewer bytes cross the bottleneck).
//! LZX and LZMS are never chosen by `auto`: measured on the bench's mixed profile, LZX
//! makes a store 2.5 % smaller than XPRESS for 7–9 times the time, LZMS is slower still.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::progress::human;
use crate::wim::Compression;

/// `--compress` / the media config's `compression`: its names are shared with the media
/// builder.
pub use lifeboat_common::compression::CompressionChoice;

/// Input bytes per second one core compresses with XPRESS (wimlib's default level): about
/// 70 MB/s, measured on the bench's mixed profile (`scripts/bench-capture.sh`: 631 MB in
/// 9.2 CPU-seconds). Incompressible data (photos, video) costs as much as text.
const XPRESS_BYTES_PER_CORE: f64 = 70e6;
/// The probe writes at most this much, in blocks flushed to the device one by one.
const PROBE_BYTES: usize = 32 << 20;
const PROBE_BLOCK: usize = 4 << 20;
/// ... or stops after this long (a slow share or USB 2 stick).
const PROBE_TIME: Duration = Duration::from_secs(1);
/// A store written uncompressed needs the files' size and a margin for the WIM's tables.
const UNCOMPRESSED_MARGIN: u64 = 20;

/// What was chosen and why, in the technician's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub compression: Compression,
    pub reason: String,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "compression {}: {}",
            self.compression.as_str(),
            self.reason
        )
    }
}

/// Decides for a capture of `bytes` to `dest` with `threads` compressor threads (0 = all
/// cores). Only `Auto` touches the destination, and only when the free space leaves a choice
/// to the speed (one probe file, removed at once).
pub fn decide(choice: CompressionChoice, dest: &Path, bytes: u64, threads: u32) -> Decision {
    let CompressionChoice::Fixed(c) = choice else {
        let cores = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n as usize,
        };
        let free = crate::platform::free_space(dest).ok();
        return rule(|| probe_write_speed(dest), bytes, free, cores);
    };
    Decision {
        compression: c,
        reason: "as asked".into(),
    }
}

/// The choice of `auto`, free of I/O: `speed` measures the destination's bytes/s, called
/// only when the free space does not decide alone.
pub fn rule(
    speed: impl FnOnce() -> std::io::Result<f64>,
    bytes: u64,
    free: Option<u64>,
    cores: usize,
) -> Decision {
    let xpress = |reason: String| Decision {
        compression: Compression::Xpress,
        reason,
    };
    if let Some(free) = free.filter(|&f| f < bytes.saturating_add(bytes / UNCOMPRESSED_MARGIN)) {
        return xpress(format!(
            "the destination has {} free for {} of files, so the store is compressed",
            human(free),
            human(bytes)
        ));
    }
    let rate = XPRESS_BYTES_PER_CORE * cores.max(1) as f64;
    let speed = match speed() {
        Ok(s) => s,
        Err(e) => {
            return xpress(format!(
                "the destination's speed could not be measured ({e})"
            ))
        }
    };
    let (w, x) = (human(speed as u64), human(rate as u64));
    if speed >= rate {
        Decision {
            compression: Compression::None,
            reason: format!(
                "the destination takes {w}/s, faster than XPRESS compresses on {cores} cores \
                 (about {x}/s), so files are stored as they are (--compress xpress for a \
                 smaller store)"
            ),
        }
    } else {
        xpress(format!(
            "the destination takes {w}/s, slower than XPRESS compresses on {cores} cores \
             (about {x}/s), so compressing makes the capture faster and the store smaller"
        ))
    }
}

/// Bytes per second the destination takes, flushed to the device (a cache would only
/// hide the speed a store of many GB meets).
fn probe_write_speed(dest: &Path) -> std::io::Result<f64> {
    let path = dest.join(format!(".lifeboat-probe-{}.tmp", std::process::id()));
    let result = write_probe(&path);
    let _ = std::fs::remove_file(&path);
    result
}

fn write_probe(path: &Path) -> std::io::Result<f64> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    // Incompressible bytes: a share or volume that compresses must not flatter itself.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let block: Vec<u8> = (0..PROBE_BLOCK)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let start = Instant::now();
    let mut written = 0usize;
    while written < PROBE_BYTES && start.elapsed() < PROBE_TIME {
        f.write_all(&block)?;
        f.sync_data()?;
        written += block.len();
    }
    let secs = start.elapsed().as_secs_f64().max(1e-6);
    Ok(written as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    #[test]
    fn parses_auto_and_every_wimlib_type() {
        assert_eq!("AUTO".parse(), Ok(CompressionChoice::Auto));
        assert_eq!(
            "xpress".parse(),
            Ok(CompressionChoice::Fixed(Compression::Xpress))
        );
        assert_eq!(
            "maximum".parse(),
            Ok(CompressionChoice::Fixed(Compression::Lzx))
        );
        assert!("zip".parse::<CompressionChoice>().is_err());
    }

    #[test]
    fn a_destination_faster_than_the_compressor_gets_the_files_as_they_are() {
        let d = rule(|| Ok(400e6), 10 * GB, Some(100 * GB), 4);
        assert_eq!(d.compression, Compression::None, "{d}");
        let d = rule(|| Ok(100e6), 10 * GB, Some(100 * GB), 4);
        assert_eq!(d.compression, Compression::Xpress, "{d}");
        // The same destination with twice the cores: now the compressor keeps up.
        let d = rule(|| Ok(200e6), 10 * GB, Some(100 * GB), 2);
        assert_eq!(d.compression, Compression::None, "{d}");
        let d = rule(|| Ok(200e6), 10 * GB, Some(100 * GB), 4);
        assert_eq!(d.compression, Compression::Xpress, "{d}");
    }

    #[test]
    fn little_room_or_an_unknown_speed_means_xpress() {
        let d = rule(
            || unreachable!("the free space decides: the destination is not written"),
            10 * GB,
            Some(10 * GB),
            2,
        );
        assert_eq!(d.compression, Compression::Xpress);
        assert!(d.reason.contains("free"), "{d}");
        let d = rule(
            || Err(std::io::Error::other("read-only")),
            GB,
            Some(100 * GB),
            2,
        );
        assert_eq!(d.compression, Compression::Xpress);
        assert!(d.reason.contains("read-only"), "{d}");
    }

    #[test]
    fn the_probe_measures_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let speed = probe_write_speed(dir.path()).unwrap();
        assert!(speed > 0.0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(probe_write_speed(&dir.path().join("missing")).is_err());
    }
}
