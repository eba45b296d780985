//! The restore's trust boundary. A store is hostile input: it travelled on a stick or sat on
//! a share, and its verification proves only that it is whole, not who made it. Whatever
//! its manifest, its `.reg` files, its WIM's names or its recorded MigXML helpers
//! (`RelativeMove`, `ExactMove`, `SourcePriority`…) say, a store may cause exactly this to be
//! written on the new machine, and nothing else:
//!
//! - **files** below the chosen target users' folders (the profile and the known folders
//!   the target user has now, as [`super::Rebase`] maps them) or below `--other-files-to`,
//!   each component of its place checked by [`file_place`];
//! - **registry values below `HKEY_CURRENT_USER`** of the chosen target user, each key path
//!   normalised once by [`user_key`] and passing its filters.
//!
//! And it never may:
//!
//! - write a **registry hive or its logs** (`NTUSER.DAT`, `NTUSER.MAN`, `UsrClass.dat` and
//!   their `.LOG`, `.LOG1`, `.LOG2`, `.blf`, `.regtrans-ms`, in any case, anywhere, or an 8.3
//!   name that could stand for one): settings travel only through the filtered `.reg`, never
//!   as a hive file, whatever the conflict policy or a helper says;
//! - write or stand in for **Lifeboat's own files** ([`SETTINGS_FILE`], [`SETTINGS_NOTE`],
//!   the staging folder [`STAGING_PREFIX`]`<pid>`): a store's file or folder of such a name,
//!   in any case, is refused, so what looks like Lifeboat's output is Lifeboat's;
//! - write a **name Windows cannot use** (`CON`, `PRN`, `AUX`, `NUL`, `CONIN$`, `CONOUT$`,
//!   `COM0`–`COM9`, `LPT0`–`LPT9` and `COM¹²³`/`LPT¹²³`, with any extension, in any case; a
//!   name ending in a dot or a space; a name longer than 255 UTF-16 units): refused and
//!   reported, never renamed, so the report says exactly which file did not come;
//! - write **outside** those folders: no `..`, no link followed (checked where files are
//!   placed, [`super::files`]), no other user's profile;
//! - set anything **outside `HKEY_CURRENT_USER`** (`HKLM`, `HKEY_USERS`, another user's
//!   hive, `HKCR`), or below a **never-travel** key (the old machine's folder locations,
//!   DPAPI and identities, policies, hardware): those are listed in the report with what to
//!   do instead. A key whose name Windows cannot hold (a control character, a name over
//!   255 units) is refused the same way.
//!
//! Every refusal is reported (a file as skipped with its reason, a key as not applied); none
//! is counted as restored.

use serde::Serialize;

/// The file an offline restore leaves a user's settings in, in the profile folder.
pub const SETTINGS_FILE: &str = "Lifeboat settings.reg";
/// The note beside it.
pub const SETTINGS_NOTE: &str = "Lifeboat settings - READ ME.txt";
/// The staging folder a restore extracts into, beside the files' new place (`<pid>` added).
pub const STAGING_PREFIX: &str = ".lifeboat-restore-";

/// Why a store's file may not be written where it would go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refused {
    /// A registry hive or one of its logs.
    Hive,
    /// A name Lifeboat writes itself.
    LifeboatFile,
    /// A DOS device name (`CON`, `NUL.txt`, `COM1`, `LPT²`…).
    DeviceName,
    /// A name ending in a dot or a space, which Windows strips.
    TrailingDotOrSpace,
    /// Longer than the 255 UTF-16 units a Windows name may have.
    NameTooLong,
    /// An 8.3 short name (`NTUSER~1.LOG`) that could stand for a hive's log or Lifeboat's
    /// own file on a volume that makes short names.
    ShortNameAlias,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::Hive => {
                "a registry hive or its log: settings travel only through the filtered .reg"
            }
            Refused::LifeboatFile => "a name Lifeboat writes itself",
            Refused::DeviceName => "a device name Windows cannot use as a file name",
            Refused::TrailingDotOrSpace => "a name ending in a dot or a space",
            Refused::NameTooLong => "a name longer than Windows allows (255 characters)",
            Refused::ShortNameAlias => {
                "a short (8.3) name that could stand for a hive or Lifeboat's own file"
            }
        })
    }
}

