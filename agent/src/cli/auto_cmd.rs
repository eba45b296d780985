//! `lifeboat auto`: what WinPE runs at boot. Detect, choose the installation and users
//! (asking at the console unless the config says unattended), find the destination in the
//! config's order (a LIFEBOAT stick, a marker file, the boot stick, a network share with
//! credentials asked without echo and never stored), check the space, capture, verify, and
//! leave a summary readable from across the room.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::capture_cmd::summary;
use super::exit;
use crate::capture::progress::human;
use crate::capture::{self, CaptureOptions};
use crate::config::{Config, Destination};
use crate::detect::{self, DetectOptions, Inspected};
use crate::media_layout::MediaLayout;
use crate::plan::{self, users::UserPattern, PlanOptions};
use crate::platform;

#[derive(Args, Debug)]
pub struct AutoArgs {
    /// The media's config (X:\Lifeboat\config.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Volumes to scan instead of every lettered one (Linux, tests).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
}

fn ask(prompt: &str) -> String {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().to_string()
}

fn banner(text: &str) {
    let bar = "=".repeat(text.len().clamp(20, 72));
    eprintln!("\n{bar}\n{text}\n{bar}");
}

fn load_config(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let media = MediaLayout::of_config(path);
    Config::parse(&text, &path.display().to_string(), &|p: &str| {
        media.has_profile(p)
    })
}

