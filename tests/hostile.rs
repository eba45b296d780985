//! Hostile disks (issue 7): hives whose key lists loop, a root cell that points nowhere,
//! pipes where hives, logs and the kernel should be, rules that explode when expanded.
//! Every input here is generated; hivex checks that the generated damage is real.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::regf::{self, HiveBuilder};
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, store_in};
use lifeboat::hive::{HiveError, LoadedHive, Visit, WalkProblem};

/// hivexsh's listing of `path` (backslash-separated, from the root).
fn hivex_ls(hive: &Path, path: &str) -> Vec<String> {
    let script = format!("cd {path}\nls\n");
    let script_file = hive.with_extension("hivexsh");
    std::fs::write(&script_file, script).unwrap();
    let (code, out, err) = run(Command::new("hivexsh")
        .arg("-f")
        .arg(&script_file)
        .arg(hive));
    assert_eq!(code, 0, "hivexsh: {err}");
    out.lines().map(str::to_string).collect()
}

/// An NTUSER.DAT whose `Network\Z` lists its parent `Network` again, and whose
/// `Network\Z\Self` lists itself: two loops under what the default profile captures.
fn looping_ntuser() -> Vec<u8> {
    let mut b = HiveBuilder::new("CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}");
    b.key(r"Control Panel\Desktop").sz("Wallpaper", "w.jpg");
    b.key(r"Network\Z")
        .sz("RemotePath", r"\\srv\share")
        .link_to("Network");
    b.key(r"Network\Z\Self")
        .dword("N", 1)
        .link_to(r"Network\Z\Self");
    b.to_bytes()
}

#[test]
fn a_key_list_that_loops_is_walked_once_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("NTUSER.DAT");
    std::fs::write(&path, looping_ntuser()).unwrap();
    // hivex, an independent reader, sees the loops the writer made.
    assert_eq!(hivex_ls(&path, r"\Network\Z"), ["Network", "Self"]);
    assert_eq!(hivex_ls(&path, r"\Network\Z\Network\Z\Self"), ["Self"]);
    assert_eq!(hivex_ls(&path, r"\Network\Z\Self\Self\Self"), ["Self"]);

    let hive = LoadedHive::open(&path).unwrap();
    let mut seen = Vec::new();
    let mut keys_left = 1000;
    let report = hive
        .key("Network")
        .unwrap()
        .walk(&mut keys_left, &mut |p, _| {
            seen.push(p.to_string());
            Visit::Continue
        });
    assert_eq!(seen, ["", "Z", r"Z\Self"]);
    assert_eq!(report.keys, 3);
    assert_eq!(keys_left, 997);
    assert_eq!(
        report.problems,
        [
            WalkProblem::Revisited {
                path: r"Z\Network".into(),
                ancestor: Some(String::new()),
            },
            WalkProblem::Revisited {
                path: r"Z\Self\Self".into(),
                ancestor: Some(r"Z\Self".into()),
            },
        ]
    );
    // The key budget ends a walk and says where.
    let mut one = 1;
    let report = hive
        .root()
        .unwrap()
        .walk(&mut one, &mut |_, _| Visit::Continue);
    assert_eq!(report.keys, 1);
    assert!(matches!(&report.problems[..], [WalkProblem::OutOfKeys { path }] if !path.is_empty()));
}

fn volume(dir: &Path, spec: &WindowsSpec) -> PathBuf {
    let v = dir.join("c");
    spec.write_volume(&v);
    v
}

