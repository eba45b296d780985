//! `lifeboat scanstate ARGS…` and the same binary named `scanstate.exe`: ScanState's
//! command line (`scanstate_args`) translated into the one capture job ([`JobSpec`]), its
//! outcome mapped to ScanState's codes through `exit`. The store is written in StorePath
//! itself (`files.wim`, `registry\`, `manifest.yaml`), so `loadstate StorePath` finds it.

use std::path::{Path, PathBuf};

use super::scanstate_args::{self, Efs, Estimate, LastUse, Offline, Refusal, ScanStateArgs};
use super::{capture_cmd, exit, output};
use crate::capture::compress::CompressionChoice;
use crate::console::say;
use crate::detect::{DetectOptions, Source};
use crate::job::{self, Choose, Dest, ExplainSpec, JobSpec, Prepared};
use crate::plan::users::{Precedence, UserPattern};
use crate::plan::SkipKind;
use crate::progress::ProgressLog;
use crate::store::layout::Naming;
use crate::wim::Compression;

pub fn run(args: &[String]) -> i32 {
    let a = match scanstate_args::parse(args) {
        Ok(a) => a,
        Err((code, message)) => return refuse(code, &message),
    };
    let mut log = match ScanLog::open(a.log.as_deref(), args) {
        Ok(l) => l,
        Err(m) => return refuse(exit::LOG_FILE, &m),
    };
    let code = match &a.genconfig {
        Some(file) => genconfig(&a, file, &mut log),
        None => scan(&a, args, &mut log),
    };
    log.say(&format!("exit code {code}"));
    log.finish();
    code
}

/// The command line as the manifest records it: the program, then ScanState's arguments
/// with every secret's value replaced.
fn recorded(args: &[String]) -> Vec<String> {
    let mut out = vec![std::env::args()
        .next()
        .unwrap_or_else(|| "scanstate".into())];
    out.extend(super::usmt_args::redacted(args, scanstate_args::known));
    out
}