fn choose_installation(mut found: Vec<Inspected>, unattended: bool) -> Result<Inspected, String> {
    match found.len() {
        0 => Err("no offline Windows installation was found on this machine".into()),
        1 => Ok(found.remove(0)),
        n => {
            let list: Vec<String> = found
                .iter()
                .map(|i| {
                    let x = &i.installation;
                    format!(
                        "  [{}] {}  {} {}  {}",
                        x.index,
                        x.windir,
                        x.family.as_deref().unwrap_or("?"),
                        x.display_version.as_deref().unwrap_or(""),
                        x.computer_name.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            if unattended {
                return Err(format!(
                    "{n} Windows installations found and the config is unattended:\n{}",
                    list.join("\n")
                ));
            }
            eprintln!("Windows installations found:\n{}", list.join("\n"));
            loop {
                let a = ask(&format!("Capture which one? [1-{n}] "));
                if let Ok(k) = a.parse::<usize>() {
                    if (1..=n).contains(&k) {
                        return Ok(found.swap_remove(k - 1));
                    }
                }
                if a.is_empty()
                    && std::io::stdin()
                        .lock()
                        .fill_buf()
                        .map(|b| b.is_empty())
                        .unwrap_or(true)
                {
                    return Err("no answer at the console".into());
                }
                eprintln!("Please type a number from 1 to {n}.");
            }
        }
    }
}

/// The users to take: the config's patterns, or the technician's pick from the real users.
fn choose_users(ins: &Inspected, config: &Config) -> Result<Vec<UserPattern>, String> {
    let configured: Vec<UserPattern> = config
        .users
        .iter()
        .map(|u| UserPattern::parse(u))
        .collect::<Result<_, _>>()?;
    if config.unattended || !configured.is_empty() {
        return Ok(configured);
    }
    let real: Vec<_> = ins
        .installation
        .users
        .iter()
        .filter(|u| u.kind.is_real_user() && u.profile_path.is_some())
        .collect();
    if real.is_empty() {
        return Ok(configured);
    }
    eprintln!(
        "Users on {}:",
        ins.installation
            .computer_name
            .as_deref()
            .unwrap_or("this machine")
    );
    for (i, u) in real.iter().enumerate() {
        eprintln!(
            "  [{}] {:<32} last used {}",
            i + 1,
            u.name,
            u.last_used.as_deref().unwrap_or("?")
        );
    }
    let a = ask("Press Enter to take them all, or type numbers (e.g. 1,3): ");
    if a.is_empty() {
        return Ok(Vec::new());
    }
    let mut pats = Vec::new();
    for part in a.split([',', ' ']).filter(|p| !p.is_empty()) {
        let k: usize = part
            .parse()
            .map_err(|_| format!("\"{part}\" is not a number"))?;
        let u = real
            .get(k.wrapping_sub(1))
            .ok_or_else(|| format!("there is no user {k}"))?;
        pats.push(UserPattern::parse(&u.sid)?);
    }
    Ok(pats)
}

/// The first destination of the config's list that is there, never the source's own volume.
fn find_destination(config: &Config, source_root: &Path) -> Result<PathBuf, String> {
    let volumes = platform::list_volumes();
    let source_vol = platform::volume_for_path(source_root).map(|v| v.root);
    let usable =
        |root: &PathBuf| Some(root) != source_vol.as_ref() && root.as_path() != source_root;
    let mut tried = Vec::new();
    for d in &config.destinations {
        match d {
            Destination::UsbLabel { usb_label } => {
                if let Some(v) = volumes.iter().find(|v| {
                    v.label
                        .as_deref()
                        .is_some_and(|l| l.eq_ignore_ascii_case(usb_label))
                        && usable(&v.root)
                }) {
                    return Ok(v.root.clone());
                }
                tried.push(format!("no volume labelled {usb_label}"));
            }
            Destination::MarkerFile { marker_file } => {
                if let Some(v) = volumes
                    .iter()
                    .find(|v| v.root.join(marker_file).is_file() && usable(&v.root))
                {
                    return Ok(v.root.clone());
                }
                tried.push(format!("no volume with {marker_file} at its root"));
            }
            Destination::BootStick { boot_stick: true } => {
                let boot = platform::volumes_to_skip()
                    .into_iter()
                    .find(|(_, role)| role.is_boot_media());
                if let Some((root, _)) = boot.filter(|(r, _)| usable(r)) {
                    return Ok(root);
                }
                tried.push("the boot stick is not writable here".into());
            }
            Destination::BootStick { boot_stick: false } => {}
            Destination::Share { share } => match connect(share, config.unattended) {
                Ok(p) => return Ok(p),
                Err(e) => tried.push(e),
            },
        }
    }
    Err(format!("no destination found: {}", tried.join("; ")))
}

fn connect(share: &str, unattended: bool) -> Result<PathBuf, String> {
    if unattended {
        return platform::connect_share(share, "", "");
    }
    let mut last = String::new();
    for attempt in 1..=3 {
        let user = ask(&format!("User name for {share} (DOMAIN\\user): "));
        eprint!("Password (not shown): ");
        let _ = std::io::stderr().flush();
        let password = platform::read_secret().map_err(|e| e.to_string())?;
        match platform::connect_share(share, &user, &password) {
            Ok(p) => return Ok(p),
            Err(e) => {
                eprintln!("  attempt {attempt} of 3: {e}");
                last = e;
            }
        }
    }
    Err(last)
}

pub fn run(args: AutoArgs) -> i32 {
    banner("LIFEBOAT - rescue files and settings from this machine's Windows");
    let config = match load_config(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: the media's config is not usable: {e}");
            return exit::INVALID_PARAMETERS;
        }
    };
    let detection = match detect::detect(&DetectOptions {
        roots: args.roots.clone(),
        cwd: std::env::current_dir().unwrap_or_default(),
        ..Default::default()
    }) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::NO_INSTALLATION;
        }
    };
    for p in &detection.report.problems {
        eprintln!(
            "note: {}: {}{}",
            p.path,
            p.error,
            p.hint
                .as_deref()
                .map(|h| format!(" -> {h}"))
                .unwrap_or_default()
        );
    }
    let ins = match choose_installation(detection.inspected, config.unattended) {
        Ok(i) => i,
        Err(e) => {
            banner(&format!(
                "NOTHING CAPTURED: {}",
                e.lines().next().unwrap_or("")
            ));
            eprintln!("{e}");
            return exit::NO_INSTALLATION;
        }
    };
    let users = match choose_users(&ins, &config) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_PARAMETERS;
        }
    };
    let mut set = crate::rules::RuleSet::default();
    let mut used = Vec::new();
    for p in &config.profiles {
        let path = MediaLayout::of_config(&args.config).resolve_profile(p);
        match crate::rules::load_profile(&path) {
            Ok(s) => set.merge(s),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_RULES;
            }
        }
        used.push(path);
    }
    let dest = match find_destination(&config, Path::new(&ins.installation.root)) {
        Ok(d) => d,
        Err(e) => {
            banner("NOTHING CAPTURED: no place to write the store");
            eprintln!("{e}\nPlug in a USB stick labelled LIFEBOAT (or with the marker file) and run lifeboat auto again.");
            return exit::BAD_STORE;
        }
    };
    let now = crate::time::now_unix();
    let plan = plan::build(
        &ins,
        &set,
        &PlanOptions {
            users,
            unused_days: None,
            check_readable: true,
            now_unix: now,
        },
    );
    let free = platform::free_space(&dest).unwrap_or(u64::MAX);
    eprintln!(
        "Capturing {} ({}) to {}: {} users, {} files, {} (free there: {})",
        ins.installation.windir,
        ins.installation.computer_name.as_deref().unwrap_or("?"),
        dest.display(),
        plan.users.len(),
        plan.total_files(),
        human(plan.total_bytes()),
        human(free)
    );
    if free < plan.total_bytes() {
        eprintln!(
            "warning: less free space than the files' size; compression may still make it fit"
        );
    }
    let on_fat = platform::volume_for_path(&dest).is_some_and(|v| v.is_fat());
    let opts = CaptureOptions {
        dest,
        compression: config
            .compression
            .parse()
            .unwrap_or(crate::wim::Compression::Lzx),
        continue_on_error: config.continue_on_error,
        overwrite: false,
        split_bytes: on_fat.then_some(capture::FAT32_PART),
        threads: 0,
        rules_used: used,
        command_line: std::env::args().collect(),
        quiet: false,
        working_dir: std::env::var_os("USMT_WORKING_DIR").map(PathBuf::from),
        stamp: crate::time::unix_to_compact(now),
        started: crate::time::unix_to_rfc3339(now),
    };
    match capture::capture(&ins, &plan, &opts) {
        Ok(out) => {
            let skipped = plan
                .passes()
                .flat_map(|p| &p.skipped)
                .any(|s| s.kind.is_error());
            banner(if skipped {
                "DONE - STORE COMPLETE, SOME FILES SKIPPED (see manifest)"
            } else {
                "DONE - STORE COMPLETE AND VERIFIED"
            });
            println!(
                "{}",
                summary(
                    &out.store,
                    &out.manifest,
                    out.manifest.totals.skipped,
                    false
                )
            );
            if config.shutdown {
                let _ = platform::shutdown();
            }
            if skipped {
                exit::SKIPPED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            banner("CAPTURE FAILED - THE STORE IS MARKED INCOMPLETE");
            eprintln!("{e}");
            super::capture_exit(&e)
        }
    }
}
