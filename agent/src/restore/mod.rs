//! `lifeboat restore`: a verified store back onto the new machine, LoadState's job.
//!
//! One orchestration ([`restore`]) over a [`Target`]: the running Windows ([`live`], the
//! accounts and registry of the machine itself) or an offline one ([`offline`], files only,
//! found with detect's own code). Per user: the account is resolved (and created when
//! asked), the known folders are read from the target user's own registry, a [`Rebase`]
//! maps old folders onto new ones for files ([`files`]) and for settings ([`settings`]),
//! and everything is said in a [`Report`]. Nothing is written before the store verifies,
//! and nothing outside the target users' folders and `--other-files-to`: what a store may
//! and may never cause to be written is the [trust boundary](trust), enforced by the plan
//! ([`plan`]) every file and value goes through.

pub mod files;
pub mod helpers;
pub mod live;
pub mod offline;
pub mod paths;
pub mod plan;
pub mod report;
pub mod settings;
pub mod source;
pub mod target;
pub mod trust;
pub mod users;

use std::path::PathBuf;

use crate::shown::{Shown, ShownPath};

pub use paths::Rebase;
pub use report::Report;
pub use target::{Target, TargetUser};
pub use users::UserRules;

/// What to do when a file is already there with other content (`--on-conflict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    /// The incoming file becomes `name (1).ext`, as LoadState does.
    #[default]
    Rename,
    /// The file on the new machine stays; the incoming one is not restored.
    Keep,
    /// The incoming file replaces the one there.
    Overwrite,
    /// The newer of the two (last write time) wins.
    Newer,
}

impl std::str::FromStr for ConflictPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "rename" => Ok(ConflictPolicy::Rename),
            "keep" => Ok(ConflictPolicy::Keep),
            "overwrite" => Ok(ConflictPolicy::Overwrite),
            "newer" => Ok(ConflictPolicy::Newer),
            _ => Err(format!(
                "unknown conflict policy \"{s}\" (rename, keep, overwrite or newer)"
            )),
        }
    }
}

/// `--create-local`: missing local accounts are created (`/lac`), disabled unless `enable`
/// (`/lae`). The password is asked at the console and lives only here, never in a log.
#[derive(Clone, Default)]
pub struct LocalAccounts {
    pub enable: bool,
    pub password: String,
}

impl std::fmt::Debug for LocalAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAccounts")
            .field("enable", &self.enable)
            .field("password", &"(not shown)")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    pub store: PathBuf,
    pub users: UserRules,
    pub on_conflict: ConflictPolicy,
    /// Files that were not in a user's folders go below this folder (`DIR\C\Data\…`);
    /// without it they are listed, not restored.
    pub other_files_to: Option<PathBuf>,
    pub allow_incomplete: bool,
    /// Say what would happen; write nothing.
    pub dry_run: bool,
    /// Go on after a file that cannot be written (`/c`); the exit code is then 3.
    pub continue_on_error: bool,
    pub create_local: Option<LocalAccounts>,
    /// No progress bar (JSON output, tests).
    pub quiet: bool,
}

/// Why a restore could not be done. Each names the store, file, account or call concerned.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{}: the store is marked incomplete{}; nothing was written. Restore from a complete store, or give --allow-incomplete to take what it holds.", ShownPath(.path), reason.as_deref().map(|r| format!(" ({})", Shown(r))).unwrap_or_default())]
    Incomplete {
        path: PathBuf,
        reason: Option<String>,
    },
    #[error("{}: the store did not verify, nothing was written:\n  - {}", ShownPath(.path), problems.join("\n  - "))]
    Corrupt {
        path: PathBuf,
        /// Each already escaped ([`crate::shown`]): they quote the store.
        problems: Vec<String>,
    },
    #[error("{}: {source}", ShownPath(.path))]
    Registry {
        path: PathBuf,
        #[source]
        source: crate::store::regread::RegReadError,
    },
    #[error("--user {}: no such user in the store (it has: {})", Shown(.pattern), Shown(.known))]
    NoSuchStoreUser { pattern: String, known: String },
    #[error("account {} does not exist on {}; nothing was written. {}", Shown(.account), Shown(.target), if *local { "Give --create-local to create it (LoadState /lac), or map the user to an existing account with --user OLD=NEW." } else { "Map the user to an existing account with --user OLD=NEW or --domain OLD=NEW." })]
    MissingAccount {
        account: String,
        target: String,
        local: bool,
    },
    #[error("{}: {}", Shown(.account), Shown(.reason))]
    Account { account: String, reason: String },
    #[error("{path}: {reason}")]
    NoTarget { path: PathBuf, reason: String },
    #[error("restoring onto this Windows needs an administrator (run the console as administrator): {reason}")]
    NotAdmin { reason: String },
    #[error("restoring settings into a running Windows works only on Windows; on {os} restore files into an offline Windows with --offline-root ROOT")]
    Unsupported { os: &'static str },
    #[error("{}: {source}", Shown(.object))]
    System {
        object: String,
        #[source]
        source: crate::platform::SysError,
    },
    #[error("{}: the target disk has not room enough for what goes into {}: {need} {what} as its file system counts them, {free} free; nothing was written. Make room, or restore fewer users (--user).", ShownPath(.disk), ShownPath(.folder))]
    NoSpace {
        /// The disk (mount point, volume) that is short.
        disk: PathBuf,
        folder: PathBuf,
        need: u64,
        free: u64,
        what: Room,
    },
    #[error("{}: the target disk is full (writing {}); the restore stopped. Files restored so far stay; make room and restore again (what is there already is not written twice).", ShownPath(.disk), ShownPath(.path))]
    DiskFull { disk: PathBuf, path: PathBuf },
    #[error("{}: cannot write on the target disk (in {}): {}; the restore stopped, files restored so far stay.", ShownPath(.disk), ShownPath(.path), Shown(.reason))]
    TargetWrite {
        disk: PathBuf,
        path: PathBuf,
        reason: String,
    },
    #[error("{}: {source}", ShownPath(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {}\nThe restore stopped here; files restored so far stay. Give --continue to go on past such files.", ShownPath(.path), Shown(.reason))]
    Stopped { path: PathBuf, reason: String },
}

