//! `lifeboat restore --offline-root` on Linux: a store captured from a generated old
//! machine (Documents redirected to D:, unicode names, a path past 260 characters, settings
//! holding the old profile path) restored into a generated new Windows whose user has
//! Documents in OneDrive. Checked on the files themselves (bytes, times), the `.reg` left in
//! the profile, the conflict policies, a second run that changes nothing, stores that
//! must be refused before anything is written, and MigXML's LoadState-side rules (moves,
//! merges, content changes, NeverRestore) recorded by the capture and carried out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use fixtures::migration::{long_rel, old_machine_store, old_time, utf16z, walk};
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, store_in, tree_fingerprint};

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A freshly imaged new Windows with one user, bob, whose Documents are in OneDrive.
fn new_machine(dir: &Path, name: &str) -> PathBuf {
    let t = dir.join(name);
    std::fs::create_dir_all(&t).unwrap();
    let mut bob = UserSpec::local(1001, "bob");
    bob.files = vec![(r"Desktop\bob.txt".into(), b"bob's own".to_vec())];
    bob.shell_folders = vec![(
        "Personal".into(),
        r"%USERPROFILE%\OneDrive\Documents".into(),
    )];
    let mut spec = WindowsSpec::win11("NEWPC");
    spec.users = vec![bob];
    spec.write_volume(&t);
    t
}

