//! A Windows user's known folders (Documents, Desktop, AppData…) and the variables rules
//! are written in (`%CSIDL_PERSONAL%`, `%APPDATA%`, …), resolved for one user from that
//! user's own registry, so redirected folders and OneDrive known-folder moves are followed
//! wherever they point. The capture reads them on the old machine (its NTUSER.DAT); the
//! restore on the new one (its NTUSER.DAT offline, the live registry on Windows).

use std::collections::{BTreeMap, HashMap};

use crate::hive::LoadedHive;

use crate::winpath::{expand_vars, normalize};

/// A user's profile and known folders as one Windows sees them (the store records them as
/// `store::schema::UserFolders`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFolders {
    /// The profile folder (`C:\Users\ann`).
    pub profile: String,
    /// Each known folder by its `User Shell Folders` value name (`Personal`, `Desktop`,
    /// `{374DE290-123F-4565-9164-39C4925E467B}` for Downloads…) with its path, variables
    /// expanded (`D:\Docs`, `C:\Users\ann\OneDrive\Documents`).
    pub known: BTreeMap<String, String>,
}

const USER_SHELL_FOLDERS: &str =
    r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders";
const SHELL_FOLDERS: &str = r"Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders";

/// (value name in `User Shell Folders`, default below the profile on Vista and later,
/// default on XP, variable names it defines).
const KNOWN: &[(&str, &str, &str, &[&str])] = &[
    (
        "Desktop",
        "Desktop",
        "Desktop",
        &[
            "CSIDL_DESKTOP",
            "CSIDL_DESKTOPDIRECTORY",
            "FOLDERID_DESKTOP",
        ],
    ),
    (
        "Personal",
        "Documents",
        "My Documents",
        &["CSIDL_PERSONAL", "CSIDL_MYDOCUMENTS", "FOLDERID_DOCUMENTS"],
    ),
    (
        "My Pictures",
        "Pictures",
        r"My Documents\My Pictures",
        &["CSIDL_MYPICTURES", "FOLDERID_PICTURES"],
    ),
    (
        "My Music",
        "Music",
        r"My Documents\My Music",
        &["CSIDL_MYMUSIC", "FOLDERID_MUSIC"],
    ),
    (
        "My Video",
        "Videos",
        r"My Documents\My Videos",
        &["CSIDL_MYVIDEO", "FOLDERID_VIDEOS"],
    ),
    (
        "Favorites",
        "Favorites",
        "Favorites",
        &["CSIDL_FAVORITES", "FOLDERID_FAVORITES"],
    ),
    (
        "AppData",
        r"AppData\Roaming",
        "Application Data",
        &["APPDATA", "CSIDL_APPDATA", "FOLDERID_ROAMINGAPPDATA"],
    ),
    (
        "Local AppData",
        r"AppData\Local",
        r"Local Settings\Application Data",
        &[
            "LOCALAPPDATA",
            "CSIDL_LOCAL_APPDATA",
            "FOLDERID_LOCALAPPDATA",
        ],
    ),
    (
        "{374DE290-123F-4565-9164-39C4925E467B}",
        "Downloads",
        "Downloads",
        &["FOLDERID_DOWNLOADS", "CSIDL_DOWNLOADS"],
    ),
    (
        "{4C5C32FF-BB9D-43B0-B5B4-2D72E54EAAA4}",
        "Saved Games",
        "Saved Games",
        &["FOLDERID_SAVEDGAMES"],
    ),
    (
        "{56784854-C6CB-462B-8169-88E350ACB882}",
        "Contacts",
        "Contacts",
        &["FOLDERID_CONTACTS", "CSIDL_CONTACTS"],
    ),
    (
        "{BFB9D5E0-C6A9-404C-B2B2-AE6DB6AF4968}",
        "Links",
        "Links",
        &["FOLDERID_LINKS"],
    ),
    (
        "{7D1D3A04-DEBB-4115-95CF-2F29DA2920DA}",
        "Searches",
        "Searches",
        &["FOLDERID_SEARCHES"],
    ),
    (
        "{1B3EA5DC-B587-4786-B4EF-BD1DC332AEAE}",
        r"AppData\Roaming\Microsoft\Windows\Libraries",
        "Libraries",
        &["FOLDERID_LIBRARIES"],
    ),
    (
        "Start Menu",
        r"AppData\Roaming\Microsoft\Windows\Start Menu",
        "Start Menu",
        &["CSIDL_STARTMENU"],
    ),
    (
        "Programs",
        r"AppData\Roaming\Microsoft\Windows\Start Menu\Programs",
        r"Start Menu\Programs",
        &["CSIDL_PROGRAMS"],
    ),
    (
        "Startup",
        r"AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup",
        r"Start Menu\Programs\Startup",
        &["CSIDL_STARTUP"],
    ),
    (
        "Recent",
        r"AppData\Roaming\Microsoft\Windows\Recent",
        "Recent",
        &["CSIDL_RECENT"],
    ),
    (
        "SendTo",
        r"AppData\Roaming\Microsoft\Windows\SendTo",
        "SendTo",
        &["CSIDL_SENDTO"],
    ),
    (
        "Templates",
        r"AppData\Roaming\Microsoft\Windows\Templates",
        "Templates",
        &["CSIDL_TEMPLATES"],
    ),
    (
        "Cookies",
        r"AppData\Roaming\Microsoft\Windows\Cookies",
        "Cookies",
        &["CSIDL_COOKIES"],
    ),
    (
        "History",
        r"AppData\Local\Microsoft\Windows\History",
        r"Local Settings\History",
        &["CSIDL_HISTORY"],
    ),
    (
        "Cache",
        r"AppData\Local\Microsoft\Windows\INetCache",
        r"Local Settings\Temporary Internet Files",
        &["CSIDL_INTERNET_CACHE"],
    ),
    (
        "NetHood",
        r"AppData\Roaming\Microsoft\Windows\Network Shortcuts",
        "NetHood",
        &["CSIDL_NETHOOD"],
    ),
    (
        "PrintHood",
        r"AppData\Roaming\Microsoft\Windows\Printer Shortcuts",
        "PrintHood",
        &["CSIDL_PRINTHOOD"],
    ),
];