/// What a target disk lacks, in a free-space check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Bytes: each file rounded up to whole blocks, plus each file's and folder's entry.
    Bytes,
    /// Files and folders (inodes) that can still be made.
    Entries,
}

impl std::fmt::Display for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Room::Bytes => "bytes (each file in whole blocks, with its entry)",
            Room::Entries => "files and folders",
        })
    }
}

impl RestoreError {
    /// A failure writing `path` on the target: a full disk is [`RestoreError::DiskFull`],
    /// naming the disk; anything else an I/O error on that path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> RestoreError {
        let path = path.into();
        if crate::platform::is_out_of_space(&source) {
            return RestoreError::DiskFull {
                disk: disk_of(&path),
                path,
            };
        }
        RestoreError::Io { path, source }
    }
}

/// The disk (mount point on Linux, volume root on Windows) holding `path`, or what of it
/// exists when the volume cannot be told.
pub fn disk_of(path: &std::path::Path) -> PathBuf {
    let existing = path
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .unwrap_or(path);
    crate::platform::volume_for_path(existing)
        .map(|v| v.root)
        .unwrap_or_else(|| existing.to_path_buf())
}

/// The restore, start to end: store verified, users resolved, files placed, settings applied
/// (or left as files offline), and the report.
pub fn restore(opts: &RestoreOptions, target: &mut dyn Target) -> Result<Report, RestoreError> {
    let store = source::open(&opts.store, opts.allow_incomplete)?;
    let manifest = store.manifest();
    for p in &opts.users.include {
        if !manifest.users.iter().any(|r| users::matches(p, r)) {
            return Err(RestoreError::NoSuchStoreUser {
                pattern: p.clone(),
                known: manifest
                    .users
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let (chosen, left) = users::choose(manifest, &opts.users);
    // Every account first: a missing one stops the restore before anything is written.
    let mut resolved = Vec::new();
    for c in &chosen {
        let user = target.user(&c.target, opts.create_local.as_ref(), opts.dry_run)?;
        resolved.push((c, user));
    }
    let mut report = Report::new(&store, target, opts);
    for (r, why) in left {
        report.left_out(r, why);
    }
    let mut wim = store.open_wim()?;
    for (c, user) in &resolved {
        let known = target.known_folders(user)?;
        let rebase = Rebase::new(
            &source::folders_of(manifest, c.record),
            &user.profile,
            &known,
        );
        let mut ur = report::UserReport::new(c.record, user);
        let source = source::folders_of(manifest, c.record);
        let target_folders = crate::known_folders::UserFolders {
            profile: user.profile.clone(),
            known: known.clone(),
        };
        let helpers = helpers::Helpers::new(
            &c.record.restore,
            &helpers::Sides {
                source: &helpers::user_vars(&source, &c.record.sid, &c.record.name),
                target: &helpers::user_vars(&target_folders, &user.sid, &user.account),
                rebase: &rebase,
            },
        );
        ur.helpers_not_applied = helpers.not_applied.clone();
        files::restore_user(
            &mut files::Job {
                wim: &mut wim,
                record: c.record,
                user: Some(user),
                target: &*target,
                rebase: &rebase,
                helpers: &helpers,
                opts,
            },
            &mut ur,
        )?;
        if let Some(keys) = store.registry(c.record)? {
            ur.settings = Some(settings::apply(
                &keys,
                &rebase,
                &helpers,
                target,
                user,
                opts.dry_run,
            )?);
        }
        report.users.push(ur);
    }
    if let Some(m) = &manifest.machine {
        report.machine_left(m, opts.other_files_to.is_some());
        if opts.other_files_to.is_some() {
            let mut ur = report::UserReport::machine(m);
            files::restore_machine(&mut wim, m, &*target, opts, &mut ur)?;
            report.users.push(ur);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::RestoreError;

    #[test]
    fn a_missing_account_is_named_before_the_way_out() {
        let e = RestoreError::MissingAccount {
            account: r"NEWPC\bob".into(),
            target: "offline Windows /mnt/Windows (NEWPC)".into(),
            local: false,
        };
        assert_eq!(
            e.to_string(),
            r"account NEWPC\bob does not exist on offline Windows /mnt/Windows (NEWPC); nothing was written. Map the user to an existing account with --user OLD=NEW or --domain OLD=NEW."
        );
    }
}
