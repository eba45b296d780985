//! `lifeboat restore STORE [options]`: the restore engine (`crate::restore`) at the command
//! line, with LoadState's exit codes where the meaning matches.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use crate::restore::live::LiveTarget;
use crate::restore::offline::OfflineTarget;
use crate::restore::{
    self, LocalAccounts, Report, RestoreError, RestoreOptions, Target, UserRules,
};

#[derive(Args, Debug, Default)]
#[command(
    after_help = "Users: --user ann (only ann), --user 'OLDPC\\ann=bob' (ann's files and settings go to bob, LoadState /mu),\n\
--domain CONTOSO=FABRIKAM (/md), --skip-user PATTERN (/ue).\n\
Exit codes (as LoadState): 0 done, 3 done with files not written (--continue), 11 bad options, 14 target account\n\
missing (--create-local creates local ones), 26 no offline Windows to restore into, 27 not a store or an incomplete\n\
store, 34 not an elevated administrator, 36 settings restore needs Windows (use --offline-root), 42 corrupt store,\n\
61 stopped on a file that could not be written, 71 a Windows call failed, 72 out of space or write error.\n\
Reference: docs/commands/restore.md"
)]
pub struct RestoreArgs {
    /// The store folder (holding manifest.yaml).
    pub store: PathBuf,
    /// A user of the store to restore (name, DOMAIN\name, SID pattern), optionally onto
    /// another account: OLD=NEW. Repeatable; without it every user is restored.
    #[arg(long = "user", value_name = "OLD[=NEW]")]
    pub users: Vec<String>,
    /// Leave users matching PATTERN out (LoadState /ue); --user beats it.
    #[arg(long = "skip-user", value_name = "PATTERN")]
    pub skip_users: Vec<String>,
    /// Users of domain OLD become users of domain NEW (LoadState /md; OLD may hold *).
    #[arg(long = "domain", value_name = "OLD=NEW")]
    pub domains: Vec<String>,
    /// A file that is already there with other content: rename (name (1).ext), keep,
    /// overwrite, or newer.
    #[arg(long, value_name = "POLICY", default_value = "rename")]
    pub on_conflict: String,
    /// Restore files that were outside the users' folders below DIR (DIR\C\Data\…).
    #[arg(long, value_name = "DIR")]
    pub other_files_to: Option<PathBuf>,
    /// Restore from a store marked incomplete (what it holds still verifies).
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Show what would go where, conflicts and settings; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Go on past files that cannot be written (LoadState /c); exit code 3.
    #[arg(long = "continue")]
    pub continue_on_error: bool,
    /// Create missing local accounts, disabled (LoadState /lac); the password is asked.
    #[arg(long)]
    pub create_local: bool,
    /// Enable the accounts --create-local creates (LoadState /lae).
    #[arg(long, requires = "create_local")]
    pub enable_local: bool,
    /// Restore files into the offline Windows on ROOT (a mounted volume, a folder) instead
    /// of the running one; settings are left as .reg files in each profile.
    #[arg(long, value_name = "ROOT")]
    pub offline_root: Option<PathBuf>,
    /// With --offline-root: the Windows folder, when ROOT holds several.
    #[arg(long, value_name = "DIR", requires = "offline_root")]
    pub windir: Option<PathBuf>,
    /// Write every file and what happened to it to FILE.
    #[arg(long, value_name = "FILE")]
    pub list_files: Option<PathBuf>,
    /// Write the log to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Say more (every file, every key not applied).
    #[arg(short, long)]
    pub verbose: bool,
    /// LoadState's /progress: the log is written there too.
    #[arg(skip)]
    pub progress: Option<std::path::PathBuf>,
}

fn pair(s: &str, what: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!("{what} \"{s}\": give OLD=NEW")),
    }
}

/// The command line turned into the engine's options (the password is asked later).
pub fn options(args: &RestoreArgs) -> Result<RestoreOptions, String> {
    let mut rules = UserRules::default();
    for u in &args.users {
        match u.split_once('=') {
            Some(_) => {
                let (old, new) = pair(u, "--user")?;
                rules.include.push(old.clone());
                rules.map_user.push((old, new));
            }
            None => rules.include.push(u.trim().to_string()),
        }
    }
    rules.exclude = args.skip_users.clone();
    for d in &args.domains {
        rules.map_domain.push(pair(d, "--domain")?);
    }
    Ok(RestoreOptions {
        store: args.store.clone(),
        users: rules,
        on_conflict: args.on_conflict.parse()?,
        other_files_to: args.other_files_to.clone(),
        allow_incomplete: args.allow_incomplete,
        dry_run: args.dry_run,
        continue_on_error: args.continue_on_error,
        create_local: None,
        quiet: args.json,
    })
}

