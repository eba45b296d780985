//! Files: each entry of a user's image mapped to its new place, compared with what is there
//! (identical content is never duplicated), decided by the conflict policy, extracted by
//! wimlib into a staging folder inside the target profile (same volume, so placing is a
//! rename) and moved into place. Timestamps and attributes come with the file; the folder's
//! inherited security is given to it by the target ([`super::Target::adopt`]).

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use super::helpers::Helpers;
use super::paths::{self, Rebase, UnsafePath};
use super::report::UserReport;
use super::{ConflictPolicy, RestoreError, RestoreOptions, Target, TargetUser};
use crate::limits::{RESTORE_MAX_FILES, RESTORE_RENAME_MAX};
use crate::rules::ObjectKind;
use crate::store::manifest::UserRecord;
use crate::wim::{Entry, Wim};

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

fn plan_one(job: &Job<'_>, entry: Entry, claimed: &mut HashSet<PathBuf>) -> Planned {
    let from = match paths::windows_path(&entry.path) {
        Ok(w) => w,
        Err(why) => {
            let from = entry.path.clone();
            return done(entry, from, skip(SkipReason::UnsafePath(why)));
        }
    };
    if entry.reparse_tag != 0 {
        return done(entry, from, skip(SkipReason::Link));
    }
    let (dir, name) = from.rsplit_once('\\').unwrap_or(("", &from));
    if job.helpers.never_restore(ObjectKind::File, dir, name) {
        return done(entry, from, skip(SkipReason::NeverRestore));
    }
    let placed = match job.helpers.relocate_file(&from) {
        // The rules are input too: the new place is checked as an image path is.
        Some(new) => match paths::windows_path(&new.replacen(":\\", "\\", 1)) {
            Ok(new) => place_of(job, &new, job.rebase.within_target(&new)),
            Err(why) => Err(SkipReason::UnsafePath(why)),
        },
        None => place_of(job, &from, job.rebase.locate(&from)),
    };
    let (root, rest) = match placed {
        Ok(p) => p,
        Err(why) => return done(entry, from, skip(why)),
    };
    let parts: Vec<&str> = rest.split('\\').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") || parts.is_empty() {
        return done(
            entry,
            from,
            skip(SkipReason::UnsafePath(UnsafePath::Traversal)),
        );
    }
    let dest: PathBuf = parts.iter().fold(root.clone(), |p, c| p.join(c));
    if link_on_the_way(&root, &parts) {
        return done(entry, from, skip(SkipReason::LinkInTheWay));
    }
    let policy = job
        .helpers
        .file_policy(&from)
        .unwrap_or(job.opts.on_conflict);
    let todo = decide(&entry, &dest, policy, claimed);
    if let Todo::Rename(p) = &todo {
        claimed.insert(p.clone());
    } else {
        claimed.insert(dest.clone());
    }
    Planned {
        entry,
        from,
        root,
        dest,
        todo,
    }
}

