//! `lifeboat restore` through the real Windows agent under Wine: a store of an old machine
//! (Documents redirected to D:, unicode names, a path past 260 characters, settings holding
//! the old profile path) restored into the Wine prefix's own user. The files are looked for
//! where Wine's shell says that user's folders are (`SHGetKnownFolderPath`), the settings
//! with `wine reg query`.

use std::path::{Path, PathBuf};

use fixtures::migration::{long_rel, old_machine_store, old_time, walk};
use fixtures::tree_fingerprint;
use fixtures::wine::{agent_exe, WinePrefix};

/// `lifeboat.exe known-folders`: name → Windows path, as Wine's shell answers.
fn known_folders(wine: &WinePrefix) -> Vec<(String, String)> {
    let (code, out, err) = wine.run(&["known-folders"], &[], None);
    assert_eq!(code, 0, "{out}{err}");
    out.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.trim().to_string()))
        .collect()
}

fn folder(list: &[(String, String)], name: &str) -> String {
    list.iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| panic!("no {name} in {list:?}"))
}

fn store_name(store: &Path) -> String {
    store.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn windows_agent_restores_into_the_prefix_user() {
    let wine = WinePrefix::new();
    wine.own_user_folders();
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let stores = store.parent().unwrap().to_path_buf();
    wine.map_drive('f', &stores);
    let store_win = format!(r"F:\{}", store_name(&store));

    let shell = known_folders(&wine);
    let profile_win = folder(&shell, "Profile");
    let me = profile_win.rsplit('\\').next().unwrap().to_string();
    let profile = wine.c_drive_path(&profile_win);
    let docs = wine.c_drive_path(&folder(&shell, "Documents"));
    let desktop = wine.c_drive_path(&folder(&shell, "Desktop"));
    let roaming = wine.c_drive_path(&folder(&shell, "RoamingAppData"));

    // A target account that does not exist: refused, nothing written.
    let before = tree_fingerprint(&profile);
    let (code, out, err) = wine.run(
        &["restore", &store_win, "--user", "ann=nobody-here"],
        &[],
        None,
    );
    assert_eq!(code, 14, "{out}{err}");
    assert!(err.contains("nobody-here"), "{err}");
    assert_eq!(
        before,
        tree_fingerprint(&profile),
        "a refused restore wrote"
    );

    // --create-local: the password is asked at the console and appears nowhere else. (Wine's
    // NetUserAdd accepts the account but its LookupAccountNameW never finds it, so the
    // restore stops there: creating accounts and profiles needs a real Windows to prove.)
    let log_dir = tempfile::tempdir().unwrap();
    wine.map_drive('l', log_dir.path());
    let secret = "Zebra-Secret-4711";
    let (code, out, err) = wine.run(
        &[
            "restore",
            &store_win,
            "--user",
            "ann=newbie",
            "--create-local",
            "--log",
            r"L:\restore.log",
        ],
        &[],
        Some(&format!(
            "{secret}
{secret}
"
        )),
    );
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("Password for the local accounts"), "{err}");
    let log = std::fs::read_to_string(log_dir.path().join("restore.log")).expect("the --log file");
    for text in [&out, &err, &log] {
        assert!(!text.contains(secret), "the password leaked: {text}");
    }

    let mapping = format!("ann={me}");
    let (code, out, err) = wine.run(&["restore", &store_win, "--user", &mapping], &[], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("RESTORE COMPLETE"), "{out}");
    for (p, want) in [
        (docs.join("thesis.odt"), &b"odt thesis"[..]),
        (docs.join("sub/Ünïcödé €.txt"), "ünïcödé".as_bytes()),
        (
            docs.join(long_rel().replace('\\', "/")).join("deep.txt"),
            b"deep",
        ),
        (desktop.join("todo.txt"), b"todo"),
        (desktop.join("ünïcödé.txt"), b"from the old desktop"),
        (roaming.join("Microsoft/Signatures/sig.htm"), b"<p>Ann</p>"),
    ] {
        assert_eq!(
            std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}\n{out}", p.display())),
            want,
            "{}",
            p.display()
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            old_time(),
            "time of {}",
            p.display()
        );
    }
    assert!(walk(&profile)
        .iter()
        .all(|p| !p.to_string_lossy().contains(".lifeboat-restore")));

    // Settings in HKCU, the old profile path rewritten to this user's folders.
    let q = wine
        .reg_query(r"HKCU\Software\LifeboatTest", "LastFile")
        .expect("LastFile in HKCU");
    let desktop_win = folder(&shell, "Desktop");
    assert!(
        q.to_lowercase()
            .contains(&format!(r"{}\todo.txt", desktop_win).to_lowercase()),
        "{q}"
    );
    let q = wine
        .reg_query(r"HKCU\Software\LifeboatTest", "Relative")
        .expect("Relative in HKCU");
    assert!(
        q.contains("REG_EXPAND_SZ") && q.contains(r"%USERPROFILE%\x"),
        "{q}"
    );
    // The old machine's User Shell Folders were not applied: Wine's still rule.
    assert_eq!(
        folder(&known_folders(&wine), "Documents"),
        folder(&shell, "Documents")
    );

    // Again, as LoadState (the same binary named loadstate.exe): nothing changes.
    let before = tree_fingerprint(&profile);
    let ls_dir = tempfile::tempdir().unwrap();
    let loadstate: PathBuf = ls_dir.path().join("loadstate.exe");
    std::fs::copy(agent_exe(), &loadstate).unwrap();
    let mu = format!(r"/mu:OLDPC\ann:{me}");
    let (code, out, err) =
        wine.run_program(&loadstate, &[&store_win, &mu, "/c", "/v:5"], &[], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("already there"), "{out}");
    assert_eq!(
        before,
        tree_fingerprint(&profile),
        "the second restore changed files"
    );

    // A file of the user's own with the same name: renamed beside it, once.
    std::fs::write(desktop.join("todo.txt"), b"my own todo").unwrap();
    for _ in 0..2 {
        let (code, out, err) = wine.run(&["restore", &store_win, "--user", &mapping], &[], None);
        assert_eq!(code, 0, "{out}\n{err}");
    }
    assert_eq!(
        std::fs::read(desktop.join("todo.txt")).unwrap(),
        b"my own todo"
    );
    assert_eq!(
        std::fs::read(desktop.join("todo (1).txt")).unwrap(),
        b"todo"
    );
    assert!(!desktop.join("todo (2).txt").exists());
}

