//! One capture job, the same for every command that captures (`capture`, `auto`, and the
//! ScanState front end): rules loaded → installations detected → one chosen → users chosen
//! → the destination found → the capture planned → the store written and verified. The
//! commands differ only in how they choose ([`Choose`]) and what they print. The same steps
//! up to the rules' evaluation serve the commands that only explain them ([`explain`]:
//! `rules explain`, ScanState's `/genconfig`), and the boot flow's restore side
//! ([`prepare_restore`]).

mod choose;
mod destination;
mod keys;

use crate::shown::Shown;
use crate::store::manifest::Manifest;
use std::path::{Path, PathBuf};

pub use choose::{Choose, Dest};

use crate::capture::compress::{self, CompressionChoice};
use crate::capture::{self, CaptureError, CaptureOptions, CaptureOutcome};
use crate::config::ConfigError;
use crate::detect::{self, DetectError, DetectOptions, Inspected, Problem};
use crate::plan::users::{Precedence, UserPattern};
use crate::plan::{self, PassExplanation, Plan, PlanOptions};
use crate::progress::ProgressLog;
use crate::rules::configxml::{self, ConfigXml};
use crate::rules::{self, RuleSet, RulesError};
use crate::store::layout::{Naming, StoreDirs};

/// What to capture and how, as the command line or the media's config said it.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub detect: DetectOptions,
    /// Profiles and MigXML files (built-in names or paths), in order; empty = `user`.
    pub profiles: Vec<String>,
    /// `--users` patterns; empty = every real user (or, at the boot console, a choice).
    pub users: Vec<UserPattern>,
    pub unused_days: Option<u64>,
    pub compression: CompressionChoice,
    /// ScanState `/c`: skip what cannot be read instead of stopping.
    pub continue_on_error: bool,
    pub overwrite: bool,
    /// Parts of this many MiB; FAT destinations are split at 4000 MiB anyway.
    pub split_mib: Option<u64>,
    pub threads: u32,
    /// No progress output (JSON mode).
    pub quiet: bool,
    /// A USMT Config.xml (`/config`): components switched off, `<ErrorControl>`,
    /// `<ProfileControl>`.
    pub config: Option<PathBuf>,
    /// How `users` and `unused_days` combine (`--users`, or ScanState's `/ui /ue /uel`).
    pub precedence: Precedence,
    /// `DEST/<COMPUTER>-<stamp>` or DEST itself (ScanState's StorePath).
    pub naming: Naming,
    /// ScanState's `/progress` log.
    pub progress_log: Option<ProgressLog>,
    /// Files whose disk lost some of their bytes: kept with zeros, or left out.
    pub damaged: crate::capture::DamagedFiles,
    /// The command line as the manifest records it: every secret's value replaced by the
    /// command line's own parser, which alone knows which options take one.
    pub command_line: Vec<String>,
}

/// Why a job ended without a store. Each names what it is about; `cli` maps them to
/// USMT's exit codes.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// Config.xml cannot be read (ScanState's code 39).
    #[error("Config.xml: {0}")]
    ConfigXml(RulesError),
    #[error("{}: a store is already there; give /o (--overwrite) to replace it", .path.display())]
    StoreTaken { path: PathBuf },
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// Nothing to capture; what detect could not read says why (a locked volume, a wrong
    /// key, a damaged one).
    #[error("no offline Windows installation was found{}", Problems(.problems))]
    NoInstallation { problems: Vec<Problem> },
    #[error("{count} Windows installations were found; {how}:\n{list}")]
    Ambiguous {
        count: usize,
        how: &'static str,
        list: String,
    },
    #[error("there is no installation {n}; choose one of:\n{list}")]
    NoSuchInstallation { n: usize, list: String },
    #[error("no answer at the console: {question}")]
    NoAnswer { question: &'static str },
    #[error("{0}")]
    BadAnswer(String),
    /// A store was to be written by a job prepared without a destination (an estimate's).
    #[error("no destination for the store was given: give --dest DIR (ScanState: StorePath)")]
    NoDestinationGiven,
    #[error("no destination found: {}", .tried.join("; "))]
    NoDestination { tried: Vec<String> },
    #[error("{}: {reason} (is the USB stick plugged in, the share connected with `net use`?)", .path.display())]
    BadDestination { path: PathBuf, reason: String },
    /// The destination lies on the source, which is evidence and never written.
    #[error("{}: this is on the source being captured ({}), which is never written; write the store to another disk", .dest.display(), .root.display())]
    DestinationOnSource { dest: PathBuf, root: PathBuf },
    #[error("--list-files {}: {source}", .path.display())]
    ListFiles {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("no complete store for {computer} was found")]
    NoStore { computer: String },
}

