//! The profile list of an installation (SOFTWARE `ProfileList`): one entry per SID that
//! ever had a profile on the machine.

use crate::hive::LoadedHive;

use crate::winpath::{expand_vars, normalize};

pub const PROFILE_LIST: &str = r"Microsoft\Windows NT\CurrentVersion\ProfileList";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileEntry {
    /// The key's name; a `.bak` suffix marks Windows' backup of a broken profile.
    pub key_name: String,
    pub sid: String,
    /// `ProfileImagePath` with `%SystemDrive%`/`%SystemRoot%` expanded.
    pub path: String,
    pub state: Option<u32>,
    /// Latest of the profile's load and unload times (Windows 7 and later), FILETIME.
    pub last_used: Option<u64>,
}

/// Expansion values for `ProfileImagePath`: the offline system's own drive and folder.
pub fn system_vars(system_root: &str) -> Vec<(&'static str, String)> {
    let drive = system_root.get(..2).unwrap_or("C:").to_string();
    vec![
        ("SystemDrive", drive),
        ("SystemRoot", system_root.to_string()),
        ("windir", system_root.to_string()),
    ]
}

pub fn read_profile_list(software: &LoadedHive, system_root: &str) -> Vec<ProfileEntry> {
    let Some(list) = software.key(PROFILE_LIST) else {
        return Vec::new();
    };
    let vars = system_vars(system_root);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut out = Vec::new();
    for key in list.subkeys() {
        let key_name = key.name();
        let sid = key_name
            .trim_end_matches(".bak")
            .trim_end_matches(".BAK")
            .to_string();
        if !sid.starts_with("S-1-") {
            continue;
        }
        let Some(raw) = key.string("ProfileImagePath") else {
            continue;
        };
        let filetime = |hi: &str, lo: &str| -> Option<u64> {
            let (h, l) = (key.dword(hi)?, key.dword(lo)?);
            let ft = (u64::from(h) << 32) | u64::from(l);
            (ft != 0).then_some(ft)
        };
        let last_used = [
            filetime("LocalProfileLoadTimeHigh", "LocalProfileLoadTimeLow"),
            filetime("LocalProfileUnloadTimeHigh", "LocalProfileUnloadTimeLow"),
        ]
        .into_iter()
        .flatten()
        .max();
        out.push(ProfileEntry {
            key_name,
            sid,
            path: normalize(&expand_vars(raw.trim(), &vars)),
            state: key.dword("State"),
            last_used,
        });
    }
    out
}
