//! Files: each entry of a user's image mapped to its new place, compared with what is there
//! (identical content is never duplicated), decided by the conflict policy, extracted by
//! wimlib into a staging folder inside the target profile (same volume, so placing is a
//! rename) and moved into place. Timestamps and attributes come with the file; the folder's
//! inherited security is given to it by the target ([`super::Target::adopt`]).

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use super::helpers::Helpers;
use super::paths::{Rebase, UnsafePath};
use super::plan::{self, Root};
use super::report::UserReport;
use super::trust::{Refused, STAGING_PREFIX};
use super::{disk_of, ConflictPolicy, RestoreError, RestoreOptions, Room, Target, TargetUser};
use crate::limits::{RESTORE_ENTRY_BYTES, RESTORE_MAX_FILES, RESTORE_RENAME_MAX};
use crate::platform;
use crate::store::manifest::UserRecord;
use crate::wim::{Entry, Wim, WimError};

/// Why a file of the store is not restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason", content = "detail")]
pub enum SkipReason {
    /// A link or junction in the image: never recreated.
    Link,
    /// A path that could leave its folder.
    UnsafePath(UnsafePath),
    /// Not in a user's folders, and no `--other-files-to`.
    MachinePath,
    /// The new place has no host path (a drive the target does not have).
    NoPlace,
    /// A link or junction on the new machine stands in the way.
    LinkInTheWay,
    /// `name (1).ext` … all taken.
    NoFreeName,
    /// MigXML's `NeverRestore()`: stored, never applied.
    NeverRestore,
    /// Outside what a store may write ([`super::trust`]): a hive, Lifeboat's own file, a
    /// name Windows cannot use.
    Refused(Refused),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Link => f.write_str("a link or junction; links are never restored"),
            SkipReason::UnsafePath(why) => write!(f, "unsafe path in the store ({why})"),
            SkipReason::MachinePath => f.write_str(
                "not in the user's folders: give --other-files-to DIR to restore such files",
            ),
            SkipReason::NoPlace => f.write_str("its drive does not exist here"),
            SkipReason::LinkInTheWay => {
                f.write_str("a link or junction on this machine is in the way")
            }
            SkipReason::NoFreeName => f.write_str("no free name (N) left for it"),
            SkipReason::NeverRestore => f.write_str("the rules say NeverRestore()"),
            SkipReason::Refused(why) => write!(f, "refused: {why}"),
        }
    }
}

/// What happened (or, in a dry run, would happen) to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum Action {
    /// Placed where nothing was.
    Restored,
    /// Placed as `name (N).ext` beside a different file of the same name.
    Renamed,
    /// Replaced the file there (`overwrite`, `newer`, SourcePriority).
    Overwritten,
    /// The same content is already there.
    Unchanged,
    /// The file there stays (`keep`, `newer`, DestinationPriority).
    Kept,
    Skipped {
        why: SkipReason,
    },
    Failed {
        error: String,
    },
}

/// One file's outcome, for the report, `--list-files` and `--json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileOutcome {
    /// Where it was on the old machine.
    pub from: String,
    /// Where it is (or goes) now.
    pub to: Option<PathBuf>,
    pub bytes: u64,
    #[serde(flatten)]
    pub action: Action,
}

pub struct Job<'a> {
    pub wim: &'a mut Option<Wim>,
    pub record: &'a UserRecord,
    /// None for the machine's files (they go below `--other-files-to` only).
    pub user: Option<&'a TargetUser>,
    pub target: &'a dyn Target,
    pub rebase: &'a Rebase,
    pub helpers: &'a Helpers,
    pub opts: &'a RestoreOptions,
}

/// A file to place, before the decision is carried out.
struct Planned {
    entry: Entry,
    from: String,
    /// The folder it is placed below (a known folder, the profile, `--other-files-to`).
    root: PathBuf,
    dest: PathBuf,
    todo: Todo,
}

enum Todo {
    Place,
    Replace,
    Rename(PathBuf),
    Done(Action),
}