#[test]
fn capture_of_a_looping_ntuser_ends_and_lists_the_loops() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("LOOP-PC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    let vol = volume(dir.path(), &spec);
    std::fs::write(vol.join("Users/ann/NTUSER.DAT"), looping_ntuser()).unwrap();
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = run(Command::new("timeout")
        .arg("120")
        .arg(lifeboat_bin())
        .args(["capture", "--continue", "--dest"])
        .arg(&dest)
        .arg(&vol));
    // Complete with skips: the loops are damage, listed as skipped settings.
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(out.contains("STORE COMPLETE AND VERIFIED"), "{out}");
    let store = store_in(&dest);
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains(r"HKEY_CURRENT_USER\Network\Z\Network")
            && manifest.contains("leads back to HKEY_CURRENT_USER\\Network:"),
        "{manifest}"
    );
    assert!(manifest.contains(r"HKEY_CURRENT_USER\Network\Z\Self\Self"));
    // The export holds each key once: Network, Network\Z, Network\Z\Self.
    let reg = std::fs::read(store.join("registry/ann.reg")).unwrap();
    let units: Vec<u16> = reg[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    let network_keys: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(r"[HKEY_CURRENT_USER\Network"))
        .collect();
    assert_eq!(network_keys.len(), 3, "{text}");
    assert!(reg.len() < 64 * 1024, "{} bytes", reg.len());
    let (code, _, err) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_root_cell_that_points_nowhere_is_a_damaged_hive() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = HiveBuilder::new("ROOT");
    b.key(r"Microsoft\Windows NT\CurrentVersion")
        .sz("ProductName", "Windows 10 Pro");
    for (offset, what) in [(0xFFFF_FFFF, "0xffffffff"), (0x7FFF_FFF8, "0x7ffffff8")] {
        let mut bytes = b.to_bytes();
        regf::set_root_offset(&mut bytes, offset);
        let path = dir.path().join("SOFTWARE");
        std::fs::write(&path, &bytes).unwrap();
        // hivex refuses it too.
        let (code, _, _) = run(Command::new("hivexget").arg(&path).arg(r"\").arg("x"));
        assert_ne!(code, 0);
        match LoadedHive::open(&path) {
            Err(HiveError::Corrupt { path: p, reason }) => {
                assert_eq!(p, path.display().to_string());
                assert!(reason.contains(what) && reason.contains("root"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // Detection reports it as a problem naming the file, not as a clean, empty hive.
    let mut spec = WindowsSpec::win10("ROOT-PC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    let vol = volume(dir.path(), &spec);
    let software = vol.join("Windows/System32/config/SOFTWARE");
    let mut bytes = std::fs::read(&software).unwrap();
    regf::set_root_offset(&mut bytes, 0xFFFF_FFFF);
    std::fs::write(&software, &bytes).unwrap();
    let (_, out, err) = run(Command::new(lifeboat_bin())
        .args(["detect", "--json"])
        .arg(&vol));
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    let inst = &report["installations"][0];
    let problems = inst["problems"].to_string() + &report["problems"].to_string();
    assert!(
        problems.contains("SOFTWARE") && problems.contains("0xffffffff"),
        "{report:#}"
    );
    let hives = inst["hives"].as_array().unwrap();
    assert!(
        !hives.iter().any(|h| h["name"] == "SOFTWARE"),
        "SOFTWARE listed as a readable hive: {hives:?}"
    );
}

/// A cell whose size field is 0 (found by fuzzing: an arithmetic overflow inside nt-hive).
#[test]
fn a_cell_of_size_zero_is_damage_not_a_panic() {
    let mut b = HiveBuilder::new("ROOT");
    b.key("Software").sz("x", "y");
    let mut bytes = b.to_bytes();
    // The root cell sits at 0x20 in the hive bins, after the 4096-byte base block.
    bytes[4096 + 0x20..4096 + 0x24].copy_from_slice(&0u32.to_le_bytes());
    match LoadedHive::from_bytes("ZERO", bytes, &[]) {
        Err(HiveError::Corrupt { reason, .. }) => {
            assert!(reason.contains("size field"), "{reason}");
            assert!(
                !reason.contains("malformed hive structure"),
                "a panic was caught: {reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let (code, _, err) = run(Command::new("mkfifo").arg(path));
    assert_eq!(code, 0, "{err}");
}

/// Pipes where SYSTEM, SAM, the SOFTWARE logs and ntoskrnl.exe should be: detect ends
/// (a pipe opened for reading would block for ever) and names each one.
#[cfg(unix)]
#[test]
fn pipes_where_hives_logs_and_the_kernel_should_be_are_named_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("PIPE-PC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    spec.dirty_software = Some(regf::LogFormat::New);
    let vol = volume(dir.path(), &spec);
    let config = vol.join("Windows/System32/config");
    for f in ["SYSTEM", "SAM", "SOFTWARE.LOG1", "SOFTWARE.LOG2"] {
        mkfifo(&config.join(f));
    }
    mkfifo(&vol.join("Windows/System32/ntoskrnl.exe"));
    mkfifo(&vol.join("Users/ann/NTUSER.DAT"));
    let (code, out, err) = run(Command::new("timeout")
        .arg("60")
        .arg(lifeboat_bin())
        .args(["detect", "--json"])
        .arg(&vol));
    assert_ne!(code, 124, "detect blocked on a pipe");
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    let all = report.to_string();
    for f in ["SYSTEM", "SAM", "ntoskrnl.exe", "NTUSER.DAT"] {
        assert!(
            all.contains(&format!("{f}: not a regular file (a named pipe)")),
            "{f}: {report:#}"
        );
    }
    // The dirty SOFTWARE is read as it is on disk, and says why its logs were not used.
    assert!(
        all.contains("SOFTWARE.LOG1: not a regular file"),
        "{report:#}"
    );
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = run(Command::new("timeout")
        .arg("120")
        .arg(lifeboat_bin())
        .args(["capture", "--continue", "--dest"])
        .arg(&dest)
        .arg(&vol));
    assert_eq!(
        code, 3,
        "the unreadable NTUSER.DAT is a skipped error\n{out}\n{err}"
    );
    let manifest = std::fs::read_to_string(store_in(&dest).join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("NTUSER.DAT") && manifest.contains("not a regular file"),
        "{manifest}"
    );

    // A pipe as SOFTWARE itself.
    mkfifo(&config.join("SOFTWARE"));
    let (code, out, err) = run(Command::new("timeout")
        .arg("60")
        .arg(lifeboat_bin())
        .args(["detect", "--json"])
        .arg(&vol));
    assert_ne!(code, 124, "detect blocked on a pipe");
    assert!(
        out.contains("SOFTWARE: not a regular file (a named pipe)"),
        "{out}\n{err}"
    );
}

/// MigXML that explodes when expanded: variables defined from each other (each doubling
/// the last: 2^40 characters from 1 KB), and a `<namedElements>` entry that refers to
/// itself (2^32 expansions). Both end quickly, as rules problems naming the file.
#[test]
fn exploding_migxml_is_a_rules_problem_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("XML-PC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    let vol = volume(dir.path(), &spec);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();

    let vars: String = (1..=40)
        .map(|i| {
            format!(
                "<variable name=\"V{i}\"><text>%V{0}%%V{0}%</text></variable>",
                i - 1
            )
        })
        .collect();
    let doubling = format!(
        r#"<migration urlid="http://x/y"><component type="Documents" context="User">
<displayName>Boom</displayName>
<environment><variable name="V0"><text>abcdefgh</text></variable>{vars}</environment>
<role role="Data"><rules><include><objectSet>
<pattern type="File">%V40%\* [*]</pattern>
<pattern type="File">%USERPROFILE%\Documents\* [*]</pattern>
</objectSet></include></rules></role></component></migration>"#
    );
    let file = dir.path().join("boom.xml");
    std::fs::write(&file, doubling).unwrap();
    let (code, out, err) = run(Command::new("timeout")
        .arg("120")
        .arg(lifeboat_bin())
        .args(["capture", "--continue", "--profile"])
        .arg(&file)
        .arg("--dest")
        .arg(&dest)
        .arg(&vol));
    assert_ne!(code, 124, "expansion did not end");
    assert!(code == 0 || code == 3, "{code}\n{out}\n{err}");
    let store = store_in(&dest);
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    // V14 would be 8 * 2^14 characters, past the 64 Ki a text may grow to.
    assert!(
        manifest.contains("boom.xml: component \"Boom\": variable %V14% is left undefined")
            && manifest.contains("65536 characters"),
        "{manifest}"
    );
    // The rest of the component still works: Documents are taken.
    assert!(manifest.contains("files: 1"), "{manifest}");

    let selfref = r#"<migration urlid="http://x/y">
<namedElements>
<rules name="Loop"><rules name="Loop"/><rules name="Loop"/><include><objectSet>
<pattern type="File">%USERPROFILE%\* [*]</pattern></objectSet></include></rules>
</namedElements>
<component type="Documents" context="User"><displayName>Loop</displayName>
<role role="Data"><rules name="Loop"/></role></component></migration>"#;
    let file = dir.path().join("loop.xml");
    std::fs::write(&file, selfref).unwrap();
    let (code, out, err) = run(Command::new("timeout")
        .arg("60")
        .arg(lifeboat_bin())
        .args(["capture", "--estimate", "--profile"])
        .arg(&file)
        .arg("--dest")
        .arg(&dest)
        .arg(&vol));
    assert_eq!(code, 28, "{out}\n{err}");
    assert!(
        err.contains("loop.xml, line 3")
            && err.contains(r#"<rules name="Loop"> (line 3) refers to itself"#),
        "{err}"
    );
}
