//! Walks the folders the rules point at and lists what to take. Links and junctions are
//! never followed (the "Application Data" loop), cloud placeholders and EFS files are
//! reported rather than failed on, and unreadable files are found here, before the WIM
//! writer would trip over them.

use crate::platform;
use crate::volume::{Entry, Kind, Meta, Place, Unavailable};

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
    pub roots: Vec<(Place, String)>,
}

/// Walks each (place, Windows path) root. `check_readable` opens each taken file whose
/// open can fail though its stat did not ([`platform::open_may_fail`]), so an unreadable
/// one is skipped with its reason instead of stopping the capture.
pub fn walk(roots: &[(Place, String)], sel: &dyn Selector, check_readable: bool) -> WalkResult {
    let mut out = WalkResult::default();
    let mut seen = std::collections::HashSet::new();
    for (place, win) in roots {
        let first = out.files.dirs_len();
        let mut walker = Walker {
            sel,
            check: check_readable,
            out: &mut out,
            seen: &mut seen,
        };
        walker.dir(place, win, None);
        if out.files.taken_below(first) {
            out.roots.push((place.clone(), win.clone()));
        }
    }
    out.files.seal();
    out
}

/// One root's walk: what every folder of it is judged with.
struct Walker<'a> {
    sel: &'a dyn Selector,
    check: bool,
    out: &'a mut WalkResult,
    seen: &'a mut std::collections::HashSet<String>,
}

enum Judged {
    /// A real folder (not a link or junction): walked next.
    Folder,
    Taken {
        meta: Meta,
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
    fn dir(&mut self, place: &Place, win: &str, parent: Option<u32>) {
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
        let mut listing = match place.listing() {
            Ok(l) => l,
            Err(e) => {
                let reason = format!("folder cannot be read: {}", e.problem);
                self.skip(win, SkipKind::FolderUnreadable, reason);
                return;
            }
        };
        for bad in &listing.bad_names {
            self.bad_name(win, bad);
        }
        listing.entries.sort_by(|a, b| a.name.cmp(&b.name));
        let dir = self.out.files.open_dir(place, win, parent);
        let mut subdirs = Vec::new();
        for entry in listing.entries {
            let win_path = join_win(win, &entry.name);
            let child = place.entry(&entry);
            match self.judge(&entry, &child, &win_path) {
                Judged::Folder => subdirs.push((child, win_path)),
                Judged::Left => {}
                Judged::Taken { meta, component } => {
                    self.list(dir, &entry, &win_path, &meta, &component)
                }
            }
        }
        for (child, win_path) in subdirs {
            self.dir(&child, &win_path, Some(dir));
        }
        self.out.files.close_dir(dir);
    }

    /// A name that is not Unicode (a damaged or hostile file system): no WIM can hold it,
    /// and wimlib would leave it out without a word.
    fn bad_name(&mut self, win: &str, shown_name: &str) {
        let shown = join_win(win, shown_name);
        if self.sel.enter(&shown) || self.sel.take(&shown).is_some() {
            self.skip(
                &shown,
                SkipKind::BadName,
                "the name is not valid Unicode, which no WIM can hold: copy it by hand under another name",
            );
        }
    }

    fn list(&mut self, dir: u32, entry: &Entry, win_path: &str, meta: &Meta, component: &str) {
        if self.out.files.push(dir, entry, meta, component).is_err() {
            self.skip(
                win_path,
                SkipKind::Unreadable,
                "not listed: one user's file list is full (4 GiB of names or 65,535 components)",
            );
            return;
        }
        self.out.bytes += meta.size;
    }

    /// Decides one entry of a folder. The entry's kind comes with the folder listing, so a
    /// file no rule takes costs nothing more; a taken one costs one look at its metadata
    /// (and an open only where [`platform::open_may_fail`]).
    fn judge(&mut self, entry: &Entry, place: &Place, win_path: &str) -> Judged {
        match entry.kind {
            Kind::Link => return self.link(win_path),
            Kind::Folder => return Judged::Folder,
            Kind::Other => return self.not_regular(win_path),
            Kind::File => {}
        }
        let Some(component) = self.sel.take(win_path) else {
            return Judged::Left;
        };
        // The kind again from the metadata itself: the entry may have been replaced since
        // the listing (a hostile or changing volume).
        let meta = match place.meta() {
            Ok(m) if m.is_file() => m,
            Ok(_) => return self.not_regular(win_path),
            Err(e) => return self.unstatable(win_path, e),
        };
        match self.unreadable(place, &meta) {
            Some((kind, reason)) => {
                self.skip(win_path, kind, reason);
                Judged::Left
            }
            None => Judged::Taken { meta, component },
        }
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

    fn unstatable(&mut self, win_path: &str, e: crate::volume::VolumeError) -> Judged {
        if self.sel.take(win_path).is_some() {
            let kind = if e.is_not_found() {
                SkipKind::Vanished
            } else {
                SkipKind::Unreadable
            };
            self.skip(win_path, kind, format!("cannot be read: {}", e.problem));
        }
        Judged::Left
    }

    /// Why a taken regular file cannot be captured from here, if it cannot.
    fn unreadable(&self, place: &Place, meta: &Meta) -> Option<(SkipKind, String)> {
        if let Some(why) = meta.unavailable {
            let kind = match why {
                Unavailable::Cloud => SkipKind::CloudPlaceholder,
                Unavailable::Encrypted => SkipKind::Encrypted,
                Unavailable::Compressed | Unavailable::Deduplicated => SkipKind::Unreadable,
            };
            return Some((kind, why.to_string()));
        }
        if self.check && place.host_path().is_some() && platform::open_may_fail(meta.attributes) {
            if let Err(e) = place.open() {
                return Some((
                    SkipKind::Unreadable,
                    format!("cannot be read: {}", e.problem),
                ));
            }
        }
        None
    }
}
