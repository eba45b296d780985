//! Fake offline Windows volumes: the folder tree, registry hives written by [`crate::regf`],
//! PE stubs for the kernel, user profiles with their NTUSER.DAT.

use std::path::{Path, PathBuf};

use crate::pe;
use crate::regf::{HiveBuilder, LogFormat};

/// FILETIME for a Unix time.
pub fn filetime(unix: i64) -> u64 {
    (unix as u64) * 10_000_000 + 116_444_736_000_000_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86,
    Amd64,
    Arm64,
}

impl Arch {
    fn machine(self) -> u16 {
        match self {
            Arch::X86 => pe::I386,
            Arch::Amd64 => pe::AMD64,
            Arch::Arm64 => pe::ARM64,
        }
    }
    fn processor_architecture(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::Amd64 => "AMD64",
            Arch::Arm64 => "ARM64",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserSpec {
    pub sid: String,
    /// Local account name (written to SAM when the SID is the machine's), else None.
    pub local_name: Option<String>,
    /// ProfileImagePath as Windows stores it, e.g. `%SystemDrive%\Users\ann` or `D:\Profiles\bob`.
    pub profile_path: String,
    /// Where the profile folder is created, relative to the volume folders given to
    /// [`WindowsSpec::write`] (letter → folder). None: not created.
    pub create_folder: bool,
    pub ntuser: bool,
    /// Extra files in the profile (relative path, contents).
    pub files: Vec<(String, Vec<u8>)>,
    /// `User Shell Folders` values written into NTUSER.DAT (name, REG_EXPAND_SZ value).
    pub shell_folders: Vec<(String, String)>,
    /// More NTUSER.DAT values: (key, value name, registry type, data); they replace the
    /// defaults of the same name (the wallpaper).
    pub ntuser_values: Vec<(String, String, u32, Vec<u8>)>,
    pub state: u32,
    /// ProfileList key name gets `.bak`.
    pub bak: bool,
    pub last_used: Option<u64>,
    /// SAM `InternetUserName` etc.: the local account is linked to this Microsoft account
    /// (e-mail, given name, surname).
    pub microsoft_account: Option<(String, String, String)>,
}

impl UserSpec {
    pub fn local(rid: u32, name: &str) -> Self {
        UserSpec {
            sid: format!("{MACHINE_SID}-{rid}"),
            local_name: Some(name.to_string()),
            profile_path: format!(r"%SystemDrive%\Users\{name}"),
            create_folder: true,
            ntuser: true,
            files: vec![(
                r"Documents\notes.txt".into(),
                format!("notes of {name}\n").into_bytes(),
            )],
            shell_folders: Vec::new(),
            ntuser_values: Vec::new(),
            state: 0,
            bak: false,
            last_used: Some(filetime(1_700_000_000)),
            microsoft_account: None,
        }
    }

    pub fn other(sid: &str, profile_path: &str) -> Self {
        UserSpec {
            sid: sid.to_string(),
            local_name: None,
            profile_path: profile_path.to_string(),
            create_folder: true,
            ntuser: true,
            files: Vec::new(),
            shell_folders: Vec::new(),
            ntuser_values: Vec::new(),
            state: 0,
            bak: false,
            last_used: None,
            microsoft_account: None,
        }
    }
}

/// The machine SID every fixture uses for its local accounts.
pub const MACHINE_SID: &str = "S-1-5-21-1111111111-2222222222-3333333333";

#[derive(Debug, Clone)]
pub struct AppSpec {
    pub key: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    /// Under WOW6432Node (32-bit app on 64-bit Windows).
    pub wow64: bool,
}

#[derive(Debug, Clone)]
pub struct WindowsSpec {
    pub product_name: String,
    pub edition: String,
    pub display_version: String,
    pub build: u32,
    pub ubr: u32,
    /// `CurrentVersion`: "6.3" on every Windows since 8.1, "6.1" on Windows 7.
    pub current_version: String,
    /// `CurrentMajorVersionNumber`, written by Windows 10 and later only.
    pub major_version: Option<u32>,
    pub computer_name: String,
    pub arch: Arch,
    /// PROCESSOR_ARCHITECTURE when it should disagree with the kernel.
    pub registry_arch: Option<String>,
    pub system_root: String,
    pub install_time: u64,
    pub control_set: u32,
    pub users: Vec<UserSpec>,
    pub apps: Vec<AppSpec>,
    /// `\DosDevices\X:` values of MountedDevices.
    pub mounted_devices: Vec<(char, Vec<u8>)>,
    /// Extra SOFTWARE values: (key path, value name, REG_SZ data).
    pub software_extra: Vec<(String, String, String)>,
    /// Leave SOFTWARE dirty, with the newest data only in its logs.
    pub dirty_software: Option<LogFormat>,
    pub write_sam: bool,
    pub write_system: bool,
}

impl WindowsSpec {
    pub fn win10(computer: &str) -> Self {
        WindowsSpec {
            product_name: "Windows 10 Pro".into(),
            edition: "Professional".into(),
            display_version: "22H2".into(),
            build: 19045,
            ubr: 3570,
            current_version: "6.3".into(),
            major_version: Some(10),
            computer_name: computer.into(),
            arch: Arch::Amd64,
            registry_arch: None,
            system_root: r"C:\Windows".into(),
            install_time: filetime(1_650_000_000),
            control_set: 1,
            users: vec![UserSpec::local(1001, "ann")],
            apps: vec![AppSpec {
                key: "7-Zip".into(),
                name: "7-Zip 23.01 (x64)".into(),
                version: "23.01".into(),
                publisher: "Igor Pavlov".into(),
                wow64: false,
            }],
            mounted_devices: Vec::new(),
            software_extra: Vec::new(),
            dirty_software: None,
            write_sam: true,
            write_system: true,
        }
    }

    pub fn win11(computer: &str) -> Self {
        WindowsSpec {
            product_name: "Windows 10 Pro".into(), // Windows 11 keeps saying 10 here
            display_version: "23H2".into(),
            build: 22631,
            ubr: 2861,
            ..Self::win10(computer)
        }
    }

    /// Windows 7 SP1: no DisplayVersion or major version number, CurrentVersion 6.1 and the
    /// service pack in CSDVersion (written as DisplayVersion's fallback).
    pub fn win7(computer: &str) -> Self {
        WindowsSpec {
            product_name: "Windows 7 Professional".into(),
            display_version: String::new(),
            build: 7601,
            ubr: 0,
            current_version: "6.1".into(),
            major_version: None,
            ..Self::win10(computer)
        }
    }

    pub fn win81(computer: &str) -> Self {
        WindowsSpec {
            product_name: "Windows 8.1 Pro".into(),
            display_version: String::new(),
            build: 9600,
            ubr: 0,
            major_version: None,
            ..Self::win10(computer)
        }
    }

    fn software_sz(&mut self, key: &str, values: &[(&str, &str)]) {
        for (n, v) in values {
            self.software_extra
                .push((key.to_string(), n.to_string(), v.to_string()));
        }
    }

    /// SOFTWARE `Microsoft\IdentityStore\Cache\<SID>\IdentityCache\<SID>` (Entra ID and
    /// Microsoft account sign-ins).
    pub fn identity_cache(&mut self, sid: &str, user_name: &str, display: &str, sam: &str) {
        let key = format!(r"Microsoft\IdentityStore\Cache\{sid}\IdentityCache\{sid}");
        self.software_sz(
            &key,
            &[
                ("UserName", user_name),
                ("DisplayName", display),
                ("SAMName", sam),
                ("ProviderName", "AzureAD"),
            ],
        );
    }

    /// SOFTWARE `Microsoft\IdentityStore\LogonCache\<GUID>\Sid2Name\<SID>`.
    pub fn logon_cache(&mut self, sid: &str, identity_name: &str, display: &str) {
        let key = format!(
            r"Microsoft\IdentityStore\LogonCache\{{D7F9888F-E3FC-49B0-9EA6-A85B5F392A4F}}\Sid2Name\{sid}"
        );
        self.software_sz(
            &key,
            &[
                ("IdentityName", identity_name),
                ("DisplayName", display),
                ("SAMName", "EntraSam"),
            ],
        );
    }

    /// SOFTWARE `…\Group Policy\DataStore\<SID>\0` and `…\Group Policy\State\<SID>`.
    pub fn group_policy(&mut self, sid: &str, name: &str, domain: &str, dn: &str) {
        let base = r"Microsoft\Windows\CurrentVersion\Group Policy";
        self.software_sz(
            &format!(r"{base}\DataStore\{sid}\0"),
            &[
                ("szName", name),
                ("szTargetName", name),
                ("DomainName", domain),
            ],
        );
        self.software_sz(
            &format!(r"{base}\State\{sid}"),
            &[("Distinguished-Name", dn)],
        );
    }

    /// SOFTWARE `…\Authentication\LogonUI` last user (`session: None`) or `SessionData\<n>`.
    pub fn logon_ui(
        &mut self,
        session: Option<u32>,
        sid: &str,
        sam_user: &str,
        user: &str,
        display: &str,
    ) {
        let base = r"Microsoft\Windows\CurrentVersion\Authentication\LogonUI";
        let (key, p) = match session {
            None => (base.to_string(), "LastLoggedOn"),
            Some(n) => (format!(r"{base}\SessionData\{n}"), "LoggedOn"),
        };
        let names = [
            format!("{p}UserSID"),
            format!("{p}SAMUser"),
            format!("{p}User"),
            format!("{p}DisplayName"),
        ];
        self.software_sz(
            &key,
            &[
                (&names[0], sid),
                (&names[1], sam_user),
                (&names[2], user),
                (&names[3], display),
            ],
        );
    }

    pub fn software_hive(&self) -> HiveBuilder {
        let mut h = HiveBuilder::new("CMI-CreateHive{199DAFC2-6F16-4946-BF90-5A3FC3A60902}");
        let mut cv = h
            .key(r"Microsoft\Windows NT\CurrentVersion")
            .sz("ProductName", &self.product_name)
            .sz("EditionID", &self.edition)
            .sz("CurrentBuildNumber", &self.build.to_string())
            .sz("CurrentBuild", &self.build.to_string())
            .sz("CurrentVersion", &self.current_version);
        cv = if self.display_version.is_empty() {
            cv.sz("CSDVersion", "Service Pack 1")
        } else {
            cv.sz("DisplayVersion", &self.display_version)
        };
        if let Some(major) = self.major_version {
            cv.dword("CurrentMajorVersionNumber", major)
                .dword("UBR", self.ubr);
        }
        h.key(r"Microsoft\Windows NT\CurrentVersion")
            .sz("InstallationType", "Client")
            .qword("InstallTime", self.install_time)
            .sz("SystemRoot", &self.system_root)
            .sz("RegisteredOwner", "Fixture Owner");
        h.key(r"Microsoft\Windows NT\CurrentVersion\ProfileList")
            .expand_sz("ProfilesDirectory", r"%SystemDrive%\Users")
            .sz("Default", r"C:\Users\Default")
            .sz("Public", r"C:\Users\Public");
        h.key(r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-18")
            .expand_sz(
                "ProfileImagePath",
                r"%systemroot%\system32\config\systemprofile",
            )
            .dword("Flags", 12);
        h.key(r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-19")
            .expand_sz(
                "ProfileImagePath",
                r"%systemroot%\ServiceProfiles\LocalService",
            );
        h.key(r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-20")
            .expand_sz(
                "ProfileImagePath",
                r"%systemroot%\ServiceProfiles\NetworkService",
            );
        for u in &self.users {
            let key = format!(
                r"Microsoft\Windows NT\CurrentVersion\ProfileList\{}{}",
                u.sid,
                if u.bak { ".bak" } else { "" }
            );
            let mut k = h
                .key(&key)
                .expand_sz("ProfileImagePath", &u.profile_path)
                .dword("State", u.state)
                .dword("Flags", 0);
            if let Some(t) = u.last_used {
                k = k
                    .dword("LocalProfileLoadTimeHigh", (t >> 32) as u32)
                    .dword("LocalProfileLoadTimeLow", t as u32);
            }
            let _ = k;
        }
        for a in &self.apps {
            let base = if a.wow64 {
                r"WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"
            } else {
                r"Microsoft\Windows\CurrentVersion\Uninstall"
            };
            h.key(&format!(r"{base}\{}", a.key))
                .sz("DisplayName", &a.name)
                .sz("DisplayVersion", &a.version)
                .sz("Publisher", &a.publisher);
        }
        // An update entry that must not be listed as an application.
        h.key(r"Microsoft\Windows\CurrentVersion\Uninstall\KB5000001")
            .sz("DisplayName", "Security Update for Windows (KB5000001)")
            .sz("ParentKeyName", "OperatingSystem");
        for (k, n, v) in &self.software_extra {
            h.key(k).sz(n, v);
        }
        h
    }

    pub fn system_hive(&self) -> HiveBuilder {
        let mut h = HiveBuilder::new("ROOT");
        h.key("Select")
            .dword("Current", self.control_set)
            .dword("Default", self.control_set)
            .dword("LastKnownGood", self.control_set);
        let ccs = format!("ControlSet{:03}", self.control_set);
        h.key(&format!(r"{ccs}\Control\ComputerName\ComputerName"))
            .sz("ComputerName", &self.computer_name);
        let arch = self
            .registry_arch
            .clone()
            .unwrap_or_else(|| self.arch.processor_architecture().into());
        h.key(&format!(r"{ccs}\Control\Session Manager\Environment"))
            .sz("PROCESSOR_ARCHITECTURE", &arch)
            .expand_sz("windir", "%SystemRoot%");
        // A stale control set with another name: detect must follow Select\Current.
        if self.control_set != 1 {
            h.key(r"ControlSet001\Control\ComputerName\ComputerName")
                .sz("ComputerName", "STALE-NAME");
        }
        let mut md = h.key("MountedDevices");
        for (letter, data) in &self.mounted_devices {
            md = md.binary(&format!(r"\DosDevices\{letter}:"), data);
        }
        let _ = md;
        h
    }

    pub fn sam_hive(&self) -> HiveBuilder {
        let mut h = HiveBuilder::new("SAM");
        h.key(r"SAM\Domains\Account")
            .binary("V", &domain_v(MACHINE_SID))
            .binary("F", &[0u8; 0x68]);
        h.key(r"SAM\Domains\Builtin");
        for u in &self.users {
            let (Some(name), Some(rid)) = (
                &u.local_name,
                u.sid.strip_prefix(&format!("{MACHINE_SID}-")),
            ) else {
                continue;
            };
            let rid: u32 = rid.parse().unwrap_or(1000);
            h.key(&format!(r"SAM\Domains\Account\Users\Names\{name}"))
                .raw("", rid, &[]);
            let mut k = h
                .key(&format!(r"SAM\Domains\Account\Users\{rid:08X}"))
                .binary("F", &user_f(rid, u.last_used.unwrap_or(0)))
                .binary("V", &user_v(name, &format!("{name} Fixture")));
            if let Some((mail, given, surname)) = &u.microsoft_account {
                // Windows stores these as REG_BINARY holding NUL-terminated UTF-16LE.
                k = k
                    .binary("InternetUserName", &utf16z(mail))
                    .binary("InternetUID", &utf16z("0123456789abcdef"))
                    .binary(
                        "InternetProviderGUID",
                        &utf16z("{D7F9888F-E3FC-49B0-9EA6-A85B5F392A4F}"),
                    )
                    .binary("GivenName", &utf16z(given))
                    .binary("Surname", &utf16z(surname));
            }
            let _ = k;
        }
        h
    }

    /// Writes the installation onto the volume folder `vol` as its own C: (`vol/Windows`,
    /// the profiles below `vol`): the layout of most machines.
    pub fn write_volume(&self, vol: &Path) {
        self.write(&vol.join("Windows"), &[('C', vol.to_path_buf())]);
    }

    /// Writes the installation into `windows_dir` (e.g. `<vol>/Windows`), and the user
    /// profiles into whichever folder stands for their drive letter in `volumes`.
    pub fn write(&self, windows_dir: &Path, volumes: &[(char, PathBuf)]) {
        let config = windows_dir.join("System32").join("config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            windows_dir.join("System32").join("ntoskrnl.exe"),
            pe::pe_stub(self.arch.machine()),
        )
        .unwrap();
        if self.arch != Arch::X86 {
            std::fs::create_dir_all(windows_dir.join("SysWOW64")).unwrap();
        }
        let software = self.software_hive().to_bytes();
        match self.dirty_software {
            None => std::fs::write(config.join("SOFTWARE"), &software).unwrap(),
            Some(format) => {
                // What the disk holds: an older SOFTWARE; the truth is only in the logs.
                let mut older = self.clone();
                older.product_name = "STALE PRODUCT NAME".into();
                older.display_version = "STALE".into();
                let old = older.software_hive().to_bytes();
                let dirty = crate::regf::make_dirty(&old, &software, format);
                std::fs::write(config.join("SOFTWARE"), &dirty.primary).unwrap();
                match format {
                    LogFormat::New => {
                        std::fs::write(config.join("SOFTWARE.LOG1"), &dirty.log1).unwrap();
                        std::fs::write(config.join("SOFTWARE.LOG2"), &dirty.log2).unwrap();
                    }
                    LogFormat::Old => {
                        std::fs::write(config.join("software.LOG"), &dirty.log1).unwrap()
                    }
                }
            }
        }
        if self.write_system {
            std::fs::write(config.join("SYSTEM"), self.system_hive().to_bytes()).unwrap();
        }
        if self.write_sam {
            std::fs::write(config.join("SAM"), self.sam_hive().to_bytes()).unwrap();
        }
        let drive = self.system_root.get(..2).unwrap_or("C:").to_string();
        for u in &self.users {
            if !u.create_folder {
                continue;
            }
            let win_path = u.profile_path.replace("%SystemDrive%", &drive);
            let Some(letter) = win_path.chars().next() else {
                continue;
            };
            let Some((_, base)) = volumes
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(&letter))
            else {
                continue;
            };
            let rel = win_path[2..].trim_start_matches('\\').replace('\\', "/");
            let dir = base.join(rel);
            std::fs::create_dir_all(&dir).unwrap();
            if u.ntuser {
                let mut nt =
                    HiveBuilder::new("CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}");
                nt.key(r"Control Panel\Desktop")
                    .sz("Wallpaper", r"C:\Windows\Web\Wallpaper\Windows\img0.jpg");
                let mut usf = nt
                    .key(r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders");
                for (n, v) in &u.shell_folders {
                    usf = usf.expand_sz(n, v);
                }
                let _ = usf;
                nt.key(r"Software\Microsoft\Windows\CurrentVersion\Uninstall\UserApp")
                    .sz("DisplayName", "Per-user App")
                    .sz("DisplayVersion", "1.0");
                // Last, so they replace the defaults of the same name (the wallpaper).
                for (key, name, kind, data) in &u.ntuser_values {
                    nt.key(key).raw(name, *kind, data);
                }
                std::fs::write(dir.join("NTUSER.DAT"), nt.to_bytes()).unwrap();
            }
            for (rel, data) in &u.files {
                let p = dir.join(rel.replace('\\', "/"));
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, data).unwrap();
            }
        }
    }
}

/// Binary SID (revision 1).
pub fn sid_bytes(sid: &str) -> Vec<u8> {
    let parts: Vec<u64> = sid
        .trim_start_matches("S-")
        .split('-')
        .filter_map(|p| p.parse().ok())
        .collect();
    let (rev, auth, subs) = (parts[0] as u8, parts[1], &parts[2..]);
    let mut b = vec![rev, subs.len() as u8];
    b.extend_from_slice(&auth.to_be_bytes()[2..]);
    for s in subs {
        b.extend_from_slice(&(*s as u32).to_le_bytes());
    }
    b
}

/// The `V` value of `SAM\Domains\Account`: the machine SID sits in its last bytes.
fn domain_v(machine_sid: &str) -> Vec<u8> {
    let mut v = vec![0u8; 0x40];
    v.extend_from_slice(&sid_bytes(machine_sid));
    v
}

/// A user's `F` value: last logon at 0x08, RID at 0x30, account flags at 0x38.
fn user_f(rid: u32, last_logon: u64) -> Vec<u8> {
    let mut f = vec![0u8; 0x50];
    f[0..2].copy_from_slice(&3u16.to_le_bytes());
    f[0x08..0x10].copy_from_slice(&last_logon.to_le_bytes());
    f[0x30..0x34].copy_from_slice(&rid.to_le_bytes());
    f[0x38..0x3a].copy_from_slice(&0x0210u16.to_le_bytes()); // normal account, password doesn't expire
    f
}

/// A user's `V` value: a table of (offset, length, unknown) triples at 0, data after 0xCC,
/// offsets counted from 0xCC. Entry 1 is the user name, entry 2 the full name.
fn user_v(name: &str, full_name: &str) -> Vec<u8> {
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let mut table = vec![0u8; 0xCC];
    let mut data = Vec::new();
    for (i, s) in [(1usize, utf16(name)), (2, utf16(full_name))] {
        let off = data.len() as u32;
        table[i * 12..i * 12 + 4].copy_from_slice(&off.to_le_bytes());
        table[i * 12 + 4..i * 12 + 8].copy_from_slice(&(s.len() as u32).to_le_bytes());
        data.extend_from_slice(&s);
        while data.len() % 4 != 0 {
            data.push(0);
        }
    }
    table.extend_from_slice(&data);
    table
}

/// NUL-terminated UTF-16LE, as Windows stores text in binary values.
fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}
