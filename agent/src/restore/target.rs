//! What a restore needs from the machine it restores onto, whether that Windows is running
//! ([`super::live`]) or offline ([`super::offline`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{LocalAccounts, RestoreError};
use crate::store::regread::RegValue;

/// A user of the new machine, resolved (or created) for the restore.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetUser {
    /// `DOMAIN\name` as the new machine knows it.
    pub account: String,
    pub sid: String,
    /// The profile folder as Windows sees it (`C:\Users\bob`).
    pub profile: String,
    /// The same folder on this machine (itself on Windows; below the mount offline).
    #[serde(skip)]
    pub profile_host: PathBuf,
    pub created_account: bool,
    pub created_profile: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// The Windows this restore runs on: accounts, profiles and registry are its own.
    Live,
    /// A Windows that is not running: files only, settings left as `.reg` files.
    Offline,
}

pub trait Target {
    fn kind(&self) -> TargetKind;
    /// For the report: "this Windows (NEWPC)", "offline D:\Windows (NEWPC)".
    fn describe(&self) -> String;
    /// Resolves the account named `name` (`name` or `DOMAIN\name`) with its profile;
    /// creates what is missing when allowed (never in a dry run).
    fn user(
        &mut self,
        name: &str,
        create: Option<&LocalAccounts>,
        dry_run: bool,
    ) -> Result<TargetUser, RestoreError>;
    /// The user's known folders now, by `User Shell Folders` value name, as Windows paths.
    fn known_folders(
        &mut self,
        user: &TargetUser,
    ) -> Result<BTreeMap<String, String>, RestoreError>;
    /// The host path of a Windows path of the target (it need not exist yet).
    fn host_path(&self, win: &str) -> Option<PathBuf>;
    /// Where the user's settings go.
    fn settings<'a>(
        &'a mut self,
        user: &TargetUser,
    ) -> Result<Box<dyn SettingsSink + 'a>, RestoreError>;
    /// A file just placed for `user` takes the security of its new folder (inherited ACLs,
    /// the user as owner), as Explorer gives a copied file.
    fn adopt(&self, user: &TargetUser, placed: &Path) -> Result<(), RestoreError>;
}

/// A user's registry, or the file standing in for it.
pub trait SettingsSink {
    /// The value there now (type, bytes), to leave identical values untouched.
    fn current(&self, key: &str, name: &str) -> Option<(u32, Vec<u8>)>;
    /// Sets a value below the user's root (`Control Panel\Desktop`).
    fn set(&mut self, key: &str, value: &RegValue) -> Result<(), RestoreError>;
    /// Done: unloads a loaded hive, or writes the file; says where settings were left for
    /// the user to import, when they were.
    fn finish(self: Box<Self>) -> Result<Option<PathBuf>, RestoreError>;
}
