//! ddrescue's passes (manual, "Algorithm"), over the whole source or a part of it:
//!
//! - **Copying**, reading clusters of what was never tried (larger reads while the disk
//!   has shown no trouble at all); a failed cluster becomes non-trimmed. Pass 1 (forwards) skips ahead after an error or a slow read, the skip
//!   doubling with each one in a row and falling back after a good read, so a bad or slow
//!   area is left quickly. Pass 2 (backwards) reads each area left behind from its end
//!   until its first error or slow read. Passes 3 (forwards) and 4 (backwards) do the same
//!   over the areas skipped for slowness. Pass 5 (forwards) reads all that is left.
//! - **Trimming**: each non-trimmed block is read a sector at a time from its leading
//!   edge until a bad sector, then from its trailing edge until a bad sector; the rest
//!   becomes non-scraped. An edge beside a bad sector is trimmed already.
//! - **Scraping**: each non-scraped sector is read alone; a failure is a bad sector.
//! - **Retrying**: `retries` passes over the bad sectors, turning direction each time.
//!
//! Each read is one step: the next read is found in the map as it stands, and the status
//! line follows each step, so a run can stop after any step and go on from the map (in
//! the next run, or on a new engine thread after a read that was given up on).

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;

use super::engine::{Event, Got, Halt, Inner, State, Stats};
use super::map::Status;
use super::mapfile::{Phase, Position, MAP_MAX_BLOCKS};
use super::rescuer::{RunEnd, Stop};

/// A pass of the algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    /// Copying pass 1 to 5.
    Copy(u32),
    Trim,
    Scrape,
    /// Retry pass 1, 2, …
    Retry(u32),
}

impl Pass {
    fn forwards(self) -> bool {
        match self {
            Pass::Copy(n) | Pass::Retry(n) => n % 2 == 1,
            Pass::Trim | Pass::Scrape => true,
        }
    }

    fn position(self, pos: u64) -> Position {
        let (phase, pass) = match self {
            Pass::Copy(n) => (Phase::Copying, n),
            Pass::Trim => (Phase::Trimming, 1),
            Pass::Scrape => (Phase::Scraping, 1),
            Pass::Retry(n) => (Phase::Retrying, n),
        };
        Position { pos, phase, pass }
    }

    /// Where the pass starts in `domain`.
    fn start(self, domain: &Range<u64>) -> u64 {
        if self.forwards() {
            domain.start
        } else {
            domain.end
        }
    }
}

/// Where a pass is: the next position, the block being read (passes 2 to 4) and the
/// skip size (pass 1).
struct Cursor {
    pos: u64,
    block: Option<Range<u64>>,
    skip: u64,
}

impl Inner {
    /// Makes ddrescue's passes over `domain` (cut to the source), going on from the
    /// status line, until every pass is made or a bound stops it. Progress goes out at the
    /// start of each pass, every `progress_interval`, and at the end. The map is saved at
    /// the end, whatever the end.
    pub(super) fn run_job(
        &self,
        gen: u64,
        domain: Range<u64>,
        fresh: bool,
        events: &Sender<Event>,
    ) -> Result<RunEnd, Halt> {
        let end = domain.end.min(self.size);
        let domain = domain.start.min(end)..end;
        let whole = domain == (0..self.size);
        let (plan, resume) = {
            let mut st = self.lock();
            if fresh {
                st.stats = Stats {
                    started: self.clock.now(),
                    ..Stats::default()
                };
                st.passes_made = 0;
                st.run_before = st.position;
            }
            self.plan(&st)
        };
        for (i, pass) in plan.into_iter().enumerate() {
            if !self.has_work(&self.lock(), pass, &domain) {
                continue;
            }
            let (start, going_on) = match resume {
                Some(pos) if i == 0 => (pos.clamp(domain.start, domain.end), !fresh),
                _ => (pass.start(&domain), false),
            };
            if !going_on {
                let mut st = self.lock();
                if self.opts.max_passes.is_some_and(|m| st.passes_made >= m) {
                    st.position = pass.position(start);
                    drop(st);
                    return self.finish(RunEnd::Stopped(Stop::MaxPasses), events);
                }
                st.passes_made += 1;
            }
            if let Some(stop) = self.pass(gen, pass, &domain, start, events)? {
                return self.finish(RunEnd::Stopped(stop), events);
            }
        }
        let done = {
            let mut st = self.lock();
            st.position = if whole {
                Position {
                    phase: Phase::Finished,
                    pass: 1,
                    ..st.position
                }
            } else {
                st.run_before
            };
            st.map.unfinished_in(domain).is_empty()
        };
        let end = if done {
            RunEnd::Finished
        } else {
            RunEnd::Incomplete
        };
        self.finish(end, events)
    }

