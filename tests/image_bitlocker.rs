//! `lifeboat image` of BitLocker volumes: OUT holds the plain volume. Checked against
//! `dislocker-file -r` on the real volumes Windows wrote (XTS and CBC, with and without
//! the diffuser, passwords, recovery passwords and .BEK files), against the plain image a
//! generated volume was encrypted from (mkntfs, then the fixture writer) inside GPT and MBR
//! disks with `--partition N`, and on a dying disk (FUSE): the lost bytes are zeros and
//! counted, a second run goes on from the map and no good sector is read twice. No key
//! or password shows in any output or file the command writes.

use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fixtures::bitlocker::{encrypt_file, Method, Protector, Spec, Written};
use fixtures::faultdisk::{sector_counts, sectors_of, FaultDisk, Faults, SECTOR};
use fixtures::ntfs::{self, Table, MIB};

const PASSWORD: &str = "password12!@";
const REAL_RECOVERY: &str = "284867-596541-514998-422114-660297-261613-215424-199408";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `lifeboat ARGS`, with `stdin` as its standard input (the password).
fn lifeboat(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(fixtures::lifeboat_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `dislocker-file -r` of `vol` with `key_args`: the plain volume it writes.
fn dislocker(vol: &Path, key_args: &[&str], dir: &Path) -> Vec<u8> {
    let out = dir.join("dislocker.img");
    let _ = std::fs::remove_file(&out);
    let (code, so, se) = fixtures::run(
        Command::new("dislocker-file")
            .arg("-r")
            .arg("-V")
            .arg(vol)
            .args(key_args)
            .arg(&out),
    );
    assert!(code == 0 && out.exists(), "dislocker-file failed: {so}{se}");
    let v = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    v
}

/// OUT is sparse: it holds no more than its 4 KiB blocks that are not zeros (and a little
/// for the file system's own blocks).
fn assert_sparse(out: &Path, what: &str) {
    let data = std::fs::read(out).unwrap();
    let nonzero = data
        .chunks(4096)
        .filter(|c| c.iter().any(|&b| b != 0))
        .count() as u64;
    let allocated = std::fs::metadata(out).unwrap().blocks() * 512;
    assert!(
        allocated < data.len() as u64 && allocated <= nonzero * 4096 + 64 * 1024,
        "{what}: {allocated} bytes allocated for {} bytes of which {} blocks are not zeros",
        data.len(),
        nonzero
    );
}

/// No secret in the outputs, nor in any file of `dir` (OUT, its map, its encrypted copy).
fn assert_no_secret(secrets: &[&str], outputs: &[&str], dir: &Path, what: &str) {
    for secret in secrets {
        for o in outputs {
            assert!(!o.contains(secret), "{what}: a secret in the output:\n{o}");
        }
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if !p.is_file() {
                continue;
            }
            let data = std::fs::read(&p).unwrap();
            let found = data.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{what}: a secret in {}", p.display());
        }
    }
}

// ---------------------------------------------------------------------------------------
// The real volumes.

struct Real {
    file: &'static str,
    /// Lifeboat's key options; `stdin` for --bitlocker-password.
    args: Vec<String>,
    stdin: &'static str,
    dislocker: Vec<String>,
    secret: &'static str,
}

fn real(file: &'static str) -> Real {
    Real {
        file,
        args: vec!["--bitlocker-password".into()],
        stdin: "password12!@\n",
        dislocker: vec![format!("-u{PASSWORD}")],
        secret: PASSWORD,
    }
}

/// A real volume decompressed into `dir`, or `None` (skipped) without the real data.
fn real_volume(name: &str, dir: &Path) -> Option<PathBuf> {
    let gz = fixtures::realdata(&format!("bitlocker/dissect.fve__{name}.bin.gz"))?;
    let out = dir.join(format!("{name}.bin"));
    let mut d = flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap());
    let mut f = std::fs::File::create(&out).unwrap();
    std::io::copy(&mut d, &mut f).unwrap();
    Some(out)
}

