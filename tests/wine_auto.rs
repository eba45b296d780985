//! `lifeboat auto`, the boot-time flow, end to end through lifeboat.exe under Wine: the
//! offline volume as D:, a USB stick labelled LIFEBOAT as E:, the technician's answers on
//! standard input. The store on E: must verify.

use std::process::Command;

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::wine::WinePrefix;
use fixtures::{lifeboat_bin, run, tree_fingerprint};

#[test]
fn auto_captures_to_the_lifeboat_stick() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let e = dir.path().join("e");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::create_dir_all(&e).unwrap();
    // Wine reads a drive's volume label from this file.
    std::fs::write(e.join(".windows-label"), "LIFEBOAT").unwrap();
    let mut spec = WindowsSpec::win11("AUTO-PC");
    let mut bob = UserSpec::local(1002, "bob");
    bob.files = vec![(r"Documents\bob.txt".into(), b"bob's".to_vec())];
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![(r"Documents\ann.txt".into(), b"ann's".to_vec())];
    spec.users = vec![ann, bob];
    spec.write_volume(&d);
    // A second installation, so the menu is asked.
    let old = d.join("Windows.old");
    WindowsSpec::win10("AUTO-OLD").write_volume(&old);
    let config = dir.path().join("cfg");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.yaml"),
        "destinations:\n  - usb-label: LIFEBOAT\nprofiles: [user]\n",
    )
    .unwrap();
    wine.map_drive('d', &d);
    wine.map_drive('e', &e);
    wine.map_drive('g', &config);
    let before = tree_fingerprint(&d);

    // Installation 1 (the current Windows), then only user 2 (bob).
    let (code, out, err) = wine.run(
        &["auto", "--config", r"G:\config.yaml", r"D:\"],
        &[],
        Some("1\n2\n"),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("Capture which one?") && err.contains("DONE - STORE COMPLETE AND VERIFIED"),
        "{err}"
    );
    assert_eq!(before, tree_fingerprint(&d), "auto wrote to the source");
    let store = std::fs::read_dir(&e)
        .unwrap()
        .flatten()
        .map(|x| x.path())
        .find(|p| p.join("manifest.yaml").exists())
        .expect("a store on E:");
    assert!(store
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("AUTO-PC-"));
    let (code, vout, verr) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "{vout}{verr}");
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("bob") && manifest.contains("not named by --users"),
        "only bob was chosen:\n{manifest}"
    );
    assert!(store.join("lifeboat.log").is_file());
}

/// In WinPE (the MiniNT key), `boot-stick: true` is the stick wpeinit recorded as the one
/// WinPE booted from (`PEBootRamdiskSourceDrive`); without that record it is not guessed.
#[test]
fn auto_in_winpe_captures_to_the_boot_stick() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let f = dir.path().join("f");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::create_dir_all(f.join("sources")).unwrap();
    WindowsSpec::win10("STICK-PC").write_volume(&d);
    std::fs::write(f.join("sources/boot.wim"), "the media's image").unwrap();
    std::fs::write(
        f.join("config.yaml"),
        "destinations:\n  - boot-stick: true\nunattended: true\nprofiles: [user]\n",
    )
    .unwrap();
    wine.map_drive('d', &d);
    wine.map_drive('f', &f);
    wine.reg_add(r"HKLM\SYSTEM\CurrentControlSet\Control\MiniNT");
    let before = tree_fingerprint(&d);
    let args = ["auto", "--config", r"F:\config.yaml", r"D:\"];

    let (code, _, err) = wine.run(&args, &[], None);
    assert_eq!(code, 27, "no record of the boot drive: {err}");
    assert!(err.contains("boot stick"), "{err}");

    wine.reg_set(
        r"HKLM\SYSTEM\CurrentControlSet\Control",
        "PEBootRamdiskSourceDrive",
        r"F:\",
    );
    let (code, out, err) = wine.run(&args, &[], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(before, tree_fingerprint(&d), "auto wrote to the source");
    let store = std::fs::read_dir(&f)
        .unwrap()
        .flatten()
        .map(|x| x.path())
        .find(|p| p.join("manifest.yaml").exists())
        .expect("a store on the boot stick F:");
    let (code, vout, verr) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "{vout}{verr}");
}

#[test]
fn auto_without_a_destination_says_what_to_do() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    WindowsSpec::win10("NODEST").write_volume(&d);
    std::fs::write(d.join("config.yaml"), "unattended: true\n").unwrap();
    // The marker file on the source itself must not make it the destination.
    std::fs::write(d.join("lifeboat.store"), "").unwrap();
    wine.map_drive('d', &d);
    let before = tree_fingerprint(&d);
    let (code, _, err) = wine.run(&["auto", "--config", r"D:\config.yaml", r"D:\"], &[], None);
    assert_eq!(code, 27, "{err}");
    assert!(
        err.contains("LIFEBOAT") && err.contains("NOTHING CAPTURED"),
        "{err}"
    );
    assert_eq!(
        before,
        tree_fingerprint(&d),
        "nothing was written to the source"
    );
}

#[test]
fn auto_unattended_with_several_installations_refuses_on_linux() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    WindowsSpec::win11("A").write_volume(&v);
    let old = v.join("Windows.old");
    WindowsSpec::win10("B").write_volume(&old);
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "unattended: true\n").unwrap();
    let (code, _, err) = run(Command::new(lifeboat_bin())
        .arg("auto")
        .arg("--config")
        .arg(&cfg)
        .arg(&v));
    assert_eq!(code, 26, "{err}");
    assert!(
        err.contains("2 Windows installations") && err.contains("unattended"),
        "{err}"
    );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "profiles: [nosuchprofile]\n").unwrap();
    let (code, _, err) = run(Command::new(lifeboat_bin())
        .arg("auto")
        .arg("--config")
        .arg(&bad)
        .arg(&v));
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("nosuchprofile"), "{err}");
}
