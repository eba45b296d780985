//! Restoring a store nobody can vouch for (issue 16): a genuine capture changed by a
//! hostile hand and sealed again ([`fixtures::forge`]) so that it verifies (`lifeboat
//! verify` and wimlib's own `wimverify` both say so), then restored into a generated new
//! Windows. What the restore does with the contents is checked on the target's files, the
//! settings file it leaves, its report and every byte it prints:
//!
//! 1. hives and their logs are never written, whatever the policy or a helper says;
//! 2. degenerate old folders in the manifest do not make the path rewriting loop;
//! 3. registry key paths are normalised before the HKCU and never-travel filters, keys
//!    reached through a recorded move too;
//! 4. a secret given to loadstate or scanstate is never echoed;
//! 5. names Lifeboat writes itself are reserved;
//! 6. a target disk that is full, or fills during the restore, is exit 72 naming the disk;
//! 7. names Windows cannot use are refused and reported;
//! 8. control characters from a store (or an old disk) never reach the output raw.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fixtures::forge::Forge;
use fixtures::migration::{new_machine, old_machine_store, walk};
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, store_in, tree_fingerprint};
use lifeboat::store::schema::RestoreKind;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

/// Seals `f` and checks that the forged store verifies, by Lifeboat and by wimlib.
fn sealed(f: &mut Forge) -> PathBuf {
    let store = f.seal();
    let (code, out, err) = lifeboat(&["verify", s(&store)]);
    assert_eq!(code, 0, "the forged store must verify: {out}{err}");
    let (code, out, err) = run(Command::new("wimverify").arg(store.join("files.wim")));
    assert_eq!(code, 0, "wimverify: {out}{err}");
    store
}

/// `restore STORE --offline-root T --user ann=bob --json EXTRA…`: code, report, stderr.
fn restore_json(store: &Path, t: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec![
        "restore",
        s(store),
        "--offline-root",
        s(t),
        "--user",
        "ann=bob",
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = lifeboat(&args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v, err)
}

/// The report's outcome for the file that was at `from` (a Windows path of the old
/// machine, or the raw image path of a refused one).
fn outcome<'a>(v: &'a serde_json::Value, from: &str) -> &'a serde_json::Value {
    v["report"]["users"][0]["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["from"].as_str() == Some(from))
        .unwrap_or_else(|| panic!("{from} not in the report: {v}"))
}

fn counts(v: &serde_json::Value) -> &serde_json::Value {
    &v["report"]["users"][0]["files"]
}

/// Every file name (lower case) below `dir`.
fn names_below(dir: &Path) -> Vec<String> {
    walk(dir)
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_lowercase())
        .collect()
}

/// A `.reg` file's text, read without Lifeboat (UTF-16LE with a byte-order mark).
fn reg_text(path: &Path) -> String {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..2], &[0xFF, 0xFE], "{}", path.display());
    let units: Vec<u16> = b[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

/// The `[KEY]` lines of a `.reg` text as Windows would open them: backslashes collapsed,
/// lower case.
fn reg_keys(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('['))
        .filter_map(|l| l.strip_suffix(']'))
        .map(|k| {
            k.split('\\')
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join("\\")
                .to_lowercase()
        })
        .collect()
}

const HIVES: [&str; 8] = [
    r"C\Users\ann\NTUSER.DAT",
    r"C\Users\ann\ntuser.dat.LOG1",
    r"C\Users\ann\NTUSER.DAT.log2",
    r"C\Users\ann\ntuser.man",
    r"C\Users\ann\NTUSER.DAT{016888bd-6c6f-11de-8d1d-001e0bcde3ec}.TM.blf",
    r"C\Users\ann\AppData\Local\Microsoft\Windows\UsrClass.dat",
    r"C\Users\ann\AppData\Local\Microsoft\Windows\UsrClass.dat.LOG1",
    r"C\Users\ann\NTUSER~1.LOG",
];