/// Everything decided before a byte is copied.
pub struct Prepared {
    /// What detect could not read; the rest stands (shown as warnings).
    pub problems: Vec<Problem>,
    pub installation: Inspected,
    pub plan: Plan,
    /// The profiles and MigXML files the rules came from, as recorded in the manifest.
    pub rules_used: Vec<String>,
    /// The Config.xml the job was given.
    pub config: Option<ConfigXml>,
    /// Where the store goes (`None` for an estimate without `--dest`).
    pub dest: Option<PathBuf>,
    pub now_unix: i64,
}

/// A finished, verified store.
pub struct Captured {
    pub outcome: CaptureOutcome,
    /// Some data could not be read and was skipped (`--continue`): ScanState's exit code 3.
    pub skipped_errors: bool,
}

/// The rules of a job: its profiles merged in order (`user` when none was given).
pub fn load_rules(profiles: &[String]) -> Result<(RuleSet, Vec<String>), RulesError> {
    let names: Vec<String> = if profiles.is_empty() {
        vec!["user".into()]
    } else {
        profiles.to_vec()
    };
    let mut set = RuleSet::default();
    for n in &names {
        set.merge(rules::load_profile(n)?);
    }
    Ok((set, names))
}

/// A job's rules: its profiles merged, its Config.xml applied.
pub struct JobRules {
    pub set: RuleSet,
    /// The profiles and MigXML files the rules came from, as recorded in the manifest.
    pub used: Vec<String>,
    pub config: Option<ConfigXml>,
    /// Components the Config.xml switched off (`migrate="no"`), by name.
    pub switched_off: Vec<String>,
}

/// The rules of `profiles` (`user` when none) with the Config.xml at `config` applied
/// (components it switches off dropped, its warnings kept).
pub fn load_job_rules(profiles: &[String], config: Option<&Path>) -> Result<JobRules, JobError> {
    let (mut set, used) = load_rules(profiles)?;
    let Some(path) = config else {
        return Ok(JobRules {
            set,
            used,
            config: None,
            switched_off: Vec::new(),
        });
    };
    let config = configxml::load(path).map_err(JobError::ConfigXml)?;
    let switched_off = config.apply(&mut set);
    set.warnings.extend(config.warnings.iter().cloned());
    Ok(JobRules {
        set,
        used,
        config: Some(config),
        switched_off,
    })
}

/// A store folder given as ScanState's StorePath must not hold a store unless it is to be
/// replaced; it is made when missing.
fn check_in_place(dest: &Path, overwrite: bool) -> Result<(), JobError> {
    let dirs = StoreDirs::new(dest, "", "", Naming::InPlace);
    if dirs.taken() && !overwrite {
        return Err(JobError::StoreTaken {
            path: dest.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dest).map_err(|e| JobError::BadDestination {
        path: dest.to_path_buf(),
        reason: format!("cannot be made: {e}"),
    })
}

/// Refuses a destination on or under a folder the source's drive letters lead to (or its
/// Windows root): the store would be written onto the evidence. Both sides are compared
/// as the host resolves them, so `..` and links cannot hide the overlap.
fn check_off_source(dest: &Path, source: &Inspected) -> Result<(), JobError> {
    let dest_real = resolved(dest);
    let roots = source
        .letters
        .letters()
        .flat_map(|(_, places)| places.iter().filter_map(|p| p.host_path()))
        .chain(source.root.host_path());
    for root in roots {
        let Ok(root_real) = root.canonicalize() else {
            continue;
        };
        if dest_real.starts_with(&root_real) {
            return Err(JobError::DestinationOnSource {
                dest: dest.to_path_buf(),
                root,
            });
        }
    }
    Ok(())
}

/// `path` as the host resolves it: its deepest existing ancestor canonicalized (links and
/// `..` followed), the components still to be made appended with `..` applied.
fn resolved(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    let mut real = loop {
        if let Ok(r) = existing.canonicalize() {
            break r;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => break existing.to_path_buf(),
        }
    };
    for c in rest.into_iter().rev() {
        match c {
            std::path::Component::ParentDir => {
                real.pop();
            }
            std::path::Component::Normal(n) => real.push(n),
            _ => {}
        }
    }
    real
}

/// Detects, chooses and plans. Bad rules are refused before any disk is scanned, and the
/// destination is found before the (long) walk of the user's files.
pub fn prepare(spec: &JobSpec, choose: &mut Choose<'_>) -> Result<Prepared, JobError> {
    let JobRules {
        mut set,
        used: rules_used,
        config,
        switched_off,
    } = load_job_rules(&spec.profiles, spec.config.as_deref())?;
    if let Some(c) = &config {
        for name in switched_off {
            set.warnings
                .push(format!("{name}: migrate=\"no\" in {}", c.source));
        }
    }
    let detection = detect_unlocking(&spec.detect, choose)?;
    let problems = detection.report.problems.clone();
    let installation = choose
        .installation(detection.inspected)
        .map_err(|e| with_problems(e, &problems))?;
    let users = choose.users(&installation.installation, &spec.users)?;
    let dest = choose.destination(&installation.installation)?;
    if let Some(d) = &dest {
        check_off_source(d, &installation)?;
    }
    if let Some(d) = dest.as_ref().filter(|_| spec.naming == Naming::InPlace) {
        check_in_place(d, spec.overwrite)?;
    }
    if let Some(d) = &dest {
        if !d.is_dir() {
            return Err(JobError::BadDestination {
                path: d.clone(),
                reason: "does not exist or cannot be reached".into(),
            });
        }
    }
    let now_unix = crate::time::now_unix();
    let plan = plan::build(
        &installation,
        &set,
        &PlanOptions {
            users,
            unused_days: spec.unused_days,
            check_readable: true,
            now_unix,
            precedence: spec.precedence,
        },
    );
    Ok(Prepared {
        problems,
        installation,
        plan,
        rules_used,
        config,
        dest,
        now_unix,
    })
}

/// No installation: said with what detect could not read.
fn with_problems(e: JobError, problems: &[Problem]) -> JobError {
    match e {
        JobError::NoInstallation { .. } => JobError::NoInstallation {
            problems: problems.to_vec(),
        },
        e => e,
    }
}

/// Detect's problems under an error, one a line, escaped: they name what the disk holds.
struct Problems<'a>(&'a [Problem]);

impl std::fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in self.0 {
            let (path, error) = (Shown(&p.path), Shown(&p.error));
            write!(f, "\n  {path}: {error}")?;
        }
        Ok(())
    }
}

