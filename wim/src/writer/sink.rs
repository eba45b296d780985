//! Resources laid into the WIM in the order their data was read: a blob read whole goes
//! in once all its chunks are compressed (as it is if compression does not make it
//! smaller, as wimlib does); a blob read as a stream goes in chunk by chunk behind a
//! chunk table reserved before its first chunk and filled in after its last, and is taken
//! back whole if it turns out to be a duplicate or its read fails.

use std::collections::VecDeque;

use super::compress::{Chunk, Pool};
use super::format::{chunk_table, chunk_table_len, Reshdr, RES_COMPRESSED, RES_METADATA};
use super::output::Output;
use super::Error;

/// What a finished resource is for.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Blob(u32),
    /// An image's metadata, by image index (0-based).
    Metadata(usize),
}

enum Layout {
    /// Chunks kept until the last one is back, then written at once.
    Whole(Vec<Chunk>),
    /// Chunks written as they come back, behind a chunk table reserved at `start`.
    Streamed { start: Option<u64>, sizes: Vec<u32> },
}

struct Pending {
    size: u64,
    chunks: u64,
    got: u64,
    layout: Layout,
    /// Where it goes; `None` while a stream's hash is not known yet.
    target: Option<Target>,
    discard: bool,
}

pub struct Sink {
    pub out: Output,
    pool: Option<Pool>,
    chunk_size: u32,
    queue: VecDeque<Pending>,
    /// Chunks submitted for the stream now being read.
    streamed: u64,
    /// Where each blob's resource lies, by blob number (zeros until it is placed).
    pub blob_res: Vec<Reshdr>,
    /// Where each image's metadata resource lies, and its SHA-1.
    pub meta_res: Vec<Reshdr>,
    pub meta_hashes: Vec<[u8; 20]>,
}

