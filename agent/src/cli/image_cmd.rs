//! `lifeboat image SOURCE OUT [--partition N] [key options]`: copies a disk, a partition
//! or an image file into an image file with GNU ddrescue's discipline (the volume stack's
//! rescue layer), keeping a ddrescue mapfile, so a failing disk gives up its good areas
//! first and a second run reads only what is not yet rescued. The source is opened for
//! reading only and OUT must be a regular file somewhere else: not the source, nor on it.
//!
//! A BitLocker volume (the source, or the partition chosen) is written plain: its raw
//! bytes are rescued into `OUT.encrypted` with the map, exactly as any source is, then OUT
//! is written from that copy through the BitLocker reader (image_plain.rs): decrypted,
//! the metadata areas as zeros, the relocated boot sectors back in place, sparse. Whether
//! it is BitLocker's is read through the rescue too, so no sector is read from the disk
//! twice: the raw copy starts as `OUT.encrypted` and is renamed OUT when the volume is not
//! BitLocker's.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use lifeboat_volume::bitlocker::{self, BitLockerError, Info, Unlocked};
use lifeboat_volume::block::{BlockError, FileSource, OpenError, Source};
use lifeboat_volume::partition::{PartitionError, PartitionTable, TableKind};
use lifeboat_volume::rescue::{
    mapfile, Header, MapError, Options, RescueError, Rescuer, RunEnd, Status, Stop, Store,
};
use lifeboat_volume::BlockSource;

use super::image_plain::{self, PlainError};
use super::image_screen::Screen;
use super::volume_args::seconds;
use super::volume_args::{KeyArgs, KeyError};
use super::{exit, output};
use crate::console::say;

