//! A capture from a dying disk: a disk image holding a Windows installation on NTFS (made by
//! mkntfs, filled through ntfs-3g, partitioned by sfdisk), served through FUSE
//! (`tests/support/faultfs.py`) with bad sectors over chosen files' data, over one file's
//! MFT record and over a user's hive, and a slow area over another file. Where each file
//! lies is asked of ntfs-3g (`ntfsinfo`), not of Lifeboat's reader; the partition's offset
//! of sfdisk. The store's files are applied by wimlib and compared with an ntfs-3g mount of
//! the original; the disk's read log shows what was read, and how often.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fixtures::faultdisk::{sector_counts, FaultDisk, Faults, SECTOR};
use fixtures::ntfs::{self, Mount, Table};
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run};
use serde_json::Value;

const CLUSTER: u64 = 4096;
/// Where, in the damaged file, the bad sectors lie, and how many.
const BAD_AT: u64 = 131_072;
const BAD_LEN: u64 = 8 * SECTOR;
/// How much longer a read of the slow file takes.
const SLOW_DELAY: f64 = 1.5;

fn spec() -> WindowsSpec {
    let mut spec = WindowsSpec::win10("DYING-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files.extend([
        (r"Documents\report.docx".into(), fixtures::noise(300_000, 1)),
        (r"Documents\damaged.bin".into(), fixtures::noise(400_000, 2)),
        (
            r"Documents\lost record.txt".into(),
            fixtures::noise(9_000, 3),
        ),
        (r"Pictures\slow.jpg".into(), fixtures::noise(200_000, 4)),
        (r"Desktop\notes.txt".into(), vec![b'n'; 70_000]),
    ]);
    let mut bob = UserSpec::local(1002, "Bob");
    bob.files
        .push((r"Documents\plans.txt".into(), fixtures::noise(50_000, 5)));
    spec.users = vec![ann, bob];
    spec
}

