//! What a restore did (or would do): per user files and bytes restored, renamed, kept,
//! skipped, settings applied, the keys that cannot travel and what to do about them. One
//! value serves the summary a technician reads from across the room, `--json`,
//! `--list-files` and the log. Every name a store gave (paths, users, keys, helpers, its
//! manifest's words) is written into those lines through [`Shown`], escaped.

use std::path::PathBuf;

use super::files::{Action, FileOutcome};
use super::helpers::NotApplied;
use super::settings::SettingsOutcome;
use super::source::Store;
use super::target::{Target, TargetKind, TargetUser};
use super::users::LeftReason;
use super::{ConflictPolicy, RestoreOptions};
use crate::progress::human;
use crate::shown::{Shown, ShownPath};
use crate::store::manifest::{Damaged, UserRecord};

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
    /// Files the capture kept with zeros where their disk lost bytes (bad sectors), as
    /// its manifest names them: the mark travels with them.
    pub damaged: Vec<Damaged>,
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
            damaged: record.damaged.clone(),
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
            damaged: record.damaged.clone(),
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

    /// The capture's damage mark of the file that was at `from` on the old machine.
    pub fn damage_of(&self, from: &str) -> Option<&Damaged> {
        self.damaged
            .iter()
            .find(|d| d.path.eq_ignore_ascii_case(from))
    }

    /// `o`'s line, with the damage mark when its file has one.
    fn line(&self, o: &FileOutcome) -> String {
        let mut line = outcome_line(o);
        if let Some(d) = self.damage_of(&o.from) {
            line.push_str(&format!("  (DAMAGED: {d})"));
        }
        line
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
        let mut s = self.title();
        for u in &self.users {
            s.push_str(&user_summary(u, verbose));
        }
        s.push_str(&self.left_summary());
        s.push_str(&self.cannot_travel_summary());
        s
    }

    /// The banner (what kind of run, how it ended) and where from and to.
    fn title(&self) -> String {
        let title = match (self.dry_run, self.failures()) {
            (true, _) => "DRY RUN - NOTHING WAS WRITTEN".to_string(),
            (false, 0) => "RESTORE COMPLETE".to_string(),
            (false, n) => format!("RESTORE COMPLETE WITH {n} FILE(S) NOT WRITTEN"),
        };
        let bar = "=".repeat(title.len().max(40));
        format!(
            "\n{bar}\n{title}\n{bar}\nfrom {}\n  to {}\n",
            ShownPath(&self.store),
            Shown(&self.target)
        )
    }

    /// The users and machine files not restored.
    fn left_summary(&self) -> String {
        let mut s = String::new();
        for l in &self.left_out {
            s.push_str(&format!("\nnot restored: {} - {}\n", Shown(&l.name), l.why));
        }
        if self.machine_files_left > 0 {
            s.push_str(&format!(
                "\n{} machine file(s) (not in a user's folders) not restored: give --other-files-to DIR\n",
                self.machine_files_left
            ));
        }
        s
    }

    /// What to do by hand: one line per kind of setting not applied, then what the capture
    /// found cannot travel.
    fn cannot_travel_summary(&self) -> String {
        let mut whys: Vec<_> = self
            .users
            .iter()
            .filter_map(|u| u.settings.as_ref())
            .flat_map(|s| s.not_applied.iter().map(|n| n.why))
            .collect();
        whys.sort_by_key(|w| *w as u8);
        whys.dedup();
        if whys.is_empty() && self.cannot_travel.is_empty() {
            return String::new();
        }
        let mut s = String::from("\nCannot travel - do this now on this machine:\n");
        for w in whys {
            s.push_str(&format!("  - {w}: {}\n", w.advice()));
        }
        for c in &self.cannot_travel {
            s.push_str(&format!("  - {}\n", Shown(c)));
        }
        s
    }

    /// `--list-files`: one line per file, what happened and where it went.
    pub fn list_files(&self) -> String {
        let mut s = String::new();
        for u in &self.users {
            for o in &u.outcomes {
                s.push_str(&u.line(o));
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
            ShownPath(&self.store),
            Shown(&self.target),
            if self.dry_run { " (dry run)" } else { "" }
        )];
        for u in &self.users {
            lines.push(format!(
                "user {} ({})",
                Shown(&u.source),
                Shown(&u.source_sid)
            ));
            lines.extend(u.outcomes.iter().map(|o| format!("  {}", u.line(o))));
            for n in &u.helpers_not_applied {
                lines.push(format!("  {}", not_applied_line(n)));
            }
            if let Some(st) = &u.settings {
                for n in &st.not_applied {
                    lines.push(format!("  not applied: {} ({})", Shown(&n.key), n.why));
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
                Shown(&n.helper),
                n.kind.element(),
                if comps.len() == 1 {
                    "component"
                } else {
                    "components"
                },
                comps
                    .iter()
                    .map(|c| Shown(c).to_string())
                    .collect::<Vec<_>>()
                    .join("\", \""),
                Shown(&n.why)
            )
        })
        .collect()
}

