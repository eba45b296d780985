//! `lifeboat capture`, `verify` and `extract` on generated offline volumes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, noise, run, store_in, tree_fingerprint};

fn volume(dir: &Path, spec: &WindowsSpec, extra: &[(char, PathBuf)]) -> PathBuf {
    let v = dir.join("c");
    std::fs::create_dir_all(&v).unwrap();
    let mut vols = vec![('C', v.clone())];
    vols.extend_from_slice(extra);
    spec.write(&v.join("Windows"), &vols);
    v
}

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).args(args))
}

fn ann_with_files() -> UserSpec {
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK fake docx".to_vec()),
        (r"Documents\deep\er\notes.txt".into(), vec![b'n'; 200_000]),
        (r"Desktop\todo.txt".into(), b"todo".to_vec()),
        (r"Pictures\cat.jpg".into(), vec![0xFF; 50_000]),
        (r"AppData\Local\Temp\junk.tmp".into(), b"junk".to_vec()),
        (
            r"AppData\Roaming\Microsoft\Signatures\sig.htm".into(),
            b"<p>Ann</p>".to_vec(),
        ),
    ];
    ann
}

#[test]
fn round_trip_capture_verify_extract() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("CAP-PC");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let before = tree_fingerprint(&vol);

    let list = dir.path().join("list.txt");
    let (code, out, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--profile",
        "user",
        "--list-files",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("STORE COMPLETE AND VERIFIED"), "{out}");
    assert_eq!(
        before,
        tree_fingerprint(&vol),
        "capture wrote to the source"
    );
    let listed = std::fs::read_to_string(&list).unwrap();
    assert!(
        listed.contains(r"C:\Users\ann\Documents\report.docx"),
        "{listed}"
    );
    assert!(!listed.contains("junk.tmp"), "{listed}");

    let store = store_in(&dest);
    assert!(store
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("CAP-PC-"));
    for f in [
        "files.wim",
        "manifest.yaml",
        "lifeboat.log",
        "registry/ann.reg",
    ] {
        assert!(store.join(f).is_file(), "{f} missing");
    }
    assert!(!store.join("INCOMPLETE.txt").exists());
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    assert!(manifest.contains("complete: true"), "{manifest}");

    let (code, out, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");

    // Extract and compare bytes and modification times with the source.
    let out_dir = dir.path().join("out");
    let (code, _, err) = lifeboat(&[
        "extract",
        store.to_str().unwrap(),
        out_dir.to_str().unwrap(),
        "--user",
        "ann",
    ]);
    assert_eq!(code, 0, "{err}");
    for rel in [
        "Documents/report.docx",
        "Documents/deep/er/notes.txt",
        "Desktop/todo.txt",
        "Pictures/cat.jpg",
    ] {
        let src = vol.join("Users/ann").join(rel);
        let got = out_dir.join("ann/C/Users/ann").join(rel);
        assert_eq!(
            std::fs::read(&src).unwrap(),
            std::fs::read(&got).unwrap_or_default(),
            "{rel}"
        );
        // Windows (and the WIM) keep times in 100 ns units.
        let t = |p: &Path| {
            std::fs::metadata(p)
                .unwrap()
                .modified()
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                / 100
        };
        assert_eq!(t(&src), t(&got), "{rel}: timestamp");
    }
    assert!(!out_dir
        .join("ann/C/Users/ann/AppData/Local/Temp/junk.tmp")
        .exists());

    // The .reg file: regedit's format, UTF-16LE with BOM, values as hivex reads them.
    let reg = std::fs::read(store.join("registry/ann.reg")).unwrap();
    assert_eq!(&reg[..2], &[0xFF, 0xFE]);
    let units: Vec<u16> = reg[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n"));
    let (_, wallpaper, _) = run(Command::new("hivexget")
        .arg(vol.join("Users/ann/NTUSER.DAT"))
        .arg(r"\Control Panel\Desktop")
        .arg("Wallpaper"));
    let want = format!(
        "\"Wallpaper\"=\"{}\"",
        wallpaper.trim_end().replace('\\', "\\\\")
    );
    assert!(text.contains(&want), "{want} not in\n{text}");
}

#[test]
fn redirected_documents_on_another_volume_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("Docs/ann")).unwrap();
    std::fs::write(data.join("Docs/ann/thesis.odt"), b"odt").unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.shell_folders = vec![("Personal".into(), r"D:\Docs\ann".into())];
    let mut spec = WindowsSpec::win10("REDIR-PC");
    spec.users = vec![ann];
    let vol = volume(dir.path(), &spec, &[('D', data.clone())]);
    let xml = dir.path().join("Offline.xml");
    std::fs::write(&xml, format!("<offline><winDir><path>{}</path></winDir><mappings><path>D:\\, {}</path></mappings></offline>", vol.join("Windows").display(), data.display())).unwrap();
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let list = dir.path().join("list.txt");
    let (code, out, err) = lifeboat(&[
        "capture",
        "--offline-xml",
        xml.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--list-files",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(std::fs::read_to_string(&list)
        .unwrap()
        .contains(r"D:\Docs\ann\thesis.odt"));
    let (_, listing, _) = run(Command::new("wimdir")
        .arg(store_in(&dest).join("files.wim"))
        .arg("1"));
    assert!(listing.contains("/D/Docs/ann/thesis.odt"), "{listing}");
}

