//! Gives each profile of an offline Windows a name and a kind, from what the hives recorded
//! while it ran: the SAM for local accounts, identity caches for Microsoft and Entra ID
//! accounts, the Group Policy cache and the logon screen's memory for domain accounts.
//! Nothing can be asked of a domain controller or of Microsoft offline, so a profile no
//! source names keeps its folder name, marked as a guess.
//!
//! Names: `COMPUTER\name` for local accounts, `DOMAIN\name` for domain accounts,
//! `MicrosoftAccount\<e-mail>` and `AzureAD\<e-mail or name>` for cloud accounts.

use crate::hive::{Key, LoadedHive};

use super::model::{NameSource, UserKind};
use super::profiles::ProfileEntry;
pub use super::sam::{read_sam, SamInfo};

pub struct NamingContext<'a> {
    pub software: Option<&'a LoadedHive>,
    pub sam: Option<&'a SamInfo>,
    pub computer_name: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub source: NameSource,
    pub guess: bool,
    pub display_name: Option<String>,
    pub kind: UserKind,
}

/// ProfileList `State` bits, as userenv's profile.h defines them: PROFILE_TEMP_ASSIGNED
/// (a temporary profile was given because the real one could not load; also ITPro Today,
/// "What is the meaning of the State value…", and precedence.co.uk "ProfileStates") and
/// PROFILE_THIS_IS_BAK (the backup of a broken profile).
pub const STATE_TEMP_ASSIGNED: u32 = 0x0800;
pub const STATE_THIS_IS_BAK: u32 = 0x8000;

pub fn name_user(ctx: &NamingContext<'_>, entry: &ProfileEntry) -> Named {
    let folder = folder_name(&entry.path);
    if let Some(n) = well_known(&entry.sid, &folder) {
        return n;
    }
    let mut named = resolve(ctx, &entry.sid, &folder);
    // Windows (and USMT's /ui patterns) write cloud accounts as `MicrosoftAccount\<mail>`
    // and `AzureAD\<name>`; `plan::users` matches `DOMAIN\name` patterns on that form.
    if !named.guess && !named.name.contains('\\') {
        match named.kind {
            UserKind::Microsoft => named.name = format!("MicrosoftAccount\\{}", named.name),
            UserKind::Entra => named.name = format!("AzureAD\\{}", named.name),
            _ => {}
        }
    }
    // What the profile itself says overrides the account's kind; the name stays.
    if entry.key_name.to_ascii_lowercase().ends_with(".bak")
        || entry.state.is_some_and(|s| s & STATE_THIS_IS_BAK != 0)
    {
        named.kind = UserKind::Backup;
    } else if is_temporary(entry, &folder) {
        named.kind = UserKind::Temporary;
    }
    named
}

fn folder_name(path: &str) -> String {
    path.trim_end_matches(['\\', '/'])
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .to_string()
}

fn named(name: String, source: NameSource, kind: UserKind, display_name: Option<String>) -> Named {
    Named {
        name,
        source,
        guess: false,
        display_name,
        kind,
    }
}

fn guessed(folder: &str, kind: UserKind) -> Named {
    Named {
        name: folder.to_string(),
        source: NameSource::FolderName,
        guess: true,
        display_name: None,
        kind,
    }
}

/// The system's own accounts (well-known SIDs, MS-DTYP 2.4.2.4).
fn well_known(sid: &str, folder: &str) -> Option<Named> {
    let (kind, name) = match sid {
        "S-1-5-18" => (UserKind::System, r"NT AUTHORITY\SYSTEM"),
        "S-1-5-19" => (UserKind::Service, r"NT AUTHORITY\LOCAL SERVICE"),
        "S-1-5-20" => (UserKind::Service, r"NT AUTHORITY\NETWORK SERVICE"),
        // Per-service (S-1-5-80-…) and IIS application-pool (S-1-5-82-…) SIDs are hashes
        // of names that are not stored with the profile: the folder name is the best hint.
        s if s.starts_with("S-1-5-80-") || s.starts_with("S-1-5-82-") => {
            return Some(guessed(folder, UserKind::Service));
        }
        _ => return None,
    };
    Some(named(name.into(), NameSource::WellKnownSid, kind, None))
}