/// One stream's runs as ntfs-3g reads them: (VCN, LCN, clusters), from `ntfsinfo -v`'s
/// unnamed `$DATA`; and the file's MFT record number.
fn ntfsinfo(vol: &Path, which: &[&str]) -> (u64, Vec<(u64, u64, u64)>) {
    let (code, out, err) = run(Command::new("ntfsinfo").arg("-v").args(which).arg(vol));
    assert_eq!(code, 0, "ntfsinfo {which:?}: {err}");
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    let inode = out
        .lines()
        .find_map(|l| l.strip_prefix("Dumping Inode "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let data = out
        .find("Dumping attribute $DATA")
        .unwrap_or_else(|| panic!("no $DATA in ntfsinfo {which:?}"));
    let after = &out[data..];
    let list = after.find("Runlist:").expect("a non-resident $DATA");
    let mut runs = Vec::new();
    for l in after[list..].lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() != 3 || !f.iter().all(|x| x.starts_with("0x")) {
            break;
        }
        runs.push((hex(f[0]), hex(f[1]), hex(f[2])));
    }
    assert!(!runs.is_empty(), "no runs in ntfsinfo {which:?}");
    (inode, runs)
}

/// The volume byte offset of stream offset `at`, through its runs.
fn locate(runs: &[(u64, u64, u64)], at: u64) -> u64 {
    let vcn = at / CLUSTER;
    let (v, l, _) = runs
        .iter()
        .find(|(v, _, n)| (*v..v + n).contains(&vcn))
        .expect("offset inside the stream");
    (l + vcn - v) * CLUSTER + at % CLUSTER
}

/// A file's data on the volume: its byte ranges, in stream order.
fn extents(runs: &[(u64, u64, u64)], size: u64) -> Vec<Range<u64>> {
    runs.iter()
        .map(|(v, l, n)| {
            let end = ((v + n) * CLUSTER).min(size) - v * CLUSTER;
            l * CLUSTER..l * CLUSTER + end
        })
        .collect()
}

/// sfdisk's own reading of where partition `n` starts, in bytes.
fn partition_start(disk: &Path, n: u32) -> u64 {
    let (code, out, err) = run(Command::new("sfdisk").arg("--json").arg(disk));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let node = format!("{}{n}", disk.display());
    v["partitiontable"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["node"] == node.as_str())
        .and_then(|p| p["start"].as_u64())
        .unwrap()
        * 512
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    vol: PathBuf,
    disk: PathBuf,
    faults: Faults,
    /// The damaged file's lost bytes, in its own offsets.
    lost: Range<u64>,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let vol = ntfs::windows_volume(&dir, &spec());
    let (disk, number) = ntfs::disk_image(&dir, &vol, Table::Gpt);
    let base = partition_start(&disk, number);
    let profile = "/Users/ann";
    let (_, damaged) = ntfsinfo(&vol, &["-F", &format!("{profile}/Documents/damaged.bin")]);
    let (_, slow) = ntfsinfo(&vol, &["-F", &format!("{profile}/Pictures/slow.jpg")]);
    let (record, _) = ntfsinfo(
        &vol,
        &["-F", &format!("{profile}/Documents/lost record.txt")],
    );
    let (_, hive) = ntfsinfo(&vol, &["-F", "/Users/Bob/NTUSER.DAT"]);
    let (_, mft) = ntfsinfo(&vol, &["-i", "0"]);
    let at = |runs: &[(u64, u64, u64)], off: u64| base + locate(runs, off);
    let bad_start = at(&damaged, BAD_AT);
    let record_at = at(&mft, record * 1024);
    let hive_at = at(&hive, 4096);
    let faults = Faults {
        bad: vec![
            bad_start..bad_start + BAD_LEN,
            record_at..record_at + 1024,
            hive_at..hive_at + 4 * SECTOR,
        ],
        flaky: Vec::new(),
        slow: extents(&slow, 200_000)
            .into_iter()
            .map(|r| (base + r.start..base + r.end, SLOW_DELAY))
            .collect(),
    };
    Fixture {
        _dir: tmp,
        dir,
        vol,
        disk,
        faults,
        lost: BAD_AT..BAD_AT + BAD_LEN,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A restore onto a new machine (a Windows written into a folder, `--offline-root`) names
/// the damaged file with its lost bytes in its summary and its list, and writes it as the
/// store holds it.
fn restore_repeats_the_mark(dir: &Path, store: &Path, mark: &str, stored: &[u8]) {
    let target = dir.join("new-machine");
    let mut spec = WindowsSpec::win11("NEWPC");
    spec.users = vec![UserSpec::local(1001, "ann")];
    spec.write_volume(&target);
    let list = dir.join("restored.txt");
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("restore")
        .arg(store)
        .args(["--offline-root", s(&target), "--user", r"DYING-PC\ann=ann"])
        .args(["--list-files", s(&list)]));
    assert_eq!(code, 0, "restore: {out}{err}");
    let line = out
        .lines()
        .find(|l| l.contains("damaged.bin") && l.contains(mark))
        .unwrap_or_else(|| panic!("the summary repeats the mark:\n{out}"));
    assert!(line.contains("new-machine"), "where it went: {line}");
    assert!(out.contains("DAMAGED"), "{out}");
    let listed = std::fs::read_to_string(&list).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.contains("damaged.bin") && l.contains("DAMAGED") && l.contains(mark)),
        "{listed}"
    );
    let written = std::fs::read(target.join("Users/ann/Documents/damaged.bin")).unwrap();
    assert!(written == stored, "the damaged file is restored as stored");
}