/// Checks every component of a file's place below the folder it goes into (`Documents`,
/// `sub`, `a.txt`). The first refusal found is returned.
pub fn file_place<S: AsRef<str>>(components: &[S]) -> Result<(), Refused> {
    components.iter().try_for_each(|c| component(c.as_ref()))
}

/// One name of a file's place.
pub fn component(name: &str) -> Result<(), Refused> {
    if name.encode_utf16().count() > 255 {
        return Err(Refused::NameTooLong);
    }
    if name.ends_with(['.', ' ']) {
        return Err(Refused::TrailingDotOrSpace);
    }
    let lower = name.to_lowercase();
    if is_hive(&lower) {
        return Err(Refused::Hive);
    }
    if is_lifeboat(&lower) {
        return Err(Refused::LifeboatFile);
    }
    if is_device(name) {
        return Err(Refused::DeviceName);
    }
    if is_short_alias(name) {
        return Err(Refused::ShortNameAlias);
    }
    Ok(())
}

/// The hives a profile holds, lower case.
const HIVES: [&str; 3] = ["ntuser.dat", "ntuser.man", "usrclass.dat"];

/// `ntuser.dat`, `ntuser.dat.log`, `.log1`, `.log2`, the transaction files
/// (`ntuser.dat{GUID}.TM.blf`, `…TMContainer00000000000000000001.regtrans-ms`).
fn is_hive(lower: &str) -> bool {
    HIVES.iter().any(|h| {
        lower.strip_prefix(h).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(".log")
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
                || rest.ends_with(".blf")
                || rest.ends_with(".regtrans-ms")
        })
    })
}

fn is_lifeboat(lower: &str) -> bool {
    lower == SETTINGS_FILE.to_lowercase()
        || lower == SETTINGS_NOTE.to_lowercase()
        || lower.starts_with(STAGING_PREFIX)
}

/// `CON`, `nul.txt`, `Com1.tar.gz`, `LPT¹`, `CON .txt`: the part before the first dot,
/// trailing spaces dropped, is a DOS device.
fn is_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let upper = stem.to_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    let mut chars = upper.chars();
    let head: String = chars.by_ref().take(3).collect();
    let tail: Vec<char> = chars.collect();
    (head == "COM" || head == "LPT")
        && matches!(tail.as_slice(), [c] if c.is_ascii_digit() || matches!(c, '¹' | '²' | '³'))
}

/// The names whose 8.3 aliases are refused, as Windows forms short names: upper case,
/// dots and spaces dropped.
const PROTECTED_LONG: [&str; 5] = [
    "NTUSERDAT",
    "NTUSERMAN",
    "USRCLASSDAT",
    "LIFEBOATSETTINGS",
    "LIFEBOAT-RESTORE-",
];

/// `NTUSER~1.LOG`, `USRCLA~2.BLF`, `LIFEBO~1.REG`, or the hashed form Windows uses past
/// `~4` (`NT3F2A~1.LOG`: two letters, four hex digits): a short name that may be the one
/// Windows gave a protected file.
fn is_short_alias(name: &str) -> bool {
    let upper = name.to_uppercase();
    let (base, ext) = upper.split_once('.').unwrap_or((&upper, ""));
    let Some((head, num)) = base.split_once('~') else {
        return false;
    };
    let head = head.trim_start_matches('.');
    let short = !head.is_empty()
        && head.len() <= 6
        && !num.is_empty()
        && num.chars().all(|c| c.is_ascii_digit())
        && base.len() <= 8
        && ext.len() <= 3
        && !ext.contains('.');
    if !short {
        return false;
    }
    let two = head.get(..2).filter(|_| head.len() == 6);
    let hashed = two.is_some()
        && head
            .get(2..)
            .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
    PROTECTED_LONG
        .iter()
        .any(|long| long.starts_with(head) || (hashed && two.is_some_and(|t| long.starts_with(t))))
}