/// Finding 1: the store holds hive files and their logs and asks, through recorded MigXML
/// helpers, for them to win over the new user's (SourcePriority) and for an innocent file
/// to become NTUSER.DAT (ExactMove). Under every conflict policy the new user's hive stays
/// byte for byte, no hive-named file appears, and each is reported as refused.
#[test]
fn hives_and_their_logs_are_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let mut f = Forge::copy(&store, &dir.path().join("forged"));
    for h in HIVES {
        f.add_file(0, h, b"regf: not the new user's hive");
    }
    f.helper(
        0,
        RestoreKind::Merge,
        "SourcePriority",
        &[],
        &[r"C:\Users\ann\ [NTUSER.DAT]", r"C:\Users\ann\* [*]"],
    )
    .helper(
        0,
        RestoreKind::LocationModify,
        "ExactMove",
        &[r"%USERPROFILE% [NTUSER.DAT]"],
        &[r"C:\Users\ann\Desktop [todo.txt]"],
    );
    let forged = sealed(&mut f);
    for policy in ["rename", "overwrite", "newer", "keep"] {
        let t = new_machine(dir.path(), &format!("new-{policy}"));
        let bob = t.join("Users/bob");
        let hive_before = std::fs::read(bob.join("NTUSER.DAT")).unwrap();
        let hive_names = |d: &Path| {
            names_below(d)
                .into_iter()
                .filter(|n| n.starts_with("ntuser") || n.starts_with("usrclass"))
                .collect::<Vec<_>>()
        };
        let before = hive_names(&bob);
        let (code, v, err) = restore_json(&forged, &t, &["--on-conflict", policy]);
        assert_eq!(code, 0, "{policy}: {v}\n{err}");
        assert!(
            std::fs::read(bob.join("NTUSER.DAT")).unwrap() == hive_before,
            "{policy}: the new user's hive was written"
        );
        assert_eq!(
            hive_names(&bob),
            before,
            "{policy}: a hive-named file appeared"
        );
        for h in HIVES {
            let o = outcome(&v, &h.replacen('\\', ":\\", 1));
            assert_eq!(o["action"], "skipped", "{policy} {h}: {o}");
            assert_eq!(o["why"]["reason"], "refused", "{policy} {h}: {o}");
        }
        let moved = outcome(&v, r"C:\Users\ann\Desktop\todo.txt");
        assert_eq!(moved["why"]["detail"], "hive", "{policy}: {moved}");
        // The genuine files still come: 7, less todo.txt which the move sent to NTUSER.DAT.
        let c = counts(&v);
        let placed = ["restored", "renamed", "overwritten", "unchanged", "kept"]
            .iter()
            .map(|k| c[k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(placed, 6, "{policy}: {c}");
        assert_eq!(c["skipped"], HIVES.len() as u64 + 1, "{policy}: {c}");
    }
}

/// Finding 2: a manifest whose old profile (and known folders) is empty, blank or `\`
/// once made the rewriting of settings allocate without end. Each restore now ends at
/// once; with no real old folder nothing is mapped or rewritten.
#[test]
fn degenerate_old_folders_do_not_make_the_rewrite_loop() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    for (i, profile) in ["", " ", r"\", r"C:\", "C:"].iter().enumerate() {
        let mut f = Forge::copy(&store, &dir.path().join(format!("forged-{i}")));
        let folders = f.manifest().users[0].folders.as_mut().expect("folders");
        folders.profile = profile.to_string();
        for v in folders.known.values_mut() {
            *v = profile.to_string();
        }
        let forged = sealed(&mut f);
        let t = new_machine(dir.path(), &format!("new-{i}"));
        let start = Instant::now();
        let (code, out, err) = run(Command::new("timeout").args([
            "60",
            s(&lifeboat_bin()),
            "restore",
            s(&forged),
            "--offline-root",
            s(&t),
            "--user",
            "ann=bob",
            "--json",
        ]));
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{profile:?}: took {:?}",
            start.elapsed()
        );
        assert_eq!(code, 0, "{profile:?}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(counts(&v)["restored"], 0, "{profile:?}: {v}");
        assert_eq!(
            v["report"]["users"][0]["settings"]["rewritten"], 0,
            "{profile:?}: {v}"
        );
    }
}

