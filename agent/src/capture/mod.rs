//! Plan → store: files into `files.wim` (one image per user, written by wimlib's own scan
//! with the plan choosing each file), settings into `registry/*.reg`, then the manifest,
//! a full verification, and only then the store's final name. Whatever fails leaves a
//! folder marked incomplete, with the reason in its manifest and log.

pub mod compress;
mod record;
mod write;

pub use write::DamagedFiles;

use crate::shown::Shown;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::detect::Inspected;
use crate::plan::{FileList, PassPlan, Plan, SkipKind, Skipped, CANNOT_TRAVEL};
use crate::progress;
use crate::regfile::RegFile;
use crate::rules::configxml::{ErrorControl, ProfileControl, Severity};
use crate::rules::ObjectKind;
use crate::store::layout::{safe_name, Naming, StoreDirs};
use crate::store::manifest::{
    Manifest, Totals, UserRecord, WimInfo, FILES_WIM, LOG_FILE, MANIFEST_FILE, REGISTRY_DIR,
    STORE_VERSION,
};
use crate::store::verify::sha256_hex;
use crate::wim::writer::{self, WimWriter};
use crate::wim::{Compression, Wim, WriteOptions};

/// FAT32 holds no file of 4 GiB; parts stay below it.
pub const FAT32_PART: u64 = 4000 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub dest: PathBuf,
    pub compression: Compression,
    pub continue_on_error: bool,
    pub overwrite: bool,
    /// Split the WIM into parts of this size (set for FAT destinations automatically).
    pub split_bytes: Option<u64>,
    pub threads: u32,
    pub rules_used: Vec<String>,
    pub command_line: Vec<String>,
    pub quiet: bool,
    /// `USMT_WORKING_DIR`: temporary files (the unsplit WIM) go here.
    pub working_dir: Option<PathBuf>,
    pub stamp: String,
    pub started: String,
    /// `DEST/<COMPUTER>-<stamp>`, or DEST itself (ScanState's StorePath).
    pub naming: Naming,
    /// Config.xml's `<ErrorControl>`: which unreadable items stop the capture, which not,
    /// whatever `continue_on_error` says.
    pub error_control: ErrorControl,
    /// Config.xml's `<ProfileControl>`, recorded for the restore.
    pub profile_control: Option<ProfileControl>,
    /// ScanState's `/progress` log.
    pub progress_log: Option<progress::ProgressLog>,
    /// Files whose disk lost some of their bytes: kept with zeros, or left out.
    pub damaged: DamagedFiles,
}

impl CaptureOptions {
    /// Whether this unreadable item stops the capture: Config.xml's `<ErrorControl>`
    /// decides first (`fatal` stops even with `/c`, `nonFatal` never), then `/c`.
    pub fn stops_on(&self, s: &Skipped) -> bool {
        if !s.kind.is_error() {
            return false;
        }
        let kind = if s.kind.is_registry() {
            ObjectKind::Registry
        } else {
            ObjectKind::File
        };
        let (node, leaf) = match (kind, s.path.rsplit_once('\\')) {
            (ObjectKind::File, Some((dir, name)))
                if !matches!(s.kind, SkipKind::FolderUnreadable | SkipKind::TooDeep) =>
            {
                (dir, Some(name))
            }
            _ => (s.path.as_str(), None),
        };
        match self
            .error_control
            .decide(kind, s.kind.win32_code(), node, leaf)
        {
            Some(Severity::Fatal) => true,
            Some(Severity::NonFatal) => false,
            None => !self.continue_on_error,
        }
    }
}

#[derive(Debug)]
pub struct CaptureOutcome {
    pub store: PathBuf,
    pub manifest: Manifest,
    pub log: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("destination {path}: {reason}")]
    Destination { path: PathBuf, reason: String },
    /// Stopped on the first unreadable file (no --continue); the store is marked incomplete.
    #[error("{reason}\nThe store {store} is marked incomplete. Use --continue to skip unreadable files.")]
    Stopped { store: PathBuf, reason: String },
    /// Writing failed (destination full or gone, WIM error); the store is marked incomplete.
    #[error("{reason}\nThe store {store} is marked incomplete; nothing else was changed.")]
    Failed { store: PathBuf, reason: String },
}