#[test]
fn a_capture_from_a_dying_disk_names_what_was_lost_and_keeps_every_other_byte() {
    let fx = fixture();
    let disk = FaultDisk::serve(&fx.disk, &fx.faults);
    let dest = fx.dir.join("dest");
    std::fs::create_dir(&dest).unwrap();
    let (map, rescued) = (fx.dir.join("disk.img.map"), fx.dir.join("disk.img"));
    let list = fx.dir.join("files.txt");
    let started = Instant::now();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(disk.file())
        .args(["--map", s(&map), "--dest", s(&dest), "--compress", "none"])
        .args(["--continue", "--list-files", s(&list)]));
    let took = started.elapsed();
    eprintln!("capture on the fault disk: {took:.2?}\n{out}{err}");
    let first_summary = out.clone();
    assert_eq!(code, 3, "{out}{err}");
    let store = fixtures::store_in(&dest);

    // The damaged file is named with the bytes lost, in the manifest, the summary and the
    // list; the file whose MFT record is lost is named from its folder's index.
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    let (lo, hi) = (fx.lost.start, fx.lost.end);
    assert!(manifest.contains("damaged.bin"), "{manifest}");
    assert!(
        manifest.contains(&lo.to_string()) && manifest.contains(&hi.to_string()),
        "the lost range {lo}..{hi} in the manifest:\n{manifest}"
    );
    let said = format!("{out}{err}");
    assert!(said.contains("damaged.bin"), "{said}");
    let listed = std::fs::read_to_string(&list).unwrap();
    let line = listed
        .lines()
        .find(|l| l.contains("damaged.bin"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("damaged"), "{line}");
    let skipped = |name: &str, kind: &str| {
        let at = manifest
            .find(&format!("- path: {name}"))
            .or_else(|| manifest.find(name))
            .unwrap_or_else(|| panic!("{name} is not named in the manifest:\n{manifest}"));
        let entry: String = manifest[at..].lines().take(3).collect();
        assert!(entry.contains(&format!("kind: {kind}")), "{entry}");
    };
    skipped(r"C:\Users\ann\Documents\lost record.txt", "unreadable");
    assert!(
        manifest.contains("MFT record lies on bad sectors"),
        "{manifest}"
    );
    skipped(r"\Users\Bob\NTUSER.DAT", "hive-unreadable");
    assert!(
        said.contains("NTUSER.DAT"),
        "the damaged hive is said:\n{said}"
    );

    // Every file captured equals the original (ntfs-3g's reading of the image), but the
    // damaged one, which has zeros where its bytes were lost and the rest intact.
    let applied = fx.dir.join("applied");
    let (code, _, err) = run(Command::new("wimapply")
        .arg(store.join("files.wim"))
        .arg("1")
        .arg(&applied));
    assert_eq!(code, 0, "wimapply: {err}");
    let mount = Mount::new(&fx.vol, &fx.dir.join("original"), "ro");
    let got = files_under(&applied);
    assert!(got.len() >= 4, "{got:?}");
    for rel in &got {
        let name = rel.to_string_lossy();
        let have = std::fs::read(applied.join(rel)).unwrap();
        let on_volume = rel.strip_prefix("C").expect("a C: path");
        let want = std::fs::read(mount.path().join(on_volume))
            .unwrap_or_else(|e| panic!("{name} is not on the original: {e}"));
        if name.ends_with("damaged.bin") {
            let mut expect = want.clone();
            expect[lo as usize..hi as usize].fill(0);
            assert!(
                have == expect,
                "{name}: zeros only where the bytes were lost"
            );
        } else {
            assert!(have == want, "{name} differs from the original");
        }
    }
    for must in [
        "Documents/report.docx",
        "Pictures/slow.jpg",
        "Desktop/notes.txt",
    ] {
        let must = Path::new("C/Users/ann").join(must);
        assert!(got.contains(&must), "{} in {got:?}", must.display());
    }
    assert!(
        !got.iter().any(|p| p.ends_with("lost record.txt")),
        "a file whose record is lost cannot be captured"
    );
    drop(mount);

    // The store verifies, and says the mark again; a restore repeats it, file and range.
    let (code, out, err) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "verify: {out}{err}");
    let mark = format!("4096 bytes lost at {lo}..{hi}");
    assert!(
        out.contains("damaged.bin") && out.contains(&mark),
        "verify: {out}"
    );
    let stored = std::fs::read(applied.join("C/Users/ann/Documents/damaged.bin")).unwrap();
    restore_repeats_the_mark(&fx.dir, &store, &mark, &stored);

    // No sector read twice by the capture, and none read good again by `lifeboat image`
    // going on from the capture's map into the same image.
    let before = disk.reads().len();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("image")
        .arg(disk.file())
        .arg(&rescued)
        .args(["--map", s(&map), "--slow-read", "0"]));
    assert_eq!(code, 3, "image: {out}{err}");
    let reads = disk.reads();
    let again: Vec<u64> = sector_counts(&reads)
        .into_iter()
        .filter(|(_, (_, good))| *good > 1)
        .map(|(s, _)| s)
        .collect();
    assert!(
        again.is_empty(),
        "sectors read good twice (capture then image): {} of them, first {:?}",
        again.len(),
        &again[..again.len().min(8)]
    );
    assert!(reads.len() > before, "image read what the capture did not");
    // The image is the original but for the bad sectors.
    let original = std::fs::read(&fx.disk).unwrap();
    let image = std::fs::read(&rescued).unwrap();
    assert_eq!(original.len(), image.len());
    let bad = |at: usize| {
        fx.faults
            .bad
            .iter()
            .any(|r| r.contains(&(at as u64 / SECTOR * SECTOR)))
    };
    let wrong = (0..original.len())
        .step_by(SECTOR as usize)
        .filter(|&at| {
            !bad(at) && original[at..at + SECTOR as usize] != image[at..at + SECTOR as usize]
        })
        .count();
    assert_eq!(wrong, 0, "sectors outside the bad areas that differ");

    // The other way round: a capture after the image, with its map, asks the disk for
    // nothing (every sector is rescued or known bad) and captures the same.
    let reads = disk.reads().len();
    let dest2 = fx.dir.join("dest2");
    std::fs::create_dir(&dest2).unwrap();
    let (code, out2, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(disk.file())
        .args(["--map", s(&map), "--dest", s(&dest2), "--compress", "none"])
        .arg("--continue"));
    assert_eq!(code, 3, "{out2}{err}");
    assert_eq!(
        disk.reads().len(),
        reads,
        "the second capture read the disk"
    );
    let damaged_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("bytes lost at"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        damaged_lines(&out2),
        damaged_lines(&first_summary),
        "{out2}"
    );
}