const HOSTILE_REG: &str = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\\\User Shell Folders]\r\n\
\"Personal\"=\"\\\\\\\\evil\\\\share\\\\docs\"\r\n\r\n\
[HKEY_CURRENT_USER\\Software\\\\Policies\\Microsoft\\Windows\\System]\r\n\
\"DisableCMD\"=dword:00000001\r\n\r\n\
[hkcu\\SOFTWARE\\policies\\x\\]\r\n\
\"A\"=\"1\"\r\n\r\n\
[HKEY_CURRENT_USER\\\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer]\r\n\
\"NoRun\"=dword:00000001\r\n\r\n\
[\\HKEY_CURRENT_USER\\Software\\Microsoft\\Protect\\\\S-1-5-21-1]\r\n\
\"x\"=hex:01,02\r\n\r\n\
[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n\
\"evil\"=\"c:\\\\evil.exe\"\r\n\r\n\
[HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n\
\"evil\"=\"c:\\\\evil.exe\"\r\n\r\n\
[HKEY_USERS\\S-1-5-18\\Software\\X]\r\n\
\"a\"=\"b\"\r\n\r\n\
[HKEY_CURRENT_USER\\Software\\Innocent\\Moved]\r\n\
\"DisableTaskMgr\"=dword:00000001\r\n\r\n\
[HKEY_CURRENT_USER\\Software\\Innocent\\Folders]\r\n\
\"Desktop\"=\"\\\\\\\\evil\\\\share\"\r\n\r\n\
[HKEY_CURRENT_USER\\Software\\Innocent\\Machine]\r\n\
\"Run\"=\"c:\\\\evil.exe\"\r\n\r\n\
[HKEY_CURRENT_USER\\\\Software\\\\LifeboatTest\\]\r\n\
\"Kept\"=\"yes\"\r\n";