/// How long since `started`, for the log: where a capture's time went.
fn seconds(started: Instant) -> String {
    format!("{:.1} s", started.elapsed().as_secs_f64())
}

/// Path in the image for a Windows path: `C:\Users\ann` → `C\Users\ann`.
fn image_path(win: &str) -> String {
    win.replacen(':', "", 1).trim_end_matches('\\').to_string()
}

struct Log {
    lines: Vec<String>,
}

impl Log {
    fn say(&mut self, s: impl Into<String>) {
        let s = s.into();
        self.lines.push(format!(
            "{} {s}",
            crate::time::unix_to_rfc3339(crate::time::now_unix())
        ));
    }
}

fn record(p: &PassPlan) -> UserRecord {
    UserRecord {
        sid: p.sid.clone(),
        name: p.name.clone(),
        wim_image: None,
        wim_image_name: None,
        files: p.files.len() as u64,
        bytes: p.bytes,
        registry_file: None,
        registry_sha256: None,
        registry_keys: p.registry.len() as u64,
        registry_values: p.registry.iter().map(|k| k.values.len() as u64).sum(),
        skipped: p.skipped.iter().map(Into::into).collect(),
        folders: p.folders.as_ref().map(Into::into),
        components: p.components.iter().map(Into::into).collect(),
        restore: p.restore.iter().map(Into::into).collect(),
        damaged: Vec::new(),
    }
}

/// The plan's file lists are let go during the write (see [`write_files`]).
pub fn capture(
    ins: &Inspected,
    plan: &mut Plan,
    opts: &CaptureOptions,
) -> Result<CaptureOutcome, CaptureError> {
    let computer = ins
        .installation
        .computer_name
        .clone()
        .unwrap_or_else(|| "UNKNOWN-PC".into());
    let dirs = start_store(&computer, opts)?;
    let mut log = Log { lines: Vec::new() };
    log.say(format!(
        "lifeboat {} capture of {} ({})",
        crate::VERSION,
        ins.installation.windir,
        computer
    ));
    let mut manifest = begin_manifest(ins, plan, opts);
    // Without --continue (or by Config.xml's ErrorControl) the first unreadable file stops
    // the capture before anything is written.
    if let Some(reason) = first_stop(plan, opts) {
        return Err(failed(&dirs, &mut manifest, &mut log, reason, true));
    }
    log_skipped(plan, &mut log);

    if let Err(stop) = write_files(plan, opts, &dirs, &mut manifest, &mut log) {
        // Free the space a half-written WIM takes before saying what happened.
        remove_wim_parts(&dirs.work);
        manifest.wim.parts.clear();
        let (reason, stopped) = match stop {
            WriteStop::Stopped(r) => (r, true),
            WriteStop::Failed(r) => (r, false),
        };
        return Err(failed(&dirs, &mut manifest, &mut log, reason, stopped));
    }
    manifest.totals = totals(&manifest);
    if let Err(reason) = write_registry(plan, &dirs.work, &mut manifest, &mut log) {
        return Err(failed(&dirs, &mut manifest, &mut log, reason, false));
    }

    // Manifest, then the proof: everything read back.
    manifest.complete = true;
    manifest.incomplete_reason = None;
    manifest.finished = Some(crate::time::unix_to_rfc3339(crate::time::now_unix()));
    write_manifest_and_log(&dirs.work, &manifest, &log);
    if let Err(reason) = read_back(&dirs, &manifest, &mut log) {
        return Err(failed(&dirs, &mut manifest, &mut log, reason, false));
    }
    write_manifest_and_log(&dirs.work, &manifest, &log);
    let store = dirs
        .finish(opts.overwrite)
        .map_err(|e| CaptureError::Failed {
            store: dirs.work.clone(),
            reason: format!("renaming the finished store: {e}"),
        })?;
    Ok(CaptureOutcome {
        store,
        manifest,
        log: log.lines,
    })
}

