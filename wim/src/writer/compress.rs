//! Chunks compressed on every core by wimlib's own compressors (its public compression
//! API), handed back in the order they were given. Each worker owns one compressor;
//! chunks travel in batches over bounded queues, so the memory in flight is a few
//! batches per worker whatever the size of the files.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use wimlib_sys as w;

use super::Error;
use crate::Compression;

/// A batch is sent when it holds this many chunks…
const BATCH_CHUNKS: usize = 64;
/// …or this many bytes of input.
const BATCH_BYTES: usize = 256 << 10;
/// Batches in flight per worker: enough that no worker waits for the writer.
const BATCHES_PER_WORKER: usize = 4;

/// One of wimlib's compressors, owned by one thread at a time.
pub struct Compressor {
    raw: NonNull<w::wimlib_compressor>,
    max: usize,
}

// SAFETY: a wimlib compressor holds no thread-local state; it is used by one thread at a
// time (`compress` takes `&mut self`) and may move between threads.
unsafe impl Send for Compressor {}

impl Compressor {
    /// A compressor for chunks of up to `chunk_size` bytes at wimlib's default level (what
    /// `wimcapture` uses).
    pub fn new(compression: Compression, chunk_size: u32) -> Result<Compressor, Error> {
        crate::init();
        let mut raw = std::ptr::null_mut();
        let max = chunk_size as usize;
        // SAFETY: an out-pointer wimlib fills; level 0 is the default, no flags (the input
        // is kept intact, so a chunk that does not shrink is stored from the same buffer).
        let code = unsafe {
            w::wimlib_create_compressor(crate::raw_compression(compression), max, 0, &mut raw)
        };
        match NonNull::new(raw) {
            Some(raw) if code == 0 => Ok(Compressor { raw, max }),
            _ => Err(Error::Compressor {
                compression: compression.as_str(),
                chunk_size,
                code,
            }),
        }
    }

    /// Compresses `input` into `out`; `None` when the result would not be smaller than
    /// the input (the chunk is then stored as it is, as the format requires).
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        if input.len() < 2 || input.len() > self.max {
            return None;
        }
        out.resize(input.len() - 1, 0);
        // SAFETY: `input` and `out` are valid for the lengths given; `out` has
        // `input.len() - 1` bytes, so a result that fits is smaller than the input; the
        // compressor is only used here, by the thread holding `&mut self`.
        let n = unsafe {
            w::wimlib_compress(
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                self.raw.as_ptr(),
            )
        };
        (n > 0 && n < input.len()).then_some(n)
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: `raw` came from wimlib_create_compressor and is freed once.
        unsafe { w::wimlib_free_compressor(self.raw.as_ptr()) };
    }
}

/// A chunk of a resource: its data, and once compressed, the smaller form if there is one.
#[derive(Default)]
pub struct Chunk {
    pub data: Vec<u8>,
    out: Vec<u8>,
    compressed: Option<usize>,
}

impl Chunk {
    /// The bytes that go into the WIM for this chunk.
    pub fn stored(&self) -> &[u8] {
        match self.compressed {
            Some(n) => &self.out[..n],
            None => &self.data,
        }
    }

    #[cfg(test)]
    pub fn is_raw(&self) -> bool {
        self.compressed.is_none()
    }
}

struct Batch {
    id: u64,
    chunks: Vec<Chunk>,
}

type Done = Result<Batch, ()>;

/// Worker threads, each with its own compressor, and the writer's side of their queues.
pub struct Pool {
    jobs: Option<SyncSender<Batch>>,
    done: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    pending: Vec<Chunk>,
    pending_bytes: usize,
    next_id: u64,
    next_out: u64,
    in_flight: usize,
    max_in_flight: usize,
    out_of_order: BTreeMap<u64, Vec<Chunk>>,
    ready: VecDeque<Chunk>,
    spare: Vec<Chunk>,
}

impl Pool {
    pub fn start(compression: Compression, chunk_size: u32, threads: usize) -> Result<Pool, Error> {
        let threads = threads.max(1);
        let compressors = (0..threads)
            .map(|_| Compressor::new(compression, chunk_size))
            .collect::<Result<Vec<_>, _>>()?;
        let max_in_flight = threads * BATCHES_PER_WORKER;
        let (jobs, job_rx) = sync_channel::<Batch>(max_in_flight);
        let (done_tx, done) = sync_channel::<Done>(max_in_flight);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut workers = Vec::with_capacity(threads);
        for (i, c) in compressors.into_iter().enumerate() {
            let (rx, tx) = (job_rx.clone(), done_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("wim-compress-{i}"))
                .spawn(move || work(c, &rx, &tx))
                .map_err(Error::Thread)?;
            workers.push(spawned);
        }
        Ok(Pool {
            jobs: Some(jobs),
            done,
            workers,
            pending: Vec::new(),
            pending_bytes: 0,
            next_id: 0,
            next_out: 0,
            in_flight: 0,
            max_in_flight,
            out_of_order: BTreeMap::new(),
            ready: VecDeque::new(),
            spare: Vec::new(),
        })
    }

