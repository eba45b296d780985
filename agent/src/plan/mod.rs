//! What to take: users chosen ([`users`]), their folders resolved from their own hives
//! ([`folders`]), rules expanded for each of them and matched while walking their files
//! ([`walk`]) and their registry ([`registry`]). No byte is copied here.

pub mod files;
pub mod records;
pub mod registry;
pub mod skip;
pub mod users;
pub mod walk;

use std::collections::HashMap;

use crate::detect::model::User;
use crate::detect::Inspected;
use crate::facts::{Hives, OfflineFacts, OsVersion};
use crate::hive::LoadedHive;
use crate::known_folders;
use crate::rules::{self, Decision, Environment, Evaluation, Matcher, ObjectKind, RuleSet, Scope};
use crate::volume::Place;
use crate::winpath::LetterMap;
pub use records::{ComponentSize, RestoreEntry};
pub use skip::{LeaveKind, LeftUser, SkipKind, Skipped};

pub use files::{FileList, FileRef};
pub use registry::RegKey;

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub users: Vec<users::UserPattern>,
    pub unused_days: Option<u64>,
    /// Open every file once while planning, so unreadable ones are known before capture.
    pub check_readable: bool,
    pub now_unix: i64,
    /// How `users` and `unused_days` combine (`--users`, or ScanState's `/ui /ue /uel`).
    pub precedence: users::Precedence,
}

/// What one pass (a user, or the machine) takes.
#[derive(Debug, Default)]
pub struct PassPlan {
    pub sid: String,
    pub name: String,
    pub files: FileList,
    pub bytes: u64,
    pub skipped: Vec<Skipped>,
    pub registry: Vec<RegKey>,
    /// The folders walked (place, Windows path), for the WIM writer.
    pub roots: Vec<(Place, String)>,
    /// The user's profile and known folders as the source saw them (not for the machine).
    pub folders: Option<known_folders::UserFolders>,
    /// Files and bytes per rule component, largest first (the estimate shows them).
    pub components: Vec<ComponentSize>,
    /// LoadState-side instructions of the components that take part (the manifest keeps
    /// them for the restore side).
    pub restore: Vec<RestoreEntry>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub users: Vec<PassPlan>,
    pub machine: Option<PassPlan>,
    pub left: Vec<LeftUser>,
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn passes(&self) -> impl Iterator<Item = &PassPlan> {
        self.users.iter().chain(self.machine.iter())
    }
    pub fn passes_mut(&mut self) -> impl Iterator<Item = &mut PassPlan> {
        self.users.iter_mut().chain(self.machine.iter_mut())
    }
    pub fn total_files(&self) -> u64 {
        self.passes().map(|p| p.files.len() as u64).sum()
    }
    pub fn total_bytes(&self) -> u64 {
        self.passes().map(|p| p.bytes).sum()
    }
}

/// What no offline capture can carry, said in every summary and manifest.
pub const CANNOT_TRAVEL: &[&str] = &[
    "Saved browser passwords and cookies (Edge, Chrome: DPAPI and app-bound encryption tie them to the old Windows account); export them from the browser or sign in to sync",
    "Wi-Fi keys (protected by the old machine's DPAPI keys)",
    "Printers and their drivers (reinstall on the new machine)",
    "Passwords stored in Credential Manager, Outlook and other applications",
    "EFS certificates: EFS-encrypted files open only with the user's old certificate",
    "Installed programs (see the application list in the report; reinstall them)",
];

/// Adapts the rule matcher to the walker.
struct RuleSelector<'a> {
    matcher: &'a Matcher,
}