/// Temporary profiles: the `State` bit, Windows' `TEMP` / `TEMP.<DOMAIN>[.NNN]` folders
/// (Microsoft Learn, "You've been signed in with a temporary profile": C:\Users\TEMP), and
/// the setup accounts `defaultuser0` (Windows 10 OOBE) and `defaultuser100000…` (Windows 11
/// OOBE), which setup deletes but sometimes leaves behind. `defaultuser` followed by
/// anything but digits is somebody's real account name.
fn is_temporary(entry: &ProfileEntry, folder: &str) -> bool {
    let f = folder.to_ascii_lowercase();
    entry.state.is_some_and(|s| s & STATE_TEMP_ASSIGNED != 0)
        || f == "temp"
        || f.starts_with("temp.")
        || f.strip_prefix("defaultuser")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SidClass {
    /// The machine's own accounts (SAM's machine SID + RID).
    Local,
    /// S-1-12-1-…: Entra ID (Azure AD) users.
    Entra,
    /// S-1-5-21-… of another authority: a domain (or, without a SAM, not known which).
    NtOther,
    Other,
}

fn classify(sid: &str, machine_sid: Option<&str>) -> SidClass {
    if sid.starts_with("S-1-12-1-") {
        SidClass::Entra
    } else if machine_sid.is_some_and(|m| {
        sid.strip_prefix(m)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| !r.contains('-'))
    }) {
        SidClass::Local
    } else if sid.starts_with("S-1-5-21-") {
        SidClass::NtOther
    } else {
        SidClass::Other
    }
}

fn qualify(domain: Option<&str>, name: &str) -> String {
    match domain {
        Some(d) if !d.is_empty() => format!("{d}\\{name}"),
        _ => name.to_string(),
    }
}

fn resolve(ctx: &NamingContext<'_>, sid: &str, folder: &str) -> Named {
    let machine = ctx.sam.and_then(|s| s.machine_sid.as_deref());
    match classify(sid, machine) {
        SidClass::Local => resolve_local(ctx, sid, folder),
        SidClass::Entra => resolve_entra(ctx, sid, folder),
        SidClass::NtOther => resolve_domain(ctx, sid, folder, machine.is_some()),
        SidClass::Other => guessed(folder, UserKind::Unknown),
    }
}

fn resolve_local(ctx: &NamingContext<'_>, sid: &str, folder: &str) -> Named {
    let sw = ctx.software;
    if let Some(u) = ctx.sam.and_then(|s| s.by_sid(sid)) {
        if let Some(ms) = &u.microsoft_account {
            if let Some(mail) = &ms.user_name {
                let display = match (&ms.given_name, &ms.surname) {
                    (Some(g), Some(s)) => Some(format!("{g} {s}")),
                    (Some(n), None) | (None, Some(n)) => Some(n.clone()),
                    _ => u.full_name.clone(),
                };
                return named(
                    mail.clone(),
                    NameSource::SamMicrosoftAccount,
                    UserKind::Microsoft,
                    display,
                );
            }
        }
        // A local SID with a cached internet identity is a Microsoft account too.
        if let Some(c) = sw.and_then(|h| identity_cache(h, sid)) {
            if let Some(mail) = c.user_name.filter(|n| n.contains('@')) {
                return named(
                    mail,
                    NameSource::IdentityCache,
                    UserKind::Microsoft,
                    c.display_name.or_else(|| u.full_name.clone()),
                );
            }
        }
        return named(
            qualify(ctx.computer_name, &u.name),
            NameSource::Sam,
            UserKind::Local,
            u.full_name.clone(),
        );
    }
    // The account was deleted from the SAM; the logon screen may still know it.
    if let Some(n) = sw
        .and_then(|h| logon_ui(h, sid))
        .and_then(|l| l.named(ctx.computer_name))
    {
        return Named {
            kind: UserKind::Local,
            ..n
        };
    }
    guessed(folder, UserKind::Local)
}

fn resolve_entra(ctx: &NamingContext<'_>, sid: &str, folder: &str) -> Named {
    let sw = ctx.software;
    for (c, source) in [
        (
            sw.and_then(|h| identity_cache(h, sid)),
            NameSource::IdentityCache,
        ),
        (sw.and_then(|h| logon_cache(h, sid)), NameSource::LogonCache),
    ] {
        if let Some(c) = c {
            if let Some(n) = c.user_name.clone().or(c.sam_name.clone()) {
                return named(n, source, UserKind::Entra, c.display_name);
            }
        }
    }
    if let Some(n) = sw
        .and_then(|h| logon_ui(h, sid))
        .and_then(|l| l.named(ctx.computer_name))
    {
        return Named {
            kind: UserKind::Entra,
            ..n
        };
    }
    guessed(folder, UserKind::Entra)
}

