//! A disk read through the rescue layer under everything else (`decrypt(rescue(disk))`):
//! what `--map MAP` gives detect, capture, auto and rules explain. The partition table,
//! the boot sectors, BitLocker's metadata, the MFT, the hives and the files are all read
//! with GNU ddrescue's discipline: each read bounded in time, a bad sector read once and
//! named, a good byte read from the disk once and kept.
//!
//! What it promises:
//! - **One map, one set of rescued bytes, shared with `lifeboat image`.** The bytes read
//!   good are kept in an image file at the disk's own offsets (`--rescue-image`, by
//!   default the map's name without `.map`: `lifeboat image DISK disk.img` keeps its map
//!   in `disk.img.map`, so `--map disk.img.map` finds `disk.img`). Either command goes on
//!   from what the other read, and neither reads a good sector twice.
//! - **A map is never trusted without its bytes**: a map that counts bytes rescued but
//!   whose image is missing or empty is refused, and so is an image with data but no map
//!   (nothing says which of its bytes were read).
//! - **The map is saved** every few seconds while the disk is read and when the run ends.
//! - **The source is only read**; the map and the image must be other files, not on the
//!   disk being read.
//! - **One disk per map**: a second disk given with the same map is refused by name.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use lifeboat_volume::block::{BlockSource, FileSource, Source};
use lifeboat_volume::rescue::{
    mapfile, Effort, Header, ImageFile, MapError, Options, RescueError, Rescuer, Status, Store,
};

/// How the map is saved while a capture reads: often, since a capture reads in small
/// pieces for long, and a dying disk may take the machine down with it.
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// What the technician asked: where the map and the rescued bytes are, and the bounds.
#[derive(Debug, Clone)]
pub struct RescueSpec {
    pub map: PathBuf,
    /// Where the rescued bytes are kept (`None`: beside the map, see [`store_path`]).
    pub image: Option<PathBuf>,
    /// Time the reads of the disk may take in all; past it, what is not yet read is lost.
    pub max_time: Option<Duration>,
    /// A read the disk has not answered in this long counts as failed.
    pub read_timeout: Duration,
    /// The command as it may be recorded (no secret), for the map's heading.
    pub command_line: String,
}

/// Why a disk cannot be read through the rescue layer.
#[derive(Debug, thiserror::Error)]
pub enum RescueOpenError {
    #[error(transparent)]
    Open(#[from] lifeboat_volume::block::OpenError),
    #[error("{}: {what} is the disk being read itself; give another file", path.display())]
    IsSource { path: PathBuf, what: &'static str },
    #[error("{}: lies on {}, the disk being read: keep it on another disk", path.display(), device.display())]
    OnSource { path: PathBuf, device: PathBuf },
    #[error("{}: the map and the rescued image must be two files", path.display())]
    MapIsImage { path: PathBuf },
    #[error("--map {}: it serves {} already; give one disk with --map", map.display(), first.display())]
    SecondDisk { map: PathBuf, first: PathBuf },
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("{}: {problem}", image.display())]
    Image { image: PathBuf, problem: String },
    #[error(transparent)]
    Rescue(#[from] RescueError),
}

/// The rescued disk of a run, opened at its first use and shared by every scan after it
/// (detect runs again when keys are asked): one rescuer per map.
pub struct Rescue {
    spec: RescueSpec,
    opened: Mutex<Option<(PathBuf, Arc<Rescuer>)>>,
}

impl std::fmt::Debug for Rescue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rescue").field("spec", &self.spec).finish()
    }
}

impl Rescue {
    pub fn new(spec: RescueSpec) -> Rescue {
        Rescue {
            spec,
            opened: Mutex::new(None),
        }
    }

