//! The rescuer against a source that fails as a dying disk does: bad sectors, slow areas,
//! sectors that fail at first and read on a retry, and a read that hangs. The source logs
//! every read, so the tests check what was asked of the disk, not only the result.

// Lists of byte ranges with one range in them are what these tests are about.
#![allow(clippy::single_range_in_vec_init)]

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::clock::Clock;
use super::*;
use crate::block::{BlockError, BlockSource, Source};

const K: u64 = 1024;

/// A clock the source moves on: a slow read takes time without the test waiting.
#[derive(Default)]
struct FakeClock(AtomicU64);

impl FakeClock {
    fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

/// A disk that fails where it is told to, and remembers every read.
struct Faulty {
    data: Vec<u8>,
    bad: Vec<Range<u64>>,
    /// Each sector here fails its first `n` reads.
    flaky: Vec<(Range<u64>, u32)>,
    /// A read touching this takes this long (on the fake clock).
    slow: Vec<(Range<u64>, Duration)>,
    /// The first read touching this hangs until the test releases the disk; with
    /// `hang_all`, every read after it hangs too (a disk that stopped answering).
    hang: Option<Range<u64>>,
    hang_all: bool,
    /// (a read has hung, released): the disk's state, and its change.
    stall: Mutex<(bool, bool)>,
    wake: Condvar,
    clock: Arc<FakeClock>,
    tries: Mutex<HashMap<u64, u32>>,
    log: Mutex<Vec<(Range<u64>, bool)>>,
}

fn touches(a: &Range<u64>, b: &Range<u64>) -> bool {
    a.start < b.end && b.start < a.end
}

impl Faulty {
    fn new(size: usize) -> Faulty {
        // Data with no two sectors alike, and a run of zeros.
        let mut data: Vec<u8> = (0..size)
            .map(|i| ((i as u64 * 2654435761) >> 7) as u8 ^ (i / 512) as u8)
            .collect();
        if size > 300 * 1024 {
            data[200 * 1024..260 * 1024].fill(0);
        }
        Faulty {
            data,
            bad: vec![],
            flaky: vec![],
            slow: vec![],
            hang: None,
            hang_all: false,
            stall: Mutex::new((false, false)),
            wake: Condvar::new(),
            clock: Arc::new(FakeClock::default()),
            tries: Mutex::new(HashMap::new()),
            log: Mutex::new(vec![]),
        }
    }

    fn release(&self) {
        self.stall.lock().unwrap().1 = true;
        self.wake.notify_all();
    }

    /// Hangs the read of `r` if the disk is to hang now.
    fn maybe_hang(&self, r: &Range<u64>) {
        let mut s = self.stall.lock().unwrap();
        let here = self.hang.as_ref().is_some_and(|h| touches(h, r));
        let hang = if self.hang_all {
            here || s.0
        } else {
            here && !s.0
        };
        if s.1 || !hang {
            return;
        }
        s.0 = true;
        while !s.1 {
            s = self.wake.wait(s).unwrap();
        }
    }

    fn reads(&self) -> Vec<(Range<u64>, bool)> {
        self.log.lock().unwrap().clone()
    }

