//! The detection cases again, through the real Windows agent (`lifeboat.exe`) under Wine,
//! with fixture volumes as drive letters.

use std::path::{Path, PathBuf};

use fixtures::regf::LogFormat;
use fixtures::tree_fingerprint;
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::wine::WinePrefix;

fn volume(dir: &Path, name: &str, spec: &WindowsSpec) -> PathBuf {
    let v = dir.join(name);
    spec.write_volume(&v);
    v
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn windows_agent_detects_fixture_volumes() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win11("WINE-PC");
    spec.dirty_software = Some(LogFormat::New);
    let d = volume(dir.path(), "d", &spec);
    let e = dir.path().join("e");
    std::fs::create_dir_all(&e).unwrap();
    let mut old = WindowsSpec::win10("OLD-PC");
    old.users = vec![UserSpec::local(1005, "olduser")];
    let winold = e.join("Windows.old");
    old.write_volume(&winold);
    wine.map_drive('d', &d);
    wine.map_drive('e', &e);
    let before = tree_fingerprint(dir.path());

    let (code, out, err) = wine.run(&["detect", "--json", r"D:\", r"E:\"], &[], None);
    assert_eq!(code, 0, "{err}\n{out}");
    let v = json(&out);
    let ins = v["installations"].as_array().unwrap();
    assert_eq!(ins.len(), 2, "{out}");
    let new = &ins[0];
    assert_eq!(new["windir"], r"D:\Windows");
    assert_eq!(new["computer_name"], "WINE-PC");
    assert_eq!(new["family"], "Windows 11");
    assert_eq!(new["arch"], "amd64");
    assert_eq!(
        new["product_name"], "Windows 10 Pro",
        "SOFTWARE replayed from its log"
    );
    let sw = new["hives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "SOFTWARE")
        .unwrap();
    assert_eq!(sw["state"], "replayed");
    let ann = new["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["profile_path_original"] == r"C:\Users\ann")
        .unwrap();
    assert_eq!(ann["profile_path"], r"D:\Users\ann");
    assert_eq!(ann["has_ntuser"], true);
    let o = &ins[1];
    assert_eq!(o["kind"], "windows.old");
    let ou = o["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["profile_path_original"] == r"C:\Users\olduser")
        .unwrap();
    assert_eq!(ou["profile_path"], r"E:\Windows.old\Users\olduser");

    assert_eq!(
        before,
        tree_fingerprint(dir.path()),
        "the Windows agent changed the source"
    );
}

#[test]
fn windows_agent_in_winpe_scans_every_volume_but_its_own() {
    // Under Wine the running system's own drive is C: (WinPE's would be X:). An extra
    // installation folder on it must be skipped in WinPE and found outside it.
    let wine = WinePrefix::new();
    let own = wine.prefix().join("drive_c");
    WindowsSpec::win10("RUNNING-SYSTEM").write(&own.join("OtherWin"), &[('C', own.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let d = volume(dir.path(), "d", &WindowsSpec::win10("REAL-PC"));
    wine.map_drive('d', &d);

    let (code, out, err) = wine.run(&["detect", "--json"], &[], None);
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(
        out.contains("RUNNING-SYSTEM") && out.contains("REAL-PC"),
        "outside WinPE every volume counts: {out}"
    );

    wine.reg_add(r"HKLM\SYSTEM\CurrentControlSet\Control\MiniNT");
    let (code, out, err) = wine.run(&["detect", "--json"], &[], None);
    assert_eq!(code, 0, "{err}\n{out}");
    let v = json(&out);
    let names: Vec<&str> = v["installations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["computer_name"].as_str())
        .collect();
    assert_eq!(names, ["REAL-PC"], "{out}");
    let c = v["scanned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["root"] == r"C:\")
        .expect("C: listed");
    assert!(c["state"].as_str().unwrap().contains("WinPE"), "{c}");
}

#[test]
fn windows_agent_reports_a_locked_volume_and_bad_offline_xml() {
    use fixtures::bitlocker::{encrypt_file, Method, Protector, Spec};
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    // Wine cannot give a drive letter a raw device from a plain file, so the locked volume
    // is handed over as a disk-image file, which detect reads the same way.
    let d = volume(dir.path(), "d", &WindowsSpec::win10("PC-OK"));
    let plain = fixtures::ntfs::windows_volume(dir.path(), &WindowsSpec::win11("PC-LOCKED"));
    let recovery = Protector::recovery_password(11);
    let Protector::RecoveryPassword(key) = recovery.clone() else {
        unreachable!()
    };
    let spec = Spec::new(Method::XtsAes256, 512).protect(recovery);
    encrypt_file(&plain, &d.join("bitlocker.img"), &spec).unwrap();
    wine.map_drive('d', &d);
    let (code, out, err) = wine.run(
        &["detect", "--json", r"D:\bitlocker.img", r"D:\"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let locked = v["scanned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["root"]
                .as_str()
                .is_some_and(|r| r.contains("bitlocker.img"))
        })
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(locked["state"], "locked", "{locked}");
    assert_eq!(
        locked["encryption"]["method"], "XTS-AES 256-bit",
        "{locked}"
    );
    // The key ID the technician looks up is the one cryptsetup's own reader finds.
    let id = locked["encryption"]["protectors"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{locked}"))
        .to_lowercase();
    let dump = std::process::Command::new("cryptsetup")
        .args(["bitlkDump"])
        .arg(d.join("bitlocker.img"))
        .output()
        .expect("cryptsetup bitlkDump (Debian cryptsetup-bin)");
    let dump = String::from_utf8_lossy(&dump.stdout).to_lowercase();
    assert!(
        dump.contains(id.trim_matches(['{', '}'])),
        "{id} not in\n{dump}"
    );
    let p = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["path"]
                .as_str()
                .is_some_and(|r| r.contains("bitlocker.img"))
        })
        .unwrap_or_else(|| panic!("{out}"));
    let short = locked["encryption"]["protectors"][0]["short_id"]
        .as_str()
        .unwrap();
    assert!(p.to_string().contains(short), "{p}");
    // With the recovery key the Windows agent reads the installation inside.
    let (code, out, err) = wine.run(
        &[
            "detect",
            "--json",
            r"D:\bitlocker.img",
            "--recovery-password",
            &key,
        ],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !(out.clone() + &err).contains(&key[..13]),
        "the key is shown"
    );
    assert_eq!(json(&out)["installations"][0]["computer_name"], "PC-LOCKED");

    // Offline.xml with failOnMultipleWinDir and two valid folders: exit 26, both named.
    let e = volume(dir.path(), "e", &WindowsSpec::win10("PC-E"));
    wine.map_drive('e', &e);
    std::fs::write(
        d.join("Offline.xml"),
        "<offline><winDir><path>D:\\Windows</path><path>E:\\Windows</path></winDir><failOnMultipleWinDir>1</failOnMultipleWinDir></offline>",
    )
    .unwrap();
    let (code, _, err) = wine.run(&["detect", "--offline-xml", r"D:\Offline.xml"], &[], None);
    assert_eq!(code, 26, "{err}");
    assert!(
        err.contains(r"D:\Windows") && err.contains(r"E:\Windows"),
        "{err}"
    );
    // With mappings and one candidate: bob's D:\Profiles (as the system saw it) is now E:.
    let mut spec = WindowsSpec::win10("PC-MAP");
    let mut bob = UserSpec::local(1002, "bob");
    bob.profile_path = r"D:\Profiles\bob".into();
    spec.users.push(bob);
    let g = dir.path().join("g");
    std::fs::create_dir_all(&g).unwrap();
    spec.write(&g.join("Windows"), &[('C', g.clone()), ('D', e.clone())]);
    wine.map_drive('g', &g);
    std::fs::write(
        g.join("Offline.xml"),
        "<offline><winDir><path>G:\\Windows</path></winDir><mappings><path>D:\\, E:\\</path></mappings></offline>",
    )
    .unwrap();
    let (code, out, err) = wine.run(
        &["detect", "--json", "--offline-xml", r"G:\Offline.xml"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let bob = v["installations"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["profile_path_original"] == r"D:\Profiles\bob")
        .cloned()
        .unwrap();
    assert_eq!(bob["profile_path"], r"E:\Profiles\bob", "{out}");
}
