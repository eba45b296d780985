//! `lifeboat detect` on generated offline volumes: every case of the detect issue.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::regf::LogFormat;
use fixtures::volume::{Arch, UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, tree_fingerprint};
use lifeboat::detect::{self, DetectOptions, DetectReport, InstallKind, Source, UserKind};
use lifeboat::pe;

fn detect_roots(roots: &[PathBuf]) -> DetectReport {
    detect::detect(&DetectOptions {
        roots: roots.to_vec(),
        ..Default::default()
    })
    .expect("detect")
    .report
}

/// A volume folder `name` under `dir` holding `spec` as `<vol>\Windows`.
fn volume(dir: &Path, name: &str, spec: &WindowsSpec) -> PathBuf {
    let v = dir.join(name);
    spec.write_volume(&v);
    v
}

fn json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("detect")
        .arg("--json")
        .args(args));
    let v = serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
    (code, v, err)
}

#[test]
fn one_installation_reported_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let spec = WindowsSpec::win10("PC-ONE");
    let vol = volume(dir.path(), "vol", &spec);
    let before = tree_fingerprint(dir.path());

    let (code, v, err) = json(&[vol.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let ins = &v["installations"][0];
    assert_eq!(ins["root"], vol.to_str().unwrap());
    assert_eq!(ins["windir"], vol.join("Windows").to_str().unwrap());
    assert_eq!(ins["kind"], "installed");
    assert_eq!(ins["product_name"], "Windows 10 Pro");
    assert_eq!(ins["edition"], "Professional");
    assert_eq!(ins["display_version"], "22H2");
    assert_eq!(ins["build"], 19045);
    assert_eq!(ins["ubr"], 3570);
    assert_eq!(ins["family"], "Windows 10");
    assert_eq!(ins["arch"], "amd64");
    assert_eq!(ins["computer_name"], "PC-ONE");
    assert_eq!(ins["install_date"], "2022-04-15T05:20:00Z");
    let users = ins["users"].as_array().unwrap();
    let ann = users
        .iter()
        .find(|u| u["profile_path_original"] == r"C:\Users\ann")
        .expect("ann listed");
    assert_eq!(ann["has_ntuser"], true);
    assert_eq!(ann["profile_path"], vol.join("Users/ann").to_str().unwrap());
    assert_eq!(ann["last_used"], "2023-11-14T22:13:20Z");
    assert!(ann["sid"].as_str().unwrap().ends_with("-1001"));
    let system = users.iter().find(|u| u["sid"] == "S-1-5-18").unwrap();
    assert_eq!(system["kind"], "system");
    let apps: Vec<&str> = ins["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(apps.contains(&"7-Zip 23.01 (x64)"), "{apps:?}");
    assert!(apps.contains(&"Per-user App"), "{apps:?}");
    assert!(
        !apps.iter().any(|a| a.contains("KB5000001")),
        "updates are not applications: {apps:?}"
    );
    assert!(
        v["problems"].as_array().unwrap().is_empty(),
        "{}",
        v["problems"]
    );

    // The readable table names the same things.
    let (code, text, _) = run(Command::new(lifeboat_bin()).arg("detect").arg(&vol));
    assert_eq!(code, 0);
    assert!(
        text.contains("PC-ONE") && text.contains("Windows 10") && text.contains("19045.3570"),
        "{text}"
    );

    assert_eq!(
        before,
        tree_fingerprint(dir.path()),
        "detect changed the source"
    );
}

#[test]
fn two_installations_on_two_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let a = volume(dir.path(), "a", &WindowsSpec::win10("PC-A"));
    let b = volume(dir.path(), "b", &WindowsSpec::win11("PC-B"));
    let r = detect_roots(&[a, b]);
    let names: Vec<_> = r
        .installations
        .iter()
        .map(|i| i.computer_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["PC-A", "PC-B"]);
    assert_eq!(
        r.installations.iter().map(|i| i.index).collect::<Vec<_>>(),
        [1, 2]
    );
}

#[test]
fn windows_old_beside_new_windows() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path(), "vol", &WindowsSpec::win11("NEW-PC"));
    let old = vol.join("Windows.old");
    let mut spec = WindowsSpec::win10("OLD-PC");
    spec.users = vec![UserSpec::local(1005, "olduser")];
    spec.write_volume(&old);

    let r = detect_roots(std::slice::from_ref(&vol));
    assert_eq!(r.installations.len(), 2);
    let o = r
        .installations
        .iter()
        .find(|i| i.kind == InstallKind::WindowsOld)
        .unwrap();
    assert_eq!(o.computer_name.as_deref(), Some("OLD-PC"));
    assert_eq!(o.root, vol.display().to_string());
    // C:\Users\olduser as the old system saw it now lives under Windows.old.
    let u = o
        .users
        .iter()
        .find(|u| u.profile_path_original == r"C:\Users\olduser")
        .unwrap();
    assert_eq!(
        u.profile_path.as_deref(),
        Some(old.join("Users/olduser").to_str().unwrap())
    );

    // --winold accepts the Windows.old folder or its Windows folder.
    for arg in [old.clone(), old.join("Windows")] {
        let d = detect::detect(&DetectOptions {
            source: Source::WinOld(arg),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(d.report.installations.len(), 1);
        assert_eq!(d.report.installations[0].kind, InstallKind::WindowsOld);
    }
}

#[test]
fn architectures_from_kernel_and_registry() {
    let dir = tempfile::tempdir().unwrap();
    let mut x86 = WindowsSpec::win10("PC-X86");
    x86.arch = Arch::X86;
    let mut arm = WindowsSpec::win11("PC-ARM");
    arm.arch = Arch::Arm64;
    let mut conflict = WindowsSpec::win10("PC-CONFLICT");
    conflict.registry_arch = Some("x86".into());
    let roots = [
        volume(dir.path(), "x86", &x86),
        volume(dir.path(), "arm", &arm),
        volume(dir.path(), "c", &conflict),
    ];
    let r = detect_roots(&roots);
    let by = |n: &str| {
        r.installations
            .iter()
            .find(|i| i.computer_name.as_deref() == Some(n))
            .unwrap()
    };
    assert_eq!(by("PC-X86").arch, Some(pe::Arch::X86));
    assert_eq!(by("PC-ARM").arch, Some(pe::Arch::Arm64));
    assert_eq!(by("PC-ARM").family.as_deref(), Some("Windows 11"));
    let c = by("PC-CONFLICT");
    assert_eq!(c.arch, Some(pe::Arch::Amd64), "the kernel wins");
    assert!(c.arch_evidence.conflict.is_some());
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("PROCESSOR_ARCHITECTURE")));

    // MIG_OFFLINE_PLATFORM_ARCH overrides, as in USMT.
    let (code, v, _) = {
        let (code, out, err) = run(Command::new(lifeboat_bin())
            .env("MIG_OFFLINE_PLATFORM_ARCH", "32")
            .args(["detect", "--json"])
            .arg(&roots[2]));
        (
            code,
            serde_json::from_str::<serde_json::Value>(&out).unwrap(),
            err,
        )
    };
    assert_eq!(code, 0);
    assert_eq!(v["installations"][0]["arch"], "x86");
}