/// Why a key (or a value moved into it) is not applied on the new machine (USMT leaves the
/// same ones behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeverTravel {
    /// The old machine's folder locations: applying them would undo the folder mapping.
    ShellFolders,
    /// Keys protected by the old machine's or account's keys (DPAPI, certificates' keys).
    Crypto,
    /// Sign-in and cloud identities tied to the old account or device.
    Identity,
    /// Set by policy on the old machine; the new one gets its own.
    Policy,
    /// Describes the old machine's hardware, volumes or session.
    MachineBound,
    /// Not below HKEY_CURRENT_USER: machine settings (or another user's) are not applied
    /// to a user.
    NotUserSettings,
    /// A key name Windows cannot hold (a control character, more than 255 characters).
    BadName,
}

impl NeverTravel {
    /// What the technician does about it on the new machine.
    pub fn advice(self) -> &'static str {
        match self {
            NeverTravel::ShellFolders => {
                "nothing: files were put into this machine's own known folders"
            }
            NeverTravel::Crypto => {
                "sign in to the applications again; re-import certificates with their private keys"
            }
            NeverTravel::Identity => "sign in again (Microsoft account, OneDrive, Office)",
            NeverTravel::Policy => "nothing: this machine's policies apply",
            NeverTravel::MachineBound => {
                "nothing: Windows rebuilds them (drives, devices, sessions)"
            }
            NeverTravel::NotUserSettings => {
                "import the store's machine .reg by hand (reg import) if it is wanted"
            }
            NeverTravel::BadName => {
                "nothing: the store holds a key name no Windows registry can hold"
            }
        }
    }
}

impl std::fmt::Display for NeverTravel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NeverTravel::ShellFolders => "folder locations of the old machine",
            NeverTravel::Crypto => "protected by the old machine's keys",
            NeverTravel::Identity => "an identity of the old account or device",
            NeverTravel::Policy => "set by policy",
            NeverTravel::MachineBound => "describes the old machine",
            NeverTravel::NotUserSettings => "machine settings",
            NeverTravel::BadName => "a key name Windows cannot hold",
        })
    }
}

/// Key prefixes below HKCU that are never applied.
const NEVER: &[(&str, NeverTravel)] = &[
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders",
        NeverTravel::ShellFolders,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders",
        NeverTravel::ShellFolders,
    ),
    (r"Software\Microsoft\Protect", NeverTravel::Crypto),
    (r"Software\Microsoft\Cryptography", NeverTravel::Crypto),
    (
        r"Software\Microsoft\SystemCertificates",
        NeverTravel::Crypto,
    ),
    (r"Software\Microsoft\IdentityCRL", NeverTravel::Identity),
    (r"Software\Microsoft\OneDrive", NeverTravel::Identity),
    (
        r"Software\Microsoft\Windows\CurrentVersion\AAD",
        NeverTravel::Identity,
    ),
    (
        r"Software\Microsoft\Office\16.0\Common\Identity",
        NeverTravel::Identity,
    ),
    (r"Software\Policies", NeverTravel::Policy),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Policies",
        NeverTravel::Policy,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Group Policy",
        NeverTravel::Policy,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\MountPoints2",
        NeverTravel::MachineBound,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\SessionInfo",
        NeverTravel::MachineBound,
    ),
    (
        r"Software\Microsoft\Windows\CurrentVersion\CloudStore",
        NeverTravel::MachineBound,
    ),
    (r"Volatile Environment", NeverTravel::MachineBound),
];

