//! The bench's feeder for Lifeboat's WIM writer (`lifeboat_wim::writer`): walks a folder
//! and hands every folder and regular file to the writer, in the order they are listed,
//! each file opened relative to its open folder and read once by the writer. Files with
//! several names become hard links; symbolic links and special files are left out (the
//! writer's reparse points are tested through its API). `scripts/bench-wim-writer.sh` and
//! `scripts/bench-capture.sh` set it beside `wimcapture`.
//!
//!   write-wim [--compress none|xpress|lzx|lzms] [--threads N] [--no-integrity] SOURCE OUT.wim
#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = lifeboat::wim::writer::Options::new(lifeboat::wim::Compression::None);
    let mut flag = |name: &str| -> Option<String> {
        let i = args.iter().position(|a| a == name)?;
        args.remove(i);
        (i < args.len()).then(|| args.remove(i))
    };
    if let Some(c) = flag("--compress") {
        match c.parse() {
            Ok(c) => opts.compression = c,
            Err(e) => return usage(&e),
        }
    }
    if let Some(t) = flag("--threads") {
        match t.parse() {
            Ok(t) => opts.threads = t,
            Err(_) => return usage("--threads takes a number"),
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--no-integrity") {
        args.remove(i);
        opts.integrity = false;
    }
    let [source, out] = args.as_slice() else {
        return usage("two paths");
    };
    match linux::write(
        std::path::Path::new(source),
        std::path::Path::new(out),
        opts,
    ) {
        Ok(s) => {
            let i = &s.summary.images[0];
            eprintln!(
                "{} files, {} folders, {} bytes, {} blobs, {} duplicates, {} skipped; WIM {} bytes",
                i.files,
                i.folders,
                i.bytes,
                s.summary.blobs,
                s.summary.duplicates,
                s.skipped,
                s.summary.wim_bytes
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("write-wim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(target_os = "linux")]
fn usage(why: &str) -> std::process::ExitCode {
    eprintln!("write-wim: {why}\nusage: write-wim [--compress none|xpress|lzx|lzms] [--threads N] [--no-integrity] SOURCE OUT.wim");
    std::process::ExitCode::from(2)
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("write-wim runs on Linux only");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::{CStr, CString};
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use lifeboat::wim::writer::{Data, Entry, Error, Kind, Options, Summary, Times, WimWriter};

    pub struct Done {
        pub summary: Summary,
        pub skipped: u64,
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

    fn times(st: &libc::stat) -> Times {
        let m = Times::filetime(st.st_mtime, st.st_mtime_nsec as u32);
        Times {
            creation: m,
            last_access: Times::filetime(st.st_atime, st.st_atime_nsec as u32),
            last_write: m,
        }
    }

    struct Walk {
        w: WimWriter,
        path: Vec<String>,
        skipped: u64,
    }

    impl Walk {
        /// Gives the writer one entry; an entry it leaves out (unreadable, changed) is
        /// counted and the walk goes on.
        fn add(
            &mut self,
            name: Option<&str>,
            kind: Kind,
            st: &libc::stat,
            file: Option<File>,
        ) -> io::Result<()> {
            let mut parts: Vec<&str> = self.path.iter().map(String::as_str).collect();
            parts.extend(name);
            let mut file = file;
            let mut e = match file.as_mut() {
                Some(f) => Entry::file(
                    &parts,
                    Data {
                        size: st.st_size as u64,
                        reader: f,
                    },
                ),
                None => Entry::folder(&parts),
            };
            e.kind = kind;
            e.times = times(st);
            if kind == Kind::File && st.st_nlink > 1 {
                e.link = Some((st.st_dev << 32) ^ st.st_ino);
            }
            match self.w.add(e) {
                Ok(_) => Ok(()),
                Err(e) if !e.is_fatal() => {
                    eprintln!("write-wim: left out: {e}");
                    self.skipped += 1;
                    Ok(())
                }
                Err(e) => Err(io::Error::other(e)),
            }
        }

        /// Lists the folder open as `fd`: its files read as they are listed, then each
        /// subfolder in turn (one open folder per level, however wide the tree).
        fn folder(&mut self, fd: OwnedFd) -> io::Result<()> {
            let parent = fd.try_clone()?;
            // SAFETY: fdopendir takes ownership of the open folder; closedir below frees it.
            let d = unsafe { libc::fdopendir(fd.into_raw_fd()) };
            if d.is_null() {
                return Err(io::Error::last_os_error());
            }
            let mut subfolders = Vec::new();
            let listed = self.list(d, &mut subfolders);
            // SAFETY: `d` came from fdopendir and is closed once.
            unsafe { libc::closedir(d) };
            listed?;
            for name in subfolders {
                let fd = open_at(parent.as_raw_fd(), &name, true)?;
                self.path
                    .push(String::from_utf8_lossy(name.to_bytes()).into_owned());
                self.folder(fd)?;
                self.path.pop();
            }
            Ok(())
        }

        fn list(&mut self, d: *mut libc::DIR, subfolders: &mut Vec<CString>) -> io::Result<()> {
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
                let shown = String::from_utf8_lossy(name.to_bytes());
                // SAFETY: `d` is an open DIR.
                let dir = unsafe { libc::dirfd(d) };
                if kind == libc::DT_DIR {
                    let st = stat_at(dir, name)?;
                    subfolders.push(name.to_owned());
                    self.add(Some(&shown), Kind::Folder, &st, None)?;
                } else if kind == libc::DT_REG {
                    // The status of the file opened, so that size and data agree.
                    let fd = open_at(dir, name, false)?;
                    let st = stat_at(fd.as_raw_fd(), c"")?;
                    self.add(Some(&shown), Kind::File, &st, Some(File::from(fd)))?;
                }
            }
        }
    }

    pub fn write(source: &Path, out: &Path, opts: Options) -> Result<Done, Error> {
        let io = |e: io::Error| Error::Read {
            path: source.display().to_string(),
            stream: None,
            error: e,
        };
        let mut w = WimWriter::create(out, opts)?;
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into());
        w.begin_image(&name, "")?;
        let mut walk = Walk {
            w,
            path: Vec::new(),
            skipped: 0,
        };
        let c = CString::new(source.as_os_str().as_bytes()).map_err(|e| io(e.into()))?;
        let root = open_at(libc::AT_FDCWD, &c, true).map_err(io)?;
        let st = stat_at(root.as_raw_fd(), c"").map_err(io)?;
        walk.add(None, Kind::Folder, &st, None).map_err(io)?;
        walk.folder(root).map_err(io)?;
        let summary = walk.w.finish()?;
        Ok(Done {
            summary,
            skipped: walk.skipped,
        })
    }
}