    fn fails(&self, r: &Range<u64>) -> bool {
        if self.bad.iter().any(|b| touches(b, r)) {
            return true;
        }
        let mut tries = self.tries.lock().unwrap();
        let mut fail = false;
        for (f, n) in &self.flaky {
            let mut s = r.start.max(f.start) / 512 * 512;
            while s < r.end.min(f.end) {
                let t = tries.entry(s).or_insert(0);
                *t += 1;
                fail |= *t <= *n;
                s += 512;
            }
        }
        fail
    }
}

impl BlockSource for Faulty {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn name(&self) -> &str {
        "faulty"
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let r = offset..offset + buf.len() as u64;
        self.maybe_hang(&r);
        for (s, d) in &self.slow {
            if touches(s, &r) {
                self.clock.advance(*d);
            }
        }
        let fail = self.fails(&r);
        self.log.lock().unwrap().push((r.clone(), !fail));
        if fail {
            return Err(BlockError::Io {
                name: "faulty".into(),
                offset,
                len: buf.len(),
                source: std::io::Error::from_raw_os_error(5),
            });
        }
        buf.copy_from_slice(&self.data[r.start as usize..r.end as usize]);
        Ok(())
    }
}

fn rescuer(src: &Arc<Faulty>, store: &Arc<MemStore>, map: Option<Mapfile>, o: Options) -> Rescuer {
    let source: Source = src.clone();
    let clock: Arc<dyn Clock> = src.clock.clone();
    Rescuer::with_clock(source, store.clone(), map, o, clock).unwrap()
}

/// ddrescue's reads throughout: 64 KiB clusters from the start.
fn opts() -> Options {
    Options {
        large_read: 64 * K,
        skip_initial: Some(64 * K),
        skip_max: Some(1 << 20),
        ..Options::default()
    }
}

fn run(r: &Rescuer) -> RunEnd {
    r.run(0..r.size(), &mut |_| {}).unwrap()
}

/// The ranges of `status` in the map.
fn of(m: &Map, status: Status) -> Vec<Range<u64>> {
    m.blocks()
        .filter(|b| b.status == status)
        .map(|b| b.range())
        .collect()
}

/// The store equals the source outside `lost`, and holds zeros inside.
fn check_copy(src: &Faulty, store: &MemStore, lost: &[Range<u64>]) {
    let got = store.contents();
    for (i, (&g, &d)) in got.iter().zip(&src.data).enumerate() {
        let i = i as u64;
        let want = if lost.iter().any(|r| r.contains(&i)) {
            0
        } else {
            d
        };
        assert_eq!(g, want, "byte {i}");
    }
}

/// No sector was read good twice; no sector was tried more than `most` times.
fn check_reads(src: &Faulty, most: usize) {
    let mut good: HashMap<u64, usize> = HashMap::new();
    let mut tried: HashMap<u64, usize> = HashMap::new();
    for (r, ok) in src.reads() {
        let mut s = r.start / 512 * 512;
        while s < r.end {
            *tried.entry(s).or_default() += 1;
            if ok {
                *good.entry(s).or_default() += 1;
            }
            s += 512;
        }
    }
    for (s, n) in good {
        assert_eq!(n, 1, "sector at {s} read good {n} times");
    }
    for (s, n) in tried {
        assert!(n <= most, "sector at {s} tried {n} times");
    }
}

#[test]
fn a_healthy_source_is_read_once_in_clusters() {
    let src = Arc::new(Faulty::new(1 << 20));
    let store = Arc::new(MemStore::new(1 << 20));
    let r = rescuer(&src, &store, None, opts());
    assert_eq!(run(&r), RunEnd::Finished);
    let reads = src.reads();
    assert_eq!(reads.len(), 16);
    assert!(reads.iter().all(|(r, ok)| *ok && r.end - r.start == 64 * K));
    check_copy(&src, &store, &[]);
    let mf = r.mapfile();
    assert!(mf.map.is_finished());
    assert_eq!(mf.position.phase, Phase::Finished);
}

#[test]
fn large_reads_until_the_first_trouble_then_ddrescues_clusters() {
    let mut f = Faulty::new(4 << 20);
    let bad = 2560 * K..2560 * K + 512;
    f.bad = vec![bad.clone()];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(4 << 20));
    let o = Options {
        large_read: 1 << 20,
        ..opts()
    };
    let r = rescuer(&src, &store, None, o);
    assert_eq!(run(&r), RunEnd::Incomplete);
    let reads: Vec<(u64, u64)> = src
        .reads()
        .iter()
        .map(|(r, _)| (r.start / K, (r.end - r.start) / K))
        .collect();
    // Two good megabytes, the third fails; then 64 KiB clusters after a skip of 64 KiB.
    assert_eq!(
        reads[..4],
        [(0, 1024), (1024, 1024), (2048, 1024), (3136, 64)]
    );
    assert_eq!(of(&r.mapfile().map, Status::BadSector), vec![bad.clone()]);
    check_copy(&src, &store, &[bad]);
    check_reads(&src, 2);
    // A map with a failed area in it starts with clusters.
    let src2 = Arc::new(Faulty::new(4 << 20));
    let mut m = Map::new(4 << 20);
    m.set(0..512, Status::BadSector);
    let mf = Mapfile {
        position: Position::START,
        map: m,
    };
    let o = Options {
        large_read: 1 << 20,
        ..opts()
    };
    let r = rescuer(&src2, &Arc::new(MemStore::new(4 << 20)), Some(mf), o);
    run(&r);
    assert!(src2.reads().iter().all(|(r, _)| r.end - r.start <= 64 * K));
}

