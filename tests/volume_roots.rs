//! ROOT given as an image file, a partition or a whole disk: Lifeboat reads the volume
//! itself (partition table, NTFS) and finds what it finds through an ntfs-3g mount of the
//! same volume. Volumes are made by mkntfs and filled through ntfs-3g; disk images are
//! partitioned by sfdisk, whose own reading of the table is the reference.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::ntfs::{self, Mount, Table};
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run, tree_fingerprint};
use serde_json::Value;

fn detect_json(root: &Path) -> (i32, Value, String) {
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .args(["detect", "--json"])
        .arg(root));
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

fn spec() -> WindowsSpec {
    let mut spec = WindowsSpec::win10("IMAGED-PC");
    spec.users = vec![UserSpec::local(1001, "ann"), UserSpec::local(1002, "Bob")];
    spec
}

/// The installation's facts that do not depend on where the volume is read from.
fn facts(ins: &Value) -> Value {
    let users: Vec<Value> = ins["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            serde_json::json!([
                u["sid"],
                u["name"],
                u["kind"],
                u["has_ntuser"],
                u["last_used"],
                u["profile_path_original"]
            ])
        })
        .collect();
    let hives: Vec<Value> = ins["hives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| serde_json::json!([h["name"], h["state"]]))
        .collect();
    serde_json::json!({
        "product": ins["product_name"], "build": ins["build"], "ubr": ins["ubr"],
        "arch": ins["arch"], "computer": ins["computer_name"], "kind": ins["kind"],
        "users": users, "hives": hives, "applications": ins["applications"],
    })
}

/// sfdisk's own reading of a table: (number, start byte, size in bytes).
fn sfdisk_partitions(disk: &Path) -> Vec<(u64, u64, u64)> {
    let (code, out, err) = run(Command::new("sfdisk").arg("--json").arg(disk));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let dev = disk.to_str().unwrap();
    v["partitiontable"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let node = p["node"].as_str().unwrap();
            let n: u64 = node[dev.len()..].parse().unwrap();
            let (start, size) = (p["start"].as_u64().unwrap(), p["size"].as_u64().unwrap());
            (n, start * 512, size * 512)
        })
        .collect()
}

#[test]
fn a_disk_image_is_read_partition_by_partition_as_its_mounted_volume_reads() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec();
    let vol = ntfs::windows_volume(dir.path(), &spec);
    let mounted = {
        let m = Mount::new(&vol, &dir.path().join("mnt"), "ro");
        let (code, v, err) = detect_json(m.path());
        assert_eq!(code, 0, "{err}");
        v
    };
    let want = facts(&mounted["installations"][0]);
    let locals = want["users"].as_array().unwrap().iter();
    assert_eq!(locals.filter(|u| u[2] == "local").count(), 2, "{mounted}");

    // The volume image on its own: one volume, no table.
    let (code, v, err) = detect_json(&vol);
    assert_eq!(code, 0, "{err}");
    assert_eq!(facts(&v["installations"][0]), want);
    assert_eq!(v["scanned"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["scanned"][0]["filesystem"], "NTFS");
    assert_eq!(v["scanned"][0]["state"], "ok");
    assert!(v["scanned"][0]["partition"].is_null());

    for table in [Table::Gpt, Table::Mbr] {
        let (disk, number) = ntfs::disk_image(dir.path(), &vol, table);
        let before = tree_fingerprint(dir.path());
        let (code, v, err) = detect_json(&disk);
        assert_eq!(code, 0, "{table:?}: {err}");
        assert_eq!(
            tree_fingerprint(dir.path()),
            before,
            "the image was written"
        );
        let installations = v["installations"].as_array().unwrap();
        assert_eq!(installations.len(), 1, "{table:?}: {v}");
        assert_eq!(facts(&installations[0]), want, "{table:?}");
        let windir = installations[0]["windir"].as_str().unwrap();
        assert!(
            windir.contains(&format!("partition {number}")) && windir.ends_with(r"\Windows"),
            "{windir}"
        );
        // One scanned[] entry per partition, where sfdisk says it lies.
        let scanned = v["scanned"].as_array().unwrap();
        let parts = sfdisk_partitions(&disk);
        let listed: Vec<(u64, u64, u64)> = scanned
            .iter()
            .map(|s| {
                let p = &s["partition"];
                (
                    p["number"].as_u64().unwrap(),
                    p["offset"].as_u64().unwrap(),
                    p["size"].as_u64().unwrap(),
                )
            })
            .collect();
        let mut expected = parts.clone();
        if table == Table::Mbr {
            // The extended partition is a container, not a volume.
            expected.retain(|(n, _, _)| *n != 2);
        }
        assert_eq!(listed, expected, "{table:?}");
        for s in scanned {
            let n = s["partition"]["number"].as_u64().unwrap();
            if n == u64::from(number) {
                assert_eq!(s["state"], "ok", "{s}");
                assert_eq!(s["filesystem"], "NTFS");
                assert_eq!(s["installations"], 1);
            } else {
                assert_eq!(s["state"], "not-read", "{s}");
                assert_eq!(s["installations"], 0);
            }
        }
    }
}