fn resolve_domain(ctx: &NamingContext<'_>, sid: &str, folder: &str, have_sam: bool) -> Named {
    let sw = ctx.software;
    let domain_hint = sw.and_then(|h| netbios_domain(h, sid));
    if let Some(g) = sw.and_then(|h| group_policy(h, sid)) {
        let name = if g.name.contains('\\') {
            g.name.clone()
        } else {
            let d = domain_hint.clone().or_else(|| g.domain_label());
            qualify(d.as_deref(), &g.name)
        };
        return named(
            name,
            NameSource::GroupPolicy,
            UserKind::Domain,
            g.display_name(),
        );
    }
    if let Some(n) = sw
        .and_then(|h| logon_ui(h, sid))
        .and_then(|l| l.named(ctx.computer_name))
    {
        return n;
    }
    // Hybrid-joined machines cache domain users' cloud identities too.
    if let Some(c) = sw.and_then(|h| identity_cache(h, sid)) {
        if c.is_microsoft_account() {
            if let Some(mail) = c.user_name.clone() {
                return named(
                    mail,
                    NameSource::IdentityCache,
                    UserKind::Microsoft,
                    c.display_name,
                );
            }
        }
        let name = match (&c.sam_name, &domain_hint) {
            (Some(s), Some(d)) => Some(qualify(Some(d), s)),
            _ => c.user_name.clone().or(c.sam_name.clone()),
        };
        if let Some(name) = name {
            return named(
                name,
                NameSource::IdentityCache,
                UserKind::Domain,
                c.display_name,
            );
        }
    }
    // Not the machine's SID: with a SAM to compare against, it is a domain's.
    let kind = if have_sam {
        UserKind::Domain
    } else {
        UserKind::Unknown
    };
    guessed(folder, kind)
}

