//! `lifeboat image` on a dying disk served through FUSE (`tests/support/faultfs.py`): bad
//! sectors, sectors that fail at first, a slow area. Its map is read by GNU ddrescuelog and
//! compared with the faults injected and with GNU ddrescue's own map of the same disk; the
//! bytes with the fixture and with ddrescue's image; and the disk's read log shows that no
//! good sector is read twice, also across runs and across the two tools.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fixtures::faultdisk::{sector_counts, sectors_of, FaultDisk, Faults, Logged, SECTOR};

const K: u64 = 1024;
const M: u64 = 1024 * 1024;
const SIZE: u64 = 8 * M;
/// A slow read takes this much longer; `lifeboat image` is told a read slower than
/// [`SLOW_READ`] is slow. Far apart, so a busy machine cannot blur them.
const SLOW_DELAY: f64 = 0.4;
const SLOW_READ: &str = "0.2";

/// The fixture disk: noise, with a megabyte of zeros (which the image leaves a hole).
fn fixture(dir: &Path) -> PathBuf {
    let mut data = fixtures::noise(SIZE as usize, 19);
    data[3 * M as usize..4 * M as usize].fill(0);
    let path = dir.join("disk.img");
    std::fs::write(&path, data).unwrap();
    path
}

/// Sectors that fail every time (at the start, inside, across a cluster edge, a long run
/// that pass 1 skips through, the end), two that fail twice and four that fail once.
fn faults() -> Faults {
    Faults {
        bad: hard_bad(),
        flaky: vec![(6 * M + 10 * SECTOR..6 * M + 14 * SECTOR, 1), (twice(), 2)],
        slow: vec![(7 * M..7 * M + 192 * K, SLOW_DELAY)],
    }
}

fn hard_bad() -> Vec<Range<u64>> {
    vec![
        0..SECTOR,
        M + 3 * SECTOR..M + 40 * SECTOR,
        2 * M - 2 * SECTOR..2 * M + 4 * SECTOR,
        5 * M..5 * M + 512 * K,
        SIZE - 3 * SECTOR..SIZE,
    ]
}

fn twice() -> Range<u64> {
    6 * M + 512 * K..6 * M + 512 * K + 2 * SECTOR
}

