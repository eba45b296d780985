//! The rescuer: a source read with ddrescue's discipline, its map, and the rescued bytes.
//!
//! Two ways in. [`Rescuer::run`] makes ddrescue's passes over the source, or a part of it
//! (`lifeboat image`; the MFT's zone before a capture). As a [`BlockSource`] it answers the
//! layers above (BitLocker, NTFS): finished bytes come from the store, bytes not tried yet
//! are read in clusters around the request, and bytes that cannot be had are zeros in the
//! buffer and ranges in [`BlockError::Damaged`]. Either way a byte read good is kept and
//! never asked of the disk again, and every read is bounded in time.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::map::{Map, Status};
use super::mapfile::{self, Header, MapError, Mapfile, Position};
use super::reader::{Clock, Done, Read, Reader, SystemClock};
use super::store::Store;
use crate::block::{check_range, BlockError, BlockSource, Source};

/// How a [`Rescuer`] reads. The defaults are ddrescue's where it has one.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bytes read at a time in the copying passes (ddrescue's cluster: 64 KiB). Rounded
    /// to whole sectors.
    pub cluster: u64,
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
    /// rescued are answered at once as damaged.
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
    /// Also each sector of the request that failed in a large read is read alone (trim
    /// and scrape, for the request only): for small, precious reads such as the boot
    /// sector or an MFT record.
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

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Stats {
    pub started: Duration,
    pub read_errors: u64,
    pub slow_reads: u64,
    pub read_good: u64,
    pub last_good: Option<Duration>,
}

pub(super) struct State {
    pub map: Map,
    pub position: Position,
    pub reader: Reader,
    pub late: Vec<Done>,
    pub stats: Stats,
    /// Areas pass 1 or 2 skipped after a slow read: passes 3 and 4 read them.
    pub slow_skipped: Vec<Range<u64>>,
    pub saved_at: Duration,
    pub deadline: Option<Duration>,
    pub effort: Effort,
}

/// What a read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Got {
    Good {
        slow: bool,
    },
    Bad,
    /// Not read: the disk is still busy with a read that overran.
    Busy,
}

