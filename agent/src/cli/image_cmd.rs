//! `lifeboat image SOURCE OUT --map MAP`: copies a disk, a partition or an image file into
//! an image file with GNU ddrescue's discipline (the volume stack's rescue layer), keeping
//! a ddrescue mapfile, so a failing disk gives up its good areas first and a second run
//! reads only what is not yet rescued. The source is opened for reading only and OUT must
//! be a regular file somewhere else: not the source, nor on it.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use lifeboat_volume::block::{FileSource, OpenError};
use lifeboat_volume::rescue::{
    mapfile, Header, MapError, Options, RescueError, Rescuer, RunEnd, Status, Stop, Store,
};
use lifeboat_volume::BlockSource;

use super::image_screen::Screen;
use super::{exit, output};
use crate::console::say;

#[derive(Args, Debug)]
#[command(after_help = "\
The map is GNU ddrescue's mapfile: ddrescue can continue a rescue this began, and the other way round.\n\
Exit codes: 0 every byte rescued, 3 bytes remain unread (bad sectors, or a run stopped by a bound: run again to go on),\n\
11 bad options or map, 27 OUT or the map cannot be written, 61 the source cannot be read, 72 fatal.\n\
Reference: docs/commands/image.md")]
pub struct ImageArgs {
    /// The disk, partition or image file to copy (/dev/sdb, \\.\PhysicalDrive1, disk.img). Only read.
    pub source: PathBuf,
    /// The image file to write: a new one, or the one an earlier run with the same map began.
    pub out: PathBuf,
    /// The map (GNU ddrescue's mapfile), read to go on and saved as the copy goes [default: OUT.map].
    #[arg(long, value_name = "MAP")]
    pub map: Option<PathBuf>,
    /// Stop after this many seconds; the next run goes on from the map.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub max_time: Option<Duration>,
    /// Stop after this many passes; the next run goes on from the map.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_passes: Option<u32>,
    /// Passes over the bad sectors after scraping (ddrescue's -r).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// A read the disk has not answered in this long counts as failed.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value = "30")]
    pub read_timeout: Duration,
    /// A read of 64 KiB slower than this in the first passes marks a slow area, left for later (0: none).
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value = "1")]
    pub slow_read: Duration,
}

/// A number of seconds (decimals allowed), at most a year.
fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(0.0..=365.0 * 86_400.0).contains(&v) {
        return Err(format!("`{s}`: give 0 to 31536000 seconds"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Why an image cannot be made or go on.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("{}: {what} is the source itself; give another file", path.display())]
    IsSource { path: PathBuf, what: &'static str },
    #[error("{}: lies on {}, the disk being rescued: write it to another disk", path.display(), device.display())]
    OnSource { path: PathBuf, device: PathBuf },
    #[error("{}: the map and the image must be two files", path.display())]
    MapIsOut { path: PathBuf },
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("{}: {problem}", out.display())]
    Out { out: PathBuf, problem: String },
    #[error(transparent)]
    Rescue(#[from] RescueError),
}

pub fn run(args: ImageArgs) -> i32 {
    let map = args.map.clone().unwrap_or_else(|| {
        let mut s = args.out.clone().into_os_string();
        s.push(".map");
        PathBuf::from(s)
    });
    match image(&args, &map) {
        Ok((end, summary)) => output::finish(end, &summary),
        Err(e) => {
            say(&format!("error: {e}"));
            exit::image(&e)
        }
    }
}

/// Copies, and returns the exit code and the summary.
fn image(args: &ImageArgs, map: &Path) -> Result<(i32, String), ImageError> {
    let source = FileSource::open_direct(&args.source)?;
    check_places(args, map)?;
    let (size, sector) = (source.size(), source.sector_size());
    let mapfile = mapfile::read(map, size, sector)?;
    let store = open_out(&args.out, map, mapfile.is_some(), size)?;
    let direct = source.direct();
    let header = Header {
        program: format!("Lifeboat {}", crate::VERSION),
        command_line: command_line(),
        start: SystemTime::now(),
    };
    let options = Options {
        slow_read: (!args.slow_read.is_zero()).then_some(args.slow_read),
        read_timeout: args.read_timeout,
        retries: args.retries,
        max_passes: args.max_passes,
        max_time: args.max_time,
        ..Options::default()
    };
    let rescuer =
        Rescuer::new(Arc::new(source), store, mapfile, options)?.save_to(map.to_path_buf(), header);
    let mut screen = Screen::new(&args.source, &args.out, map, direct);
    screen.initial(&rescuer.progress());
    let stop = rescuer.stop_flag();
    let raised = crate::platform::catch_interrupt();
    // Ctrl-C raises a static flag (all a signal handler may touch); a thread passes it on
    // to the rescue, which stops after the read under way with the map saved.
    std::thread::spawn(move || loop {
        if raised.load(Ordering::Relaxed) {
            stop.store(true, Ordering::Relaxed);
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    });
    let end = rescuer.run(0..size, &mut |p| screen.show(p))?;
    let p = rescuer.progress();
    let all = p.bytes(Status::Finished) == size;
    let code = if all { exit::OK } else { exit::SKIPPED };
    Ok((code, screen.summary(&p, end, stop_hint(end, args.retries))))
}

/// What to do next, after a run that did not rescue everything.
fn stop_hint(end: RunEnd, retries: u32) -> &'static str {
    match end {
        RunEnd::Finished => "",
        RunEnd::Incomplete if retries == 0 => {
            "run again with --retries N to read the bad sectors again"
        }
        RunEnd::Incomplete => "the bad sectors did not read; more --retries may still get some",
        RunEnd::Stopped(Stop::Unresponsive { .. }) => {
            "the disk stopped answering: power it off and on, then run the same command again"
        }
        RunEnd::Stopped(Stop::MapFull) => {
            "the map holds as many areas as Lifeboat keeps: the disk is damaged all over"
        }
        RunEnd::Stopped(_) => "run the same command again to go on from the map",
    }
}

/// The source is only read: OUT and the map must be other files, not on the source disk.
fn check_places(args: &ImageArgs, map: &Path) -> Result<(), ImageError> {
    use crate::platform::{lies_on, same_file};
    for (path, what) in [(&args.out, "the image"), (&map.to_path_buf(), "the map")] {
        if same_file(path, &args.source) {
            return Err(ImageError::IsSource {
                path: path.clone(),
                what,
            });
        }
        if lies_on(path, &args.source) {
            return Err(ImageError::OnSource {
                path: path.clone(),
                device: args.source.clone(),
            });
        }
    }
    let clash = same_file(&args.out, map)
        || std::path::absolute(&args.out).ok() == std::path::absolute(map).ok();
    if clash {
        return Err(ImageError::MapIsOut {
            path: map.to_path_buf(),
        });
    }
    Ok(())
}

/// OUT as the store: a new image with a new map; the image an earlier run began with an
/// existing map. An image with data but no map is refused: nothing says which of its bytes
/// were rescued.
fn open_out(
    out: &Path,
    map: &Path,
    resuming: bool,
    size: u64,
) -> Result<Arc<dyn Store>, ImageError> {
    crate::volume::rescue::open_store(out, map, resuming, size).map_err(|problem| ImageError::Out {
        out: out.to_path_buf(),
        problem,
    })
}

/// The command as typed, for the map's heading.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.contains(char::is_whitespace) || a.is_empty() {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