impl Sink {
    pub fn new(out: Output, pool: Option<Pool>, chunk_size: u32) -> Sink {
        Sink {
            out,
            pool,
            chunk_size,
            queue: VecDeque::new(),
            streamed: 0,
            blob_res: Vec::new(),
            meta_res: Vec::new(),
            meta_hashes: Vec::new(),
        }
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Writes a table uncompressed (everything before it placed): where it lies.
    pub fn write_plain(&mut self, data: &[u8], flags: u8) -> Result<Reshdr, Error> {
        let offset = self.out.pos();
        self.out.write(data)?;
        self.out.commit()?;
        Ok(Reshdr {
            offset,
            stored: data.len() as u64,
            size: data.len() as u64,
            flags,
        })
    }

    /// Closes the WIM with its header (see [`Output::close`]); its size.
    pub fn close(self, header: &[u8], sync: bool) -> Result<u64, Error> {
        self.out.close(header, sync)
    }

    fn chunks(&self, size: u64) -> u64 {
        size.div_ceil(u64::from(self.chunk_size))
    }

    /// A resource held whole in memory.
    pub fn whole(&mut self, target: Target, data: &[u8]) -> Result<(), Error> {
        let Some(pool) = self.pool.as_mut() else {
            let start = self.out.pos();
            self.out.write(data)?;
            return self.place(target, start, data.len() as u64, data.len() as u64, 0);
        };
        let mut n = 0;
        for piece in data.chunks(self.chunk_size as usize) {
            let mut c = pool.chunk();
            c.data.extend_from_slice(piece);
            pool.submit(c)?;
            n += 1;
        }
        self.queue.push_back(Pending {
            size: data.len() as u64,
            chunks: n,
            got: 0,
            layout: Layout::Whole(Vec::with_capacity(n as usize)),
            target: Some(target),
            discard: false,
        });
        self.pump(false)
    }

    /// Starts a resource of `size` bytes given piece by piece ([`Sink::piece`]), ended by
    /// [`Sink::end_stream`].
    pub fn begin_stream(&mut self, size: u64) {
        self.streamed = 0;
        let start = self.pool.is_none().then(|| self.out.pos());
        self.queue.push_back(Pending {
            size,
            chunks: self.chunks(size),
            got: 0,
            layout: Layout::Streamed {
                start,
                sizes: Vec::new(),
            },
            target: None,
            discard: false,
        });
    }

    /// The next piece of the stream: a whole number of chunks, except at its end.
    pub fn piece(&mut self, data: &[u8]) -> Result<(), Error> {
        let Some(pool) = self.pool.as_mut() else {
            return self.out.write(data);
        };
        for piece in data.chunks(self.chunk_size as usize) {
            let mut c = pool.chunk();
            c.data.extend_from_slice(piece);
            pool.submit(c)?;
            self.streamed += 1;
        }
        self.pump(false)
    }

    /// Ends the stream: placed as `target`, or (`None`) taken back.
    pub fn end_stream(&mut self, target: Option<Target>) -> Result<(), Error> {
        let Some(p) = self.queue.back_mut() else {
            return Ok(());
        };
        match target {
            Some(t) => p.target = Some(t),
            None => {
                p.discard = true;
                if self.pool.is_some() {
                    p.chunks = self.streamed;
                }
            }
        }
        if self.pool.is_none() {
            let p = self.queue.pop_back();
            return match p {
                Some(p) => self.finish(p),
                None => Ok(()),
            };
        }
        if target.is_none() {
            // Nothing may follow it in the file before it is taken back.
            self.drain()?;
        }
        self.pump(false)
    }

    /// Writes every compressed chunk that is back, in order, and places each resource
    /// whose last chunk is in; with `wait`, until nothing is outstanding.
    pub fn pump(&mut self, wait: bool) -> Result<(), Error> {
        loop {
            while self
                .queue
                .front()
                .is_some_and(|p| p.got == p.chunks && (p.target.is_some() || p.discard))
            {
                if let Some(p) = self.queue.pop_front() {
                    self.finish(p)?;
                }
            }
            let Some(pool) = self.pool.as_mut() else {
                return Ok(());
            };
            if self.queue.front().is_none_or(|p| p.got == p.chunks) {
                return Ok(());
            }
            let Some(c) = pool.next(wait)? else {
                return Ok(());
            };
            self.take(c)?;
        }
    }

    /// Waits for every chunk and places every resource.
    pub fn drain(&mut self) -> Result<(), Error> {
        if let Some(pool) = self.pool.as_mut() {
            pool.send()?;
        }
        self.pump(true)
    }

    fn take(&mut self, c: Chunk) -> Result<(), Error> {
        let Some(p) = self.queue.front_mut() else {
            return Err(Error::WorkerFailed);
        };
        p.got += 1;
        match &mut p.layout {
            Layout::Whole(chunks) => {
                chunks.push(c);
                return Ok(());
            }
            Layout::Streamed { start, sizes } => {
                if start.is_none() {
                    *start = Some(self.out.pos());
                    let table = chunk_table_len(p.size, p.chunks) as usize;
                    self.out.write(&vec![0; table])?;
                }
                sizes.push(c.stored().len() as u32);
                self.out.write(c.stored())?;
            }
        }
        if let Some(pool) = self.pool.as_mut() {
            pool.recycle(c);
        }
        Ok(())
    }

    fn finish(&mut self, p: Pending) -> Result<(), Error> {
        let Some(target) = p.target.filter(|_| !p.discard) else {
            if let Layout::Streamed { start: Some(s), .. } = p.layout {
                self.out.truncate(s);
            }
            return Ok(());
        };
        match p.layout {
            Layout::Whole(chunks) => self.finish_whole(target, p.size, chunks),
            Layout::Streamed { start, sizes } => {
                let Some(start) = start else {
                    return Ok(()); // nothing was read (cannot happen: size > 0)
                };
                self.out.patch(start, &chunk_table(p.size, &sizes))?;
                let stored = self.out.pos() - start;
                // Uncompressed, or one chunk stored as it is: the same bytes either way.
                let raw = sizes.is_empty() || (sizes.len() == 1 && stored == p.size);
                let flags = if raw { 0 } else { RES_COMPRESSED };
                self.place(target, start, stored, p.size, flags)
            }
        }
    }

    /// A whole resource, compressed unless that is no smaller (then as it is).
    fn finish_whole(&mut self, target: Target, size: u64, chunks: Vec<Chunk>) -> Result<(), Error> {
        let sizes: Vec<u32> = chunks.iter().map(|c| c.stored().len() as u32).collect();
        let table = chunk_table(size, &sizes);
        let compressed = table.len() as u64 + sizes.iter().map(|&s| u64::from(s)).sum::<u64>();
        let start = self.out.pos();
        let (stored, flags) = if compressed < size {
            self.out.write(&table)?;
            for c in &chunks {
                self.out.write(c.stored())?;
            }
            (compressed, RES_COMPRESSED)
        } else {
            for c in &chunks {
                self.out.write(&c.data)?;
            }
            (size, 0)
        };
        if let Some(pool) = self.pool.as_mut() {
            chunks.into_iter().for_each(|c| pool.recycle(c));
        }
        self.place(target, start, stored, size, flags)
    }

    fn place(
        &mut self,
        target: Target,
        offset: u64,
        stored: u64,
        size: u64,
        flags: u8,
    ) -> Result<(), Error> {
        self.out.commit()?;
        let mut res = Reshdr {
            offset,
            stored,
            size,
            flags,
        };
        match target {
            Target::Blob(b) => {
                if let Some(r) = self.blob_res.get_mut(b as usize) {
                    *r = res;
                }
            }
            Target::Metadata(i) => {
                res.flags |= RES_METADATA;
                if self.meta_res.len() <= i {
                    self.meta_res.resize(i + 1, Reshdr::default());
                }
                self.meta_res[i] = res;
            }
        }
        Ok(())
    }
}
