//! Gives each profile a name and a kind, from what the offline hives record:
//! - local accounts: the SAM hive ([`super::sam`]); a linked Microsoft account through SAM's
//!   `InternetUserName` (Windows 8 and later);
//! - Microsoft and Entra ID accounts: SOFTWARE `Microsoft\IdentityStore\Cache\<SID>\
//!   IdentityCache\<SID>` (`UserName`, `DisplayName`, `ProviderName`), as forensic tools
//!   (RegRipper, KAPE) read it; Entra SIDs start `S-1-12-1-`;
//! - domain accounts: SOFTWARE `Microsoft\Windows\CurrentVersion\Group Policy\DataStore\<SID>\0`
//!   (`szName`, `DomainName`) for machines that applied policy, then LogonUI's
//!   `LastLoggedOnSAMUser` when its `LastLoggedOnUserSID` is this SID;
//! - otherwise the profile folder's name, marked as a guess.
//!
//! Well-known SIDs, `.bak` keys, TEMP folders and setup accounts get their kinds here too.

use crate::hive::LoadedHive;

use super::model::UserKind;
use super::profiles::ProfileEntry;
pub use super::sam::{read_sam, SamInfo};

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

/// ProfileList `State` bits, as userenv's profile.h defines them: PROFILE_TEMP_ASSIGNED
/// (a temporary profile was given because the real one could not load) and
/// PROFILE_THIS_IS_BAK (the backup of a broken profile). 0x0004 is only "new local profile".
const STATE_TEMP_ASSIGNED: u32 = 0x0800;
const STATE_THIS_IS_BAK: u32 = 0x8000;

fn named(name: String, source: &str, kind: UserKind) -> Named {
    Named {
        name,
        source: source.into(),
        guess: false,
        display_name: None,
        kind,
    }
}

fn identity_cache(
    software: &LoadedHive,
    sid: &str,
) -> Option<(String, Option<String>, Option<String>)> {
    let k = software.key(&format!(
        r"Microsoft\IdentityStore\Cache\{sid}\IdentityCache\{sid}"
    ))?;
    let user = k.string("UserName").filter(|s| !s.is_empty())?;
    Some((
        user,
        k.string("DisplayName").filter(|s| !s.is_empty()),
        k.string("ProviderName"),
    ))
}

fn group_policy_name(software: &LoadedHive, sid: &str) -> Option<String> {
    let k = software.key(&format!(
        r"Microsoft\Windows\CurrentVersion\Group Policy\DataStore\{sid}\0"
    ))?;
    let name = k.string("szName").filter(|s| !s.is_empty())?;
    Some(match k.string("DomainName").filter(|d| !d.is_empty()) {
        Some(d) if !name.contains('\\') => format!("{d}\\{name}"),
        _ => name,
    })
}

fn logonui_name(software: &LoadedHive, sid: &str) -> Option<String> {
    let k = software.key(r"Microsoft\Windows\CurrentVersion\Authentication\LogonUI")?;
    (k.string("LastLoggedOnUserSID")?.eq_ignore_ascii_case(sid))
        .then(|| k.string("LastLoggedOnSAMUser"))?
}

pub fn name_user(ctx: &NamingContext<'_>, entry: &ProfileEntry) -> Named {
    let folder = entry
        .path
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(&entry.path)
        .to_string();
    let sid = entry.sid.as_str();
    match sid {
        "S-1-5-18" => {
            return named(
                r"NT AUTHORITY\SYSTEM".into(),
                "well-known-sid",
                UserKind::System,
            )
        }
        "S-1-5-19" => {
            return named(
                r"NT AUTHORITY\LOCAL SERVICE".into(),
                "well-known-sid",
                UserKind::Service,
            )
        }
        "S-1-5-20" => {
            return named(
                r"NT AUTHORITY\NETWORK SERVICE".into(),
                "well-known-sid",
                UserKind::Service,
            )
        }
        _ => {}
    }
    let mut n = lookup(ctx, sid).unwrap_or_else(|| Named {
        name: folder.clone(),
        source: "folder-name".into(),
        guess: true,
        display_name: None,
        kind: guess_kind(ctx, sid),
    });
    // What the profile itself says overrides the account's kind.
    let lower_folder = folder.to_lowercase();
    if entry.key_name.to_lowercase().ends_with(".bak")
        || entry.state.is_some_and(|s| s & STATE_THIS_IS_BAK != 0)
    {
        n.kind = UserKind::Backup;
    } else if entry.state.is_some_and(|s| s & STATE_TEMP_ASSIGNED != 0)
        || lower_folder == "temp"
        || lower_folder.starts_with("temp.")
        || lower_folder.starts_with("defaultuser")
    {
        n.kind = UserKind::Temporary;
    }
    n
}

/// The kind a SID alone tells: Entra IDs, service SIDs, and domain accounts (an
/// S-1-5-21 SID that is not the machine's own).
fn guess_kind(ctx: &NamingContext<'_>, sid: &str) -> UserKind {
    if sid.starts_with("S-1-12-1-") {
        UserKind::Entra
    } else if sid.starts_with("S-1-5-80-") {
        UserKind::Service
    } else if let Some(machine) = ctx.sam.and_then(|s| s.machine_sid.as_deref()) {
        if sid.starts_with("S-1-5-21-") && !sid.starts_with(&format!("{machine}-")) {
            UserKind::Domain
        } else {
            UserKind::Unknown
        }
    } else {
        UserKind::Unknown
    }
}

fn lookup(ctx: &NamingContext<'_>, sid: &str) -> Option<Named> {
    if let Some(acct) = ctx.sam.and_then(|s| s.account_for_sid(sid)) {
        if let Some(ms) = &acct.microsoft_account {
            let mut n = named(
                format!(r"MicrosoftAccount\{ms}"),
                "sam-internet-user-name",
                UserKind::Microsoft,
            );
            n.display_name = Some(format!(
                "{}\\{}",
                ctx.computer_name.unwrap_or("."),
                acct.name
            ));
            return Some(n);
        }
        let mut n = named(
            format!("{}\\{}", ctx.computer_name.unwrap_or("."), acct.name),
            "sam",
            UserKind::Local,
        );
        n.display_name = acct.full_name.clone();
        return Some(n);
    }
    let software = ctx.software?;
    if let Some((user, display, provider)) = identity_cache(software, sid) {
        let entra = sid.starts_with("S-1-12-1-")
            || provider
                .as_deref()
                .is_some_and(|p| p.contains("AzureAD") || p.contains("AAD"));
        let (prefix, kind) = if entra {
            ("AzureAD", UserKind::Entra)
        } else {
            ("MicrosoftAccount", UserKind::Microsoft)
        };
        let mut n = named(format!("{prefix}\\{user}"), "identity-cache", kind);
        n.display_name = display;
        return Some(n);
    }
    if sid.starts_with("S-1-5-21-") {
        if let Some(name) = group_policy_name(software, sid) {
            return Some(named(name, "group-policy", UserKind::Domain));
        }
        if let Some(name) = logonui_name(software, sid) {
            return Some(named(name, "logonui", UserKind::Domain));
        }
    }
    None
}