/// The store's folders in the destination, begun (the destination must be there).
fn start_store(computer: &str, opts: &CaptureOptions) -> Result<StoreDirs, CaptureError> {
    let dest_err = |reason: String| CaptureError::Destination {
        path: opts.dest.clone(),
        reason,
    };
    if !opts.dest.is_dir() {
        return Err(dest_err(
            "does not exist or cannot be reached (is the USB stick plugged in, the share connected with `net use`?)".into(),
        ));
    }
    let dirs = StoreDirs::new(&opts.dest, computer, &opts.stamp, opts.naming);
    dirs.start(opts.overwrite)
        .map_err(|e| dest_err(e.to_string()))?;
    Ok(dirs)
}

/// The manifest as the capture begins: incomplete until the store is read back.
fn begin_manifest(ins: &Inspected, plan: &Plan, opts: &CaptureOptions) -> Manifest {
    Manifest {
        lifeboat_store: STORE_VERSION,
        agent_version: crate::VERSION.into(),
        complete: false,
        incomplete_reason: Some("capture in progress".into()),
        started: opts.started.clone(),
        finished: None,
        command_line: opts.command_line.clone(),
        source: (&ins.installation).into(),
        rules: opts.rules_used.clone(),
        rule_warnings: plan.warnings.clone(),
        wim: WimInfo {
            parts: Vec::new(),
            compression: opts.compression.as_str().into(),
            integrity_table: true,
        },
        users: plan.users.iter().map(record).collect(),
        machine: plan.machine.as_ref().map(record),
        users_left: plan.left.iter().map(Into::into).collect(),
        cannot_travel: CANNOT_TRAVEL.iter().map(|s| s.to_string()).collect(),
        profile_control: opts.profile_control.as_ref().map(Into::into),
        totals: Totals {
            files: plan.total_files(),
            bytes: plan.total_bytes(),
            skipped: plan.passes().map(|p| p.skipped.len() as u64).sum(),
            registry_values: plan
                .passes()
                .flat_map(|p| &p.registry)
                .map(|k| k.values.len() as u64)
                .sum(),
        },
    }
}

/// A capture that ends without a store: the reason logged and recorded in the manifest,
/// both written into the unfinished store's folder.
fn failed(
    dirs: &StoreDirs,
    manifest: &mut Manifest,
    log: &mut Log,
    reason: String,
    stopped: bool,
) -> CaptureError {
    log.say(format!("FAILED: {reason}"));
    manifest.complete = false;
    manifest.incomplete_reason = Some(reason.clone());
    manifest.finished = Some(crate::time::unix_to_rfc3339(crate::time::now_unix()));
    write_manifest_and_log(&dirs.work, manifest, log);
    let store = dirs.work.clone();
    if stopped {
        CaptureError::Stopped { store, reason }
    } else {
        CaptureError::Failed { store, reason }
    }
}

/// The first unreadable item that stops the capture (no `--continue`, or Config.xml's
/// ErrorControl), said with its pass.
fn first_stop(plan: &Plan, opts: &CaptureOptions) -> Option<String> {
    plan.passes()
        .flat_map(|p| p.skipped.iter().map(move |s| (p, s)))
        .find(|(_, s)| opts.stops_on(s))
        .map(|(pass, s)| {
            format!(
                "{} ({}): {}",
                Shown(&s.path),
                Shown(&pass.name),
                Shown(&s.reason.to_string())
            )
        })
}

/// Every item the plan leaves out, a line each in the log.
fn log_skipped(plan: &Plan, log: &mut Log) {
    for p in plan.passes() {
        for s in &p.skipped {
            log.say(format!(
                "skipped {} ({}): {}",
                Shown(&s.path),
                Shown(&p.name),
                Shown(&s.reason.to_string())
            ));
        }
    }
}

/// The WIM's parts in the unfinished store, removed.
fn remove_wim_parts(work: &Path) {
    for part in std::fs::read_dir(work).into_iter().flatten().flatten() {
        let n = part.file_name().to_string_lossy().to_lowercase();
        if n.ends_with(".wim") || n.ends_with(".swm") {
            let _ = std::fs::remove_file(part.path());
        }
    }
}