fn lifeboat(args: &[&str]) -> (i32, String, String) {
    fixtures::run(Command::new(fixtures::lifeboat_bin()).args(args))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `ddrescuelog --list-blocks=TYPES MAP`: the sectors of those types.
fn listed(map: &Path, types: &str) -> Vec<u64> {
    let (code, out, err) = fixtures::run(
        Command::new("ddrescuelog").args([&format!("--list-blocks={types}"), s(map)]),
    );
    assert_eq!(code, 0, "ddrescuelog refused {}: {err}", map.display());
    out.lines().map(|l| l.trim().parse().unwrap()).collect()
}

/// The bad areas `ddrescuelog -t MAP` counts.
fn bad_areas(map: &Path) -> usize {
    let (code, text, err) = fixtures::run(Command::new("ddrescuelog").args(["-t", s(map)]));
    assert_eq!(code, 0, "ddrescuelog -t refused {}: {err}", map.display());
    text.lines()
        .find(|l| l.trim_start().starts_with("bad-sector:"))
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no bad-sector line in ddrescuelog -t:\n{text}"))
}

/// Runs of consecutive sector numbers.
fn runs(sectors: &[u64]) -> usize {
    sectors.windows(2).filter(|w| w[1] != w[0] + 1).count() + usize::from(!sectors.is_empty())
}

/// The image equals the fixture outside `lost` and holds zeros inside.
fn check_image(image: &Path, fixture: &Path, lost: &[u64]) {
    let got = std::fs::read(image).unwrap();
    let want = std::fs::read(fixture).unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got
        .chunks(SECTOR as usize)
        .zip(want.chunks(SECTOR as usize))
        .enumerate()
    {
        if lost.binary_search(&(i as u64)).is_ok() {
            assert!(a.iter().all(|&x| x == 0), "lost sector {i} is not zeros");
        } else {
            assert_eq!(a, b, "sector {i} differs from the fixture");
        }
    }
}

/// No sector was read good twice; none was tried more than `most` times.
fn check_reads(reads: &[Logged], most: u32) {
    for (sector, (tried, good)) in sector_counts(reads) {
        assert!(good <= 1, "sector at {sector} was read good {good} times");
        assert!(tried <= most, "sector at {sector} was tried {tried} times");
    }
}

fn image(disk: &FaultDisk, out: &Path, map: &Path, extra: &[&str]) -> (i32, String, String) {
    let f = disk.file();
    let mut args = vec![
        "image",
        s(&f),
        s(out),
        "--map",
        s(map),
        "--slow-read",
        SLOW_READ,
    ];
    args.extend_from_slice(extra);
    lifeboat(&args)
}

fn ddrescue(disk: &FaultDisk, out: &Path, map: &Path, extra: &[&str]) {
    let f = disk.file();
    let (code, _, err) =
        fixtures::run(
            Command::new("ddrescue")
                .args(extra)
                .args([s(&f), s(out), s(map)]),
        );
    assert_eq!(code, 0, "ddrescue failed: {err}");
}

#[test]
fn image_maps_the_faults_at_sector_precision_and_copies_every_other_byte() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let before = std::fs::read(&fixture).unwrap();
    let disk = FaultDisk::serve(&fixture, &faults());
    let (out, map) = (dir.path().join("out.img"), dir.path().join("out.map"));
    let (code, stdout, err) = image(&disk, &out, &map, &[]);
    assert_eq!(code, 3, "bad sectors remain: exit 3\n{stdout}{err}");
    assert!(stdout.contains("--retries"), "{stdout}");
    let mut bad = hard_bad();
    bad.push(twice());
    assert_eq!(listed(&map, "-"), sectors_of(&bad));
    assert_eq!(listed(&map, "?*/"), Vec::<u64>::new());
    assert_eq!(bad_areas(&map), runs(&sectors_of(&bad)));
    check_image(&out, &fixture, &sectors_of(&bad));
    let reads = disk.reads();
    check_reads(&reads, 2);

    // Pass 1 (reads going forwards) met the slow area twice, skipping after each.
    let slow = 7 * M..7 * M + 192 * K;
    let pass1 = reads
        .iter()
        .zip(std::iter::once(0).chain(reads.iter().map(|r| r.range.start)))
        .take_while(|(r, prev)| r.range.start >= *prev)
        .filter(|(r, _)| r.range.start < slow.end && slow.start < r.range.end)
        .map(|(r, _)| r.range.start)
        .collect::<Vec<_>>();
    assert_eq!(pass1, [7 * M, 7 * M + 128 * K]);

    // The megabyte of zeros was not written: the image is sparse there.
    use std::os::unix::fs::MetadataExt;
    let allocated = std::fs::metadata(&out).unwrap().blocks() * 512;
    assert!(allocated <= SIZE - M, "{allocated} bytes allocated");

    // A second run with a retry pass reads the bad sectors once more, nothing else: the
    // sectors that failed twice now read.
    let (code, stdout, _) = image(&disk, &out, &map, &["--retries", "1"]);
    assert_eq!(code, 3, "{stdout}");
    assert_eq!(listed(&map, "-"), sectors_of(&hard_bad()));
    check_image(&out, &fixture, &sectors_of(&hard_bad()));
    let again = &disk.reads()[reads.len()..];
    assert!(again.iter().all(|r| r.range.end - r.range.start == SECTOR));
    assert_eq!(
        sectors_of(&again.iter().map(|r| r.range.clone()).collect::<Vec<_>>()),
        sectors_of(&bad)
    );
    check_reads(&disk.reads(), 3);
    assert_eq!(
        std::fs::read(&fixture).unwrap(),
        before,
        "the source was changed"
    );
}

#[test]
fn gnu_ddrescue_on_the_same_disk_makes_the_same_map_and_image() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let p = |n: &str| dir.path().join(n);
    let ours = FaultDisk::serve(&fixture, &faults());
    let theirs = FaultDisk::serve(&fixture, &faults());
    let (code, stdout, err) = image(&ours, &p("lb.img"), &p("lb.map"), &[]);
    assert_eq!(code, 3, "{stdout}{err}");
    ddrescue(&theirs, &p("dd.img"), &p("dd.map"), &[]);
    let same = |a: &str, b: &str| {
        let (code, out, err) = fixtures::run(
            Command::new("ddrescuelog")
                .args([&format!("--compare-mapfile={}", s(&p(a))), s(&p(b))]),
        );
        assert_eq!(code, 0, "{a} and {b} differ: {out}{err}");
        // ddrescue leaves its image short when the last sectors are bad; Lifeboat's is as
        // long as the source, with zeros there.
        let mut theirs = std::fs::read(p(a).with_extension("img")).unwrap();
        theirs.resize(SIZE as usize, 0);
        let ours = std::fs::read(p(b).with_extension("img")).unwrap();
        assert!(theirs == ours, "the images differ");
    };
    same("dd.map", "lb.map");
    // One retry pass each, each going on from its own map.
    image(&ours, &p("lb.img"), &p("lb.map"), &["--retries", "1"]);
    ddrescue(&theirs, &p("dd.img"), &p("dd.map"), &["-r1"]);
    same("dd.map", "lb.map");
    assert_eq!(listed(&p("lb.map"), "-"), sectors_of(&hard_bad()));
}

