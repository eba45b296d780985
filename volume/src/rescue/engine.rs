//! The thread that reads the disk, and the state it shares with the caller waiting for it.
//!
//! A failing disk can keep one read for minutes while its firmware and the kernel retry,
//! and no read can be called back once asked. So the disk is read on an engine thread,
//! one job at a time (a run of passes, or the bytes a read from above needs), each disk
//! read made right there, in line. The caller waits for the job and watches the read
//! under way: each has a time budget, and one that overruns it is given up (see
//! [`Rescuer`](super::Rescuer)). The engine thread is then abandoned: when its read comes
//! back it keeps the good bytes and ends, and a new thread carries on from the map.
//! Handing each read to a thread would cost two thread wake-ups per read, more than a
//! sector read takes; handing each job costs them once.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::clock::Clock;
use super::map::{Map, Status};
use super::mapfile::{self, Header, Position};
use super::rescuer::{Effort, Options, Progress, RescueError, RunEnd};
use crate::block::{BlockError, Source};

/// Reads go into memory aligned to a page: a device read directly needs it (no copy
/// through a bounce buffer then), and a FUSE file read directly is asked in whole pieces
/// rather than in pieces cut at the buffer's page boundaries.
const ALIGN: usize = 4096;

/// What the engine thread and its callers share.
pub(super) struct Inner {
    pub name: String,
    pub size: u64,
    pub sector: u64,
    pub source: Source,
    pub store: Arc<dyn super::Store>,
    pub opts: Options,
    pub clock: Arc<dyn Clock>,
    pub stop: Arc<AtomicBool>,
    /// Where the map is saved, once set.
    pub saving: OnceLock<(PathBuf, Header)>,
    pub state: Mutex<State>,
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
    pub stats: Stats,
    /// Areas pass 1 or 2 skipped after a slow read: passes 3 and 4 read them.
    pub slow_skipped: Vec<Range<u64>>,
    pub saved_at: Duration,
    pub deadline: Option<Duration>,
    pub effort: Effort,
    /// The disk read under way, for the caller's watch.
    pub in_flight: Option<InFlight>,
    /// The engine thread that may read: one given up on finds a newer generation here.
    pub generation: u64,
    /// A read given up on has not come back yet: the disk may be hung.
    pub stuck: bool,
    /// Passes the current run has begun, and the status line before it.
    pub passes_made: u32,
    pub run_before: Position,
    /// The memory reads go into, kept from one read to the next (not filled anew each
    /// time: a read fills it); a read uses the part of it aligned to [`ALIGN`].
    pub buf: Vec<u8>,
    /// No read has failed or been slow, and the map held no failed area: passes 1 and 5
    /// read `large_read` bytes at a time.
    pub healthy: bool,
}

/// A disk read under way.
pub(super) struct InFlight {
    pub range: Range<u64>,
    /// The status its bytes get if it is given up on.
    pub fail: Status,
    /// When its time is up.
    pub until: Instant,
}

/// What a read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Got {
    Good {
        slow: bool,
    },
    Bad,
    /// Not read: the time budget is spent.
    OutOfTime,
}

/// Why a job ended early.
pub(super) enum Halt {
    Error(RescueError),
    /// This engine thread was given up on: it must end without a word.
    Abandoned,
}

impl From<RescueError> for Halt {
    fn from(e: RescueError) -> Halt {
        Halt::Error(e)
    }
}

/// Work for the engine thread.
pub(super) enum Job {
    /// Passes over `domain`; `fresh` for a new run, not a run going on after a read that
    /// was given up on.
    Run {
        domain: Range<u64>,
        fresh: bool,
        events: Sender<Event>,
    },
    /// The bytes of `want` that are not finished (a read from above).
    Fetch {
        want: Range<u64>,
        reply: Sender<Result<(), RescueError>>,
    },
}

pub(super) enum Event {
    Progress(Progress),
    Done(Result<RunEnd, RescueError>),
}

/// Starts an engine thread of generation `gen`; it ends when its queue closes or when it
/// finds itself given up on.
pub(super) fn spawn(inner: Arc<Inner>, gen: u64) -> std::io::Result<Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("rescue-engine".into())
        .spawn(move || {
            for job in rx {
                match job {
                    Job::Run {
                        domain,
                        fresh,
                        events,
                    } => match inner.run_job(gen, domain, fresh, &events) {
                        Err(Halt::Abandoned) => return,
                        Err(Halt::Error(e)) => drop(events.send(Event::Done(Err(e)))),
                        Ok(end) => drop(events.send(Event::Done(Ok(end)))),
                    },
                    Job::Fetch { want, reply } => match inner.fetch(gen, want) {
                        Err(Halt::Abandoned) => return,
                        Err(Halt::Error(e)) => drop(reply.send(Err(e))),
                        Ok(()) => drop(reply.send(Ok(()))),
                    },
                }
            }
        })?;
    Ok(tx)
}

