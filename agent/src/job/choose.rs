//! The job's three choices — which installation, which users, where the store goes — made
//! from the command line (`--select`, `--users`, `--dest`), the media's config, or the
//! technician's answers at the console.

use std::path::PathBuf;

use super::destination;
use super::JobError;
use crate::config::{Destination, Mode};
use crate::console;
use crate::detect::{Inspected, Installation};
use crate::plan::users::UserPattern;
use crate::store::layout::FoundStore;

/// Where the store goes.
#[derive(Debug, Clone)]
pub enum Dest<'a> {
    /// No store (an estimate without `--dest`).
    None,
    /// A folder given on the command line.
    Folder(PathBuf),
    /// The first of the config's destinations that is there, never the source's volume.
    Search(&'a [Destination]),
}

/// How a job chooses.
#[derive(Debug, Clone)]
pub struct Choose<'a> {
    /// `--select N`: the installation's number in `lifeboat detect`.
    pub select: Option<usize>,
    /// Questions may be asked at the console (interactive, not unattended).
    pub ask: bool,
    /// With no user patterns, let the technician pick from the real users (the boot
    /// flow); otherwise every real user is taken.
    pub pick_users: bool,
    /// What to tell someone who cannot be asked how to choose an installation.
    pub how_to_choose: &'static str,
    pub dest: Dest<'a>,
}

impl Choose<'_> {
    pub fn installation(&mut self, mut found: Vec<Inspected>) -> Result<Inspected, JobError> {
        let count = found.len();
        if count == 0 {
            return Err(JobError::NoInstallation {
                problems: Vec::new(),
            });
        }
        let list = listing(&found);
        let n = match self.select {
            Some(n) => n,
            None if count == 1 => 1,
            None if self.ask => ask_number(&list, count)?,
            None => {
                return Err(JobError::Ambiguous {
                    count,
                    how: self.how_to_choose,
                    list,
                })
            }
        };
        if n == 0 || n > count {
            return Err(JobError::NoSuchInstallation { n, list });
        }
        Ok(found.swap_remove(n - 1))
    }

    /// The user patterns of the job: those given, or the technician's pick.
    pub fn users(
        &mut self,
        ins: &Installation,
        given: &[UserPattern],
    ) -> Result<Vec<UserPattern>, JobError> {
        if !given.is_empty() || !self.pick_users || !self.ask {
            return Ok(given.to_vec());
        }
        pick_users(ins)
    }

    pub fn destination(&mut self, ins: &Installation) -> Result<Option<PathBuf>, JobError> {
        match &self.dest {
            Dest::None => Ok(None),
            Dest::Folder(p) => Ok(Some(p.clone())),
            Dest::Search(places) => {
                destination::find(places, std::path::Path::new(&ins.root), self.ask).map(Some)
            }
        }
    }
}

impl Choose<'_> {
    /// Capture or restore: the config's mode, or the technician's answer (nobody to ask,
    /// or no answer: capture, which never writes to this machine's disks).
    pub fn mode(&mut self, configured: Mode) -> Mode {
        if configured != Mode::Ask {
            return configured;
        }
        if !self.ask {
            return Mode::Capture;
        }
        loop {
            let Some(a) = console::ask(
                "Capture this machine's files (c) or restore a store onto it (r)? [c/r] ",
            ) else {
                return Mode::Capture;
            };
            match a.to_ascii_lowercase().as_str() {
                "c" | "capture" => return Mode::Capture,
                "r" | "restore" => return Mode::Restore,
                _ => console::say("Please type c or r."),
            }
        }
    }

    /// The store to restore: the newest complete one for `computer`, or the technician's
    /// pick from all of them (Enter takes that newest one).
    pub fn store(&mut self, stores: &[FoundStore], computer: &str) -> Result<PathBuf, JobError> {
        let mine = stores
            .iter()
            .position(|s| s.computer.eq_ignore_ascii_case(computer));
        if !self.ask || stores.is_empty() {
            return mine
                .map(|i| stores[i].dir.clone())
                .ok_or_else(|| JobError::NoStore {
                    computer: computer.to_string(),
                });
        }
        console::say("Complete stores (newest first):");
        for (i, s) in stores.iter().enumerate() {
            console::say(&format!(
                "  [{}] {}  {}  {}",
                i + 1,
                s.computer,
                s.started,
                s.dir.display()
            ));
        }
        let n = stores.len();
        let prompt = match mine {
            Some(i) => format!(
                "Restore which one? [1-{n}, Enter = {}, the newest for {computer}] ",
                i + 1
            ),
            None => format!("Restore which one? [1-{n}] "),
        };
        loop {
            let a = console::ask(&prompt).ok_or(JobError::NoAnswer {
                question: "which store",
            })?;
            let pick = if a.is_empty() {
                mine.map(|i| i + 1)
            } else {
                a.parse::<usize>().ok()
            };
            match pick {
                Some(k) if (1..=n).contains(&k) => return Ok(stores[k - 1].dir.clone()),
                _ => console::say(&format!("Please type a number from 1 to {n}.")),
            }
        }
    }
}

fn listing(found: &[Inspected]) -> String {
    found
        .iter()
        .map(|i| {
            let x = &i.installation;
            format!(
                "  [{}] {}  {} {}  ({})",
                x.index,
                x.windir,
                x.family.as_deref().unwrap_or("?"),
                x.display_version.as_deref().unwrap_or(""),
                x.computer_name.as_deref().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ask_number(list: &str, count: usize) -> Result<usize, JobError> {
    console::say(&format!("Windows installations found:\n{list}"));
    loop {
        let answer = console::ask(&format!("Capture which one? [1-{count}] ")).ok_or(
            JobError::NoAnswer {
                question: "which installation",
            },
        )?;
        match answer.parse::<usize>() {
            Ok(k) if (1..=count).contains(&k) => return Ok(k),
            _ => console::say(&format!("Please type a number from 1 to {count}.")),
        }
    }
}

/// The real users with a profile, listed with their last use; Enter takes them all.
fn pick_users(ins: &Installation) -> Result<Vec<UserPattern>, JobError> {
    let real: Vec<_> = ins
        .users
        .iter()
        .filter(|u| u.kind.is_real_user() && u.profile_path.is_some())
        .collect();
    if real.is_empty() {
        return Ok(Vec::new());
    }
    console::say(&format!(
        "Users on {}:",
        ins.computer_name.as_deref().unwrap_or("this machine")
    ));
    for (i, u) in real.iter().enumerate() {
        console::say(&format!(
            "  [{}] {:<32} last used {}",
            i + 1,
            u.name,
            u.last_used.as_deref().unwrap_or("?")
        ));
    }
    let answer = console::ask("Press Enter to take them all, or type numbers (e.g. 1,3): ").ok_or(
        JobError::NoAnswer {
            question: "which users",
        },
    )?;
    let mut patterns = Vec::new();
    for part in answer.split([',', ' ']).filter(|p| !p.is_empty()) {
        let k: usize = part
            .parse()
            .map_err(|_| JobError::BadAnswer(format!("\"{part}\" is not a number")))?;
        let u = real
            .get(k.wrapping_sub(1))
            .ok_or_else(|| JobError::BadAnswer(format!("there is no user {k}")))?;
        patterns.push(UserPattern::parse(&u.sid).map_err(JobError::BadAnswer)?);
    }
    Ok(patterns)
}
