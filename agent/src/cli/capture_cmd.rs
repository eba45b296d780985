//! `lifeboat capture`: detect → plan → capture → store, with ScanState's habits.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::detect_cmd::SourceArgs;
use super::exit;
use crate::capture::progress::human;
use crate::capture::{self, CaptureOptions};
use crate::detect::{self, Inspected};
use crate::plan::{self, users::UserPattern, Plan, PlanOptions};
use crate::rules::{self, RuleSet};
use crate::wim::Compression;

#[derive(Args, Debug)]
#[command(
    after_help = "Profiles: documents, user (default), full, or a YAML profile / USMT MigXML file (several may be given, like /i:).\n\
Users: --users ann --users 'CONTOSO\\*' --users '!*\\guest' --users 'S-1-5-21-*-1001'.\n\
Exit codes (as USMT): 0 complete, 3 complete with skipped files (--continue), 11 bad options,\n\
26 no installation chosen, 27 bad destination, 28 bad profile, 61 stopped on an unreadable file, 72 failed while writing."
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
    pub users: Vec<String>,
    /// Leave out profiles not used for N days.
    #[arg(long, value_name = "N")]
    pub unused_days: Option<u64>,
    /// WIM compression: lzx (default), xpress, lzms, none.
    #[arg(long, value_name = "TYPE", default_value = "lzx")]
    pub compress: String,
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
}

fn load_rules(profiles: &[String]) -> Result<(RuleSet, Vec<String>), String> {
    let names: Vec<String> = if profiles.is_empty() {
        vec!["user".into()]
    } else {
        profiles.to_vec()
    };
    let mut set = RuleSet::default();
    for n in &names {
        set.merge(rules::load_profile(n).map_err(|e| e.to_string())?);
    }
    Ok((set, names))
}