fn text(k: &Key<'_>, name: &str) -> Option<String> {
    let s = k.string(name)?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A cached cloud identity.
#[derive(Debug, Clone, Default)]
struct CachedIdentity {
    /// E-mail / UPN.
    user_name: Option<String>,
    display_name: Option<String>,
    sam_name: Option<String>,
    /// `ProviderName`: "MicrosoftAccount" marks a Microsoft account.
    provider: Option<String>,
}

impl CachedIdentity {
    fn is_microsoft_account(&self) -> bool {
        self.provider
            .as_deref()
            .is_some_and(|p| p.to_ascii_lowercase().contains("microsoftaccount"))
    }
}

/// SOFTWARE `Microsoft\IdentityStore\Cache\<SID>\IdentityCache\<SID>`: `UserName` (the
/// e-mail / UPN), `DisplayName`, `SAMName`, `ProviderName`. Written by the cloud
/// authentication package for Entra ID (and Microsoft account) sign-ins, Windows 10+.
/// Evidence: many admin scripts read an Entra user's UPN exactly there
/// (`Get-ItemProperty HKLM:\SOFTWARE\Microsoft\IdentityStore\Cache\$sid\IdentityCache\$sid
/// -Name UserName`, also matching on `SAMName`); profile-cleanup tools delete
/// `IdentityStore\Cache\<SID>` with the profile. Reliability: high for users who signed in.
fn identity_cache(sw: &LoadedHive, sid: &str) -> Option<CachedIdentity> {
    let k = sw.key(&format!(
        r"Microsoft\IdentityStore\Cache\{sid}\IdentityCache\{sid}"
    ))?;
    let c = CachedIdentity {
        user_name: text(&k, "UserName"),
        display_name: text(&k, "DisplayName"),
        sam_name: text(&k, "SAMName"),
        provider: text(&k, "ProviderName"),
    };
    (c.user_name.is_some() || c.sam_name.is_some()).then_some(c)
}

/// SOFTWARE `Microsoft\IdentityStore\LogonCache\<provider GUID>\Sid2Name\<SID>`:
/// `IdentityName` (UPN), `DisplayName`, `SAMName`. The cloud authentication package keeps
/// it to resolve cached Entra sign-ins offline (cloudap.dll: `GetUserSid2NameSubKey`,
/// `FindUserInCacheBySid` reading `SAMName`). Reliability: medium (value names other than
/// `SAMName` from forensic write-ups; no real hive here has the key).
fn logon_cache(sw: &LoadedHive, sid: &str) -> Option<CachedIdentity> {
    let root = sw.key(r"Microsoft\IdentityStore\LogonCache")?;
    root.subkeys().into_iter().find_map(|provider| {
        let k = provider.subkey(&format!(r"Sid2Name\{sid}"))?;
        let c = CachedIdentity {
            user_name: text(&k, "IdentityName"),
            display_name: text(&k, "DisplayName"),
            sam_name: text(&k, "SAMName"),
            provider: None,
        };
        (c.user_name.is_some() || c.sam_name.is_some()).then_some(c)
    })
}

/// The Group Policy client's cache about one user.
#[derive(Debug, Clone, Default)]
struct PolicyUser {
    name: String,
    domain: Option<String>,
    dn: Option<String>,
}

impl PolicyUser {
    /// The common name of the distinguished name (usually the person's full name).
    fn display_name(&self) -> Option<String> {
        let dn = self.dn.as_deref()?;
        let cn = dn.strip_prefix("CN=").or_else(|| dn.strip_prefix("cn="))?;
        // "CN=Smith\, John,OU=…": a comma escaped by a backslash belongs to the name.
        let mut out = String::new();
        let mut chars = cn.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                ',' => break,
                c => out.push(c),
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// A NetBIOS-style domain label when nothing better is known: the first label of
    /// `DomainName` (a DNS name or already a NetBIOS name), else of the DN's `DC=` parts.
    /// NetBIOS names usually, not always, equal that label.
    fn domain_label(&self) -> Option<String> {
        if let Some(d) = self.domain.as_deref().filter(|d| !d.is_empty()) {
            return d.split('.').next().map(|l| l.to_ascii_uppercase());
        }
        self.dn
            .as_deref()?
            .split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("DC=").or(p.strip_prefix("dc=")))
            .map(|d| d.to_ascii_uppercase())
    }
}

/// SOFTWARE `Microsoft\Windows\CurrentVersion\Group Policy\DataStore\<SID>\0`: `szName`,
/// `szTargetName` (the account's name), `DomainName`, `DNName`; and
/// `…\Group Policy\State\<SID>` `Distinguished-Name`. Only domain members process user
/// policy, so these exist only for domain accounts (Vista+). Evidence: scripts read the
/// primary user's name as `DataStore\<SID>\0` `szName`, and the machine's name and DN as
/// `DataStore\Machine\0` `szTargetName` / `DNName`. Reliability: medium; which of
/// `szName`/`szTargetName` carries a domain prefix is not verified on a real hive, so a
/// `DOMAIN\name` form is taken from either.
fn group_policy(sw: &LoadedHive, sid: &str) -> Option<PolicyUser> {
    let base = r"Microsoft\Windows\CurrentVersion\Group Policy";
    let ds = sw.key(&format!(r"{base}\DataStore\{sid}\0"));
    let state = sw.key(&format!(r"{base}\State\{sid}"));
    let get = |n: &str| ds.as_ref().and_then(|k| text(k, n));
    let names = [get("szTargetName"), get("szName")];
    let name = names
        .iter()
        .flatten()
        .find(|n| n.contains('\\'))
        .or(names.iter().flatten().next())?
        .clone();
    Some(PolicyUser {
        name,
        domain: get("DomainName"),
        dn: state
            .as_ref()
            .and_then(|k| text(k, "Distinguished-Name"))
            .or_else(|| get("DNName")),
    })
}

/// What the logon screen remembered about one user.
#[derive(Debug, Clone, Default)]
struct LogonUiUser {
    /// `DOMAIN\name`, `.\name` or `COMPUTER\name`.
    sam_user: Option<String>,
    /// As typed or shown: may be `MicrosoftAccount\mail` or `AzureAD\name`.
    user: Option<String>,
    display_name: Option<String>,
}

impl LogonUiUser {
    fn named(&self, computer: Option<&str>) -> Option<Named> {
        let display = self.display_name.clone();
        for v in [&self.user, &self.sam_user].into_iter().flatten() {
            if let Some(mail) = strip_prefix_ci(v, r"MicrosoftAccount\") {
                return Some(named(
                    mail.to_string(),
                    NameSource::LogonUi,
                    UserKind::Microsoft,
                    display,
                ));
            }
        }
        let v = self.sam_user.as_ref().or(self.user.as_ref())?;
        if let Some(n) = strip_prefix_ci(v, r"AzureAD\") {
            return Some(named(
                n.to_string(),
                NameSource::LogonUi,
                UserKind::Entra,
                display,
            ));
        }
        let (dom, name) = v.split_once('\\').unwrap_or(("", v));
        let local =
            dom.is_empty() || dom == "." || computer.is_some_and(|c| c.eq_ignore_ascii_case(dom));
        Some(if local {
            named(
                qualify(computer, name),
                NameSource::LogonUi,
                UserKind::Local,
                display,
            )
        } else {
            named(v.clone(), NameSource::LogonUi, UserKind::Domain, display)
        })
    }
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
        .filter(|r| !r.is_empty())
}

const LOGON_UI: &str = r"Microsoft\Windows\CurrentVersion\Authentication\LogonUI";

/// Every user the logon screen remembers: `LogonUI` `LastLoggedOnUser`,
/// `LastLoggedOnSAMUser`, `LastLoggedOnDisplayName`, `LastLoggedOnUserSID` (the last
/// interactive user, Windows 7+) and `LogonUI\SessionData\<n>` `LoggedOnUser`,
/// `LoggedOnSAMUser`, `LoggedOnDisplayName`, `LoggedOnUserSID` (sessions of the last boot,
/// Windows 8+). Evidence: the RegRipper `lastloggedon` plugin (as ported to dissect);
/// migration tools' tests that set these values. Reliability: high, but for a few users.
fn logon_ui_users(sw: &LoadedHive) -> Vec<(String, LogonUiUser)> {
    let mut out = Vec::new();
    let Some(k) = sw.key(LOGON_UI) else {
        return out;
    };
    let mut push = |k: &Key<'_>, prefix: &str| {
        if let Some(sid) = text(k, &format!("{prefix}UserSID")) {
            out.push((
                sid,
                LogonUiUser {
                    sam_user: text(k, &format!("{prefix}SAMUser")),
                    user: text(k, &format!("{prefix}User")),
                    display_name: text(k, &format!("{prefix}DisplayName")),
                },
            ));
        }
    };
    push(&k, "LastLoggedOn");
    if let Some(sessions) = k.subkey("SessionData") {
        for s in sessions.subkeys() {
            push(&s, "LoggedOn");
        }
    }
    out
}