#[test]
fn windows_11_family_from_build() {
    let dir = tempfile::tempdir().unwrap();
    let r = detect_roots(&[volume(dir.path(), "v", &WindowsSpec::win11("PC11"))]);
    let i = &r.installations[0];
    assert_eq!(i.product_name.as_deref(), Some("Windows 10 Pro"));
    assert_eq!(i.family.as_deref(), Some("Windows 11"));
    assert_eq!(i.build, Some(22631));
}

#[test]
fn windows_7_and_8_1_have_their_family() {
    let dir = tempfile::tempdir().unwrap();
    let r = detect_roots(&[
        volume(dir.path(), "w7", &WindowsSpec::win7("PC7")),
        volume(dir.path(), "w81", &WindowsSpec::win81("PC81")),
    ]);
    let by = |pc: &str| {
        r.installations
            .iter()
            .find(|i| i.computer_name.as_deref() == Some(pc))
            .unwrap()
    };
    assert_eq!(by("PC7").family.as_deref(), Some("Windows 7"));
    assert_eq!(by("PC7").build, Some(7601));
    assert_eq!(by("PC7").display_version.as_deref(), Some("Service Pack 1"));
    assert_eq!(by("PC7").ubr, None);
    assert_eq!(by("PC81").family.as_deref(), Some("Windows 8.1"));
}