/// The command line as it is logged: secrets' values replaced, each argument escaped.
fn shown_command_line(args: &[String]) -> String {
    super::usmt_args::redacted(args, scanstate_args::known)
        .iter()
        .map(|a| crate::shown::Shown(a).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Says why the command line cannot run and returns ScanState's code for it. The message
/// may quote the command line, so it is escaped ([`crate::shown`]).
fn refuse(code: i32, message: &str) -> i32 {
    if code == exit::HELP {
        return output::finish(code, &format!("{message}\n"));
    }
    say(&format!("error: {}", crate::shown::Shown(message)));
    if code == exit::INVALID_PARAMETERS {
        say("(scanstate /? lists the options)");
    }
    code
}

/// ScanState's `/l` log: the front end's lines, then the capture's own.
struct ScanLog {
    path: Option<PathBuf>,
    lines: Vec<String>,
}

impl ScanLog {
    /// Starts the log; a log that cannot be made is ScanState's code 13.
    fn open(path: Option<&Path>, args: &[String]) -> Result<ScanLog, String> {
        if let Some(p) = path {
            std::fs::write(p, "").map_err(|e| {
                format!("Log path argument is invalid for /l: {}: {e}", p.display())
            })?;
        }
        let mut log = ScanLog {
            path: path.map(Path::to_path_buf),
            lines: Vec::new(),
        };
        log.note(&format!(
            "lifeboat {} (ScanState command line) started: scanstate {}",
            crate::VERSION,
            shown_command_line(args)
        ));
        Ok(log)
    }

    /// A line for the log only.
    fn note(&mut self, s: &str) {
        let now = crate::time::unix_to_rfc3339(crate::time::now_unix());
        self.lines.push(format!("{now} {s}"));
    }

    /// A line for the console and the log.
    fn say(&mut self, s: &str) {
        say(s);
        self.note(s);
    }

    fn finish(&self) {
        if let Some(p) = &self.path {
            if let Err(e) = std::fs::write(p, self.lines.join("\r\n") + "\r\n") {
                say(&format!("warning: /l {}: {e}", p.display()));
            }
        }
    }
}

fn bad(m: &str) -> Refusal {
    (exit::INVALID_PARAMETERS, m.into())
}

/// Without an offline switch ScanState gathers from the running Windows; Lifeboat never
/// does (inside WinPE that would be WinPE itself): ScanState's code 36 and what to give.
fn no_offline_switch() -> Refusal {
    let how = if crate::platform::in_winpe() {
        "Use /offline to run gather on this platform: inside WinPE the running system is WinPE itself. Give /offlineWinDir:D:\\Windows (the offline Windows folder) or /offline:Offline.xml"
    } else if cfg!(windows) {
        "Lifeboat captures offline Windows only, never the running one: give /OfflineWinOld:C:\\Windows.old, /offlineWinDir:DIR or /offline:Offline.xml, or boot Lifeboat's WinPE media"
    } else {
        "on Linux give the Windows folder of the mounted offline volume: /offlineWinDir:/mnt/win/Windows (or /offline:Offline.xml, /OfflineWinOld:DIR)"
    };
    (exit::UNSUPPORTED_PLATFORM, how.into())
}

/// The offline switch as detect's source, its path checked as ScanState checks it.
fn source(a: &ScanStateArgs) -> Result<Source, Refusal> {
    match &a.offline {
        None => Err(no_offline_switch()),
        Some(Offline::Xml(f)) if f.is_file() => Ok(Source::OfflineXml(f.clone())),
        Some(Offline::Xml(f)) => Err(bad(&format!(
            "/offline:{}: /offline requires a valid path to an XML file describing offline paths",
            f.display()
        ))),
        Some(Offline::WinDir(d)) if d.is_dir() || is_volume(d) => Ok(Source::WinDir(d.clone())),
        Some(Offline::WinDir(d)) => Err(bad(&format!(
            "/offlineWinDir:{}: /offlinewindir requires a valid path to offline windows folder",
            d.display()
        ))),
        Some(Offline::WinOld(d)) if d.is_dir() || is_volume(d) => Ok(Source::WinOld(d.clone())),
        Some(Offline::WinOld(d)) => Err(bad(&format!(
            "/OfflineWinOld:{}: /offlinewinold requires a valid path to offline windows folder",
            d.display()
        ))),
    }
}

/// The BitLocker keys Lifeboat's own switches name (files only: a recovery password on a
/// task sequence's command line would be logged); a bad one refused as a bad command line,
/// named by its file or line, never quoted.
fn bitlocker_keys(a: &ScanStateArgs) -> Result<lifeboat_volume::bitlocker::Keys, Refusal> {
    let given = super::volume_args::KeyArgs {
        startup_keys: a.startup_keys.clone(),
        keys_file: a.bitlocker_keys.clone(),
        ..Default::default()
    };
    given
        .keys()
        .map_err(|e| bad(&format!("/bitlockerKeys, /bitlockerStartupKey: {e}")))
}

/// A partition, disk or image file given where ScanState wants a Windows folder: Lifeboat
/// reads the volume itself and finds the Windows on it.
fn is_volume(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| !m.is_dir())
}

/// A relative `/i:` file is looked for in the current folder, then beside the program
/// (where USMT's MigDocs.xml and MigApp.xml sit).
fn rules_file(name: &str) -> String {
    let p = Path::new(name);
    if p.is_absolute() || p.exists() {
        return name.to_string();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(p)))
        .filter(|beside| beside.exists())
        .map_or_else(|| name.to_string(), |b| b.to_string_lossy().into_owned())
}

fn profiles(a: &ScanStateArgs) -> Vec<String> {
    let mut out: Vec<String> = a.rules.iter().map(|r| rules_file(r)).collect();
    if let Some(dir) = &a.auto {
        for f in ["MigDocs.xml", "MigApp.xml"] {
            out.push(match dir {
                Some(d) => d.join(f).to_string_lossy().into_owned(),
                None => rules_file(f),
            });
        }
    }
    out
}

fn users(a: &ScanStateArgs) -> Result<Vec<UserPattern>, Refusal> {
    let include = a.include_users.iter().map(|u| UserPattern::parse(u));
    let exclude = a
        .exclude_users
        .iter()
        .map(|u| UserPattern::parse(&format!("!{u}")));
    include
        .chain(exclude)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&format!("User exclusion argument is invalid: {e}")))
}

/// `/uel` as `unused_days`: a date becomes the days since it (rounded up).
fn unused_days(a: &ScanStateArgs) -> Option<u64> {
    match a.last_use? {
        LastUse::Days(d) => Some(d),
        LastUse::Since(t) => {
            let secs = (crate::time::now_unix() - t).max(0) as u64;
            Some(secs.div_ceil(86_400))
        }
        LastUse::LoggedOn => None,
    }
}

