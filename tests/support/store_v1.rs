//! The machine `tests/fixtures/store-v1/` was captured from (see the README there): two
//! users with their known folders (ann's Documents redirected to D:), settings, a link the
//! capture leaves out, a third user left out by `/ue`, a MigXML whose LoadState-side helpers
//! the capture records, a machine-wide setting, and a Config.xml with `<ProfileControl>`.
//!
//! The store kept in the repository was written by the agent of its day; this module only
//! writes the machine, so a test can name what the store must hold (the inputs), never
//! what some agent wrote.

use std::path::{Path, PathBuf};

use crate::migration::{old_time, utf16z, walk};
use crate::volume::{UserSpec, WindowsSpec};

/// Each user's files: (user, path below the profile, contents).
pub const FILES: &[(&str, &str, &[u8])] = &[
    ("ann", r"Desktop\todo.txt", b"water the plants\r\n"),
    (
        "ann",
        r"Pictures\Holiday\beach.jpg",
        b"\xFF\xD8\xFF\xE0 beach",
    ),
    ("ann", r"Music\song.mp3", b"ID3 song"),
    (
        "ann",
        r"AppData\Roaming\OldApp\prefs.xml",
        b"<prefs theme='dark'/>",
    ),
    ("ann", r"AppData\Roaming\Shared\keep.ini", b"ann keep"),
    ("bob", r"Desktop\bob.txt", b"bob's desktop"),
    (
        "bob",
        r"Documents\Invoices\Invoice-7.pdf",
        b"%PDF-1.7 invoice",
    ),
    ("bob", r"Pictures\family.jpg", b"\xFF\xD8\xFF\xE0 family"),
    ("carol", r"Documents\carol.txt", b"carol stays behind"),
];

/// ann's Documents, redirected to the data volume (`D:\Docs\ann`): (path below it, contents).
pub const ANN_DOCUMENTS: &[(&str, &[u8])] = &[
    (r"thesis.odt", b"odt thesis"),
    (r"sub\Ünïcödé €.txt", "ünïcödé".as_bytes()),
];

/// Each user's settings: (user, key below HKCU, value, REG_SZ text).
pub const SETTINGS: &[(&str, &str, &str, &str)] = &[
    ("ann", r"Software\OldApp", "Theme", "dark"),
    (
        "ann",
        r"Software\OldApp",
        "LastFile",
        r"D:\Docs\ann\thesis.odt",
    ),
    ("bob", r"Software\OldApp", "Theme", "light"),
];

/// The machine-wide setting (HKLM\SOFTWARE) a System component takes: (key, value, text).
pub const MACHINE_SETTING: (&str, &str, &str) = (r"Contoso\Agent", "Server", "files.contoso");

/// The file ann's Documents hold as a symbolic link: never followed, recorded as skipped.
pub const LINK: &str = "shortcut-to-etc";

/// The MigXML: the users' known folders, OldApp with LoadState-side helpers, and a machine
/// setting.
pub const RULES_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/store-v1">
  <component type="Documents" context="User">
    <displayName>Known folders</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
      <pattern type="File">%CSIDL_DESKTOPDIRECTORY%\* [*]</pattern>
      <pattern type="File">%CSIDL_MYPICTURES%\* [*]</pattern>
      <pattern type="File">%CSIDL_MYMUSIC%\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
  <component type="Application" context="User">
    <displayName>Old App</displayName>
    <role role="Settings">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">%CSIDL_APPDATA%\OldApp\* [*]</pattern>
            <pattern type="File">%CSIDL_APPDATA%\Shared\* [*]</pattern>
            <pattern type="Registry">HKCU\Software\OldApp\* [*]</pattern>
          </objectSet>
        </include>
        <locationModify script="MigXmlHelper.RelativeMove('%CSIDL_APPDATA%\OldApp','%CSIDL_APPDATA%\NewApp')">
          <objectSet><pattern type="File">%CSIDL_APPDATA%\OldApp\* [*]</pattern></objectSet>
        </locationModify>
        <merge script="MigXmlHelper.DestinationPriority()">
          <objectSet><pattern type="File">%CSIDL_APPDATA%\Shared [keep.ini]</pattern></objectSet>
        </merge>
        <merge script="MigXmlHelper.NewestVersion('FileVersion')">
          <objectSet><pattern type="File">%CSIDL_APPDATA%\Shared [*.exe]</pattern></objectSet>
        </merge>
      </rules>
    </role>
  </component>
  <component type="System" context="System">
    <displayName>Contoso agent</displayName>
    <role role="Settings"><rules><include><objectSet>
      <pattern type="Registry">HKLM\Software\Contoso\Agent\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