/// Whether clap refused a word written right after `--create-local` (`--create-local Pa55`):
/// most likely a password, so it is not quoted back as clap would.
pub fn password_given(e: &clap::Error) -> bool {
    let Some(clap::error::ContextValue::String(word)) = e.get(clap::error::ContextKind::InvalidArg)
    else {
        return false;
    };
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| (w[0] == "--create-local" || w[0] == "--enable-local") && w[1] == *word)
}

/// The password for accounts --create-local makes: asked twice at the console, not shown.
fn ask_password() -> Result<String, String> {
    for _ in 0..3 {
        crate::console::say_part("Password for the local accounts to create (not shown): ");
        let a = crate::platform::read_secret().map_err(|e| e.to_string())?;
        crate::console::say_part("Again: ");
        let b = crate::platform::read_secret().map_err(|e| e.to_string())?;
        if a == b && !a.is_empty() {
            return Ok(a);
        }
        crate::console::say("The two did not match (or were empty); again.");
    }
    Err("no password given for --create-local".into())
}

pub fn run(args: RestoreArgs) -> i32 {
    let mut opts = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            crate::console::say(&format!("error: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    if args.create_local {
        if args.offline_root.is_some() {
            crate::console::say("error: --create-local needs the running Windows; it cannot be used with --offline-root");
            return exit::INVALID_PARAMETERS;
        }
        let password = if args.dry_run {
            String::new()
        } else {
            match ask_password() {
                Ok(p) => p,
                Err(e) => {
                    crate::console::say(&format!("error: {e}"));
                    return exit::INVALID_PARAMETERS;
                }
            }
        };
        opts.create_local = Some(LocalAccounts {
            enable: args.enable_local,
            password,
        });
    }
    let target: Result<Box<dyn Target>, RestoreError> = match &args.offline_root {
        Some(root) => OfflineTarget::open(root, args.windir.as_deref()).map(|t| Box::new(t) as _),
        None => LiveTarget::open(args.dry_run).map(|t| Box::new(t) as _),
    };
    let result = target.and_then(|mut t| restore::restore(&opts, t.as_mut()));
    finish(&args, result)
}

fn finish(args: &RestoreArgs, result: Result<Report, RestoreError>) -> i32 {
    let code = match &result {
        Ok(r) => exit::restored(r),
        Err(e) => exit::restore(e),
    };
    if let (Some(path), Ok(r)) = (&args.list_files, &result) {
        if let Err(e) = std::fs::write(path, r.list_files()) {
            crate::console::say(&format!("error: --list-files {}: {e}", path.display()));
        }
    }
    for path in args.log.iter().chain(args.progress.iter()) {
        let lines = match &result {
            Ok(r) => r.log_lines(),
            Err(e) => vec![format!("RESTORE FAILED: {e}")],
        };
        let stamp = crate::time::unix_to_rfc3339(crate::time::now_unix());
        let text: String = lines.iter().map(|l| format!("{stamp} {l}\r\n")).collect();
        if let Err(e) = std::fs::write(path, text) {
            crate::console::say(&format!("error: --log {}: {e}", path.display()));
        }
    }
    if args.json {
        let v = match &result {
            Ok(r) => serde_json::json!({"ok": true, "exit_code": code, "report": r}),
            Err(e) => serde_json::json!({"ok": false, "exit_code": code, "error": e.to_string()}),
        };
        return super::output::finish(code, &super::output::json(&v));
    }
    match &result {
        Ok(r) => return super::output::finish(code, &r.summary(args.verbose)),
        Err(e) => {
            let bar = "=".repeat(40);
            crate::console::say(&format!("\n{bar}\nRESTORE FAILED\n{bar}\n{e}"));
        }
    }
    code
}

/// `lifeboat known-folders`: the current user's known folders as Windows reports them
/// (`SHGetKnownFolderPath`), to check a restore against the shell's own answer.
pub fn known_folders() -> i32 {
    let list = crate::platform::known_folder_paths();
    if list.is_empty() {
        crate::console::say("error: known folders are a Windows question");
        return exit::UNSUPPORTED_PLATFORM;
    }
    let text: String = list
        .into_iter()
        .map(|(name, r)| match r {
            Ok(p) => format!("{name}\t{p}\n"),
            Err(e) => format!("{name}\t(error: {e})\n"),
        })
        .collect();
    super::output::finish(exit::OK, &text)
}
