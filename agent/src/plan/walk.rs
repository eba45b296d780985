//! Walks the folders the rules point at and lists what to take. Links and junctions are
//! never followed (the "Application Data" loop), cloud placeholders and EFS files are
//! reported rather than failed on, and unreadable files are found here, before the WIM
//! writer would trip over them.

use std::fs::DirEntry;
use std::path::{Path, PathBuf};

use crate::platform::{self, attr, Attributes};

use super::files::{join_win, FileList};
use super::skip::{SkipKind, Skipped};

/// The rule matcher as the walker sees it: no I/O on its side, no rules on this side.
pub trait Selector {
    /// Can any rule take something at or below this folder?
    fn enter(&self, win_dir: &str) -> bool;
    /// The component that takes this file, if any.
    fn take(&self, win_file: &str) -> Option<String>;
}

#[derive(Debug, Default)]
pub struct WalkResult {
    pub files: FileList,
    pub skipped: Vec<Skipped>,
    pub bytes: u64,
    /// The roots under which something was taken.
    pub roots: Vec<(PathBuf, String)>,
}

/// Walks each (host folder, Windows path) root. `check_readable` opens each taken file
/// whose open can fail though its stat did not ([`platform::open_may_fail`]), so an
/// unreadable one is skipped with its reason instead of stopping the capture.
pub fn walk(roots: &[(PathBuf, String)], sel: &dyn Selector, check_readable: bool) -> WalkResult {
    let mut out = WalkResult::default();
    let mut seen = std::collections::HashSet::new();
    for (host, win) in roots {
        let first = out.files.dirs_len();
        let mut walker = Walker {
            sel,
            check: check_readable,
            attrs: Attributes::for_root(host),
            out: &mut out,
            seen: &mut seen,
        };
        walker.dir(host, win, None);
        if out.files.taken_below(first) {
            out.roots.push((host.clone(), win.clone()));
        }
    }
    out.files.seal();
    out
}

/// One root's walk: what every folder of it is judged with.
struct Walker<'a> {
    sel: &'a dyn Selector,
    check: bool,
    attrs: Attributes,
    out: &'a mut WalkResult,
    seen: &'a mut std::collections::HashSet<String>,
}

enum Judged {
    /// A real folder (not a link or junction): walked next.
    Folder,
    Taken {
        size: u64,
        component: String,
    },
    /// Not taken; skipped with its reason when a rule wanted it.
    Left,
}

