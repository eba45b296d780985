//! The rescuer: a source read with ddrescue's discipline, its map, and the rescued bytes.
//!
//! Two ways in. [`Rescuer::run`] makes ddrescue's passes over the source, or a part of it
//! (`lifeboat image`; the MFT's zone before a capture). As a [`BlockSource`] it answers the
//! layers above (BitLocker, NTFS): finished bytes come from the store, bytes not tried yet
//! are read in clusters around the request, and bytes that cannot be had are zeros in the
//! buffer and ranges in [`BlockError::Damaged`]. Either way a byte read good is kept and
//! never asked of the disk again, and every read is bounded in time.
//!
//! The disk is read on an engine thread (engine.rs), one job at a time: a run and reads
//! through [`BlockSource`] take turns. The caller waits for its job and watches the read
//! under way. A read that overruns its time is given up: its bytes count as failed and a
//! new engine thread goes on; if that one's read overruns too while the first has still
//! not come back, the disk has stopped answering, and the run stops
//! ([`Stop::Unresponsive`]) with the map saved.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::clock::{Clock, SystemClock};
use super::engine::{self, mark, Event, Inner, Job, State, Stats};
use super::map::{Map, Status};
use super::mapfile::{Header, MapError, Mapfile, Position};
use super::store::Store;
use crate::block::{check_range, BlockError, BlockSource, Source};

/// How a [`Rescuer`] reads. The defaults are ddrescue's where it has one.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bytes read at a time in the copying passes (ddrescue's cluster: 64 KiB). Rounded
    /// to whole sectors.
    pub cluster: u64,
    /// Bytes read at a time in passes 1 and 5 while the disk has shown no trouble (no
    /// failed or slow read, none in the map): a healthy disk is copied in large reads.
    /// From the first trouble on, reads are `cluster` long, and ddrescue's discipline
    /// holds (the one large read that failed is trimmed like any failed cluster). Set it
    /// to `cluster` for ddrescue's reads throughout.
    pub large_read: u64,
    /// Bytes skipped after the first error or slow read of pass 1 (ddrescue's `-K`):
    /// `None` is ddrescue's default, the source's size / 100 000 and at least 64 KiB. It
    /// doubles with each error in a row and falls back after a good read.
    pub skip_initial: Option<u64>,
    /// The largest skip: `None` is 1 % of the source.
    pub skip_max: Option<u64>,
    /// A cluster read slower than this in passes 1 and 2 is slow: the area after it is
    /// skipped and read in later passes, as ddrescue does with `--min-read-rate`. `None`:
    /// no read is slow.
    pub slow_read: Option<Duration>,
    /// A read not answered in this long counts as failed, and the rescue goes on; its
    /// answer is still taken if it comes. A read after one that overran waits for it at
    /// most this long again; if the disk has still not answered, a run stops
    /// ([`Stop::Unresponsive`]).
    pub read_timeout: Duration,
    /// Passes over the bad sectors after scraping (ddrescue's `-r`).
    pub retries: u32,
    /// Passes one [`Rescuer::run`] makes at most; it stops at the next one.
    pub max_passes: Option<u32>,
    /// Time the rescuer spends reading from its creation (or from
    /// [`Rescuer::set_time_budget`]). Past it, a run stops and reads of what is not yet
    /// rescued are answered at once as damaged. A disk read under way when it runs out
    /// is let finish (within `read_timeout`): what the disk reads is never thrown away.
    pub max_time: Option<Duration>,
    /// How often the map is saved (ddrescue: 30 s to 5 min).
    pub save_interval: Duration,
    /// How often a run reports its progress.
    pub progress_interval: Duration,
    /// What a read through [`BlockSource`] does with bytes tried before.
    pub effort: Effort,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cluster: 64 * 1024,
            large_read: 1024 * 1024,
            skip_initial: None,
            skip_max: None,
            slow_read: Some(Duration::from_secs(1)),
            read_timeout: Duration::from_secs(30),
            retries: 0,
            max_passes: None,
            max_time: None,
            save_interval: Duration::from_secs(30),
            progress_interval: Duration::from_secs(1),
            effort: Effort::Copy,
        }
    }
}

