//! The Windows agent's `lifeboat image` under Wine: the Windows side of the block source
//! and the image file (handles, positioned reads and writes, sparse files, the map's
//! atomic replace), on a dying disk served through FUSE and seen by Wine as `D:\disk.img`.

use std::process::Command;

use fixtures::faultdisk::{sectors_of, FaultDisk, Faults, SECTOR};
use fixtures::wine::WinePrefix;

const M: u64 = 1024 * 1024;

#[test]
fn the_windows_agent_images_a_dying_disk_and_maps_it_as_ddrescue_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = fixtures::noise(4 * M as usize, 23);
    data[M as usize..2 * M as usize].fill(0);
    let fixture = dir.path().join("disk.img");
    std::fs::write(&fixture, &data).unwrap();
    let bad = vec![
        SECTOR * 3..SECTOR * 5,
        3 * M - 4 * SECTOR..3 * M + 300 * SECTOR,
    ];
    let disk = FaultDisk::serve(
        &fixture,
        &Faults {
            bad: bad.clone(),
            ..Faults::default()
        },
    );
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let wine = WinePrefix::new();
    wine.map_drive('d', disk.file().parent().unwrap());
    wine.map_drive('e', &out);
    let (code, stdout, err) = wine.run(
        &[
            "image",
            r"D:\disk.img",
            r"E:\disk.img",
            "--map",
            r"E:\disk.map",
        ],
        &[],
        None,
    );
    assert_eq!(code, 3, "bad sectors remain: exit 3\n{stdout}{err}");
    let (rc, listed, e) = fixtures::run(
        Command::new("ddrescuelog")
            .args(["--list-blocks=-", out.join("disk.map").to_str().unwrap()]),
    );
    assert_eq!(rc, 0, "{e}");
    let listed: Vec<u64> = listed.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(listed, sectors_of(&bad));
    let image = std::fs::read(out.join("disk.img")).unwrap();
    assert_eq!(image.len(), data.len());
    for (i, (a, b)) in image.chunks(512).zip(data.chunks(512)).enumerate() {
        if listed.binary_search(&(i as u64)).is_ok() {
            assert!(a.iter().all(|&x| x == 0), "lost sector {i} is not zeros");
        } else {
            assert_eq!(a, b, "sector {i} differs");
        }
    }
    // A second run goes on from the map and reads only the bad sectors again.
    let before = disk.reads().len();
    let (code, stdout, err) = wine.run(
        &[
            "image",
            r"D:\disk.img",
            r"E:\disk.img",
            "--map",
            r"E:\disk.map",
            "--retries",
            "1",
        ],
        &[],
        None,
    );
    assert_eq!(code, 3, "{stdout}{err}");
    let again: Vec<_> = disk.reads()[before..]
        .iter()
        .map(|r| r.range.clone())
        .collect();
    assert_eq!(sectors_of(&again), sectors_of(&bad));
}

/// The Windows agent writes a BitLocker volume plain: the raw copy in `OUT.encrypted`
/// (renamed while open when a volume is not BitLocker's: the test above), then OUT through
/// `OUT.part`, replaced in place.
#[test]
fn the_windows_agent_images_a_bitlocker_volume_decrypted() {
    use fixtures::bitlocker::{encrypt_file, Method, Protector, Spec};
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let plain = dir.path().join("plain.img");
    fixtures::ntfs::mkntfs(&plain, 16 * M, 4096, 512, "Windows");
    let Protector::RecoveryPassword(key) = Protector::recovery_password(11) else {
        unreachable!()
    };
    let spec = Spec::new(Method::XtsAes128, 512).protect(Protector::RecoveryPassword(key.clone()));
    let written = encrypt_file(&plain, &src.join("c.img"), &spec).unwrap();
    let mut want = std::fs::read(&plain).unwrap();
    for r in written.zeroed() {
        want[r.start as usize..r.end as usize].fill(0);
    }
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let wine = WinePrefix::new();
    wine.map_drive('d', &src);
    wine.map_drive('e', &out);
    let args = [
        "image",
        r"D:\c.img",
        r"E:\c.img",
        "--recovery-password",
        key.as_str(),
    ];
    for run in 0..2 {
        let (code, stdout, err) = wine.run(&args, &[], None);
        assert_eq!(code, 0, "run {run}: {stdout}{err}");
        assert!(
            std::fs::read(out.join("c.img")).unwrap() == want,
            "run {run}"
        );
        assert!(!stdout.contains(&key) && !err.contains(&key));
    }
    assert!(out.join("c.img.encrypted").exists());
    assert!(!out.join("c.img.part").exists());
}