#[test]
fn junction_loop_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("LOOP-PC");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    // The classic "Application Data" junction that points back at its own parent.
    let local = vol.join("Users/ann/AppData/Local");
    std::os::unix::fs::symlink(&local, local.join("Application Data")).unwrap();
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--profile",
        "full",
        "-v",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Application Data") && out.contains("not followed"),
        "{out}"
    );
    let store = store_in(&dest);
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs lifeboat as an unprivileged user, for whom a mode-000 file really is unreadable.
fn lifeboat_as_nobody(args: &[&str]) -> (i32, String, String) {
    run(Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(lifeboat_bin())
        .args(args))
}

#[test]
fn unreadable_file_stops_or_is_skipped_with_continue() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    let mut spec = WindowsSpec::win10("UNREAD-PC");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    let secret = vol.join("Users/ann/Documents/locked.docx");
    std::fs::write(&secret, b"locked").unwrap();
    // Everything readable by others, except the one file.
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(&vol));
    chmod(&secret, 0o000);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    chmod(&dest, 0o777);
    let bin_dir = lifeboat_bin();
    assert!(bin_dir.exists());

    let (code, out, err) = lifeboat_as_nobody(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 61,
        "without --continue the first unreadable file stops the capture: {out}{err}"
    );
    assert!(
        err.contains("locked.docx") && err.contains("--continue"),
        "{err}"
    );
    let partial: Vec<PathBuf> = std::fs::read_dir(&dest)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(partial.len(), 1);
    assert!(partial[0].join("INCOMPLETE.txt").exists());
    let manifest = std::fs::read_to_string(partial[0].join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("complete: false") && manifest.contains("locked.docx"),
        "{manifest}"
    );
    let (code, _, err) = lifeboat(&["verify", partial[0].to_str().unwrap()]);
    assert_ne!(code, 0, "an incomplete store must not verify");
    assert!(err.contains("incomplete"), "{err}");

    let (code, out, err) = lifeboat_as_nobody(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--continue",
        "--overwrite",
    ]);
    assert_eq!(code, 3, "completed with skips: {out}{err}");
    let store = store_in(&dest);
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("locked.docx") && manifest.contains("cannot be read"),
        "{manifest}"
    );
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

/// A small tmpfs as the destination: a real "disk full".
struct SmallDisk(PathBuf);
impl SmallDisk {
    fn new(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let (code, _, err) = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at));
        assert_eq!(
            code, 0,
            "cannot mount a small tmpfs for the disk-full test (needs root): {err}"
        );
        SmallDisk(at.to_path_buf())
    }
}
impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn destination_full_marks_the_store_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = (0..4)
        .map(|i| (format!(r"Documents\big{i}.bin"), noise(1 << 20, i + 7)))
        .collect();
    let mut spec = WindowsSpec::win10("FULL-PC");
    spec.users = vec![ann];
    let vol = volume(dir.path(), &spec, &[]);
    let disk = SmallDisk::new(&dir.path().join("usb"), "1m");
    let before = tree_fingerprint(&vol);
    let (code, out, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        disk.0.to_str().unwrap(),
    ]);
    assert_eq!(code, 72, "{out}{err}");
    assert!(err.contains("incomplete"), "{err}");
    // Told by the system's error (ENOSPC), not guessed from wimlib's words.
    assert!(err.contains("the destination is full"), "{err}");
    let partial: Vec<PathBuf> = std::fs::read_dir(&disk.0)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert!(partial[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with(".partial"));
    assert!(partial[0].join("INCOMPLETE.txt").exists());
    let manifest = std::fs::read_to_string(partial[0].join("manifest.yaml")).unwrap();
    assert!(manifest.contains("complete: false"), "{manifest}");
    assert!(
        !partial[0].join("files.wim").exists(),
        "the half-written WIM is removed to free the space"
    );
    assert_eq!(before, tree_fingerprint(&vol));
}

#[test]
fn missing_destination_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path(), &WindowsSpec::win10("PC"), &[]);
    let (code, _, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        "/nonexistent/share",
    ]);
    assert_eq!(code, 27, "{err}");
    assert!(
        err.contains("/nonexistent/share") && err.contains("net use"),
        "{err}"
    );
}