#[test]
fn bad_sectors_are_mapped_exactly_and_no_good_sector_is_read_twice() {
    let size = 3 * 1024 * K + 300; // a partial sector at the end
    let mut f = Faulty::new(size as usize);
    f.bad = vec![
        0..512,                         // the first sector
        100 * K..100 * K + 512,         // one sector
        192 * K - 1024..192 * K + 1536, // across a cluster edge
        1024 * K..1400 * K,             // a long run: pass 1 skips through it
        1401 * K + 100..1402 * K + 1,   // one more just after it, not on sector edges
        size - 300..size,               // the partial last sector
    ];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(size as usize));
    let r = rescuer(&src, &store, None, opts());
    assert_eq!(run(&r), RunEnd::Incomplete);
    let m = r.mapfile().map;
    let want: Vec<Range<u64>> = vec![
        0..512,
        100 * K..100 * K + 512,
        192 * K - 1024..192 * K + 1536,
        1024 * K..1400 * K,
        // The sectors holding the bad bytes are bad.
        1401 * K..1402 * K + 512,
        size - 300..size,
    ];
    assert_eq!(of(&m, Status::BadSector), want);
    assert_eq!(m.bytes(Status::Finished) + m.bytes(Status::BadSector), size);
    check_copy(&src, &store, &of(&m, Status::BadSector));
    // ddrescue's promise: each sector tried at most twice, once in a large read and
    // once alone.
    check_reads(&src, 2);
}

#[test]
fn pass_one_skips_ahead_doubling_after_each_error_and_returns_backwards() {
    let mut f = Faulty::new(4 << 20);
    let bad = 1024 * K..2048 * K;
    f.bad = vec![bad.clone()];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(4 << 20));
    let r = rescuer(&src, &store, None, opts());
    run(&r);
    let starts: Vec<u64> = src.reads().iter().map(|(r, _)| r.start / K).collect();
    // Good clusters up to 1024 K, then a failure and skips of 64, 128, 256, 512 and
    // 1024 K (the largest allowed), each measured from the end of the failed cluster.
    let pass1: Vec<u64> = starts.iter().copied().take_while(|&s| s != 1984).collect();
    let after: Vec<u64> = pass1
        .iter()
        .copied()
        .skip_while(|&s| s < 1024)
        .take(5)
        .collect();
    assert_eq!(after, [1024, 1152, 1344, 1664, 2240]);
    // Pass 2 comes back from the end, down to the bad area's end.
    let back = starts.iter().position(|&s| s == 2176).unwrap();
    assert_eq!(starts[back + 1], 2112);
    let m = r.mapfile().map;
    assert_eq!(of(&m, Status::BadSector), vec![bad]);
    check_reads(&src, 2);
}

#[test]
fn a_slow_area_is_left_in_the_first_pass_and_read_later() {
    let mut f = Faulty::new(2 << 20);
    let slow = 512 * K..768 * K;
    f.slow = vec![(slow.clone(), Duration::from_secs(3))];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(2 << 20));
    let r = rescuer(&src, &store, None, opts());
    let mut last = None;
    let end = r.run(0..2 << 20, &mut |p| last = Some(p.clone())).unwrap();
    assert_eq!(end, RunEnd::Finished);
    let reads = src.reads();
    let pass1: Vec<&Range<u64>> = reads
        .iter()
        .map(|(r, _)| r)
        .scan(0, |prev, r| {
            let fwd = r.start >= *prev;
            *prev = r.start;
            fwd.then_some(r)
        })
        .collect();
    let in_slow: Vec<u64> = pass1
        .iter()
        .filter(|r| touches(r, &slow))
        .map(|r| r.start / K)
        .collect();
    // The first slow read is followed by a skip of 64 K, the next by 128 K.
    assert_eq!(in_slow, [512, 640]);
    assert!(last.unwrap().slow_reads >= 2);
    check_copy(&src, &store, &[]);
    check_reads(&src, 1);
}

#[test]
fn sectors_that_fail_at_first_are_rescued_by_trimming_scraping_or_a_retry() {
    let mut f = Faulty::new(1 << 20);
    f.flaky = vec![(100 * K..101 * K, 1), (600 * K..602 * K, 2)];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(1 << 20));
    let r = rescuer(&src, &store, None, opts());
    assert_eq!(run(&r), RunEnd::Incomplete);
    let m = r.mapfile().map;
    // Failing once: read alone in trimming. Failing twice: bad after scraping.
    assert_eq!(of(&m, Status::BadSector), vec![600 * K..602 * K]);
    let mf = r.mapfile();
    drop(r);
    let r = rescuer(
        &src,
        &store,
        Some(mf),
        Options {
            retries: 1,
            ..opts()
        },
    );
    assert_eq!(run(&r), RunEnd::Finished);
    check_copy(&src, &store, &[]);
    check_reads(&src, 3);
}