pub fn restore_user(job: &mut Job<'_>, report: &mut UserReport) -> Result<(), RestoreError> {
    let Some(image) = job.record.wim_image else {
        return Ok(());
    };
    let Some(wim) = job.wim.as_mut() else {
        return Ok(());
    };
    let entries = wim
        .iterate(image, "")
        .map_err(crate::store::StoreError::from)?;
    if entries.len() > RESTORE_MAX_FILES {
        return Err(crate::store::StoreError::Damaged {
            dir: job.opts.store.clone(),
            what: format!(
                "image {image} holds {} entries, more than a restore takes ({RESTORE_MAX_FILES})",
                entries.len()
            ),
        }
        .into());
    }
    let mut claimed = HashSet::new();
    let planned: Vec<Planned> = entries
        .into_iter()
        .filter(|e| !e.is_dir || e.reparse_tag != 0)
        .map(|e| plan_one(job, e, &mut claimed))
        .collect();
    carry_out(job, image, planned, report)
}

/// The machine's files (Public, ProgramData, other folders): below `--other-files-to` only.
pub fn restore_machine(
    wim: &mut Option<Wim>,
    record: &UserRecord,
    target: &dyn Target,
    opts: &RestoreOptions,
    report: &mut UserReport,
) -> Result<(), RestoreError> {
    let rebase = Rebase::default();
    // No user's variables on either side: only moves written with literal paths apply.
    let none = Default::default();
    let helpers = Helpers::new(
        &record.restore,
        &super::helpers::Sides {
            source: &none,
            target: &none,
            rebase: &rebase,
        },
    );
    report.helpers_not_applied = helpers.not_applied.clone();
    restore_user(
        &mut Job {
            wim,
            record,
            user: None,
            target,
            rebase: &rebase,
            helpers: &helpers,
            opts,
        },
        report,
    )
}

fn done(entry: Entry, from: String, action: Action) -> Planned {
    Planned {
        entry,
        from,
        root: PathBuf::new(),
        dest: PathBuf::new(),
        todo: Todo::Done(action),
    }
}

fn skip(why: SkipReason) -> Action {
    Action::Skipped { why }
}

fn plan_one(job: &Job<'_>, entry: Entry, claimed: &mut HashSet<String>) -> Planned {
    let ctx = plan::Ctx {
        rebase: job.rebase,
        helpers: job.helpers,
        other_files: job.opts.other_files_to.is_some(),
    };
    let plan = plan::file(&ctx, &entry.path, entry.reparse_tag != 0);
    let from = plan.from;
    let place = match plan.place {
        Ok(p) => p,
        Err(why) => return done(entry, from, skip(why)),
    };
    let root = match (&place.root, &job.opts.other_files_to) {
        (Root::Target(prefix), _) => match job.target.host_path(prefix) {
            Some(root) => root,
            None => return done(entry, from, skip(SkipReason::NoPlace)),
        },
        (Root::OtherFiles, Some(dir)) => dir.clone(),
        (Root::OtherFiles, None) => return done(entry, from, skip(SkipReason::MachinePath)),
    };
    let parts: Vec<&str> = place.names.iter().map(String::as_str).collect();
    let dest: PathBuf = parts.iter().fold(root.clone(), |p, c| p.join(c));
    if link_on_the_way(&root, &parts) {
        return done(entry, from, skip(SkipReason::LinkInTheWay));
    }
    let policy = place.policy.unwrap_or(job.opts.on_conflict);
    let todo = decide(&entry, &dest, policy, claimed);
    claimed.insert(claim(match &todo {
        Todo::Rename(p) => p,
        _ => &dest,
    }));
    Planned {
        entry,
        from,
        root,
        dest,
        todo,
    }
}

/// The key two places of one restore collide on: Windows does not tell names apart by
/// case, so `a.txt` and `A.TXT` of a store are one place (the second is renamed).
fn claim(p: &Path) -> String {
    p.to_string_lossy().to_lowercase()
}

