//! Walks the folders the rules point at and lists what to take. Links and junctions are
//! never followed (the "Application Data" loop), cloud placeholders and EFS files are
//! reported rather than failed on, and unreadable files are found here, before the WIM
//! writer would trip over them.

use std::path::{Path, PathBuf};

use super::skip::{SkipKind, Skipped};

/// The rule matcher as the walker sees it: no I/O on its side, no rules on this side.
pub trait Selector {
    /// Can any rule take something at or below this folder?
    fn enter(&self, win_dir: &str) -> bool;
    /// The component that takes this file, if any.
    fn take(&self, win_file: &str) -> Option<String>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub host: PathBuf,
    /// The file's path as the offline system saw it (`C:\Users\ann\Documents\a.txt`).
    pub win: String,
    pub size: u64,
    pub component: String,
}

#[derive(Debug, Default)]
pub struct WalkResult {
    pub files: Vec<FileEntry>,
    pub skipped: Vec<Skipped>,
    pub bytes: u64,
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
        walk_dir(host, win, sel, check_readable, &mut out, &mut seen);
    }
    out
}

fn join_win(dir: &str, name: &str) -> String {
    if dir.ends_with('\\') {
        format!("{dir}{name}")
    } else {
        format!("{dir}\\{name}")
    }
}

fn skip(out: &mut WalkResult, win: &str, kind: SkipKind, reason: impl Into<String>) {
    out.skipped.push(Skipped::new(win, kind, reason));
}

fn walk_dir(
    host: &Path,
    win: &str,
    sel: &dyn Selector,
    check: bool,
    out: &mut WalkResult,
    seen: &mut std::collections::HashSet<String>,
) {
    // Two roots can overlap (a known folder inside the profile): walk each place once.
    if !seen.insert(win.to_lowercase()) || !sel.enter(win) {
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
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let host_path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            // A name that is not Unicode (a damaged or hostile file system): no WIM can
            // hold it, and wimlib would leave it out without a word.
            let shown = join_win(win, &entry.file_name().to_string_lossy());
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
        let win_path = join_win(win, &name);
        let meta = match std::fs::symlink_metadata(&host_path) {
            Ok(m) => m,
            Err(e) => {
                if sel.take(&win_path).is_some() {
                    let kind = if e.kind() == std::io::ErrorKind::NotFound {
                        SkipKind::Vanished
                    } else {
                        SkipKind::Unreadable
                    };
                    skip(out, &win_path, kind, format!("cannot be read: {e}"));
                }
                continue;
            }
        };
        let attrs = crate::platform::file_attributes(&host_path, &meta);
        let is_link =
            meta.file_type().is_symlink() || attrs & attr::REPARSE_POINT != 0 && meta.is_dir();
        if meta.is_dir() && !is_link {
            walk_dir(&host_path, &win_path, sel, check, out, seen);
            continue;
        }
        if is_link {
            if sel.enter(&win_path) || sel.take(&win_path).is_some() {
                skip(
                    out,
                    &win_path,
                    SkipKind::Link,
                    "junction or symbolic link: not followed",
                );
            }
            continue;
        }
        if !meta.is_file() {
            if sel.take(&win_path).is_some() {
                skip(
                    out,
                    &win_path,
                    SkipKind::NotRegular,
                    "not a regular file (device, pipe or socket)",
                );
            }
            continue;
        }
        let Some(component) = sel.take(&win_path) else {
            continue;
        };
        if attrs & (attr::RECALL_ON_DATA_ACCESS | attr::RECALL_ON_OPEN | attr::OFFLINE) != 0 {
            skip(
                out,
                &win_path,
                SkipKind::CloudPlaceholder,
                "cloud-only placeholder (e.g. OneDrive Files On-Demand): its content is not on this disk; it stays in the cloud",
            );
            continue;
        }
        if attrs & attr::ENCRYPTED != 0 && !crate::platform::CAN_READ_EFS_RAW {
            skip(
                out,
                &win_path,
                SkipKind::Encrypted,
                "EFS-encrypted: capture it from Windows or WinPE, where it is stored raw",
            );
            continue;
        }
        if check {
            if let Err(e) = std::fs::File::open(&host_path) {
                skip(
                    out,
                    &win_path,
                    SkipKind::Unreadable,
                    format!("cannot be read: {e}"),
                );
                continue;
            }
        }
        out.bytes += meta.len();
        out.files.push(FileEntry {
            host: host_path,
            win: win_path,
            size: meta.len(),
            component,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes every file, and removes `victim` the first time it is asked about another
    /// file: the victim vanishes between the folder's listing and its own turn.
    struct Vanishing {
        victim: PathBuf,
    }

    impl Selector for Vanishing {
        fn enter(&self, _: &str) -> bool {
            true
        }
        fn take(&self, _: &str) -> Option<String> {
            let _ = std::fs::remove_file(&self.victim);
            Some("c".into())
        }
    }

    #[test]
    fn a_file_that_vanishes_during_the_walk_is_recorded_as_vanished() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("b.txt"), "b").unwrap();
        let sel = Vanishing {
            victim: dir.path().join("b.txt"),
        };
        let r = walk(&[(dir.path().to_path_buf(), r"C:\x".into())], &sel, true);
        assert_eq!(r.files.len(), 1);
        assert_eq!(r.files[0].win, r"C:\x\a.txt");
        assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
        assert_eq!(r.skipped[0].kind, SkipKind::Vanished);
        assert!(r.skipped[0].kind.is_error());
        assert_eq!(r.skipped[0].path, r"C:\x\b.txt");
    }
}