fn restore(store: &Path, target: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec![
        "restore",
        s(store),
        "--offline-root",
        s(target),
        "--user",
        "ann=bob",
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = lifeboat(&args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v, err)
}

fn counts(v: &serde_json::Value) -> &serde_json::Value {
    &v["report"]["users"][0]["files"]
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn offline_restore_maps_folders_rewrites_settings_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let t = new_machine(dir.path(), "new");
    let bob = t.join("Users/bob");

    let (code, v, err) = restore(&store, &t, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let docs = bob.join("OneDrive/Documents");
    for (p, want) in [
        (docs.join("thesis.odt"), &b"odt thesis"[..]),
        (docs.join("sub/Ünïcödé €.txt"), "ünïcödé".as_bytes()),
        (
            docs.join(long_rel().replace('\\', "/")).join("deep.txt"),
            b"deep",
        ),
        (bob.join("Desktop/todo.txt"), b"todo"),
        (bob.join("Desktop/ünïcödé.txt"), b"from the old desktop"),
        (
            bob.join("AppData/Roaming/Microsoft/Signatures/sig.htm"),
            b"<p>Ann</p>",
        ),
    ] {
        assert_eq!(std::fs::read(&p).unwrap(), want, "{}", p.display());
        assert_eq!(mtime(&p), old_time(), "time of {}", p.display());
    }
    assert_eq!(
        std::fs::read(bob.join("Desktop/bob.txt")).unwrap(),
        b"bob's own"
    );
    // Nothing under the old user's name, nothing staged left behind.
    assert!(!t.join("Users/ann").exists());
    assert!(walk(&bob)
        .iter()
        .all(|p| !s(p).contains(".lifeboat-restore")));

    // Settings: left in the profile with paths rewritten; the old shell folders not there.
    let reg = std::fs::read(bob.join("Lifeboat settings.reg")).unwrap();
    let keys =
        lifeboat::store::regread::parse(&lifeboat::store::regread::decode(&reg).unwrap()).unwrap();
    let test_key = keys
        .iter()
        .find(|k| k.path == r"HKEY_CURRENT_USER\Software\LifeboatTest")
        .expect("the test key");
    let value = |n: &str| {
        test_key
            .values
            .iter()
            .find(|v| v.name == n)
            .map(|v| v.data.clone())
            .unwrap()
    };
    assert_eq!(value("LastFile"), utf16z(r"C:\Users\bob\Desktop\todo.txt"));
    let mut multi = utf16z(r"C:\Users\bob\OneDrive\Documents\sub");
    multi.extend(utf16z(r"C:\Other"));
    multi.extend_from_slice(&[0, 0]);
    assert_eq!(value("Dirs"), multi);
    assert_eq!(value("Relative"), utf16z(r"%USERPROFILE%\x"));
    assert!(keys.iter().all(|k| !k.path.contains("User Shell Folders")));
    assert!(bob.join("Lifeboat settings - READ ME.txt").is_file());
    let settings = &v["report"]["users"][0]["settings"];
    assert_eq!(settings["rewritten"], 2, "{settings}");
    assert_eq!(
        settings["not_applied"][0]["why"], "shell-folders",
        "{settings}"
    );
    assert_eq!(counts(&v)["restored"], 7, "{v}");

    // Again: nothing changes, everything is reported as already there.
    let before = tree_fingerprint(&t);
    let (code, v, err) = restore(&store, &t, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        before,
        tree_fingerprint(&t),
        "the second restore changed something"
    );
    assert_eq!(counts(&v)["unchanged"], 7, "{v}");
    assert_eq!(counts(&v)["restored"], 0, "{v}");
}

#[test]
fn each_conflict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let newer = SystemTime::now();
    for (policy, mine_is_newer, want_there, want_renamed) in [
        (
            "rename",
            false,
            &b"mine"[..],
            Some(&b"from the old desktop"[..]),
        ),
        ("keep", false, b"mine", None),
        ("overwrite", true, b"from the old desktop", None),
        ("newer", false, b"from the old desktop", None),
        ("newer", true, b"mine", None),
    ] {
        let t = new_machine(dir.path(), &format!("t-{policy}-{mine_is_newer}"));
        let desk = t.join("Users/bob/Desktop");
        let mine = desk.join("ünïcödé.txt");
        std::fs::write(&mine, b"mine").unwrap();
        let f = std::fs::File::options().write(true).open(&mine).unwrap();
        f.set_modified(if mine_is_newer {
            newer
        } else {
            old_time() - Duration::from_secs(86_400)
        })
        .unwrap();
        drop(f);
        let (code, v, err) = restore(&store, &t, &["--on-conflict", policy]);
        assert_eq!(code, 0, "{policy}: {err}");
        assert_eq!(
            std::fs::read(&mine).unwrap(),
            want_there,
            "{policy} {mine_is_newer}"
        );
        let renamed = desk.join("ünïcödé (1).txt");
        assert_eq!(
            std::fs::read(&renamed).ok().as_deref(),
            want_renamed,
            "{policy}: {v}"
        );
        // A second run never adds `(2)` nor changes anything.
        let before = tree_fingerprint(&t);
        let (code, _, err) = restore(&store, &t, &["--on-conflict", policy]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            before,
            tree_fingerprint(&t),
            "{policy}: second run changed the target"
        );
    }
}

#[test]
fn bad_stores_and_missing_users_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let t = new_machine(dir.path(), "new");
    let before = tree_fingerprint(&t);
    let copy = |name: &str| {
        let c = dir.path().join(name);
        std::fs::create_dir_all(c.join("registry")).unwrap();
        for f in walk(&store) {
            let rel = f.strip_prefix(&store).unwrap();
            std::fs::copy(&f, c.join(rel)).unwrap();
        }
        c
    };
    let edit_manifest = |store: &Path, from: &str, to: &str| {
        let m = store.join("manifest.yaml");
        let text = std::fs::read_to_string(&m).unwrap();
        assert!(text.contains(from), "{text}");
        std::fs::write(&m, text.replacen(from, to, 1)).unwrap();
    };

    let incomplete = copy("incomplete");
    edit_manifest(&incomplete, "complete: true", "complete: false");
    let corrupt = copy("corrupt");
    let wim = corrupt.join("files.wim");
    let mut bytes = std::fs::read(&wim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    bytes[mid + 1] ^= 0xFF;
    std::fs::write(&wim, bytes).unwrap();
    let escaping = copy("escaping");
    edit_manifest(
        &escaping,
        "registry_file: registry/ann.reg",
        "registry_file: ../../../../etc/passwd",
    );

    for (store, args, code, says) in [
        (&incomplete, vec!["--user", "ann=bob"], 27, "incomplete"),
        (&corrupt, vec!["--user", "ann=bob"], 42, "did not verify"),
        (
            &escaping,
            vec!["--user", "ann=bob"],
            42,
            "../../../../etc/passwd",
        ),
        (&store, vec!["--user", "ann=nobody"], 14, "nobody"),
        (&store, vec!["--user", "zed"], 11, "zed"),
        (
            &store,
            vec!["--user", "ann=bob", "--on-conflict", "merge"],
            11,
            "merge",
        ),
    ] {
        let mut a = vec!["restore", s(store), "--offline-root", s(&t)];
        a.extend(args.iter().copied());
        let (got, out, err) = lifeboat(&a);
        assert_eq!(got, code, "{a:?}: {out}{err}");
        assert!(err.contains(says), "{a:?}: {err}");
        assert_eq!(before, tree_fingerprint(&t), "{a:?} wrote to the target");
    }
    // With --allow-incomplete what the store holds (and verifies) is restored.
    let (code, out, err) = lifeboat(&[
        "restore",
        s(&incomplete),
        "--offline-root",
        s(&t),
        "--user",
        "ann=bob",
        "--allow-incomplete",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(t.join("Users/bob/Desktop/todo.txt").is_file());
}

#[test]
fn dry_run_lists_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let t = new_machine(dir.path(), "new");
    std::fs::write(t.join("Users/bob/Desktop/todo.txt"), b"other").unwrap();
    let before = tree_fingerprint(&t);
    let list = dir.path().join("list.txt");
    let (code, out, err) = lifeboat(&[
        "restore",
        s(&store),
        "--offline-root",
        s(&t),
        "--user",
        "OLDPC\\ann=bob",
        "--dry-run",
        "--list-files",
        s(&list),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("DRY RUN - NOTHING WAS WRITTEN"), "{out}");
    assert_eq!(before, tree_fingerprint(&t));
    let listed = std::fs::read_to_string(&list).unwrap();
    assert!(
        listed.contains(r"renamed     C:\Users\ann\Desktop\todo.txt"),
        "{listed}"
    );
    assert!(listed.contains("todo (1).txt"), "{listed}");
    assert!(listed.contains(r"D:\Docs\ann\thesis.odt"), "{listed}");

    // LoadState's syntax reaches the same engine; on Linux without --offline-root the
    // running system is not Windows.
    let (code, _, err) = lifeboat(&["loadstate", s(&store), "/mu:OLDPC\\ann:bob", "/c"]);
    assert_eq!(code, 36, "{err}");
    assert!(err.contains("--offline-root"), "{err}");
    let (code, _, err) = lifeboat(&["loadstate", s(&store), "/lac:secret"]);
    assert_eq!(code, 11, "{err}");
}

/// A custom MigXML with LoadState-side helpers: a RelativeMove of an application's AppData
/// folder (and of a registry key), DestinationPriority and SourcePriority on a registry
/// value and a file each, SetValueByTable on a DWORD, NeverRestore on a file and a value, and
/// a merge helper Lifeboat does not apply (NewestVersion), which must be reported.
const HELPERS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/lifeboathelpers">
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
        <locationModify script="MigXmlHelper.RelativeMove('HKCU\Software\OldApp\Moved','HKCU\Software\NewApp')">
          <objectSet><pattern type="Registry">HKCU\Software\OldApp\Moved\* [*]</pattern></objectSet>
        </locationModify>
        <merge script="MigXmlHelper.DestinationPriority()">
          <objectSet>
            <pattern type="Registry">HKCU\Software\OldApp [Theme]</pattern>
            <pattern type="File">%CSIDL_APPDATA%\Shared [keep.ini]</pattern>
          </objectSet>
        </merge>
        <merge script="MigXmlHelper.SourcePriority()">
          <objectSet>
            <pattern type="Registry">HKCU\Software\OldApp [Server]</pattern>
            <pattern type="File">%CSIDL_APPDATA%\Shared [take.ini]</pattern>
          </objectSet>
        </merge>
        <contentModify script="MigXmlHelper.SetValueByTable('0x1,0x2','0x11,0x12','')">
          <objectSet><pattern type="Registry">HKCU\Software\OldApp [Mode]</pattern></objectSet>
        </contentModify>
        <include filter="MigXmlHelper.NeverRestore()">
          <objectSet>
            <pattern type="File">%CSIDL_APPDATA%\Shared [cache.bin]</pattern>
            <pattern type="Registry">HKCU\Software\OldApp [Secret]</pattern>
          </objectSet>
        </include>
        <merge script="MigXmlHelper.NewestVersion('FileVersion')">
          <objectSet><pattern type="File">%CSIDL_APPDATA%\Shared [*.exe]</pattern></objectSet>
        </merge>
      </rules>
    </role>
  </component>
</migration>
"#;

/// The registry values the test writes, on the old and the new machine.
fn sz(key: &str, name: &str, text: &str) -> (String, String, u32, Vec<u8>) {
    (key.into(), name.into(), 1, utf16z(text))
}

#[test]
fn migxml_helpers_recorded_by_the_capture_are_honoured_by_the_restore() {
    let dir = tempfile::tempdir().unwrap();
    let app = r"HKEY_CURRENT_USER\Software\OldApp";
    // The old machine: ann with the application's files and settings.
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (
            r"AppData\Roaming\OldApp\prefs.xml".into(),
            b"<prefs/>".to_vec(),
        ),
        (r"AppData\Roaming\OldApp\sub\data.db".into(), b"db".to_vec()),
        (
            r"AppData\Roaming\Shared\keep.ini".into(),
            b"source keep".to_vec(),
        ),
        (
            r"AppData\Roaming\Shared\take.ini".into(),
            b"source take".to_vec(),
        ),
        (
            r"AppData\Roaming\Shared\tool.exe".into(),
            b"source tool".to_vec(),
        ),
        (
            r"AppData\Roaming\Shared\cache.bin".into(),
            b"never restored".to_vec(),
        ),
    ];
    ann.ntuser_values = vec![
        sz(r"Software\OldApp", "Secret", "never restored"),
        sz(r"Software\OldApp", "Theme", "source theme"),
        sz(r"Software\OldApp", "Server", "source server"),
        (
            r"Software\OldApp".into(),
            "Mode".into(),
            4,
            2u32.to_le_bytes().to_vec(),
        ),
        sz(r"Software\OldApp\Moved", "Path", "moved value"),
    ];
    let mut old = WindowsSpec::win10("OLDPC");
    old.users = vec![ann];
    let c = dir.path().join("old-c");
    old.write_volume(&c);
    let xml = dir.path().join("helpers.xml");
    std::fs::write(&xml, HELPERS_XML).unwrap();
    let stores = dir.path().join("stores");
    std::fs::create_dir_all(&stores).unwrap();
    let (code, out, err) = lifeboat(&[
        "capture",
        "--windir",
        s(&c.join("Windows")),
        "--dest",
        s(&stores),
        "--profile",
        s(&xml),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let store = store_in(&stores);

    // The manifest records each instruction for ann, with its helper and its objects.
    let manifest: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(store.join("manifest.yaml")).unwrap())
            .unwrap();
    let entries = manifest["users"][0]["restore"]
        .as_sequence()
        .expect("users[0].restore");
    let find = |helper: &str| {
        entries
            .iter()
            .find(|e| e["script"]["name"].as_str() == Some(helper))
            .unwrap_or_else(|| panic!("{helper} not recorded: {entries:?}"))
    };
    let rel = find("RelativeMove");
    assert_eq!(rel["kind"].as_str(), Some("location-modify"));
    assert_eq!(rel["component"].as_str(), Some("Old App"));
    assert_eq!(
        rel["script"]["args"][1].as_str(),
        Some(r"%CSIDL_APPDATA%\NewApp"),
        "helper arguments are kept as written"
    );
    assert_eq!(
        rel["patterns"][0].as_str(),
        Some(r"C:\Users\ann\AppData\Roaming\OldApp\* [*]"),
        "patterns are expanded for the source"
    );
    assert_eq!(find("DestinationPriority")["kind"].as_str(), Some("merge"));
    assert_eq!(
        find("SetValueByTable")["kind"].as_str(),
        Some("content-modify")
    );

    // The new machine: bob already has his own copies of the Shared files and settings.
    let t = dir.path().join("new");
    std::fs::create_dir_all(&t).unwrap();
    let mut bob = UserSpec::local(1001, "bob");
    bob.files = vec![
        (
            r"AppData\Roaming\Shared\keep.ini".into(),
            b"target keep".to_vec(),
        ),
        (
            r"AppData\Roaming\Shared\take.ini".into(),
            b"target take".to_vec(),
        ),
        (
            r"AppData\Roaming\Shared\tool.exe".into(),
            b"target tool".to_vec(),
        ),
    ];
    bob.ntuser_values = vec![
        sz(r"Software\OldApp", "Theme", "target theme"),
        sz(r"Software\OldApp", "Server", "target server"),
    ];
    let mut new = WindowsSpec::win11("NEWPC");
    new.users = vec![bob];
    new.write_volume(&t);

    let (code, v, err) = restore(&store, &t, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let roaming = t.join("Users/bob/AppData/Roaming");
    // RelativeMove: at the new place, expanded with bob's AppData; not at the old one.
    assert_eq!(
        std::fs::read(roaming.join("NewApp/prefs.xml")).unwrap(),
        b"<prefs/>"
    );
    assert_eq!(
        std::fs::read(roaming.join("NewApp/sub/data.db")).unwrap(),
        b"db"
    );
    assert!(!roaming.join("OldApp").exists(), "{v}");
    // DestinationPriority keeps bob's file (no copy beside it); SourcePriority takes ann's.
    let shared = roaming.join("Shared");
    assert_eq!(
        std::fs::read(shared.join("keep.ini")).unwrap(),
        b"target keep"
    );
    assert!(!shared.join("keep (1).ini").exists());
    assert_eq!(
        std::fs::read(shared.join("take.ini")).unwrap(),
        b"source take"
    );
    // NewestVersion is not applied: --on-conflict (rename) decides, and the report says so.
    assert_eq!(
        std::fs::read(shared.join("tool.exe")).unwrap(),
        b"target tool"
    );
    assert_eq!(
        std::fs::read(shared.join("tool (1).exe")).unwrap(),
        b"source tool"
    );
    let not_applied = &v["report"]["users"][0]["helpers_not_applied"];
    assert_eq!(
        not_applied.as_array().map(Vec::len),
        Some(1),
        "{not_applied}"
    );
    assert_eq!(not_applied[0]["helper"], r#"NewestVersion("FileVersion")"#);
    assert_eq!(not_applied[0]["component"], "Old App");
    // A second run (plain output) changes nothing and says what was not applied.
    let before = tree_fingerprint(&t);
    let (_, text, _) = lifeboat(&[
        "restore",
        s(&store),
        "--offline-root",
        s(&t),
        "--user",
        "ann=bob",
    ]);
    assert!(
        text.contains(r#"not applied: helper NewestVersion("FileVersion")"#),
        "{text}"
    );
    assert_eq!(
        before,
        tree_fingerprint(&t),
        "the second restore changed something"
    );

    // Settings (left as a .reg offline): bob's Theme stays (not in the file), ann's
    // Server wins, Mode went through the table, the Moved key went to NewApp.
    let reg = std::fs::read(t.join("Users/bob/Lifeboat settings.reg")).unwrap();
    let keys =
        lifeboat::store::regread::parse(&lifeboat::store::regread::decode(&reg).unwrap()).unwrap();
    let value = |key: &str, name: &str| {
        keys.iter()
            .find(|k| k.path.eq_ignore_ascii_case(key))
            .and_then(|k| k.values.iter().find(|v| v.name == name))
            .map(|v| (v.kind, v.data.clone()))
    };
    assert_eq!(value(app, "Theme"), None, "{keys:?}");
    assert_eq!(value(app, "Server"), Some((1, utf16z("source server"))));
    assert_eq!(
        value(app, "Mode"),
        Some((4, 0x12u32.to_le_bytes().to_vec()))
    );
    assert_eq!(
        value(r"HKEY_CURRENT_USER\Software\NewApp", "Path"),
        Some((1, utf16z("moved value")))
    );
    assert_eq!(value(&format!(r"{app}\Moved"), "Path"), None);
    // NeverRestore: stored, not applied.
    assert_eq!(value(app, "Secret"), None);
    assert!(!shared.join("cache.bin").exists());
    assert_eq!(v["report"]["users"][0]["settings"]["filtered"], 1, "{v}");
    let cache = v["report"]["users"][0]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["from"].as_str().is_some_and(|f| f.ends_with("cache.bin")))
        .expect("cache.bin in the report");
    assert_eq!(cache["why"]["reason"], "never-restore", "{cache}");
    let settings = &v["report"]["users"][0]["settings"];
    assert_eq!(settings["kept"], 1, "{settings}");
    assert_eq!(settings["moved"], 1, "{settings}");
    assert_eq!(settings["modified"], 1, "{settings}");
}

/// Microsoft's shipped MigApp.xml (used in place): QuickTime 7 installed on the old machine
/// makes its component detected; its per-user data moves with
/// `RelativeMove('%QuickTimeDataUser2%','%QuickTimeDataUser2%')` (a variable of the
/// component: the old place as the capture expanded it, carried into the new user's Local
/// AppData) and collides under `SourcePriority()`: ann's file replaces bob's, no `(1)` copy.
#[test]
fn shipped_migapp_quicktime_moves_and_source_priority() {
    let Some(migapp) = fixtures::realdata("usmt/ms-shipped/usmt__MigApp.xml") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("old-c");
    let qt = c.join("Program Files (x86)/QuickTime");
    std::fs::create_dir_all(&qt).unwrap();
    std::fs::write(
        qt.join("QuickTimePlayer.exe"),
        fixtures::pe::pe_with_version(
            fixtures::pe::I386,
            &fixtures::pe::VersionSpec::new("7.6.0.0")
                .with_string("ProductVersion", "QuickTime 7.6"),
        ),
    )
    .unwrap();
    let prefs = r"AppData\Local\Apple Computer\QuickTime\QuickTime.qtp";
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![(prefs.into(), b"ann's QuickTime".to_vec())];
    let mut old = WindowsSpec::win10("OLDPC");
    old.software_extra.push((
        r"WOW6432Node\Microsoft\Windows\CurrentVersion\App Paths\QuickTimePlayer.exe".into(),
        String::new(),
        r"C:\Program Files (x86)\QuickTime\QuickTimePlayer.exe".into(),
    ));
    old.users = vec![ann];
    old.write_volume(&c);
    let stores = dir.path().join("stores");
    std::fs::create_dir_all(&stores).unwrap();
    let (code, out, err) = lifeboat(&[
        "capture",
        "--windir",
        s(&c.join("Windows")),
        "--dest",
        s(&stores),
        "--profile",
        s(&migapp),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let store = store_in(&stores);
    let manifest: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(store.join("manifest.yaml")).unwrap())
            .unwrap();
    let entries = manifest["users"][0]["restore"]
        .as_sequence()
        .expect("users[0].restore");
    let moved = entries
        .iter()
        .find(|e| {
            e["script"]["args"][0].as_str() == Some("%QuickTimeDataUser2%")
                && e["component"]
                    .as_str()
                    .is_some_and(|c| c.contains("QuickTime"))
        })
        .unwrap_or_else(|| panic!("QuickTime's RelativeMove not recorded: {entries:?}"));
    assert_eq!(
        moved["source_args"][0].as_str(),
        Some(r"C:\Users\ann\AppData\Local\Apple Computer\QuickTime")
    );

    let t = dir.path().join("new");
    std::fs::create_dir_all(&t).unwrap();
    let mut bob = UserSpec::local(1001, "bob");
    bob.files = vec![(prefs.into(), b"bob's QuickTime".to_vec())];
    let mut new = WindowsSpec::win11("NEWPC");
    new.users = vec![bob];
    new.write_volume(&t);
    let (code, v, err) = restore(&store, &t, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let there = t.join("Users/bob/AppData/Local/Apple Computer/QuickTime");
    assert_eq!(
        std::fs::read(there.join("QuickTime.qtp")).unwrap(),
        b"ann's QuickTime",
        "{v}"
    );
    assert!(!there.join("QuickTime (1).qtp").exists());
    let not_applied = v["report"]["users"][0]["helpers_not_applied"].to_string();
    assert!(!not_applied.contains("QuickTimeDataUser2"), "{not_applied}");
}