/// Machine-wide variables of the offline system (all in its own Windows form).
pub fn machine_vars(
    system_root: &str,
    software: Option<&LoadedHive>,
    is_64bit: bool,
) -> HashMap<String, String> {
    let drive = system_root.get(..2).unwrap_or("C:").to_string();
    let cv = software.and_then(|s| s.key(r"Microsoft\Windows\CurrentVersion"));
    let pl = software.and_then(|s| s.key(r"Microsoft\Windows NT\CurrentVersion\ProfileList"));
    let base: Vec<(&str, &str)> = vec![
        ("SystemDrive", drive.as_str()),
        ("SystemRoot", system_root),
        ("windir", system_root),
    ];
    let read = |k: &Option<crate::hive::Key<'_>>, name: &str, default: String| -> String {
        k.as_ref()
            .and_then(|k| k.string(name))
            .map(|v| normalize(&expand_vars(v.trim(), &base)))
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
    };
    let pf = read(&cv, "ProgramFilesDir", format!(r"{drive}\Program Files"));
    let cf = read(&cv, "CommonFilesDir", format!(r"{pf}\Common Files"));
    let profiles = read(&pl, "ProfilesDirectory", format!(r"{drive}\Users"));
    let program_data = read(&pl, "ProgramData", format!(r"{drive}\ProgramData"));
    let public = read(&pl, "Public", format!(r"{profiles}\Public"));
    let default_user = read(&pl, "Default", format!(r"{profiles}\Default"));
    let mut m = HashMap::new();
    let mut set = |names: &[&str], v: &str| {
        for n in names {
            m.insert(n.to_string(), v.to_string());
        }
    };
    set(&["SYSTEMDRIVE"], &drive);
    set(&["SYSTEMROOT", "WINDIR", "CSIDL_WINDOWS"], system_root);
    set(
        &["SYSTEM", "SYSTEM32", "CSIDL_SYSTEM"],
        &format!(r"{system_root}\System32"),
    );
    set(&["SYSTEM16"], &format!(r"{system_root}\System"));
    set(&["CSIDL_FONTS"], &format!(r"{system_root}\Fonts"));
    set(&["CSIDL_RESOURCES"], &format!(r"{system_root}\Resources"));
    set(&["PROGRAMFILES", "CSIDL_PROGRAM_FILES"], &pf);
    set(&["COMMONPROGRAMFILES", "CSIDL_PROGRAM_FILES_COMMON"], &cf);
    if is_64bit {
        let pf86 = read(
            &cv,
            "ProgramFilesDir (x86)",
            format!(r"{drive}\Program Files (x86)"),
        );
        let cf86 = read(&cv, "CommonFilesDir (x86)", format!(r"{pf86}\Common Files"));
        set(&["PROGRAMFILES(X86)", "CSIDL_PROGRAM_FILESX86"], &pf86);
        set(
            &["COMMONPROGRAMFILES(X86)", "CSIDL_PROGRAM_FILES_COMMONX86"],
            &cf86,
        );
    } else {
        set(&["CSIDL_PROGRAM_FILESX86"], &pf);
    }
    set(
        &["PROGRAMDATA", "ALLUSERSAPPDATA", "CSIDL_COMMON_APPDATA"],
        &program_data,
    );
    set(&["ALLUSERSPROFILE"], &program_data);
    set(&["PUBLIC"], &public);
    set(&["PROFILESFOLDER"], &profiles);
    set(&["DEFAULTUSERPROFILE"], &default_user);
    set(
        &["SYSTEMPROFILE"],
        &format!(r"{system_root}\System32\config\systemprofile"),
    );
    set(
        &["CSIDL_COMMON_DESKTOPDIRECTORY"],
        &format!(r"{public}\Desktop"),
    );
    set(&["CSIDL_COMMON_DOCUMENTS"], &format!(r"{public}\Documents"));
    set(&["CSIDL_COMMON_MUSIC"], &format!(r"{public}\Music"));
    set(&["CSIDL_COMMON_PICTURES"], &format!(r"{public}\Pictures"));
    set(&["CSIDL_COMMON_VIDEO"], &format!(r"{public}\Videos"));
    set(
        &["FOLDERID_PUBLICDOWNLOADS"],
        &format!(r"{public}\Downloads"),
    );
    set(&["CSIDL_COMMON_FAVORITES"], &format!(r"{public}\Favorites"));
    let start = format!(r"{program_data}\Microsoft\Windows\Start Menu");
    set(&["CSIDL_COMMON_STARTMENU"], &start);
    set(&["CSIDL_COMMON_PROGRAMS"], &format!(r"{start}\Programs"));
    set(
        &["CSIDL_COMMON_STARTUP"],
        &format!(r"{start}\Programs\Startup"),
    );
    set(
        &["CSIDL_COMMON_TEMPLATES"],
        &format!(r"{program_data}\Microsoft\Windows\Templates"),
    );
    m
}

