//! Restoring into a Windows that is not running (`--offline-root ROOT [--windir DIR]`): a
//! new machine imaged but not yet booted, or its disk in a dock. The installation and its
//! profiles are found with detect's own code; files go into the profile folders that exist
//! there, by the same mapping and conflict rules; the offline hives are never written, so
//! each user's settings are left as a `.reg` file inside the profile with a note.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::target::{SettingsSink, Target, TargetKind, TargetUser};
use super::{LocalAccounts, RestoreError};
use crate::detect::{self, DetectOptions, Inspected, InstallKind, Source};
use crate::hive::LoadedHive;
use crate::known_folders;
use crate::regfile::RegFile;
use crate::store::regread::RegValue;
use crate::winpath::resolve_ci;

pub use super::trust::{SETTINGS_FILE, SETTINGS_NOTE};

pub struct OfflineTarget {
    ins: Inspected,
    machine: HashMap<String, String>,
}

impl OfflineTarget {
    /// The one installed Windows on `root` (or the one in `windir`).
    pub fn open(root: &Path, windir: Option<&Path>) -> Result<OfflineTarget, RestoreError> {
        let no_target = |reason: String| RestoreError::NoTarget {
            path: windir.unwrap_or(root).to_path_buf(),
            reason,
        };
        let found = detect::detect(&DetectOptions {
            roots: vec![root.to_path_buf()],
            source: windir.map_or(Source::Auto, |w| Source::WinDir(w.to_path_buf())),
            cwd: std::env::current_dir().unwrap_or_default(),
            ..Default::default()
        })
        .map_err(|e| no_target(e.to_string()))?;
        let mut installed: Vec<Inspected> = found
            .inspected
            .into_iter()
            .filter(|i| windir.is_some() || i.installation.kind == InstallKind::Installed)
            .collect();
        let ins = match installed.len() {
            0 => {
                return Err(no_target(
                    "no Windows installation there to restore into".into(),
                ))
            }
            1 => installed.remove(0),
            _ => {
                return Err(no_target(format!(
                    "several Windows installations there ({}); choose one with --windir",
                    installed
                        .iter()
                        .map(|i| i.installation.windir.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        Ok(OfflineTarget::from_inspected(ins))
    }

    /// An installation detect already found (the boot flow's choice).
    pub fn from_inspected(ins: Inspected) -> OfflineTarget {
        let inst = &ins.installation;
        let system_root = inst
            .system_root_original
            .clone()
            .unwrap_or_else(|| r"C:\Windows".into());
        let is_64 = inst.arch.and_then(|a| a.bits()) == Some(64);
        let machine = known_folders::machine_vars(&system_root, ins.software.as_ref(), is_64);
        OfflineTarget { ins, machine }
    }
}

impl Target for OfflineTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Offline
    }

    fn describe(&self) -> String {
        let i = &self.ins.installation;
        format!(
            "offline Windows {} ({})",
            i.windir,
            i.computer_name.as_deref().unwrap_or("?")
        )
    }

    fn user(
        &mut self,
        name: &str,
        _create: Option<&LocalAccounts>,
        _dry_run: bool,
    ) -> Result<TargetUser, RestoreError> {
        let want = name.to_lowercase();
        let bare = super::users::bare(&want).to_string();
        let found = self.ins.installation.users.iter().find(|u| {
            let n = u.name.to_lowercase();
            u.profile_path.is_some()
                && u.kind.is_real_user()
                && (n == want || super::users::bare(&n) == bare || u.sid.eq_ignore_ascii_case(name))
        });
        let u = found.ok_or_else(|| RestoreError::MissingAccount {
            account: name.to_string(),
            target: format!(
                "{} (an offline Windows: only users who have a profile folder there can receive files)",
                self.describe()
            ),
            local: false,
        })?;
        Ok(TargetUser {
            account: u.name.clone(),
            sid: u.sid.clone(),
            profile: u.profile_path_original.clone(),
            profile_host: PathBuf::from(u.profile_path.clone().unwrap_or_default()),
            created_account: false,
            created_profile: false,
        })
    }

    fn known_folders(
        &mut self,
        user: &TargetUser,
    ) -> Result<BTreeMap<String, String>, RestoreError> {
        // A missing or unreadable NTUSER.DAT leaves Windows' defaults.
        let ntuser =
            resolve_ci(&user.profile_host, "NTUSER.DAT").and_then(|p| LoadedHive::open(&p).ok());
        let vars = known_folders::user_vars(
            &self.machine,
            &user.sid,
            &user.account,
            &user.profile,
            ntuser.as_ref(),
            known_folders::xp_layout(self.ins.installation.build, &user.profile),
        );
        Ok(known_folders::known_folder_map(&vars))
    }

    fn host_path(&self, win: &str) -> Option<PathBuf> {
        self.ins.letters.to_host_new(win)
    }

    fn settings<'a>(
        &'a mut self,
        user: &TargetUser,
    ) -> Result<Box<dyn SettingsSink + 'a>, RestoreError> {
        // What the user's offline hive holds now, so identical values and those a
        // DestinationPriority keeps stay out of the file.
        let hive =
            resolve_ci(&user.profile_host, "NTUSER.DAT").and_then(|p| LoadedHive::open(&p).ok());
        let mut sink = FileSink::new(&user.profile_host, &user.account);
        sink.hive = hive;
        Ok(Box::new(sink))
    }

    fn adopt(&self, _user: &TargetUser, _placed: &Path) -> Result<(), RestoreError> {
        // An offline NTFS gets no ACLs from here: new files inherit their folder's when
        // Windows next checks them, and the owner is the account that copied them.
        Ok(())
    }
}

/// Settings collected into a `.reg` file in the profile, with a note on how to import it.
pub struct FileSink {
    dir: PathBuf,
    account: String,
    keys: Vec<(String, Vec<RegValue>)>,
    /// The user's hive as it is on the disk (offline), read for [`SettingsSink::current`].
    hive: Option<LoadedHive>,
}

impl FileSink {
    pub fn new(dir: &Path, account: &str) -> FileSink {
        FileSink {
            dir: dir.to_path_buf(),
            account: account.to_string(),
            keys: Vec::new(),
            hive: None,
        }
    }
}

impl SettingsSink for FileSink {
    fn current(&self, key: &str, name: &str) -> Option<(u32, Vec<u8>)> {
        let v = self.hive.as_ref()?.key(key)?.value(name)?;
        Some((v.kind?.code(), v.data))
    }

    fn set(&mut self, key: &str, value: &RegValue) -> Result<(), RestoreError> {
        match self.keys.last_mut() {
            Some((k, values)) if k == key => values.push(value.clone()),
            _ => self.keys.push((key.to_string(), vec![value.clone()])),
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Option<PathBuf>, RestoreError> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        let mut reg = RegFile::new();
        for (k, values) in &self.keys {
            let hv: Vec<_> = values.iter().map(RegValue::to_value).collect();
            reg.key(&format!(r"HKEY_CURRENT_USER\{k}"), &hv);
        }
        let file = self.dir.join(SETTINGS_FILE);
        let note = self.dir.join(SETTINGS_NOTE);
        let text = format!(
            "These are {}'s settings from the old computer, with its folders already changed to\r\n\
             this computer's. Windows was not running when Lifeboat restored the files, so the\r\n\
             settings could not be written into the registry.\r\n\r\n\
             To apply them: sign in as {} on this computer, then double-click\r\n\
             \"{SETTINGS_FILE}\" in the profile folder (or run: reg import \"%USERPROFILE%\\{SETTINGS_FILE}\").\r\n\
             Or run `lifeboat restore STORE` on this computer while Windows runs.\r\n",
            self.account, self.account
        );
        write_if_different(&file, &reg.to_utf16le())?;
        write_if_different(&note, text.as_bytes())?;
        Ok(Some(file))
    }
}

/// Writes `data` unless the file already holds exactly it (a second restore changes nothing).
/// A link or a folder in the way is refused.
pub fn write_if_different(path: &Path, data: &[u8]) -> Result<(), RestoreError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(RestoreError::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "something that is not a file is in the way",
                ),
            ))
        }
        Ok(m)
            if m.len() == data.len() as u64
                && crate::fsread::read_bounded(path, data.len() as u64)
                    .is_ok_and(|d| d == data) =>
        {
            return Ok(());
        }
        _ => {}
    }
    std::fs::write(path, data).map_err(|e| RestoreError::io(path, e))
}