/// The boot flow with a network share: capture to `\\server\captures` (reachable, so no
/// credentials are asked), then `mode: restore` from the same share into the freshly
/// imaged Windows of the same computer.
#[test]
fn auto_captures_to_a_share_and_restores_from_it() {
    use fixtures::volume::{UserSpec, WindowsSpec};
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    let share = dir.path().join("share");
    let cfg = dir.path().join("cfg");
    for d in [&old, &new, &share, &cfg] {
        std::fs::create_dir_all(d).unwrap();
    }
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK report".to_vec()),
        (r"Desktop\ünï.txt".into(), "ünï".as_bytes().to_vec()),
    ];
    // A mapped drive the fresh profile does not have: a setting the restore must carry.
    ann.ntuser_values = vec![(
        r"Network\S".into(),
        "RemotePath".into(),
        1,
        fixtures::migration::utf16z(r"\\fileserver\shared"),
    )];
    let mut spec = WindowsSpec::win10("SHARE-PC");
    spec.users = vec![ann];
    spec.write_volume(&old);
    // The same computer, reimaged: ann has a fresh, empty profile.
    let mut fresh = UserSpec::local(1001, "ann");
    fresh.files = Vec::new();
    let mut spec = WindowsSpec::win11("SHARE-PC");
    spec.users = vec![fresh];
    spec.write_volume(&new);
    std::fs::write(
        cfg.join("capture.yaml"),
        "destinations:\n  - share: '\\\\server\\captures'\nunattended: true\nprofiles: [user]\n",
    )
    .unwrap();
    std::fs::write(
        cfg.join("restore.yaml"),
        "mode: restore\ndestinations:\n  - share: '\\\\server\\captures'\nunattended: true\n",
    )
    .unwrap();
    wine.map_unc("server", "captures", &share);
    wine.map_drive('g', &cfg);
    wine.map_drive('d', &old);

    let (code, out, err) = wine.run(&["auto", "--config", r"G:\capture.yaml", r"D:\"], &[], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("Password"), "credentials were asked: {err}");
    let stores: Vec<_> = std::fs::read_dir(&share)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("manifest.yaml").is_file())
        .collect();
    assert_eq!(stores.len(), 1, "{out}\n{err}");

    wine.map_drive('d', &new);
    let (code, out, err) = wine.run(&["auto", "--config", r"G:\restore.yaml", r"D:\"], &[], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("RESTORE COMPLETE"), "{out}\n{err}");
    let profile = new.join("Users/ann");
    assert_eq!(
        std::fs::read(profile.join("Documents/report.docx")).unwrap(),
        b"PK report"
    );
    assert_eq!(
        std::fs::read(profile.join("Desktop/ünï.txt")).unwrap(),
        "ünï".as_bytes()
    );
    // Windows was not running: the settings wait in the profile, the new one only.
    let reg = std::fs::read(profile.join("Lifeboat settings.reg")).unwrap();
    let units: Vec<u16> = reg[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let reg = String::from_utf16_lossy(&units);
    assert!(reg.contains(r"[HKEY_CURRENT_USER\Network\S]"), "{reg}");
    assert!(
        reg.contains(r#""RemotePath"="\\\\fileserver\\shared""#),
        "{reg}"
    );
}