    /// `disk` read through the rescue layer: the one opened before for it, or a new one
    /// going on from the map.
    pub fn source(&self, disk: &Path) -> Result<Source, RescueOpenError> {
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((first, rescuer)) = opened.as_ref() {
            if first == disk || crate::platform::same_file(first, disk) {
                return Ok(rescuer.clone());
            }
            return Err(RescueOpenError::SecondDisk {
                map: self.spec.map.clone(),
                first: first.clone(),
            });
        }
        let rescuer = Arc::new(self.open(disk)?);
        *opened = Some((disk.to_path_buf(), rescuer.clone()));
        Ok(rescuer)
    }

    fn open(&self, disk: &Path) -> Result<Rescuer, RescueOpenError> {
        let source = FileSource::open_direct(disk)?;
        let map = &self.spec.map;
        let image = store_path(map, self.spec.image.as_deref());
        check_places(disk, map, &image)?;
        let (size, sector) = (source.size(), source.sector_size());
        let mapfile = mapfile::read(map, size, sector)?;
        let store = open_store(&image, map, mapfile.is_some(), size)
            .map_err(|problem| RescueOpenError::Image { image, problem })?;
        let options = Options {
            read_timeout: self.spec.read_timeout,
            max_time: self.spec.max_time,
            save_interval: SAVE_EVERY,
            // A capture asks for what it needs, file by file: what failed in a cluster
            // read is trimmed from both edges of the request, so a file loses only its
            // bad area and its neighbours on the same cluster nothing, while a large bad
            // area costs a few failed reads, not one per sector (the disk may take
            // seconds over each). `lifeboat image` with the same map scrapes the rest.
            effort: Effort::Trim,
            ..Options::default()
        };
        let header = Header {
            program: format!("Lifeboat {}", crate::VERSION),
            command_line: self.spec.command_line.clone(),
            start: SystemTime::now(),
        };
        let rescuer = Rescuer::new(Arc::new(source), store, mapfile, options)?;
        Ok(rescuer.save_to(map.clone(), header))
    }

    /// Saves the map and says where the rescue stands: `None` when no disk was read
    /// through it. Called at the end of a run (and when the last user of it goes).
    pub fn finish(&self) -> Option<Result<String, RescueError>> {
        let opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        let (disk, rescuer) = opened.as_ref()?;
        Some(rescuer.save().map(|()| {
            let p = rescuer.progress();
            let spent = self.spec.max_time.is_some_and(|t| p.run_time >= t);
            format!(
                "{}: {} bytes of {} rescued, {} bytes in {} bad areas, {} bytes not tried; map {}{}",
                disk.display(),
                p.bytes(Status::Finished),
                p.size,
                p.bytes(Status::BadSector)
                    + p.bytes(Status::NonTrimmed)
                    + p.bytes(Status::NonScraped),
                p.bad_areas,
                p.bytes(Status::NonTried),
                self.spec.map.display(),
                if spent {
                    "\n  --rescue-time ran out: what was not read in time is named lost; the same command again reads the rest (nothing read is read again)"
                } else {
                    ""
                }
            )
        }))
    }
}

impl Drop for Rescue {
    fn drop(&mut self) {
        if let Some(Err(e)) = self.finish() {
            crate::console::say(&format!("warning: the rescue map could not be saved: {e}"));
        }
    }
}

/// Where the rescued bytes are kept: `image` when given, else the map's path without its
/// `.map` ending (`lifeboat image`'s default pairing), or with `.img` added when it has
/// none. When `lifeboat image` wrote that image decrypted, the map belongs to the raw
/// copy it keeps beside it, `IMAGE.encrypted`: that copy is the store.
pub fn store_path(map: &Path, image: Option<&Path>) -> PathBuf {
    let paired = match image {
        Some(i) => i.to_path_buf(),
        None => {
            let s = map.as_os_str().to_string_lossy();
            match s.strip_suffix(".map").filter(|stem| !stem.is_empty()) {
                Some(stem) if !stem.ends_with(['/', '\\']) => PathBuf::from(stem),
                _ => {
                    let mut p = map.as_os_str().to_os_string();
                    p.push(".img");
                    PathBuf::from(p)
                }
            }
        }
    };
    let mut raw = paired.as_os_str().to_os_string();
    raw.push(".encrypted");
    let raw = PathBuf::from(raw);
    if raw.is_file() {
        raw
    } else {
        paired
    }
}

