//! Gives each profile a name and a kind. (Interim: well-known SIDs and folder names; the
//! SAM and identity caches are read by `accounts`.)

use crate::hive::LoadedHive;

use super::model::UserKind;
use super::profiles::ProfileEntry;

#[derive(Debug, Clone, Default)]
pub struct SamInfo;

pub fn read_sam(_hive: &LoadedHive) -> Result<SamInfo, String> {
    Ok(SamInfo)
}

pub struct NamingContext<'a> {
    pub software: Option<&'a LoadedHive>,
    pub sam: Option<&'a SamInfo>,
    pub computer_name: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub source: String,
    pub guess: bool,
    pub display_name: Option<String>,
    pub kind: UserKind,
}

pub fn name_user(_ctx: &NamingContext<'_>, entry: &ProfileEntry) -> Named {
    let folder = entry
        .path
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(&entry.path)
        .to_string();
    let (kind, name) = match entry.sid.as_str() {
        "S-1-5-18" => (UserKind::System, "NT AUTHORITY\\SYSTEM".to_string()),
        "S-1-5-19" => (UserKind::Service, "NT AUTHORITY\\LOCAL SERVICE".to_string()),
        "S-1-5-20" => (
            UserKind::Service,
            "NT AUTHORITY\\NETWORK SERVICE".to_string(),
        ),
        s if s.starts_with("S-1-5-80-") => (UserKind::Service, folder.clone()),
        _ if entry.key_name.to_ascii_lowercase().ends_with(".bak") => {
            (UserKind::Backup, folder.clone())
        }
        _ => (UserKind::Unknown, folder.clone()),
    };
    let guess =
        !matches!(kind, UserKind::System | UserKind::Service) || entry.sid.starts_with("S-1-5-80-");
    Named {
        source: if guess {
            "folder-name".into()
        } else {
            "well-known-sid".into()
        },
        name,
        guess,
        display_name: None,
        kind,
    }
}