/// A link (symlink, junction) among the existing folders below `root` on the way to a file.
fn link_on_the_way(root: &Path, parts: &[&str]) -> bool {
    let mut cur = root.to_path_buf();
    for p in parts {
        cur.push(p);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

fn decide(entry: &Entry, dest: &Path, policy: ConflictPolicy, claimed: &HashSet<String>) -> Todo {
    let there = std::fs::symlink_metadata(dest);
    let Ok(meta) = there else {
        return if claimed.contains(&claim(dest)) {
            renamed(entry, dest, claimed)
        } else {
            Todo::Place
        };
    };
    let is_file = meta.file_type().is_file();
    if is_file && same_content(dest, entry) {
        return Todo::Done(Action::Unchanged);
    }
    match policy {
        ConflictPolicy::Keep => Todo::Done(Action::Kept),
        ConflictPolicy::Overwrite if is_file => Todo::Replace,
        ConflictPolicy::Newer if is_file => {
            let there = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64)
                .unwrap_or(i64::MIN);
            if entry.last_write_unix > there {
                Todo::Replace
            } else {
                Todo::Done(Action::Kept)
            }
        }
        _ => renamed(entry, dest, claimed),
    }
}

/// `name (N).ext`: the first free one, unless one of them already holds this content (a
/// second restore then changes nothing).
fn renamed(entry: &Entry, dest: &Path, claimed: &HashSet<String>) -> Todo {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    for n in 1..=RESTORE_RENAME_MAX {
        let candidate = dest.with_file_name(format!("{stem} ({n}){ext}"));
        match std::fs::symlink_metadata(&candidate) {
            Err(_) if !claimed.contains(&claim(&candidate)) => return Todo::Rename(candidate),
            Err(_) => {}
            Ok(m) if m.file_type().is_file() && same_content(&candidate, entry) => {
                return Todo::Done(Action::Unchanged)
            }
            Ok(_) => {}
        }
    }
    Todo::Done(skip(SkipReason::NoFreeName))
}

/// Same size and the same SHA-1 as the image says the file has.
fn same_content(path: &Path, entry: &Entry) -> bool {
    let Ok((mut file, size)) = crate::fsread::open_regular(path) else {
        return false;
    };
    if size != entry.size {
        return false;
    }
    let Some(want) = entry.sha1 else {
        return size == 0;
    };
    let mut h = Sha1::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(_) => return false,
        }
    }
    h.finalize().as_slice() == want
}

fn carry_out(
    job: &mut Job<'_>,
    image: u32,
    planned: Vec<Planned>,
    report: &mut UserReport,
) -> Result<(), RestoreError> {
    let needed: Vec<&Planned> = planned
        .iter()
        .filter(|p| !matches!(p.todo, Todo::Done(_)))
        .collect();
    let stage_parent = match (job.user, &job.opts.other_files_to) {
        (Some(u), _) => u.profile_host.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => PathBuf::new(),
    };
    let stage = if needed.is_empty() || job.opts.dry_run {
        None
    } else {
        Some(extract(job, image, &needed, &stage_parent)?)
    };
    for p in &planned {
        let action = match (&p.todo, &stage) {
            (Todo::Done(a), _) => a.clone(),
            (todo, None) => dry_action(todo),
            (todo, Some(stage)) => match place(job, p, todo, &stage.path) {
                Ok(a) => a,
                Err(PlaceError::Disk(e)) => return Err(e),
                Err(PlaceError::File(e)) if job.opts.continue_on_error => {
                    Action::Failed { error: e }
                }
                Err(PlaceError::File(e)) => {
                    return Err(RestoreError::Stopped {
                        path: p.dest.clone(),
                        reason: e,
                    })
                }
            },
        };
        let to = match (&p.todo, &action) {
            (Todo::Rename(n), Action::Renamed) => Some(n.clone()),
            (_, Action::Skipped { .. }) => None,
            _ => Some(p.dest.clone()),
        };
        report.file(FileOutcome {
            from: p.from.clone(),
            to,
            bytes: p.entry.size,
            action,
        });
    }
    Ok(())
}

fn dry_action(todo: &Todo) -> Action {
    match todo {
        Todo::Place => Action::Restored,
        Todo::Replace => Action::Overwritten,
        Todo::Rename(_) => Action::Renamed,
        Todo::Done(a) => a.clone(),
    }
}

/// The staging folder, removed when dropped.
struct Stage {
    path: PathBuf,
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Extracts what must be written into a fresh staging folder beside the files' new place,
/// once every disk it touches has room for it.
fn extract(
    job: &mut Job<'_>,
    image: u32,
    needed: &[&Planned],
    parent: &Path,
) -> Result<Stage, RestoreError> {
    std::fs::create_dir_all(parent).map_err(|e| RestoreError::io(parent, e))?;
    check_room(parent, needed)?;
    let path = parent.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_dir() => {
            std::fs::remove_dir_all(&path).map_err(|e| RestoreError::io(&path, e))?
        }
        Ok(_) => std::fs::remove_file(&path).map_err(|e| RestoreError::io(&path, e))?,
        Err(_) => {}
    }
    std::fs::create_dir(&path).map_err(|e| RestoreError::io(&path, e))?;
    let stage = Stage { path };
    let total = job.record.files.max(needed.len() as u64);
    let whole = needed.len() as u64 == total;
    let list: Vec<&str> = needed.iter().map(|p| p.entry.path.as_str()).collect();
    let need: u64 = needed.iter().map(|p| p.entry.size).sum();
    let mut bar = crate::progress::Reporter::new(need, needed.len() as u64, job.opts.quiet);
    let mut on = |pr: crate::wim::Progress| bar.update(pr.bytes_done, pr.bytes_total);
    let Some(wim) = job.wim.as_mut() else {
        return Ok(stage);
    };
    wim.extract_for_restore(
        image,
        if whole { None } else { Some(&list) },
        &stage.path,
        Some(&mut on),
    )
    .map_err(|e| extraction_failed(e, &stage.path))?;
    bar.finish();
    Ok(stage)
}