impl Walker<'_> {
    fn skip(&mut self, win: &str, kind: SkipKind, reason: impl Into<String>) {
        self.out.skipped.push(Skipped::new(win, kind, reason));
    }

    /// Lists one folder: its taken files first (so they lie together in the list, in name
    /// order), then its subfolders.
    fn dir(&mut self, host: &Path, win: &str, parent: Option<u32>) {
        // Two roots can overlap (a known folder inside the profile): walk each place once.
        if !self.seen.insert(win.to_lowercase()) || !self.sel.enter(win) {
            return;
        }
        // One call per level: a hostile volume nesting thousands of folders must not
        // exhaust the stack.
        if win.split('\\').count() > crate::limits::FOLDER_MAX_DEPTH {
            let reason = format!(
                "nested deeper than {} folders: not entered; copy it by hand",
                crate::limits::FOLDER_MAX_DEPTH
            );
            self.skip(win, SkipKind::TooDeep, reason);
            return;
        }
        let mut entries: Vec<(std::ffi::OsString, DirEntry)> = match std::fs::read_dir(host) {
            Ok(e) => e.flatten().map(|e| (e.file_name(), e)).collect(),
            Err(e) => {
                let reason = format!("folder cannot be read: {e}");
                self.skip(win, SkipKind::FolderUnreadable, reason);
                return;
            }
        };
        entries.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
        let dir = self.out.files.open_dir(host, win, parent);
        let mut subdirs = Vec::new();
        for (name, entry) in entries {
            let Some(utf8) = name.to_str() else {
                self.bad_name(win, &name);
                continue;
            };
            let win_path = join_win(win, utf8);
            match self.judge(&entry, &win_path) {
                Judged::Folder => subdirs.push((entry.path(), win_path)),
                Judged::Left => {}
                Judged::Taken { size, component } => {
                    self.list(dir, &name, &win_path, size, &component)
                }
            }
        }
        for (host_path, win_path) in subdirs {
            self.dir(&host_path, &win_path, Some(dir));
        }
        self.out.files.close_dir(dir);
    }

    /// A name that is not Unicode (a damaged or hostile file system): no WIM can hold it,
    /// and wimlib would leave it out without a word.
    fn bad_name(&mut self, win: &str, name: &std::ffi::OsStr) {
        let shown = join_win(win, &name.to_string_lossy());
        if self.sel.enter(&shown) || self.sel.take(&shown).is_some() {
            self.skip(
                &shown,
                SkipKind::BadName,
                "the name is not valid Unicode, which no WIM can hold: copy it by hand under another name",
            );
        }
    }

    fn list(
        &mut self,
        dir: u32,
        name: &std::ffi::OsStr,
        win_path: &str,
        size: u64,
        component: &str,
    ) {
        if self.out.files.push(dir, name, size, component).is_err() {
            self.skip(
                win_path,
                SkipKind::Unreadable,
                "not listed: one user's file list is full (4 GiB of names or 65,535 components)",
            );
            return;
        }
        self.out.bytes += size;
    }

    /// Decides one entry of a folder. The entry's type comes with the folder listing, so a
    /// file no rule takes costs no system call; a taken one costs one stat relative to its
    /// folder (and an open only where [`platform::open_may_fail`]).
    fn judge(&mut self, entry: &DirEntry, win_path: &str) -> Judged {
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => return self.unstatable(win_path, e),
        };
        if file_type.is_symlink() {
            return self.link(win_path);
        }
        if file_type.is_dir() {
            return self.folder(entry, win_path);
        }
        if !file_type.is_file() {
            return self.not_regular(win_path);
        }
        let Some(component) = self.sel.take(win_path) else {
            return Judged::Left;
        };
        // The type again from the stat itself: the entry may have been replaced since the
        // listing (a hostile or changing volume).
        let meta = match entry.metadata() {
            Ok(m) if m.is_file() => m,
            Ok(_) => return self.not_regular(win_path),
            Err(e) => return self.unstatable(win_path, e),
        };
        match self.unreadable(entry, &meta) {
            Some((kind, reason)) => {
                self.skip(win_path, kind, reason);
                Judged::Left
            }
            None => Judged::Taken {
                size: meta.len(),
                component,
            },
        }
    }

    /// A folder is walked unless a reparse point makes it a junction or mount point.
    fn folder(&mut self, entry: &DirEntry, win_path: &str) -> Judged {
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => return self.unstatable(win_path, e),
        };
        if self.attrs.of(entry, &meta) & attr::REPARSE_POINT != 0 {
            return self.link(win_path);
        }
        Judged::Folder
    }

    fn link(&mut self, win_path: &str) -> Judged {
        if self.sel.enter(win_path) || self.sel.take(win_path).is_some() {
            self.skip(
                win_path,
                SkipKind::Link,
                "junction or symbolic link: not followed",
            );
        }
        Judged::Left
    }

    fn not_regular(&mut self, win_path: &str) -> Judged {
        if self.sel.take(win_path).is_some() {
            self.skip(
                win_path,
                SkipKind::NotRegular,
                "not a regular file (device, pipe or socket)",
            );
        }
        Judged::Left
    }

    fn unstatable(&mut self, win_path: &str, e: std::io::Error) -> Judged {
        if self.sel.take(win_path).is_some() {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                SkipKind::Vanished
            } else {
                SkipKind::Unreadable
            };
            self.skip(win_path, kind, format!("cannot be read: {e}"));
        }
        Judged::Left
    }

    /// Why a taken regular file cannot be captured from here, if it cannot.
    fn unreadable(&self, entry: &DirEntry, meta: &std::fs::Metadata) -> Option<(SkipKind, String)> {
        let attrs = self.attrs.of(entry, meta);
        if attrs & (attr::RECALL_ON_DATA_ACCESS | attr::RECALL_ON_OPEN | attr::OFFLINE) != 0 {
            return Some((
                SkipKind::CloudPlaceholder,
                "cloud-only placeholder (e.g. OneDrive Files On-Demand): its content is not on this disk; it stays in the cloud".into(),
            ));
        }
        if attrs & attr::ENCRYPTED != 0 && !platform::CAN_READ_EFS_RAW {
            return Some((
                SkipKind::Encrypted,
                "EFS-encrypted: capture it from Windows or WinPE, where it is stored raw".into(),
            ));
        }
        if self.check && platform::open_may_fail(attrs) {
            if let Err(e) = std::fs::File::open(entry.path()) {
                return Some((SkipKind::Unreadable, format!("cannot be read: {e}")));
            }
        }
        None
    }
}