/// The whole store read back and checked against its manifest; the problems when not.
fn read_back(dirs: &StoreDirs, manifest: &Manifest, log: &mut Log) -> Result<(), String> {
    let started = Instant::now();
    let report = crate::store::verify::verify_contents(
        &crate::store::StoreReader::with_manifest(&dirs.work, manifest.clone()),
        crate::store::verify::ReadBack::Contents,
    );
    if !report.ok() {
        let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        return Err(format!("verification failed: {}", problems.join("; ")));
    }
    log.say(format!(
        "verified: {} files, {} bytes read back in {}",
        report.files,
        report.bytes,
        seconds(started)
    ));
    Ok(())
}

fn write_manifest_and_log(dir: &Path, manifest: &Manifest, log: &Log) {
    if let Ok(y) = manifest.to_yaml() {
        let _ = write_replacing(&dir.join(MANIFEST_FILE), y.as_bytes());
    }
    let _ = write_replacing(
        &dir.join(LOG_FILE),
        (log.lines.join("\n") + "\n").as_bytes(),
    );
}

/// Writes a new file beside `path` and renames it over: a reader (or a crash) never sees a
/// half-written manifest, and file systems that mishandle rewrites in place are spared them.
fn write_replacing(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, data)?;
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    std::fs::rename(&tmp, path)
}

/// Why the files could not be written.
enum WriteStop {
    /// Something planned could no longer be read, and `--continue` was not given.
    Stopped(String),
    /// The WIM could not be made or written.
    Failed(String),
}

impl From<crate::wim::WimError> for WriteStop {
    fn from(e: crate::wim::WimError) -> Self {
        WriteStop::Failed(e.to_string())
    }
}

impl From<writer::Error> for WriteStop {
    fn from(e: writer::Error) -> Self {
        WriteStop::Failed(e.to_string())
    }
}

/// The manifest's totals from its records, once the images say what they hold.
fn totals(m: &Manifest) -> Totals {
    let records = || m.users.iter().chain(m.machine.iter());
    Totals {
        files: records().map(|r| r.files).sum(),
        bytes: records().map(|r| r.bytes).sum(),
        skipped: records().map(|r| r.skipped.len() as u64).sum(),
        registry_values: records().map(|r| r.registry_values).sum(),
    }
}

/// The manifest's record of each pass, in the plan's order of passes (the users', then the
/// machine's): the manifest is made with one record per pass, in that order.
fn pass_records(manifest: &mut Manifest) -> impl Iterator<Item = &mut UserRecord> {
    manifest.users.iter_mut().chain(manifest.machine.iter_mut())
}

/// Each pass's settings as a `.reg` file under `registry\`, named for its user and recorded
/// in the pass's manifest record with its hash. The error says which file failed.
fn write_registry(
    plan: &Plan,
    work: &Path,
    manifest: &mut Manifest,
    log: &mut Log,
) -> Result<(), String> {
    let mut used_names = HashSet::new();
    for (p, rec) in plan.passes().zip(pass_records(manifest)) {
        if p.registry.is_empty() {
            continue;
        }
        let mut base = safe_name(p.name.rsplit('\\').next().unwrap_or(&p.name));
        if !used_names.insert(base.to_lowercase()) {
            base = format!("{base}-{}", safe_name(&p.sid));
        }
        let rel = format!("{REGISTRY_DIR}/{base}.reg");
        let mut reg = RegFile::new();
        for k in &p.registry {
            reg.key(&k.path, &k.values);
        }
        let bytes = reg.to_utf16le();
        std::fs::write(work.join(&rel), &bytes).map_err(|e| format!("writing {rel}: {e}"))?;
        rec.registry_file = Some(rel.clone());
        rec.registry_sha256 = Some(sha256_hex(&bytes));
        log.say(format!(
            "{rel}: {} keys, {} values",
            rec.registry_keys, rec.registry_values
        ));
    }
    Ok(())
}