/// Finding 3: key paths spelt to slip past the filters (doubled, leading and trailing
/// backslashes, other case, the short root name) and values moved by recorded
/// `RelativeMove`s into a policy key, the old machine's folder locations and HKLM are
/// all refused; the one ordinary key is applied, under its normalised name.
#[test]
fn key_paths_are_normalised_before_every_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let mut f = Forge::copy(&store, &dir.path().join("forged"));
    f.registry(0, HOSTILE_REG)
        .helper(
            0,
            RestoreKind::LocationModify,
            "RelativeMove",
            &[
                r"HKCU\Software\Innocent\Moved",
                r"HKCU\Software\\Policies\Microsoft\Windows\System",
            ],
            &[r"HKCU\Software\Innocent\Moved\* [*]"],
        )
        .helper(
            0,
            RestoreKind::LocationModify,
            "RelativeMove",
            &[
                r"HKCU\Software\Innocent\Folders",
                r"HKCU\\software\microsoft\windows\currentversion\explorer\\user shell folders\",
            ],
            &[r"HKCU\Software\Innocent\Folders\* [*]"],
        )
        .helper(
            0,
            RestoreKind::LocationModify,
            "RelativeMove",
            &[
                r"HKCU\Software\Innocent\Machine",
                r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
            ],
            &[r"HKCU\Software\Innocent\Machine\* [*]"],
        );
    let forged = sealed(&mut f);
    let t = new_machine(dir.path(), "new");
    let (code, v, err) = restore_json(&forged, &t, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let text = reg_text(&t.join("Users/bob/Lifeboat settings.reg"));
    let keys = reg_keys(&text);
    assert_eq!(
        keys,
        vec![r"hkey_current_user\software\lifeboattest".to_string()],
        "{text}"
    );
    assert!(text.contains("\"Kept\"=\"yes\""), "{text}");
    assert!(!text.to_lowercase().contains("evil"), "{text}");
    let settings = &v["report"]["users"][0]["settings"];
    let whys: Vec<&str> = settings["not_applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["why"].as_str().unwrap())
        .collect();
    for (why, n) in [
        ("shell-folders", 2),
        ("policy", 4),
        ("crypto", 1),
        ("not-user-settings", 4),
    ] {
        assert_eq!(
            whys.iter().filter(|w| **w == why).count(),
            n,
            "{why}: {settings}"
        );
    }
    assert_eq!(settings["applied"], 1, "{settings}");
}

/// Finding 4: a secret given as its own argument (`/lac Pa55`, `/key: S3cret`, …) was
/// taken for a second store path and echoed. No spelling of it reaches stdout, stderr or
/// the `/l` log, under either program name.
#[test]
fn secrets_are_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let st = s(&store);
    let log = dir.path().join("scan.log");
    let l = format!("/l:{}", log.display());
    let loadstate: &[&[&str]] = &[
        &[st, "/lac", "Pa55"],
        &["/lac", "Pa55", st],
        &[st, "/lac:Pa55"],
        &[st, "/lac:", "Pa55"],
        &[st, "/LAC", "-Pa55"],
        &[st, "/lac", "/Pa55"],
        &[st, "/lac", "Pa55", "/lae"],
        &[st, "/key", "Pa55"],
        &[st, "/key:", "Pa55"],
        &[st, "/decrypt", "/key", "Pa55"],
        &[st, "/keyfile:k.txt", "/key:Pa55"],
        &[st, "-key", "-Pa55", "/v:5"],
    ];
    let scanstate: &[&[&str]] = &[
        &[st, "/offlineWinDir:/nonexistent", "/key:", "Pa55", &l],
        &[st, "/offlineWinDir:/nonexistent", "/key", "Pa55", &l],
        &[
            st,
            "/offlineWinDir:/nonexistent",
            "/encrypt",
            "/key:Pa55",
            &l,
        ],
        &[
            st,
            "/offlineWinDir:/nonexistent",
            "/encrypt:AES",
            "/key",
            "/Pa55",
            &l,
        ],
        &[st, "/offlineWinDir:/nonexistent", "/lac", "Pa55", &l],
        &["/genconfig:g.xml", "/key:", "Pa55", &l],
    ];
    // The same binary under USMT's own names, as a task sequence runs it.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["loadstate", "scanstate"] {
        std::os::unix::fs::symlink(lifeboat_bin(), bin.join(name)).unwrap();
    }
    let mut runs = 0;
    for (tool, cases) in [("loadstate", loadstate), ("scanstate", scanstate)] {
        for args in cases {
            for via_name in [false, true] {
                let _ = std::fs::remove_file(&log);
                let mut cmd = if via_name {
                    Command::new(bin.join(tool))
                } else {
                    let mut c = Command::new(lifeboat_bin());
                    c.arg(tool);
                    c
                };
                let (code, out, err) = run(cmd.args(args.iter()));
                assert_eq!(code, 11, "{tool} {args:?}: {out}{err}");
                let logged = std::fs::read_to_string(&log).unwrap_or_default();
                for text in [&out, &err, &logged] {
                    assert!(
                        !text.contains("Pa55"),
                        "{tool} {args:?} echoed the secret: {text}"
                    );
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 36);
    // Lifeboat's own command line: a word after --create-local is no value of it.
    let (code, out, err) = lifeboat(&["restore", st, "--create-local", "Pa55"]);
    assert_eq!(code, 11, "{out}{err}");
    assert!(!out.contains("Pa55") && !err.contains("Pa55"), "{out}{err}");
    assert!(err.contains("--create-local"), "{err}");
}

/// Finding 5: a store's own "Lifeboat settings.reg" (holding an HKLM Run key), a READ ME,
/// a folder of the settings file's name and the staging folder's name are refused and
/// reported, never counted as restored; what the profile then holds under those names is
/// Lifeboat's, or nothing when no setting was applied.
#[test]
fn names_lifeboat_writes_itself_are_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let planted = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n\"evil\"=\"c:\\\\evil.exe\"\r\n";
    let mut planted_bytes = vec![0xFF, 0xFE];
    planted_bytes.extend(planted.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let entries = [
        r"C\Users\ann\Lifeboat settings.reg",
        r"C\Users\ann\LIFEBOAT SETTINGS - READ ME.txt",
        r"C\Users\ann\lifeboat settings.REG\inside.txt",
        r"C\Users\ann\.lifeboat-restore-1\x.txt",
        r"C\Users\ann\Desktop\LIFEBO~1.REG",
    ];
    for all_refused in [true, false] {
        let mut f = Forge::copy(&store, &dir.path().join(format!("forged-{all_refused}")));
        for e in entries {
            f.add_file(0, e, &planted_bytes);
        }
        if all_refused {
            f.registry(0, planted);
        }
        let forged = sealed(&mut f);
        let t = new_machine(dir.path(), &format!("new-{all_refused}"));
        let bob = t.join("Users/bob");
        let (code, v, err) = restore_json(&forged, &t, &[]);
        assert_eq!(code, 0, "{v}\n{err}");
        for e in entries {
            let o = outcome(&v, &e.replacen('\\', ":\\", 1));
            assert_eq!(o["action"], "skipped", "{e}: {o}");
            assert_eq!(o["why"]["reason"], "refused", "{e}: {o}");
        }
        assert_eq!(counts(&v)["restored"], 7, "{v}");
        let lifeboat_named: Vec<String> = walk(&bob)
            .iter()
            .map(|p| {
                p.strip_prefix(&bob)
                    .unwrap()
                    .to_string_lossy()
                    .to_lowercase()
            })
            .filter(|p| p.contains("lifeboat") || p.contains("lifebo~"))
            .collect();
        if all_refused {
            assert!(lifeboat_named.is_empty(), "{lifeboat_named:?}");
            assert_eq!(v["report"]["users"][0]["settings"]["applied"], 0);
        } else {
            let mut want = vec![
                "lifeboat settings - read me.txt".to_string(),
                "lifeboat settings.reg".to_string(),
            ];
            let mut got = lifeboat_named.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want);
            let text = reg_text(&bob.join("Lifeboat settings.reg"));
            assert!(text.contains("LifeboatTest"), "{text}");
            assert!(!text.contains("evil"), "{text}");
        }
    }
}

/// Finding 7: names Windows cannot use (device names with any extension and case, the
/// superscript-digit ports Windows 11 treats as devices, names ending in a dot or a
/// space) are refused with a report, never written; two names that differ only in case
/// do not overwrite each other (the second is renamed).
#[test]
fn names_windows_cannot_use_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let bad = [
        "CON",
        "nul.txt",
        "Com1",
        "AUX.log",
        "LPT9.log",
        "COM¹.txt",
        "lpt³",
        "CONIN$",
        "trailing.",
        "...",
        ".. ",
        "space ",
    ];
    let mut f = Forge::copy(&store, &dir.path().join("forged"));
    for n in bad {
        f.add_file(0, &format!(r"C\Users\ann\Desktop\{n}"), n.as_bytes());
    }
    f.add_file(0, r"C\Users\ann\Desktop\PRN\inside.txt", b"x");
    f.add_file(0, r"C\Users\ann\Desktop\Same.txt", b"first");
    f.add_file(0, r"C\Users\ann\Desktop\SAME.TXT", b"second");
    let forged = sealed(&mut f);
    let t = new_machine(dir.path(), "new");
    let (code, v, err) = restore_json(&forged, &t, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let desk = t.join("Users/bob/Desktop");
    let there = names_below(&desk);
    for n in bad {
        let o = outcome(&v, &format!(r"C:\Users\ann\Desktop\{n}"));
        assert_eq!(o["why"]["reason"], "refused", "{n:?}: {o}");
        assert!(!there.contains(&n.to_lowercase()), "{n:?} was written");
    }
    let o = outcome(&v, r"C:\Users\ann\Desktop\PRN\inside.txt");
    assert_eq!(o["why"]["detail"], "device-name", "{o}");
    assert!(!desk.join("PRN").exists());
    let mut twins: Vec<Vec<u8>> = ["Same.txt", "SAME.TXT", "Same (1).txt", "SAME (1).TXT"]
        .iter()
        .filter_map(|n| std::fs::read(desk.join(n)).ok())
        .collect();
    twins.sort();
    assert_eq!(
        twins,
        vec![b"first".to_vec(), b"second".to_vec()],
        "{there:?}"
    );
}

/// Bytes that must never reach a human-readable output raw: C0 controls other than the
/// line ends Lifeboat writes itself, DEL, C1, and bidirectional overrides.
fn raw_controls(text: &str) -> Vec<char> {
    let t = text.replace("\r\n", "\n");
    t.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Finding 8: names with an escape sequence, a forged "RESTORE COMPLETE" line and a
/// bidirectional override, and a manifest note with a terminal title sequence, reach the
/// console (with and without -v, a dry run too), `--log` and `--list-files` escaped, once.
/// A capture's `--list-files`, log and summary do the same with an old disk's names.
#[test]
fn control_characters_never_reach_the_output_raw() {
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let mut f = Forge::copy(&store, &dir.path().join("forged"));
    f.add_file(
        0,
        "C\\Users\\ann\\Desktop\\evil\x1b[2J\x1b[31mred.txt",
        b"a",
    )
    .add_file(
        0,
        "C\\Users\\ann\\Desktop\\x\r\nRESTORE COMPLETE\r\n.txt",
        b"b",
    )
    .add_file(0, "C\\Users\\ann\\Desktop\\gpj.\u{202E}exe.txt", b"c")
    .add_file(0, "C\\Users\\ann\\Desktop\\bell\x07\u{85}\u{7f}.txt", b"d");
    f.manifest()
        .cannot_travel
        .push("\x1b]0;pwned\x07\nRESTORE COMPLETE".into());
    let forged = sealed(&mut f);
    let t = new_machine(dir.path(), "new");
    let log = dir.path().join("restore.log");
    let list = dir.path().join("list.txt");
    for extra in [
        &[][..],
        &["-v"],
        &["-v", "--dry-run"],
        &["--continue"],
        &["--json", "--dry-run"],
    ] {
        let mut args = vec![
            "restore",
            s(&forged),
            "--offline-root",
            s(&t),
            "--user",
            "ann=bob",
            "--log",
            s(&log),
            "--list-files",
            s(&list),
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = lifeboat(&args);
        assert_eq!(code, 0, "{extra:?}: {out}{err}");
        let logged = std::fs::read_to_string(&log).unwrap();
        let listed = std::fs::read_to_string(&list).unwrap();
        for (what, text) in [
            ("stdout", &out),
            ("stderr", &err),
            ("log", &logged),
            ("list", &listed),
        ] {
            assert_eq!(
                raw_controls(text),
                Vec::<char>::new(),
                "{extra:?} {what}: {text}"
            );
            let banners = text
                .lines()
                .filter(|l| l.trim_start().starts_with("RESTORE COMPLETE"))
                .count();
            assert!(banners <= 1, "{extra:?} {what}: a forged line: {text}");
        }
        assert!(
            listed.contains("evil<U+001B>[2J<U+001B>[31mred.txt"),
            "{listed}"
        );
        assert!(listed.contains("gpj.<U+202E>exe.txt"), "{listed}");
        if extra.contains(&"--json") {
            // JSON keeps the names exactly, written as its own escapes.
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            outcome(&v, "C:\\Users\\ann\\Desktop\\gpj.\u{202E}exe.txt");
            continue;
        }
        assert!(
            out.contains("<U+001B>]0;pwned<U+0007><U+000A>RESTORE COMPLETE"),
            "{out}"
        );
    }
    // The name with the override is a valid Windows name: it was restored as it is.
    assert!(t.join("Users/bob/Desktop/gpj.\u{202E}exe.txt").is_file());

    // A capture of an old disk whose names are hostile.
    let c = dir.path().join("hostile-c");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        ("Desktop\\a\x1b[2Jb.txt".into(), b"x".to_vec()),
        ("Desktop\\x\nRESTORE COMPLETE.txt".into(), b"y".to_vec()),
    ];
    let mut old = WindowsSpec::win10("OLDPC");
    old.users = vec![ann];
    old.write_volume(&c);
    let dest = dir.path().join("hostile-stores");
    std::fs::create_dir_all(&dest).unwrap();
    let capture_list = dir.path().join("capture-list.txt");
    let (code, out, err) = lifeboat(&[
        "capture",
        "--windir",
        s(&c.join("Windows")),
        "--dest",
        s(&dest),
        "--list-files",
        s(&capture_list),
        "-v",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let listed = std::fs::read_to_string(&capture_list).unwrap();
    assert!(listed.contains("a<U+001B>[2Jb.txt"), "{listed}");
    let store_log = std::fs::read_to_string(store_in(&dest).join("lifeboat.log")).unwrap();
    for (what, text) in [
        ("stdout", &out),
        ("stderr", &err),
        ("list", &listed),
        ("log", &store_log),
    ] {
        assert_eq!(
            raw_controls(text),
            Vec::<char>::new(),
            "capture {what}: {text}"
        );
    }
}

/// A tmpfs or FUSE file system mounted for a test, unmounted (lazily) on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// Moves the folder `at` aside and mounts a `size` tmpfs in its place holding what it held.
fn tmpfs_over(at: &Path, size: &str) -> Mount {
    let aside = at.with_extension("aside");
    std::fs::rename(at, &aside).unwrap();
    std::fs::create_dir(at).unwrap();
    let (code, out, err) = run(Command::new("mount").args([
        "-t",
        "tmpfs",
        "-o",
        &format!("size={size}"),
        "tmpfs",
        s(at),
    ]));
    assert_eq!(code, 0, "mount tmpfs: {out}{err}");
    let m = Mount(at.to_path_buf());
    fixtures::forge::copy_dir(&aside, at);
    m
}

/// Bytes free for files at `p` (statvfs), asked of `df` (coreutils), not of Lifeboat.
fn df_free(p: &Path) -> u64 {
    let (_, out, _) = run(Command::new("df").args(["-B1", "--output=avail", s(p)]));
    out.lines().nth(1).unwrap().trim().parse().unwrap()
}

/// A forged store with `n` files of `size` bytes on ann's Desktop.
fn store_with_files(dir: &Path, store: &Path, name: &str, n: usize, size: usize) -> PathBuf {
    let mut f = Forge::copy(store, &dir.join(name));
    for i in 0..n {
        f.add_file(
            0,
            &format!(r"C\Users\ann\Desktop\many\f{i:04}.txt"),
            &fixtures::noise(size, i as u64),
        );
    }
    sealed(&mut f)
}

/// Finding 6: a target disk too small for the store's files counted in blocks (though
/// large enough for their bytes) stops the restore before anything is written, with 72
/// and the disk named; a disk that fills while the files are written (a file system that
/// promised more room than it had) stops it with 72 and the disk named, not 42 ("damaged
/// store"), also with --continue; `lifeboat extract` there too. Needs root (mount).
#[test]
fn a_full_target_disk_is_exit_72_naming_the_disk() {
    if !is_root() {
        eprintln!("skipped: a_full_target_disk_is_exit_72_naming_the_disk needs root to mount a tmpfs and a FUSE file system");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = old_machine_store(dir.path());
    let (n, size) = (400, 64);
    let many = store_with_files(dir.path(), &store, "many", n, size);

    // Bytes pass, blocks do not: refused before a byte is written.
    let t = new_machine(dir.path(), "small");
    let bob = t.join("Users/bob");
    let _small = tmpfs_over(&bob, "1M");
    let free = df_free(&bob);
    assert!(((n * size) as u64) < free, "{free}");
    assert!((n as u64) * 4096 > free, "{free}");
    let before = tree_fingerprint(&t);
    let (code, out, err) = lifeboat(&[
        "restore",
        s(&many),
        "--offline-root",
        s(&t),
        "--user",
        "ann=bob",
    ]);
    assert_eq!(code, 72, "{out}{err}");
    assert!(err.contains(s(&bob)) && err.contains("room"), "{err}");
    assert_eq!(before, tree_fingerprint(&t), "something was written");
    // What was refused really does not fit: plain writes of the same files on a tmpfs of
    // the same size, holding the same profile, run out of room.
    let probe = new_machine(dir.path(), "probe");
    let probe_bob = probe.join("Users/bob");
    let _probe = tmpfs_over(&probe_bob, "1M");
    let full = (0..n).find(|i| {
        std::fs::write(
            probe_bob.join(format!("f{i}")),
            fixtures::noise(size, *i as u64),
        )
        .is_err()
    });
    assert!(full.is_some(), "{n} files of {size} bytes fit after all");

    // A file system that says it has room and fills during the extraction.
    let t = new_machine(dir.path(), "overcommitted");
    let bob = t.join("Users/bob");
    let backing = bob.with_extension("backing");
    std::fs::rename(&bob, &backing).unwrap();
    std::fs::create_dir(&bob).unwrap();
    let python = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import fuse"])
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("python3 with fuse-python (Debian: python3-fuse)");
    let script = fixtures::workspace_root().join("tests/support/fuse/overcommit.py");
    let mut fs = Command::new(python)
        .arg(&script)
        .arg(&bob)
        .args([
            "-f",
            "-o",
            &format!("root={},budget=8192", backing.display()),
        ])
        .spawn()
        .unwrap();
    let _fuse = Mount(bob.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .contains(s(&bob))
    {
        assert!(
            Instant::now() < deadline,
            "the FUSE file system did not mount"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for extra in [&[][..], &["--continue"]] {
        let mut args = vec![
            "restore",
            s(&many),
            "--offline-root",
            s(&t),
            "--user",
            "ann=bob",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = lifeboat(&args);
        assert_eq!(code, 72, "{extra:?}: {out}{err}");
        assert!(
            err.contains("full") && err.contains(s(&bob)),
            "{extra:?}: {err}"
        );
    }
    // `lifeboat extract` onto the same disk: the target's failure, not a damaged store.
    let out_dir = bob.join("extracted");
    let (code, out, err) = lifeboat(&["extract", s(&many), s(&out_dir)]);
    assert_eq!(code, 72, "extract: {out}{err}");
    assert!(
        err.contains("No space left") && err.contains(s(&out_dir)),
        "{err}"
    );
    drop(_fuse);
    let _ = fs.wait();
}
