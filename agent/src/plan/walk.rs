//! Walks the folders the rules point at and lists what to take. Links and junctions are
//! never followed (the "Application Data" loop), cloud placeholders and EFS files are
//! reported rather than failed on, and unreadable files are found here, before the WIM
//! writer would trip over them.

use std::path::{Path, PathBuf};

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

/// Windows file attribute bits that change what can be captured.
pub mod attr {
    pub const REPARSE_POINT: u32 = 0x400;
    pub const OFFLINE: u32 = 0x1000;
    pub const ENCRYPTED: u32 = 0x4000;
    pub const RECALL_ON_OPEN: u32 = 0x4_0000;
    pub const RECALL_ON_DATA_ACCESS: u32 = 0x40_0000;
}

/// Walks each (host folder, Windows path) root. `check_readable` opens every taken file
/// once so an unreadable one is skipped with its reason instead of stopping the capture.
pub fn walk(roots: &[(PathBuf, String)], sel: &dyn Selector, check_readable: bool) -> WalkResult {
    let mut out = WalkResult::default();
    let mut seen = std::collections::HashSet::new();
    for (host, win) in roots {
        let first = out.files.dirs_len();
        walk_dir(host, win, None, sel, check_readable, &mut out, &mut seen);
        if out.files.taken_below(first) {
            out.roots.push((host.clone(), win.clone()));
        }
    }
    out.files.seal();
    out
}

fn skip(out: &mut WalkResult, win: &str, kind: SkipKind, reason: impl Into<String>) {
    out.skipped.push(Skipped::new(win, kind, reason));
}

/// Lists one folder: its taken files first (so they lie together in the list, in name
/// order), then its subfolders.
fn walk_dir(
    host: &Path,
    win: &str,
    parent: Option<u32>,
    sel: &dyn Selector,
    check: bool,
    out: &mut WalkResult,
    seen: &mut std::collections::HashSet<String>,
) {
    // Two roots can overlap (a known folder inside the profile): walk each place once.
    if !seen.insert(win.to_lowercase()) || !sel.enter(win) {
        return;
    }
    // One call per level: a hostile volume nesting thousands of folders must not exhaust
    // the stack.
    if win.split('\\').count() > crate::limits::FOLDER_MAX_DEPTH {
        skip(
            out,
            win,
            SkipKind::TooDeep,
            format!(
                "nested deeper than {} folders: not entered; copy it by hand",
                crate::limits::FOLDER_MAX_DEPTH
            ),
        );
        return;
    }
    let entries = match std::fs::read_dir(host) {
        Ok(e) => e,
        Err(e) => {
            skip(
                out,
                win,
                SkipKind::FolderUnreadable,
                format!("folder cannot be read: {e}"),
            );
            return;
        }
    };
    let mut entries: Vec<(std::ffi::OsString, PathBuf)> = entries
        .flatten()
        .map(|e| (e.file_name(), e.path()))
        .collect();
    entries.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    let dir = out.files.open_dir(host, win, parent);
    let mut subdirs = Vec::new();
    for (name, host_path) in entries {
        let Some(utf8) = name.to_str() else {
            // A name that is not Unicode (a damaged or hostile file system): no WIM can
            // hold it, and wimlib would leave it out without a word.
            let shown = join_win(win, &name.to_string_lossy());
            if sel.enter(&shown) || sel.take(&shown).is_some() {
                skip(
                    out,
                    &shown,
                    SkipKind::BadName,
                    "the name is not valid Unicode, which no WIM can hold: copy it by hand under another name",
                );
            }
            continue;
        };
        let win_path = join_win(win, utf8);
        match judge(&host_path, &win_path, sel, check, out) {
            Judged::Folder => subdirs.push((host_path, win_path)),
            Judged::Left => {}
            Judged::Taken { size, component } => {
                if out.files.push(dir, &name, size, &component).is_err() {
                    skip(
                        out,
                        &win_path,
                        SkipKind::Unreadable,
                        "not listed: one user's file list is full (4 GiB of names or 65,535 components)",
                    );
                    continue;
                }
                out.bytes += size;
            }
        }
    }
    for (host_path, win_path) in subdirs {
        walk_dir(&host_path, &win_path, Some(dir), sel, check, out, seen);
    }
    out.files.close_dir(dir);
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

/// Decides one entry of a folder, from one stat.
fn judge(
    host_path: &Path,
    win_path: &str,
    sel: &dyn Selector,
    check: bool,
    out: &mut WalkResult,
) -> Judged {
    let meta = match std::fs::symlink_metadata(host_path) {
        Ok(m) => m,
        Err(e) => {
            if sel.take(win_path).is_some() {
                let kind = if e.kind() == std::io::ErrorKind::NotFound {
                    SkipKind::Vanished
                } else {
                    SkipKind::Unreadable
                };
                skip(out, win_path, kind, format!("cannot be read: {e}"));
            }
            return Judged::Left;
        }
    };
    let attrs = crate::platform::file_attributes(host_path, &meta);
    let is_link =
        meta.file_type().is_symlink() || attrs & attr::REPARSE_POINT != 0 && meta.is_dir();
    if meta.is_dir() && !is_link {
        return Judged::Folder;
    }
    if is_link {
        if sel.enter(win_path) || sel.take(win_path).is_some() {
            skip(
                out,
                win_path,
                SkipKind::Link,
                "junction or symbolic link: not followed",
            );
        }
        return Judged::Left;
    }
    if !meta.is_file() {
        if sel.take(win_path).is_some() {
            skip(
                out,
                win_path,
                SkipKind::NotRegular,
                "not a regular file (device, pipe or socket)",
            );
        }
        return Judged::Left;
    }
    let Some(component) = sel.take(win_path) else {
        return Judged::Left;
    };
    if attrs & (attr::RECALL_ON_DATA_ACCESS | attr::RECALL_ON_OPEN | attr::OFFLINE) != 0 {
        skip(
            out,
            win_path,
            SkipKind::CloudPlaceholder,
            "cloud-only placeholder (e.g. OneDrive Files On-Demand): its content is not on this disk; it stays in the cloud",
        );
        return Judged::Left;
    }
    if attrs & attr::ENCRYPTED != 0 && !crate::platform::CAN_READ_EFS_RAW {
        skip(
            out,
            win_path,
            SkipKind::Encrypted,
            "EFS-encrypted: capture it from Windows or WinPE, where it is stored raw",
        );
        return Judged::Left;
    }
    if check {
        if let Err(e) = std::fs::File::open(host_path) {
            skip(
                out,
                win_path,
                SkipKind::Unreadable,
                format!("cannot be read: {e}"),
            );
            return Judged::Left;
        }
    }
    Judged::Taken {
        size: meta.len(),
        component,
    }
}
