//! `lifeboat auto` restoring (`mode: restore`, or the technician's answer to `mode: ask`):
//! from WinPE this is the offline restore, files into the profiles of the Windows on this
//! machine, from the newest complete store for this computer name on the destination, or
//! one the technician picks.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::exit;
use crate::config::{Config, Mode};
use crate::console::{banner, say};
use crate::detect::DetectOptions;
use crate::job::Choose;
use crate::restore::offline::OfflineTarget;
use crate::restore::{self, RestoreOptions};
use crate::store::StoreReader;

fn ask(prompt: &str) -> String {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().to_string()
}

/// Capture or restore: the config's mode, or the technician's answer.
pub fn choose_mode(config: &Config) -> Mode {
    match config.mode {
        Mode::Ask if config.unattended => Mode::Capture,
        Mode::Ask => loop {
            let a = ask("Capture this machine's files (c) or restore a store onto it (r)? [c/r] ");
            match a.to_ascii_lowercase().as_str() {
                "c" | "capture" => return Mode::Capture,
                "r" | "restore" => return Mode::Restore,
                "" if std::io::stdin()
                    .lock()
                    .fill_buf()
                    .map(|b| b.is_empty())
                    .unwrap_or(true) =>
                {
                    return Mode::Capture
                }
                _ => say("Please type c or r."),
            }
        },
        m => m,
    }
}

/// A complete store found on the destination.
struct Found {
    dir: PathBuf,
    computer: String,
    started: String,
}

fn complete_stores(dest: &Path) -> Vec<Found> {
    let mut found: Vec<Found> = std::fs::read_dir(dest)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter_map(|dir| {
            let r = StoreReader::open(&dir).ok()?;
            let m = r.manifest();
            let complete =
                m.complete && !dir.join(crate::store::manifest::INCOMPLETE_MARKER).exists();
            complete.then(|| Found {
                computer: m.source.computer_name.clone().unwrap_or_default(),
                started: m.started.clone(),
                dir,
            })
        })
        .collect();
    // Newest first.
    found.sort_by(|a, b| b.started.cmp(&a.started));
    found
}

fn choose_store(dest: &Path, computer: &str, unattended: bool) -> Result<PathBuf, String> {
    let stores = complete_stores(dest);
    let mine = stores
        .iter()
        .position(|s| s.computer.eq_ignore_ascii_case(computer));
    if stores.is_empty() {
        return Err(format!("no complete store on {}", dest.display()));
    }
    if unattended {
        return mine
            .map(|i| stores[i].dir.clone())
            .ok_or_else(|| format!("no complete store for {computer} on {}", dest.display()));
    }
    crate::console::say(&format!(
        "Complete stores on {} (newest first):",
        dest.display()
    ));
    for (i, s) in stores.iter().enumerate() {
        crate::console::say(&format!(
            "  [{}] {}  {}  {}",
            i + 1,
            s.computer,
            s.started,
            s.dir.display()
        ));
    }
    let default = mine.map(|i| i + 1);
    loop {
        let a = ask(&match default {
            Some(d) => format!(
                "Restore which one? [1-{}, Enter = {d}, the newest for {computer}] ",
                stores.len()
            ),
            None => format!("Restore which one? [1-{}] ", stores.len()),
        });
        let pick = if a.is_empty() {
            default
        } else {
            a.parse::<usize>().ok()
        };
        if let Some(k) = pick.filter(|k| (1..=stores.len()).contains(k)) {
            return Ok(stores[k - 1].dir.clone());
        }
        if a.is_empty() {
            return Err("no answer at the console".into());
        }
        crate::console::say(&format!("Please type a number from 1 to {}.", stores.len()));
    }
}

/// Detects the Windows here, finds the stores' place as a capture would, and restores the
/// chosen store into that Windows.
pub fn run(config: &Config, detect: &DetectOptions, choose: &mut Choose<'_>) -> i32 {
    let found = match crate::detect::detect(detect) {
        Ok(f) => f,
        Err(e) => {
            banner("NOTHING RESTORED: no Windows found to restore into");
            say(&e.to_string());
            return exit::detect(&e);
        }
    };
    let ins = match choose.installation(found.inspected) {
        Ok(i) => i,
        Err(e) => {
            banner("NOTHING RESTORED: no Windows chosen to restore into");
            say(&e.to_string());
            return exit::job(&e);
        }
    };
    let root = PathBuf::from(&ins.installation.root);
    let dest = match crate::job::find_destination(&config.destinations, &root, !config.unattended) {
        Ok(d) => d,
        Err(e) => {
            banner("NOTHING RESTORED: no place with stores found");
            say(&e.to_string());
            return exit::job(&e);
        }
    };
    let dest = dest.as_path();
    let computer = ins.installation.computer_name.clone().unwrap_or_default();
    let store = match choose_store(dest, &computer, config.unattended) {
        Ok(s) => s,
        Err(e) => {
            banner(&format!("NOTHING RESTORED: {e}"));
            return exit::BAD_STORE;
        }
    };
    say(&format!(
        "Restoring {} into {} (files; settings are left in each profile)",
        store.display(),
        ins.installation.windir
    ));
    let opts = RestoreOptions {
        store,
        continue_on_error: config.continue_on_error,
        ..Default::default()
    };
    let mut target = OfflineTarget::from_inspected(ins);
    match restore::restore(&opts, &mut target) {
        Ok(r) => {
            let code = super::output::finish(exit::restored(&r), &r.summary(false));
            if config.shutdown {
                if let Err(e) = crate::platform::shutdown() {
                    say(&format!("warning: cannot shut down: {e}"));
                }
            }
            code
        }
        Err(e) => {
            banner("RESTORE FAILED");
            say(&e.to_string());
            exit::restore(&e)
        }
    }
}