#[derive(Args, Debug)]
#[command(after_help = "\
The map is GNU ddrescue's mapfile: ddrescue can continue a rescue this began, and the other way round.\n\
With --partition N the rescue covers that partition only, and the map counts from the partition's first byte.\n\
A BitLocker volume opened by a key given is written to OUT decrypted (the bytes `dislocker-file -r` gives): its\n\
encrypted bytes are rescued into OUT.encrypted with the map; delete OUT.encrypted once a run ended with 0.\n\
Exit codes: 0 every byte rescued, 3 bytes remain unread (bad sectors, or a run stopped by a bound: run again to go on),\n\
2 interrupted while OUT was written decrypted, 11 bad options or map, no key opens the BitLocker volume,\n\
27 OUT or the map cannot be written, 61 the source cannot be read, 72 fatal.\n\
Reference: docs/commands/image.md")]
pub struct ImageArgs {
    /// The disk, partition or image file to copy (/dev/sdb, \\.\PhysicalDrive1, disk.img). Only read.
    pub source: PathBuf,
    /// The image file to write: a new one, or the one an earlier run with the same map began.
    pub out: PathBuf,
    /// Copy partition N of the source's partition table (GPT or MBR, numbered as Linux
    /// numbers them) rather than the whole source.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub partition: Option<u32>,
    /// Copy the bytes as they lie on the disk: a BitLocker volume stays encrypted.
    #[arg(long, conflicts_with_all = ["recovery_passwords", "startup_keys", "bitlocker_password", "keys_file"])]
    pub as_is: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
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
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Table(#[from] PartitionError),
    #[error("{disk}: no partition {n}; partitions found: {found}")]
    NoPartition { disk: String, n: u32, found: String },
    #[error(transparent)]
    Read(#[from] BlockError),
    /// No key given opens the volume (or none was given).
    #[error("{source}{protectors}")]
    Locked {
        source: BitLockerError,
        /// The volume's protectors and key IDs, when the error does not name them.
        protectors: String,
    },
    /// The volume is BitLocker's but cannot be read (damaged metadata, a method not known).
    #[error("{0}")]
    BitLocker(BitLockerError),
    #[error("{}: {} and its map hold a copy of the encrypted BitLocker volume: give --as-is to go on with it as it is, or rename it to {} to write the plain volume to it", out.display(), out.display(), side.display())]
    RawBegun { out: PathBuf, side: PathBuf },
    #[error(transparent)]
    Plain(#[from] PlainError),
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
    let keys = args.keys.keys()?;
    let disk = FileSource::open_direct(&args.source)?;
    let direct = disk.direct();
    let side = side_path(&args.out);
    check_places(args, map, &side)?;
    let source = choose(Arc::new(disk), args.partition)?;
    let (size, sector) = (source.size(), source.sector_size());
    let name = source.name().to_string();
    let mapfile = mapfile::read(map, size, sector)?;
    let resuming = mapfile.is_some();
    let raw_at = raw_path(args, resuming, &side)?;
    let store = open_out(&raw_at, map, resuming, size)?;
    let header = Header {
        program: format!("Lifeboat {}", crate::VERSION),
        command_line: command_line(),
        start: SystemTime::now(),
    };
    let rescuer = Rescuer::new(source, store, mapfile, options(args))?;
    let rescuer = Arc::new(rescuer.save_to(map.to_path_buf(), header));
    let mut screen = Screen::new(&args.source, &args.out, map, direct);
    let initial = rescuer.progress();
    let fresh = Fresh {
        side: &side,
        map,
        resuming,
    };
    let plan = match plan(args, &rescuer, &keys, &raw_at, &fresh) {
        Ok(p) => p,
        Err(e) => {
            drop(rescuer);
            fresh.clean_up();
            return Err(e);
        }
    };
    announce(&plan, &name, &side);
    screen.initial(&initial);
    let raised = relay_interrupt(rescuer.stop_flag());
    let end = rescuer.run(0..size, &mut |p| screen.show(p))?;
    let p = rescuer.progress();
    let mut all = p.bytes(Status::Finished) == size;
    let mut summary = screen.summary(&p, end, stop_hint(end, args.retries));
    if let Some(written) = decrypt(plan, &rescuer, &keys, &args.out, raised)? {
        all &= written.lost == 0;
        summary.push_str(&image_plain::summary(&written, &args.out, &side, map, all));
    }
    let code = if all { exit::OK } else { exit::SKIPPED };
    Ok((code, summary))
}

fn options(args: &ImageArgs) -> Options {
    Options {
        slow_read: (!args.slow_read.is_zero()).then_some(args.slow_read),
        read_timeout: args.read_timeout,
        retries: args.retries,
        max_passes: args.max_passes,
        max_time: args.max_time,
        ..Options::default()
    }
}

/// Ctrl-C raises a static flag (all a signal handler may touch); a thread passes it on to
/// the rescue, which stops after the read under way with the map saved.
fn relay_interrupt(stop: Arc<AtomicBool>) -> &'static AtomicBool {
    let raised = crate::platform::catch_interrupt();
    std::thread::spawn(move || loop {
        if raised.load(Ordering::Relaxed) {
            stop.store(true, Ordering::Relaxed);
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    });
    raised
}

/// What the plan means, told before the rescue.
fn announce(plan: &Plan, name: &str, side: &Path) {
    match plan {
        Plan::Decrypt(_) => say(&format!(
            "{name} is a BitLocker volume: its encrypted bytes are rescued into {}, then the image is written decrypted",
            side.display()
        )),
        Plan::Unknown => say(&format!(
            "{name}: its first sector did not read yet; the copy goes to {} until the rescue tells whether the volume is BitLocker's",
            side.display()
        )),
        Plan::Copy => {}
    }
}

/// After the rescue: OUT written decrypted from the copy, when the volume is BitLocker's.
fn decrypt(
    plan: Plan,
    rescuer: &Arc<Rescuer>,
    keys: &bitlocker::Keys,
    out: &Path,
    raised: &AtomicBool,
) -> Result<Option<image_plain::Written>, ImageError> {
    // From here on the disk is not read: what the rescue did not get reads as zeros.
    rescuer.set_time_budget(Some(Duration::ZERO));
    let unlocked = match plan {
        Plan::Copy => return Ok(None),
        Plan::Decrypt(Some(u)) => u,
        Plan::Unknown if !is_bitlocker(rescuer) => {
            place_copy(&side_path(out), out)?;
            return Ok(None);
        }
        Plan::Decrypt(None) | Plan::Unknown => Box::new(unlock(rescuer, keys)?),
    };
    Ok(Some(image_plain::write(&unlocked, out, raised)?))
}

/// The raw copy beside OUT, when the volume is BitLocker's.
fn side_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_os_string();
    s.push(".encrypted");
    PathBuf::from(s)
}

/// The whole source, or its partition `n`.
fn choose(disk: Source, n: Option<u32>) -> Result<Source, ImageError> {
    let Some(n) = n else { return Ok(disk) };
    let table = PartitionTable::read(&disk)?;
    let Some(p) = table.partitions.iter().find(|p| p.number == n) else {
        let mut found: Vec<String> = table
            .partitions
            .iter()
            .map(|p| {
                let kind = p.type_name().unwrap_or("type not known");
                format!("{} ({kind}, {} bytes at {})", p.number, p.size, p.offset)
            })
            .collect();
        if found.is_empty() {
            found.push(match table.kind {
                TableKind::None if table.problems.is_empty() => {
                    "none: the source is a volume, with no partition table; leave out --partition"
                        .into()
                }
                _ => "none".into(),
            });
        }
        found.extend(table.problems.iter().map(|p| format!("[{p}]")));
        return Err(ImageError::NoPartition {
            disk: disk.name().to_string(),
            n,
            found: found.join(", "),
        });
    };
    Ok(Arc::new(p.open(&disk)?))
}

/// Where the raw bytes are rescued to: OUT as it is (`--as-is`, or a run that began so);
/// else `OUT.encrypted`, renamed OUT once the volume is known not to be BitLocker's.
fn raw_path(args: &ImageArgs, resuming: bool, side: &Path) -> Result<PathBuf, ImageError> {
    if args.as_is || (resuming && !side.exists()) {
        return Ok(args.out.clone());
    }
    let out_has_data = std::fs::metadata(&args.out).is_ok_and(|m| m.len() > 0);
    if !resuming && out_has_data {
        return Err(ImageError::Out {
            out: args.out.clone(),
            problem: "holds data but there is no map: give its map, or a new file".into(),
        });
    }
    Ok(side.to_path_buf())
}

/// The files a first run made, removed when it cannot go on (no key opens the volume).
struct Fresh<'a> {
    side: &'a Path,
    map: &'a Path,
    resuming: bool,
}

impl Fresh<'_> {
    fn clean_up(&self) {
        if !self.resuming {
            let _ = std::fs::remove_file(self.side);
            let _ = std::fs::remove_file(self.map);
        }
    }
}