</migration>
"#;

/// Config.xml: the rules' components as `/genconfig` writes them, and `<ProfileControl>`.
pub const CONFIG_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <ProfileControl>
    <localGroups>
      <mappings>
        <changeGroup from="Administrators" to="Users" appliesTo="MigratedUsers">
          <include><pattern>*</pattern></include>
        </changeGroup>
      </mappings>
    </localGroups>
    <domains>
      <domain from="OLDDOMAIN" to="NEWDOMAIN"/>
    </domains>
  </ProfileControl>
</Configuration>
"#;

/// What [`write_machine`] wrote.
pub struct Machine {
    /// The Windows folder (`/offlineWinDir:`).
    pub windir: PathBuf,
    /// Offline.xml, which also maps the old D: (`/offline:`).
    pub offline_xml: PathBuf,
    pub rules: PathBuf,
    pub config: PathBuf,
}

/// Writes the old machine (`OLDPC`, Windows 10: ann, bob and carol) under `dir`.
pub fn write_machine(dir: &Path) -> Machine {
    let c = dir.join("C");
    let d = dir.join("D");
    std::fs::create_dir_all(&c).unwrap();
    let docs = d.join("Docs/ann");
    for (rel, data) in ANN_DOCUMENTS {
        let p = docs.join(rel.replace('\\', "/"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc", docs.join(LINK)).unwrap();

    let user = |rid: u32, name: &str| {
        let mut u = UserSpec::local(rid, name);
        u.files = FILES
            .iter()
            .filter(|(who, _, _)| *who == name)
            .map(|(_, rel, data)| (rel.to_string(), data.to_vec()))
            .collect();
        u.ntuser_values = SETTINGS
            .iter()
            .filter(|(who, ..)| *who == name)
            .map(|(_, key, value, text)| (key.to_string(), value.to_string(), 1, utf16z(text)))
            .collect();
        u
    };
    let mut ann = user(1001, "ann");
    ann.shell_folders = vec![("Personal".into(), r"D:\Docs\ann".into())];
    let mut spec = WindowsSpec::win10("OLDPC");
    spec.users = vec![ann, user(1002, "bob"), user(1003, "carol")];
    let (key, value, text) = MACHINE_SETTING;
    spec.software_extra
        .push((key.into(), value.into(), text.into()));
    spec.write(&c.join("Windows"), &[('C', c.clone()), ('D', d.clone())]);

    // Every file dated 2 January 2020, as the restore must give them back.
    for f in walk(&c.join("Users")).into_iter().chain(walk(&d)) {
        let file = std::fs::File::options().write(true).open(&f).unwrap();
        file.set_modified(old_time()).unwrap();
    }

    let offline_xml = dir.join("Offline.xml");
    std::fs::write(
        &offline_xml,
        format!(
            "<offline><winDir><path>{}</path></winDir><mappings><path>D:\\, {}</path></mappings></offline>",
            c.join("Windows").display(),
            d.display()
        ),
    )
    .unwrap();
    let rules = dir.join("store-v1.xml");
    std::fs::write(&rules, RULES_XML).unwrap();
    let config = dir.join("Config.xml");
    std::fs::write(&config, CONFIG_XML).unwrap();
    Machine {
        windir: c.join("Windows"),
        offline_xml,
        rules,
        config,
    }
}
