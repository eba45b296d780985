//! A source disk is evidence and may be hostile: nothing outside it is ever read, however
//! its registry points outside (`..`, links), and odd files (names that are not Unicode)
//! are skipped with their reason instead of failing the whole capture.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run};

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

fn capture(vol: &Path, dest: &Path, extra: &[&str]) -> (i32, String, String) {
    std::fs::create_dir_all(dest).unwrap();
    let mut args = vec![
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    lifeboat(&args)
}

/// Every path in the store's WIM (wimlib's own `wimdir`, all images).
fn wim_paths(store: &Path) -> String {
    let wim = store.join("files.wim");
    let (_, info, _) = run(Command::new("wiminfo").arg(&wim));
    let images = info
        .lines()
        .find_map(|l| l.strip_prefix("Image Count:"))
        .map(|n| n.trim().parse::<u32>().unwrap())
        .unwrap_or(0);
    (1..=images)
        .map(|i| run(Command::new("wimdir").arg(&wim).arg(i.to_string())).1)
        .collect()
}

fn store_of(out: &str) -> PathBuf {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    PathBuf::from(v["store"].as_str().unwrap())
}

#[test]
fn dot_dot_and_links_in_the_registry_never_leave_the_volume() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("c");
    std::fs::create_dir_all(&vol).unwrap();
    // The technician's own files, beside the source volume.
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(outside.join("eve/Documents")).unwrap();
    std::fs::write(outside.join("eve/Documents/technician.txt"), "not theirs").unwrap();
    std::fs::write(outside.join("secret.txt"), "not theirs").unwrap();

    let mut ann = UserSpec::local(1001, "ann");
    // Documents redirected "up and out": from <dir>/c/Users/ann three levels up is <dir>,
    // where the technician's folder is; Windows would stop at C:\.
    ann.shell_folders = vec![("Personal".into(), r"%USERPROFILE%\..\..\..\outside".into())];
    let mut eve = UserSpec::local(1002, "eve");
    eve.profile_path = r"C:\..\outside\eve".into();
    eve.create_folder = false;
    let mut lin = UserSpec::local(1003, "lin");
    lin.create_folder = false;
    let mut spec = WindowsSpec::win10("EVIL-PC");
    spec.users = vec![ann, eve, lin];
    spec.write_volume(&vol);
    // lin's profile folder is a link to the outside.
    std::os::unix::fs::symlink(outside.join("eve"), vol.join("Users/lin")).unwrap();

    let dest = dir.path().join("dest");
    let (code, out, err) = capture(&vol, &dest, &["--profile", "full"]);
    assert!(code == 0 || code == 3, "{out}{err}");
    let paths = wim_paths(&store_of(&out));
    assert!(
        paths.contains("notes.txt"),
        "ann's own files are taken: {paths}"
    );
    assert!(
        !paths.contains("technician.txt") && !paths.contains("secret.txt"),
        "files outside the source volume were captured: {paths}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let left = v["manifest"]["users_left"].to_string();
    assert!(
        left.contains("eve") && left.contains("lin"),
        "eve's and lin's profiles are not on the volume: {left}"
    );
}

#[test]
fn a_name_that_is_not_unicode_is_skipped_not_fatal() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("c");
    std::fs::create_dir_all(&vol).unwrap();
    let mut spec = WindowsSpec::win10("NAME-PC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    spec.write_volume(&vol);
    let docs = vol.join("Users/ann/Documents");
    let bad = docs.join(std::ffi::OsStr::from_bytes(b"bad-\xff\xfe-name.txt"));
    std::fs::write(&bad, "data").unwrap();

    let (code, out, err) = capture(&vol, &dir.path().join("d1"), &["--continue"]);
    assert_eq!(code, 3, "--continue: skipped, exit 3: {out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let skipped = &v["manifest"]["users"][0]["skipped"];
    assert_eq!(skipped[0]["kind"], "bad-name", "{skipped}");
    assert!(
        skipped[0]["path"].as_str().unwrap().contains("bad-"),
        "{skipped}"
    );
    let store = store_of(&out);
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(wim_paths(&store).contains("notes.txt"));

    let (code, out, err) = capture(&vol, &dir.path().join("d2"), &[]);
    assert_eq!(code, 61, "without --continue it stops: {out}{err}");
}

#[test]
fn folders_nested_past_the_depth_limit_are_skipped_not_entered() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("c");
    std::fs::create_dir_all(&vol).unwrap();
    let mut spec = WindowsSpec::win10("DEEP-PC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    spec.write_volume(&vol);
    // C:\Users\ann\Documents is 4 components; 600 one-letter folders below it pass the
    // limit (512) while the host path stays ~1,300 bytes, well inside Linux's 4,096.
    let docs = vol.join("Users/ann/Documents");
    let mut deep = docs.clone();
    for level in 1..=600 {
        deep.push("d");
        if level == 400 {
            std::fs::create_dir_all(&deep).unwrap();
            std::fs::write(deep.join("level400.txt"), "kept").unwrap();
        }
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("level600.txt"), "too deep").unwrap();

    let (code, out, err) = capture(&vol, &dir.path().join("d1"), &["--continue"]);
    assert_eq!(code, 3, "--continue: skipped, exit 3: {out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let skipped = v["manifest"]["users"][0]["skipped"].as_array().unwrap();
    let too_deep: Vec<_> = skipped.iter().filter(|s| s["kind"] == "too-deep").collect();
    assert_eq!(too_deep.len(), 1, "one skip, at the limit: {skipped:?}");
    let path = too_deep[0]["path"].as_str().unwrap();
    assert_eq!(
        path.split('\\').count(),
        513,
        "the first folder past the limit: {path}"
    );
    let store = store_of(&out);
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let paths = wim_paths(&store);
    assert!(paths.contains("level400.txt"), "above the limit is taken");
    assert!(!paths.contains("level600.txt"), "below the limit is not");

    let (code, out, err) = capture(&vol, &dir.path().join("d2"), &[]);
    assert_eq!(code, 61, "without --continue it stops: {out}{err}");
}