/// The start of every run on a dying disk: the GPT's header, the volume's boot sector and a
/// piece of the SOFTWARE hive on bad sectors. Detect reads the table's backup, the boot
/// sector's backup, and reports the hive damaged; it finds the installation all the same.
#[test]
fn detect_on_a_dying_disk_reads_the_backups_and_reports_a_damaged_hive() {
    let fx = fixture();
    let (_, software) = ntfsinfo(&fx.vol, &["-F", "/Windows/System32/config/SOFTWARE"]);
    let base = partition_start(&fx.disk, 3);
    let hive_at = base + locate(&software, 8192);
    let faults = Faults {
        bad: vec![
            SECTOR..2 * SECTOR,
            base..base + SECTOR,
            hive_at..hive_at + 2 * SECTOR,
        ],
        ..Faults::default()
    };
    let disk = FaultDisk::serve(&fx.disk, &faults);
    let map = fx.dir.join("detect.map");
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .args(["detect", "--json"])
        .arg(disk.file())
        .args(["--map", s(&map)]));
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let volume = v["scanned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["partition"]["offset"] == base)
        .unwrap_or_else(|| panic!("the Windows partition (sfdisk: at {base}) in {out}"));
    assert_eq!(volume["state"], "ok", "{volume}");
    assert_eq!(volume["filesystem"], "NTFS", "{volume}");
    let ins = &v["installations"][0];
    assert_eq!(ins["computer_name"], "DYING-PC", "{out}");
    let problem = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"].as_str().unwrap().ends_with(r"config\SOFTWARE"))
        .unwrap_or_else(|| panic!("the damaged SOFTWARE hive is reported: {out}"));
    let error = problem["error"].as_str().unwrap();
    assert!(
        error.contains("bad sectors") && error.contains("8192..9216"),
        "{error}"
    );
    // The map names the bad sectors, as GNU ddrescuelog reads it.
    let (code, listed, err) = run(Command::new("ddrescuelog").arg("--list-blocks=-").arg(&map));
    assert_eq!(code, 0, "ddrescuelog: {err}");
    let listed: Vec<u64> = listed.lines().map(|l| l.trim().parse().unwrap()).collect();
    let want: Vec<u64> = faults
        .bad
        .iter()
        .flat_map(|r| r.start / SECTOR..r.end / SECTOR)
        .collect();
    for sector in &want {
        assert!(
            listed.contains(sector),
            "bad sector {sector} in the map: {listed:?}"
        );
    }
}