/// One installation: the only one, `--select N`, or the technician's choice at the console.
fn choose(mut inspected: Vec<Inspected>, select: Option<usize>) -> Result<Inspected, String> {
    if inspected.is_empty() {
        return Err("no offline Windows installation found".into());
    }
    let list = inspected
        .iter()
        .map(|i| {
            let x = &i.installation;
            format!(
                "  [{}] {} - {} {} ({})",
                x.index,
                x.windir,
                x.family.as_deref().unwrap_or("?"),
                x.display_version.as_deref().unwrap_or(""),
                x.computer_name.as_deref().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let n = match select {
        Some(n) => n,
        None if inspected.len() == 1 => 1,
        None if std::io::stdin().is_terminal() => {
            eprintln!("Several Windows installations were found:\n{list}");
            eprint!("Capture which one? [1-{}] ", inspected.len());
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            line.trim()
                .parse()
                .map_err(|_| format!("\"{}\" is not a number", line.trim()))?
        }
        None => {
            return Err(format!(
                "several Windows installations were found; choose one with --select N:\n{list}"
            ))
        }
    };
    if n == 0 || n > inspected.len() {
        return Err(format!(
            "--select {n}: there is no installation {n}:\n{list}"
        ));
    }
    Ok(inspected.swap_remove(n - 1))
}

fn write_list(path: &PathBuf, plan: &Plan) -> Result<(), String> {
    let mut text = String::new();
    for p in plan.passes() {
        for f in &p.files {
            text.push_str(&f.win);
            text.push_str("\r\n");
        }
    }
    std::fs::write(path, text).map_err(|e| format!("--list-files {}: {e}", path.display()))
}

fn print_estimate(plan: &Plan, dest: Option<&PathBuf>, json: bool) -> i32 {
    let free = dest.and_then(|d| crate::platform::free_space(d).ok());
    let enough = free.is_none_or(|f| f >= plan.total_bytes());
    if json {
        let users: Vec<_> = plan
            .passes()
            .map(|p| serde_json::json!({"sid": p.sid, "name": p.name, "files": p.files.len(), "bytes": p.bytes, "skipped": p.skipped.len(), "registry_keys": p.registry.len()}))
            .collect();
        let v = serde_json::json!({"estimate": users, "total_files": plan.total_files(), "total_bytes": plan.total_bytes(), "destination_free_bytes": free, "enough_space": enough});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "{:<32} {:>10} {:>12} {:>8}",
            "USER", "FILES", "SIZE", "SKIPPED"
        );
        for p in plan.passes() {
            println!(
                "{:<32} {:>10} {:>12} {:>8}",
                p.name,
                p.files.len(),
                human(p.bytes),
                p.skipped.len()
            );
        }
        println!(
            "{:<32} {:>10} {:>12}",
            "TOTAL (before compression)",
            plan.total_files(),
            human(plan.total_bytes())
        );
        if let Some(f) = free {
            println!(
                "free at destination: {}{}",
                human(f),
                if enough {
                    ""
                } else {
                    "  -- NOT ENOUGH (compression may still make it fit)"
                }
            );
        }
    }
    if enough {
        exit::OK
    } else {
        exit::BAD_STORE
    }
}

pub fn run(args: CaptureArgs) -> i32 {
    let compression: Compression = match args.compress.parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: --compress: {e}");
            return exit::INVALID_PARAMETERS;
        }
    };
    if args.dest.is_none() && !args.estimate {
        eprintln!("error: --dest DIR is required (where the store is written)");
        return exit::INVALID_PARAMETERS;
    }
    let patterns: Vec<UserPattern> =
        match args.users.iter().map(|u| UserPattern::parse(u)).collect() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: --users: {e}");
                return exit::INVALID_PARAMETERS;
            }
        };
    let (set, rule_names) = match load_rules(&args.profiles) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_RULES;
        }
    };
    let opts = args.source.options(&args.roots);
    let detection = match detect::detect(&opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::NO_INSTALLATION;
        }
    };
    for p in &detection.report.problems {
        eprintln!("warning: {}: {}", p.path, p.error);
    }
    let ins = match choose(detection.inspected, args.select) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::NO_INSTALLATION;
        }
    };
    let now = crate::time::now_unix();
    let plan = plan::build(
        &ins,
        &set,
        &PlanOptions {
            users: patterns,
            unused_days: args.unused_days,
            check_readable: true,
            now_unix: now,
        },
    );
    if let Some(list) = &args.list_files {
        if let Err(e) = write_list(list, &plan) {
            eprintln!("error: {e}");
            return exit::FATAL;
        }
    }
    if args.estimate {
        return print_estimate(&plan, args.dest.as_ref(), args.json);
    }
    let dest = args.dest.clone().unwrap_or_default();
    let on_fat = crate::platform::volume_for_path(&dest).is_some_and(|v| v.is_fat());
    let split_bytes = args
        .split
        .map(|m| m * 1024 * 1024)
        .or(on_fat.then_some(capture::FAT32_PART));
    let copts = CaptureOptions {
        dest,
        compression,
        continue_on_error: args.continue_on_error,
        overwrite: args.overwrite,
        split_bytes,
        threads: args.threads,
        rules_used: rule_names,
        command_line: std::env::args().collect(),
        quiet: args.json,
        working_dir: std::env::var_os("USMT_WORKING_DIR").map(PathBuf::from),
        stamp: crate::time::unix_to_compact(now),
        started: crate::time::unix_to_rfc3339(now),
    };
    if !args.json {
        eprintln!(
            "Capturing {} ({}): {} users, {} files, {} {}",
            ins.installation.windir,
            ins.installation.computer_name.as_deref().unwrap_or("?"),
            plan.users.len(),
            plan.total_files(),
            human(plan.total_bytes()),
            if on_fat {
                "(FAT destination: split WIM)"
            } else {
                ""
            }
        );
    }
    let result = capture::capture(&ins, &plan, &copts);
    let (code, summary) = match &result {
        Ok(out) => {
            let skipped = out.manifest.totals.skipped;
            let unreadable = plan
                .passes()
                .flat_map(|p| &p.skipped)
                .any(|s| s.kind.is_error());
            let code = if unreadable { exit::SKIPPED } else { exit::OK };
            if let Some(l) = &args.log {
                let _ = std::fs::write(l, out.log.join("\n") + "\n");
            }
            (
                code,
                summary(&out.store, &out.manifest, skipped, args.verbose),
            )
        }
        Err(e) => {
            let code = super::capture_exit(e);
            (code, format!("CAPTURE FAILED: {e}"))
        }
    };
    if args.json {
        let v = match &result {
            Ok(out) => {
                serde_json::json!({"complete": true, "store": out.store, "exit_code": code, "manifest": out.manifest})
            }
            Err(e) => {
                serde_json::json!({"complete": false, "error": e.to_string(), "exit_code": code})
            }
        };
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if result.is_ok() {
        println!("{summary}");
    } else {
        eprintln!("{summary}");
    }
    code
}

pub(super) fn summary(
    store: &std::path::Path,
    m: &crate::store::manifest::Manifest,
    skipped: u64,
    verbose: bool,
) -> String {
    let mut s = format!("\nSTORE COMPLETE AND VERIFIED: {}\n", store.display());
    for u in m.users.iter().chain(m.machine.iter()) {
        s.push_str(&format!(
            "  {:<30} {:>8} files {:>12}   {} settings{}\n",
            u.name,
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
                s.push_str(&format!("      skipped {}: {}\n", sk.path, sk.reason));
            }
        }
    }
    for l in &m.users_left {
        s.push_str(&format!("  not captured: {} - {}\n", l.name, l.reason));
    }
    if skipped > 0 {
        s.push_str(&format!(
            "  {skipped} file(s) skipped: see manifest.yaml{}\n",
            if verbose { "" } else { " (or -v)" }
        ));
    }
    s.push_str("  Cannot travel in any store, handle by hand:\n");
    for c in &m.cannot_travel {
        s.push_str(&format!("   - {c}\n"));
    }
    s
}