/// What happens after the rescue.
enum Plan {
    /// Nothing more: OUT is the copy (not BitLocker's, or `--as-is`).
    Copy,
    /// OUT is written decrypted, with the volume unlocked now or, when its metadata could
    /// not be read yet, after the rescue.
    Decrypt(Option<Box<Unlocked>>),
    /// The first sector did not read: the rescue goes on into the side file, and whether
    /// the volume is BitLocker's is read from the copy after it.
    Unknown,
}

/// Reads, through the rescue, whether the volume is BitLocker's and unlocks it; places the
/// raw copy.
fn plan(
    args: &ImageArgs,
    rescuer: &Arc<Rescuer>,
    keys: &bitlocker::Keys,
    raw_at: &Path,
    fresh: &Fresh,
) -> Result<Plan, ImageError> {
    if args.as_is {
        return Ok(Plan::Copy);
    }
    let is_side = raw_at == fresh.side;
    let probed = bitlocker::probe(&**rescuer);
    let unknown = matches!(probed, Err(BitLockerError::Read(_)));
    match probed {
        Ok(None) if is_side => {
            if std::fs::metadata(&args.out).is_ok_and(|m| m.len() > 0) {
                return Err(ImageError::Out {
                    out: args.out.clone(),
                    problem: format!(
                        "holds data, and {} is the copy of a volume that is not BitLocker's: move one of them away",
                        fresh.side.display()
                    ),
                });
            }
            place_copy(fresh.side, &args.out)?;
            Ok(Plan::Copy)
        }
        // A run that began as a copy goes on as one, unless the volume is BitLocker's.
        Ok(None) => Ok(Plan::Copy),
        Err(_) if unknown && !is_side => Ok(Plan::Copy),
        Err(_) if unknown => Ok(Plan::Unknown),
        Ok(Some(_)) | Err(_) if !is_side => Err(ImageError::RawBegun {
            out: args.out.clone(),
            side: fresh.side.to_path_buf(),
        }),
        Ok(Some(info)) => match unlock(rescuer, keys) {
            Ok(u) => Ok(Plan::Decrypt(Some(Box::new(u)))),
            Err(ImageError::Locked { source, .. }) => Err(ImageError::Locked {
                protectors: protectors_of(&source, &info),
                source,
            }),
            // Damage (a failing disk): rescue first, unlock from the copy after.
            Err(_) => Ok(Plan::Decrypt(None)),
        },
        // The header says BitLocker but its metadata did not read: rescue first.
        Err(_) => Ok(Plan::Decrypt(None)),
    }
}