/// The ScanState command line as the one capture job.
fn spec(a: &ScanStateArgs, args: &[String]) -> Result<JobSpec, Refusal> {
    let progress_log = match &a.progress {
        Some(p) => Some(ProgressLog::create(p).map_err(|e| {
            (
                exit::PROGRESS_LOG,
                format!(
                    "Progress log argument is invalid for /progress: {}: {e}",
                    p.display()
                ),
            )
        })?),
        None => None,
    };
    let mut detect = DetectOptions::new(Vec::new(), source(a)?);
    detect.scan.keys = std::sync::Arc::new(bitlocker_keys(a)?);
    Ok(JobSpec {
        detect,
        profiles: profiles(a),
        users: users(a)?,
        unused_days: unused_days(a),
        compression: if a.nocompress {
            CompressionChoice::Fixed(Compression::None)
        } else {
            CompressionChoice::Auto
        },
        continue_on_error: a.continue_on_error,
        overwrite: a.overwrite,
        split_mib: None,
        threads: 0,
        quiet: false,
        config: a.config.clone(),
        precedence: Precedence::ScanState,
        naming: Naming::InPlace,
        progress_log,
        damaged: Default::default(),
        command_line: recorded(args),
    })
}

fn chooser<'a>(dest: Dest<'a>) -> Choose<'a> {
    Choose {
        select: None,
        ask: false,
        pick_users: false,
        how_to_choose:
            "name the one to capture with /offlineWinDir:DIR, or list one in Offline.xml",
        dest,
    }
}

fn progress(spec: &JobSpec, pairs: &[(&str, &str)]) {
    if let Some(p) = &spec.progress_log {
        let _ = p.pairs(pairs);
    }
}

fn scan(a: &ScanStateArgs, args: &[String], log: &mut ScanLog) -> i32 {
    let spec = match spec(a, args) {
        Ok(s) => s,
        Err((code, m)) => {
            log.note(&format!("error: {}", crate::shown::Shown(&m)));
            return refuse(code, &m);
        }
    };
    for n in scanstate_args::notes(a) {
        log.say(&format!("note: {n}"));
    }
    let command = format!("scanstate {}", shown_command_line(args));
    progress(&spec, &[("program", "ScanState.exe (Lifeboat)")]);
    progress(&spec, &[("productVersion", crate::VERSION)]);
    progress(&spec, &[("commandLine", &command)]);
    progress(&spec, &[("PHASE", "Initializing")]);
    let dest = match (&a.estimate, &a.store) {
        (None, Some(s)) => Dest::Folder(s.clone()),
        _ => Dest::None,
    };
    progress(&spec, &[("PHASE", "Scanning")]);
    let prepared = match job::prepare(&spec, &mut chooser(dest)) {
        Ok(p) => p,
        Err(e) => return failed(log, &spec, &e.to_string(), exit::job(&e)),
    };
    scanned(log, &spec, &prepared);
    if let Some(code) = efs_abort(a, log, &prepared) {
        return code;
    }
    if let Some(list) = &a.listfiles {
        if let Err(e) = job::write_file_list(&prepared.plan, list) {
            return failed(log, &spec, &e.to_string(), exit::job(&e));
        }
    }
    if let Some(e) = &a.estimate {
        progress(&spec, &[("PHASE", "Estimating")]);
        return estimate(a, e, &prepared, log);
    }
    save(a, &spec, prepared, log)
}

fn failed(log: &mut ScanLog, spec: &JobSpec, message: &str, code: i32) -> i32 {
    progress(spec, &[("error", "UnableToComplete"), ("message", message)]);
    log.say(&format!("error: {message}"));
    code
}

