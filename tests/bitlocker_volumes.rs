//! A BitLocker-locked Windows volume, end to end: detect names it locked with its method,
//! protectors and recovery key ID; with a recovery password, a password or a `.BEK` file
//! detect and capture read it as they read the plain volume; a wrong key gives a clear
//! error, a non-zero code and no store; and no key appears in any output or file. The
//! volumes are mkntfs volumes holding a generated Windows, encrypted by the fixture writer
//! (tests/support/bitlocker.rs), whose output dislocker, cryptsetup and libbde open
//! (tests/bitlocker.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::bitlocker::{bek_file, encrypt_file, Method, Protector, Spec};
use fixtures::ntfs;
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, tree_fingerprint};
use serde_json::Value;

const PASSWORD: &str = "Kl€in-Gärtner 1998!";

struct Fixture {
    dir: tempfile::TempDir,
    plain: PathBuf,
    locked: PathBuf,
    recovery: String,
    bek: PathBuf,
}

fn fixture(method: Method, sector: u32) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win11("LOCKED-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files
        .push((r"Documents\thesis.docx".into(), fixtures::noise(200_000, 4)));
    spec.users = vec![ann];
    let plain = ntfs::windows_volume(dir.path(), &spec);
    let Protector::RecoveryPassword(recovery) = Protector::recovery_password(7) else {
        unreachable!()
    };
    let startup = Protector::startup_key(7);
    let Protector::StartupKey { id, key } = startup.clone() else {
        unreachable!()
    };
    let bek = dir.path().join("B3411A58-key.BEK");
    std::fs::write(&bek, bek_file(&id, &key, true)).unwrap();
    let locked = dir.path().join("locked.img");
    let spec = Spec::new(method, sector)
        .protect(Protector::RecoveryPassword(recovery.clone()))
        .protect(Protector::Password(PASSWORD.into()))
        .protect(startup);
    encrypt_file(&plain, &locked, &spec).unwrap();
    Fixture {
        dir,
        plain,
        locked,
        recovery,
        bek,
    }
}

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

fn detect(root: &Path, keys: &[&str]) -> (i32, Value, String) {
    let (code, out, err) =
        lifeboat(&[&["detect", "--json", root.to_str().unwrap()], keys].concat());
    (
        code,
        serde_json::from_str(&out).unwrap_or(Value::Null),
        out + &err,
    )
}

/// Every text a key could leak into: the recovery password's groups, the password.
fn assert_no_secret(f: &Fixture, text: &str, what: &str) {
    for group in f.recovery.split('-') {
        assert!(
            !text.contains(group),
            "{what} shows a recovery-password group"
        );
    }
    assert!(!text.contains(PASSWORD), "{what} shows the password");
}