/// A user's variables: the machine's plus the profile and every known folder, read from
/// `User Shell Folders` (falling back to `Shell Folders`, then the Windows default).
pub fn user_vars(
    machine: &HashMap<String, String>,
    sid: &str,
    user_name: &str,
    profile: &str,
    ntuser: Option<&LoadedHive>,
    xp_layout: bool,
) -> HashMap<String, String> {
    let usf = ntuser.and_then(|h| h.key(USER_SHELL_FOLDERS));
    let sf = ntuser.and_then(|h| h.key(SHELL_FOLDERS));
    let lookup = |value: &str| {
        usf.as_ref()
            .and_then(|k| k.string(value))
            .or_else(|| sf.as_ref().and_then(|k| k.string(value)))
    };
    user_vars_with(machine, sid, user_name, profile, &lookup, xp_layout)
}

/// [`user_vars`] with the `User Shell Folders` values read by `shell_folder` (the restore
/// reads them from the new machine's live registry).
pub fn user_vars_with(
    machine: &HashMap<String, String>,
    sid: &str,
    user_name: &str,
    profile: &str,
    shell_folder: &dyn Fn(&str) -> Option<String>,
    xp_layout: bool,
) -> HashMap<String, String> {
    let mut m = machine.clone();
    for n in ["USERPROFILE", "CSIDL_PROFILE", "FOLDERID_PROFILE"] {
        m.insert(n.into(), profile.to_string());
    }
    m.insert("USERSID".into(), sid.to_string());
    m.insert(
        "USERNAME".into(),
        user_name
            .rsplit('\\')
            .next()
            .unwrap_or(user_name)
            .to_string(),
    );
    m.insert(
        "HOMEPATH".into(),
        profile.get(2..).unwrap_or("").to_string(),
    );
    for (value, vista, xp, names) in KNOWN {
        let pairs: Vec<(String, String)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let vars: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let raw = shell_folder(value)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let path = match raw {
            Some(v) => normalize(&expand_vars(&v, &vars)),
            None => format!(r"{profile}\{}", if xp_layout { xp } else { vista }),
        };
        for n in *names {
            m.insert(n.to_string(), path.clone());
        }
    }
    let local = m
        .get("LOCALAPPDATA")
        .cloned()
        .unwrap_or_else(|| format!(r"{profile}\AppData\Local"));
    let roaming = m
        .get("APPDATA")
        .cloned()
        .unwrap_or_else(|| format!(r"{profile}\AppData\Roaming"));
    m.insert("TEMP".into(), format!(r"{local}\Temp"));
    m.insert("TMP".into(), format!(r"{local}\Temp"));
    m.insert(
        "CSIDL_QUICKLAUNCH".into(),
        format!(r"{roaming}\Microsoft\Internet Explorer\Quick Launch"),
    );
    m.insert(
        "CSIDL_CDBURN_AREA".into(),
        format!(r"{local}\Microsoft\Windows\Burn\Burn"),
    );
    m
}