    fn finish(&self, end: RunEnd, events: &Sender<Event>) -> Result<RunEnd, Halt> {
        let mut st = self.lock();
        self.save_locked(&mut st)?;
        let _ = events.send(Event::Progress(self.progress_of(&st)));
        Ok(end)
    }

    /// The passes from where the status line says the rescue was: the copying pass it
    /// names (from its position), or all of them; then trimming, scraping, and `retries`
    /// retry passes numbered on from an interrupted retry pass.
    fn plan(&self, st: &State) -> (Vec<Pass>, Option<u64>) {
        let p = st.position;
        let (first_copy, resume) = match p.phase {
            Phase::Copying => (p.pass.clamp(1, 5), Some(p.pos)),
            _ => (1, None),
        };
        let first_retry = match p.phase {
            Phase::Retrying => p.pass,
            _ => 1,
        };
        let mut plan: Vec<Pass> = (first_copy..=5).map(Pass::Copy).collect();
        plan.push(Pass::Trim);
        plan.push(Pass::Scrape);
        plan.extend((0..self.opts.retries).map(|i| Pass::Retry(first_retry.saturating_add(i))));
        (plan, resume)
    }

    fn has_work(&self, st: &State, pass: Pass, domain: &Range<u64>) -> bool {
        let any = |s| st.map.next(s, domain.start, domain.end).is_some();
        match pass {
            Pass::Copy(3 | 4) => st.slow_skipped.iter().any(|r| {
                st.map
                    .next(
                        Status::NonTried,
                        r.start.max(domain.start),
                        r.end.min(domain.end),
                    )
                    .is_some()
            }),
            Pass::Copy(_) => any(Status::NonTried),
            Pass::Trim => any(Status::NonTrimmed),
            Pass::Scrape => any(Status::NonScraped),
            Pass::Retry(_) => any(Status::BadSector),
        }
    }

    fn stop_reason(&self, st: &State) -> Option<Stop> {
        if self.stop.load(Ordering::Relaxed) {
            Some(Stop::Interrupted)
        } else if self.out_of_time(st) {
            Some(Stop::MaxTime)
        } else if st.map.len() + 4 >= MAP_MAX_BLOCKS {
            Some(Stop::MapFull)
        } else {
            None
        }
    }

    /// One pass, read by read.
    fn pass(
        &self,
        gen: u64,
        pass: Pass,
        domain: &Range<u64>,
        start: u64,
        events: &Sender<Event>,
    ) -> Result<Option<Stop>, Halt> {
        let mut cur = Cursor {
            pos: start,
            block: None,
            skip: self.skip_initial(),
        };
        let mut st = self.lock();
        st.position = pass.position(start);
        let _ = events.send(Event::Progress(self.progress_of(&st)));
        let mut shown = self.clock.now();
        loop {
            if let Some(stop) = self.stop_reason(&st) {
                return Ok(Some(stop));
            }
            let Some((range, fail)) = self.next_read(&mut st, pass, domain, &mut cur) else {
                break;
            };
            st.position.pos = if pass.forwards() {
                range.start
            } else {
                range.end
            };
            let (s, got) = self.step(st, gen, range.clone(), fail)?;
            st = s;
            if got == Got::OutOfTime {
                return Ok(Some(Stop::MaxTime));
            }
            self.after_read(&mut st, pass, &mut cur, range, got);
            self.tick(&mut st)?;
            let now = self.clock.now();
            if now.saturating_sub(shown) >= self.opts.progress_interval {
                let _ = events.send(Event::Progress(self.progress_of(&st)));
                shown = now;
            }
        }
        Ok(None)
    }