/// The source is only read: the map and the image must be other files, not on it.
fn check_places(disk: &Path, map: &Path, image: &Path) -> Result<(), RescueOpenError> {
    use crate::platform::{lies_on, same_file};
    for (path, what) in [(map, "the map"), (image, "the rescued image")] {
        if same_file(path, disk) {
            return Err(RescueOpenError::IsSource {
                path: path.to_path_buf(),
                what,
            });
        }
        if lies_on(path, disk) {
            return Err(RescueOpenError::OnSource {
                path: path.to_path_buf(),
                device: disk.to_path_buf(),
            });
        }
    }
    if same_file(image, map) || std::path::absolute(image).ok() == std::path::absolute(map).ok() {
        return Err(RescueOpenError::MapIsImage {
            path: map.to_path_buf(),
        });
    }
    Ok(())
}

/// The image that keeps the rescued bytes: a new one with a new map; the one an earlier
/// run began with an existing map. An image with data but no map is refused, and so is a
/// map without its image: nothing would say which bytes are real. The error is the
/// problem, to be named with the image's path.
pub fn open_store(
    image: &Path,
    map: &Path,
    resuming: bool,
    size: u64,
) -> Result<Arc<dyn Store>, String> {
    let meta = std::fs::metadata(image).ok();
    if meta.as_ref().is_some_and(|m| !m.is_file()) {
        return Err("not a regular file: the image is written to a file".into());
    }
    let has_data = meta.is_some_and(|m| m.len() > 0);
    let opened = match (resuming, has_data) {
        (true, true) => ImageFile::resume(image, size),
        (false, false) => ImageFile::create(image, size),
        (true, false) => {
            return Err(format!(
                "missing or empty, but the map {} says what was rescued into it: give the image that map belongs to, or a new map",
                map.display()
            ))
        }
        (false, true) => {
            return Err(format!(
                "holds data but there is no map {}: give its map, or a new file",
                map.display()
            ))
        }
    };
    Ok(Arc::new(opened.map_err(|e| e.to_string())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_pairs_with_lifeboat_images_default_map() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(store_path(&p("/r/disk.img.map"), None), p("/r/disk.img"));
        assert_eq!(
            store_path(&p("/r/rescue.log"), None),
            p("/r/rescue.log.img")
        );
        assert_eq!(store_path(&p("/r/.map"), None), p("/r/.map.img"));
        assert_eq!(store_path(&p(".map"), None), p(".map.img"));
        assert_eq!(store_path(&p("m.map"), Some(&p("/x/o"))), p("/x/o"));
    }

    #[test]
    fn a_decrypted_image_gives_way_to_the_raw_copy_its_map_belongs_to() {
        let dir = tempfile::tempdir().unwrap();
        let (out, map) = (dir.path().join("c.img"), dir.path().join("c.img.map"));
        std::fs::write(&out, b"plain").unwrap();
        assert_eq!(store_path(&map, None), out);
        let raw = dir.path().join("c.img.encrypted");
        std::fs::write(&raw, b"raw").unwrap();
        assert_eq!(store_path(&map, None), raw);
        assert_eq!(store_path(&map, Some(&out)), raw);
    }

    #[test]
    fn a_map_without_its_image_and_an_image_without_its_map_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (img, map) = (dir.path().join("d.img"), dir.path().join("d.img.map"));
        let e = open_store(&img, &map, true, 4096).err().unwrap();
        assert!(e.contains("missing or empty"), "{e}");
        std::fs::write(&img, b"data").unwrap();
        let e = open_store(&img, &map, false, 4096).err().unwrap();
        assert!(e.contains("no map"), "{e}");
        assert!(open_store(&img, &map, true, 4096).is_ok());
    }
}