fn real_cases(cases: Vec<Real>) {
    for r in cases {
        let dir = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let Some(vol) = real_volume(r.file, work.path()) else {
            return;
        };
        let out = dir.path().join("plain.img");
        let mut args = vec!["image", s(&vol), s(&out)];
        args.extend(r.args.iter().map(String::as_str));
        let (code, so, se) = lifeboat(&args, r.stdin);
        assert_eq!(code, 0, "{}: {so}{se}", r.file);
        let ours = std::fs::read(&out).unwrap();
        let key_args: Vec<&str> = r.dislocker.iter().map(String::as_str).collect();
        let theirs = dislocker(&vol, &key_args, work.path());
        // The real volumes are cut short of the size their metadata gives: dislocker
        // writes that size, the part past the image's end as zeros.
        assert_eq!(ours.len() as u64, std::fs::metadata(&vol).unwrap().len());
        assert!(theirs.len() >= ours.len(), "{}", r.file);
        assert!(
            ours == theirs[..ours.len()],
            "{}: OUT differs from dislocker-file's",
            r.file
        );
        assert!(theirs[ours.len()..].iter().all(|&b| b == 0), "{}", r.file);
        assert_sparse(&out, r.file);
        assert!(so.contains(&format!("{}.encrypted", out.display())), "{so}");
        assert!(dir.path().join("plain.img.encrypted").exists());
        assert_no_secret(&[r.secret], &[&so, &se], dir.path(), r.file);
    }
}

#[test]
fn real_xts_volumes_image_as_dislocker_reads_them() {
    let recovery = Real {
        file: "recovery_password",
        args: vec!["--recovery-password".into(), REAL_RECOVERY.into()],
        stdin: "",
        dislocker: vec![format!("-p{REAL_RECOVERY}")],
        secret: REAL_RECOVERY,
    };
    let Some(bek) = fixtures::realdata("bitlocker/dissect.fve__startup_key.bek") else {
        return;
    };
    let startup = Real {
        file: "startup_key",
        args: vec!["--startup-key".into(), s(&bek).into()],
        stdin: "",
        dislocker: vec!["-f".into(), s(&bek).into()],
        secret: "\u{0}never",
    };
    real_cases(vec![
        real("aes-xts_128"),
        real("aes-xts_256"),
        recovery,
        startup,
    ]);
}

#[test]
fn real_cbc_volumes_image_as_dislocker_reads_them() {
    real_cases(vec![
        real("aes_128"),
        real("aes_256"),
        real("aes_128_diffuser"),
        real("aes_256_diffuser"),
    ]);
}

#[test]
fn a_wrong_or_missing_key_names_the_recovery_key_id_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let Some(vol) = real_volume("recovery_password", work.path()) else {
        return;
    };
    // The recovery password's protector ID, as cryptsetup reads it.
    let (_, dump, _) = fixtures::run(Command::new("cryptsetup").arg("bitlkDump").arg(&vol));
    let id = dump
        .split(" VMK")
        .find(|slot| slot.contains("recovery passphrase"))
        .and_then(|slot| slot.lines().find(|l| l.trim_start().starts_with("GUID:")))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no recovery keyslot in bitlkDump:\n{dump}"))
        .to_uppercase();
    let wrong = "111111-111111-111111-111111-111111-111111-111111-111111";
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plain.img");
    for keys in [vec![], vec!["--recovery-password", wrong]] {
        let mut args = vec!["image", s(&vol), s(&out)];
        args.extend(keys.iter());
        let (code, so, se) = lifeboat(&args, "");
        assert_eq!(code, 11, "{so}{se}");
        assert!(
            se.contains(&id),
            "the recovery key ID {id} is not named: {se}"
        );
        assert!(se.contains(s(&vol)), "the volume is not named: {se}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "files left behind: {left:?}");
        assert_no_secret(&[wrong], &[&so, &se], dir.path(), "wrong key");
    }
}

// ---------------------------------------------------------------------------------------
// Generated volumes.

const VOLUME: u64 = 16 * MIB;
/// Noise written into the plain volume's free space, so lost bytes are not zeros anyway.
const NOISE: Range<u64> = 9 * MIB..14 * MIB;

struct Locked {
    enc: PathBuf,
    /// The plain volume as a reader must give it: metadata areas as zeros.
    want: Vec<u8>,
    recovery: String,
    written: Written,
}