/// What detect and the plan found, into the log and the progress log.
fn scanned(log: &mut ScanLog, spec: &JobSpec, p: &Prepared) {
    for w in &p.problems {
        log.say(&format!(
            "warning: {}: {}",
            crate::shown::Shown(&w.path),
            crate::shown::Shown(&w.error.to_string())
        ));
    }
    for w in &p.plan.warnings {
        log.note(&format!("rules: {w}"));
    }
    let ins = &p.installation.installation;
    progress(
        spec,
        &[("computerName", ins.computer_name.as_deref().unwrap_or("?"))],
    );
    for u in &p.plan.users {
        progress(
            spec,
            &[
                ("detectedUser", &crate::shown::shown(&u.name)),
                ("includedInMigration", "Yes"),
            ],
        );
    }
    for l in &p.plan.left {
        progress(
            spec,
            &[
                ("detectedUser", &crate::shown::shown(&l.name)),
                ("includedInMigration", "No"),
            ],
        );
        log.note(&format!(
            "user {} not captured: {}",
            crate::shown::Shown(&l.name),
            crate::shown::Shown(&l.reason.to_string())
        ));
    }
}

/// ScanState's default `/efs:abort`: an EFS file stops the gather (code 2).
fn efs_abort(a: &ScanStateArgs, log: &mut ScanLog, p: &Prepared) -> Option<i32> {
    if a.efs.unwrap_or_default() != Efs::Abort {
        return None;
    }
    let s = p
        .plan
        .passes()
        .flat_map(|pass| &pass.skipped)
        .find(|s| s.kind == SkipKind::Encrypted)?;
    log.say(&format!(
        "error: Gather was aborted because of an EFS file: {} (ScanState's default /efs:abort; give /efs:skip to leave EFS files out, each listed in the manifest)",
        crate::shown::Shown(&s.path)
    ));
    Some(exit::CANCELED)
}

/// The bytes the store will take: each file rounded up to whole clusters, plus the
/// settings as the `.reg` files will hold them.
fn store_size(p: &Prepared, cluster: u64) -> u64 {
    let mut total = 0u64;
    for pass in p.plan.passes() {
        for f in pass.files.iter() {
            total = total.saturating_add(f.size().div_ceil(cluster) * cluster);
        }
        if !pass.registry.is_empty() {
            let mut reg = crate::regfile::RegFile::new();
            for k in &pass.registry {
                reg.key(&k.path, &k.values);
            }
            let n = reg.to_utf16le().len() as u64;
            total = total.saturating_add(n.div_ceil(cluster) * cluster);
        }
    }
    total
}

/// `/p:FILE`: ScanState's estimate XML. Lifeboat writes the store straight to its place;
/// no temporary copy is made (a split WIM on FAT is the exception: USMT_WORKING_DIR then
/// holds the whole store once), so the temporary space is 0.
fn estimate_xml(p: &Prepared) -> String {
    const CLUSTER: u64 = 4096;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<PreMigration>\r\n<storeSize>\r\n<size clusterSize=\"{CLUSTER}\">{}</size>\r\n</storeSize>\r\n<temporarySpace>\r\n<size>0</size>\r\n</temporarySpace>\r\n</PreMigration>\r\n",
        store_size(p, CLUSTER)
    )
}

fn estimate(a: &ScanStateArgs, e: &Estimate, p: &Prepared, log: &mut ScanLog) -> i32 {
    let Estimate::Xml(file) = e else {
        return capture_cmd::estimate(p, false);
    };
    if file.exists() && !a.overwrite {
        log.say(&format!(
            "error: /p:{}: Can't overwrite existing file (give /o)",
            file.display()
        ));
        return exit::PREFLIGHT_FILE;
    }
    if let Err(err) = std::fs::write(file, estimate_xml(p)) {
        log.say(&format!(
            "error: /p:{}: Invalid space estimate path: {err}",
            file.display()
        ));
        return exit::PREFLIGHT_FILE;
    }
    log.say(&format!(
        "estimate written to {}: {} files, {} bytes before compression",
        file.display(),
        p.plan.total_files(),
        p.plan.total_bytes()
    ));
    exit::OK
}

