//! The rule model against real MigXML files (tests/../../shared/realdata/usmt, used in place)
//! and the USMT "Conflicts and Precedence" examples.

use std::collections::HashMap;

use lifeboat::rules::expand::{self, with_aliases, Environment, Facts, NoFacts};
use lifeboat::rules::{
    load_profile, migxml, yaml, Decision, Matcher, ObjectKind, RuleSet, RulesError, Scope,
};

/// The real USMT files (`../shared/realdata/usmt`) by path under that folder; `None` without
/// the real data (the test then skips).
fn usmt_files() -> Option<impl Fn(&str) -> String> {
    let dir = fixtures::realdata("usmt")?;
    Some(move |rel: &str| {
        let p = dir.join(rel);
        assert!(p.is_file(), "real test file missing: {}", p.display());
        p.display().to_string()
    })
}

fn ann() -> HashMap<String, String> {
    let v: HashMap<String, String> = [
        ("USERPROFILE", r"C:\Users\ann"),
        ("APPDATA", r"C:\Users\ann\AppData\Roaming"),
        ("LOCALAPPDATA", r"C:\Users\ann\AppData\Local"),
        ("CSIDL_PERSONAL", r"C:\Users\ann\Documents"),
        // XP-style layout inside Documents, as MigUser.xml's My Documents component expects.
        ("CSIDL_MYMUSIC", r"C:\Users\ann\Documents\My Music"),
        ("CSIDL_MYPICTURES", r"C:\Users\ann\Documents\My Pictures"),
        ("CSIDL_MYVIDEO", r"C:\Users\ann\Documents\My Videos"),
        ("CSIDL_DESKTOP", r"C:\Users\ann\Desktop"),
        ("CSIDL_FAVORITES", r"C:\Users\ann\Favorites"),
        (
            "CSIDL_STARTMENU",
            r"C:\Users\ann\AppData\Roaming\Microsoft\Windows\Start Menu",
        ),
        ("FOLDERID_DOWNLOADS", r"C:\Users\ann\Downloads"),
        ("PROFILESFOLDER", r"C:\Users"),
        ("WINDIR", r"C:\Windows"),
        ("PROGRAMFILES", r"C:\Program Files"),
        ("PROGRAMDATA", r"C:\ProgramData"),
        ("SYSTEMDRIVE", "C:"),
        ("CSIDL_COMMON_DOCUMENTS", r"C:\Users\Public\Documents"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    with_aliases(v)
}

fn matcher(
    set: &RuleSet,
    scope: Scope,
    vars: &HashMap<String, String>,
    facts: &dyn Facts,
) -> Matcher {
    let drives = vec!["C:".to_string(), "D:".to_string()];
    let env = Environment {
        vars,
        fixed_drives: &drives,
        facts,
    };
    Matcher::new(&expand::expand(set, scope, &env))
}

fn name_of(m: &Matcher, d: Decision) -> Option<&str> {
    match d {
        Decision::Include { component } => m.component_name(component),
        _ => None,
    }
}

#[test]
fn miguser_components_and_documented_behaviour() {
    let Some(usmt) = usmt_files() else {
        return;
    };
    let set = migxml::load(std::path::Path::new(&usmt("ms-shipped/hta__MigUser.xml"))).unwrap();
    assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    let user: Vec<&str> = set
        .components
        .iter()
        .filter(|c| c.scope == Scope::User)
        .map(|c| c.name.as_str())
        .collect();
    for want in [
        "My Documents",
        "Desktop",
        "Favorites",
        "My Music",
        "My Pictures",
        "My Video",
        "Start Menu",
        "Quick Launch",
    ] {
        assert!(user.contains(&want), "{want} missing from {user:?}");
    }
    let docs = set
        .components
        .iter()
        .find(|c| c.name == "My Documents")
        .unwrap();
    let texts: Vec<String> = docs
        .rules
        .iter()
        .map(|r| format!("{:?} {}", r.action, r.pattern))
        .collect();
    assert!(
        texts.contains(&r"Include %CSIDL_PERSONAL%\* [*]".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&r"Exclude %CSIDL_MYMUSIC%\* [*]".to_string()),
        "{texts:?}"
    );
    assert!(docs.detect.is_some(), "DoesObjectExist kept as data");

    let m = matcher(&set, Scope::User, &ann(), &NoFacts);
    let d = m.decide_path(ObjectKind::File, r"C:\Users\ann\Documents\a.docx");
    assert_eq!(name_of(&m, d), Some("My Documents"));
    // Excluded from My Documents, and taken by the My Music component instead.
    let d = m.decide_path(ObjectKind::File, r"C:\Users\ann\Documents\My Music\x.mp3");
    assert_eq!(name_of(&m, d), Some("My Music"));
    // Without a My Music component the exclude is what remains.
    let mut only_docs = set.clone();
    only_docs.components.retain(|c| c.name == "My Documents");
    let m2 = matcher(&only_docs, Scope::User, &ann(), &NoFacts);
    assert_eq!(
        m2.decide_path(ObjectKind::File, r"C:\Users\ann\Documents\My Music\x.mp3"),
        Decision::Exclude
    );
    assert_eq!(
        m2.decide_path(ObjectKind::File, r"C:\Users\bob\Documents\a.docx"),
        Decision::NotMatched
    );

    // System pass: the "User Data" component takes known extensions on every fixed drive,
    // but not inside the profiles folder, Windows or Program Files.
    let m = matcher(&set, Scope::System, &ann(), &NoFacts);
    let d = m.decide_path(ObjectKind::File, r"D:\Projects\plan.xlsx");
    assert_eq!(name_of(&m, d), Some("User Data"));
    assert_eq!(
        m.decide_path(ObjectKind::File, r"C:\Windows\notes.txt"),
        Decision::Exclude
    );
    assert_eq!(
        m.decide_path(ObjectKind::File, r"D:\Windows\old.doc"),
        Decision::Exclude
    );
    assert_eq!(
        m.decide_path(ObjectKind::File, r"C:\Users\ann\x.doc"),
        Decision::Exclude
    );
    assert_eq!(
        m.decide_path(ObjectKind::File, r"D:\Projects\song.mp3"),
        Decision::NotMatched
    );
    assert!(
        !m.might_contain(ObjectKind::File, r"E:\"),
        "E: is not a fixed drive of this system"
    );
}

/// Detection answered by the caller: a component whose folder is absent is skipped.
#[test]
fn detection_is_answered_by_the_caller() {
    let Some(usmt) = usmt_files() else {
        return;
    };
    struct NoFavorites;
    impl Facts for NoFavorites {
        fn condition(&self, name: &str, args: &[String]) -> Option<bool> {
            (name == "DoesObjectExist").then(|| !args[1].ends_with("Favorites"))
        }
    }
    let set = migxml::load(std::path::Path::new(&usmt("ms-shipped/usmt__MigUser.xml"))).unwrap();
    let m = matcher(&set, Scope::User, &ann(), &NoFavorites);
    assert_eq!(
        m.decide_path(ObjectKind::File, r"C:\Users\ann\Favorites\a.url"),
        Decision::NotMatched
    );
    let m = matcher(&set, Scope::User, &ann(), &NoFacts);
    assert_ne!(
        m.decide_path(ObjectKind::File, r"C:\Users\ann\Favorites\a.url"),
        Decision::NotMatched
    );
}

#[test]
fn migdocs_documented_locations() {
    let Some(usmt) = usmt_files() else {
        return;
    };
    let set = load_profile(&usmt("ms-shipped/hta__MigDocs.xml")).unwrap();
    let m = matcher(&set, Scope::User, &ann(), &NoFacts);
    for taken in [
        r"C:\Users\ann\mail.pst",
        r"C:\Users\ann\new folder\note.txt",
        r"C:\Users\ann\Documents\a.docx",
        r"C:\Users\ann\AppData\Roaming\Microsoft\Internet Explorer\Quick Launch\x.lnk",
    ] {
        assert!(
            matches!(
                m.decide_path(ObjectKind::File, taken),
                Decision::Include { .. }
            ),
            "{taken}"
        );
    }
    assert_eq!(
        m.decide_path(ObjectKind::File, r"C:\Users\ann\AppData\Local\Temp\x.tmp"),
        Decision::Exclude
    );
    assert_eq!(
        m.decide_path(ObjectKind::File, r"C:\Users\ann\NTUSER.DAT"),
        Decision::Exclude
    );
    let m = matcher(&set, Scope::System, &ann(), &NoFacts);
    for taken in [
        r"C:\data_mail\inbox\a.eml",
        r"D:\notes.txt",
        r"C:\Users\Public\Documents\a.doc",
    ] {
        assert!(
            matches!(
                m.decide_path(ObjectKind::File, taken),
                Decision::Include { .. }
            ),
            "{taken}"
        );
    }
    for left in [
        r"C:\Windows\win.ini",
        r"C:\Program Files\App\a.doc",
        r"C:\ProgramData\x.db",
        r"C:\Users\ann\a.doc",
        r"C:\pagefile.sys",
    ] {
        assert_eq!(
            m.decide_path(ObjectKind::File, left),
            Decision::Exclude,
            "{left}"
        );
    }
}

#[test]
fn every_real_migxml_parses_or_fails_cleanly() {
    let Some(usmt) = usmt_files() else {
        return;
    };
    let ok = [
        "ms-shipped/Pwsh-USMT__MigApp.xml",
        "ms-shipped/USMT-Helper__MigApp.xml",
        "ms-shipped/USMT_Backup-__MigApp.xml",
        "ms-shipped/hta__MigApp.xml",
        "ms-shipped/usmt__MigApp.xml",
        "ms-shipped/usmt__MigDocs.xml",
        "ms-modified/Pwsh-USMT__MigUser.xml",
        "ms-modified/USMT_Backup-__MigDocs.xml",
        "ms-modified/USMT_Backup-__MigUser.xml",
        "ms-modified/USMT__MigApp.xml",
        "ms-modified/Windows-Scripts__MigApp.xml",
        "ms-modified/Windows-Scripts__MigDocs.xml",
        "ms-modified/deploy-hostbackup__MigUser.xml",
        "custom/USMT-Helper__backup.xml",
        "custom/USMT-Helper__reg.xml",
        "custom/USMT-template__ExcludeFolders.xml",
        "custom/USMT-template__MigAppMinChromeFF.xml",
        "custom/USMT_Backup-__Mig_Outlook.xml",
        "custom/USMT_Backup-__Printers_Shares.xml",
        "custom/USMT__wallpaper.xml",
        "custom/hta__oopexcludes.xml",
    ];
    for f in ok {
        let set = load_profile(&usmt(f)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.components.is_empty(), "{f}");
    }
    // MigApp: the IsNative64Bit environments decide %HklmWowSoftware%; detection stays data.
    let set = load_profile(&usmt("ms-shipped/hta__MigApp.xml")).unwrap();
    assert!(set.components.len() > 100);
    assert!(
        set.warnings.iter().any(|w| w.contains("type=\"Ini\"")),
        "{:?}",
        set.warnings
    );
    assert!(set
        .components
        .iter()
        .any(|c| c.variables.iter().any(|v| v.name == "HklmWowSoftware")));

    let bad: [(&str, &str); 5] = [
        ("custom/Pwsh-USMT__offline__include.xml", "line 1"),
        ("custom/Pwsh-USMT__offline__ExcludeDrive.xml", "line 1"),
        ("ms-modified/Pwsh-USMT__MigApp2.xml", "line 6975"),
        ("config/usmt__config-offline.xml", "line 252"),
        ("config/USMT_Backup-__Config_Win10.XML", "Config.xml"),
    ];
    for (f, says) in bad {
        let e = load_profile(&usmt(f)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(f.rsplit('/').next().unwrap()) && text.contains(says),
            "{text}"
        );
    }
    assert!(matches!(
        load_profile(&usmt("config/hta__Config_AppsOnly.xml")),
        Err(RulesError::NotRules { .. })
    ));
}

#[test]
fn real_custom_files_mean_what_they_say() {
    let Some(usmt) = usmt_files() else {
        return;
    };
    // wallpaper.xml: single registry values, and the wallpaper file the value names
    // (a <content> filter the facts of the offline system answer; see tests/facts.rs).
    let set = load_profile(&usmt("custom/USMT__wallpaper.xml")).unwrap();
    assert!(set.components[0]
        .guarded
        .iter()
        .flat_map(|g| &g.content)
        .any(|c| c.filter.name == "ExtractSingleFile" && c.from.len() == 3));
    let m = matcher(&set, Scope::User, &ann(), &NoFacts);
    assert!(matches!(
        m.decide_path(
            ObjectKind::Registry,
            r"HKEY_CURRENT_USER\Control Panel\Desktop [Wallpaper]"
        ),
        Decision::Include { .. }
    ));
    assert_eq!(
        m.decide_path(
            ObjectKind::Registry,
            r"HKCU\Control Panel\Desktop [ScreenSaveActive]"
        ),
        Decision::NotMatched
    );
    // drives.xml: unconditional excludes of whole drives prune the walk.
    let mut set = load_profile(&usmt("custom/USMT__drives.xml")).unwrap();
    set.merge(load_profile(&usmt("ms-shipped/hta__MigUser.xml")).unwrap());
    let m = matcher(&set, Scope::System, &ann(), &NoFacts);
    assert!(!m.might_contain(ObjectKind::File, r"D:\Projects"));
    assert_eq!(
        m.decide_path(ObjectKind::File, r"D:\Projects\plan.xlsx"),
        Decision::Exclude
    );
    assert!(matches!(
        m.decide_path(ObjectKind::File, r"C:\Projects\plan.xlsx"),
        Decision::Include { .. }
    ));
    // Mig_Outlook.xml: "*\AppData\..." drive patterns reach into every profile.
    let set = load_profile(&usmt("custom/USMT_Backup-__Mig_Outlook.xml")).unwrap();
    let m = matcher(&set, Scope::System, &ann(), &NoFacts);
    assert!(matches!(
        m.decide_path(
            ObjectKind::File,
            r"C:\Users\bob\AppData\Roaming\Microsoft\Signatures\Work.htm"
        ),
        Decision::Include { .. }
    ));
}

fn yaml_set(text: &str) -> RuleSet {
    yaml::parse(text, "test.yaml").unwrap()
}

/// USMT Conflicts and Precedence, "Including and excluding files" / "registry objects".
#[test]
fn documented_precedence_examples() {
    let one = |inc: &str, exc: &str| {
        let s = yaml_set(&format!(
            "name: t\ncomponents:\n  - name: c\n    scope: system\n    include: ['{inc}']\n    exclude: ['{exc}']\n"
        ));
        Matcher::new(&s)
    };
    use ObjectKind::{File as F, Registry as R};
    let inc = |d| matches!(d, Decision::Include { .. });
    // Directory names take precedence over file extensions.
    let m = one(r"C:\Data\* [*]", r"C:\* [*.mp3]");
    assert!(inc(m.decide_path(F, r"C:\Data\song.mp3")));
    let m = one(r"C:\Dir1\* [*]", r"C:\Dir1\Dir2\* [*.txt]");
    assert!(inc(m.decide_path(F, r"C:\Dir1\a.txt")));
    assert!(!inc(m.decide_path(F, r"C:\Dir1\Dir2\Sub\a.txt")));
    assert!(inc(m.decide_path(F, r"C:\Dir1\Dir2\a.doc")));
    let m = one(r"C:\Dir1\* [*]", r"C:\Dir1\* [*.txt]");
    assert!(!inc(m.decide_path(F, r"C:\Dir1\Sub\a.txt")));
    assert!(inc(m.decide_path(F, r"C:\Dir1\Sub\a.doc")));
    let m = one(r"C:\Dir1\Dir2\* [*.txt]", r"C:\Dir1\Dir2\* [*.txt]");
    assert_eq!(m.decide_path(F, r"C:\Dir1\Dir2\a.txt"), Decision::Exclude);
    let m = one(r"C:\Dir1\* [*.txt]", r"C:\Dir1\Dir2\* [*]");
    assert!(inc(m.decide_path(F, r"C:\Dir1\a.txt")));
    assert!(inc(m.decide_path(F, r"C:\Dir1\Other\a.txt")));
    assert!(!inc(m.decide_path(F, r"C:\Dir1\Dir2\a.txt")));
    // Registry: Command Processor.
    let key = r"HKLM\Software\Microsoft\Command Processor";
    let m = one(&format!(r"{key}\* [*]"), &format!("{key} [DefaultColor]"));
    assert!(inc(m.decide_path(R, &format!("{key} [AutoRun]"))));
    assert!(!inc(m.decide_path(R, &format!("{key} [DefaultColor]"))));
    let m = one(&format!("{key} [DefaultColor]"), &format!(r"{key}\* [*]"));
    assert!(inc(m.decide_path(R, &format!("{key} [DefaultColor]"))));
    assert!(!inc(m.decide_path(R, &format!("{key} [AutoRun]"))));
    let m = one(
        &format!("{key} [DefaultColor]"),
        &format!("{key} [DefaultColor]"),
    );
    assert!(!inc(m.decide_path(R, &format!("{key} [DefaultColor]"))));

    // Different components do not affect each other…
    let s = yaml_set(&format!(
        "name: t\ncomponents:\n  - {{name: a, scope: system, include: ['{key} [DefaultColor]'], exclude: ['{key}\\* [*]']}}\n  - {{name: b, scope: system, include: ['{key}\\* [*]'], exclude: ['{key} [DefaultColor]']}}\n"
    ));
    let m = Matcher::new(&s);
    assert!(inc(m.decide_path(R, &format!("{key} [DefaultColor]"))));
    assert!(inc(m.decide_path(R, &format!("{key} [AutoRun]"))));
    // …a component with only an exclude does nothing…
    let s = yaml_set("name: t\ncomponents:\n  - {name: a, scope: system, exclude: ['C:\\Dir1\\Dir2\\* [*]']}\n  - {name: b, scope: system, include: ['C:\\Dir1\\* [*.txt]']}\n");
    assert!(inc(Matcher::new(&s).decide_path(F, r"C:\Dir1\Dir2\a.txt")));
    // …except unconditionalExclude, which beats every include everywhere.
    let s = yaml_set("name: t\ncomponents:\n  - {name: a, scope: system, unconditional_exclude: ['C:\\* [*.mp3]']}\n  - {name: b, scope: system, include: ['C:\\Data\\ [song.mp3]']}\n");
    assert_eq!(
        Matcher::new(&s).decide_path(F, r"C:\Data\song.mp3"),
        Decision::Exclude
    );
}

#[test]
fn shipped_profiles_take_and_leave_what_the_readme_says() {
    let vars = ann();
    let m = matcher(
        &load_profile("documents").unwrap(),
        Scope::User,
        &vars,
        &NoFacts,
    );
    let takes = |m: &Matcher, p: &str| {
        matches!(m.decide_path(ObjectKind::File, p), Decision::Include { .. })
    };
    assert!(takes(&m, r"C:\Users\ann\Projects\report.odt"));
    assert!(takes(&m, r"C:\Users\ann\Documents\scan.PDF"));
    assert!(takes(
        &m,
        r"C:\Users\ann\AppData\Local\Microsoft\Outlook\ann.pst"
    ));
    assert!(!takes(&m, r"C:\Users\ann\AppData\Local\Temp\log.txt"));
    assert!(!takes(&m, r"C:\Users\ann\Documents\song.mp3"));

    let m = matcher(&load_profile("user").unwrap(), Scope::User, &vars, &NoFacts);
    assert!(takes(
        &m,
        r"C:\Users\ann\AppData\Local\Google\Chrome\User Data\Profile 1\Bookmarks"
    ));
    assert!(takes(
        &m,
        r"C:\Users\ann\AppData\Roaming\Mozilla\Firefox\Profiles\ab.default\places.sqlite"
    ));
    assert!(takes(
        &m,
        r"C:\Users\ann\AppData\Local\Packages\Microsoft.MicrosoftStickyNotes_8wekyb3d8bbwe\LocalState\plum.sqlite-wal"
    ));
    assert!(takes(&m, r"C:\Users\ann\Downloads\setup.exe"));
    assert!(!takes(
        &m,
        r"C:\Users\ann\AppData\Local\Google\Chrome\User Data\Default\History"
    ));
    assert!(matches!(
        m.decide_path(ObjectKind::Registry, r"HKCU\Network\Z [RemotePath]"),
        Decision::Include { .. }
    ));

    let m = matcher(&load_profile("full").unwrap(), Scope::User, &vars, &NoFacts);
    assert!(takes(&m, r"C:\Users\ann\AppData\Roaming\App\settings.json"));
    assert!(takes(&m, r"C:\Users\ann\NTUSER.DAT"));
    assert!(!takes(
        &m,
        r"C:\Users\ann\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\f_000001"
    ));
    assert!(!takes(
        &m,
        r"C:\Users\ann\AppData\Local\Microsoft\Windows\Explorer\thumbcache_256.db"
    ));
    assert!(!takes(
        &m,
        r"C:\Users\ann\AppData\Local\Packages\Microsoft.Windows.Photos_8wekyb3d8bbwe\AC\x"
    ));
    assert!(!m.might_contain(ObjectKind::File, r"C:\Windows"));
}

/// Every real Config.xml loads into the type, or is refused with its file and line.
#[test]
fn real_config_xml_files_load_or_are_refused_with_file_and_line() {
    use lifeboat::rules::configxml;
    let Some(usmt) = usmt_files() else {
        return;
    };
    let dir = std::path::PathBuf::from(usmt("config/usmt__config.xml"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut loaded = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        match configxml::load(&p) {
            Ok(c) => {
                loaded += 1;
                let listed = c.applications.components.len()
                    + c.documents.components.len()
                    + c.windows_components.components.len();
                assert!(listed > 0, "{name}: no component read");
            }
            Err(e) => {
                // The one malformed file: an unclosed element before line 252.
                assert_eq!(name, "usmt__config-offline.xml", "{e}");
                let text = e.to_string();
                assert!(text.contains(&name) && text.contains("line 252"), "{text}");
            }
        }
    }
    assert_eq!(loaded, 10);
    let c = configxml::load(std::path::Path::new(&usmt(
        "config/USMT-template__Config_min.xml",
    )))
    .unwrap();
    assert!(c.allows(lifeboat::rules::Category::Application, "Mozilla Firefox"));
    assert!(!c.allows(lifeboat::rules::Category::System, "WindowsSearchEngine"));
    // AppsOnly turns every Windows component off by default.
    let c = configxml::load(std::path::Path::new(&usmt(
        "config/hta__Config_AppsOnly.xml",
    )))
    .unwrap();
    assert!(!c.windows_components.default_migrate);
    // A MigXML given as Config.xml is refused with the reason.
    let e =
        configxml::load(std::path::Path::new(&usmt("ms-shipped/usmt__MigDocs.xml"))).unwrap_err();
    assert!(matches!(e, RulesError::NotRules { .. }), "{e}");
}