#[test]
fn each_tool_goes_on_from_the_others_map_without_reading_a_good_sector_again() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let p = |n: &str| dir.path().join(n);
    let mut bad = hard_bad();
    bad.push(twice());

    // Lifeboat's first pass, then ddrescue.
    let disk = FaultDisk::serve(&fixture, &faults());
    let (code, stdout, _) = image(&disk, &p("a.img"), &p("a.map"), &["--max-passes", "1"]);
    assert_eq!(code, 3);
    assert!(stdout.contains("--max-passes reached"), "{stdout}");
    let text = std::fs::read_to_string(p("a.map")).unwrap();
    assert!(
        text.contains("\n0x00800000     ?               2\n"),
        "{text}"
    );
    assert!(!listed(&p("a.map"), "?").is_empty());
    ddrescue(&disk, &p("a.img"), &p("a.map"), &[]);
    assert_eq!(listed(&p("a.map"), "-"), sectors_of(&bad));
    check_image(&p("a.img"), &fixture, &sectors_of(&bad));
    check_reads(&disk.reads(), 2);
    drop(disk);

    // ddrescue's copying pass 1 only, then Lifeboat.
    let disk = FaultDisk::serve(&fixture, &faults());
    ddrescue(&disk, &p("b.img"), &p("b.map"), &["--cpass=1", "-N", "-n"]);
    assert!(!listed(&p("b.map"), "?*").is_empty());
    let (code, _, err) = image(&disk, &p("b.img"), &p("b.map"), &[]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(listed(&p("b.map"), "-"), sectors_of(&bad));
    check_image(&p("b.img"), &fixture, &sectors_of(&bad));
    check_reads(&disk.reads(), 2);
}

#[test]
fn a_run_stopped_by_time_or_passes_is_resumed_and_nothing_good_is_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let p = |n: &str| dir.path().join(n);
    let disk = FaultDisk::serve(&fixture, &faults());
    let (out, map) = (p("out.img"), p("out.map"));
    // Pass 1 reaches the slow area (a read there takes 0.4 s) after the time is up.
    fixtures::lifeboat_bin();
    let t = Instant::now();
    let (code, stdout, _) = image(&disk, &out, &map, &["--max-time", "0.3"]);
    let took = t.elapsed();
    assert_eq!(code, 3);
    assert!(stdout.contains("--max-time reached"), "{stdout}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let text = std::fs::read_to_string(&map).unwrap();
    assert!(
        text.contains("     ?               1\n"),
        "still in pass 1: {text}"
    );
    let (code, stdout, _) = image(&disk, &out, &map, &["--max-passes", "2"]);
    assert_eq!(code, 3);
    assert!(stdout.contains("--max-passes reached"), "{stdout}");
    let (code, stdout, _) = image(&disk, &out, &map, &[]);
    assert_eq!(code, 3, "{stdout}");
    let mut bad = hard_bad();
    bad.push(twice());
    assert_eq!(listed(&map, "-"), sectors_of(&bad));
    check_image(&out, &fixture, &sectors_of(&bad));
    check_reads(&disk.reads(), 2);
    // Every byte rescued already: nothing is read, exit 0 needs every byte.
    let n = disk.reads().len();
    let (code, _, _) = image(&disk, &out, &map, &[]);
    assert_eq!(code, 3);
    assert_eq!(disk.reads().len(), n);
}

#[test]
fn a_read_the_disk_does_not_answer_is_given_up_in_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    // One read there takes 3 s; the disk answers one request at a time, so the reads
    // after it wait as long.
    let hang = Faults {
        slow: vec![(4 * M..4 * M + SECTOR, 3.0)],
        ..Faults::default()
    };
    let disk = FaultDisk::serve(&fixture, &hang);
    let (out, map) = (dir.path().join("o.img"), dir.path().join("o.map"));
    let f = disk.file();
    let bin = fixtures::lifeboat_bin();
    let t = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "image",
            s(&f),
            s(&out),
            "--map",
            s(&map),
            "--read-timeout",
            "0.5",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The summary comes when the run gives up; the process itself ends only when the
    // system lets go of the thread still in the read, as with a real disk.
    let mut stdout = String::new();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let took = loop {
        let line = lines.next().expect("a summary").unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
        if line.starts_with("Stopped") {
            break t.elapsed();
        }
    };
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(3), "{stdout}");
    assert!(
        stdout.contains("the disk did not answer a read"),
        "{stdout}"
    );
    // Without the timeout the run would wait for ever: a loose bound is enough.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // The read given up on counts as failed; the one after it was never answered.
    let failed = listed(&map, "*");
    assert_eq!(failed.first(), Some(&(4 * M / SECTOR)));
    assert!(listed(&map, "+").contains(&(4 * M / SECTOR - 1)));
}