    /// An empty chunk to fill, reusing the buffers of one already written.
    pub fn chunk(&mut self) -> Chunk {
        let mut c = self.spare.pop().unwrap_or_default();
        c.data.clear();
        c.compressed = None;
        c
    }

    pub fn recycle(&mut self, c: Chunk) {
        if self.spare.len() < self.max_in_flight * BATCH_CHUNKS {
            self.spare.push(c);
        }
    }

    /// Queues a chunk; a full batch goes to the workers (waiting for one to finish when
    /// as many as allowed are in flight).
    pub fn submit(&mut self, c: Chunk) -> Result<(), Error> {
        self.pending_bytes += c.data.len();
        self.pending.push(c);
        if self.pending.len() >= BATCH_CHUNKS || self.pending_bytes >= BATCH_BYTES {
            self.send()?;
        }
        Ok(())
    }

    /// Sends what is queued, however little.
    pub fn send(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        while self.in_flight >= self.max_in_flight {
            self.receive(true)?;
        }
        let batch = Batch {
            id: self.next_id,
            chunks: std::mem::take(&mut self.pending),
        };
        self.pending_bytes = 0;
        self.next_id += 1;
        self.in_flight += 1;
        let jobs = self.jobs.as_ref().ok_or(Error::WorkerFailed)?;
        jobs.send(batch).map_err(|_| Error::WorkerFailed)
    }

    /// Chunks queued or in flight and not yet handed back.
    #[cfg(test)]
    pub fn outstanding(&self) -> bool {
        self.in_flight > 0 || !self.pending.is_empty() || !self.ready.is_empty()
    }

    /// The next chunk in submission order, if it is compressed; with `wait`, waits for
    /// it (sending a partial batch first) unless nothing is outstanding.
    pub fn next(&mut self, wait: bool) -> Result<Option<Chunk>, Error> {
        loop {
            if let Some(c) = self.ready.pop_front() {
                return Ok(Some(c));
            }
            if wait && self.in_flight == 0 {
                self.send()?;
            }
            if self.in_flight == 0 || !self.receive(wait)? {
                return Ok(None);
            }
        }
    }

    /// Takes one finished batch from the workers; false if none was there (not waiting).
    fn receive(&mut self, wait: bool) -> Result<bool, Error> {
        let got = if wait {
            self.done.recv().map_err(|_| Error::WorkerFailed)?
        } else {
            match self.done.try_recv() {
                Ok(b) => b,
                Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(false),
                Err(_) => return Err(Error::WorkerFailed),
            }
        };
        let batch = got.map_err(|()| Error::WorkerFailed)?;
        self.in_flight -= 1;
        self.out_of_order.insert(batch.id, batch.chunks);
        while let Some(chunks) = self.out_of_order.remove(&self.next_out) {
            self.ready.extend(chunks);
            self.next_out += 1;
        }
        Ok(true)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs = None; // the workers see the queue close and end
        while self.done.recv().is_ok() {}
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn work(mut c: Compressor, jobs: &Mutex<Receiver<Batch>>, done: &SyncSender<Done>) {
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(mut batch) = next else { return };
        let ok = catch_unwind(AssertUnwindSafe(|| {
            for chunk in &mut batch.chunks {
                chunk.compressed = c.compress(&chunk.data, &mut chunk.out);
            }
        }));
        let failed = ok.is_err();
        if done.send(ok.map(|()| batch).map_err(drop)).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_in_order_and_incompressible_ones_stay_raw() {
        let mut pool = Pool::start(Compression::Xpress, 32768, 3).unwrap();
        let mut seed = 7u64;
        let mut expect = Vec::new();
        for i in 0..500usize {
            let mut c = pool.chunk();
            if i % 3 == 0 {
                c.data.extend((0..1000).map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 33) as u8
                }));
            } else {
                c.data.extend(std::iter::repeat_n(i as u8, 1000 + i));
            }
            expect.push(c.data.clone());
            pool.submit(c).unwrap();
        }
        let mut got = Vec::new();
        while let Some(c) = pool.next(true).unwrap() {
            assert_eq!(c.is_raw(), got.len() % 3 == 0, "chunk {}", got.len());
            assert!(c.stored().len() <= c.data.len());
            got.push(c.data.clone());
            pool.recycle(c);
        }
        assert_eq!(got, expect);
        assert!(!pool.outstanding());
    }

    #[test]
    fn a_chunk_larger_than_the_compressor_allows_is_stored_raw() {
        let mut c = Compressor::new(Compression::Lzx, 32768).unwrap();
        let mut out = Vec::new();
        assert_eq!(c.compress(&vec![0u8; 32769], &mut out), None);
        assert!(c.compress(&vec![0u8; 32768], &mut out).unwrap() < 100);
        assert_eq!(c.compress(&[1], &mut out), None);
    }
}