/// The known folders of a user's variables (from [`user_vars`]), by their `User Shell
/// Folders` value name: what a store records so the restore can find each folder again.
pub fn known_folder_map(
    vars: &HashMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    KNOWN
        .iter()
        .filter_map(|(value, _, _, names)| {
            let first = names.first()?;
            Some((value.to_string(), vars.get(*first)?.clone()))
        })
        .collect()
}

/// The known folders Windows puts below a profile when nothing is redirected, as
/// `(value name, path below the profile)`: a store without a recorded map is read this way.
pub fn default_known_folders(
    xp_layout: bool,
) -> impl Iterator<Item = (&'static str, &'static str)> {
    KNOWN
        .iter()
        .map(move |(value, vista, xp, _)| (*value, if xp_layout { *xp } else { *vista }))
}

/// Whether a profile has Windows XP's layout (`My Documents`, `Application Data` in the
/// profile) rather than Vista's: decided by the installation's build (XP and Server 2003
/// are below 6000); only when the build is unknown, by the profile's path, whose parent
/// Windows names in its own language (`Documents and Settings` in English only).
pub fn xp_layout(build: Option<u32>, profile: &str) -> bool {
    match build {
        Some(build) => build < 6000,
        None => profile.to_lowercase().contains("documents and settings"),
    }
}

#[cfg(test)]
mod tests {
    use super::xp_layout;

    #[test]
    fn xp_layout_follows_the_build_before_the_path() {
        // A German XP: the parent folder is translated; the build still says XP.
        assert!(xp_layout(Some(2600), r"C:\Dokumente und Einstellungen\ann"));
        assert!(!xp_layout(Some(19045), r"D:\Documents and Settings\ann"));
        assert!(xp_layout(None, r"C:\Documents and Settings\ann"));
        assert!(!xp_layout(None, r"C:\Users\ann"));
    }
}