fn not_applied_line(n: &NotApplied) -> String {
    format!(
        "not applied: helper {} (<{}>, component \"{}\"): {}",
        Shown(&n.helper),
        n.kind.element(),
        Shown(&n.component),
        Shown(&n.why)
    )
}

/// One user's part of the summary: where they went, files, settings and the lines worth
/// a look (every file with `verbose`, else the renamed and failed ones).
fn user_summary(u: &UserReport, verbose: bool) -> String {
    let to = u
        .target
        .as_ref()
        .map(|t| format!("{} ({})", Shown(&t.account), Shown(&t.profile)))
        .unwrap_or_else(|| "--other-files-to".into());
    let mut s = format!("\n{}  ->  {}\n", Shown(&u.source), to);
    if let Some(t) = &u.target {
        if t.created_account {
            s.push_str("    account created\n");
        }
        if t.created_profile {
            s.push_str("    profile created\n");
        }
    }
    s.push_str(&files_line(&u.files));
    if let Some(st) = &u.settings {
        s.push_str(&settings_lines(st, verbose));
    }
    for line in not_applied_summary(&u.helpers_not_applied) {
        s.push_str(&format!("      {line}\n"));
    }
    for o in u
        .outcomes
        .iter()
        .filter(|o| verbose || matches!(o.action, Action::Failed { .. } | Action::Renamed))
    {
        s.push_str(&format!("      {}\n", u.line(o)));
    }
    s.push_str(&damaged_lines(u));
    s
}

/// The files the capture marked damaged, each with the bytes lost and where it went.
fn damaged_lines(u: &UserReport) -> String {
    if u.damaged.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "    {} file(s) DAMAGED at capture: zeros stand in for bytes the old disk lost\n",
        u.damaged.len()
    );
    for d in &u.damaged {
        let to = u
            .outcomes
            .iter()
            .find(|o| o.from.eq_ignore_ascii_case(&d.path))
            .and_then(|o| o.to.as_deref())
            .map(|p| format!(" -> {}", ShownPath(p)))
            .unwrap_or_default();
        s.push_str(&format!("      {}{to}: {d}\n", Shown(&d.path)));
    }
    s
}

fn files_line(c: &Counts) -> String {
    format!(
        "    files:    {} restored ({}), {} renamed, {} overwritten, {} already there, {} kept, {} skipped{}\n",
        c.restored,
        human(c.bytes),
        c.renamed,
        c.overwritten,
        c.unchanged,
        c.kept,
        c.skipped,
        if c.failed > 0 { format!(", {} FAILED", c.failed) } else { String::new() }
    )
}

fn settings_lines(st: &SettingsOutcome, verbose: bool) -> String {
    let mut s = format!(
        "    settings: {} applied ({} with paths changed), {} already there, {} kept, {} keys cannot travel\n",
        st.applied,
        st.rewritten,
        st.unchanged,
        st.kept,
        st.not_applied.len()
    );
    if let Some(f) = &st.left_in {
        s.push_str(&format!(
            "    settings left in {} - import it when signed in as the user\n",
            ShownPath(f)
        ));
    }
    for n in st.not_applied.iter().filter(|_| verbose) {
        s.push_str(&format!(
            "      not applied: {} ({})\n",
            Shown(&n.key),
            n.why
        ));
    }
    s
}