fn logon_ui(sw: &LoadedHive, sid: &str) -> Option<LogonUiUser> {
    logon_ui_users(sw)
        .into_iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(sid))
        .map(|(_, u)| u)
}

/// The NetBIOS name of `sid`'s domain: the prefix of any remembered logon of the same
/// domain (same SID up to the RID); else SOFTWARE `Microsoft\Windows NT\CurrentVersion\
/// Winlogon` `CachePrimaryDomain` / `DefaultDomainName` (the machine's own domain, where
/// most of its users come from; reliability: medium).
fn netbios_domain(sw: &LoadedHive, sid: &str) -> Option<String> {
    let domain_part = |s: &str| s.rsplit_once('-').map(|(d, _)| d.to_ascii_uppercase());
    let mine = domain_part(sid)?;
    for (s, u) in logon_ui_users(sw) {
        if domain_part(&s).as_deref() != Some(mine.as_str()) {
            continue;
        }
        if let Some((d, _)) = u.sam_user.as_deref().and_then(|v| v.split_once('\\')) {
            if !d.is_empty() && d != "." {
                return Some(d.to_string());
            }
        }
    }
    let wl = sw.key(r"Microsoft\Windows NT\CurrentVersion\Winlogon")?;
    text(&wl, "CachePrimaryDomain").or_else(|| text(&wl, "DefaultDomainName"))
}

#[cfg(test)]
mod tests {
    use super::super::sam::SamUser;
    use super::*;

    fn entry(sid: &str, path: &str) -> ProfileEntry {
        ProfileEntry {
            key_name: sid.to_string(),
            sid: sid.to_string(),
            path: path.to_string(),
            state: Some(0),
            last_used: None,
        }
    }

