//! A dying disk behind a real OS path: `faultfs.py` (python3-fuse) serves a fixture image
//! as `MOUNT/disk.img` with bad, flaky and slow areas, and logs every read it is asked.
//! Tests run `lifeboat image` and GNU ddrescue on it and read the log to see what each
//! asked of the "disk".

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SECTOR: u64 = 512;

/// Where the disk fails and how.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every read touching these fails (EIO).
    pub bad: Vec<Range<u64>>,
    /// Each sector here fails its first `n` reads.
    pub flaky: Vec<(Range<u64>, u32)>,
    /// A read touching these takes this many seconds longer.
    pub slow: Vec<(Range<u64>, f64)>,
}

impl Faults {
    fn json(&self, image: &Path, log: &Path) -> String {
        let ranges = |v: Vec<String>| format!("[{}]", v.join(","));
        let bad = self
            .bad
            .iter()
            .map(|r| format!("[{},{}]", r.start, r.end))
            .collect();
        let flaky = self
            .flaky
            .iter()
            .map(|(r, n)| format!("[{},{},{n}]", r.start, r.end))
            .collect();
        let slow = self
            .slow
            .iter()
            .map(|(r, s)| format!("[{},{},{s}]", r.start, r.end))
            .collect();
        format!(
            "{{\"image\": {:?}, \"log\": {:?}, \"bad\": {}, \"flaky\": {}, \"slow\": {}}}",
            image.display().to_string(),
            log.display().to_string(),
            ranges(bad),
            ranges(flaky),
            ranges(slow)
        )
    }
}

/// One read the disk was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub range: Range<u64>,
    pub ok: bool,
}

/// A mounted fault file system; unmounted when dropped.
pub struct FaultDisk {
    dir: tempfile::TempDir,
    child: Child,
}

impl FaultDisk {
    /// Serves `image` with `faults`. Panics (the test fails) when FUSE or python3-fuse is
    /// missing: the tests of the rescue layer need them (CI runs as root with FUSE).
    pub fn serve(image: &Path, faults: &Faults) -> FaultDisk {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).expect("mount point");
        let log = dir.path().join("reads.log");
        let spec = dir.path().join("spec.json");
        std::fs::write(&spec, faults.json(image, &log)).expect("write the spec");
        let script = crate::workspace_root().join("tests/support/faultfs.py");
        let child = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(&spec)
            .arg(&mount)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let mut disk = FaultDisk { dir, child };
        let until = Instant::now() + Duration::from_secs(20);
        while !disk.file().exists() {
            if let Ok(Some(status)) = disk.child.try_wait() {
                panic!(
                    "faultfs.py ended ({status}): is python3-fuse installed and /dev/fuse usable?"
                );
            }
            assert!(Instant::now() < until, "faultfs.py did not mount in 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        disk
    }

    /// The disk's file.
    pub fn file(&self) -> PathBuf {
        self.dir.path().join("mnt/disk.img")
    }

    /// Every read so far, in order.
    pub fn reads(&self) -> Vec<Logged> {
        let text = std::fs::read_to_string(self.dir.path().join("reads.log")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let start: u64 = f[0].parse().expect("offset");
                let len: u64 = f[1].parse().expect("size");
                Logged {
                    range: start..start + len,
                    ok: f[2] == "ok",
                }
            })
            .collect()
    }
}

impl Drop for FaultDisk {
    fn drop(&mut self) {
        let mount = self.dir.path().join("mnt");
        let _ = Command::new("umount").arg(&mount).status();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("umount").arg("-l").arg(&mount).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Per sector: how often it was read in all, and how often good.
pub fn sector_counts(reads: &[Logged]) -> std::collections::BTreeMap<u64, (u32, u32)> {
    let mut m = std::collections::BTreeMap::new();
    for r in reads {
        let mut s = r.range.start / SECTOR * SECTOR;
        while s < r.range.end {
            let e: &mut (u32, u32) = m.entry(s).or_default();
            e.0 += 1;
            if r.ok {
                e.1 += 1;
            }
            s += SECTOR;
        }
    }
    m
}

/// The sectors a set of byte ranges touches, as sector numbers (ddrescuelog's list).
pub fn sectors_of(ranges: &[Range<u64>]) -> Vec<u64> {
    let mut v: Vec<u64> = ranges
        .iter()
        .flat_map(|r| r.start / SECTOR..r.end.div_ceil(SECTOR))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}