fn outcome_line(o: &FileOutcome) -> String {
    let to =
        o.to.as_deref()
            .map(|p| ShownPath(p).to_string())
            .unwrap_or_default();
    let from = Shown(&o.from);
    match &o.action {
        Action::Skipped { why } => format!("skipped     {from}  ({why})"),
        Action::Failed { error } => format!("FAILED      {from} -> {to}  ({})", Shown(error)),
        a => format!("{:<11} {from} -> {to}", label(a)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::files::SkipReason;
    use crate::restore::settings::{NeverTravel, NotApplied as KeyNotApplied};
    use crate::store::schema::RestoreKind;
    use std::path::Path;

    fn outcome(from: &str, action: Action, bytes: u64) -> FileOutcome {
        FileOutcome {
            from: from.into(),
            to: Some(Path::new("/new").join(from.rsplit('\\').next().unwrap_or(from))),
            bytes,
            action,
        }
    }

    fn ann() -> UserReport {
        let mut u = UserReport {
            source: r"OLDPC\ann".into(),
            source_sid: "S-1-5-21-1-2-3-1001".into(),
            target: Some(TargetUser {
                account: r"NEWPC\ann".into(),
                sid: "S-1-5-21-4-5-6-1001".into(),
                profile: r"C:\Users\ann".into(),
                profile_host: PathBuf::new(),
                created_account: true,
                created_profile: false,
            }),
            files: Counts::default(),
            settings: Some(SettingsOutcome {
                applied: 7,
                rewritten: 2,
                unchanged: 1,
                kept: 3,
                not_applied: vec![
                    KeyNotApplied {
                        key: r"Software\Policies\X".into(),
                        values: 1,
                        why: NeverTravel::Policy,
                    },
                    KeyNotApplied {
                        key: r"Software\Policies\Y".into(),
                        values: 2,
                        why: NeverTravel::Policy,
                    },
                ],
                left_in: Some(PathBuf::from("/store/ann.reg")),
                ..Default::default()
            }),
            helpers_not_applied: vec![NotApplied {
                component: "Office".into(),
                kind: RestoreKind::Merge,
                helper: r#"NewestVersion("FileVersion")"#.into(),
                why: "no version to compare".into(),
            }],
            outcomes: Vec::new(),
            damaged: Vec::new(),
        };
        u.file(outcome(r"C:\Users\ann\a.txt", Action::Restored, 2048));
        u.file(outcome(r"C:\Users\ann\b.txt", Action::Renamed, 1024));
        u.file(outcome(r"C:\Users\ann\c.txt", Action::Kept, 5));
        u.file(outcome(
            r"C:\Users\ann\lnk",
            Action::Skipped {
                why: SkipReason::Link,
            },
            0,
        ));
        let failed = Action::Failed {
            error: "disk full".into(),
        };
        u.file(outcome(r"C:\Users\ann\d.txt", failed, 9));
        u
    }

    fn report() -> Report {
        Report {
            store: PathBuf::from("/store"),
            store_complete: true,
            target: "this machine".into(),
            target_kind: TargetKind::Live,
            dry_run: false,
            on_conflict: ConflictPolicy::Rename,
            users: vec![ann()],
            left_out: vec![LeftUser {
                name: r"OLDPC\guest".into(),
                sid: "S-1-5-21-1-2-3-501".into(),
                why: LeftReason::Excluded,
            }],
            machine_files_left: 4,
            cannot_travel: vec!["Wi-Fi passwords: join the networks again".into()],
        }
    }

    #[test]
    fn summary_says_what_happened_and_what_to_do() {
        let text = report().summary(false);
        let expected = "
===========================================
RESTORE COMPLETE WITH 1 FILE(S) NOT WRITTEN
===========================================
from /store
  to this machine

OLDPC\\ann  ->  NEWPC\\ann (C:\\Users\\ann)
    account created
    files:    1 restored (3.0 KiB), 1 renamed, 0 overwritten, 0 already there, 1 kept, 1 skipped, 1 FAILED
    settings: 7 applied (2 with paths changed), 1 already there, 3 kept, 2 keys cannot travel
    settings left in /store/ann.reg - import it when signed in as the user
      not applied: helper NewestVersion(\"FileVersion\") (<merge>, component \"Office\"): no version to compare
      renamed     C:\\Users\\ann\\b.txt -> /new/b.txt
      FAILED      C:\\Users\\ann\\d.txt -> /new/d.txt  (disk full)

not restored: OLDPC\\guest - left out by an exclude (/ue)

4 machine file(s) (not in a user's folders) not restored: give --other-files-to DIR

Cannot travel - do this now on this machine:
  - set by policy: nothing: this machine's policies apply
  - Wi-Fi passwords: join the networks again
";
        assert_eq!(text, expected);
    }

    #[test]
    fn verbose_summary_lists_every_file_and_key() {
        let text = report().summary(true);
        for line in [
            r"      not applied: Software\Policies\X (set by policy)",
            r"      not applied: Software\Policies\Y (set by policy)",
            r"      restored    C:\Users\ann\a.txt -> /new/a.txt",
            r"      kept        C:\Users\ann\c.txt -> /new/c.txt",
            r"      skipped     C:\Users\ann\lnk  (a link or junction; links are never restored)",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line}\n{text}");
        }
    }

    #[test]
    fn a_damaged_file_keeps_its_mark_in_the_summary_the_list_and_the_log() {
        let mut r = report();
        r.users[0].damaged = vec![Damaged {
            path: r"c:\users\ANN\b.txt".into(),
            lost: vec![[4096, 8192]],
        }];
        let text = r.summary(false);
        assert!(
            text.contains(
                "    1 file(s) DAMAGED at capture: zeros stand in for bytes the old disk lost\n      c:\\users\\ANN\\b.txt -> /new/b.txt: 4096 bytes lost at 4096..8192\n"
            ),
            "{text}"
        );
        let mark = "  (DAMAGED: 4096 bytes lost at 4096..8192)";
        let list = r.list_files();
        let lines: Vec<&str> = list.lines().filter(|l| l.ends_with(mark)).collect();
        assert_eq!(lines.len(), 1, "{list}");
        assert!(lines[0].contains(r"C:\Users\ann\b.txt"), "{list}");
        assert_eq!(
            r.log_lines().iter().filter(|l| l.ends_with(mark)).count(),
            1
        );
    }

    #[test]
    fn dry_run_and_clean_runs_say_so() {
        let mut r = report();
        r.dry_run = true;
        assert!(r
            .summary(false)
            .contains("\nDRY RUN - NOTHING WAS WRITTEN\n"));
        r.dry_run = false;
        r.users[0].files.failed = 0;
        r.users[0].settings = None;
        r.cannot_travel.clear();
        let text = r.summary(false);
        assert!(text.contains("\nRESTORE COMPLETE\n"), "{text}");
        assert!(!text.contains("Cannot travel"), "{text}");
    }
}