#[test]
fn dirty_software_hive_made_right_by_its_logs() {
    for format in [LogFormat::New, LogFormat::Old] {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = WindowsSpec::win10("PC-DIRTY");
        spec.dirty_software = Some(format);
        let vol = volume(dir.path(), "v", &spec);
        std::fs::write(vol.join("hiberfil.sys"), b"hibr").unwrap();
        let before = tree_fingerprint(dir.path());
        let r = detect_roots(&[vol]);
        let i = &r.installations[0];
        assert_eq!(
            i.product_name.as_deref(),
            Some("Windows 10 Pro"),
            "{format:?}: the logs hold the truth"
        );
        assert_eq!(i.display_version.as_deref(), Some("22H2"));
        let sw = i.hives.iter().find(|h| h.name == "SOFTWARE").unwrap();
        assert_eq!(
            sw.state.to_string(),
            "replayed",
            "{format:?}: {:?}",
            sw.detail
        );
        assert!(i.hibernated);
        assert_eq!(
            before,
            tree_fingerprint(dir.path()),
            "{format:?}: replay wrote to the source"
        );
    }
}

#[test]
fn dirty_hive_without_logs_is_read_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("PC-NOLOG");
    spec.dirty_software = Some(LogFormat::New);
    let vol = volume(dir.path(), "v", &spec);
    for log in ["SOFTWARE.LOG1", "SOFTWARE.LOG2"] {
        std::fs::remove_file(vol.join("Windows/System32/config").join(log)).unwrap();
    }
    let r = detect_roots(&[vol]);
    let i = &r.installations[0];
    let sw = i.hives.iter().find(|h| h.name == "SOFTWARE").unwrap();
    assert_eq!(serde_json::to_value(sw.state).unwrap(), "not-recovered");
    assert_eq!(
        i.product_name.as_deref(),
        Some("STALE PRODUCT NAME"),
        "what the primary file holds is read"
    );
}