/// Collecting and saving: the store written, verified, and the outcome reported.
fn save(a: &ScanStateArgs, spec: &JobSpec, p: Prepared, log: &mut ScanLog) -> i32 {
    let mb = p.plan.total_bytes().div_ceil(1024 * 1024).to_string();
    progress(spec, &[("PHASE", "Collecting")]);
    progress(spec, &[("totalSizeInMBToTransfer", &mb)]);
    progress(spec, &[("PHASE", "Saving")]);
    log.say(&capture_cmd::starting(&p));
    let c = match job::capture(spec, p) {
        Ok(c) => c,
        Err(e) => return failed(log, spec, &format!("CAPTURE FAILED: {e}"), exit::job(&e)),
    };
    let m = &c.outcome.manifest;
    let mut ignored = 0usize;
    for s in m
        .users
        .iter()
        .chain(m.machine.iter())
        .flat_map(|u| &u.skipped)
    {
        let kind = SkipKind::from(s.kind);
        if kind.is_error() {
            ignored += 1;
            progress(
                spec,
                &[
                    ("error", "UnableToOpen"),
                    ("objectName", &crate::shown::shown(&s.path)),
                    ("action", "Ignore"),
                    ("errorCode", &kind.win32_code().to_string()),
                ],
            );
        }
    }
    progress(spec, &[("numberOfIgnoredErrors", &ignored.to_string())]);
    progress(spec, &[("totalPercentageCompleted", "100")]);
    for l in &c.outcome.log {
        log.lines.push(l.clone());
    }
    let verbose = a.verbosity.unwrap_or(0) & 1 != 0 || a.auto.is_some();
    let text = capture_cmd::summary(&c, verbose);
    log.note(&text);
    output::finish(exit::captured(&c), &text)
}

/// `/genconfig:FILE`: a Config.xml listing the components the rules detect on the
/// offline system (no store is written). FILE `-`, or one that is not a regular file (a pipe,
/// `/dev/stdout`), is an output stream: written as a command's output is (a reader that went
/// away ends it quietly, a full disk is code 72), never refused as an existing file.
fn genconfig(a: &ScanStateArgs, file: &Path, log: &mut ScanLog) -> i32 {
    let target = GenconfigTarget::of(file);
    if target == GenconfigTarget::File && file.exists() && !a.overwrite {
        log.say(&format!(
            "error: /genconfig:{}: Can't overwrite existing file (give /o)",
            file.display()
        ));
        return exit::PREFLIGHT_FILE;
    }
    let spec = match spec(a, &[]) {
        Ok(s) => s,
        Err((code, m)) => return refuse(code, &m),
    };
    let explain = ExplainSpec {
        detect: spec.detect.clone(),
        profiles: spec.profiles.clone(),
        config: spec.config.clone(),
        users: Vec::new(),
    };
    let explained = match job::explain(&explain, &mut chooser(Dest::None)) {
        Ok(x) => x,
        Err(e) => return failed(log, &spec, &e.to_string(), exit::job(&e)),
    };
    for w in &explained.problems {
        log.say(&format!("warning: {}: {}", w.path, w.error));
    }
    let reports: Vec<_> = explained
        .passes
        .iter()
        .flat_map(|p| &p.evaluation.reports)
        .collect();
    let text = crate::rules::configxml::generate(&reports);
    let windir = &explained.installation.installation.windir;
    match target {
        GenconfigTarget::Stdout => output::finish(exit::OK, &text),
        GenconfigTarget::Stream => match std::fs::OpenOptions::new().write(true).open(file) {
            Ok(mut f) => output::finish_to(&mut f, exit::OK, &text),
            Err(e) => genconfig_refused(log, file, &e),
        },
        GenconfigTarget::File => match std::fs::write(file, text) {
            Ok(()) => {
                log.say(&format!(
                    "Config.xml for {windir} written to {}",
                    file.display()
                ));
                exit::OK
            }
            Err(e) => genconfig_refused(log, file, &e),
        },
    }
}

/// Where `/genconfig:` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GenconfigTarget {
    /// `-`: standard output.
    Stdout,
    /// Something there already that is not a regular file or a folder: a pipe, a terminal,
    /// `/dev/stdout`.
    Stream,
    /// A file, made or replaced.
    File,
}

impl GenconfigTarget {
    fn of(file: &Path) -> GenconfigTarget {
        if file.as_os_str() == "-" {
            return GenconfigTarget::Stdout;
        }
        match std::fs::metadata(file) {
            Ok(m) if !m.is_file() && !m.is_dir() => GenconfigTarget::Stream,
            _ => GenconfigTarget::File,
        }
    }
}

fn genconfig_refused(log: &mut ScanLog, file: &Path, e: &std::io::Error) -> i32 {
    log.say(&format!(
        "error: File argument is invalid for /genconfig: {}: {e}",
        file.display()
    ));
    exit::PREFLIGHT_FILE
}