/// How hard a read through [`BlockSource`] tries, beyond reading what was never tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Only what was never tried is read (in clusters): ddrescue's first pass, which gets
    /// through the good areas fast and leaves the rest for [`Rescuer::run`].
    Copy,
    /// Also each failed part of the request is trimmed (ddrescue's trimming, for the
    /// request only): read a sector at a time from its leading edge until a bad sector,
    /// then from its trailing edge until one. A small bad area is found to the sector; a
    /// large one costs two failed reads more, not one per sector; what lies between the
    /// two bad sectors is left to [`Rescuer::run`] (`lifeboat image`) and read as lost.
    /// For a capture: every file loses at most its bad area, its neighbours nothing.
    Trim,
    /// Also each sector of the request that failed is read alone (trim and scrape, for
    /// the request only): for small, precious reads such as the boot sector or an MFT
    /// record.
    Scrape,
}

/// Why a run stopped before its passes were done. The map is saved; the next run goes on
/// from where this one stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The time budget ran out.
    MaxTime,
    /// `max_passes` passes were made.
    MaxPasses,
    /// [`Rescuer::stop_flag`] was raised (Ctrl-C).
    Interrupted,
    /// A read at `pos` overran its time, and the disk had not answered it when the next
    /// read was due.
    Unresponsive { pos: u64 },
    /// The map holds as many blocks as a map may ([`mapfile::MAP_MAX_BLOCKS`]).
    MapFull,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every byte of the domain is rescued.
    Finished,
    /// Every pass was made; some bytes could not be read.
    Incomplete,
    Stopped(Stop),
}

/// Why the rescue cannot go on at all.
#[derive(Debug, thiserror::Error)]
pub enum RescueError {
    #[error("cannot keep the bytes rescued from {name} at offset {offset}: {source}")]
    Store {
        name: String,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("{name} has gone away (a read at offset {offset} says: {source}); the map is saved, reconnect the disk and run again")]
    SourceGone {
        name: String,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("the map is for {map} bytes but {name} has {size}")]
    MapSize { name: String, map: u64, size: u64 },
    #[error("cannot start the thread that reads {name}: {source}")]
    Thread {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the thread that reads {name} has stopped")]
    ReaderGone { name: String },
}

/// Where the rescue stands, for a progress display (ddrescue's screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub position: Position,
    pub size: u64,
    /// Bytes of each [`Status`], indexed as [`Status::ALL`].
    pub bytes: [u64; 5],
    /// Separate bad-sector areas.
    pub bad_areas: usize,
    /// Failed reads in this run.
    pub read_errors: u64,
    /// Slow reads in this run.
    pub slow_reads: u64,
    /// Bytes read good in this run.
    pub read_good: u64,
    pub run_time: Duration,
    /// Since the last good read of this run (`None`: none yet).
    pub since_good: Option<Duration>,
}

impl Progress {
    pub fn bytes(&self, s: Status) -> u64 {
        self.bytes[s as usize]
    }
}

/// What the caller's watch found.
enum Watch {
    /// Nothing overran.
    Fine,
    /// A read overran and was given up; the job goes on on a new engine thread.
    GaveUp,
    /// A read overran and the job must stop.
    Stop(Stop),
}

/// How often a waiting caller looks at the read under way when it knows of none.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// A source read with ddrescue's discipline. See the module documentation.
pub struct Rescuer {
    inner: Arc<Inner>,
    /// The engine thread's queue and generation; held for the length of a job.
    engine: Mutex<Option<(Sender<Job>, u64)>>,
}

impl Rescuer {
    /// A rescuer of `source` keeping what it reads in `store`, going on from `mapfile`
    /// (`None`: nothing tried yet).
    pub fn new(
        source: Source,
        store: Arc<dyn Store>,
        mapfile: Option<Mapfile>,
        options: Options,
    ) -> Result<Rescuer, RescueError> {
        Rescuer::with_clock(
            source,
            store,
            mapfile,
            options,
            Arc::new(SystemClock::new()),
        )
    }