#[test]
fn split_store_and_corrupt_wim_in_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = (0..3)
        .map(|i| (format!(r"Documents\part{i}.bin"), noise(1 << 20, i + 3)))
        .collect();
    let mut spec = WindowsSpec::win10("SPLIT-PC");
    spec.users = vec![ann];
    let vol = volume(dir.path(), &spec, &[]);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .env("USMT_WORKING_DIR", &work)
        .args([
            "capture",
            vol.to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
            "--split",
            "1",
        ]));
    assert_eq!(code, 0, "{out}{err}");
    let store = store_in(&dest);
    let parts: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".swm"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "the working folder is left clean"
    );
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let out_dir = dir.path().join("out");
    let (code, _, err) = lifeboat(&[
        "extract",
        store.to_str().unwrap(),
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(out_dir.join("ann/C/Users/ann/Documents/part2.bin")).unwrap(),
        noise(1 << 20, 5)
    );

    // An unsplit store whose WIM is damaged afterwards: verify says so (USMT's code 42).
    let dest2 = dir.path().join("dest2");
    std::fs::create_dir_all(&dest2).unwrap();
    let (code, _, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest2.to_str().unwrap(),
        "--compress",
        "none",
    ]);
    assert_eq!(code, 0, "{err}");
    let store2 = store_in(&dest2);
    let wim = store2.join("files.wim");
    let mut bytes = std::fs::read(&wim).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5A;
    }
    std::fs::write(&wim, &bytes).unwrap();
    let (code, _, err) = lifeboat(&["verify", store2.to_str().unwrap()]);
    assert_eq!(code, 42, "{err}");
    assert!(err.contains("files.wim"), "{err}");
}

#[test]
fn estimate_counts_per_user_and_checks_space() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("EST-PC");
    let mut bob = UserSpec::local(1002, "bob");
    bob.files = vec![(r"Documents\b.txt".into(), vec![b'b'; 1000])];
    spec.users = vec![ann_with_files(), bob];
    let vol = volume(dir.path(), &spec, &[]);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--estimate",
        "--json",
        "--users",
        "bob",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let est = v["estimate"].as_array().unwrap();
    assert_eq!(est.len(), 1, "{out}");
    assert_eq!(est[0]["files"], 1);
    assert_eq!(est[0]["bytes"], 1000);
    assert!(v["destination_free_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "an estimate writes nothing"
    );
}