#[test]
fn a_pipe_socket_or_device_as_root_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let (code, _, err) = run(Command::new("mkfifo").arg(&fifo));
    assert_eq!(code, 0, "{err}");
    for root in [fifo.as_path(), Path::new("/dev/null")] {
        let started = std::time::Instant::now();
        let (code, v, err) = detect_json(root);
        assert!(started.elapsed().as_secs() < 10, "{root:?} blocked detect");
        assert_eq!(code, 26, "{root:?}: {err}");
        assert_eq!(v["scanned"][0]["state"], "unreadable", "{v}");
        let problem = v["problems"][0]["error"].as_str().unwrap();
        assert!(
            problem.contains("named pipe") || problem.contains("character device"),
            "{problem}"
        );
    }
}

/// What a store's image holds, file by file, as wimlib lists it: path, size, SHA-1 of
/// each file's data (folders left out).
fn wim_files(store: &Path, image: &str) -> Vec<String> {
    let wim = store.join("files.wim");
    let (code, out, err) = run(Command::new("wimdir")
        .arg(&wim)
        .arg(image)
        .arg("--detailed"));
    assert_eq!(code, 0, "{err}");
    let mut files = Vec::new();
    for entry in out.split("-----") {
        let field = |name: &str| {
            entry
                .lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
        };
        let (Some(path), Some(attrs)) = (field("Full Path"), field("Attributes")) else {
            continue;
        };
        let attrs = u32::from_str_radix(attrs.trim_start_matches("0x"), 16).unwrap_or(0);
        if attrs & 0x10 != 0 {
            continue;
        }
        let hash = field("Hash").unwrap_or_default();
        let size = field("Uncompressed size").unwrap_or_default();
        files.push(format!("{path} {size} {hash}"));
    }
    files.sort();
    files
}

fn capture(root: &Path, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).unwrap();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(root)
        .arg("--dest")
        .arg(dest)
        .args(["--compress", "none"]));
    assert_eq!(code, 0, "{out}{err}");
    fixtures::store_in(dest)
}

#[test]
fn a_capture_from_the_image_holds_what_a_capture_from_its_mount_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec();
    spec.users[0].files.extend([
        (
            r"Documents\Report ÄÖÜ 日本.docx".into(),
            fixtures::noise(300_000, 3),
        ),
        (
            r"Documents\deep\er\still deeper\notes.TXT".into(),
            vec![b'n'; 70_000],
        ),
        (r"Pictures\same.jpg".into(), fixtures::noise(90_000, 9)),
        (
            r"Pictures\copy of same.jpg".into(),
            fixtures::noise(90_000, 9),
        ),
        (r"Desktop\empty.txt".into(), Vec::new()),
    ]);
    let vol = ntfs::windows_volume(dir.path(), &spec);
    let from_mount = {
        let m = Mount::new(&vol, &dir.path().join("mnt"), "ro");
        capture(m.path(), &dir.path().join("store-mount"))
    };
    let from_image = capture(&vol, &dir.path().join("store-image"));
    let mut files = 0;
    for image in ["1", "2"] {
        let (a, b) = (wim_files(&from_mount, image), wim_files(&from_image, image));
        files += a.len();
        assert_eq!(a, b, "image {image}");
    }
    assert_eq!(
        files, 7,
        "ann's six files and Bob's notes, as the spec wrote them"
    );
    let wim = from_image.join("files.wim");
    let (code, _, err) = run(Command::new("wimverify").arg(&wim));
    assert_eq!(code, 0, "wimverify: {err}");
    let (code, out, err) = run(Command::new("7zz").arg("t").arg(&wim));
    assert_eq!(code, 0, "7zz t: {out}{err}");
    // Applied, the two images are the same trees, byte for byte.
    let apply = |store: &Path, to: &Path| {
        let (code, _, err) = run(Command::new("wimapply")
            .arg(store.join("files.wim"))
            .arg("1")
            .arg(to));
        assert_eq!(code, 0, "wimapply: {err}");
    };
    apply(&from_mount, &dir.path().join("applied-mount"));
    apply(&from_image, &dir.path().join("applied-image"));
    let (code, out, err) = run(Command::new("diff")
        .arg("-r")
        .arg(dir.path().join("applied-mount"))
        .arg(dir.path().join("applied-image")));
    assert_eq!(code, 0, "diff -r: {out}{err}");
}

/// ScanState's `/offlineWinDir` (and `--windir`) may name a partition, a disk or an image
/// rather than a folder: the Windows installed on it is captured, as from its mount.
#[test]
fn offline_windir_may_name_a_disk_image() {
    let dir = tempfile::tempdir().unwrap();
    let vol = ntfs::windows_volume(dir.path(), &spec());
    let (disk, number) = ntfs::disk_image(dir.path(), &vol, Table::Gpt);
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .args(["detect", "--json", "--windir"])
        .arg(&disk));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let windir = v["installations"][0]["windir"].as_str().unwrap();
    assert!(windir.contains(&format!("partition {number}")), "{windir}");
    let store = dir.path().join("store");
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("scanstate")
        .arg(&store)
        .arg(format!("/offlineWinDir:{}", disk.display()))
        .args(["/o", "/c"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, o, e) = run(Command::new("wimverify").arg(store.join("files.wim")));
    assert_eq!(code, 0, "{o}{e}");
    let (code, o, e) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "{o}{e}");
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    assert!(manifest.contains("IMAGED-PC"), "{manifest}");
}