    pub(super) fn with_clock(
        source: Source,
        store: Arc<dyn Store>,
        mapfile: Option<Mapfile>,
        mut opts: Options,
        clock: Arc<dyn Clock>,
    ) -> Result<Rescuer, RescueError> {
        let name = source.name().to_string();
        let size = source.size();
        let sector = u64::from(source.sector_size().max(1));
        let (map, position) = match mapfile {
            Some(m) if m.map.size() != size => {
                return Err(RescueError::MapSize {
                    name,
                    map: m.map.size(),
                    size,
                })
            }
            Some(m) => (m.map, m.position),
            None => (Map::new(size), Position::START),
        };
        opts.cluster = opts.cluster.max(sector) / sector * sector;
        opts.large_read = opts.large_read.max(opts.cluster) / opts.cluster * opts.cluster;
        let healthy = [Status::NonTrimmed, Status::NonScraped, Status::BadSector]
            .iter()
            .all(|&s| map.bytes(s) == 0);
        let now = clock.now();
        let state = State {
            map,
            position,
            stats: Stats {
                started: now,
                ..Stats::default()
            },
            slow_skipped: Vec::new(),
            saved_at: now,
            deadline: opts.max_time.map(|t| now + t),
            effort: opts.effort,
            in_flight: None,
            generation: 0,
            stuck: false,
            passes_made: 0,
            run_before: position,
            buf: Vec::new(),
            healthy,
        };
        let inner = Inner {
            name,
            size,
            sector,
            source,
            store,
            opts,
            clock,
            stop: Arc::new(AtomicBool::new(false)),
            saving: OnceLock::new(),
            state: Mutex::new(state),
        };
        Ok(Rescuer {
            inner: Arc::new(inner),
            engine: Mutex::new(None),
        })
    }

    /// Saves the map at `path` (with `header`) every `save_interval`, at the end of each
    /// run, and on [`Rescuer::save`]. The first place given is kept.
    pub fn save_to(self, path: PathBuf, header: Header) -> Rescuer {
        let _ = self.inner.saving.set((path, header));
        self
    }