/// After the rescue, of a volume whose first sector did not read before: whether it is
/// BitLocker's (or says so but is damaged). A first sector still lost counts as not.
fn is_bitlocker(rescuer: &Rescuer) -> bool {
    !matches!(
        bitlocker::probe(rescuer),
        Ok(None) | Err(BitLockerError::Read(_))
    )
}

/// The raw copy made beside OUT becomes OUT: the volume is not BitLocker's.
fn place_copy(side: &Path, out: &Path) -> Result<(), ImageError> {
    std::fs::rename(side, out).map_err(|e| ImageError::Out {
        out: out.to_path_buf(),
        problem: format!("cannot rename {} to it: {e}", side.display()),
    })
}

/// Opens the BitLocker volume read through the rescue.
fn unlock(rescuer: &Arc<Rescuer>, keys: &bitlocker::Keys) -> Result<Unlocked, ImageError> {
    let src: Source = rescuer.clone();
    bitlocker::unlock(src, keys).map_err(|e| match e {
        BitLockerError::NoKey { .. }
        | BitLockerError::TpmOnly { .. }
        | BitLockerError::NoMatchingProtector { .. }
        | BitLockerError::WrongKey { .. } => ImageError::Locked {
            source: e,
            protectors: String::new(),
        },
        e => ImageError::BitLocker(e),
    })
}

/// The protectors and key IDs, for an error that does not name them already.
fn protectors_of(e: &BitLockerError, info: &Info) -> String {
    if !matches!(e, BitLockerError::WrongKey { .. }) {
        return String::new();
    }
    let list: Vec<String> = info
        .protectors
        .iter()
        .map(|p| format!("{} (ID {}, {})", p.kind, p.id.short_id(), p.id))
        .collect();
    format!(". Its protectors: {}", list.join(", "))
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
fn check_places(args: &ImageArgs, map: &Path, side: &Path) -> Result<(), ImageError> {
    use crate::platform::{lies_on, same_file};
    let places = [
        (&args.out, "the image"),
        (&map.to_path_buf(), "the map"),
        (&side.to_path_buf(), "the encrypted copy"),
    ];
    for (path, what) in places {
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
    let same = |a: &Path, b: &Path| {
        same_file(a, b) || std::path::absolute(a).ok() == std::path::absolute(b).ok()
    };
    let clash = same(&args.out, map) || same(side, map);
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

/// The command as typed, for the map's heading, with the recovery passwords left out.
fn command_line() -> String {
    super::volume_args::redacted_args()
        .into_iter()
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