#[test]
fn a_locked_volume_is_named_with_its_key_id_and_read_with_each_key() {
    let f = fixture(Method::XtsAes128, 512);
    let before = tree_fingerprint(&f.locked);
    let (code, v, all) = detect(&f.locked, &[]);
    assert_eq!(code, 26, "{all}");
    let s = &v["scanned"][0];
    assert_eq!(s["state"], "locked", "{all}");
    let enc = &s["encryption"];
    assert_eq!(enc["kind"], "bitlocker");
    assert_eq!(enc["method"], "XTS-AES 128-bit");
    assert_eq!(enc["unlocked"], false);
    let recovery = enc["protectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "recovery-password")
        .unwrap_or_else(|| panic!("{enc}"));
    let short = recovery["short_id"].as_str().unwrap();
    assert_eq!(short.len(), 8);
    assert!(recovery["id"].as_str().unwrap().starts_with(short));
    let problem = v["problems"][0].to_string();
    assert!(problem.contains(short), "the key ID to look up: {problem}");
    // The human report shows it as Windows' recovery screen does.
    let (_, text, err) = lifeboat(&["detect", f.locked.to_str().unwrap()]);
    assert!(
        text.contains(&format!("Recovery key ID: {short}")),
        "{text}{err}"
    );

    let (code, want, all) = detect(&f.plain, &[]);
    assert_eq!(code, 0, "{all}");
    let bek = f.bek.to_str().unwrap();
    for keys in [
        vec!["--recovery-password", f.recovery.as_str()],
        vec!["--startup-key", bek],
    ] {
        let (code, v, all) = detect(&f.locked, &keys);
        assert_eq!(code, 0, "{keys:?}: {all}");
        assert_no_secret(&f, &all, "detect");
        assert_eq!(v["scanned"][0]["encryption"]["unlocked"], true);
        let (a, b) = (&v["installations"][0], &want["installations"][0]);
        for field in ["computer_name", "build", "users", "applications"] {
            let strip = |x: &Value| {
                let mut x = x.clone();
                if let Some(users) = x.as_array_mut() {
                    for u in users {
                        u["profile_path"] = Value::Null;
                    }
                }
                x
            };
            assert_eq!(strip(&a[field]), strip(&b[field]), "{keys:?}: {field}");
        }
    }
    // The password, read from standard input when it is not a terminal.
    let out = Command::new(lifeboat_bin())
        .args(["detect", "--json", "--bitlocker-password"])
        .arg(&f.locked)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_no_secret(&f, &all, "detect --bitlocker-password");
    assert_eq!(
        tree_fingerprint(&f.locked),
        before,
        "the volume was written"
    );
}

#[test]
fn a_capture_of_the_locked_volume_holds_what_the_plain_one_holds_and_no_key() {
    let f = fixture(Method::AesCbc256Diffuser, 4096);
    let capture = |root: &Path, dest: &str, keys: &[&str]| {
        let dest = f.dir.path().join(dest);
        std::fs::create_dir_all(&dest).unwrap();
        let log = dest.with_extension("log");
        let list = dest.with_extension("list");
        let (code, out, err) = lifeboat(
            &[
                &[
                    "capture",
                    root.to_str().unwrap(),
                    "--dest",
                    dest.to_str().unwrap(),
                    "--log",
                    log.to_str().unwrap(),
                    "--list-files",
                    list.to_str().unwrap(),
                ],
                keys,
            ]
            .concat(),
        );
        (code, out + &err, dest)
    };
    let (code, all, plain_dest) = capture(&f.plain, "plain", &[]);
    assert_eq!(code, 0, "{all}");
    let (code, all, locked_dest) =
        capture(&f.locked, "locked", &["--recovery-password", &f.recovery]);
    assert_eq!(code, 0, "{all}");
    assert_no_secret(&f, &all, "capture's output");
    let (a, b) = (
        fixtures::store_in(&plain_dest),
        fixtures::store_in(&locked_dest),
    );
    let listing = |store: &Path| {
        let (code, out, err) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(listing(&a), listing(&b));
    let (code, _, err) = run(Command::new("wimverify").arg(b.join("files.wim")));
    assert_eq!(code, 0, "{err}");
    // Nothing the capture wrote holds a key: the store, its log, the file list.
    for entry in walk(f.dir.path()) {
        let name = entry.to_string_lossy();
        if name.ends_with(".img") || name.contains("windows-fill") {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert_no_secret(&f, &String::from_utf8_lossy(&bytes), &name);
    }

    // A wrong key: a clear error, a non-zero code, and no store.
    let mut wrong = f.recovery.clone();
    let last = wrong.len() - 6;
    wrong.replace_range(last.., "000000");
    let (code, all, dest) = capture(&f.locked, "wrong", &["--recovery-password", &wrong]);
    assert_ne!(code, 0, "{all}");
    assert!(all.contains("wrong key or damaged volume"), "{all}");
    assert!(!all.contains("000000"), "the wrong key is echoed: {all}");
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "a store was left"
    );
    // A mistyped group is named before anything is read.
    let mut typo = f.recovery.clone();
    typo.replace_range(0..1, "9");
    let (code, all, _) = capture(&f.locked, "typo", &["--recovery-password", &typo]);
    assert_eq!(code, 11, "{all}");
    assert!(all.contains("group 1"), "{all}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The boot flow asks for the recovery key: the volume's key ID shown as Windows shows it,
/// the key typed group by group, a mistyped group named and typed again; then the capture
/// goes on, and the key is in nothing it wrote.
#[test]
fn auto_asks_for_the_recovery_key_by_its_id_and_checks_each_group() {
    let f = fixture(Method::XtsAes256, 512);
    // The destination is found as auto finds a stick: a mounted volume with a marker file.
    let stick = Stick::mount(&f.dir.path().join("stick"));
    let share = stick.0.clone();
    std::fs::write(share.join("LIFEBOAT-STORE.txt"), "").unwrap();
    let cfg = f.dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "destinations:\n  - marker-file: LIFEBOAT-STORE.txt\nprofiles: [user]\n",
    )
    .unwrap();
    let groups: Vec<&str> = f.recovery.split('-').collect();
    // Two groups, then a third that does not divide by 11, then the rest in one line.
    let bad = (0..1000)
        .map(|i| format!("{:06}", 123_456 + i))
        .find(|g| g.parse::<u32>().unwrap() % 11 != 0)
        .unwrap();
    let typed = format!(
        "{}-{}\n{bad}\n{}\n\n",
        groups[0],
        groups[1],
        groups[2..].join("-")
    );
    let out = Command::new(lifeboat_bin())
        .args(["auto", "--config"])
        .arg(&cfg)
        .arg(&f.locked)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(typed.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let all = String::from_utf8_lossy(&out.stdout).to_string() + &err;
    assert_eq!(out.status.code(), Some(0), "{all}");
    let short = recovery_key_short_id(&f.locked);
    assert!(err.contains(&format!("Recovery key ID: {short}")), "{err}");
    assert!(
        err.contains("group 3"),
        "the mistyped group is named: {err}"
    );
    assert!(err.contains("STORE COMPLETE AND VERIFIED"), "{err}");
    assert_no_secret(&f, &all, "auto's console");
    let store = std::fs::read_dir(&share)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("manifest.yaml").exists())
        .expect("a store on the share");
    let (code, list, e) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
    assert_eq!(code, 0, "{e}");
    assert!(list.contains("thesis.docx"), "{list}");
    for entry in walk(&store) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert_no_secret(
            &f,
            &String::from_utf8_lossy(&bytes),
            &entry.to_string_lossy(),
        );
    }
}

/// A stick, as a loop-mounted ext2 image (the kernels CI runs on may lack vfat) for the length of a test (the tests run as root,
/// as CI does): auto looks for its destination among the mounted devices.
struct Stick(PathBuf);

impl Stick {
    fn mount(at: &Path) -> Stick {
        std::fs::create_dir_all(at).unwrap();
        let img = at.with_extension("img");
        let (code, _, err) = run(Command::new("mke2fs")
            .args(["-q", "-F", "-L", "STICK"])
            .arg(&img)
            .arg("64M"));
        assert_eq!(code, 0, "mke2fs (Debian e2fsprogs): {err}");
        let (code, _, err) = run(Command::new("mount").args(["-o", "loop"]).arg(&img).arg(at));
        assert_eq!(code, 0, "mount a loop device (tests run as root): {err}");
        Stick(at.to_path_buf())
    }
}

impl Drop for Stick {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// ScanState's command line on a locked volume: without a key it names the recovery key ID
/// and stops with no store; with Lifeboat's own `/bitlockerKeys:FILE` (recovery passwords
/// in a file: a task sequence logs its command lines) or `/bitlockerStartupKey:FILE.BEK`
/// it captures what the plain volume holds, and the key is in nothing it wrote.
#[test]
fn scanstate_takes_bitlocker_keys_from_files() {
    let f = fixture(Method::AesCbc128, 512);
    let scanstate = |store: &Path, extra: &[&str]| {
        lifeboat(
            &[
                &[
                    "scanstate",
                    store.to_str().unwrap(),
                    &format!("/offlineWinDir:{}", f.locked.display()),
                    "/o",
                    "/c",
                ],
                extra,
            ]
            .concat(),
        )
    };
    let (code, out, err) = scanstate(&f.dir.path().join("none"), &[]);
    assert_ne!(code, 0, "{out}{err}");
    let short = recovery_key_short_id(&f.locked);
    assert!((out.clone() + &err).contains(&short), "{out}{err}");
    assert!(!f.dir.path().join("none/manifest.yaml").exists());

    let keys = f.dir.path().join("keys.txt");
    std::fs::write(&keys, format!("# batch\n{}\n", f.recovery)).unwrap();
    let bek = f.bek.to_str().unwrap().to_string();
    for (name, extra) in [
        ("by-file", format!("/bitlockerKeys:{}", keys.display())),
        ("by-bek", format!("/bitlockerStartupKey:{bek}")),
    ] {
        let store = f.dir.path().join(name);
        let (code, out, err) = scanstate(&store, &[&extra]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert_no_secret(&f, &(out + &err), name);
        let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
        assert!(manifest.contains("LOCKED-PC"), "{manifest}");
        let (code, list, e) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
        assert_eq!(code, 0, "{e}");
        assert!(list.contains("thesis.docx"), "{name}: {list}");
        for entry in walk(&store) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            assert_no_secret(
                &f,
                &String::from_utf8_lossy(&bytes),
                &entry.to_string_lossy(),
            );
        }
    }
    // A keys file with a mistyped group: a bad command line, the group named, no key shown.
    std::fs::write(&keys, f.recovery.replacen(&f.recovery[..1], "9", 1)).unwrap();
    let (code, out, err) = scanstate(
        &f.dir.path().join("typo"),
        &[&format!("/bitlockerKeys:{}", keys.display())],
    );
    assert_eq!(code, 11, "{out}{err}");
    assert!((out.clone() + &err).contains("group 1"), "{out}{err}");
    assert_no_secret(&f, &(out + &err), "a bad keys file");
}

/// The recovery key ID detect shows for a locked volume, as Windows shows it (8 characters).
fn recovery_key_short_id(locked: &Path) -> String {
    let (_, v, _) = detect(locked, &[]);
    v["scanned"][0]["encryption"]["protectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "recovery-password")
        .and_then(|p| p["short_id"].as_str())
        .unwrap()
        .to_string()
}