#[test]
fn offline_xml_first_valid_windir_and_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("sys");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut spec = WindowsSpec::win10("PC-XML");
    let mut bob = UserSpec::local(1002, "bob");
    bob.profile_path = r"D:\Profiles\bob".into();
    spec.users.push(bob);
    std::fs::create_dir_all(&sys).unwrap();
    spec.write(
        &sys.join("Windows"),
        &[('C', sys.clone()), ('D', data.clone())],
    );
    let xml = dir.path().join("Offline.xml");
    std::fs::write(
        &xml,
        format!(
            "<offline>\n <winDir>\n  <path>missing/Windows</path>\n  <path>sys/Windows</path>\n </winDir>\n <mappings>\n  <path>D:\\, {}</path>\n </mappings>\n</offline>\n",
            data.display()
        ),
    )
    .unwrap();
    // Relative <path> values start from the working folder, as in ScanState.
    let (code, out, err) = run(Command::new(lifeboat_bin()).current_dir(dir.path()).args([
        "detect",
        "--json",
        "--offline-xml",
        "Offline.xml",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ins = &v["installations"][0];
    assert_eq!(ins["computer_name"], "PC-XML");
    let bob = ins["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["profile_path_original"] == r"D:\Profiles\bob")
        .unwrap();
    assert_eq!(
        bob["profile_path"],
        data.join("Profiles/bob").to_str().unwrap()
    );
    assert!(ins["drive_letters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["letter"] == "D:" && d["how"] == "offline-xml"));
}

#[test]
fn offline_xml_fail_on_multiple_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = volume(dir.path(), "a", &WindowsSpec::win10("PC-A"));
    let b = volume(dir.path(), "b", &WindowsSpec::win10("PC-B"));
    let xml = dir.path().join("Offline.xml");
    std::fs::write(
        &xml,
        format!(
            "<offline><winDir><path>{}</path><path>{}</path></winDir><failOnMultipleWinDir>1</failOnMultipleWinDir></offline>",
            a.join("Windows").display(),
            b.display()
        ),
    )
    .unwrap();
    let (code, _out, err) = run(Command::new(lifeboat_bin())
        .args(["detect", "--offline-xml"])
        .arg(&xml));
    assert_eq!(code, 26, "{err}");
    assert!(
        err.contains(a.join("Windows").to_str().unwrap())
            && err.contains(b.join("Windows").to_str().unwrap()),
        "{err}"
    );
    assert!(err.contains("failOnMultipleWinDir"), "{err}");
}

#[test]
fn real_offline_xml_files() {
    let Some(offline) = fixtures::realdata("usmt/offline") else {
        return;
    };
    // The malformed one (capital WinDir and junk after the root) is refused by name.
    let bad = offline.join("usmt__offline.xml");
    let (code, _, err) = run(Command::new(lifeboat_bin())
        .args(["detect", "--offline-xml"])
        .arg(&bad));
    assert_eq!(code, 11, "{err}");
    assert!(
        err.contains("usmt__offline.xml") && err.contains("line"),
        "{err}"
    );
    // Well-formed ones parse; their C:\Windows… candidates do not exist here.
    for f in ["hta__offline.xml", "USMT-Helper__offline.xml"] {
        let (code, _, err) = run(Command::new(lifeboat_bin())
            .args(["detect", "--offline-xml"])
            .arg(offline.join(f)));
        assert_eq!(code, 26, "{f}: {err}");
        assert!(err.contains(r"C:\Windows"), "{f}: {err}");
    }
}

#[test]
fn only_one_source_switch() {
    let (code, _, err) =
        run(Command::new(lifeboat_bin()).args(["detect", "--windir", "a", "--winold", "b"]));
    assert_eq!(code, 11, "{err}");
}

#[test]
fn locked_bitlocker_volume_is_reported_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("locked.img");
    let mut sector = vec![0u8; 4096];
    sector[0..3].copy_from_slice(&[0xEB, 0x58, 0x90]);
    sector[3..11].copy_from_slice(b"-FVE-FS-");
    std::fs::write(&img, &sector).unwrap();
    let good = volume(dir.path(), "good", &WindowsSpec::win10("PC-OK"));
    let (code, v, _) = json(&[img.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(code, 0);
    let p = &v["problems"][0];
    assert_eq!(p["path"], img.to_str().unwrap());
    // A header and nothing else: BitLocker's, but its metadata is not there to be read.
    assert!(p["error"].as_str().unwrap().contains("BitLocker"), "{p}");
    assert!(p["hint"].as_str().unwrap().contains("damaged"), "{p}");
    assert_eq!(v["scanned"][0]["state"], "locked");
    assert_eq!(v["installations"].as_array().unwrap().len(), 1);
}

/// A SAM hive without `SAM\Domains\Account` (a damaged one, or not a SAM at all) gives no
/// local account names: that is reported as a problem naming the file, and the users are
/// still found, named from their profile folders.
#[test]
fn a_sam_without_accounts_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("PC-SAM");
    spec.write_sam = false;
    let vol = volume(dir.path(), "v", &spec);
    let sam = vol.join("Windows/System32/config/SAM");
    let mut h = fixtures::regf::HiveBuilder::new("SAM");
    h.key(r"SAM\Domains\Builtin");
    std::fs::write(&sam, h.to_bytes()).unwrap();
    // Independent check of the fixture: hivexget finds Builtin and no Account.
    let (code, _, _) = run(Command::new("hivexget")
        .arg(&sam)
        .arg(r"\SAM\Domains\Builtin"));
    assert_eq!(code, 0);
    let (code, _, _) = run(Command::new("hivexget")
        .arg(&sam)
        .arg(r"\SAM\Domains\Account"));
    assert_ne!(code, 0);

    let (code, v, err) = json(&[vol.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let problems = v["problems"].as_array().unwrap();
    let p = problems
        .iter()
        .find(|p| p["path"] == sam.to_str().unwrap())
        .unwrap_or_else(|| panic!("the SAM is not reported: {problems:?}"));
    assert!(
        p["error"]
            .as_str()
            .unwrap()
            .contains(r"SAM\Domains\Account"),
        "{p}"
    );
    assert!(
        p["hint"].as_str().unwrap().contains("profile folders"),
        "{p}"
    );
    let users = v["installations"][0]["users"].as_array().unwrap();
    assert!(users
        .iter()
        .any(|u| u["name"].as_str().unwrap().ends_with("ann")));
}

#[test]
fn broken_hives_are_named_and_the_rest_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let trunc = volume(dir.path(), "trunc", &WindowsSpec::win10("PC-TRUNC"));
    let sw = trunc.join("Windows/System32/config/SOFTWARE");
    let bytes = std::fs::read(&sw).unwrap();
    std::fs::write(&sw, &bytes[..5000]).unwrap();
    let garbage = volume(dir.path(), "garbage", &WindowsSpec::win10("PC-GARBAGE"));
    let gsw = garbage.join("Windows/System32/config/SOFTWARE");
    std::fs::write(&gsw, b"this is not a registry hive at all").unwrap();
    let mut nosys = WindowsSpec::win10("PC-NOSYS");
    nosys.write_system = false;
    let nosys_vol = volume(dir.path(), "nosys", &nosys);
    let real_corrupt = dir.path().join("realcorrupt");
    let mut spec = WindowsSpec::win10("PC-RC");
    spec.write_system = true;
    let rc = volume(dir.path(), "realcorrupt", &spec);
    if let Some(corrupt) = fixtures::realdata("hives/corrupt/regipy__corrupted_system_hive") {
        std::fs::copy(corrupt, rc.join("Windows/System32/config/SYSTEM")).unwrap();
    }

    let (code, v, err) = json(&[
        trunc.to_str().unwrap(),
        garbage.to_str().unwrap(),
        nosys_vol.to_str().unwrap(),
        real_corrupt.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let problems = v["problems"].as_array().unwrap();
    let has = |path: &Path| problems.iter().any(|p| p["path"] == path.to_str().unwrap());
    assert!(has(&sw), "{problems:?}");
    assert!(has(&gsw), "{problems:?}");
    assert!(
        has(&nosys_vol.join("Windows/System32/config/SYSTEM")),
        "{problems:?}"
    );
    assert_eq!(v["installations"].as_array().unwrap().len(), 4);
    // With SOFTWARE broken the SYSTEM hive still names the machine; without SYSTEM, SOFTWARE still gives the version.
    let ins = v["installations"].as_array().unwrap();
    assert!(ins.iter().any(|i| i["computer_name"] == "PC-TRUNC"));
    assert!(ins
        .iter()
        .any(|i| i["computer_name"].is_null() && i["product_name"] == "Windows 10 Pro"));
}

#[test]
fn profile_without_ntuser_and_junk_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("PC-PROF");
    let mut nohive = UserSpec::local(1003, "carl");
    nohive.ntuser = false;
    let mut bak = UserSpec::local(1004, "dora");
    bak.bak = true;
    let mut gone = UserSpec::local(1006, "gone");
    gone.create_folder = false;
    spec.users.extend([nohive, bak, gone]);
    let vol = volume(dir.path(), "v", &spec);
    let r = detect_roots(&[vol]);
    let users = &r.installations[0].users;
    let carl = users
        .iter()
        .find(|u| u.profile_path_original.ends_with("carl"))
        .unwrap();
    assert!(!carl.has_ntuser);
    assert!(carl.profile_path.is_some());
    let dora = users
        .iter()
        .find(|u| u.profile_path_original.ends_with("dora"))
        .unwrap();
    assert_eq!(dora.kind, UserKind::Backup);
    let gone = users
        .iter()
        .find(|u| u.profile_path_original.ends_with("gone"))
        .unwrap();
    assert!(gone.profile_path.is_none());
    assert!(users
        .iter()
        .any(|u| u.sid == "S-1-5-19" && u.kind == UserKind::Service));
}

#[test]
fn nothing_found_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(Command::new(lifeboat_bin()).arg("detect").arg(dir.path()));
    assert_eq!(code, 26);
    assert!(out.contains("No offline Windows installation found"));
}

/// `lifeboat detect --json | head -c 10` and output to a full disk: no panic. A reader that
/// went away ends the output quietly with the command's own code; a full disk is code 72.
#[test]
fn output_to_a_closed_pipe_or_a_full_disk_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path(), "v", &WindowsSpec::win10("PC-PIPE"));
    let mut child = Command::new(lifeboat_bin())
        .args(["detect", "--json", vol.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before a byte is written
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(lifeboat_bin())
        .args(["detect", vol.to_str().unwrap()])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(72), "{err}");
    assert!(err.contains("cannot write the output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The checks every capturing command shares: ROOT beside an offline switch is refused by
/// capture as by detect.
#[test]
fn roots_with_an_offline_switch_are_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path(), "v", &WindowsSpec::win10("PC-ROOTS"));
    let windir = vol.join("Windows");
    for cmd in ["detect", "capture"] {
        let (code, out, err) = run(Command::new(lifeboat_bin()).args(
            [
                cmd,
                vol.to_str().unwrap(),
                "--windir",
                windir.to_str().unwrap(),
                "--estimate",
            ]
            .iter()
            .filter(|a| cmd == "capture" || **a != "--estimate"),
        ));
        assert_eq!(code, 11, "{cmd}: {out}{err}");
        assert!(err.contains("cannot be combined"), "{cmd}: {err}");
    }
}
