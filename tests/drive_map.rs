//! The offline system's drive letters (SYSTEM `MountedDevices`) found again on real
//! partitions: a disk image with an MBR or GPT table, each partition attached with
//! `losetup -o` and formatted and mounted with ntfs-3g, as a technician mounts a disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::run;
use fixtures::volume::{UserSpec, WindowsSpec};
use lifeboat::detect::{self, DetectOptions};

const MIB: u64 = 1 << 20;

/// Loop devices and ntfs-3g mounts, undone on drop.
struct Disk {
    loops: Vec<String>,
    mounts: Vec<PathBuf>,
}

impl Drop for Disk {
    fn drop(&mut self) {
        for m in self.mounts.iter().rev() {
            let _ = Command::new("umount").arg(m).status();
        }
        for l in &self.loops {
            let _ = Command::new("losetup").arg("-d").arg(l).status();
        }
    }
}

fn must(cmd: &mut Command, what: &str) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(
        code, 0,
        "{what} failed (needs root, util-linux, fdisk and ntfs-3g): {err}"
    );
    out.trim().to_string()
}

/// An image with two partitions (1 MiB + 24 MiB each), both NTFS and mounted.
fn two_volumes(dir: &Path, table: &str) -> (Disk, PathBuf, PathBuf) {
    let img = dir.join("disk.img");
    must(
        Command::new("truncate").args(["-s", "64M"]).arg(&img),
        "truncate",
    );
    let script = if table == "gpt" {
        "label: gpt\nstart=2048, size=49152, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nstart=53248, size=49152, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n"
    } else {
        "label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=49152, type=7\nstart=53248, size=49152, type=7\n"
    };
    let mut sfdisk = Command::new("sfdisk");
    sfdisk
        .arg("-q")
        .arg(&img)
        .stdin(std::process::Stdio::piped());
    let mut child = sfdisk.spawn().expect("sfdisk (package fdisk)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "sfdisk failed");
    let mut disk = Disk {
        loops: Vec::new(),
        mounts: Vec::new(),
    };
    let mut points = Vec::new();
    for (i, start) in [2048u64, 53248].iter().enumerate() {
        let dev = must(
            Command::new("losetup")
                .args([
                    "-f",
                    "--show",
                    "-o",
                    &(start * 512).to_string(),
                    "--sizelimit",
                    &(24 * MIB).to_string(),
                ])
                .arg(&img),
            "losetup",
        );
        disk.loops.push(dev.clone());
        must(
            Command::new("mkntfs").args(["-F", "-Q", "-q"]).arg(&dev),
            "mkntfs",
        );
        let mnt = dir.join(format!("mnt{i}"));
        std::fs::create_dir_all(&mnt).unwrap();
        must(Command::new("ntfs-3g").arg(&dev).arg(&mnt), "ntfs-3g mount");
        disk.mounts.push(mnt.clone());
        points.push(mnt);
    }
    (disk, points[0].clone(), points[1].clone())
}

fn mbr_value(sig: u32, offset: u64) -> Vec<u8> {
    let mut v = sig.to_le_bytes().to_vec();
    v.extend_from_slice(&offset.to_le_bytes());
    v
}

fn gpt_partition_guid(img: &Path, index: u64) -> [u8; 16] {
    let bytes = std::fs::read(img).unwrap();
    let entry = 1024 + index as usize * 128;
    bytes[entry + 16..entry + 32].try_into().unwrap()
}

fn check(table: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (_disk, c, d) = two_volumes(dir.path(), table);
    let img = dir.path().join("disk.img");
    let (dev_c, dev_d) = if table == "gpt" {
        let mut a = b"DMIO:ID:".to_vec();
        a.extend_from_slice(&gpt_partition_guid(&img, 0));
        let mut b = b"DMIO:ID:".to_vec();
        b.extend_from_slice(&gpt_partition_guid(&img, 1));
        (a, b)
    } else {
        (
            mbr_value(0x1234_abcd, 2048 * 512),
            mbr_value(0x1234_abcd, 53248 * 512),
        )
    };
    let mut spec = WindowsSpec::win10("MOUNTED-PC");
    let mut bob = UserSpec::local(1002, "bob");
    bob.profile_path = r"D:\Profiles\bob".into();
    spec.users.push(bob);
    // E: was a USB stick that is not here now.
    spec.mounted_devices = vec![
        ('C', dev_c),
        ('D', dev_d),
        ('E', mbr_value(0xdead_beef, 1 << 20)),
    ];
    spec.write(&c.join("Windows"), &[('C', c.clone()), ('D', d.clone())]);

    let r = detect::detect(&DetectOptions {
        roots: vec![c.clone()],
        ..Default::default()
    })
    .unwrap()
    .report;
    let ins = &r.installations[0];
    let bob = ins
        .users
        .iter()
        .find(|u| u.profile_path_original == r"D:\Profiles\bob")
        .unwrap();
    assert_eq!(
        bob.profile_path.as_deref(),
        Some(d.join("Profiles/bob").to_str().unwrap()),
        "{table}: {:?}",
        ins.drive_letters
    );
    let letter = |l: &str| ins.drive_letters.iter().find(|x| x.letter == l).unwrap();
    let json = |v: serde_json::Result<serde_json::Value>| v.unwrap();
    assert_eq!(
        json(serde_json::to_value(letter("D:").how)),
        table,
        "{table}"
    );
    assert_eq!(json(serde_json::to_value(letter("D:").identity)), table);
    assert_eq!(
        json(serde_json::to_value(letter("C:").how)),
        "installation-volume"
    );
    assert_eq!(letter("E:").now_at, None, "the absent stick maps nowhere");
}

#[test]
fn mbr_letters_follow_disk_signature_and_offset() {
    check("mbr");
}

#[test]
fn gpt_letters_follow_partition_guids() {
    check("gpt");
}

#[test]
fn real_mounted_devices_match_hivex() {
    // Letters in the real SYSTEM hives, as hivexsh lists the values, all parsed.
    let Some(dir) = fixtures::realdata("hives/SYSTEM") else {
        return;
    };
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.to_string_lossy().to_lowercase().contains(".log") {
            continue;
        }
        let hive = lifeboat::hive::LoadedHive::open(&path).unwrap();
        let Some(k) = hive.key("MountedDevices") else {
            continue;
        };
        let parsed = lifeboat::detect::drive_map::parse_mounted_devices(&k.values());
        let mut child = Command::new("hivexsh")
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("hivexsh");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"cd \\MountedDevices\nlsval\n")
            .unwrap();
        let out = String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned();
        let mut want: Vec<char> = out
            .lines()
            .filter_map(|l| l.strip_prefix("\"\\\\DosDevices\\\\"))
            .filter_map(|l| l.chars().next())
            .collect();
        want.sort();
        let got: Vec<char> = parsed.iter().map(|(l, _)| *l).collect();
        if matches!(hive.recovery(), lifeboat::hive::Recovery::Replayed { .. }) {
            // hivex reads the stale primary; the replayed logs may add letters, never drop them.
            assert!(
                want.iter().all(|l| got.contains(l)),
                "{}: {got:?} vs {want:?}",
                path.display()
            );
        } else {
            assert_eq!(got, want, "{}", path.display());
        }
    }
}
