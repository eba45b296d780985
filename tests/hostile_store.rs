//! A store is input like any other: it travelled on a stick, sat on a share, may have been
//! damaged or changed. `verify` and `extract` must refuse what does not add up, quickly,
//! without reading outside the store or writing more than the store declares.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, noise, run, store_in};

/// A complete store of one user with two files and settings.
fn make_store(dir: &Path) -> PathBuf {
    let v = dir.join("c");
    std::fs::create_dir_all(&v).unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\a.txt".into(), b"hello".to_vec()),
        (r"Pictures\b.jpg".into(), noise(300_000, 7)),
    ];
    let mut spec = WindowsSpec::win10("HOSTILE-PC");
    spec.users = vec![ann];
    spec.write_volume(&v);
    let dest = dir.join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = lifeboat(&[
        "capture",
        v.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--compress",
        "none",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let store = store_in(&dest);
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    store
}

/// Runs lifeboat, killing it if it has not finished in 60 s (a FIFO would block for ever).
fn lifeboat(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new("timeout");
    cmd.arg("60").arg(lifeboat_bin()).args(args);
    let start = Instant::now();
    let r = run(&mut cmd);
    assert!(
        start.elapsed() < Duration::from_secs(59),
        "lifeboat {args:?} did not finish"
    );
    r
}

fn manifest_edit(store: &Path, from: &str, to: &str) {
    let m = store.join("manifest.yaml");
    let text = std::fs::read_to_string(&m).unwrap();
    assert!(text.contains(from), "{from} not in the manifest");
    std::fs::write(&m, text.replacen(from, to, 1)).unwrap();
}

fn registry_file(store: &Path) -> String {
    let text = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("registry_file: "))
        .unwrap()
        .trim_matches(['"', '\''])
        .to_string()
}

#[test]
fn verify_refuses_manifest_entries_outside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = make_store(dir.path());
    let reg = registry_file(&store);
    // A secret beside the store that a `..` entry would reach.
    std::fs::write(dir.path().join("secret.reg"), "TOP-SECRET-CONTENT").unwrap();
    for (target, what) in [
        ("../../secret.reg", "a path that leaves the store"),
        ("/etc/passwd", "a path that leaves the store"),
        (
            "registry/../../../secret.reg",
            "a path that leaves the store",
        ),
    ] {
        let copy = dir.path().join("copy");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&store, &copy);
        manifest_edit(&copy, &reg, target);
        let (code, out, err) = lifeboat(&["verify", copy.to_str().unwrap()]);
        assert_eq!(code, 42, "{target}: {out}{err}");
        assert!(
            err.contains(what) && err.contains(target),
            "{target}: {err}"
        );
        assert!(!err.contains("TOP-SECRET-CONTENT"), "{err}");
    }
}

#[test]
fn verify_does_not_block_on_a_fifo_or_read_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let store = make_store(dir.path());
    let reg = registry_file(&store);
    let path = store.join(&reg);
    std::fs::remove_file(&path).unwrap();
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc_mkfifo(c.as_ptr(), 0o600) }, 0);
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 42, "{err}");
    assert!(err.contains("not a regular file"), "{err}");

    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 42, "{err}");
    assert!(err.contains("link"), "{err}");
}

extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

#[test]
fn broken_or_missing_manifest_has_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let store = make_store(dir.path());
    std::fs::write(store.join("manifest.yaml"), "lifeboat_store: [1\n  : :").unwrap();
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(
        code, 42,
        "an unparsable manifest is a corrupted store: {err}"
    );
    assert!(err.contains("manifest.yaml"), "{err}");
    let (code, _, err) = lifeboat(&["verify", dir.path().to_str().unwrap()]);
    assert_eq!(code, 27, "a folder without a manifest is no store: {err}");
    let (code, _, err) = lifeboat(&[
        "extract",
        store.to_str().unwrap(),
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 42, "{err}");
}

#[test]
fn extract_writes_nothing_from_a_store_that_does_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = make_store(dir.path());

    // The manifest says fewer bytes than the WIM's metadata holds.
    let copy = dir.path().join("changed");
    copy_dir(&store, &copy);
    let m = std::fs::read_to_string(copy.join("manifest.yaml")).unwrap();
    let bytes_line = m
        .lines()
        .find(|l| l.trim_start().starts_with("bytes: ") && !l.contains(" 0"))
        .unwrap()
        .to_string();
    manifest_edit(
        &copy,
        &bytes_line,
        &bytes_line.replace("bytes: ", "bytes: 1"),
    );
    let out = dir.path().join("out1");
    let (code, _, err) = lifeboat(&["extract", copy.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(code, 42, "{err}");
    assert!(err.contains("the manifest says"), "{err}");
    assert_eq!(files_under(&out), 0, "nothing may be written");

    // The WIM damaged in the middle: the integrity check stops it before a byte is written.
    let copy = dir.path().join("damaged");
    copy_dir(&store, &copy);
    let wim = copy.join("files.wim");
    let mut data = std::fs::read(&wim).unwrap();
    let mid = data.len() / 2;
    for b in &mut data[mid..mid + 256] {
        *b ^= 0xA5;
    }
    std::fs::write(&wim, &data).unwrap();
    let out = dir.path().join("out2");
    let (code, _, err) = lifeboat(&["extract", copy.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(code, 42, "{err}");
    assert!(err.contains("files.wim"), "{err}");
    assert_eq!(files_under(&out), 0, "nothing may be written");

    // The intact store still extracts.
    let out = dir.path().join("out3");
    let (code, _, err) = lifeboat(&["extract", store.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files_under(&out), 2);
}

fn files_under(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                files_under(&e.path())
            } else {
                1
            }
        })
        .sum()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}