#[test]
fn a_run_bounded_by_passes_or_time_leaves_a_map_the_next_run_goes_on_from() {
    let mut f = Faulty::new(2 << 20);
    f.bad = vec![700 * K..710 * K, 1500 * K..1501 * K];
    f.slow = vec![(0..2 << 20, Duration::from_millis(100))];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(2 << 20));
    let once = Options {
        max_passes: Some(1),
        slow_read: None,
        ..opts()
    };
    let r = rescuer(&src, &store, None, once.clone());
    assert_eq!(run(&r), RunEnd::Stopped(Stop::MaxPasses));
    let mf = r.mapfile();
    assert_eq!((mf.position.phase, mf.position.pass), (Phase::Copying, 2));
    assert_eq!(mf.position.pos, 2 << 20);
    assert!(mf.map.bytes(Status::NonTried) > 0);
    // Through the text of a mapfile, as the next run reads it.
    let header = Header {
        program: "test".into(),
        command_line: "test".into(),
        start: std::time::SystemTime::now(),
    };
    let text = mapfile::render(&mf.position, &mf.map, &header, std::time::SystemTime::now());
    let (pos, blocks) = mapfile::parse(text.as_bytes()).unwrap();
    assert_eq!(pos, Some(mf.position));
    assert_eq!(blocks.len(), mf.map.len());
    // Then two seconds of reading at most: 20 reads.
    let timed = Options {
        max_time: Some(Duration::from_secs(2)),
        slow_read: None,
        ..opts()
    };
    let r = rescuer(&src, &store, Some(mf), timed);
    assert_eq!(run(&r), RunEnd::Stopped(Stop::MaxTime));
    let before = src.reads().len();
    let r = rescuer(
        &src,
        &store,
        Some(r.mapfile()),
        Options {
            slow_read: None,
            ..opts()
        },
    );
    assert_eq!(run(&r), RunEnd::Incomplete);
    assert!(src.reads().len() > before);
    let m = r.mapfile().map;
    assert_eq!(of(&m, Status::BadSector), f_bad_sectors());
    check_copy(&src, &store, &f_bad_sectors());
    check_reads(&src, 2);

    fn f_bad_sectors() -> Vec<Range<u64>> {
        vec![700 * K..710 * K, 1500 * K..1501 * K]
    }
}

#[test]
fn a_hung_read_is_given_up_and_the_run_goes_on() {
    let mut f = Faulty::new(1 << 20);
    f.hang = Some(300 * K..301 * K);
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(1 << 20));
    let o = Options {
        read_timeout: Duration::from_millis(200),
        ..opts()
    };
    let r = rescuer(&src, &store, None, o);
    let t = std::time::Instant::now();
    // The cluster that hung counts as failed; trimming and scraping read it again.
    assert_eq!(run(&r), RunEnd::Finished);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(r.progress().read_errors, 1);
    check_copy(&src, &store, &[]);
    src.release();
}