/// A plain NTFS volume (mkntfs) with noise in its free space, encrypted by the fixture
/// writer with a recovery password, a password and a startup key.
fn locked(dir: &Path, method: Method, sector: u32) -> Locked {
    let plain = dir.join("plain-source.img");
    ntfs::mkntfs(&plain, VOLUME, 4096, sector, "Windows");
    let mut data = std::fs::read(&plain).unwrap();
    data[NOISE.start as usize..NOISE.end as usize]
        .copy_from_slice(&fixtures::noise((NOISE.end - NOISE.start) as usize, 5));
    std::fs::write(&plain, &data).unwrap();
    let Protector::RecoveryPassword(recovery) = Protector::recovery_password(3) else {
        unreachable!()
    };
    let spec = Spec::new(method, sector)
        .protect(Protector::RecoveryPassword(recovery.clone()))
        .protect(Protector::Password(PASSWORD.into()));
    let enc = dir.join("locked.img");
    let written = encrypt_file(&plain, &enc, &spec).unwrap();
    for r in written.zeroed() {
        data[r.start as usize..r.end as usize].fill(0);
    }
    std::fs::remove_file(&plain).unwrap();
    Locked {
        enc,
        want: data,
        recovery,
        written,
    }
}

/// The map's one block line for a source of `size` bytes rescued whole.
fn whole_map_line(size: u64) -> String {
    format!("0x00000000  0x{size:08X}  +")
}

#[test]
fn a_bitlocker_partition_of_a_gpt_or_mbr_disk_images_plain_with_partition_n() {
    for (method, sector, table) in [
        (Method::XtsAes256, 4096, Table::Gpt),
        (Method::AesCbc128Diffuser, 512, Table::Mbr),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let what = format!("{method:?}, {sector}-byte sectors, {table:?}");
        let v = locked(dir.path(), method, sector);
        let (disk, number) = ntfs::disk_image(dir.path(), &v.enc, table);
        let outdir = tempfile::tempdir().unwrap();
        let out = outdir.path().join("c.img");
        let n = number.to_string();
        let (code, so, se) = lifeboat(
            &[
                "image",
                s(&disk),
                s(&out),
                "--partition",
                &n,
                "--recovery-password",
                &v.recovery,
            ],
            "",
        );
        assert_eq!(code, 0, "{what}: {so}{se}");
        let ours = std::fs::read(&out).unwrap();
        assert!(ours == v.want, "{what}: OUT is not the plain volume");
        assert_sparse(&out, &what);
        if sector == 512 {
            let theirs = dislocker(&v.enc, &[&format!("-p{}", v.recovery)], dir.path());
            assert!(
                ours == theirs[..ours.len()],
                "{what}: dislocker-file differs"
            );
        }
        // The map counts from the partition's first byte, over the partition alone.
        let map = std::fs::read_to_string(outdir.path().join("c.img.map")).unwrap();
        assert!(map.contains(&whole_map_line(VOLUME)), "{what}: {map}");
        assert_no_secret(&[&v.recovery], &[&so, &se], outdir.path(), &what);
        // A partition the table does not have is named with those it has.
        let (code, _, se) = lifeboat(&["image", s(&disk), s(&out), "--partition", "9"], "");
        assert_eq!(code, 11, "{se}");
        assert!(
            se.contains("no partition 9") && se.contains(&format!("{number} (")),
            "{se}"
        );
    }
}

#[test]
fn a_volume_that_is_not_bitlocker_is_copied_as_it_is_with_its_partition() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("ntfs.img");
    ntfs::mkntfs(&vol, 8 * MIB, 4096, 512, "Data");
    let (disk, number) = ntfs::disk_image(dir.path(), &vol, Table::Gpt);
    let out = dir.path().join("copy.img");
    let n = number.to_string();
    let (code, so, se) = lifeboat(&["image", s(&disk), s(&out), "--partition", &n], "");
    assert_eq!(code, 0, "{so}{se}");
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&vol).unwrap());
    assert!(!dir.path().join("copy.img.encrypted").exists());
    assert!(!so.contains("encrypted copy"), "{so}");
    // A volume has no partition table to choose from.
    let (code, _, se) = lifeboat(&["image", s(&vol), s(&out), "--partition", "1"], "");
    assert_eq!(code, 11, "{se}");
    assert!(se.contains("leave out --partition"), "{se}");
}