/// An extraction that failed: writing on the target (a full disk, a folder that cannot be
/// made) stops the restore naming the disk; anything else is the store's (it verified, so
/// it was changed or became unreadable since).
fn extraction_failed(e: WimError, stage: &Path) -> RestoreError {
    if !e.is_write_failure() {
        return crate::store::StoreError::from(e).into();
    }
    let disk = disk_of(stage);
    let errno_full = e.os_error().is_some_and(|o| platform::is_out_of_space(&o));
    let measured_full = platform::space(&disk).is_ok_and(|s| s.available < s.block);
    if errno_full || measured_full {
        RestoreError::DiskFull {
            disk,
            path: stage.to_path_buf(),
        }
    } else {
        RestoreError::TargetWrite {
            disk,
            path: stage.to_path_buf(),
            reason: e.to_string(),
        }
    }
}

/// What the files to write take on each disk they touch, as its file system counts: each
/// file rounded up to whole blocks, an entry for each file and each folder made, and the
/// folders' own blocks. The staging folder holds every file at once on `stage`'s disk;
/// files whose place is on another disk are copied there from it.
fn check_room(stage: &Path, needed: &[&Planned]) -> Result<(), RestoreError> {
    let stage_disk = disk_of(stage);
    let mut disks: BTreeMap<PathBuf, (PathBuf, Vec<u64>, u64)> = BTreeMap::new();
    let staged_dirs: HashSet<&str> = needed
        .iter()
        .flat_map(|p| image_folders(&p.entry.path))
        .collect();
    disks.insert(
        stage_disk.clone(),
        (
            stage.to_path_buf(),
            needed.iter().map(|p| p.entry.size).collect(),
            staged_dirs.len() as u64,
        ),
    );
    let mut new_dirs: HashSet<PathBuf> = HashSet::new();
    let mut disk_of_root: BTreeMap<&Path, PathBuf> = BTreeMap::new();
    for p in needed {
        let disk = disk_of_root
            .entry(&p.root)
            .or_insert_with(|| disk_of(&p.root))
            .clone();
        let (_, sizes, dirs) = disks
            .entry(disk.clone())
            .or_insert_with(|| (p.root.clone(), Vec::new(), 0));
        if disk != stage_disk {
            sizes.push(p.entry.size);
        }
        for d in p.dest.ancestors().skip(1) {
            if !d.starts_with(&p.root) || d.exists() || !new_dirs.insert(d.to_path_buf()) {
                break;
            }
            *dirs += 1;
        }
    }
    for (disk, (folder, sizes, dirs)) in disks {
        room_on(&disk, &folder, &sizes, dirs)?;
    }
    Ok(())
}

/// The folders (`C`, `C\Users`, …) an image path is extracted below.
fn image_folders(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('\\').map(move |(i, _)| &path[..i])
}

/// Whether files of `sizes` and `dirs` new folders fit on `disk` (looked at through
/// `folder`, or the disk itself when the folder does not exist yet).
fn room_on(disk: &Path, folder: &Path, sizes: &[u64], dirs: u64) -> Result<(), RestoreError> {
    let at = if folder.exists() { folder } else { disk };
    let Ok(space) = platform::space(at) else {
        return Ok(());
    };
    let block = space.block.max(1);
    let entries = sizes.len() as u64 + dirs;
    let need = sizes
        .iter()
        .fold(0u64, |t, s| {
            t.saturating_add(s.div_ceil(block).saturating_mul(block))
        })
        .saturating_add(dirs.saturating_mul(block))
        .saturating_add(entries.saturating_mul(RESTORE_ENTRY_BYTES));
    let short = |need: u64, free: u64, what: Room| RestoreError::NoSpace {
        disk: disk.to_path_buf(),
        folder: folder.to_path_buf(),
        need,
        free,
        what,
    };
    if need > space.available {
        return Err(short(need, space.available, Room::Bytes));
    }
    match space.entries {
        Some(free) if entries > free => Err(short(entries, free, Room::Entries)),
        _ => Ok(()),
    }
}