#[test]
fn a_disk_that_stops_answering_stops_the_run_and_what_it_sends_late_is_kept() {
    let mut f = Faulty::new(1 << 20);
    f.hang = Some(300 * K..301 * K);
    f.hang_all = true;
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(1 << 20));
    let o = Options {
        read_timeout: Duration::from_millis(200),
        ..opts()
    };
    let r = rescuer(&src, &store, None, o);
    let t = std::time::Instant::now();
    // The hung cluster is given up, and the next read hangs too.
    assert_eq!(
        run(&r),
        RunEnd::Stopped(Stop::Unresponsive { pos: 320 * K })
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let m = r.mapfile().map;
    assert_eq!(of(&m, Status::NonTrimmed), vec![256 * K..384 * K]);
    // The disk comes back: the two reads it held are answered, good, and kept.
    src.release();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !of(&r.mapfile().map, Status::NonTrimmed).is_empty() {
        assert!(
            std::time::Instant::now() < until,
            "the late answers were not kept"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(run(&r), RunEnd::Finished);
    check_copy(&src, &store, &[]);
    check_reads(&src, 1);
}

#[test]
fn reads_from_above_get_good_bytes_and_the_lost_ranges_and_never_reread() {
    let mut f = Faulty::new(1 << 20);
    f.bad = vec![70 * K + 512..70 * K + 1024];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(1 << 20));
    let r = rescuer(&src, &store, None, opts());
    let mut buf = vec![1u8; 4096];
    // A read of 4 KiB in the failing cluster: the cluster is lost for now.
    let e = r.read_at(70 * K - 100, &mut buf).unwrap_err();
    assert_eq!(e.lost(), Some(&[70 * K - 100..70 * K - 100 + 4096][..]));
    assert!(buf.iter().all(|&b| b == 0));
    // Scraping the request: only the bad sector is lost.
    r.set_effort(Effort::Scrape);
    let e = r.read_at(70 * K - 100, &mut buf).unwrap_err();
    assert_eq!(e.lost(), Some(&[70 * K + 512..70 * K + 1024][..]));
    let start = (70 * K - 100) as usize;
    assert_eq!(buf[..612], src.data[start..start + 612]);
    assert!(buf[612..1124].iter().all(|&b| b == 0));
    assert_eq!(buf[1124..], src.data[start + 1124..start + 4096]);
    // A read of finished bytes comes from the store.
    let n = src.reads().len();
    let mut b = vec![0u8; 1000];
    r.read_at(10, &mut b).unwrap();
    assert_eq!(b, src.data[10..1010]);
    assert_eq!(
        src.reads().len(),
        n + 1,
        "one cluster around offset 10, once"
    );
    r.read_at(20, &mut b).unwrap();
    assert_eq!(src.reads().len(), n + 1);
    // Past the end: refused as any source refuses it.
    assert!(matches!(
        r.read_at((1 << 20) - 10, &mut b),
        Err(BlockError::OutOfRange { .. })
    ));
    // A run after the reads does not read again what they read.
    run(&r);
    check_reads(&src, 2);
    assert_eq!(r.unfinished(0..1 << 20), vec![70 * K + 512..70 * K + 1024]);
}

#[test]
fn the_map_is_saved_and_an_interrupted_run_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.map");
    let mut f = Faulty::new(1 << 20);
    f.bad = vec![5 * K..6 * K];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(1 << 20));
    let header = Header {
        program: "Lifeboat test".into(),
        command_line: "test".into(),
        start: std::time::SystemTime::now(),
    };
    let r = rescuer(&src, &store, None, opts()).save_to(path.clone(), header.clone());
    r.stop_flag().store(true, Ordering::SeqCst);
    assert_eq!(run(&r), RunEnd::Stopped(Stop::Interrupted));
    assert!(src.reads().is_empty());
    r.stop_flag().store(false, Ordering::SeqCst);
    run(&r);
    let saved = mapfile::read(&path, 1 << 20, 512).unwrap().unwrap();
    assert_eq!(saved, r.mapfile());
    assert_eq!(of(&saved.map, Status::BadSector), vec![5 * K..6 * K]);
}

#[test]
fn a_rescuer_serves_threads_at_once_and_stacks_under_a_window() {
    fn shared<T: Send + Sync>() {}
    shared::<Rescuer>();
    let src = Arc::new(Faulty::new(1 << 20));
    let store = Arc::new(MemStore::new(1 << 20));
    let r: Source = Arc::new(rescuer(&src, &store, None, opts()));
    let w = crate::block::Window::new(r, 512 * K, 256 * K, "part".into()).unwrap();
    let mut b = [0u8; 16];
    w.read_at(3, &mut b).unwrap();
    assert_eq!(b[..], src.data[512 * K as usize + 3..512 * K as usize + 19]);
}

#[test]
fn trimming_a_request_finds_a_small_bad_area_to_the_sector_and_a_large_one_in_few_reads() {
    let mut f = Faulty::new(1 << 20);
    // A cluster bad all through, and two bad sectors inside another cluster.
    f.bad = vec![128 * K..192 * K, 330 * K..331 * K];
    let src = Arc::new(f);
    let store = Arc::new(MemStore::new(1 << 20));
    let r = rescuer(&src, &store, None, opts());
    r.set_effort(Effort::Trim);
    let mut buf = vec![1u8; 512 * 1024];
    let e = r.read_at(0, &mut buf).unwrap_err();
    assert_eq!(e.lost(), Some(&[128 * K..192 * K, 330 * K..331 * K][..]));
    let failed = src.reads().iter().filter(|(_, ok)| !ok).count();
    // Per bad area: the cluster read, then one bad sector from each edge.
    assert_eq!(failed, 6, "{:?}", src.reads());
    for (i, &b) in buf.iter().enumerate() {
        let at = i as u64;
        let lost = (128 * K..192 * K).contains(&at) || (330 * K..331 * K).contains(&at);
        assert_eq!(b, if lost { 0 } else { src.data[i] }, "byte {at}");
    }
    // What trimming left is non-scraped, for `lifeboat image` to scrape later.
    let map = r.mapfile().map;
    assert_eq!(
        of(&map, Status::NonScraped),
        vec![128 * K + 512..192 * K - 512]
    );
    // A sector of a failed cluster is tried again alone, once; none is read good twice.
    check_reads(&src, 2);
}