    fn ctx(sam: Option<&SamInfo>) -> NamingContext<'_> {
        NamingContext {
            software: None,
            sam,
            computer_name: Some("PC"),
        }
    }

    #[test]
    fn well_known_and_junk() {
        let c = ctx(None);
        let n = name_user(
            &c,
            &entry("S-1-5-18", r"C:\Windows\system32\config\systemprofile"),
        );
        assert_eq!((n.kind, n.guess), (UserKind::System, false));
        let n = name_user(
            &c,
            &entry("S-1-5-80-1-2-3-4-5", r"C:\Windows\ServiceProfiles\SQL"),
        );
        assert_eq!(
            (n.kind, n.name.as_str(), n.guess),
            (UserKind::Service, "SQL", true)
        );
        let n = name_user(&c, &entry("S-1-5-21-9-9-9-1001", r"C:\Users\TEMP"));
        assert_eq!(n.kind, UserKind::Temporary);
        let n = name_user(
            &c,
            &entry("S-1-5-21-9-9-9-1002", r"C:\Users\defaultuser100000"),
        );
        assert_eq!(n.kind, UserKind::Temporary);
        let n = name_user(&c, &entry("S-1-5-21-9-9-9-1003", r"C:\Users\defaultuserx"));
        assert_eq!(n.kind, UserKind::Unknown);
        let mut e = entry("S-1-5-21-9-9-9-1004", r"C:\Users\zed");
        e.state = Some(STATE_TEMP_ASSIGNED | 0x4);
        assert_eq!(name_user(&c, &e).kind, UserKind::Temporary);
        e.state = Some(STATE_THIS_IS_BAK);
        assert_eq!(name_user(&c, &e).kind, UserKind::Backup);
        e.state = Some(0);
        e.key_name = format!("{}.bak", e.sid);
        assert_eq!(name_user(&c, &e).kind, UserKind::Backup);
    }

    #[test]
    fn local_from_sam_and_deleted_local() {
        let sam = SamInfo {
            machine_sid: Some("S-1-5-21-1-2-3".into()),
            users: vec![SamUser {
                rid: 1001,
                name: "ann".into(),
                full_name: Some("Ann A".into()),
                ..Default::default()
            }],
        };
        let c = ctx(Some(&sam));
        let n = name_user(&c, &entry("S-1-5-21-1-2-3-1001", r"C:\Users\ann"));
        assert_eq!(n.name, r"PC\ann");
        assert_eq!(
            (n.kind, n.source, n.guess),
            (UserKind::Local, NameSource::Sam, false)
        );
        assert_eq!(n.display_name.as_deref(), Some("Ann A"));
        let n = name_user(&c, &entry("S-1-5-21-1-2-3-1009", r"C:\Users\old"));
        assert_eq!(
            (n.kind, n.guess, n.name.as_str()),
            (UserKind::Local, true, "old")
        );
        // Same prefix, longer sub-authority: not this machine's.
        let n = name_user(&c, &entry("S-1-5-21-1-2-33-1001", r"C:\Users\dom"));
        assert_eq!((n.kind, n.guess), (UserKind::Domain, true));
        let n = name_user(&c, &entry("S-1-12-1-5-6-7-8", r"C:\Users\EntraUser"));
        assert_eq!((n.kind, n.guess), (UserKind::Entra, true));
    }

    #[test]
    fn logon_ui_forms() {
        let u = LogonUiUser {
            sam_user: Some(r"PC\bob".into()),
            user: Some(r"MicrosoftAccount\bob@example.com".into()),
            display_name: Some("Bob".into()),
        };
        let n = u.named(Some("PC")).unwrap();
        assert_eq!(
            (n.name.as_str(), n.kind),
            ("bob@example.com", UserKind::Microsoft)
        );
        let u = LogonUiUser {
            sam_user: Some(r".\carl".into()),
            ..Default::default()
        };
        assert_eq!(u.named(Some("PC")).unwrap().name, r"PC\carl");
        let u = LogonUiUser {
            sam_user: Some(r"CORP\dan".into()),
            ..Default::default()
        };
        assert_eq!(u.named(Some("PC")).unwrap().kind, UserKind::Domain);
        assert!(LogonUiUser::default().named(None).is_none());
    }

    #[test]
    fn distinguished_names() {
        let p = PolicyUser {
            name: "jsmith".into(),
            domain: None,
            dn: Some(r"CN=Smith\, John,OU=Staff,DC=corp,DC=example,DC=com".into()),
        };
        assert_eq!(p.display_name().as_deref(), Some("Smith, John"));
        assert_eq!(p.domain_label().as_deref(), Some("CORP"));
        let p = PolicyUser {
            domain: Some("ad.example.org".into()),
            dn: Some("CN=x\\".into()),
            ..p
        };
        assert_eq!(p.domain_label().as_deref(), Some("AD"));
        assert_eq!(p.display_name().as_deref(), Some("x"));
    }
}