#[test]
fn a_healthy_disk_is_copied_whole_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let disk = FaultDisk::serve(&fixture, &Faults::default());
    let (out, map) = (dir.path().join("o.img"), dir.path().join("o.map"));
    let (code, stdout, err) = image(&disk, &out, &map, &[]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("Finished: every byte rescued"), "{stdout}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&fixture).unwrap()
    );
    // Large reads while the disk shows no trouble (FUSE passes them on in pieces of at
    // most 128 KiB); every sector once.
    let reads = disk.reads();
    assert!(reads.iter().all(|r| r.ok));
    assert!(
        reads.len() < (SIZE / (64 * K)) as usize,
        "{} reads",
        reads.len()
    );
    check_reads(&reads, 1);
    let (code, out_t, _) = fixtures::run(Command::new("ddrescuelog").args(["-D", s(&map)]));
    assert_eq!(
        code, 0,
        "ddrescuelog says the rescue is not finished: {out_t}"
    );
}

#[test]
fn hostile_maps_and_unsafe_places_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let p = |n: &str| dir.path().join(n);
    let cases: &[(&str, &str, bool)] = &[
        // (map text, the line named, whether ddrescuelog refuses it too)
        ("0 + 1\n0 0x1000 +\n0x1200 0x1000 +\n", "line 3", true),
        ("0 + 1\n0 0x1000 +\n0x800 0x1000 -\n", "line 3", true),
        ("0 + 1\n0 0x1000 x\n", "line 2", true),
        ("0 x 1\n", "line 1", true),
        ("# a comment\n\n0 + 1\n-1 0x1000 +\n", "line 4", true),
        ("0 + 1\n0 0x1000 + trailing words\n", "line 2", false),
        ("0 + 1\n0 0x8000000000000000 +\n", "line 2", false),
        ("\u{0}\u{1}garbage\n", "line 1", true),
    ];
    for (i, (text, line, peer_refuses)) in cases.iter().enumerate() {
        let map = p(&format!("h{i}.map"));
        std::fs::write(&map, text).unwrap();
        let out = p(&format!("h{i}.img"));
        let (code, _, err) = lifeboat(&["image", s(&fixture), s(&out), "--map", s(&map)]);
        assert_eq!(code, 11, "{text:?}: {err}");
        assert!(err.contains(line), "{text:?}: {err}");
        assert!(!out.exists(), "no image is made from a refused map");
        let (peer, _, _) = fixtures::run(Command::new("ddrescuelog").args(["-t", s(&map)]));
        assert_eq!(peer == 2, *peer_refuses, "ddrescuelog on {text:?}: {peer}");
    }
    // A map with rescued data past the source's end is another disk's.
    std::fs::write(p("big.map"), "0 + 1\n0 0x1000000 +\n").unwrap();
    let (code, _, err) = lifeboat(&[
        "image",
        s(&fixture),
        s(&p("x.img")),
        "--map",
        s(&p("big.map")),
    ]);
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("is it this source's map?"), "{err}");
    // The image cannot be the source, nor the map.
    let (code, _, err) = lifeboat(&["image", s(&fixture), s(&fixture), "--map", s(&p("y.map"))]);
    assert_eq!(code, 11, "{err}");
    let (code, _, err) = lifeboat(&[
        "image",
        s(&fixture),
        s(&p("z.img")),
        "--map",
        s(&p("z.img")),
    ]);
    assert_eq!(code, 11, "{err}");
    // An image holding data without its map, or a map without its image: refused.
    std::fs::write(p("data.img"), b"something").unwrap();
    let (code, _, err) = lifeboat(&[
        "image",
        s(&fixture),
        s(&p("data.img")),
        "--map",
        s(&p("new.map")),
    ]);
    assert_eq!(code, 27, "{err}");
    std::fs::write(p("old.map"), "0 + 1\n0 0x800000 +\n").unwrap();
    let (code, _, err) = lifeboat(&[
        "image",
        s(&fixture),
        s(&p("gone.img")),
        "--map",
        s(&p("old.map")),
    ]);
    assert_eq!(code, 27, "{err}");
    // Bad options and an unreadable source.
    let (code, _, _) = lifeboat(&["image", s(&fixture), s(&p("o.img")), "--max-passes", "0"]);
    assert_eq!(code, 11);
    let (code, _, _) = lifeboat(&["image", s(&fixture), s(&p("o.img")), "--max-time", "soon"]);
    assert_eq!(code, 11);
    let (code, _, _) = lifeboat(&["image", s(&p("missing.img")), s(&p("o.img"))]);
    assert_eq!(code, 61);
    assert_eq!(std::fs::read(&fixture).unwrap().len() as u64, SIZE);
}

