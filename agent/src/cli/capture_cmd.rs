//! `lifeboat capture`: detect → plan → capture → store, with ScanState's habits.

use crate::shown::Shown;
use std::path::PathBuf;

use clap::Args;

use super::detect_cmd::SourceArgs;
use super::volume_args::KeyError;
use super::{exit, output};
use crate::capture::compress::CompressionChoice;
use crate::capture::DamagedFiles;
use crate::console::{self, say};
use crate::job::{self, Captured, Choose, Dest, JobError, JobSpec, Prepared};
use crate::plan::{users::UserPattern, Plan};
use crate::progress::human;
use crate::store::manifest::Manifest;

#[derive(Args, Debug)]
#[command(
    after_help = "Profiles: documents, user (default), full, or a YAML profile / USMT MigXML file (several may be given, like /i:).\n\
Users: --users ann --users 'CONTOSO\\*' --users '!*\\guest' --users 'S-1-5-21-*-1001'.\n\
Exit codes (as USMT): 0 complete, 3 complete with skipped files (--continue), 11 bad options,\n\
26 no installation chosen, 27 bad destination, 28 bad profile, 61 stopped on an unreadable file, 72 failed while writing.\n\
Reference: docs/commands/capture.md"
)]
pub struct CaptureArgs {
    /// Volumes or folders to scan (as for detect).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Which installation, when several are found (its number in `lifeboat detect`).
    #[arg(long, value_name = "N")]
    pub select: Option<usize>,
    /// Folder that receives the store (a USB stick, a mapped share).
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// Capture profile: documents, user, full, or a YAML/MigXML file. Repeatable.
    #[arg(long = "profile", value_name = "NAME|FILE")]
    pub profiles: Vec<String>,
    /// Users to take or (with a leading !) leave: name, DOMAIN\name, *\name, SID patterns.
    #[arg(long = "users", value_name = "PATTERN")]
    pub users: Vec<UserPattern>,
    /// Leave out profiles not used for N days.
    #[arg(long, value_name = "N")]
    pub unused_days: Option<u64>,
    /// WIM compression: auto (default: none or xpress, from a short measurement of the
    /// destination's write speed; it says what it chose and why), xpress, lzx, lzms, none.
    #[arg(long, value_name = "TYPE", default_value = "auto")]
    pub compress: CompressionChoice,
    /// Skip unreadable files (logged, counted) instead of stopping at the first one.
    #[arg(long = "continue")]
    pub continue_on_error: bool,
    /// Only count files and bytes per user and check the destination's free space.
    #[arg(long)]
    pub estimate: bool,
    /// Write the list of files that are (or would be) captured to FILE.
    #[arg(long, value_name = "FILE")]
    pub list_files: Option<PathBuf>,
    /// Also write the log to FILE (it is always written into the store).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Replace a store of the same name.
    #[arg(long)]
    pub overwrite: bool,
    /// Split the WIM into parts of SIZE MiB (automatic, 4000, on FAT destinations).
    #[arg(long, value_name = "MIB")]
    pub split: Option<u64>,
    /// Compressor threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: u32,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Say more (every skipped file).
    #[arg(short, long)]
    pub verbose: bool,
    /// A file with bytes on bad sectors: keep it with zeros where they were lost (named
    /// with the ranges lost in the manifest and summary), or skip it.
    #[arg(long, value_enum, value_name = "keep|skip", default_value = "keep")]
    pub damaged: DamagedArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum DamagedArg {
    #[default]
    Keep,
    Skip,
}

impl From<DamagedArg> for DamagedFiles {
    fn from(d: DamagedArg) -> DamagedFiles {
        match d {
            DamagedArg::Keep => DamagedFiles::Keep,
            DamagedArg::Skip => DamagedFiles::Skip,
        }
    }
}

impl CaptureArgs {
    fn spec(&self) -> Result<JobSpec, KeyError> {
        Ok(JobSpec {
            detect: self.source.options(&self.roots)?,
            profiles: self.profiles.clone(),
            users: self.users.clone(),
            unused_days: self.unused_days,
            compression: self.compress,
            continue_on_error: self.continue_on_error,
            overwrite: self.overwrite,
            split_mib: self.split,
            threads: self.threads,
            quiet: self.json,
            config: None,
            precedence: Default::default(),
            naming: Default::default(),
            progress_log: None,
            damaged: self.damaged.into(),
            command_line: super::volume_args::redacted_args(),
        })
    }
}

pub fn run(args: CaptureArgs) -> i32 {
    if args.dest.is_none() && !args.estimate {
        say("error: --dest DIR is required (where the store is written)");
        return exit::INVALID_PARAMETERS;
    }
    let spec = match args.spec() {
        Ok(s) => s,
        Err(e) => {
            say(&format!("error: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    let mut choose = Choose {
        select: args.select,
        ask: console::interactive(),
        pick_users: false,
        how_to_choose: "choose one with --select N",
        dest: args.dest.clone().map_or(Dest::None, Dest::Folder),
    };
    let prepared = match job::prepare(&spec, &mut choose) {
        Ok(p) => p,
        Err(e) => return fail(&e, args.json),
    };
    for p in &prepared.problems {
        say(&format!(
            "warning: {}: {}",
            Shown(&p.path),
            Shown(&p.error.to_string())
        ));
    }
    if let Some(list) = &args.list_files {
        if let Err(e) = job::write_file_list(&prepared.plan, list) {
            return fail(&e, args.json);
        }
    }
    if args.estimate {
        return estimate(&prepared, args.json);
    }
    if !args.json {
        say(&starting(&prepared));
    }
    match job::capture(&spec, prepared) {
        Ok(c) => {
            let code = exit::captured(&c);
            rescue_note(&spec);
            if let Some(list) = &args.list_files {
                if let Err(e) = job::mark_damaged_in_list(&c.outcome.manifest, list) {
                    say(&format!("warning: {e}"));
                }
            }
            if let Some(l) = &args.log {
                if let Err(e) = std::fs::write(l, c.outcome.log.join("\n") + "\n") {
                    say(&format!("warning: --log {}: {e}", l.display()));
                }
            }
            let text = if args.json {
                output::json(&serde_json::json!({
                    "complete": true, "store": c.outcome.store, "exit_code": code,
                    "manifest": c.outcome.manifest,
                }))
            } else {
                summary(&c, args.verbose)
            };
            output::finish(code, &text)
        }
        Err(e) => fail(&e, args.json),
    }
}

/// Where the rescue of a failing disk (`--map`) stands, its map saved.
fn rescue_note(spec: &JobSpec) {
    match spec.detect.scan.rescue.as_ref().and_then(|r| r.finish()) {
        Some(Ok(state)) => say(&format!("rescue: {state}")),
        Some(Err(e)) => say(&format!("warning: the rescue map could not be saved: {e}")),
        None => {}
    }
}

/// Says why the job ended and returns its exit code.
fn fail(e: &JobError, json: bool) -> i32 {
    let code = exit::job(e);
    if json {
        return output::finish(
            code,
            &output::json(&serde_json::json!({
                "complete": false, "error": e.to_string(), "exit_code": code,
            })),
        );
    }
    match e {
        JobError::Capture(_) => say(&format!("CAPTURE FAILED: {e}")),
        _ => say(&format!("error: {e}")),
    }
    code
}

pub(super) fn starting(p: &Prepared) -> String {
    let ins = &p.installation.installation;
    let on_fat = p
        .dest
        .as_deref()
        .and_then(crate::platform::volume_for_path)
        .is_some_and(|v| v.is_fat());
    format!(
        "Capturing {} ({}){}: {} users, {} files, {}{}",
        ins.windir,
        ins.computer_name.as_deref().unwrap_or("?"),
        p.dest
            .as_ref()
            .map(|d| format!(" to {}", d.display()))
            .unwrap_or_default(),
        p.plan.users.len(),
        p.plan.total_files(),
        human(p.plan.total_bytes()),
        if on_fat {
            " (FAT destination: split WIM)"
        } else {
            ""
        }
    )
}

/// At most `n` characters, an ellipsis marking a cut.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

pub(super) fn estimate(p: &Prepared, json: bool) -> i32 {
    let plan: &Plan = &p.plan;
    let free = p
        .dest
        .as_deref()
        .and_then(|d| crate::platform::free_space(d).ok());
    let enough = free.is_none_or(|f| f >= plan.total_bytes());
    let code = if enough { exit::OK } else { exit::BAD_STORE };
    if json {
        let users: Vec<_> = plan
            .passes()
            .map(|p| serde_json::json!({"sid": p.sid, "name": p.name, "files": p.files.len(), "bytes": p.bytes, "skipped": p.skipped.len(), "registry_keys": p.registry.len(), "components": p.components}))
            .collect();
        let v = serde_json::json!({"estimate": users, "total_files": plan.total_files(), "total_bytes": plan.total_bytes(), "destination_free_bytes": free, "enough_space": enough});
        return output::finish(code, &output::json(&v));
    }
    let mut s = format!(
        "{:<32} {:>10} {:>12} {:>8}\n",
        "USER", "FILES", "SIZE", "SKIPPED"
    );
    for p in plan.passes() {
        s.push_str(&format!(
            "{:<32} {:>10} {:>12} {:>8}\n",
            p.name,
            p.files.len(),
            human(p.bytes),
            p.skipped.len()
        ));
        for c in &p.components {
            s.push_str(&format!(
                "  {:<30} {:>10} {:>12}\n",
                truncate(&c.component, 30),
                c.files,
                human(c.bytes)
            ));
        }
    }
    s.push_str(&format!(
        "{:<32} {:>10} {:>12}\n",
        "TOTAL (before compression)",
        plan.total_files(),
        human(plan.total_bytes())
    ));
    if let Some(f) = free {
        s.push_str(&format!(
            "free at destination: {}{}\n",
            human(f),
            if enough {
                ""
            } else {
                "  -- NOT ENOUGH (compression may still make it fit)"
            }
        ));
    }
    output::finish(code, &s)
}

/// The end of a capture, readable from across the room.
pub(super) fn summary(c: &Captured, verbose: bool) -> String {
    let m: &Manifest = &c.outcome.manifest;
    let mut s = format!(
        "\nSTORE COMPLETE AND VERIFIED: {}\n",
        c.outcome.store.display()
    );
    for u in m.users.iter().chain(m.machine.iter()) {
        s.push_str(&format!(
            "  {:<30} {:>8} files {:>12}   {} settings{}\n",
            Shown(&u.name).to_string(),
            u.files,
            human(u.bytes),
            u.registry_values,
            if u.skipped.is_empty() {
                String::new()
            } else {
                format!("   {} skipped", u.skipped.len())
            }
        ));
        if verbose {
            for sk in &u.skipped {
                s.push_str(&format!(
                    "      skipped {}: {}\n",
                    Shown(&sk.path),
                    Shown(&sk.reason.to_string())
                ));
            }
        }
    }
    for l in &m.users_left {
        s.push_str(&format!(
            "  not captured: {} - {}\n",
            Shown(&l.name),
            Shown(&l.reason.to_string())
        ));
    }
    let skipped = m.totals.skipped;
    if skipped > 0 {
        s.push_str(&format!(
            "  {skipped} file(s) skipped: see manifest.yaml{}\n",
            if verbose { "" } else { " (or -v)" }
        ));
    }
    let damaged: Vec<_> = m
        .users
        .iter()
        .chain(m.machine.iter())
        .flat_map(|u| &u.damaged)
        .collect();
    if !damaged.is_empty() {
        s.push_str(&format!(
            "  {} file(s) DAMAGED: kept with zeros where their disk lost bytes:\n",
            damaged.len()
        ));
        for d in damaged.iter().take(20) {
            s.push_str(&format!("    {}: {d}\n", Shown(&d.path)));
        }
        if damaged.len() > 20 {
            s.push_str(&format!(
                "    and {} more: see manifest.yaml\n",
                damaged.len() - 20
            ));
        }
    }
    s.push_str("  Cannot travel in any store, handle by hand:\n");
    for t in &m.cannot_travel {
        s.push_str(&format!("   - {t}\n"));
    }
    s
}
