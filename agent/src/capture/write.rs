//! The plan's files into `files.wim`, in one pass: each taken file read once from its
//! volume ([`crate::volume`]: a host folder or Lifeboat's own NTFS reader), hashed while
//! it is written by Lifeboat's WIM writer ([`crate::wim::writer`]), which compresses on
//! every core. Files go in the order their data lies on the disk where the volume knows it
//! (a spinning or failing disk pays for every seek), a user's documents, desktop and
//! pictures before the rest of the profile. The image carries each file's data, named
//! streams, reparse data, hard links as one inode, times, attributes and security
//! descriptors where the volume has them, and each folder walked with its own metadata.
//!
//! A file that cannot be read, or changes while it is read, is left out of the image and
//! recorded as skipped (the capture stops there without `--continue`); a file whose disk
//! lost some of its bytes is kept with zeros there and recorded as damaged, with the
//! byte ranges lost, or left out with `--damaged skip`.

use std::io::Read;
use std::ops::Range;
use std::time::Instant;

use super::{image_path, progress, seconds, CaptureOptions, Log, WriteStop};
use crate::plan::{FileRef, PassPlan, SkipKind, Skipped};
use crate::shown::Shown;
use crate::store::manifest::{Damaged, UserRecord};
use crate::volume::{FileData, Meta, Place, Problem, VolumeError};
use crate::wim::writer::{self, Data, Entry, NamedStream, Reparse, Times, WimWriter};

/// What to do with a file whose disk lost some of its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DamagedFiles {
    /// Keep it, zeros standing for the bytes lost, and name it with the ranges lost.
    #[default]
    Keep,
    /// Leave it out, and name it.
    Skip,
}

/// The known folders a user looks for first: on a failing disk they are read first.
const FIRST: &[&str] = &["Personal", "Desktop", "My Pictures"];

