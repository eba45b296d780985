//! Reads with a time budget. A failing disk can keep one read for minutes while its
//! firmware and the kernel retry; the rescue must not wait that long. Reads run on a
//! thread of their own, and the caller waits for each at most its budget. A read that
//! overruns is left to finish on that thread: its answer, when it comes, is handed back
//! ("late") so good bytes are not lost. Until it comes the disk is busy, and the next read
//! first waits for it, within its own budget.

use std::ops::Range;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::block::{BlockError, Source};

/// Time as the rescue measures it: real time, or a test's clock that its source moves on.
pub trait Clock: Send + Sync {
    /// Time since some fixed start.
    fn now(&self) -> Duration;
}

/// The system's monotonic clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock(Instant::now())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A read's answer.
pub struct Done {
    pub offset: u64,
    pub buf: Vec<u8>,
    pub result: Result<(), BlockError>,
    /// How long the source took, by the clock.
    pub took: Duration,
}

impl Done {
    pub fn range(&self) -> Range<u64> {
        self.offset..self.offset + self.buf.len() as u64
    }
}

/// What became of a read.
pub enum Read {
    /// The source answered in time (with bytes or an error).
    Done(Done),
    /// The source did not answer within the budget; its answer may come late.
    TimedOut,
    /// An earlier read has still not answered: this one was not started.
    Busy,
    /// The reading thread has gone (it panicked): nothing more can be read.
    Gone,
}

struct Job {
    offset: u64,
    buf: Vec<u8>,
}

/// The reading thread and the read it may still be busy with.
pub struct Reader {
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Done>,
    pending: bool,
}

impl Reader {
    /// Starts the thread that reads `source`.
    pub fn new(source: Source, clock: Arc<dyn Clock>) -> std::io::Result<Reader> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Done>();
        std::thread::Builder::new()
            .name("rescue-reader".into())
            .spawn(move || {
                for mut job in job_rx {
                    let t0 = clock.now();
                    let result = source.read_at(job.offset, &mut job.buf);
                    let took = clock.now().saturating_sub(t0);
                    let done = Done {
                        offset: job.offset,
                        buf: job.buf,
                        result,
                        took,
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Reader {
            jobs,
            done,
            pending: false,
        })
    }

    /// Reads `buf.len()` bytes at `offset`, waiting at most `budget` in all. A late answer
    /// to an earlier read that arrives meanwhile is put in `late`.
    pub fn read(
        &mut self,
        offset: u64,
        buf: Vec<u8>,
        budget: Duration,
        late: &mut Vec<Done>,
    ) -> Read {
        let until = Instant::now() + budget;
        if self.pending {
            match self.done.recv_timeout(budget) {
                Ok(d) => {
                    self.pending = false;
                    late.push(d);
                }
                Err(RecvTimeoutError::Timeout) => return Read::Busy,
                Err(RecvTimeoutError::Disconnected) => return Read::Gone,
            }
        }
        if self.jobs.send(Job { offset, buf }).is_err() {
            return Read::Gone;
        }
        let left = until.saturating_duration_since(Instant::now());
        match self.done.recv_timeout(left) {
            Ok(d) => Read::Done(d),
            Err(RecvTimeoutError::Timeout) => {
                self.pending = true;
                Read::TimedOut
            }
            Err(RecvTimeoutError::Disconnected) => Read::Gone,
        }
    }

    /// A late answer, if one has come, without waiting.
    pub fn poll_late(&mut self) -> Option<Done> {
        if !self.pending {
            return None;
        }
        let d = self.done.try_recv().ok()?;
        self.pending = false;
        Some(d)
    }
}