impl walk::Selector for RuleSelector<'_> {
    fn enter(&self, win_dir: &str) -> bool {
        self.matcher.might_contain(ObjectKind::File, win_dir)
    }
    fn take(&self, win_file: &str) -> Option<String> {
        match self.matcher.decide_path(ObjectKind::File, win_file) {
            Decision::Include { component } => Some(
                self.matcher
                    .component_name(component)
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// Folders to walk: the outermost literal start of the file include patterns, each once,
/// mapped to this machine.
fn walk_roots(
    set: &RuleSet,
    letters: &LetterMap,
    warnings: &mut Vec<String>,
) -> Vec<(Place, String)> {
    let mut wins: Vec<String> = Vec::new();
    for c in &set.components {
        for r in &c.rules {
            if r.action != rules::Action::Include || r.pattern.kind != ObjectKind::File {
                continue;
            }
            let mut win = r.pattern.literal_node();
            if win.len() == 2 && win.ends_with(':') {
                win.push('\\');
            }
            wins.push(win);
        }
    }
    let mut roots = Vec::new();
    for w in crate::winpath::outermost(wins) {
        match letters.find(&w) {
            Some(place) if place.is_dir() => roots.push((place, w)),
            Some(_) => {}
            None => {
                if crate::winpath::split_drive(&w).is_none() {
                    warnings.push(format!("rule folder {w} is not a drive path; skipped"));
                }
            }
        }
    }
    roots
}

/// The rules of one pass, evaluated against what the offline system says.
fn evaluate_pass(
    set: &RuleSet,
    scope: Scope,
    vars: HashMap<String, String>,
    drives: &[String],
    facts: &OfflineFacts<'_>,
) -> Evaluation {
    let vars = rules::expand::with_aliases(vars);
    rules::evaluate(
        set,
        scope,
        &Environment {
            vars: &vars,
            fixed_drives: drives,
            facts,
        },
    )
}

/// The restore-side instructions of the components that take part.
fn restore_entries(ev: &Evaluation) -> Vec<RestoreEntry> {
    ev.reports
        .iter()
        .filter(|r| r.detected != Some(false))
        .flat_map(|r| {
            r.restore.iter().map(|x| RestoreEntry {
                component: r.name.clone(),
                kind: x.kind,
                script: x.script.clone(),
                patterns: x.patterns.iter().map(ToString::to_string).collect(),
                source_args: match &x.script {
                    Some(c) if c.args != x.source_args => x.source_args.clone(),
                    _ => Vec::new(),
                },
            })
        })
        .collect()
}

/// Files and bytes per component, largest first.
fn component_sizes(files: &FileList) -> Vec<ComponentSize> {
    let mut by: HashMap<&str, ComponentSize> = HashMap::new();
    for f in files.iter() {
        let e = by.entry(f.component()).or_insert_with(|| ComponentSize {
            component: f.component().to_string(),
            ..Default::default()
        });
        e.files += 1;
        e.bytes += f.size();
    }
    let mut v: Vec<ComponentSize> = by.into_values().collect();
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.component.cmp(&b.component)));
    v
}

/// What the offline installation says, for its machine pass (user passes add their hives
/// with [`OfflineFacts::with_hives`]).
pub fn machine_facts(ins: &Inspected) -> OfflineFacts<'_> {
    let bits = ins.installation.arch.and_then(|a| a.bits());
    OfflineFacts::new(
        Hives {
            software: ins.software.as_ref(),
            ..Default::default()
        },
        &ins.letters,
        ins.software.as_ref().and_then(OsVersion::read),
        bits.map(|b| b == 64),
    )
}

