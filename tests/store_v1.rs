//! A store written by the agent of December 2026 (`tests/fixtures/store-v1/`, format 1; its
//! README says how) still reads: it verifies, restores (`--dry-run`, then into a generated
//! new Windows) and extracts with today's agent. What it must hold is named from the old
//! machine's description (`fixtures::store_v1`), never from what an agent wrote; wimlib's
//! `wimverify` vouches for the WIM kept in the repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::migration::{old_time, utf16z, walk};
use fixtures::store_v1::{ANN_DOCUMENTS, FILES, LINK, MACHINE_SETTING, SETTINGS};
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, tree_fingerprint, workspace_root};

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of the kept store in `dir` (nothing may write to the repository's copy).
fn store_copy(dir: &Path) -> PathBuf {
    let kept = workspace_root().join("tests/fixtures/store-v1");
    let store = dir.join("OLDPC");
    for f in walk(&kept) {
        let to = store.join(f.strip_prefix(&kept).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, to).unwrap();
    }
    store
}

/// The new machine: Windows 11 with ann and bob freshly signed in; ann already has an
/// OldApp `keep.ini` of her own (which `DestinationPriority()` keeps).
fn new_machine(dir: &Path) -> PathBuf {
    let t = dir.join("new");
    std::fs::create_dir_all(&t).unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![(
        r"AppData\Roaming\Shared\keep.ini".into(),
        b"new keep".to_vec(),
    )];
    let mut bob = UserSpec::local(1002, "bob");
    bob.files = Vec::new();
    let mut spec = WindowsSpec::win11("NEWPC");
    spec.users = vec![ann, bob];
    spec.write_volume(&t);
    t
}

/// Where each source file lands on the new machine (Windows' default layout there; ann's
/// Documents came from D:, OldApp moves to NewApp), with its bytes.
fn expected() -> Vec<(String, &'static [u8])> {
    let mut want: Vec<(String, &[u8])> = FILES
        .iter()
        .filter(|(who, rel, _)| *who != "carol" && !rel.ends_with("keep.ini"))
        .map(|(who, rel, data)| {
            (
                format!("Users/{who}/{}", rel.replace('\\', "/")).replace("/OldApp/", "/NewApp/"),
                *data,
            )
        })
        .collect();
    want.extend(ANN_DOCUMENTS.iter().map(|(rel, data)| {
        (
            format!("Users/ann/Documents/{}", rel.replace('\\', "/")),
            *data,
        )
    }));
    want
}

#[test]
fn the_kept_store_is_what_wimlib_and_our_verify_accept() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path());
    let (code, out, err) = run(Command::new("wimverify").arg(store.join("files.wim")));
    assert_eq!(code, 0, "wimverify: {out}{err}");
    let (code, out, err) = lifeboat(&["verify", s(&store)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("10 files, 126 bytes"), "{out}");
}

