//! Restoring onto the Windows that runs the restore: accounts resolved with
//! `LookupAccountNameW` (created with `--create-local`), profiles made with `CreateProfile`
//! for users who never logged on, known folders read from the user's own `User Shell
//! Folders`, settings written into the user's hive (loaded privately when the user is not
//! logged on, always unloaded), restored files given their folder's inherited security.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::offline::FileSink;
use super::target::{SettingsSink, Target, TargetKind, TargetUser};
use super::{LocalAccounts, RestoreError};
use crate::known_folders;
use crate::platform::{self, SysError, UserHive};
use crate::store::regread::RegValue;

const USER_SHELL_FOLDERS: &str =
    r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders";

pub struct LiveTarget {
    computer: Option<String>,
}

impl LiveTarget {
    /// The running Windows, when this process may change its users (an elevated
    /// administrator); `dry_run` only reads and needs no rights.
    pub fn open(dry_run: bool) -> Result<LiveTarget, RestoreError> {
        if !cfg!(windows) {
            return Err(RestoreError::Unsupported {
                os: std::env::consts::OS,
            });
        }
        if !dry_run && !platform::is_admin() {
            return Err(RestoreError::NotAdmin {
                reason: "this process is not an elevated administrator".into(),
            });
        }
        Ok(LiveTarget {
            computer: platform::computer_name(),
        })
    }

    fn sys(object: &str, source: SysError) -> RestoreError {
        RestoreError::System {
            object: object.to_string(),
            source,
        }
    }

    fn hive(&self, user: &TargetUser) -> Result<UserHive, RestoreError> {
        let ntuser = user.profile_host.join("NTUSER.DAT");
        platform::open_user_hive(&user.sid, &ntuser)
            .map_err(|e| Self::sys(&format!("{} ({})", ntuser.display(), user.account), e))
    }
}

impl Target for LiveTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Live
    }

    fn describe(&self) -> String {
        format!("this Windows ({})", self.computer.as_deref().unwrap_or("?"))
    }

    fn user(
        &mut self,
        name: &str,
        create: Option<&LocalAccounts>,
        dry_run: bool,
    ) -> Result<TargetUser, RestoreError> {
        let local = super::users::is_local(name, self.computer.as_deref());
        let mut created_account = false;
        let account = match platform::lookup_account(name).map_err(|e| Self::sys(name, e))? {
            Some(a) => a,
            None => match create.filter(|_| local) {
                None => {
                    return Err(RestoreError::MissingAccount {
                        account: name.to_string(),
                        target: self.describe(),
                        local,
                    })
                }
                Some(_) if dry_run => {
                    return Ok(TargetUser {
                        account: name.to_string(),
                        sid: String::new(),
                        profile: format!(
                            r"{}\{}",
                            platform::profiles_directory().unwrap_or_else(|| r"C:\Users".into()),
                            super::users::bare(name)
                        ),
                        profile_host: PathBuf::new(),
                        created_account: true,
                        created_profile: true,
                    })
                }
                Some(c) => {
                    let bare = super::users::bare(name);
                    platform::create_local_account(bare, &c.password, c.enable)
                        .map_err(|e| Self::sys(name, e))?;
                    created_account = true;
                    platform::lookup_account(bare)
                        .map_err(|e| Self::sys(name, e))?
                        .ok_or_else(|| RestoreError::Account {
                            account: name.to_string(),
                            reason: "created, but Windows does not find it".into(),
                        })?
                }
            },
        };
        let (profile, created_profile) = match platform::profile_of(&account.sid) {
            Some(p) => (p, false),
            None if dry_run => (
                format!(
                    r"{}\{}",
                    platform::profiles_directory().unwrap_or_else(|| r"C:\Users".into()),
                    super::users::bare(name)
                ),
                true,
            ),
            None => (
                platform::create_profile(&account.sid, super::users::bare(name))
                    .map_err(|e| Self::sys(name, e))?,
                true,
            ),
        };
        Ok(TargetUser {
            account: format!("{}\\{}", account.domain, super::users::bare(name)),
            sid: account.sid,
            profile_host: PathBuf::from(&profile),
            profile,
            created_account,
            created_profile,
        })
    }

    fn known_folders(
        &mut self,
        user: &TargetUser,
    ) -> Result<BTreeMap<String, String>, RestoreError> {
        let hive = if user.sid.is_empty() {
            None
        } else {
            Some(self.hive(user)?)
        };
        let lookup = |value: &str| -> Option<String> {
            let (kind, data) = hive.as_ref()?.get(USER_SHELL_FOLDERS, value)?;
            (kind == 1 || kind == 2).then(|| crate::hive::utf16_until_nul(&data))
        };
        let machine: std::collections::HashMap<String, String> = std::env::vars()
            .map(|(k, v)| (k.to_uppercase(), v))
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "SYSTEMDRIVE"
                        | "SYSTEMROOT"
                        | "WINDIR"
                        | "PROGRAMDATA"
                        | "PUBLIC"
                        | "ALLUSERSPROFILE"
                )
            })
            .collect();
        let vars = known_folders::user_vars_with(
            &machine,
            &user.sid,
            &user.account,
            &user.profile,
            &lookup,
            false,
        );
        Ok(known_folders::known_folder_map(&vars))
    }

    fn host_path(&self, win: &str) -> Option<PathBuf> {
        Some(PathBuf::from(win))
    }

    fn settings<'a>(
        &'a mut self,
        user: &TargetUser,
    ) -> Result<Box<dyn SettingsSink + 'a>, RestoreError> {
        if user.sid.is_empty() {
            // A dry run for an account not created yet: nothing to read or write.
            return Ok(Box::new(FileSink::new(&user.profile_host, &user.account)));
        }
        Ok(Box::new(HiveSink {
            hive: self.hive(user)?,
            account: user.account.clone(),
            classes: FileSink::new(&user.profile_host, &user.account),
        }))
    }

    fn adopt(&self, user: &TargetUser, placed: &Path) -> Result<(), RestoreError> {
        platform::adopt_file(placed, &user.sid)
            .map_err(|e| Self::sys(&placed.display().to_string(), e))
    }
}

/// A user's hive; the hive is unloaded when this is dropped, also on an error.
struct HiveSink {
    hive: UserHive,
    account: String,
    /// `Software\Classes` of a hive loaded privately is not the user's classes view
    /// (that is UsrClass.dat, joined at logon): those keys are left in a file instead.
    classes: FileSink,
}

fn is_classes(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == r"software\classes" || k.starts_with(r"software\classes\")
}

impl SettingsSink for HiveSink {
    fn current(&self, key: &str, name: &str) -> Option<(u32, Vec<u8>)> {
        self.hive.get(key, name)
    }

    fn set(&mut self, key: &str, value: &RegValue) -> Result<(), RestoreError> {
        if self.hive.loaded_privately() && is_classes(key) {
            return self.classes.set(key, value);
        }
        self.hive
            .set(key, &value.name, value.kind, &value.data)
            .map_err(|e| RestoreError::System {
                object: format!(r"{}: HKCU\{key} [{}]", self.account, value.name),
                source: e,
            })
    }

    fn finish(self: Box<Self>) -> Result<Option<PathBuf>, RestoreError> {
        // The hive is unloaded when the rest of this sink is dropped.
        let HiveSink { classes, .. } = *self;
        Box::new(classes).finish()
    }
}
