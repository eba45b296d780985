//! The built-in demo machine (`make-fixture demo`, run by `scripts/demo.sh`) tells its story:
//! both installations are found, bob's profile on the old D: is found through the demo's
//! Offline.xml, and the capture takes both users' documents, photos and settings, checked
//! with wimlib's `wimdir` and hivex's `hivexget`.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::{lifeboat_bin, run, store_in};

fn lifeboat(args: &[&Path]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("machine");
    fixtures::demo::write_demo(&machine);
    (dir, machine)
}

#[test]
fn detect_finds_both_installations_and_bob_on_d() {
    let (_dir, m) = demo();
    let (code, out, err) = lifeboat(&[
        Path::new("detect"),
        Path::new("--json"),
        &m.join("C"),
        &m.join("D"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = v["installations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["installed", "windows.old"], "{out}");

    let (code, out, err) = lifeboat(&[
        Path::new("detect"),
        Path::new("--json"),
        Path::new("--offline-xml"),
        &m.join("Offline.xml"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ins = &v["installations"][0];
    assert_eq!(ins["family"], "Windows 11");
    let bob = ins["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == r"DEMO-PC\bob")
        .unwrap_or_else(|| panic!("no bob in {out}"));
    assert_eq!(bob["profile_path_original"], r"D:\Profiles\bob");
    let now = m.canonicalize().unwrap().join("D/Profiles/bob");
    assert_eq!(bob["profile_path"], now.to_str().unwrap(), "{out}");
    assert_eq!(bob["has_ntuser"], true);
    let d = ins["drive_letters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["letter"] == "D:")
        .unwrap();
    assert_eq!(d["identity"], "mbr");
    assert_eq!(d["how"], "offline-xml");
}

#[test]
fn capture_takes_both_users_documents_photos_and_settings() {
    let (dir, m) = demo();
    let dest = dir.path().join("usb");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = lifeboat(&[
        Path::new("capture"),
        Path::new("--offline-xml"),
        &m.join("Offline.xml"),
        Path::new("--dest"),
        &dest,
        Path::new("--compress"),
        Path::new("none"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let store = store_in(&dest);
    assert!(store.join("files.wim").is_file(), "{out}{err}");
    // One image per user: ann's, then bob's.
    let mut listing = String::new();
    for image in ["1", "2"] {
        let (code, out, err) = run(Command::new("wimdir")
            .arg(store.join("files.wim"))
            .arg(image));
        assert_eq!(code, 0, "wimdir: {err}");
        listing.push_str(&out);
    }
    for want in [
        "/C/Users/ann/Documents/Budget 2024.xlsx",
        "/C/Users/ann/Pictures/Holiday 2023/IMG_4471.JPG",
        "/C/Users/ann/AppData/Roaming/Microsoft/Windows/Themes/TranscodedWallpaper",
        "/C/Users/ann/AppData/Local/Google/Chrome/User Data/Default/Bookmarks",
        "/D/Profiles/bob/Documents/Invoices/Invoice-1043.pdf",
        "/D/Profiles/bob/Pictures/family.jpg",
        "/D/Profiles/bob/AppData/Roaming/Mozilla/Firefox/Profiles/k3x9w1v2.default-release/places.sqlite",
    ] {
        assert!(
            listing.lines().any(|l| l == want),
            "{want} not in\n{listing}"
        );
    }
    assert!(!listing.contains("~DF3A1B.tmp"), "{listing}");

    // ann's wallpaper and mapped drive, as hivex reads them from her NTUSER.DAT.
    let reg = std::fs::read(store.join("registry/ann.reg")).unwrap();
    let units: Vec<u16> = reg[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    let ntuser = m.join("C/Users/ann/NTUSER.DAT");
    for (key, value) in [
        (r"\Control Panel\Desktop", "Wallpaper"),
        (r"\Network\S", "RemotePath"),
    ] {
        let (code, data, err) = run(Command::new("hivexget").arg(&ntuser).arg(key).arg(value));
        assert_eq!(code, 0, "hivexget {key} {value}: {err}");
        let want = format!("\"{value}\"=\"{}\"", data.trim_end().replace('\\', "\\\\"));
        assert!(text.contains(&want), "{want} not in\n{text}");
    }
}