#[test]
fn dry_run_then_restore_into_a_new_windows() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path());
    let t = new_machine(dir.path());
    let before = tree_fingerprint(&t);

    let list = dir.path().join("list.txt");
    let (code, out, err) = lifeboat(&[
        "restore",
        s(&store),
        "--offline-root",
        s(&t),
        "--dry-run",
        "--list-files",
        s(&list),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("DRY RUN - NOTHING WAS WRITTEN"), "{out}");
    assert_eq!(before, tree_fingerprint(&t), "the dry run wrote");
    let listed = std::fs::read_to_string(&list).unwrap();
    for (what, from, to) in [
        (
            "restored",
            r"D:\Docs\ann\thesis.odt",
            "ann/Documents/thesis.odt",
        ),
        (
            "restored",
            r"C:\Users\ann\AppData\Roaming\OldApp\prefs.xml",
            "ann/AppData/Roaming/NewApp/prefs.xml",
        ),
        (
            "kept",
            r"C:\Users\ann\AppData\Roaming\Shared\keep.ini",
            "ann/AppData/Roaming/Shared/keep.ini",
        ),
        (
            "restored",
            r"C:\Users\bob\Pictures\family.jpg",
            "bob/Pictures/family.jpg",
        ),
    ] {
        let line = format!("{from} -> {}", t.join("Users").join(to).display());
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(what) && l.ends_with(&line)),
            "{what} {line} not in\n{listed}"
        );
    }

    let (code, out, err) = lifeboat(&["restore", s(&store), "--offline-root", s(&t), "--json"]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(code, 0, "{v}\n{err}");
    for (rel, data) in expected() {
        let p = t.join(&rel);
        assert_eq!(std::fs::read(&p).ok().as_deref(), Some(data), "{rel}: {v}");
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            old_time(),
            "time of {rel}"
        );
    }
    // DestinationPriority (recorded for ann's Shared\keep.ini) keeps the new machine's copy.
    let shared = t.join("Users/ann/AppData/Roaming/Shared");
    assert_eq!(std::fs::read(shared.join("keep.ini")).unwrap(), b"new keep");
    assert!(!shared.join("keep (1).ini").exists(), "{v}");
    // The link was never in the store; carol was left out at capture.
    assert!(!t.join("Users/ann/Documents").join(LINK).exists());
    assert!(!t.join("Users/carol").exists());
    // NewestVersion was recorded, and is reported as not applied.
    let users = v["report"]["users"].as_array().unwrap();
    let ann = users
        .iter()
        .find(|u| u["source"].as_str().is_some_and(|n| n.ends_with("ann")))
        .unwrap_or_else(|| panic!("no ann in {v}"));
    assert_eq!(
        ann["helpers_not_applied"][0]["helper"], r#"NewestVersion("FileVersion")"#,
        "{ann}"
    );

    // Settings, left offline as a .reg in each profile, hold each user's own values; the
    // path to ann's thesis follows it from D: into her new Documents.
    for (who, key, value, text) in SETTINGS {
        let text = &text.replace(r"D:\Docs\ann", r"C:\Users\ann\Documents");
        let reg = std::fs::read(t.join(format!("Users/{who}/Lifeboat settings.reg"))).unwrap();
        let keys =
            lifeboat::store::regread::parse(&lifeboat::store::regread::decode(&reg).unwrap())
                .unwrap();
        let path = format!(r"HKEY_CURRENT_USER\{key}");
        let got = keys
            .iter()
            .find(|k| k.path.eq_ignore_ascii_case(&path))
            .and_then(|k| k.values.iter().find(|v| v.name == *value))
            .map(|v| v.data.clone());
        assert_eq!(got, Some(utf16z(text)), "{who} {key} {value}");
    }
}

#[test]
fn extract_gives_each_users_files_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_copy(dir.path());
    let out_dir = dir.path().join("out");
    let (code, out, err) = lifeboat(&["extract", s(&store), s(&out_dir)]);
    assert_eq!(code, 0, "{out}{err}");
    let got: Vec<PathBuf> = walk(&out_dir);
    for (who, rel, data) in FILES.iter().filter(|(who, ..)| *who != "carol") {
        let name = rel.rsplit('\\').next().unwrap();
        let found = got
            .iter()
            .filter(|p| s(p).contains(who) && p.ends_with(name))
            .collect::<Vec<_>>();
        assert_eq!(found.len(), 1, "{who} {rel}: {got:?}");
        assert_eq!(std::fs::read(found[0]).unwrap(), *data, "{rel}");
    }
    for (rel, data) in ANN_DOCUMENTS {
        let name = rel.rsplit('\\').next().unwrap();
        let found = got.iter().find(|p| p.ends_with(name)).unwrap();
        assert_eq!(std::fs::read(found).unwrap(), *data, "{rel}");
    }
    assert!(got.iter().all(|p| !s(p).contains("carol")), "{got:?}");
}