    /// The next read of `pass` and the status its bytes get if it fails.
    fn next_read(
        &self,
        st: &mut State,
        pass: Pass,
        domain: &Range<u64>,
        cur: &mut Cursor,
    ) -> Option<(Range<u64>, Status)> {
        let map = &mut st.map;
        match pass {
            Pass::Copy(1 | 5) => {
                let r = map.next(Status::NonTried, cur.pos, domain.end)?;
                Some((self.copy_from(st, r.start, r.end), Status::NonTrimmed))
            }
            Pass::Copy(n) => {
                let slow_only = n > 2;
                loop {
                    let blk = match &cur.block {
                        Some(b) => b.clone(),
                        None => {
                            let r = if pass.forwards() {
                                map.next(Status::NonTried, cur.pos, domain.end)?
                            } else {
                                map.prev(Status::NonTried, cur.pos, domain.start)?
                            };
                            let wanted = !slow_only
                                || st
                                    .slow_skipped
                                    .iter()
                                    .any(|s| s.start < r.end && r.start < s.end);
                            if !wanted {
                                cur.pos = if pass.forwards() { r.end } else { r.start };
                                continue;
                            }
                            cur.block = Some(r.clone());
                            r
                        }
                    };
                    let next = if pass.forwards() {
                        map.next(Status::NonTried, cur.pos, blk.end)
                            .map(|r| self.cluster_from(r.start, r.end))
                    } else {
                        map.prev(Status::NonTried, cur.pos, blk.start)
                            .map(|r| self.cluster_to(r.end, r.start))
                    };
                    match next {
                        Some(r) => return Some((r, Status::NonTrimmed)),
                        None => self.leave_block(pass, cur),
                    }
                }
            }
            Pass::Trim => loop {
                let b = map.next(Status::NonTrimmed, cur.pos, domain.end)?;
                let bad = |pos: u64| {
                    map.block_at(pos)
                        .is_some_and(|x| x.status == Status::BadSector)
                };
                if !(b.start > 0 && bad(b.start - 1)) {
                    return Some((self.sector_from(b.start, b.end), Status::BadSector));
                }
                if !(b.end < self.size && bad(b.end)) {
                    return Some((self.sector_to(b.end, b.start), Status::BadSector));
                }
                map.set(b.clone(), Status::NonScraped);
                cur.pos = b.end;
            },
            Pass::Scrape => {
                let b = map.next(Status::NonScraped, cur.pos, domain.end)?;
                Some((self.sector_from(b.start, b.end), Status::BadSector))
            }
            Pass::Retry(_) => {
                let r = if pass.forwards() {
                    let b = map.next(Status::BadSector, cur.pos, domain.end)?;
                    self.sector_from(b.start, b.end)
                } else {
                    let b = map.prev(Status::BadSector, cur.pos, domain.start)?;
                    self.sector_to(b.end, b.start)
                };
                Some((r, Status::BadSector))
            }
        }
    }

    /// Moves the cursor past the rest of the block it was reading (passes 2 to 4).
    fn leave_block(&self, pass: Pass, cur: &mut Cursor) {
        if let Some(b) = cur.block.take() {
            cur.pos = if pass.forwards() { b.end } else { b.start };
        }
    }

    /// Moves the cursor on after a read, by the pass's rule.
    fn after_read(&self, st: &mut State, pass: Pass, cur: &mut Cursor, r: Range<u64>, got: Got) {
        let slow = got == Got::Good { slow: true } && matches!(pass, Pass::Copy(1 | 2));
        if slow {
            st.stats.slow_reads += 1;
        }
        let forward_end = if pass.forwards() { r.end } else { r.start };
        match pass {
            Pass::Copy(1) => {
                if got == (Got::Good { slow: false }) {
                    cur.skip = self.skip_initial();
                    cur.pos = r.end;
                    return;
                }
                let skipped = r.end..(r.end + cur.skip).min(self.size);
                if slow {
                    st.slow_skipped.push(skipped.clone());
                }
                cur.pos = skipped.end;
                cur.skip = (cur.skip * 2).min(self.skip_max());
            }
            // Trimming finds its place in the map again: each read changes the block.
            Pass::Trim => {}
            Pass::Copy(5) | Pass::Scrape | Pass::Retry(_) => cur.pos = forward_end,
            Pass::Copy(_) => {
                if matches!(got, Got::Good { .. }) && !slow {
                    cur.pos = forward_end;
                    return;
                }
                if slow {
                    if let Some(b) = &cur.block {
                        let rest = if pass.forwards() {
                            r.end..b.end
                        } else {
                            b.start..r.start
                        };
                        st.slow_skipped.push(rest);
                    }
                }
                self.leave_block(pass, cur);
            }
        }
    }

    fn skip_initial(&self) -> u64 {
        let s = self
            .opts
            .skip_initial
            .unwrap_or((self.size / 100_000).max(64 * 1024));
        s.div_ceil(self.sector) * self.sector
    }

    fn skip_max(&self) -> u64 {
        let m = self.opts.skip_max.unwrap_or(self.size / 100);
        (m.div_ceil(self.sector) * self.sector).max(self.skip_initial())
    }
}
