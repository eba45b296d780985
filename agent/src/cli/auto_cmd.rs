//! `lifeboat auto`: what WinPE runs at boot. The capture job with the media's config:
//! detect, choose the installation and users (asking at the console unless the config says
//! unattended), find the destination in the config's order (a LIFEBOAT stick, a marker file,
//! the boot stick, a network share with credentials asked without echo and never stored),
//! check the space, capture, verify, and leave a summary readable from across the room.

use super::volume_args::{RescueArgs, VolumeArgs};
use crate::detect::scan::ScanOptions;
use std::path::PathBuf;

use clap::Args;

use super::capture_cmd::{starting, summary};
use super::{exit, output};
use crate::config::Config;
use crate::console::{banner, say};
use crate::detect::{DetectOptions, Source};
use crate::job::{self, Choose, Dest, JobError, JobSpec};
use crate::media_layout::MediaLayout;
use crate::platform;
use crate::progress::human;
use crate::rules::builtin::is_builtin;

#[derive(Args, Debug)]
#[command(after_help = "Reference: docs/commands/auto.md")]
pub struct AutoArgs {
    /// The media's config (X:\Lifeboat\config.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Volumes to scan instead of every lettered one (Linux, tests).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub volume: VolumeArgs,
    #[command(flatten)]
    pub rescue: RescueArgs,
}

fn spec(
    config: &Config,
    config_path: &std::path::Path,
    roots: Vec<PathBuf>,
    scan: ScanOptions,
) -> JobSpec {
    let media = MediaLayout::of_config(config_path);
    let mut detect = DetectOptions::new(roots, Source::Auto);
    detect.scan = scan;
    JobSpec {
        detect,
        profiles: config
            .profiles
            .iter()
            .map(|p| media.resolve_profile(p, &is_builtin))
            .collect(),
        users: config.users.clone(),
        unused_days: None,
        compression: config.compression,
        continue_on_error: config.continue_on_error,
        overwrite: false,
        split_mib: None,
        threads: 0,
        quiet: false,
        config: None,
        precedence: Default::default(),
        naming: Default::default(),
        progress_log: None,
        damaged: Default::default(),
        command_line: super::volume_args::redacted_args(),
    }
}

pub fn run(args: AutoArgs) -> i32 {
    banner("LIFEBOAT - rescue files and settings from this machine's Windows");
    let config = match Config::load(&args.config, &is_builtin) {
        Ok(c) => c,
        Err(e) => {
            say(&format!("error: the media's config is not usable: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    let scan = match args.volume.scan_options() {
        Ok(s) => ScanOptions {
            rescue: args.rescue.rescue(),
            ..s
        },
        Err(e) => {
            say(&format!("error: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    let spec = spec(&config, &args.config, args.roots, scan);
    let mut choose = Choose {
        select: None,
        ask: !config.unattended,
        pick_users: true,
        how_to_choose: "the config is unattended, so nothing is asked: run `lifeboat capture --select N` or set unattended: false",
        dest: Dest::Search(&config.destinations),
    };
    if choose.mode(config.mode) == crate::config::Mode::Restore {
        return super::auto_restore::run(&config, &spec.detect, &mut choose);
    }
    let prepared = match job::prepare(&spec, &mut choose) {
        Ok(p) => p,
        Err(e) => return nothing_captured(&e),
    };
    for p in &prepared.problems {
        say(&format!(
            "note: {}: {}{}",
            p.path,
            p.error,
            p.hint
                .as_deref()
                .map(|h| format!(" -> {h}"))
                .unwrap_or_default()
        ));
    }
    let free = prepared
        .dest
        .as_deref()
        .and_then(|d| platform::free_space(d).ok())
        .unwrap_or(u64::MAX);
    say(&format!(
        "{} (free there: {})",
        starting(&prepared),
        human(free)
    ));
    if free < prepared.plan.total_bytes() {
        say("warning: less free space than the files' size; compression may still make it fit");
    }
    match job::capture(&spec, prepared) {
        Ok(c) => {
            banner(if c.skipped_errors {
                "DONE - STORE COMPLETE, SOME FILES SKIPPED (see manifest)"
            } else {
                "DONE - STORE COMPLETE AND VERIFIED"
            });
            let code = output::finish(exit::captured(&c), &summary(&c, false));
            if config.shutdown {
                if let Err(e) = platform::shutdown() {
                    say(&format!("warning: cannot shut down: {e}"));
                }
            }
            code
        }
        Err(e) => {
            banner("CAPTURE FAILED - THE STORE IS MARKED INCOMPLETE");
            say(&e.to_string());
            exit::job(&e)
        }
    }
}

/// Why nothing was captured, with what to do, and the exit code.
fn nothing_captured(e: &JobError) -> i32 {
    let headline = match e {
        JobError::NoDestination { .. } | JobError::BadDestination { .. } => {
            "NOTHING CAPTURED: no place to write the store".to_string()
        }
        _ => format!(
            "NOTHING CAPTURED: {}",
            e.to_string().lines().next().unwrap_or("")
        ),
    };
    banner(&headline);
    say(&e.to_string());
    if matches!(e, JobError::NoDestination { .. }) {
        say("Plug in a USB stick labelled LIFEBOAT (or with the marker file) and run lifeboat auto again.");
    }
    exit::job(e)
}