#[test]
fn the_manifest_reads_into_todays_records() {
    use lifeboat::store::schema::{LeaveKind, SkipKind};
    let dir = tempfile::tempdir().unwrap();
    let store = lifeboat::store::StoreReader::open(&store_copy(dir.path())).unwrap();
    let m = store.manifest();
    assert_eq!(m.lifeboat_store, 1);
    assert!(m.complete);
    assert_eq!(m.source.computer_name.as_deref(), Some("OLDPC"));
    assert_eq!(m.source.build, Some(19045));
    let names: Vec<&str> = m.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, [r"OLDPC\ann", r"OLDPC\bob"]);
    let ann = &m.users[0];
    assert_eq!(ann.skipped.len(), 1);
    assert_eq!(ann.skipped[0].kind, SkipKind::Link);
    assert!(ann.skipped[0].path.ends_with(LINK), "{:?}", ann.skipped);
    let folders = ann.folders.as_ref().unwrap();
    assert_eq!(folders.profile, r"C:\Users\ann");
    assert_eq!(folders.known["Personal"], r"D:\Docs\ann");
    assert_eq!(folders.known["My Pictures"], r"C:\Users\ann\Pictures");
    let helpers: Vec<&str> = ann
        .restore
        .iter()
        .filter_map(|e| e.script.as_ref().map(|c| c.name.as_str()))
        .collect();
    assert_eq!(
        helpers,
        ["RelativeMove", "DestinationPriority", "NewestVersion"]
    );
    assert!(ann.components.iter().any(|c| c.component == "Old App"));
    let carol = m
        .users_left
        .iter()
        .find(|u| u.name.ends_with("carol"))
        .unwrap();
    assert_eq!(carol.kind, LeaveKind::Excluded);
    let machine = m.machine.as_ref().expect("the machine record");
    assert_eq!(machine.registry_values, 1);
    let pc = m.profile_control.as_ref().expect("<ProfileControl>");
    assert_eq!(
        pc.domains,
        [("OLDDOMAIN".to_string(), "NEWDOMAIN".to_string())]
    );
    assert_eq!(pc.change_groups[0].from, "Administrators");
    let (key, value, _) = MACHINE_SETTING;
    assert_eq!((key, value), (r"Contoso\Agent", "Server"));
}

/// The kept manifest as a YAML tree.
fn kept_manifest() -> serde_norway::Value {
    let text =
        std::fs::read_to_string(workspace_root().join("tests/fixtures/store-v1/manifest.yaml"))
            .unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// Every field `old` has is in `new` with the same value (`new` may have more: fields are
/// only ever added); the differences, each with its path.
fn missing_or_changed(
    old: &serde_norway::Value,
    new: &serde_norway::Value,
    at: &str,
) -> Vec<String> {
    use serde_norway::Value;
    match (old, new) {
        (Value::Mapping(o), Value::Mapping(n)) => o
            .iter()
            .flat_map(|(k, v)| {
                let key = k.as_str().unwrap_or("?");
                let at = format!("{at}.{key}");
                match n.get(k) {
                    Some(nv) => missing_or_changed(v, nv, &at),
                    None => vec![format!("{at}: missing")],
                }
            })
            .collect(),
        (Value::Sequence(o), Value::Sequence(n)) if o.len() == n.len() => o
            .iter()
            .zip(n)
            .enumerate()
            .flat_map(|(i, (a, b))| missing_or_changed(a, b, &format!("{at}[{i}]")))
            .collect(),
        _ if old == new => Vec::new(),
        _ => vec![format!("{at}: {old:?} became {new:?}")],
    }
}

#[test]
fn reading_and_writing_the_manifest_keeps_every_field() {
    let kept = kept_manifest();
    let text = serde_norway::to_string(&kept).unwrap();
    let m = lifeboat::store::manifest::Manifest::from_yaml(&text).unwrap();
    let again: serde_norway::Value = serde_norway::from_str(&m.to_yaml().unwrap()).unwrap();
    let diff = missing_or_changed(&kept, &again, "");
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

/// Today's capture of the same machine writes every field the kept store has, with the same
/// value (times, the command line and where the machine lay aside): the format moved on by
/// additions only.
#[test]
fn todays_capture_of_the_same_machine_writes_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("machine");
    let m = fixtures::store_v1::write_machine(&machine);
    let store = dir.path().join("OLDPC");
    let (code, out, err) = run(Command::new(lifeboat_bin()).current_dir(dir.path()).args([
        "scanstate",
        s(&store),
        &format!("/offline:{}", s(&m.offline_xml)),
        &format!("/i:{}", s(&m.rules)),
        &format!("/config:{}", s(&m.config)),
        r"/ue:*\carol",
        "/o",
        "/c",
        "/nocompress",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(store.join("manifest.yaml"))
        .unwrap()
        .replace(s(&machine), "/tmp/store-v1/machine");
    let mut new: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let mut kept = kept_manifest();
    for v in [&mut new, &mut kept] {
        for volatile in ["started", "finished", "command_line"] {
            v[volatile] = serde_norway::Value::Null;
        }
    }
    let diff = missing_or_changed(&kept, &new, "");
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}
