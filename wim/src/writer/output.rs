//! The WIM file being written: a buffer in front of it, the offset below which every
//! byte is final ("committed"), taking back what follows (a duplicate found after it was
//! written), patching a chunk table reserved earlier, and the integrity table's SHA-1s
//! taken from the final bytes as they are committed (from memory when they are still
//! buffered, read back otherwise).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use super::format::{HEADER_SIZE, INTEGRITY_CHUNK};
use super::Error;

/// Bytes gathered before they are written out.
const BUFFER: usize = 4 << 20;

pub struct Output {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    buf_at: u64,
    committed: u64,
    integrity: Option<Integrity>,
}

/// SHA-1 of each 10 MiB of the file from the end of the header on.
struct Integrity {
    /// Everything before this offset is hashed.
    hashed: u64,
    current: Sha1,
    in_current: u64,
    done: Vec<[u8; 20]>,
}

impl Integrity {
    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (INTEGRITY_CHUNK - self.in_current) as usize;
            let n = room.min(data.len());
            self.current.update(&data[..n]);
            self.in_current += n as u64;
            self.hashed += n as u64;
            data = &data[n..];
            if self.in_current == INTEGRITY_CHUNK {
                self.done.push(self.current.finalize_reset().into());
                self.in_current = 0;
            }
        }
    }
}

impl Output {
    /// Creates (or replaces) `path`, its header left as zeros until the WIM is finished.
    pub fn create(path: &Path, integrity: bool) -> Result<Output, Error> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::output(path, e))?;
        let mut out = Output {
            file,
            path: path.to_path_buf(),
            buf: Vec::with_capacity(BUFFER),
            buf_at: 0,
            committed: 0,
            integrity: integrity.then(|| Integrity {
                hashed: HEADER_SIZE,
                current: Sha1::new(),
                in_current: 0,
                done: Vec::new(),
            }),
        };
        out.write(&[0; HEADER_SIZE as usize])?;
        out.committed = HEADER_SIZE;
        Ok(out)
    }

    /// Where the next byte goes.
    pub fn pos(&self) -> u64 {
        self.buf_at + self.buf.len() as u64
    }

    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Everything written so far is final.
    pub fn commit(&mut self) -> Result<(), Error> {
        self.committed = self.pos();
        let behind = self
            .integrity
            .as_ref()
            .is_some_and(|i| i.hashed < self.buf_at);
        if behind {
            self.hash_committed()?;
        }
        Ok(())
    }

    /// Takes back everything after `to` (not yet committed).
    pub fn truncate(&mut self, to: u64) {
        debug_assert!(to >= self.committed && to <= self.pos());
        if to >= self.buf_at {
            self.buf.truncate((to - self.buf_at) as usize);
        } else {
            self.buf.clear();
            self.buf_at = to;
        }
    }

    /// Overwrites bytes at `at` (not yet committed) that were written before.
    pub fn patch(&mut self, at: u64, data: &[u8]) -> Result<(), Error> {
        debug_assert!(at >= self.committed && at + data.len() as u64 <= self.pos());
        let in_file = self.buf_at.saturating_sub(at).min(data.len() as u64) as usize;
        if in_file > 0 {
            self.write_at(at, &data[..in_file])?;
        }
        let rest = &data[in_file..];
        if !rest.is_empty() {
            let start = (at + in_file as u64 - self.buf_at) as usize;
            self.buf[start..start + rest.len()].copy_from_slice(rest);
        }
        Ok(())
    }

    /// Writes the buffer out, hashing the committed part of it first.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.hash_committed()?;
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            let r = self.write_at(self.buf_at, &buf);
            self.buf_at += buf.len() as u64;
            self.buf = buf;
            self.buf.clear();
            r?;
        }
        Ok(())
    }

    /// Hashes the committed bytes not hashed yet: those already in the file are read back.
    fn hash_committed(&mut self) -> Result<(), Error> {
        let Some(mut integ) = self.integrity.take() else {
            return Ok(());
        };
        let r = self.hash_into(&mut integ);
        self.integrity = Some(integ);
        r
    }

    fn hash_into(&mut self, integ: &mut Integrity) -> Result<(), Error> {
        let mut piece = Vec::new();
        while integ.hashed < self.committed.min(self.buf_at) {
            let n = (self.committed.min(self.buf_at) - integ.hashed).min(BUFFER as u64);
            piece.resize(n as usize, 0);
            self.read_at(integ.hashed, &mut piece)?;
            integ.update(&piece);
        }
        if integ.hashed < self.committed {
            let start = (integ.hashed - self.buf_at) as usize;
            let end = (self.committed - self.buf_at) as usize;
            integ.update(&self.buf[start..end]);
        }
        Ok(())
    }

    /// The integrity table's hashes, once everything it covers is committed.
    pub fn integrity_hashes(&mut self) -> Result<Option<Vec<[u8; 20]>>, Error> {
        self.hash_committed()?;
        Ok(self.integrity.take().map(|mut i| {
            if i.in_current > 0 {
                i.done.push(i.current.finalize().into());
            }
            i.done
        }))
    }

    /// Writes out the buffer, drops anything past the end, writes the header last and
    /// (with `sync`) waits until it is all on the disk.
    pub fn close(mut self, header: &[u8], sync: bool) -> Result<u64, Error> {
        self.flush()?;
        let end = self.pos();
        self.file
            .set_len(end)
            .map_err(|e| Error::output(&self.path, e))?;
        self.write_at(0, header)?;
        if sync {
            self.file
                .sync_all()
                .map_err(|e| Error::output(&self.path, e))?;
        }
        Ok(end)
    }

    fn write_at(&mut self, at: u64, data: &[u8]) -> Result<(), Error> {
        let r = self
            .file
            .seek(SeekFrom::Start(at))
            .and_then(|_| self.file.write_all(data));
        r.map_err(|e| Error::output(&self.path, e))
    }

    fn read_at(&mut self, at: u64, data: &mut [u8]) -> Result<(), Error> {
        let r = self
            .file
            .seek(SeekFrom::Start(at))
            .and_then(|_| self.file.read_exact(data));
        r.map_err(|e| Error::output(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever was buffered, flushed, taken back or patched, the integrity hashes are
    /// those of the final file.
    #[test]
    fn integrity_hashes_match_the_final_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.wim");
        let mut o = Output::create(&path, true).unwrap();
        let big: Vec<u8> = (0..(13u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
        o.write(&big[..1000]).unwrap();
        o.commit().unwrap();
        let start = o.pos();
        o.write(&big).unwrap(); // flushed while uncommitted
        o.truncate(start); // a duplicate taken back
        o.write(&[9; 8]).unwrap();
        o.write(&big[..(6 << 20)]).unwrap();
        o.patch(start, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        o.commit().unwrap();
        o.write(b"tail").unwrap();
        o.commit().unwrap();
        let hashes = o.integrity_hashes().unwrap().unwrap();
        o.close(&[0xAA; 208], false).unwrap();

        let file = std::fs::read(&path).unwrap();
        assert_eq!(file.len() as u64, 208 + 1000 + 8 + (6 << 20) + 4);
        assert_eq!(
            &file[start as usize..start as usize + 8],
            &[1, 2, 3, 4, 5, 6, 7, 8]
        );
        let want: Vec<[u8; 20]> = file[208..]
            .chunks(INTEGRITY_CHUNK as usize)
            .map(|c| Sha1::digest(c).into())
            .collect();
        assert_eq!(hashes, want);
    }
}