/// Writes one image for a pass with files; the record says what it holds.
pub(super) fn write_pass(
    w: &mut WimWriter,
    p: &PassPlan,
    rec: &mut UserRecord,
    opts: &CaptureOptions,
    reporter: &mut progress::Reporter,
    done: &mut u64,
    log: &mut Log,
) -> Result<(), WriteStop> {
    let started = Instant::now();
    for (win, place) in p.files.folders() {
        add_folder(w, win, place);
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    for f in in_read_order(p).into_iter().filter_map(|i| p.files.get(i)) {
        match add_file(w, &f, opts) {
            Ok(Outcome::Added { size, damaged }) => {
                files += 1;
                bytes += size;
                if let Some(d) = damaged {
                    log.say(format!("damaged {}: {d}", Shown(&d.path)));
                    rec.damaged.push(d);
                }
            }
            Ok(Outcome::Left(s)) => {
                if opts.stops_on(&s) {
                    return Err(WriteStop::Stopped(format!(
                        "{} ({}): {}",
                        s.path, p.name, s.reason
                    )));
                }
                rec.skipped.push((&s).into());
            }
            Err(fatal) => return Err(WriteStop::Failed(fatal.to_string())),
        }
        *done += f.size();
        reporter.update(*done, 0);
    }
    rec.files = files;
    rec.bytes = bytes;
    log.say(format!(
        "image \"{}\": {files} files, {bytes} bytes, read and written in {}",
        rec.wim_image_name.as_deref().unwrap_or(""),
        seconds(started)
    ));
    Ok(())
}

/// The files of a pass (their indexes in the list) in the order they are read: a user's
/// documents, desktop and pictures first, then the rest; within each, by where the data
/// lies on the disk (walk order for a volume that does not say). Decided folder by folder,
/// 4 bytes a file.
fn in_read_order(p: &PassPlan) -> Vec<u32> {
    let first: Vec<String> = p
        .folders
        .iter()
        .flat_map(|f| FIRST.iter().filter_map(|k| f.known.get(*k)))
        .map(|d| format!("{}\\", d.trim_end_matches('\\').to_lowercase()))
        .collect();
    // A file lies below a known folder when its folder's path with a `\` does (its own
    // name holds no `\`).
    p.files.read_order(|dir| {
        let dir = crate::plan::files::join_win(dir, "").to_lowercase();
        first.iter().any(|d| dir.starts_with(d.as_str()))
    })
}

/// A Windows path's components in the image: `C:\Users\ann` → `C`, `Users`, `ann`, of
/// its image path ([`image_path`]).
fn components(image_path: &str) -> Vec<&str> {
    image_path.split('\\').filter(|c| !c.is_empty()).collect()
}

/// A folder on the way to the taken files, with its own times, attributes and security
/// descriptor. What cannot be read of it is left to the writer's defaults: the files
/// below it are what matters.
fn add_folder(w: &mut WimWriter, win: &str, place: &Place) {
    let path = image_path(win);
    let parts = components(&path);
    let mut entry = Entry::folder(&parts);
    let meta = place.meta().ok();
    let extras = place.extras().unwrap_or_default();
    if let Some(m) = &meta {
        entry.attributes = m.attributes;
        entry.times = times(m);
    }
    entry.security = extras.security.as_deref();
    let _ = w.add(entry);
}

fn times(m: &Meta) -> Times {
    m.times.map_or(Times::default(), |t| Times {
        creation: t.created,
        last_access: t.accessed,
        last_write: t.written,
    })
}

enum Outcome {
    Added { size: u64, damaged: Option<Damaged> },
    Left(Skipped),
}

/// One file into the image; a fatal writer error is returned, anything else about the
/// file is its outcome.
fn add_file(
    w: &mut WimWriter,
    f: &FileRef<'_>,
    opts: &CaptureOptions,
) -> Result<Outcome, writer::Error> {
    let win = f.win();
    let place = f.place();
    let left = |kind, reason: String| Ok(Outcome::Left(Skipped::new(&win, kind, reason)));
    // The file is opened first: a host file's handle says what it is (no second look by
    // path), another volume is asked.
    let data = match place.open() {
        Ok(d) => d,
        Err(e) => return left(gone(&e).unwrap_or(SkipKind::Unreadable), unopened(&e)),
    };
    let meta = match data.meta() {
        Some(m) => m.clone(),
        None => match place.meta() {
            Ok(m) => m,
            Err(e) => return left(gone(&e).unwrap_or(SkipKind::Unreadable), unopened(&e)),
        },
    };
    if !meta.is_file() {
        return left(SkipKind::Vanished, NO_LONGER_A_FILE.into());
    }
    let extras = match place.extras() {
        Ok(x) => x,
        Err(e) => {
            return left(
                SkipKind::Unreadable,
                format!("cannot be read: {}", e.problem),
            )
        }
    };
    let mut named_data = Vec::new();
    for (name, _) in &extras.streams {
        match place.open_stream(name) {
            Ok(d) => named_data.push((name.as_str(), d)),
            Err(e) => {
                return left(
                    SkipKind::Unreadable,
                    format!("its stream {name} cannot be read: {}", e.problem),
                )
            }
        }
    }
    let path = image_path(&win);
    let parts = components(&path);
    let size = data.len();
    let mut reader = Reader::new(data.as_ref(), opts.damaged);
    let mut named_readers: Vec<(&str, Reader<'_>)> = named_data
        .iter()
        .map(|(n, d)| (*n, Reader::new(d.as_ref(), opts.damaged)))
        .collect();
    let mut entry = Entry::file(
        &parts,
        Data {
            size,
            reader: &mut reader,
        },
    );
    entry.attributes = meta.attributes;
    entry.times = times(&meta);
    entry.security = extras.security.as_deref();
    entry.reparse = extras.reparse.as_deref().and_then(reparse);
    entry.link = (meta.links > 1).then_some(meta.file_id).flatten();
    entry.named = named_readers
        .iter_mut()
        .map(|(name, r)| NamedStream {
            name,
            data: Data {
                size: r.len(),
                reader: r,
            },
        })
        .collect();
    match w.add(entry) {
        Ok(_) => {}
        Err(e) if e.is_fatal() => return Err(e),
        Err(e) => return left(left_kind(&e), left_reason(&e, &reader)),
    }
    let damaged = (!reader.lost.is_empty()).then(|| Damaged {
        path: win.clone(),
        lost: reader.lost.iter().map(|r| [r.start, r.end]).collect(),
    });
    Ok(Outcome::Added { size, damaged })
}

const NO_LONGER_A_FILE: &str = "is no longer a file";

/// Whether a file that cannot be opened is gone or no longer a file since the walk.
fn gone(e: &VolumeError) -> Option<SkipKind> {
    (e.is_not_found() || matches!(e.problem, Problem::NotRegular(_))).then_some(SkipKind::Vanished)
}

/// Why a file could not be opened or described, in words for the manifest.
fn unopened(e: &VolumeError) -> String {
    if e.is_not_found() {
        "was there when the folders were walked and gone when it was captured".into()
    } else if matches!(e.problem, Problem::NotRegular(_)) {
        NO_LONGER_A_FILE.into()
    } else {
        format!("cannot be read: {}", e.problem)
    }
}

/// A reparse buffer as the writer takes it: tag, reserved, and the data after the 8-byte
/// header. A buffer too short for its header is not carried.
fn reparse(buf: &[u8]) -> Option<Reparse<'_>> {
    Some(Reparse {
        tag: crate::le::u32_at(buf, 0)?,
        reserved: crate::le::u16_at(buf, 6)?,
        data: buf.get(8..)?,
    })
}

fn left_kind(e: &writer::Error) -> SkipKind {
    match e {
        writer::Error::SizeChanged { .. } => SkipKind::Vanished,
        _ => SkipKind::Unreadable,
    }
}

fn left_reason(e: &writer::Error, r: &Reader<'_>) -> String {
    match (e, &r.refused) {
        (writer::Error::Read { .. }, Some(why)) => why.clone(),
        (writer::Error::SizeChanged { .. }, _) => {
            "changed while it was read (its size is not what it was): left out".into()
        }
        _ => format!("not captured: {e}"),
    }
}

/// A file's stream as the writer pulls it: reads at increasing offsets, and the byte
/// ranges its disk lost (zeros stand in for them), or a refusal when damaged files are
/// left out.
struct Reader<'a> {
    data: &'a dyn FileData,
    at: u64,
    policy: DamagedFiles,
    lost: Vec<Range<u64>>,
    /// Why the read was refused, in words for the manifest.
    refused: Option<String>,
}

impl<'a> Reader<'a> {
    fn new(data: &'a dyn FileData, policy: DamagedFiles) -> Reader<'a> {
        Reader {
            data,
            at: 0,
            policy,
            lost: Vec::new(),
            refused: None,
        }
    }

    fn len(&self) -> u64 {
        self.data.len()
    }
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.data.len().saturating_sub(self.at);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        match self.data.read_at(self.at, &mut buf[..n]) {
            Ok(()) => {}
            Err(e) => match e.problem {
                Problem::Damaged(lost) if self.policy == DamagedFiles::Keep => {
                    self.lost.extend(lost);
                }
                Problem::Damaged(lost) => {
                    let bytes: u64 = lost.iter().map(|r| r.end - r.start).sum();
                    let why =
                        format!("{bytes} bytes lie on bad sectors: left out (--damaged skip)");
                    self.refused = Some(why.clone());
                    return Err(std::io::Error::other(why));
                }
                other => {
                    let why = format!("cannot be read: {other}");
                    self.refused = Some(why.clone());
                    return Err(std::io::Error::other(why));
                }
            },
        }
        self.at += n as u64;
        Ok(n)
    }
}