impl Inner {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the map claiming bytes the store
        // lacks (bytes are kept before the map says so): go on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn progress_of(&self, st: &State) -> Progress {
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

    /// Saves the map (when it has a place) after making the rescued bytes durable.
    pub fn save_locked(&self, st: &mut State) -> Result<(), RescueError> {
        let Some((path, header)) = self.saving.get() else {
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
    pub fn tick(&self, st: &mut State) -> Result<(), RescueError> {
        if self.clock.now().saturating_sub(st.saved_at) >= self.opts.save_interval {
            self.save_locked(st)?;
        }
        Ok(())
    }

    /// Whether the time budget is spent.
    pub fn out_of_time(&self, st: &State) -> bool {
        st.deadline.is_some_and(|d| self.clock.now() >= d)
    }

    /// Reads `range` once, in line, with the state unlocked meanwhile so the caller can
    /// watch the read. On failure the unfinished bytes of `range` get `fail`.
    pub fn step<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        gen: u64,
        range: Range<u64>,
        fail: Status,
    ) -> Result<(MutexGuard<'a, State>, Got), Halt> {
        if st.generation != gen {
            return Err(Halt::Abandoned);
        }
        // The time budget is looked at before each read; a read under way when it runs
        // out finishes (within its own budget), so nothing the disk read is thrown away.
        if self.out_of_time(&st) {
            return Ok((st, Got::OutOfTime));
        }
        st.in_flight = Some(InFlight {
            range: range.clone(),
            fail,
            until: Instant::now() + self.opts.read_timeout,
        });
        let len = (range.end - range.start) as usize;
        let mut mem = std::mem::take(&mut st.buf);
        if mem.len() < len + ALIGN {
            mem.resize(len + ALIGN, 0);
        }
        drop(st);
        let skew = mem.as_ptr().align_offset(ALIGN).min(ALIGN);
        let buf = &mut mem[skew..skew + len];
        let t0 = self.clock.now();
        let result = self.source.read_at(range.start, buf);
        let took = self.clock.now().saturating_sub(t0);
        let mut st = self.lock();
        if st.generation != gen {
            // Given up on while the disk had it: what it read good is kept all the same.
            st.stuck = false;
            if result.is_ok() {
                let _ = self.keep(&mut st, range.start, buf);
            }
            return Err(Halt::Abandoned);
        }
        st.in_flight = None;
        let got = match result {
            Ok(()) => {
                self.keep(&mut st, range.start, buf)?;
                let slow = self.opts.slow_read.is_some_and(|s| took > s);
                st.healthy &= !slow;
                Got::Good { slow }
            }
            Err(e) => {
                if let Some(source) = gone(&e) {
                    return Err(Halt::Error(RescueError::SourceGone {
                        name: self.name.clone(),
                        offset: range.start,
                        source,
                    }));
                }
                st.stats.read_errors += 1;
                st.healthy = false;
                mark(&mut st.map, range, fail);
                Got::Bad
            }
        };
        st.buf = mem;
        Ok((st, got))
    }

    /// Keeps the good bytes read at `offset` where the map does not have them yet.
    fn keep(&self, st: &mut State, offset: u64, buf: &[u8]) -> Result<(), RescueError> {
        for r in st.map.unfinished_in(offset..offset + buf.len() as u64) {
            let at = (r.start - offset) as usize;
            let len = (r.end - r.start) as usize;
            self.store
                .write_at(r.start, &buf[at..at + len])
                .map_err(|source| RescueError::Store {
                    name: self.name.clone(),
                    offset: r.start,
                    source,
                })?;
            st.map.set(r, Status::Finished);
        }
        st.stats.read_good += buf.len() as u64;
        st.stats.last_good = Some(self.clock.now());
        Ok(())
    }

    pub fn sector_from(&self, pos: u64, limit: u64) -> Range<u64> {
        pos..((pos / self.sector + 1) * self.sector).min(limit)
    }

    pub fn sector_to(&self, end: u64, floor: u64) -> Range<u64> {
        ((end - 1) / self.sector * self.sector).max(floor)..end
    }

    pub fn cluster_from(&self, pos: u64, limit: u64) -> Range<u64> {
        let c = self.opts.cluster;
        pos..((pos / c + 1) * c).min(limit)
    }

    /// The read from `pos` in passes 1 and 5: a large one while the disk is healthy.
    pub fn copy_from(&self, st: &State, pos: u64, limit: u64) -> Range<u64> {
        let c = if st.healthy {
            self.opts.large_read
        } else {
            self.opts.cluster
        };
        pos..((pos / c + 1) * c).min(limit)
    }

    pub fn cluster_to(&self, end: u64, floor: u64) -> Range<u64> {
        let c = self.opts.cluster;
        ((end - 1) / c * c).max(floor)..end
    }

    /// Reads what a request needs that is not finished: clusters around the parts never
    /// tried, then (with [`Effort::Trim`]) the edges of what failed, then (with
    /// [`Effort::Scrape`]) each failed sector alone. Stops when the time budget is spent.
    fn fetch(&self, gen: u64, want: Range<u64>) -> Result<(), Halt> {
        let mut st = self.lock();
        let mut pos = want.start;
        while let Some(r) = st.map.next(Status::NonTried, pos, want.end) {
            let whole = st.map.block_at(r.start).map_or(r.clone(), |b| b.range());
            let c = self.cluster_to(r.start + 1, whole.start).start;
            let chunk = self.cluster_from(c, whole.end);
            let (s, got) = self.step(st, gen, chunk.clone(), Status::NonTrimmed)?;
            st = s;
            if got == Got::OutOfTime {
                return Ok(());
            }
            pos = chunk.end;
        }
        if st.effort != Effort::Copy {
            let mut pos = want.start;
            while let Some(r) = st.map.next(Status::NonTrimmed, pos, want.end) {
                let (s, done) = self.trim(st, gen, r.clone())?;
                st = s;
                if !done {
                    return Ok(());
                }
                pos = r.end;
            }
        }
        if st.effort == Effort::Scrape {
            for status in [Status::NonTrimmed, Status::NonScraped] {
                let mut pos = want.start;
                while let Some(r) = st.map.next(status, pos, want.end) {
                    let sector = self.sector_from(r.start, r.end);
                    let (s, got) = self.step(st, gen, sector.clone(), Status::BadSector)?;
                    st = s;
                    if got == Got::OutOfTime {
                        return Ok(());
                    }
                    pos = sector.end;
                }
            }
        }
        Ok(self.tick(&mut st)?)
    }

    /// ddrescue's trimming of `r` (non-trimmed, whole sectors): a sector at a time from
    /// its leading edge until a bad one, then from its trailing edge until a bad one; what
    /// lies between becomes non-scraped. `false` when the time budget ran out first.
    fn trim<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        gen: u64,
        r: Range<u64>,
    ) -> Result<(MutexGuard<'a, State>, bool), Halt> {
        let (mut at, mut end) = (r.start, r.end);
        let mut forwards = true;
        while at < end {
            let sector = if forwards {
                self.sector_from(at, end)
            } else {
                self.sector_to(end, at)
            };
            let (s, got) = self.step(st, gen, sector.clone(), Status::BadSector)?;
            st = s;
            match (got, forwards) {
                (Got::OutOfTime, _) => return Ok((st, false)),
                (Got::Good { .. }, true) => at = sector.end,
                (Got::Good { .. }, false) => end = sector.start,
                (Got::Bad, true) => {
                    at = sector.end;
                    forwards = false;
                }
                (Got::Bad, false) => {
                    end = sector.start;
                    break;
                }
            }
        }
        if at < end {
            mark(&mut st.map, at..end, Status::NonScraped);
        }
        Ok((st, true))
    }
}

/// Gives the unfinished bytes of `range` the status `s` (a good byte stays good, even if
/// a read given up on came back good meanwhile).
pub(super) fn mark(map: &mut Map, range: Range<u64>, s: Status) {
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
    // ERROR_DEV_NOT_EXIST, ERROR_NO_SUCH_DEVICE, ERROR_DEVICE_NOT_CONNECTED. Not
    // ERROR_NOT_READY: drivers give it for a sector that does not read too (and Wine gives
    // it for EIO).
    #[cfg(windows)]
    let gone = [55, 433, 1167].contains(&code);
    #[cfg(not(any(unix, windows)))]
    let gone = false;
    gone.then(|| std::io::Error::from_raw_os_error(code))
}