fn pass(
    sid: &str,
    name: &str,
    set: &RuleSet,
    letters: &LetterMap,
    mounts: &[registry::Mount<'_>],
    opts: &PlanOptions,
    warnings: &mut Vec<String>,
) -> PassPlan {
    let matcher = Matcher::new(set);
    let roots = walk_roots(set, letters, warnings);
    let walked = walk::walk(
        &roots,
        &RuleSelector { matcher: &matcher },
        opts.check_readable,
    );
    let (registry, problems) = registry::select(set, &matcher, mounts);
    let mut skipped = walked.skipped;
    skipped.extend(
        problems
            .iter()
            .map(|p| Skipped::new(p.key(), SkipKind::RegistryDamaged, p.to_string())),
    );
    PassPlan {
        sid: sid.to_string(),
        name: name.to_string(),
        components: component_sizes(&walked.files),
        files: walked.files,
        bytes: walked.bytes,
        skipped,
        registry,
        roots: walked.roots,
        folders: None,
        restore: Vec::new(),
    }
}

/// Opens a user's hive where one stands (anything but a regular file there is refused and
/// reported by name, as a damaged hive is).
fn open_user_hive(
    path: Option<Place>,
    skipped: &mut Vec<Skipped>,
    what: &str,
) -> Option<LoadedHive> {
    let path = path?;
    match LoadedHive::open_at(&path) {
        Ok(h) => {
            if let Some(lost) = h.lost_words() {
                skipped.push(Skipped::new(
                    path.to_string(),
                    SkipKind::RegistryDamaged,
                    format!("{what}: {lost}"),
                ));
            }
            Some(h)
        }
        Err(e) => {
            skipped.push(Skipped::new(
                path.to_string(),
                SkipKind::HiveUnreadable,
                format!("{what} cannot be read, its settings are not captured: {e}"),
            ));
            None
        }
    }
}

/// The machine's variables and the offline system's fixed drives, as every pass uses them.
fn machine_inputs(ins: &Inspected) -> (HashMap<String, String>, Vec<String>) {
    let inst = &ins.installation;
    let system_root = inst
        .system_root_original
        .clone()
        .unwrap_or_else(|| r"C:\Windows".into());
    let is_64 = inst.arch.and_then(|a| a.bits()) == Some(64);
    let machine = known_folders::machine_vars(&system_root, ins.software.as_ref(), is_64);
    let drives: Vec<String> = ins
        .letters
        .letters()
        .map(|(l, _)| format!("{l}:"))
        .collect();
    (machine, drives)
}

/// Plans the capture of one installation with `set` (profiles and MigXML merged).
pub fn build(ins: &Inspected, set: &RuleSet, opts: &PlanOptions) -> Plan {
    let inst = &ins.installation;
    let mut plan = Plan {
        warnings: set.warnings.clone(),
        ..Default::default()
    };
    let (machine, drives) = machine_inputs(ins);
    let facts = machine_facts(ins);

    for user in &inst.users {
        match users::select(
            user,
            &opts.users,
            opts.unused_days,
            opts.now_unix,
            opts.precedence,
        ) {
            users::Selection::Leave(kind, reason) => plan.left.push(LeftUser {
                sid: user.sid.clone(),
                name: user.name.clone(),
                reason,
                kind,
            }),
            users::Selection::Take => {
                let inputs = UserInputs::open(ins, user, &machine);
                let user_facts = facts.with_hives(inputs.hives(ins));
                let ev = evaluate_pass(set, Scope::User, inputs.vars.clone(), &drives, &user_facts);
                plan.users
                    .push(user_pass(ins, user, &inputs, &ev, opts, &mut plan.warnings));
            }
        }
    }

    let ev = evaluate_pass(set, Scope::System, machine, &drives, &facts);
    let machine_set = ev.rule_set();
    if !machine_set.components.is_empty() {
        let mounts: Vec<registry::Mount<'_>> = ins
            .software
            .iter()
            .map(|h| registry::Mount {
                short: r"HKLM\SOFTWARE",
                long: r"HKEY_LOCAL_MACHINE\SOFTWARE",
                hive: h,
            })
            .collect();
        plan.warnings.extend(machine_set.warnings.iter().cloned());
        let mut p = pass(
            "machine",
            "machine",
            &machine_set,
            &ins.letters,
            &mounts,
            opts,
            &mut plan.warnings,
        );
        p.restore = restore_entries(&ev);
        if !p.files.is_empty() || !p.registry.is_empty() || !p.skipped.is_empty() {
            plan.machine = Some(p);
        }
    }
    plan.warnings.sort();
    plan.warnings.dedup();
    plan
}

/// One pass's evaluation: who it is for (`None`: the machine) and what each component did.
pub struct PassExplanation {
    pub user: Option<String>,
    pub sid: Option<String>,
    pub evaluation: Evaluation,
}

/// Evaluates `set` for the machine and for each user `opts` selects, without walking a
/// file: what `lifeboat rules explain` shows.
pub fn explain(ins: &Inspected, set: &RuleSet, opts: &PlanOptions) -> Vec<PassExplanation> {
    let (machine, drives) = machine_inputs(ins);
    let facts = machine_facts(ins);
    let mut out = vec![PassExplanation {
        user: None,
        sid: None,
        evaluation: evaluate_pass(set, Scope::System, machine.clone(), &drives, &facts),
    }];
    for user in &ins.installation.users {
        if !matches!(
            users::select(
                user,
                &opts.users,
                opts.unused_days,
                opts.now_unix,
                opts.precedence,
            ),
            users::Selection::Take
        ) {
            continue;
        }
        let inputs = UserInputs::open(ins, user, &machine);
        let user_facts = facts.with_hives(inputs.hives(ins));
        out.push(PassExplanation {
            user: Some(user.name.clone()),
            sid: Some(user.sid.clone()),
            evaluation: evaluate_pass(set, Scope::User, inputs.vars.clone(), &drives, &user_facts),
        });
    }
    out
}

/// A user's hives and variables, opened once for evaluation and capture.
struct UserInputs {
    ntuser: Option<LoadedHive>,
    usrclass: Option<LoadedHive>,
    vars: HashMap<String, String>,
    skipped: Vec<Skipped>,
}

impl UserInputs {
    fn open(ins: &Inspected, user: &User, machine: &HashMap<String, String>) -> UserInputs {
        let mut skipped = Vec::new();
        let profile = ins.letters.find(&user.profile_path_original);
        let ntuser = open_user_hive(
            profile.as_ref().and_then(|p| p.child("NTUSER.DAT")),
            &mut skipped,
            "NTUSER.DAT",
        );
        let xp = known_folders::xp_layout(ins.installation.build, &user.profile_path_original);
        let vars = known_folders::user_vars(
            machine,
            &user.sid,
            &user.name,
            &user.profile_path_original,
            ntuser.as_ref(),
            xp,
        );
        let local_appdata = vars.get("LOCALAPPDATA").cloned().unwrap_or_default();
        let usrclass = open_user_hive(
            ins.letters
                .find(&format!(r"{local_appdata}\Microsoft\Windows\UsrClass.dat")),
            &mut skipped,
            "UsrClass.dat",
        );
        UserInputs {
            ntuser,
            usrclass,
            vars,
            skipped,
        }
    }

    fn hives<'a>(&'a self, ins: &'a Inspected) -> Hives<'a> {
        Hives {
            software: ins.software.as_ref(),
            ntuser: self.ntuser.as_ref(),
            usrclass: self.usrclass.as_ref(),
            user: true,
        }
    }
}

fn user_pass(
    ins: &Inspected,
    user: &User,
    inputs: &UserInputs,
    ev: &Evaluation,
    opts: &PlanOptions,
    warnings: &mut Vec<String>,
) -> PassPlan {
    let user_set = ev.rule_set();
    warnings.extend(user_set.warnings.iter().cloned());
    let mut mounts = Vec::new();
    if let Some(h) = &inputs.ntuser {
        mounts.push(registry::Mount {
            short: "HKCU",
            long: "HKEY_CURRENT_USER",
            hive: h,
        });
    }
    if let Some(h) = &inputs.usrclass {
        mounts.push(registry::Mount {
            short: r"HKCU\Software\Classes",
            long: r"HKEY_CURRENT_USER\Software\Classes",
            hive: h,
        });
    }
    let mut p = pass(
        &user.sid,
        &user.name,
        &user_set,
        &ins.letters,
        &mounts,
        opts,
        warnings,
    );
    let mut skipped = inputs.skipped.clone();
    skipped.append(&mut p.skipped);
    p.skipped = skipped;
    p.restore = restore_entries(ev);
    p.folders = Some(known_folders::UserFolders {
        profile: user.profile_path_original.clone(),
        known: known_folders::known_folder_map(&inputs.vars),
    });
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{pattern, Action, Component, Rule};

    fn include(c: &mut Component, kind: ObjectKind, text: &str) {
        c.rules.push(Rule {
            action: Action::Include,
            pattern: pattern::parse(kind, text).unwrap(),
        });
    }

    #[test]
    fn many_patterns_give_their_outermost_roots() {
        // Comparing every root with every other took 82 s for 40k patterns; sorting by
        // components is n log n.
        let dir = tempfile::tempdir().unwrap();
        for d in ["d/f7", "d/f7/sub", "d/f123", "e"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let mut c = Component::new("many", rules::Scope::User, "t");
        for i in 0..5_000 {
            include(&mut c, ObjectKind::File, &format!(r"C:\d\f{i}\sub\* [*]"));
            include(&mut c, ObjectKind::File, &format!(r"C:\D\F{i}\* [*.txt]"));
        }
        include(&mut c, ObjectKind::File, r"C:\e\* [*]");
        include(&mut c, ObjectKind::File, r"C:\e\deeper\* [*]");
        include(&mut c, ObjectKind::File, r"relative\* [*]");
        let set = RuleSet {
            components: vec![c],
            warnings: vec![],
        };
        let mut letters = LetterMap::default();
        letters.insert('C', Place::host(dir.path()));
        let mut warnings = Vec::new();
        let roots = walk_roots(&set, &letters, &mut warnings);
        let wins: Vec<&str> = roots.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(wins, [r"C:\D\F123", r"C:\D\F7", r"C:\e"]);
        assert_eq!(roots[2].1, r"C:\e");
        assert_eq!(
            warnings,
            ["rule folder relative is not a drive path; skipped"]
        );
    }
}