#[test]
fn as_is_keeps_a_bitlocker_volume_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let v = locked(dir.path(), Method::XtsAes128, 512);
    let out = dir.path().join("raw.img");
    let (code, so, se) = lifeboat(&["image", s(&v.enc), s(&out), "--as-is"], "");
    assert_eq!(code, 0, "{so}{se}");
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&v.enc).unwrap());
    // The copy and its map are of the encrypted volume: a run with a key does not write
    // plain bytes over them, and says what to do.
    let (code, _, se) = lifeboat(
        &[
            "image",
            s(&v.enc),
            s(&out),
            "--recovery-password",
            &v.recovery,
        ],
        "",
    );
    assert_eq!(code, 11, "{se}");
    assert!(
        se.contains("--as-is") && se.contains("raw.img.encrypted"),
        "{se}"
    );
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&v.enc).unwrap());
}

// ---------------------------------------------------------------------------------------
// A dying disk.

/// Sectors of the encrypted volume that never read, inside the noise.
fn hard_bad() -> Vec<Range<u64>> {
    vec![
        10 * MIB + 3 * SECTOR..10 * MIB + 40 * SECTOR,
        12 * MIB..12 * MIB + 256 * 1024,
    ]
}

/// The sectors a map lists as not rescued (`ddrescuelog`).
fn not_rescued(map: &Path) -> Vec<u64> {
    let (code, out, err) = fixtures::run(
        Command::new("ddrescuelog")
            .arg("--list-blocks=?*/-")
            .arg(map),
    );
    assert_eq!(code, 0, "ddrescuelog: {err}");
    out.lines().map(|l| l.trim().parse().unwrap()).collect()
}

/// OUT equals the plain volume outside the `lost` sectors and is zeros inside them.
fn check_plain(out: &Path, want: &[u8], lost: &[u64]) {
    let got = std::fs::read(out).unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got
        .chunks(SECTOR as usize)
        .zip(want.chunks(SECTOR as usize))
        .enumerate()
    {
        if lost.binary_search(&(i as u64)).is_ok() {
            assert!(a.iter().all(|&x| x == 0), "lost sector {i} is not zeros");
        } else {
            assert_eq!(a, b, "sector {i} differs from the plain volume");
        }
    }
}