/// A disk that slows to a crawl: every read of a picture takes 3 s more (12 s for the
/// file). With `--rescue-time 3` the capture stops reading the disk when its time is up
/// (letting the read under way finish) and ends: what it could not read in time is named
/// lost, and the crawling area is asked at most once or twice, not four times.
#[test]
fn a_capture_ends_in_its_rescue_time_on_a_disk_that_crawls() {
    let fx = fixture();
    let (_, slow) = ntfsinfo(&fx.vol, &["-F", "/Users/ann/Pictures/slow.jpg"]);
    let base = partition_start(&fx.disk, 3);
    let crawl = 3.0;
    let faults = Faults {
        slow: extents(&slow, 200_000)
            .into_iter()
            .map(|r| (base + r.start..base + r.end, crawl))
            .collect(),
        ..Faults::default()
    };
    let disk = FaultDisk::serve(&fx.disk, &faults);
    let dest = fx.dir.join("dest");
    std::fs::create_dir(&dest).unwrap();
    let map = fx.dir.join("crawl.map");
    let started = Instant::now();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(disk.file())
        .args(["--map", s(&map), "--rescue-time", "3", "--dest", s(&dest)])
        .args(["--compress", "none", "--continue"]));
    let took = started.elapsed();
    eprintln!("capture with --rescue-time 3 on a crawling disk: {took:.2?}");
    assert_eq!(code, 3, "{out}{err}");
    let damaged = out
        .lines()
        .find(|l| l.contains(r"Pictures\slow.jpg"))
        .unwrap_or_else(|| panic!("the picture not read in time is named damaged:\n{out}"));
    assert!(damaged.contains("bytes lost at"), "{damaged}");
    assert!(err.contains("--rescue-time ran out"), "{err}");
    // The picture takes four reads of 3 s each; within a budget of 3 s at most the read
    // under way when it ran out is made (counted in the disk's own log, not by the clock: a
    // loaded machine slows the rest of the capture, not the disk).
    let slow_reads = disk
        .reads()
        .iter()
        .filter(|r| {
            faults
                .slow
                .iter()
                .any(|(s, _)| r.range.start < s.end && s.start < r.range.end)
        })
        .count();
    eprintln!("reads of the crawling area: {slow_reads}");
    assert!(
        slow_reads <= 2,
        "{slow_reads} reads of the crawling area in {took:.2?}: the rescue time did not bound the capture"
    );
}

/// `--map` with places that would lose or invent bytes is refused by name, and the source
/// is never written: the rescued image given as the source itself; a map whose image is
/// gone (it says bytes were rescued that nothing holds); an image with data but no map.
#[test]
fn unsafe_rescue_places_are_refused_and_the_source_is_not_written() {
    let fx = fixture();
    let before = std::fs::read(&fx.disk).unwrap();
    let detect = |extra: &[&str]| {
        let (code, out, err) = run(Command::new(lifeboat_bin())
            .args(["detect", "--json"])
            .arg(&fx.disk)
            .args(extra));
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        (code, v, format!("{out}{err}"))
    };
    let map = fx.dir.join("d.img.map");
    let (code, _, said) = detect(&["--map", s(&map), "--rescue-image", s(&fx.disk)]);
    assert_eq!(code, 11, "a bad option: {said}");
    assert!(said.contains("is the disk being read itself"), "{said}");
    assert!(!map.exists(), "no map is made for a refused rescue");
    // A good run makes the map and the image beside it.
    let (code, v, said) = detect(&["--map", s(&map)]);
    assert_eq!(code, 0, "{said}");
    assert_eq!(v["installations"][0]["computer_name"], "DYING-PC", "{said}");
    let image = fx.dir.join("d.img");
    assert!(map.is_file() && image.is_file(), "{said}");
    // The map without its image.
    let moved = fx.dir.join("moved.img");
    std::fs::rename(&image, &moved).unwrap();
    let (code, _, said) = detect(&["--map", s(&map)]);
    assert_eq!(code, 27, "the image cannot be used: {said}");
    assert!(said.contains("missing or empty"), "{said}");
    // The image without its map.
    std::fs::rename(&moved, &image).unwrap();
    std::fs::remove_file(&map).unwrap();
    let (code, _, said) = detect(&["--map", s(&map)]);
    assert_eq!(code, 27, "the image cannot be used: {said}");
    assert!(said.contains("holds data but there is no map"), "{said}");
    // A capture refuses it the same way, before anything is written.
    let dest = fx.dir.join("dest");
    std::fs::create_dir(&dest).unwrap();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(&fx.disk)
        .args(["--map", s(&map), "--dest", s(&dest)]));
    assert_eq!(code, 27, "{out}{err}");
    assert!(err.contains("--map"), "{err}");
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "a store was begun"
    );
    assert!(
        std::fs::read(&fx.disk).unwrap() == before,
        "the source was written"
    );
}