/// One image per pass with files, each file read once from its volume and written by
/// Lifeboat's WIM writer ([`write`]) with an integrity table, then split for FAT32 when
/// asked. Each pass's file list is let go once its image is written.
fn write_files(
    plan: &mut Plan,
    opts: &CaptureOptions,
    dirs: &StoreDirs,
    manifest: &mut Manifest,
    log: &mut Log,
) -> Result<(), WriteStop> {
    if plan.passes().all(|p| p.files.is_empty()) {
        log.say("no files to capture");
        return Ok(());
    }
    let (total_bytes, total_files) = (plan.total_bytes(), plan.total_files());
    // wimlib splits a written WIM: for a split store the whole one goes to the working
    // folder first.
    let tmp = match opts.split_bytes {
        None => None,
        Some(_) => {
            let work = opts.working_dir.clone().unwrap_or_else(std::env::temp_dir);
            Some(tempfile::Builder::new().prefix("lifeboat-").tempdir_in(&work).map_err(|e| {
                WriteStop::Failed(format!("cannot use {} for the temporary WIM: {e} (set USMT_WORKING_DIR to a folder with room)", work.display()))
            })?)
        }
    };
    let whole = match &tmp {
        Some(t) => t.path().join(FILES_WIM),
        None => dirs.work.join(FILES_WIM),
    };
    let mut w = WimWriter::create(
        &whole,
        writer::Options {
            threads: opts.threads as usize,
            ..writer::Options::new(opts.compression)
        },
    )?;
    let mut reporter = progress::Reporter::new(total_bytes, total_files, opts.quiet)
        .logging_to(opts.progress_log.clone());
    let started = Instant::now();
    let (mut image, mut done) = (0u32, 0u64);
    let mut names = HashSet::new();
    for (p, rec) in plan.passes_mut().zip(pass_records(manifest)) {
        if p.files.is_empty() {
            continue;
        }
        let mut name = p.name.clone();
        if !names.insert(name.to_lowercase()) {
            name = format!("{} ({})", p.name, p.sid);
        }
        w.begin_image(
            &name,
            &format!("Lifeboat capture of {} ({})", p.name, p.sid),
        )?;
        image += 1;
        rec.wim_image = Some(image);
        rec.wim_image_name = Some(name);
        write::write_pass(&mut w, p, rec, opts, &mut reporter, &mut done, log)?;
        w.end_image()?;
        p.files = FileList::default();
    }
    let summary = w.finish()?;
    reporter.finish();
    log.say(format!(
        "{FILES_WIM} written in {}: {} bytes, {} duplicates stored once",
        seconds(started),
        summary.wim_bytes,
        summary.duplicates
    ));
    match opts.split_bytes {
        None => manifest.wim.parts = vec![FILES_WIM.into()],
        Some(part) => manifest.wim.parts = split(&whole, part, dirs, log)?,
    }
    Ok(())
}

/// Splits the written WIM into parts of at most `part` bytes in the store (`files.swm`,
/// `files2.swm`, …), as wimlib splits; returns their names in order.
fn split(
    whole: &Path,
    part: u64,
    dirs: &StoreDirs,
    log: &mut Log,
) -> Result<Vec<String>, WriteStop> {
    let started = Instant::now();
    let mut w = Wim::open(whole, false)?;
    w.write_split(
        &dirs.work.join("files.swm"),
        part,
        WriteOptions {
            integrity: true,
            ..Default::default()
        },
    )?;
    let mut parts: Vec<String> = std::fs::read_dir(&dirs.work)
        .map_err(|e| WriteStop::Failed(format!("{}: {e}", dirs.work.display())))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.to_lowercase().ends_with(".swm"))
        .collect();
    // files.swm, files2.swm, files3.swm, … in order.
    parts.sort_by_key(|n| {
        n.trim_start_matches("files")
            .trim_end_matches(".swm")
            .parse::<u32>()
            .unwrap_or(1)
    });
    log.say(format!(
        "split into {} parts of at most {part} bytes in {}",
        parts.len(),
        seconds(started)
    ));
    Ok(parts)
}
