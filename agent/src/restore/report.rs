//! What a restore did (or would do): per user files and bytes restored, renamed, kept,
//! skipped, settings applied, the keys that cannot travel and what to do about them. One
//! value serves the summary a technician reads from across the room, `--json`,
//! `--list-files` and the log.

use std::path::{Path, PathBuf};

use super::files::{Action, FileOutcome};
use super::helpers::NotApplied;
use super::settings::SettingsOutcome;
use super::source::Store;
use super::target::{Target, TargetKind, TargetUser};
use super::users::LeftReason;
use super::{ConflictPolicy, RestoreOptions};
use crate::capture::progress::human;
use crate::store::manifest::UserRecord;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts {
    pub restored: u64,
    pub renamed: u64,
    pub overwritten: u64,
    pub unchanged: u64,
    pub kept: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Bytes written (restored, renamed and overwritten files).
    pub bytes: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct UserReport {
    /// The user as the store names it (`OLDPC\ann`), and its SID there.
    pub source: String,
    pub source_sid: String,
    /// The account on this machine; None for the machine's own files.
    pub target: Option<TargetUser>,
    pub files: Counts,
    pub settings: Option<SettingsOutcome>,
    /// MigXML instructions recorded by the capture that this restore did not carry out.
    pub helpers_not_applied: Vec<NotApplied>,
    pub outcomes: Vec<FileOutcome>,
}

impl UserReport {
    pub fn new(record: &UserRecord, user: &TargetUser) -> UserReport {
        UserReport {
            source: record.name.clone(),
            source_sid: record.sid.clone(),
            target: Some(user.clone()),
            files: Counts::default(),
            settings: None,
            helpers_not_applied: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    pub fn machine(record: &UserRecord) -> UserReport {
        UserReport {
            source: record.name.clone(),
            source_sid: record.sid.clone(),
            target: None,
            files: Counts::default(),
            settings: None,
            helpers_not_applied: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    pub fn file(&mut self, o: FileOutcome) {
        let c = &mut self.files;
        match &o.action {
            Action::Restored => c.restored += 1,
            Action::Renamed => c.renamed += 1,
            Action::Overwritten => c.overwritten += 1,
            Action::Unchanged => c.unchanged += 1,
            Action::Kept => c.kept += 1,
            Action::Skipped { .. } => c.skipped += 1,
            Action::Failed { .. } => c.failed += 1,
        }
        if matches!(
            o.action,
            Action::Restored | Action::Renamed | Action::Overwritten
        ) {
            c.bytes += o.bytes;
        }
        self.outcomes.push(o);
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LeftUser {
    pub name: String,
    pub sid: String,
    pub why: LeftReason,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub store: PathBuf,
    pub store_complete: bool,
    pub target: String,
    pub target_kind: TargetKind,
    pub dry_run: bool,
    pub on_conflict: ConflictPolicy,
    pub users: Vec<UserReport>,
    pub left_out: Vec<LeftUser>,
    /// The machine's files (Public, ProgramData…) when not restored (no --other-files-to).
    pub machine_files_left: u64,
    /// What no store can carry, from the capture's manifest.
    pub cannot_travel: Vec<String>,
}

impl Report {
    pub fn new(store: &Store, target: &dyn Target, opts: &RestoreOptions) -> Report {
        Report {
            store: store.dir().to_path_buf(),
            store_complete: !store.incomplete,
            target: target.describe(),
            target_kind: target.kind(),
            dry_run: opts.dry_run,
            on_conflict: opts.on_conflict,
            users: Vec::new(),
            left_out: Vec::new(),
            machine_files_left: 0,
            cannot_travel: store.manifest().cannot_travel.clone(),
        }
    }

    pub fn left_out(&mut self, r: &UserRecord, why: LeftReason) {
        self.left_out.push(LeftUser {
            name: r.name.clone(),
            sid: r.sid.clone(),
            why,
        });
    }

    pub fn machine_left(&mut self, m: &UserRecord, restored: bool) {
        if !restored {
            self.machine_files_left = m.files;
        }
    }

    /// Files that could not be written (with --continue): the restore is then "completed
    /// with errors", LoadState's code 3.
    pub fn failures(&self) -> u64 {
        self.users.iter().map(|u| u.files.failed).sum()
    }

    /// The summary, in large plain lines.
    pub fn summary(&self, verbose: bool) -> String {
        let mut s = String::new();
        let title = match (self.dry_run, self.failures()) {
            (true, _) => "DRY RUN - NOTHING WAS WRITTEN".to_string(),
            (false, 0) => "RESTORE COMPLETE".to_string(),
            (false, n) => format!("RESTORE COMPLETE WITH {n} FILE(S) NOT WRITTEN"),
        };
        let bar = "=".repeat(title.len().max(40));
        s.push_str(&format!("\n{bar}\n{title}\n{bar}\n"));
        s.push_str(&format!(
            "from {}\n  to {}\n",
            self.store.display(),
            self.target
        ));
        for u in &self.users {
            let to = u
                .target
                .as_ref()
                .map(|t| format!("{} ({})", t.account, t.profile))
                .unwrap_or_else(|| "--other-files-to".into());
            s.push_str(&format!("\n{}  ->  {}\n", u.source, to));
            if let Some(t) = &u.target {
                if t.created_account {
                    s.push_str("    account created\n");
                }
                if t.created_profile {
                    s.push_str("    profile created\n");
                }
            }
            let c = &u.files;
            s.push_str(&format!(
                "    files:    {} restored ({}), {} renamed, {} overwritten, {} already there, {} kept, {} skipped{}\n",
                c.restored,
                human(c.bytes),
                c.renamed,
                c.overwritten,
                c.unchanged,
                c.kept,
                c.skipped,
                if c.failed > 0 { format!(", {} FAILED", c.failed) } else { String::new() }
            ));
            if let Some(st) = &u.settings {
                s.push_str(&format!(
                    "    settings: {} applied ({} with paths changed), {} already there, {} kept, {} keys cannot travel\n",
                    st.applied,
                    st.rewritten,
                    st.unchanged,
                    st.kept,
                    st.not_applied.len()
                ));
                if let Some(f) = &st.left_in {
                    s.push_str(&format!(
                        "    settings left in {} - import it when signed in as the user\n",
                        f.display()
                    ));
                }
                for n in st.not_applied.iter().filter(|_| verbose) {
                    s.push_str(&format!("      not applied: {} ({})\n", n.key, n.why));
                }
            }
            for line in not_applied_summary(&u.helpers_not_applied) {
                s.push_str(&format!("      {line}\n"));
            }
            for o in u
                .outcomes
                .iter()
                .filter(|o| verbose || matches!(o.action, Action::Failed { .. } | Action::Renamed))
            {
                s.push_str(&format!("      {}\n", outcome_line(o)));
            }
        }
        for l in &self.left_out {
            s.push_str(&format!("\nnot restored: {} - {}\n", l.name, l.why));
        }
        if self.machine_files_left > 0 {
            s.push_str(&format!(
                "\n{} machine file(s) (not in a user's folders) not restored: give --other-files-to DIR\n",
                self.machine_files_left
            ));
        }
        let mut whys: Vec<_> = self
            .users
            .iter()
            .filter_map(|u| u.settings.as_ref())
            .flat_map(|s| s.not_applied.iter().map(|n| n.why))
            .collect();
        whys.sort_by_key(|w| *w as u8);
        whys.dedup();
        if !whys.is_empty() || !self.cannot_travel.is_empty() {
            s.push_str("\nCannot travel - do this now on this machine:\n");
            for w in whys {
                s.push_str(&format!("  - {w}: {}\n", w.advice()));
            }
            for c in &self.cannot_travel {
                s.push_str(&format!("  - {c}\n"));
            }
        }
        s
    }

    /// `--list-files`: one line per file, what happened and where it went.
    pub fn list_files(&self) -> String {
        let mut s = String::new();
        for u in &self.users {
            for o in &u.outcomes {
                s.push_str(&outcome_line(o));
                s.push_str("\r\n");
            }
        }
        s
    }

    /// The log lines written with `--log`.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "lifeboat {} restore of {} onto {}{}",
            crate::VERSION,
            self.store.display(),
            self.target,
            if self.dry_run { " (dry run)" } else { "" }
        )];
        for u in &self.users {
            lines.push(format!("user {} ({})", u.source, u.source_sid));
            lines.extend(u.outcomes.iter().map(|o| format!("  {}", outcome_line(o))));
            for n in &u.helpers_not_applied {
                lines.push(format!("  {}", not_applied_line(n)));
            }
            if let Some(st) = &u.settings {
                for n in &st.not_applied {
                    lines.push(format!("  not applied: {} ({})", n.key, n.why));
                }
            }
        }
        lines
    }
}

/// One line per helper and reason, naming the components that asked for it.
fn not_applied_summary(list: &[NotApplied]) -> Vec<String> {
    let mut groups: Vec<(&NotApplied, Vec<&str>)> = Vec::new();
    for n in list {
        match groups
            .iter_mut()
            .find(|(g, _)| g.helper == n.helper && g.kind == n.kind && g.why == n.why)
        {
            Some((_, comps)) => comps.push(&n.component),
            None => groups.push((n, vec![&n.component])),
        }
    }
    groups
        .into_iter()
        .map(|(n, comps)| {
            format!(
                "not applied: helper {} (<{}>, {} \"{}\"): {}",
                n.helper,
                n.kind.element(),
                if comps.len() == 1 {
                    "component"
                } else {
                    "components"
                },
                comps.join("\", \""),
                n.why
            )
        })
        .collect()
}

fn not_applied_line(n: &NotApplied) -> String {
    format!(
        "not applied: helper {} (<{}>, component \"{}\"): {}",
        n.helper,
        n.kind.element(),
        n.component,
        n.why
    )
}

fn outcome_line(o: &FileOutcome) -> String {
    let to =
        o.to.as_deref()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_default();
    match &o.action {
        Action::Skipped { why } => format!("skipped     {}  ({why})", o.from),
        Action::Failed { error } => format!("FAILED      {} -> {to}  ({error})", o.from),
        a => format!("{:<11} {} -> {to}", label(a), o.from),
    }
}

fn label(a: &Action) -> &'static str {
    match a {
        Action::Restored => "restored",
        Action::Renamed => "renamed",
        Action::Overwritten => "overwritten",
        Action::Unchanged => "unchanged",
        Action::Kept => "kept",
        Action::Skipped { .. } => "skipped",
        Action::Failed { .. } => "failed",
    }
}