/// A large bad area (256 KiB over a file's data): the capture names the file with exactly
/// that range lost, and asks the disk a handful of failing reads for it (each 64 KiB
/// cluster once, then one bad sector from each edge), not one per sector: on a real disk
/// each failing read can take seconds.
#[test]
fn a_large_bad_area_costs_a_few_failed_reads_and_is_named_exactly() {
    let fx = fixture();
    let (_, damaged) = ntfsinfo(&fx.vol, &["-F", "/Users/ann/Documents/damaged.bin"]);
    let base = partition_start(&fx.disk, 3);
    let (from, to) = (65_536, 327_680);
    // The file is in one run (a fresh volume): the area is contiguous on the disk too.
    let start = base + locate(&damaged, from);
    assert_eq!(base + locate(&damaged, to - 1) + 1, start + (to - from));
    let mut faults = Faults::default();
    faults.bad.push(start..start + (to - from));
    let disk = FaultDisk::serve(&fx.disk, &faults);
    let dest = fx.dir.join("dest");
    std::fs::create_dir(&dest).unwrap();
    let map = fx.dir.join("large.map");
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(disk.file())
        .args(["--map", s(&map), "--dest", s(&dest), "--compress", "none"]));
    assert_eq!(code, 3, "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.contains(r"Documents\damaged.bin"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.ends_with(&format!("{} bytes lost at {from}..{to}", to - from)),
        "{line}"
    );
    assert_eq!(
        out.lines().filter(|l| l.contains("bytes lost at")).count(),
        1,
        "{out}"
    );
    let failed = disk.reads().iter().filter(|r| !r.ok).count();
    eprintln!(
        "failed reads for a bad area of {} sectors: {failed}",
        (to - from) / SECTOR
    );
    assert!(failed <= 8, "{failed} failed reads: {:?}", disk.reads());

    // With --damaged skip (and the same map: the disk is asked nothing again) the file is
    // left out and named, the others kept.
    let reads = disk.reads().len();
    let dest2 = fx.dir.join("dest2");
    std::fs::create_dir(&dest2).unwrap();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(disk.file())
        .args(["--map", s(&map), "--dest", s(&dest2), "--compress", "none"])
        .args(["--damaged", "skip", "--continue"]));
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(disk.reads().len(), reads, "the disk was asked again");
    let store = fixtures::store_in(&dest2);
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    assert!(
        manifest.contains("bytes lie on bad sectors: left out (--damaged skip)"),
        "{manifest}"
    );
    let (code, listed, err) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
    assert_eq!(code, 0, "{err}");
    assert!(!listed.contains("damaged.bin"), "{listed}");
    assert!(listed.contains("report.docx"), "{listed}");
}

/// The rescue sits under BitLocker (`decrypt(rescue(disk))`): a BitLocker-encrypted
/// Windows volume (the test writer's AES-XTS) on a GPT disk with bad sectors over a file's
/// data, captured with `--map` and the recovery password: the file is named with the bytes
/// lost in its own offsets, the others are whole, and the key appears nowhere.
#[test]
fn bad_sectors_under_bitlocker_are_named_in_the_files_they_hit() {
    use fixtures::bitlocker::{encrypt_file, Method, Protector, Spec};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = ntfs::windows_volume(dir, &spec());
    let Protector::RecoveryPassword(key) = Protector::recovery_password(11) else {
        unreachable!()
    };
    let locked = dir.join("locked.img");
    let bl = Spec::new(Method::XtsAes128, 512).protect(Protector::RecoveryPassword(key.clone()));
    encrypt_file(&plain, &locked, &bl).unwrap();
    let (disk_img, number) = ntfs::disk_image(dir, &locked, Table::Gpt);
    let base = partition_start(&disk_img, number);
    // BitLocker keeps every sector where it was but the first few (relocated): the file's
    // clusters are at the plain volume's offsets.
    let (_, damaged) = ntfsinfo(&plain, &["-F", "/Users/ann/Documents/damaged.bin"]);
    let at = base + locate(&damaged, BAD_AT);
    let mut faults = Faults::default();
    faults.bad.push(at..at + BAD_LEN);
    let disk = FaultDisk::serve(&disk_img, &faults);
    let dest = dir.join("dest");
    std::fs::create_dir(&dest).unwrap();
    let map = dir.join("locked.map");
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(disk.file())
        .args(["--map", s(&map), "--recovery-password", &key])
        .args(["--dest", s(&dest), "--compress", "none"]));
    assert_eq!(code, 3, "{out}{err}");
    let lost: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("bytes lost at"))
        .collect();
    assert_eq!(
        lost,
        [format!(
            r"    C:\Users\ann\Documents\damaged.bin: {BAD_LEN} bytes lost at {BAD_AT}..{}",
            BAD_AT + BAD_LEN
        )],
        "{out}"
    );
    let store = fixtures::store_in(&dest);
    let manifest = std::fs::read_to_string(store.join("manifest.yaml")).unwrap();
    let map_text = std::fs::read_to_string(&map).unwrap();
    for text in [&out, &err, &manifest, &map_text] {
        assert!(!text.contains(key.as_str()), "the key is shown: {text}");
    }
}