/// A loop device, detached when dropped.
struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn a_block_device_is_read_directly_and_copied_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture(dir.path());
    let (code, dev, err) =
        fixtures::run(Command::new("losetup").args(["-f", "--show", "-r", s(&fixture)]));
    assert_eq!(code, 0, "losetup (root, loop devices) is needed: {err}");
    let dev = Loop(dev.trim().to_string());
    let out = dir.path().join("dev.img");
    let (code, stdout, err) = lifeboat(&["image", &dev.0, s(&out)]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(err.contains("read directly"), "{err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&fixture).unwrap()
    );
    let map = std::fs::read_to_string(dir.path().join("dev.img.map")).unwrap();
    assert!(map.contains("0x00000000  0x00800000  +"), "{map}");
}

/// The device node of a loop device's first partition: udev's, or (where no udev makes
/// it, as in a container) one made in `dir` from the numbers sysfs gives. Where the
/// kernel's own scan made no partition, `partx` adds it.
fn partition_node(disk: &str, dir: &Path) -> String {
    let name = format!("{}p1", disk.trim_start_matches("/dev/"));
    let sys = PathBuf::from(format!("/sys/class/block/{name}/dev"));
    let until = Instant::now() + Duration::from_secs(1);
    while !sys.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !sys.exists() {
        let _ = Command::new("partx").args(["-a", disk]).status();
    }
    let until = Instant::now() + Duration::from_secs(10);
    while !sys.exists() {
        assert!(Instant::now() < until, "{name} did not appear in sysfs");
        std::thread::sleep(Duration::from_millis(50));
    }
    let udev = format!("/dev/{name}");
    if Path::new(&udev).exists() {
        return udev;
    }
    let numbers = std::fs::read_to_string(&sys).unwrap();
    let (major, minor) = numbers.trim().split_once(':').unwrap();
    let node = dir.join(&name);
    let (code, _, err) = fixtures::run(Command::new("mknod").args([s(&node), "b", major, minor]));
    assert_eq!(code, 0, "mknod: {err}");
    node.to_str().unwrap().to_string()
}

/// A mount, unmounted when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn an_image_on_the_disk_being_rescued_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A disk with one partition holding an ext2 file system, mounted.
    let disk = dir.path().join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(16 * M)
        .unwrap();
    let sfdisk = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo 'start=2048, type=83' | sfdisk -q {}",
            s(&disk)
        ))
        .status()
        .unwrap();
    assert!(sfdisk.success(), "sfdisk");
    let (code, dev, err) =
        fixtures::run(Command::new("losetup").args(["-f", "--show", "-P", s(&disk)]));
    assert_eq!(code, 0, "losetup (root, loop devices) is needed: {err}");
    let dev = Loop(dev.trim().to_string());
    let part = partition_node(&dev.0, dir.path());
    let (code, _, err) = fixtures::run(Command::new("mkfs.ext2").args(["-q", &part]));
    assert_eq!(code, 0, "mkfs.ext2: {err}");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let (code, _, err) = fixtures::run(Command::new("mount").args([&part, s(&mnt)]));
    assert_eq!(code, 0, "mount: {err}");
    let mounted = Mounted(mnt.clone());
    // The partition itself, and the whole disk it is on: both refused, nothing written.
    for source in [&part, &dev.0] {
        let out = mnt.join("rescue.img");
        let (code, _, err) = lifeboat(&[
            "image",
            source,
            s(&out),
            "--map",
            s(&dir.path().join("m.map")),
        ]);
        assert_eq!(code, 11, "{source}: {err}");
        assert!(err.contains("lies on"), "{source}: {err}");
        assert!(!out.exists());
        // The map may not go there either.
        let (code, _, err) = lifeboat(&[
            "image",
            source,
            s(&dir.path().join("o.img")),
            "--map",
            s(&mnt.join("m.map")),
        ]);
        assert_eq!(code, 11, "{source}: {err}");
        assert!(!dir.path().join("o.img").exists());
    }
    drop(mounted);
}
