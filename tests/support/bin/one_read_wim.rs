//! A measurement, not part of Lifeboat: how fast an uncompressed WIM can be written when
//! each file is read once. wimlib reads a file twice when another file has its size (a
//! hash to find duplicates, then the data), and opens each by its whole path; this writer
//! opens each file relative to its open folder, reads it once, hashes it, and drops a
//! duplicate before writing it (a large one is written while it is hashed, then taken
//! back). `scripts/bench-capture.sh` sets it beside `wimcapture` on the many-small-files
//! profile, and the WIM it writes must pass `wimverify`, so the figure is a writer's ceiling
//! and not a guess.
//!
//! What it leaves out, and a writer in the product would need: security descriptors,
//! alternate streams, reparse points, short names and hard links (a Linux source has none
//! of these in wimcapture's own output either), rules, and every limit on hostile input.
//! Symbolic links and special files are skipped.
//!
//!   one-read-wim SOURCE_DIR OUT.wim
#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let [source, out] = args.as_slice() else {
        eprintln!("usage: one-read-wim SOURCE_DIR OUT.wim");
        return std::process::ExitCode::from(2);
    };
    match linux::write(std::path::Path::new(source), std::path::Path::new(out)) {
        Ok(s) => {
            eprintln!("{} files, {} bytes, {} blobs", s.files, s.bytes, s.blobs);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("one-read-wim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("one-read-wim runs on Linux only");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::ffi::{CStr, CString};
    use std::fs::{File, OpenOptions};
    use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use sha1::{Digest, Sha1};

    const HEADER: u64 = 208;
    const DIRECTORY: u32 = 0x10;
    const NORMAL: u32 = 0x80;
    /// Files up to this size are read whole, so a duplicate is never written.
    const WHOLE: u64 = 1 << 20;
    const INTEGRITY_CHUNK: u64 = 10 << 20;

    pub struct Summary {
        pub files: u64,
        pub bytes: u64,
        pub blobs: usize,
    }

    struct Node {
        /// Where its UTF-16 name lies in `Writer::names`: start and length.
        name: (u32, u16),
        attributes: u32,
        /// Creation, last access, last write (100 ns since 1601).
        times: [u64; 3],
        hash: [u8; 20],
        /// Children: a range of `nodes`, written together.
        children: (usize, usize),
    }

    struct Blob {
        offset: u64,
        size: u64,
        refs: u32,
        hash: [u8; 20],
    }

    struct Writer {
        out: BufWriter<File>,
        end: u64,
        nodes: Vec<Node>,
        names: Vec<u16>,
        /// Folders in the order their children were listed.
        folders: Vec<usize>,
        blobs: Vec<Blob>,
        by_hash: HashMap<[u8; 20], usize>,
        buf: Vec<u8>,
        files: u64,
        bytes: u64,
    }

    fn filetime(secs: i64, nanos: i64) -> u64 {
        (secs + 11_644_473_600).max(0) as u64 * 10_000_000 + nanos.max(0) as u64 / 100
    }

    fn node(names: &mut Vec<u16>, name: &[u8], st: &libc::stat, attributes: u32) -> Node {
        let m = filetime(st.st_mtime, st.st_mtime_nsec);
        let start = names.len();
        names.extend(String::from_utf8_lossy(name).encode_utf16());
        Node {
            name: (start as u32, (names.len() - start) as u16),
            attributes,
            times: [m, filetime(st.st_atime, st.st_atime_nsec), m],
            hash: [0; 20],
            children: (0, 0),
        }
    }

    /// The status of `name` in the folder `dir` (or of `dir` itself for an empty name),
    /// without following a link.
    fn stat_at(dir: i32, name: &CStr) -> io::Result<libc::stat> {
        let flags = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH;
        // SAFETY: an all-zero `stat` is a valid value for fstatat to overwrite.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `name` is NUL-terminated, `dir` an open folder, `st` a writable stat.
        if unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, flags) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(st)
    }

    /// Opens `name` in the folder `dir` without following a link.
    fn open_at(dir: i32, name: &CStr, folder: bool) -> io::Result<OwnedFd> {
        let mut flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        if folder {
            flags |= libc::O_DIRECTORY;
        }
        // SAFETY: `name` is NUL-terminated and `dir` an open folder.
        let fd = unsafe { libc::openat(dir, name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    impl Writer {
        /// Records data already hashed; `written` says whether it is in the file already.
        fn blob(&mut self, hash: [u8; 20], size: u64, written: bool) -> io::Result<()> {
            if let Some(&i) = self.by_hash.get(&hash) {
                self.blobs[i].refs += 1;
                if written {
                    self.out.seek(SeekFrom::Start(self.end))?;
                }
                return Ok(());
            }
            if !written {
                self.out.write_all(&self.buf)?;
            }
            self.by_hash.insert(hash, self.blobs.len());
            self.blobs.push(Blob {
                offset: self.end,
                size,
                refs: 1,
                hash,
            });
            self.end += size;
            Ok(())
        }

        /// Reads a file once: hashed, and written unless it is a duplicate.
        fn file(&mut self, fd: OwnedFd, size: u64) -> io::Result<[u8; 20]> {
            let mut f = File::from(fd);
            let mut h = Sha1::new();
            let whole = size <= WHOLE;
            let read = if whole {
                self.buf.clear();
                (&mut f).take(WHOLE).read_to_end(&mut self.buf)?;
                h.update(&self.buf);
                self.buf.len() as u64
            } else {
                let mut chunk = vec![0u8; WHOLE as usize];
                loop {
                    let n = f.read(&mut chunk)?;
                    if n == 0 {
                        break;
                    }
                    h.update(&chunk[..n]);
                    self.out.write_all(&chunk[..n])?;
                }
                self.out.stream_position()? - self.end
            };
            self.files += 1;
            self.bytes += read;
            if read == 0 {
                return Ok([0; 20]);
            }
            let hash: [u8; 20] = h.finalize().into();
            self.blob(hash, read, !whole)?;
            Ok(hash)
        }

        /// Lists the folder open as `fd` (node `me`), its children together, then each
        /// subfolder in turn (one open folder per level, however wide the tree).
        fn folder(&mut self, fd: OwnedFd, me: usize) -> io::Result<()> {
            use std::os::fd::IntoRawFd;
            let parent = fd.try_clone()?;
            // SAFETY: fdopendir takes ownership of the open folder; closedir below frees it.
            let d = unsafe { libc::fdopendir(fd.into_raw_fd()) };
            if d.is_null() {
                return Err(io::Error::last_os_error());
            }
            let first = self.nodes.len();
            let mut subfolders = Vec::new();
            let listed = self.list(d, &mut subfolders);
            // SAFETY: `d` came from fdopendir and is closed once.
            unsafe { libc::closedir(d) };
            listed?;
            self.nodes[me].children = (first, self.nodes.len());
            self.folders.push(me);
            for (i, name) in subfolders {
                self.folder(open_at(parent.as_raw_fd(), &name, true)?, i)?;
            }
            Ok(())
        }

        fn list(
            &mut self,
            d: *mut libc::DIR,
            subfolders: &mut Vec<(usize, CString)>,
        ) -> io::Result<()> {
            loop {
                // SAFETY: `d` is an open DIR; the entry stays valid until the next call.
                let e = unsafe { libc::readdir(d) };
                if e.is_null() {
                    return Ok(());
                }
                // SAFETY: `e` is non-null; d_name is NUL-terminated.
                let (name, kind) = unsafe { (CStr::from_ptr((*e).d_name.as_ptr()), (*e).d_type) };
                if matches!(name.to_bytes(), b"." | b"..") {
                    continue;
                }
                let folder = kind == libc::DT_DIR;
                if !folder && kind != libc::DT_REG {
                    continue;
                }
                // SAFETY: `d` is an open DIR.
                let dir = unsafe { libc::dirfd(d) };
                if folder {
                    let st = stat_at(dir, name)?;
                    subfolders.push((self.nodes.len(), name.to_owned()));
                    self.nodes
                        .push(node(&mut self.names, name.to_bytes(), &st, DIRECTORY));
                } else {
                    // The status of the file opened, so that size and data agree.
                    let fd = open_at(dir, name, false)?;
                    let st = stat_at(fd.as_raw_fd(), c"")?;
                    let mut n = node(&mut self.names, name.to_bytes(), &st, NORMAL);
                    n.hash = self.file(fd, st.st_size as u64)?;
                    self.nodes.push(n);
                }
            }
        }
    }

    fn reshdr(size: u64, flags: u8, offset: u64) -> [u8; 24] {
        let mut r = [0u8; 24];
        r[..8].copy_from_slice(&size.to_le_bytes());
        r[7] = flags;
        r[8..16].copy_from_slice(&offset.to_le_bytes());
        r[16..].copy_from_slice(&size.to_le_bytes());
        r
    }

    fn dentry_len(n: &Node) -> u64 {
        let names = if n.name.1 == 0 {
            0
        } else {
            u64::from(n.name.1) * 2 + 2
        };
        (102 + names + 7) & !7
    }

    fn put_dentry(m: &mut Vec<u8>, n: &Node, name: &[u16], subdir: u64) {
        let start = m.len();
        m.extend_from_slice(&dentry_len(n).to_le_bytes());
        m.extend_from_slice(&n.attributes.to_le_bytes());
        m.extend_from_slice(&(-1i32).to_le_bytes()); // no security descriptor
        m.extend_from_slice(&subdir.to_le_bytes());
        m.extend_from_slice(&[0; 16]);
        for t in n.times {
            m.extend_from_slice(&t.to_le_bytes());
        }
        m.extend_from_slice(&n.hash);
        m.extend_from_slice(&[0; 16]); // reserved, hard link group, no streams, no short name
        m.extend_from_slice(&((name.len() * 2) as u16).to_le_bytes());
        if !name.is_empty() {
            m.extend(name.iter().flat_map(|c| c.to_le_bytes()));
            m.extend_from_slice(&[0, 0]);
        }
        m.resize(start + dentry_len(n) as usize, 0);
    }

    /// The metadata resource: empty security data, the root and its end mark, then each
    /// folder's children and end mark, in the order the folders were listed.
    fn metadata(w: &Writer) -> Vec<u8> {
        let mut subdir = vec![0u64; w.nodes.len()];
        let mut at = 8 + dentry_len(&w.nodes[0]) + 8;
        for &f in &w.folders {
            subdir[f] = at;
            let (a, b) = w.nodes[f].children;
            at += w.nodes[a..b].iter().map(dentry_len).sum::<u64>() + 8;
        }
        let mut m = Vec::with_capacity(at as usize);
        m.extend_from_slice(&8u32.to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes());
        put_dentry(&mut m, &w.nodes[0], &[], subdir[0]);
        m.extend_from_slice(&[0; 8]);
        for &f in &w.folders {
            let (a, b) = w.nodes[f].children;
            for (i, n) in w.nodes[a..b].iter().enumerate() {
                let (start, len) = (n.name.0 as usize, usize::from(n.name.1));
                put_dentry(&mut m, n, &w.names[start..start + len], subdir[a + i]);
            }
            m.extend_from_slice(&[0; 8]);
        }
        m
    }

    fn blob_table(w: &Writer, meta: &[u8], meta_at: u64) -> Vec<u8> {
        let mut t = Vec::with_capacity((w.blobs.len() + 1) * 50);
        let mut entry = |r: [u8; 24], refs: u32, hash: &[u8]| {
            t.extend_from_slice(&r);
            t.extend_from_slice(&1u16.to_le_bytes());
            t.extend_from_slice(&refs.to_le_bytes());
            t.extend_from_slice(hash);
        };
        entry(
            reshdr(meta.len() as u64, 2, meta_at),
            1,
            &Sha1::digest(meta),
        );
        for b in &w.blobs {
            entry(reshdr(b.size, 0, b.offset), b.refs, &b.hash);
        }
        t
    }

    fn xml(w: &Writer, total: u64) -> Vec<u8> {
        let x = format!(
            "<WIM><TOTALBYTES>{total}</TOTALBYTES><IMAGE INDEX=\"1\"><DIRCOUNT>{}</DIRCOUNT>\
             <FILECOUNT>{}</FILECOUNT><TOTALBYTES>{}</TOTALBYTES><HARDLINKBYTES>0</HARDLINKBYTES>\
             <NAME>one-read</NAME></IMAGE></WIM>",
            w.folders.len(),
            w.files,
            w.bytes
        );
        let mut b = vec![0xff, 0xfe];
        b.extend(x.encode_utf16().flat_map(|c| c.to_le_bytes()));
        b
    }

    /// SHA-1 of each 10 MiB of the WIM from the end of the header to the end of the blob
    /// table, read back from the file.
    fn integrity(f: &mut File, end: u64) -> io::Result<Vec<u8>> {
        f.seek(SeekFrom::Start(HEADER))?;
        let mut hashes = Vec::new();
        let mut chunk = vec![0u8; INTEGRITY_CHUNK as usize];
        let mut left = end - HEADER;
        while left > 0 {
            let n = left.min(INTEGRITY_CHUNK) as usize;
            f.read_exact(&mut chunk[..n])?;
            hashes.extend_from_slice(&Sha1::digest(&chunk[..n]));
            left -= n as u64;
        }
        let mut t = Vec::new();
        t.extend_from_slice(&(12 + hashes.len() as u32).to_le_bytes());
        t.extend_from_slice(&((hashes.len() / 20) as u32).to_le_bytes());
        t.extend_from_slice(&(INTEGRITY_CHUNK as u32).to_le_bytes());
        t.extend_from_slice(&hashes);
        Ok(t)
    }

    fn header(table: (u64, u64), xml: (u64, u64), integrity: (u64, u64)) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER as usize);
        h.extend_from_slice(b"MSWIM\0\0\0");
        h.extend_from_slice(&(HEADER as u32).to_le_bytes());
        h.extend_from_slice(&0x10d00u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // flags: uncompressed
        h.extend_from_slice(&0u32.to_le_bytes()); // chunk size: none
        h.extend_from_slice(&std::process::id().to_le_bytes().repeat(4)); // GUID
        h.extend_from_slice(&1u16.to_le_bytes()); // part 1
        h.extend_from_slice(&1u16.to_le_bytes()); // of 1
        h.extend_from_slice(&1u32.to_le_bytes()); // one image
        h.extend_from_slice(&reshdr(table.1, 0, table.0));
        h.extend_from_slice(&reshdr(xml.1, 0, xml.0));
        h.extend_from_slice(&[0; 24]); // no boot image
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&reshdr(integrity.1, 0, integrity.0));
        h.resize(HEADER as usize, 0);
        h
    }

    pub fn write(source: &Path, out: &Path) -> io::Result<Summary> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(out)?;
        let mut w = Writer {
            out: BufWriter::with_capacity(WHOLE as usize, file),
            end: HEADER,
            nodes: Vec::new(),
            names: Vec::new(),
            folders: Vec::new(),
            blobs: Vec::new(),
            by_hash: HashMap::new(),
            buf: Vec::new(),
            files: 0,
            bytes: 0,
        };
        w.out.write_all(&[0; HEADER as usize])?;
        let c = CString::new(source.as_os_str().as_bytes())?;
        let root = open_at(libc::AT_FDCWD, &c, true)?;
        let st = stat_at(root.as_raw_fd(), c"")?;
        w.nodes.push(node(&mut w.names, b"", &st, DIRECTORY));
        w.folder(root, 0)?;

        let meta = metadata(&w);
        w.out.seek(SeekFrom::Start(w.end))?;
        w.out.write_all(&meta)?;
        let table = blob_table(&w, &meta, w.end);
        let table_at = w.end + meta.len() as u64;
        w.out.write_all(&table)?;
        let xml_at = table_at + table.len() as u64;
        let xml = xml(&w, xml_at);
        w.out.write_all(&xml)?;
        let mut f = w.out.into_inner().map_err(|e| e.into_error())?;
        let check = integrity(&mut f, xml_at)?;
        let check_at = xml_at + xml.len() as u64;
        f.seek(SeekFrom::Start(check_at))?;
        f.write_all(&check)?;
        f.set_len(check_at + check.len() as u64)?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&header(
            (table_at, table.len() as u64),
            (xml_at, xml.len() as u64),
            (check_at, check.len() as u64),
        ))?;
        Ok(Summary {
            files: w.files,
            bytes: w.bytes,
            blobs: w.blobs.len(),
        })
    }
}