/// Why one file could not be placed.
enum PlaceError {
    /// This file only: reported, and `--continue` goes past it.
    File(String),
    /// The target disk: nothing more can be written there, so the restore stops.
    Disk(RestoreError),
}

impl PlaceError {
    /// A failure writing `path`: a full disk is the disk's, anything else the file's.
    fn io(path: &Path, e: std::io::Error) -> PlaceError {
        if platform::is_out_of_space(&e) {
            PlaceError::Disk(RestoreError::io(path, e))
        } else {
            PlaceError::File(format!("{}: {e}", path.display()))
        }
    }
}

/// Moves one staged file to its place.
fn place(job: &Job<'_>, p: &Planned, todo: &Todo, stage: &Path) -> Result<Action, PlaceError> {
    let staged = p
        .entry
        .path
        .split('\\')
        .fold(stage.to_path_buf(), |acc, c| acc.join(c));
    let meta = std::fs::symlink_metadata(&staged)
        .map_err(|e| PlaceError::File(format!("not extracted from the store: {e}")))?;
    // Never more than the image declares.
    if !meta.file_type().is_file() || meta.len() != p.entry.size {
        return Err(PlaceError::File(format!(
            "the extracted file is not the {} bytes the store declares",
            p.entry.size
        )));
    }
    let dest = match todo {
        Todo::Rename(n) => n.clone(),
        _ => p.dest.clone(),
    };
    make_parents(&p.root, &dest)?;
    let keep_times = matches!(todo, Todo::Replace) && job.helpers.keep_existing_times(&p.from);
    let old_times = keep_times
        .then(|| {
            std::fs::metadata(&dest)
                .ok()
                .and_then(|m| m.modified().ok())
        })
        .flatten();
    if matches!(todo, Todo::Replace) {
        crate::platform::clear_readonly(&dest);
    }
    move_file(&staged, &dest, &p.entry).map_err(|e| PlaceError::io(&dest, e))?;
    if let Some(t) = old_times {
        set_modified(&dest, t);
    }
    if let Some(u) = job.user {
        job.target
            .adopt(u, &dest)
            .map_err(|e| PlaceError::File(e.to_string()))?;
    }
    Ok(match todo {
        Todo::Place => Action::Restored,
        Todo::Replace => Action::Overwritten,
        Todo::Rename(_) => Action::Renamed,
        Todo::Done(a) => a.clone(),
    })
}

/// Creates the folders below `root` on the way to `dest`, refusing a link met there.
fn make_parents(root: &Path, dest: &Path) -> Result<(), PlaceError> {
    std::fs::create_dir_all(root).map_err(|e| PlaceError::io(root, e))?;
    let Some(parent) = dest.parent() else {
        return Ok(());
    };
    let rel = parent
        .strip_prefix(root)
        .map_err(|_| PlaceError::File("outside its folder".to_string()))?;
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => {
                return Err(PlaceError::File(format!(
                    "{}: a file or link is in the way",
                    cur.display()
                )))
            }
            Err(_) => std::fs::create_dir(&cur).map_err(|e| PlaceError::io(&cur, e))?,
        }
    }
    Ok(())
}

/// A rename within the volume; a copy (times set again) when the place is on another one.
/// A copy cut short (a full disk) is removed, so no partial file stays under the name.
fn move_file(staged: &Path, dest: &Path, entry: &Entry) -> std::io::Result<()> {
    match std::fs::rename(staged, dest) {
        Ok(()) => Ok(()),
        Err(e) if crate::platform::is_cross_device(&e) => {
            if let Err(e) = std::fs::copy(staged, dest) {
                let _ = std::fs::remove_file(dest);
                return Err(e);
            }
            let t = std::time::UNIX_EPOCH
                + std::time::Duration::new(
                    entry.last_write_unix.max(0) as u64,
                    entry.last_write_nsec.clamp(0, 999_999_999) as u32,
                );
            set_modified(dest, t);
            std::fs::remove_file(staged)
        }
        Err(e) => Err(e),
    }
}

fn set_modified(path: &Path, t: std::time::SystemTime) {
    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(path) {
        let _ = f.set_modified(t);
    }
}