/// The lost bytes the summary counts.
fn lost_in_summary(stdout: &str) -> u64 {
    stdout
        .lines()
        .find(|l| l.starts_with("decrypted:"))
        .and_then(|l| l.split("; ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn a_dying_bitlocker_disk_is_imaged_plain_and_a_second_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let v = locked(dir.path(), Method::XtsAes128, 512);
    let faults = Faults {
        bad: hard_bad(),
        ..Faults::default()
    };
    let disk = FaultDisk::serve(&v.enc, &faults);
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("plain.img");
    let map = outdir.path().join("plain.map");
    let f = disk.file();
    let base = [
        "image",
        s(&f),
        s(&out),
        "--map",
        s(&map),
        "--bitlocker-password",
    ];
    let stdin = format!("{PASSWORD}\n");
    // One pass: the areas around the bad sectors are left for later.
    let (code, so1, se1) = lifeboat(&[&base[..], &["--max-passes", "1"]].concat(), &stdin);
    assert_eq!(code, 3, "{so1}{se1}");
    assert!(so1.contains("--max-passes reached"), "{so1}");
    let lost = not_rescued(&map);
    let bad = sectors_of(&hard_bad());
    assert!(lost.len() > bad.len(), "pass 1 left only the bad sectors");
    check_plain(&out, &v.want, &lost);
    let zeroed: Vec<u64> = sectors_of(&v.written.zeroed());
    let plain_lost = lost
        .iter()
        .filter(|s| zeroed.binary_search(s).is_err())
        .count() as u64;
    assert_eq!(lost_in_summary(&so1), plain_lost * SECTOR, "{so1}");
    assert!(so1.contains("keep it"), "{so1}");
    // The second run goes on from the map: the bad sectors alone are lost.
    let (code, so2, se2) = lifeboat(&base, &stdin);
    assert_eq!(code, 3, "{so2}{se2}");
    assert_eq!(not_rescued(&map), bad);
    check_plain(&out, &v.want, &bad);
    assert_eq!(lost_in_summary(&so2), bad.len() as u64 * SECTOR, "{so2}");
    for (sector, (_, good)) in sector_counts(&disk.reads()) {
        assert!(good <= 1, "sector at {sector} was read good {good} times");
    }
    let map_text = std::fs::read_to_string(&map).unwrap();
    assert!(map_text.contains("--bitlocker-password"), "{map_text}");
    assert_no_secret(
        &[PASSWORD],
        &[&so1, &se1, &so2, &se2],
        outdir.path(),
        "dying disk",
    );
    assert!(!outdir.path().join("plain.img.part").exists());
}

#[test]
fn secrets_given_by_file_stay_out_of_the_map_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let v = locked(dir.path(), Method::AesCbc256, 512);
    let keys = dir.path().join("keys.txt");
    std::fs::write(&keys, format!("# batch\n{}\n", v.recovery)).unwrap();
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("p.img");
    let (code, so, se) = lifeboat(&["image", s(&v.enc), s(&out), "--keys", s(&keys)], "");
    assert_eq!(code, 0, "{so}{se}");
    assert!(std::fs::read(&out).unwrap() == v.want);
    // Given inline, the recovery password is replaced in the map's command line.
    let out2 = outdir.path().join("q.img");
    let inline = format!("--recovery-password={}", v.recovery);
    let (code, so2, se2) = lifeboat(&["image", s(&v.enc), s(&out2), &inline], "");
    assert_eq!(code, 0, "{so2}{se2}");
    let map = std::fs::read_to_string(outdir.path().join("q.img.map")).unwrap();
    assert!(map.contains("--recovery-password=(not shown)"), "{map}");
    assert_no_secret(
        &[&v.recovery],
        &[&so, &se, &so2, &se2],
        outdir.path(),
        "keys",
    );
}

#[test]
fn a_bitlocker_volume_whose_first_sector_fails_at_first_is_still_written_plain() {
    let dir = tempfile::tempdir().unwrap();
    let v = locked(dir.path(), Method::AesCbc128, 512);
    // The header fails its first two reads: whether the volume is BitLocker's is known only
    // after the rescue has read it again.
    let faults = Faults {
        flaky: vec![(0..SECTOR, 2)],
        ..Faults::default()
    };
    let disk = FaultDisk::serve(&v.enc, &faults);
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("plain.img");
    let f = disk.file();
    let (code, so, se) = lifeboat(
        &[
            "image",
            s(&f),
            s(&out),
            "--retries",
            "2",
            "--recovery-password",
            &v.recovery,
        ],
        "",
    );
    assert_eq!(code, 0, "{so}{se}");
    assert!(se.contains("did not read yet"), "{se}");
    assert!(std::fs::read(&out).unwrap() == v.want);
    assert!(outdir.path().join("plain.img.encrypted").exists());
    for (sector, (_, good)) in sector_counts(&disk.reads()) {
        assert!(good <= 1, "sector at {sector} was read good {good} times");
    }
    assert_no_secret(&[&v.recovery], &[&so, &se], outdir.path(), "first sector");
}

/// A capture's `--map` after `lifeboat image` of a BitLocker volume: the map belongs to the
/// encrypted copy (`OUT.encrypted`), not to the decrypted OUT beside it, and the volume is
/// read from that copy alone. The disk is then blanked: had anything been read from it, or
/// OUT taken for the raw bytes, the volume would not be found BitLocker's and unlocked.
#[test]
fn a_map_shared_with_detect_reads_the_encrypted_copy_not_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let l = locked(dir.path(), Method::XtsAes128, 512);
    let out = dir.path().join("c.img");
    let (code, stdout, err) = lifeboat(
        &[
            "image",
            s(&l.enc),
            s(&out),
            "--recovery-password",
            &l.recovery,
        ],
        "",
    );
    assert_eq!(code, 0, "{stdout}{err}");
    let size = std::fs::metadata(&l.enc).unwrap().len();
    std::fs::write(&l.enc, vec![0u8; size as usize]).unwrap();
    let map = dir.path().join("c.img.map");
    let (_, json, err) = lifeboat(
        &[
            "detect",
            "--json",
            s(&l.enc),
            "--map",
            s(&map),
            "--recovery-password",
            &l.recovery,
        ],
        "",
    );
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}{err}"));
    let enc = &v["scanned"][0]["encryption"];
    assert_eq!(enc["kind"], "bitlocker", "{json}{err}");
    assert_eq!(enc["unlocked"], true, "{json}{err}");
    assert_eq!(v["scanned"][0]["state"], "ok", "{json}");
}