/// A key below `HKEY_CURRENT_USER` that passed every filter: its names as the store spelt
/// them, without the empty ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKey {
    names: Vec<String>,
}

impl UserKey {
    /// Below the user's root: `Control Panel\Desktop` (empty for the root itself).
    pub fn path(&self) -> String {
        self.names.join("\\")
    }

    /// As MigXML patterns name it: `HKCU\Control Panel\Desktop`.
    pub fn hkcu(&self) -> String {
        if self.names.is_empty() {
            "HKCU".into()
        } else {
            format!(r"HKCU\{}", self.path())
        }
    }
}

/// The one normalisation of a registry key path, before any filter: split at backslashes
/// only (a forward slash is an ordinary character of a key name, `text/html`); empty names
/// from doubled, leading or trailing backslashes dropped, as Windows' key parser skips a
/// separator (and a store could otherwise spell `Software\\Policies` past a filter); the
/// root's aliases (`HKCU`, `HKEY_CURRENT_USER`, any case) resolved. Then the filters, on
/// that form only: below HKCU, names Windows can hold, not below a never-travel key
/// (compared name by name, ignoring case as Windows does, with Unicode's case mapping so
/// a look-alike such as `ſoftware` is caught too).
pub fn user_key(raw: &str) -> Result<UserKey, NeverTravel> {
    let mut names = raw.split('\\').filter(|n| !n.is_empty());
    let root = names.next().unwrap_or("");
    if !(root.eq_ignore_ascii_case("HKEY_CURRENT_USER") || root.eq_ignore_ascii_case("HKCU")) {
        return Err(NeverTravel::NotUserSettings);
    }
    let names: Vec<String> = names.map(str::to_string).collect();
    if names
        .iter()
        .any(|n| n.chars().any(char::is_control) || n.encode_utf16().count() > 255)
    {
        return Err(NeverTravel::BadName);
    }
    let folded: Vec<String> = names.iter().map(|n| fold(n)).collect();
    for (prefix, why) in NEVER {
        let p: Vec<String> = prefix.split('\\').map(fold).collect();
        if folded.len() >= p.len() && folded.iter().zip(&p).all(|(a, b)| a == b) {
            return Err(*why);
        }
    }
    Ok(UserKey { names })
}