    /// Raising this flag stops a run after the read under way (Ctrl-C), map saved.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.inner.stop.clone()
    }

    /// A new time budget from now (`None`: none).
    pub fn set_time_budget(&self, budget: Option<Duration>) {
        let now = self.inner.clock.now();
        self.inner.lock().deadline = budget.map(|b| now + b);
    }

    /// How hard reads through [`BlockSource`] try from now on.
    pub fn set_effort(&self, effort: Effort) {
        self.inner.lock().effort = effort;
    }

    /// The map and the status line as they stand.
    pub fn mapfile(&self) -> Mapfile {
        let st = self.inner.lock();
        Mapfile {
            position: st.position,
            map: st.map.clone(),
        }
    }

    /// The bytes of `range` not rescued (yet), as ranges: what a capture reports lost.
    pub fn unfinished(&self, range: Range<u64>) -> Vec<Range<u64>> {
        self.inner.lock().map.unfinished_in(range)
    }

    /// Where the rescue stands.
    pub fn progress(&self) -> Progress {
        let st = self.inner.lock();
        self.inner.progress_of(&st)
    }

    /// Saves the map now (when it has a place), after making the rescued bytes durable.
    pub fn save(&self) -> Result<(), RescueError> {
        let mut st = self.inner.lock();
        self.inner.save_locked(&mut st)
    }

    /// Makes ddrescue's passes over `domain` (cut to the source), going on from the map's
    /// status line, until every pass is made or a bound stops it (see [`Options`]).
    /// `progress` is called at the start of each pass, every `progress_interval`, and at
    /// the end. The map is saved at the end, whatever the end.
    pub fn run(
        &self,
        domain: Range<u64>,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<RunEnd, RescueError> {
        let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        let mut fresh = true;
        loop {
            let (tx, rx) = mpsc::channel();
            let job = Job::Run {
                domain: domain.clone(),
                fresh,
                events: tx,
            };
            fresh = false;
            self.submit(&mut engine, job)?;
            loop {
                match rx.recv_timeout(self.watch_wait()) {
                    Ok(Event::Progress(p)) => progress(&p),
                    Ok(Event::Done(end)) => return end,
                    Err(RecvTimeoutError::Timeout) => match self.watch() {
                        Watch::Fine => continue,
                        Watch::GaveUp => break,
                        Watch::Stop(stop) => {
                            let mut st = self.inner.lock();
                            self.inner.save_locked(&mut st)?;
                            progress(&self.inner.progress_of(&st));
                            return Ok(RunEnd::Stopped(stop));
                        }
                    },
                    Err(RecvTimeoutError::Disconnected) => return Err(self.gone()),
                }
            }
        }
    }

    /// Hands `job` to the engine thread, starting one when there is none of the current
    /// generation.
    fn submit(&self, engine: &mut Option<(Sender<Job>, u64)>, job: Job) -> Result<(), RescueError> {
        let gen = self.inner.lock().generation;
        if engine.as_ref().is_none_or(|(_, g)| *g != gen) {
            let tx =
                engine::spawn(self.inner.clone(), gen).map_err(|source| RescueError::Thread {
                    name: self.inner.name.clone(),
                    source,
                })?;
            *engine = Some((tx, gen));
        }
        match engine {
            Some((tx, _)) => tx.send(job).map_err(|_| self.gone()),
            None => Err(self.gone()),
        }
    }

    fn gone(&self) -> RescueError {
        RescueError::ReaderGone {
            name: self.inner.name.clone(),
        }
    }

    /// How long to wait before looking at the read under way again.
    fn watch_wait(&self) -> Duration {
        let st = self.inner.lock();
        match &st.in_flight {
            Some(f) => f
                .until
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
            None => WATCH_EVERY,
        }
    }

    /// Gives up on the read under way if its time is up.
    fn watch(&self) -> Watch {
        let mut st = self.inner.lock();
        let overran = st
            .in_flight
            .as_ref()
            .is_some_and(|f| Instant::now() >= f.until);
        if !overran {
            return Watch::Fine;
        }
        let Some(f) = st.in_flight.take() else {
            return Watch::Fine;
        };
        st.generation += 1;
        mark(&mut st.map, f.range.clone(), f.fail);
        st.healthy = false;
        st.stats.read_errors += 1;
        if st.stuck {
            return Watch::Stop(Stop::Unresponsive { pos: f.range.start });
        }
        st.stuck = true;
        Watch::GaveUp
    }

    /// Reads what `want` needs from the disk, waiting for the engine thread.
    fn fetch(&self, want: Range<u64>) -> Result<(), RescueError> {
        let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        let (tx, rx): (Sender<_>, Receiver<_>) = mpsc::channel();
        self.submit(&mut engine, Job::Fetch { want, reply: tx })?;
        loop {
            match rx.recv_timeout(self.watch_wait()) {
                Ok(r) => return r,
                Err(RecvTimeoutError::Timeout) => match self.watch() {
                    Watch::Fine => {}
                    Watch::GaveUp | Watch::Stop(_) => return Ok(()),
                },
                Err(RecvTimeoutError::Disconnected) => return Err(self.gone()),
            }
        }
    }
}

impl BlockSource for Rescuer {
    fn size(&self) -> u64 {
        self.inner.size
    }
    fn sector_size(&self) -> u32 {
        self.inner.sector as u32
    }
    fn name(&self) -> &str {
        &self.inner.name
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let inner = &self.inner;
        check_range(&inner.name, inner.size, offset, buf.len())?;
        let want = offset..offset + buf.len() as u64;
        let s = inner.sector;
        let around = want.start / s * s..(want.end.div_ceil(s) * s).min(inner.size);
        let needs_disk = {
            let st = inner.lock();
            !st.map.unfinished_in(around.clone()).is_empty() && !inner.out_of_time(&st)
        };
        if needs_disk {
            self.fetch(around).map_err(|e| BlockError::Io {
                name: inner.name.clone(),
                offset,
                len: buf.len(),
                source: std::io::Error::other(e),
            })?;
        }
        let lost = inner.lock().map.unfinished_in(want.clone());
        let mut at = want.start;
        let end = want.end..want.end;
        for r in lost.iter().chain([&end]) {
            if at < r.start {
                let b = &mut buf[(at - offset) as usize..(r.start - offset) as usize];
                inner
                    .store
                    .read_at(at, b)
                    .map_err(|source| BlockError::Io {
                        name: format!("{} (rescued copy)", inner.name),
                        offset: at,
                        len: b.len(),
                        source,
                    })?;
            }
            buf[(r.start - offset) as usize..(r.end - offset) as usize].fill(0);
            at = r.end;
        }
        if lost.is_empty() {
            Ok(())
        } else {
            Err(BlockError::Damaged {
                name: inner.name.clone(),
                lost,
            })
        }
    }
}
