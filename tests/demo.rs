//! The built-in demo machine (`make-fixture demo`, run by `scripts/demo.sh`) tells its story:
//! both installations are found, bob's profile on the old D: is found through the demo's
//! Offline.xml, the capture takes both users' documents, photos and settings, checked
//! with wimlib's `wimdir` and hivex's `hivexget`, and the restore into a freshly imaged new
//! PC (`make-fixture newpc`) puts them in ann's and bob's folders there, checked against the
//! old machine's own files and hives.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::{lifeboat_bin, run, store_in};

fn lifeboat(args: &[&Path]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

/// The demo's store, captured from its machine into `dir/usb` as `scripts/demo.sh` does.
fn capture(dir: &Path, m: &Path) -> PathBuf {
    let dest = dir.join("usb");
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
    store_in(&dest)
}

/// The `.reg` file at `p` (UTF-16LE with a byte-order mark, as regedit writes) as text.
fn reg_text(p: &Path) -> String {
    let reg = std::fs::read(p).unwrap();
    let units: Vec<u16> = reg[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

/// A value of a hive as hivex reads it, as a `.reg` line (`"name"="data"`).
fn hivex_line(hive: &Path, key: &str, value: &str) -> String {
    let (code, data, err) = run(Command::new("hivexget").arg(hive).arg(key).arg(value));
    assert_eq!(code, 0, "hivexget {key} {value}: {err}");
    format!("\"{value}\"=\"{}\"", data.trim_end().replace('\\', "\\\\"))
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
    let store = capture(dir.path(), &m);
    assert!(store.join("files.wim").is_file());
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
    let text = reg_text(&store.join("registry/ann.reg"));
    let ntuser = m.join("C/Users/ann/NTUSER.DAT");
    for (key, value) in [
        (r"\Control Panel\Desktop", "Wallpaper"),
        (r"\Network\S", "RemotePath"),
    ] {
        let want = hivex_line(&ntuser, key, value);
        assert!(text.contains(&want), "{want} not in\n{text}");
    }
}

/// The demo's last act: the store restored into a freshly imaged Windows 11 where ann and
/// bob have signed in once. Every file that lands in their profiles is the old machine's
/// file of the same place (bob's from his old profile on D:), the ones a technician looks
/// for first are there, the temporary file is not, and each user's settings wait in their
/// profile with the values hivex reads from their old NTUSER.DAT.
#[test]
fn restore_into_the_new_pc_puts_files_and_settings_in_both_profiles() {
    let (dir, m) = demo();
    let store = capture(dir.path(), &m);
    let newpc = dir.path().join("newpc");
    fixtures::demo::write_new_pc(&newpc, &["ann", "bob"]);
    let (code, out, err) = lifeboat(&[
        Path::new("restore"),
        &store,
        Path::new("--offline-root"),
        &newpc,
        Path::new("--json"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let users = v["report"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 2, "{out}");

    for (user, old_profile, firsts) in [
        (
            "ann",
            m.join("C/Users/ann"),
            &[
                "Documents/Budget 2024.xlsx",
                "Pictures/Holiday 2023/IMG_4471.JPG",
                "Desktop/Shopping list.txt",
            ][..],
        ),
        (
            "bob",
            m.join("D/Profiles/bob"),
            &[
                "Documents/Invoices/Invoice-1043.pdf",
                "Pictures/family.jpg",
                "AppData/Roaming/Mozilla/Firefox/profiles.ini",
            ][..],
        ),
    ] {
        let profile = newpc.join("Users").join(user);
        for f in firsts {
            assert!(profile.join(f).is_file(), "{user}: {f} not restored\n{out}");
        }
        let landed: Vec<PathBuf> = fixtures::migration::walk(&profile)
            .into_iter()
            .filter(|p| {
                !p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("Lifeboat settings")
            })
            .filter(|p| !p.ends_with("NTUSER.DAT"))
            .collect();
        assert!(landed.len() >= firsts.len(), "{landed:?}");
        for p in &landed {
            let rel = p.strip_prefix(&profile).unwrap();
            assert_eq!(
                std::fs::read(p).unwrap(),
                std::fs::read(old_profile.join(rel)).unwrap(),
                "{user}: {}",
                rel.display()
            );
        }
        assert!(
            landed.iter().all(|p| !p.ends_with("~DF3A1B.tmp")),
            "{landed:?}"
        );

        let settings = reg_text(&profile.join("Lifeboat settings.reg"));
        let key = r"\Control Panel\Desktop";
        let want = hivex_line(&old_profile.join("NTUSER.DAT"), key, "WallpaperStyle");
        assert!(
            settings.contains(&want),
            "{user}: {want} not in\n{settings}"
        );
    }
    let ann = reg_text(&newpc.join("Users/ann/Lifeboat settings.reg"));
    let want = hivex_line(
        &m.join("C/Users/ann/NTUSER.DAT"),
        r"\Network\S",
        "RemotePath",
    );
    assert!(ann.contains(&want), "{want} not in\n{ann}");
}