/// A key name compared as the registry compares: case folded (each character to its upper
/// case when that is one character).
fn fold(name: &str) -> String {
    name.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hives_and_their_logs_in_any_case() {
        for n in [
            "NTUSER.DAT",
            "ntuser.dat",
            "NtUser.Dat.LOG",
            "ntuser.dat.LOG1",
            "NTUSER.DAT.log2",
            "ntuser.man",
            "UsrClass.dat",
            "UsrClass.dat.LOG1",
            "NTUSER.DAT{016888bd-6c6f-11de-8d1d-001e0bcde3ec}.TM.blf",
            "NTUSER.DAT{016888bd-6c6f-11de-8d1d-001e0bcde3ec}.TMContainer00000000000000000001.regtrans-ms",
        ] {
            assert_eq!(component(n), Err(Refused::Hive), "{n}");
        }
        for n in [
            "ntuser.ini",
            "ntuser.dat.bak",
            "my ntuser.dat",
            "usrclass.txt",
        ] {
            assert_eq!(component(n), Ok(()), "{n}");
        }
        assert_eq!(
            file_place(&["AppData", "Local", "Microsoft", "Windows", "UsrClass.dat"]),
            Err(Refused::Hive)
        );
        assert_eq!(component("NTUSER~1.LOG"), Err(Refused::ShortNameAlias));
        assert_eq!(component("USRCLA~2.BLF"), Err(Refused::ShortNameAlias));
        assert_eq!(component("NT3F2A~1.LOG"), Err(Refused::ShortNameAlias));
        assert_eq!(component("LIFEBO~1.REG"), Err(Refused::ShortNameAlias));
        assert_eq!(component("REPORT~1.DOC"), Ok(()));
        assert_eq!(component("ntuser~draft.txt"), Ok(()));
    }

    #[test]
    fn lifeboat_names_and_windows_names() {
        for n in [
            "Lifeboat settings.reg",
            "LIFEBOAT SETTINGS.REG",
            "lifeboat settings - read me.txt",
            ".lifeboat-restore-1234",
            ".Lifeboat-Restore-x",
        ] {
            assert_eq!(component(n), Err(Refused::LifeboatFile), "{n}");
        }
        for n in [
            "CON",
            "con",
            "NUL.txt",
            "nul.tar.gz",
            "COM1",
            "com9.log",
            "LPT9.log",
            "AUX",
            "PRN.x",
            "CONIN$",
            "conout$.txt",
            "COM¹",
            "lpt³.txt",
            "CON .txt",
            "COM0",
        ] {
            assert_eq!(component(n), Err(Refused::DeviceName), "{n}");
        }
        for n in ["trailing.", "...", ".. ", "name "] {
            assert_eq!(component(n), Err(Refused::TrailingDotOrSpace), "{n}");
        }
        for n in [
            "CONSOLE",
            "COM10",
            "LPT",
            "com1x.txt",
            "nul_",
            ".hidden",
            "a.b",
        ] {
            assert_eq!(component(n), Ok(()), "{n}");
        }
        assert_eq!(component(&"é".repeat(256)), Err(Refused::NameTooLong));
        assert_eq!(component(&"é".repeat(255)), Ok(()));
    }

    #[test]
    fn keys_are_normalised_once_before_every_filter() {
        let ok = |raw: &str| user_key(raw).map(|k| k.path());
        assert_eq!(
            ok(r"HKEY_CURRENT_USER\Control Panel\Desktop"),
            Ok(r"Control Panel\Desktop".into())
        );
        assert_eq!(
            ok(r"hkcu\\Control Panel\\\Desktop\"),
            Ok(r"Control Panel\Desktop".into())
        );
        assert_eq!(ok(r"HKCU\MIME\text/html"), Ok(r"MIME\text/html".into()));
        for (raw, why) in [
            (
                r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer\\User Shell Folders",
                NeverTravel::ShellFolders,
            ),
            (
                r"HKEY_CURRENT_USER\Software\\Policies\X",
                NeverTravel::Policy,
            ),
            (r"\HKCU\software\policies\", NeverTravel::Policy),
            (r"HKCU\SOFTWARE\POLICIES", NeverTravel::Policy),
            ("HKCU\\\u{17F}oftware\\Policies", NeverTravel::Policy),
            (
                r"HKEY_LOCAL_MACHINE\SOFTWARE\X",
                NeverTravel::NotUserSettings,
            ),
            (r"HKLM\SOFTWARE\X", NeverTravel::NotUserSettings),
            (
                r"HKEY_USERS\S-1-5-21-1\Software",
                NeverTravel::NotUserSettings,
            ),
            (r"HKEY_CURRENT_USERX\a", NeverTravel::NotUserSettings),
            (r"HKEY_CURRENT_USER/Software", NeverTravel::NotUserSettings),
            ("", NeverTravel::NotUserSettings),
            ("HKCU\\Software\\Policies\u{0}\\X", NeverTravel::BadName),
            ("HKCU\\a\r\n[HKEY_LOCAL_MACHINE\\x]", NeverTravel::BadName),
        ] {
            assert_eq!(user_key(raw), Err(why), "{raw:?}");
        }
        assert_eq!(
            ok(r"HKEY_CURRENT_USER\Software\PoliciesX"),
            Ok(r"Software\PoliciesX".into())
        );
        assert_eq!(ok("HKCU").map(|p| p.is_empty()), Ok(true));
        assert_eq!(
            user_key(r"HKCU\\A\").map(|k| k.hkcu()),
            Ok(r"HKCU\A".into())
        );
    }
}