/// Detection, and when a volume is BitLocker-locked and someone can be asked, its recovery
/// key asked at the console and detection again with it (a few rounds: a key that does not
/// open it is asked for again).
fn detect_unlocking(
    opts: &DetectOptions,
    choose: &Choose<'_>,
) -> Result<detect::Detection, JobError> {
    let mut detection = detect::detect(opts)?;
    if !choose.ask {
        return Ok(detection);
    }
    let mut opts = opts.clone();
    for _ in 0..keys::KEY_ROUNDS {
        let locked = keys::locked(&detection.report.scanned);
        if locked.is_empty() {
            break;
        }
        let Some(more) = keys::ask(&locked) else {
            break;
        };
        let mut all = (*opts.scan.keys).clone();
        all.merge(more);
        opts.scan.keys = std::sync::Arc::new(all);
        detection = detect::detect(&opts)?;
    }
    Ok(detection)
}

/// Writes the store: files, settings, manifest, verification, final name. Takes the
/// prepared job whole: its file lists are let go as soon as wimlib holds the files.
pub fn capture(spec: &JobSpec, mut p: Prepared) -> Result<Captured, JobError> {
    let dest = p.dest.clone().ok_or(JobError::NoDestinationGiven)?;
    let on_fat = crate::platform::volume_for_path(&dest).is_some_and(|v| v.is_fat());
    let chosen = compress::decide(spec.compression, &dest, p.plan.total_bytes(), spec.threads);
    if !spec.quiet {
        crate::console::say(&chosen.to_string());
    }
    let opts = CaptureOptions {
        split_bytes: spec
            .split_mib
            .map(|m| m.saturating_mul(1024 * 1024))
            .or(on_fat.then_some(capture::FAT32_PART)),
        dest,
        compression: chosen.compression,
        continue_on_error: spec.continue_on_error,
        overwrite: spec.overwrite,
        threads: spec.threads,
        rules_used: p.rules_used.clone(),
        command_line: spec.command_line.clone(),
        quiet: spec.quiet,
        working_dir: std::env::var_os("USMT_WORKING_DIR").map(PathBuf::from),
        stamp: crate::time::unix_to_compact(p.now_unix),
        started: crate::time::unix_to_rfc3339(p.now_unix),
        naming: spec.naming,
        error_control: p
            .config
            .as_ref()
            .map(|c| c.error_control.clone())
            .unwrap_or_default(),
        profile_control: p
            .config
            .as_ref()
            .map(|c| c.profile_control.clone())
            .filter(|c| !c.is_empty()),
        progress_log: spec.progress_log.clone(),
        damaged: spec.damaged,
    };
    let outcome = capture::capture(&p.installation, &mut p.plan, &opts)?;
    // What the store holds less than the disk did: files left out for an error, and files
    // kept with bytes their disk lost (both ScanState's code 3).
    let records = || {
        outcome
            .manifest
            .users
            .iter()
            .chain(&outcome.manifest.machine)
    };
    let skipped_errors = records().any(|r| {
        !r.damaged.is_empty()
            || r.skipped
                .iter()
                .any(|s| crate::plan::SkipKind::from(s.kind).is_error())
    });
    Ok(Captured {
        outcome,
        skipped_errors,
    })
}