/// A source read with ddrescue's discipline. See the module documentation.
pub struct Rescuer {
    pub(super) name: String,
    pub(super) size: u64,
    pub(super) sector: u64,
    pub(super) store: Arc<dyn Store>,
    pub(super) opts: Options,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) saving: Option<(PathBuf, Header)>,
    pub(super) state: Mutex<State>,
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
        let reader = Reader::new(source, clock.clone()).map_err(|source| RescueError::Thread {
            name: name.clone(),
            source,
        })?;
        let now = clock.now();
        let state = State {
            map,
            position,
            reader,
            late: Vec::new(),
            stats: Stats {
                started: now,
                ..Stats::default()
            },
            slow_skipped: Vec::new(),
            saved_at: now,
            deadline: opts.max_time.map(|t| now + t),
            effort: opts.effort,
        };
        Ok(Rescuer {
            name,
            size,
            sector,
            store,
            opts,
            clock,
            stop: Arc::new(AtomicBool::new(false)),
            saving: None,
            state: Mutex::new(state),
        })
    }

    /// Saves the map at `path` (with `header`) at intervals, at the end of each pass and
    /// run, and on [`Rescuer::save`].
    pub fn save_to(mut self, path: PathBuf, header: Header) -> Rescuer {
        self.saving = Some((path, header));
        self
    }

    /// Raising this flag stops a run after the read under way (Ctrl-C), map saved.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// A new time budget from now (`None`: none).
    pub fn set_time_budget(&self, budget: Option<Duration>) {
        let now = self.clock.now();
        self.lock().deadline = budget.map(|b| now + b);
    }

    /// How hard reads through [`BlockSource`] try from now on.
    pub fn set_effort(&self, effort: Effort) {
        self.lock().effort = effort;
    }

    /// The map and the status line as they stand.
    pub fn mapfile(&self) -> Mapfile {
        let st = self.lock();
        Mapfile {
            position: st.position,
            map: st.map.clone(),
        }
    }

    /// The bytes of `range` not rescued (yet), as ranges: what a capture reports lost.
    pub fn unfinished(&self, range: Range<u64>) -> Vec<Range<u64>> {
        self.lock().map.unfinished_in(range)
    }

    /// Where the rescue stands.
    pub fn progress(&self) -> Progress {
        let st = self.lock();
        self.progress_of(&st)
    }

    /// Saves the map now (when it has a place), after making the rescued bytes durable.
    pub fn save(&self) -> Result<(), RescueError> {
        let mut st = self.lock();
        self.save_locked(&mut st)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the map inconsistent with the
        // store in a harmful way (bytes are written before the map says so): go on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn progress_of(&self, st: &State) -> Progress {
        let now = self.clock.now();
        Progress {
            position: st.position,
            size: self.size,
            bytes: Status::ALL.map(|s| st.map.bytes(s)),
            bad_areas: st.map.areas(Status::BadSector),
            read_errors: st.stats.read_errors,
            slow_reads: st.stats.slow_reads,
            read_good: st.stats.read_good,
            run_time: now.saturating_sub(st.stats.started),
            since_good: st.stats.last_good.map(|t| now.saturating_sub(t)),
        }
    }

    pub(super) fn save_locked(&self, st: &mut State) -> Result<(), RescueError> {
        let Some((path, header)) = &self.saving else {
            return Ok(());
        };
        self.store.sync().map_err(|source| RescueError::Store {
            name: self.name.clone(),
            offset: 0,
            source,
        })?;
        mapfile::save(path, &st.position, &st.map, header)?;
        st.saved_at = self.clock.now();
        Ok(())
    }

    /// Saves the map when the interval has passed.
    pub(super) fn tick(&self, st: &mut State) -> Result<(), RescueError> {
        if self.clock.now().saturating_sub(st.saved_at) >= self.opts.save_interval {
            self.save_locked(st)?;
        }
        Ok(())
    }

    /// Whether the time budget is spent.
    pub(super) fn out_of_time(&self, st: &State) -> bool {
        st.deadline.is_some_and(|d| self.clock.now() >= d)
    }

    /// Reads `range` once; on failure its unfinished bytes get `fail`.
    pub(super) fn step(
        &self,
        st: &mut State,
        range: Range<u64>,
        fail: Status,
    ) -> Result<Got, RescueError> {
        let now = self.clock.now();
        let budget = match st.deadline {
            Some(d) => self.opts.read_timeout.min(d.saturating_sub(now)),
            None => self.opts.read_timeout,
        };
        if budget.is_zero() {
            return Ok(Got::Busy);
        }
        let buf = vec![0u8; (range.end - range.start) as usize];
        let mut late = std::mem::take(&mut st.late);
        let read = st.reader.read(range.start, buf, budget, &mut late);
        late.extend(st.reader.poll_late());
        for d in late {
            if d.result.is_ok() {
                self.keep(st, &d)?;
            }
        }
        let got = match read {
            Read::Done(d) => match &d.result {
                Ok(()) => {
                    self.keep(st, &d)?;
                    Got::Good {
                        slow: self.opts.slow_read.is_some_and(|s| d.took > s),
                    }
                }
                Err(e) => {
                    if let Some(source) = gone(e) {
                        return Err(RescueError::SourceGone {
                            name: self.name.clone(),
                            offset: range.start,
                            source,
                        });
                    }
                    st.stats.read_errors += 1;
                    mark(&mut st.map, range, fail);
                    Got::Bad
                }
            },
            Read::TimedOut => {
                st.stats.read_errors += 1;
                mark(&mut st.map, range, fail);
                Got::Bad
            }
            Read::Busy => Got::Busy,
            Read::Gone => {
                return Err(RescueError::ReaderGone {
                    name: self.name.clone(),
                })
            }
        };
        Ok(got)
    }

    /// Keeps the good bytes of a read where the map does not have them yet.
    fn keep(&self, st: &mut State, d: &Done) -> Result<(), RescueError> {
        for r in st.map.unfinished_in(d.range()) {
            let at = (r.start - d.offset) as usize;
            let len = (r.end - r.start) as usize;
            self.store
                .write_at(r.start, &d.buf[at..at + len])
                .map_err(|source| RescueError::Store {
                    name: self.name.clone(),
                    offset: r.start,
                    source,
                })?;
            st.map.set(r, Status::Finished);
        }
        st.stats.read_good += d.buf.len() as u64;
        st.stats.last_good = Some(self.clock.now());
        Ok(())
    }

    pub(super) fn sector_from(&self, pos: u64, limit: u64) -> Range<u64> {
        pos..((pos / self.sector + 1) * self.sector).min(limit)
    }

    pub(super) fn sector_to(&self, end: u64, floor: u64) -> Range<u64> {
        ((end - 1) / self.sector * self.sector).max(floor)..end
    }

    pub(super) fn cluster_from(&self, pos: u64, limit: u64) -> Range<u64> {
        let c = self.opts.cluster;
        pos..((pos / c + 1) * c).min(limit)
    }

    pub(super) fn cluster_to(&self, end: u64, floor: u64) -> Range<u64> {
        let c = self.opts.cluster;
        ((end - 1) / c * c).max(floor)..end
    }

    /// Reads what a request needs that is not finished: clusters around the parts never
    /// tried, then (with [`Effort::Scrape`]) each failed sector alone. Stops at the first
    /// read the disk does not answer in time, or when the time budget is spent.
    fn fetch(&self, st: &mut State, want: Range<u64>) -> Result<(), RescueError> {
        let mut pos = want.start;
        while let Some(r) = st.map.next(Status::NonTried, pos, want.end) {
            if self.out_of_time(st) {
                return Ok(());
            }
            let whole = st.map.block_at(r.start).map_or(r.clone(), |b| b.range());
            let c = self.cluster_to(r.start + 1, whole.start).start;
            let chunk = self.cluster_from(c, whole.end);
            if self.step(st, chunk.clone(), Status::NonTrimmed)? == Got::Busy {
                return Ok(());
            }
            pos = chunk.end;
        }
        if st.effort == Effort::Scrape {
            for status in [Status::NonTrimmed, Status::NonScraped] {
                let mut pos = want.start;
                while let Some(r) = st.map.next(status, pos, want.end) {
                    if self.out_of_time(st) {
                        return Ok(());
                    }
                    let s = self.sector_from(r.start, r.end);
                    if self.step(st, s.clone(), Status::BadSector)? == Got::Busy {
                        return Ok(());
                    }
                    pos = s.end;
                }
            }
        }
        self.tick(st)
    }
}