/// The folder a file goes below and its path there: `located` in the user's folders (a
/// Windows path of the new machine split at one of them), else below `--other-files-to`
/// by its Windows path `win`.
fn place_of(
    job: &Job<'_>,
    win: &str,
    located: Option<(String, String)>,
) -> Result<(PathBuf, String), SkipReason> {
    match (located, &job.opts.other_files_to) {
        (Some((prefix, rest)), _) => match job.target.host_path(&prefix) {
            Some(root) => Ok((root, rest)),
            None => Err(SkipReason::NoPlace),
        },
        (None, Some(dir)) => {
            let w = paths::windows_path(&win.replacen(":\\", "\\", 1))
                .map_err(|_| SkipReason::UnsafePath(UnsafePath::Traversal))?;
            Ok((dir.clone(), w.replacen(":\\", "\\", 1)))
        }
        (None, None) => Err(SkipReason::MachinePath),
    }
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

fn decide(entry: &Entry, dest: &Path, policy: ConflictPolicy, claimed: &HashSet<PathBuf>) -> Todo {
    let there = std::fs::symlink_metadata(dest);
    let Ok(meta) = there else {
        return if claimed.contains(dest) {
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
fn renamed(entry: &Entry, dest: &Path, claimed: &HashSet<PathBuf>) -> Todo {
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
            Err(_) if !claimed.contains(&candidate) => return Todo::Rename(candidate),
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
    let mut failed: Vec<(usize, String)> = Vec::new();
    let stage = if needed.is_empty() || job.opts.dry_run {
        None
    } else {
        Some(extract(job, image, &needed, &stage_parent)?)
    };
    for (i, p) in planned.iter().enumerate() {
        let action = match (&p.todo, &stage) {
            (Todo::Done(a), _) => a.clone(),
            (todo, None) => dry_action(todo),
            (todo, Some(stage)) => match place(job, p, todo, &stage.path) {
                Ok(a) => a,
                Err(e) if job.opts.continue_on_error => {
                    failed.push((i, e.clone()));
                    Action::Failed { error: e }
                }
                Err(e) => {
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

/// Extracts what must be written into a fresh staging folder beside the files' new place.
fn extract(
    job: &mut Job<'_>,
    image: u32,
    needed: &[&Planned],
    parent: &Path,
) -> Result<Stage, RestoreError> {
    let need: u64 = needed.iter().map(|p| p.entry.size).sum();
    std::fs::create_dir_all(parent).map_err(|e| RestoreError::io(parent, e))?;
    if let Ok(free) = crate::platform::free_space(parent) {
        if free < need {
            return Err(RestoreError::NoSpace {
                path: parent.to_path_buf(),
                need,
                free,
            });
        }
    }
    let path = parent.join(format!(".lifeboat-restore-{}", std::process::id()));
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
    let mut bar =
        crate::capture::progress::Reporter::new(need, needed.len() as u64, job.opts.quiet);
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
    .map_err(crate::store::StoreError::from)?;
    bar.finish();
    Ok(stage)
}

/// Moves one staged file to its place; the error says what went wrong with it.
fn place(job: &Job<'_>, p: &Planned, todo: &Todo, stage: &Path) -> Result<Action, String> {
    let staged = p
        .entry
        .path
        .split('\\')
        .fold(stage.to_path_buf(), |acc, c| acc.join(c));
    let meta = std::fs::symlink_metadata(&staged)
        .map_err(|e| format!("not extracted from the store: {e}"))?;
    // Never more than the image declares.
    if !meta.file_type().is_file() || meta.len() != p.entry.size {
        return Err(format!(
            "the extracted file is not the {} bytes the store declares",
            p.entry.size
        ));
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
    move_file(&staged, &dest, &p.entry).map_err(|e| e.to_string())?;
    if let Some(t) = old_times {
        set_modified(&dest, t);
    }
    if let Some(u) = job.user {
        job.target.adopt(u, &dest).map_err(|e| e.to_string())?;
    }
    Ok(match todo {
        Todo::Place => Action::Restored,
        Todo::Replace => Action::Overwritten,
        Todo::Rename(_) => Action::Renamed,
        Todo::Done(a) => a.clone(),
    })
}

/// Creates the folders below `root` on the way to `dest`, refusing a link met there.
fn make_parents(root: &Path, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let Some(parent) = dest.parent() else {
        return Ok(());
    };
    let rel = parent
        .strip_prefix(root)
        .map_err(|_| "outside its folder".to_string())?;
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return Err(format!("{}: a file or link is in the way", cur.display())),
            Err(_) => std::fs::create_dir(&cur).map_err(|e| format!("{}: {e}", cur.display()))?,
        }
    }
    Ok(())
}

/// A rename within the volume; a copy (times set again) when the place is on another one.
fn move_file(staged: &Path, dest: &Path, entry: &Entry) -> std::io::Result<()> {
    match std::fs::rename(staged, dest) {
        Ok(()) => Ok(()),
        Err(e) if crate::platform::is_cross_device(&e) => {
            std::fs::copy(staged, dest)?;
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