/// What `rules explain` and ScanState's `/genconfig` evaluate: rules, on one installation,
/// for the machine and the users named.
#[derive(Debug, Clone)]
pub struct ExplainSpec {
    pub detect: DetectOptions,
    /// Profiles and MigXML files (built-in names or paths), in order; empty = `user`.
    pub profiles: Vec<String>,
    /// A USMT Config.xml: the components it switches off are left out.
    pub config: Option<PathBuf>,
    /// Whose passes are shown besides the machine's; empty = every real user.
    pub users: Vec<UserPattern>,
}

/// The rules evaluated on the chosen installation, without walking a file.
pub struct Explained {
    /// What detect could not read; the rest stands (shown as warnings).
    pub problems: Vec<Problem>,
    pub installation: Inspected,
    pub passes: Vec<PassExplanation>,
    /// Components the Config.xml switched off.
    pub switched_off: Vec<String>,
}

/// Rules → detect → choose → evaluate, for the machine and each user `spec` names. Bad
/// rules are refused before any disk is scanned.
pub fn explain(spec: &ExplainSpec, choose: &mut Choose<'_>) -> Result<Explained, JobError> {
    let rules = load_job_rules(&spec.profiles, spec.config.as_deref())?;
    let detection = detect_unlocking(&spec.detect, choose)?;
    let problems = detection.report.problems.clone();
    let installation = choose
        .installation(detection.inspected)
        .map_err(|e| with_problems(e, &problems))?;
    let opts = PlanOptions {
        users: spec.users.clone(),
        now_unix: crate::time::now_unix(),
        ..Default::default()
    };
    let passes = plan::explain(&installation, &rules.set, &opts);
    Ok(Explained {
        problems,
        installation,
        passes,
        switched_off: rules.switched_off,
    })
}

/// What a restore at boot works on: the Windows on this machine to restore into, and the
/// store chosen from the destination the config names.
pub struct RestoreChoice {
    pub installation: Inspected,
    pub store: PathBuf,
}

/// The restore side of the boot flow: detect → choose the Windows → find the stores'
/// place as a capture would → choose the store.
pub fn prepare_restore(
    detect: &DetectOptions,
    choose: &mut Choose<'_>,
) -> Result<RestoreChoice, JobError> {
    let detection = detect::detect(detect)?;
    let installation = choose.installation(detection.inspected)?;
    let dest = choose
        .destination(&installation.installation)?
        .ok_or(JobError::NoDestination { tried: Vec::new() })?;
    let stores = crate::store::layout::complete_stores(&dest);
    let computer = installation
        .installation
        .computer_name
        .clone()
        .unwrap_or_default();
    let store = choose.store(&stores, &computer)?;
    Ok(RestoreChoice {
        installation,
        store,
    })
}

/// ScanState `/listfiles`: every file the plan takes, one Windows path a line.
/// Marks the damaged files in a list written by [`write_file_list`], once the capture says
/// which they are: each one's line gets the byte ranges its disk lost.
pub fn mark_damaged_in_list(manifest: &Manifest, path: &Path) -> Result<(), JobError> {
    let damaged: std::collections::HashMap<String, &crate::store::manifest::Damaged> = manifest
        .users
        .iter()
        .chain(&manifest.machine)
        .flat_map(|r| &r.damaged)
        .map(|d| (crate::shown::shown(&d.path), d))
        .collect();
    if damaged.is_empty() {
        return Ok(());
    }
    let io = |source| JobError::ListFiles {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut out = String::with_capacity(text.len());
    for line in text.split_terminator("\r\n") {
        out.push_str(line);
        if let Some(d) = damaged.get(line) {
            out.push_str(&format!("\t(damaged: {d})"));
        }
        out.push_str("\r\n");
    }
    std::fs::write(path, out).map_err(io)
}

pub fn write_file_list(plan: &Plan, path: &Path) -> Result<(), JobError> {
    let mut text = String::new();
    for p in plan.passes() {
        for f in p.files.iter() {
            text.push_str(&crate::shown::shown(&f.win()));
            text.push_str("\r\n");
        }
    }
    std::fs::write(path, text).map_err(|source| JobError::ListFiles {
        path: path.to_path_buf(),
        source,
    })
}