/// A filesystem image mounted through FUSE (ntfs-3g or fusefat), unmounted on drop.
struct FuseMount(PathBuf);
impl FuseMount {
    fn new(dir: &Path, kind: &str) -> FuseMount {
        let img = dir.join(format!("{kind}.img"));
        let mnt = dir.join(format!("{kind}-mnt"));
        std::fs::create_dir_all(&mnt).unwrap();
        let (code, _, err) = run(Command::new("truncate").args(["-s", "64M"]).arg(&img));
        assert_eq!(code, 0, "{err}");
        let (mkfs, mount): (Vec<&str>, Vec<&str>) = if kind == "ntfs" {
            (vec!["mkntfs", "-F", "-Q", "-q"], vec!["ntfs-3g"])
        } else {
            (vec!["mkfs.vfat", "-F", "32"], vec!["fusefat", "-o", "rw+"])
        };
        let (code, _, err) = run(Command::new(mkfs[0]).args(&mkfs[1..]).arg(&img));
        assert_eq!(
            code, 0,
            "{} failed (ntfs-3g, dosfstools needed): {err}",
            mkfs[0]
        );
        let (code, _, err) = run(Command::new(mount[0]).args(&mount[1..]).arg(&img).arg(&mnt));
        assert_eq!(
            code, 0,
            "{} failed (ntfs-3g, fusefat needed): {err}",
            mount[0]
        );
        FuseMount(mnt)
    }
}
impl Drop for FuseMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn fat32_destination_gets_a_split_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("FAT-PC");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    let usb = FuseMount::new(dir.path(), "fat32");
    let (code, out, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        usb.0.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("FAT destination"), "{err}");
    let store = store_in(&usb.0);
    assert!(
        store.join("files.swm").is_file(),
        "a FAT store is a split WIM"
    );
    assert!(!store.join("files.wim").exists());
    let (code, _, err) = lifeboat(&["verify", store.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn ntfs_source_with_offline_placeholder_is_reported_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let ntfs = FuseMount::new(dir.path(), "ntfs");
    let mut spec = WindowsSpec::win11("NTFS-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"OneDrive\Documents\here.docx".into(), b"local".to_vec()),
        (r"OneDrive\Documents\cloud-only.docx".into(), b"".to_vec()),
    ];
    ann.shell_folders = vec![(
        "Personal".into(),
        r"%USERPROFILE%\OneDrive\Documents".into(),
    )];
    spec.users = vec![ann];
    spec.write_volume(&ntfs.0);
    // ntfs-3g lets FILE_ATTRIBUTE_OFFLINE be set, as a dehydrated cloud file has it.
    let placeholder = ntfs.0.join("Users/ann/OneDrive/Documents/cloud-only.docx");
    let (code, _, err) = run(Command::new("setfattr")
        .args(["-n", "system.ntfs_attrib_be", "-v", "0x00001020"])
        .arg(&placeholder));
    assert_eq!(code, 0, "setfattr (package attr) failed: {err}");
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = lifeboat(&[
        "capture",
        ntfs.0.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "-v",
    ]);
    assert_eq!(
        code, 0,
        "a placeholder is reported, not an error: {out}{err}"
    );
    assert!(
        out.contains("cloud-only.docx") && out.contains("placeholder"),
        "{out}"
    );
    let (_, listing, _) = run(Command::new("wimdir")
        .arg(store_in(&dest).join("files.wim"))
        .arg("1"));
    assert!(
        listing.contains("here.docx") && !listing.contains("cloud-only"),
        "{listing}"
    );
}

#[test]
fn capture_with_microsofts_miguser_xml() {
    let Some(miguser) = fixtures::realdata("usmt/ms-shipped/hta__MigUser.xml") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("MIGXML-PC");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let list = dir.path().join("list.txt");
    let (code, out, err) = lifeboat(&[
        "capture",
        vol.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--profile",
        miguser.to_str().unwrap(),
        "--list-files",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let listed = std::fs::read_to_string(&list).unwrap();
    for want in ["report.docx", "notes.txt", "todo.txt", "cat.jpg"] {
        assert!(
            listed.contains(want),
            "{want} not taken by MigUser.xml:\n{listed}"
        );
    }
    assert!(!listed.contains("junk.tmp"), "{listed}");
}

#[test]
fn a_destination_on_the_source_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("PC");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    // A link beside the source leading into it, and a `..` walking back into it.
    std::os::unix::fs::symlink(vol.join("Users"), dir.path().join("users-link")).unwrap();
    let before = tree_fingerprint(&vol);
    let inside = vol.join("Users/ann/Documents");
    let dodges = [
        inside.clone(),
        dir.path().join("users-link/ann"),
        vol.join("Users/../Users/ann/new-folder"),
    ];
    for dest in &dodges {
        let (code, out, err) = lifeboat(&[
            "capture",
            vol.to_str().unwrap(),
            "--dest",
            dest.to_str().unwrap(),
        ]);
        assert_eq!(code, 27, "{}: {out}{err}", dest.display());
        assert!(
            err.contains(dest.to_str().unwrap())
                && err.contains(vol.to_str().unwrap())
                && err.contains("another disk"),
            "names both and what to do: {err}"
        );
        assert_eq!(before, tree_fingerprint(&vol), "{}", dest.display());
    }
}

/// A job prepared without a destination (an estimate's) cannot write a store: the refusal
/// says what to give, names no empty path, and is a bad command line (11).
#[test]
fn a_store_without_a_destination_is_refused_by_type() {
    use lifeboat::capture::compress::CompressionChoice;
    use lifeboat::detect::{DetectOptions, Source};
    use lifeboat::job::{self, Choose, Dest, JobError, JobSpec};

    let dir = tempfile::tempdir().unwrap();
    let mut spec = WindowsSpec::win10("PC-NODEST");
    spec.users = vec![ann_with_files()];
    let vol = volume(dir.path(), &spec, &[]);
    let spec = JobSpec {
        detect: DetectOptions::new(vec![vol], Source::Auto),
        profiles: Vec::new(),
        users: Vec::new(),
        unused_days: None,
        compression: CompressionChoice::Auto,
        continue_on_error: false,
        overwrite: false,
        split_mib: None,
        threads: 0,
        quiet: true,
        config: None,
        precedence: Default::default(),
        naming: Default::default(),
        progress_log: None,
        damaged: Default::default(),
        command_line: Vec::new(),
    };
    let mut choose = Choose {
        select: None,
        ask: false,
        pick_users: false,
        how_to_choose: "choose one",
        dest: Dest::None,
    };
    let prepared = job::prepare(&spec, &mut choose).unwrap_or_else(|e| panic!("{e}"));
    assert!(prepared.dest.is_none());
    assert!(prepared.plan.total_files() > 0);
    let e = job::capture(&spec, prepared)
        .err()
        .expect("no store without a destination");
    assert!(matches!(e, JobError::NoDestinationGiven), "{e}");
    assert!(e.to_string().contains("--dest"), "{e}");
    assert!(!e.to_string().starts_with(':'), "{e}");
    assert_eq!(lifeboat::cli::exit::job(&e), 11);
}