/// Gives the unfinished bytes of `range` the status `s` (a good byte stays good, even if
/// a late read made it so while this one failed).
fn mark(map: &mut Map, range: Range<u64>, s: Status) {
    for r in map.unfinished_in(range) {
        map.set(r, s);
    }
}

/// The I/O error of a read that says the disk itself is gone (unplugged, powered off),
/// not that a sector is bad.
fn gone(e: &BlockError) -> Option<std::io::Error> {
    let BlockError::Io { source, .. } = e else {
        return None;
    };
    let code = source.raw_os_error()?;
    #[cfg(unix)]
    let gone = [libc::ENODEV, libc::ENXIO, libc::ENOMEDIUM].contains(&code);
    // ERROR_NOT_READY, ERROR_DEV_NOT_EXIST, ERROR_NO_SUCH_DEVICE,
    // ERROR_DEVICE_NOT_CONNECTED.
    #[cfg(windows)]
    let gone = [21, 55, 433, 1167].contains(&code);
    #[cfg(not(any(unix, windows)))]
    let gone = false;
    gone.then(|| std::io::Error::from_raw_os_error(code))
}

impl BlockSource for Rescuer {
    fn size(&self) -> u64 {
        self.size
    }
    fn sector_size(&self) -> u32 {
        self.sector as u32
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(&self.name, self.size, offset, buf.len())?;
        let want = offset..offset + buf.len() as u64;
        let mut st = self.lock();
        let around = want.start / self.sector * self.sector
            ..(want.end.div_ceil(self.sector) * self.sector).min(self.size);
        if let Err(e) = self.fetch(&mut st, around) {
            return Err(BlockError::Io {
                name: self.name.clone(),
                offset,
                len: buf.len(),
                source: std::io::Error::other(e),
            });
        }
        let lost = st.map.unfinished_in(want.clone());
        let mut at = want.start;
        let end = want.end..want.end;
        for r in lost.iter().chain([&end]) {
            if at < r.start {
                let b = &mut buf[(at - offset) as usize..(r.start - offset) as usize];
                self.store.read_at(at, b).map_err(|source| BlockError::Io {
                    name: format!("{} (rescued copy)", self.name),
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
                name: self.name.clone(),
                lost,
            })
        }
    }
}
