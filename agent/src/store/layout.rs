//! Where a store's parts live and how it becomes complete: written under a temporary name
//! with an INCOMPLETE marker, renamed to `<COMPUTER>-<YYYYMMDD-HHMMSS>` once verified (or,
//! for ScanState's StorePath, moved into the folder given).

use std::path::{Path, PathBuf};

use super::manifest::{FILES_WIM, INCOMPLETE_MARKER, LOG_FILE, MANIFEST_FILE, REGISTRY_DIR};

/// Where in the destination the store goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Naming {
    /// `DEST/<COMPUTER>-<YYYYMMDD-HHMMSS>` (`capture`, `auto`).
    #[default]
    Stamped,
    /// The destination folder itself is the store (ScanState's StorePath), written in
    /// `DEST/.lifeboat.partial` first.
    InPlace,
}

/// Whether `name` is one of the parts a store is made of (what `/o` replaces in a
/// ScanState store folder; anything else there is left alone).
fn is_store_part(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        MANIFEST_FILE,
        FILES_WIM,
        REGISTRY_DIR,
        LOG_FILE,
        INCOMPLETE_MARKER,
    ]
    .contains(&n.as_str())
        || (n.starts_with("files") && n.ends_with(".swm"))
}

/// The store parts already in `dir` (a ScanState StorePath).
pub fn store_parts(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| is_store_part(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect()
}

fn remove_store_parts(dir: &Path) -> std::io::Result<()> {
    for p in store_parts(dir) {
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// Characters Windows and FAT do not allow in file names become `_`.
pub fn safe_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() || "<>:\"/\\|?*".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        "_".into()
    } else {
        trimmed.to_string()
    }
}

pub struct StoreDirs {
    /// The folder being written (`.<name>.partial`).
    pub work: PathBuf,
    /// Its name once complete.
    pub final_dir: PathBuf,
    pub naming: Naming,
}

impl StoreDirs {
    pub fn new(dest: &Path, computer: &str, stamp: &str, naming: Naming) -> StoreDirs {
        let name = format!("{}-{stamp}", safe_name(computer));
        match naming {
            Naming::Stamped => StoreDirs {
                work: dest.join(format!(".{name}.partial")),
                final_dir: dest.join(name),
                naming,
            },
            Naming::InPlace => StoreDirs {
                work: dest.join(".lifeboat.partial"),
                final_dir: dest.to_path_buf(),
                naming,
            },
        }
    }

    /// A store is already there (one of the same name, or, in place, a store's parts).
    pub fn taken(&self) -> bool {
        match self.naming {
            Naming::Stamped => self.final_dir.exists(),
            Naming::InPlace => !store_parts(&self.final_dir).is_empty(),
        }
    }

    pub fn registry_dir(&self) -> PathBuf {
        self.work.join(REGISTRY_DIR)
    }

    /// Creates the working folder and its marker: until the marker goes, anyone looking at
    /// the folder sees that it is not a finished store.
    pub fn start(&self, overwrite: bool) -> std::io::Result<()> {
        if self.taken() && !overwrite {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} already holds a store (use --overwrite, ScanState /o, to replace it)",
                    self.final_dir.display()
                ),
            ));
        }
        if self.work.exists() {
            std::fs::remove_dir_all(&self.work)?;
        }
        std::fs::create_dir_all(self.registry_dir())?;
        std::fs::write(
            self.work.join(INCOMPLETE_MARKER),
            "This Lifeboat store was not finished: do not restore from it.\r\nSee manifest.yaml and lifeboat.log for why.\r\n",
        )
    }

    /// Marks the store complete and gives it its final name. Files are moved one by one
    /// (the manifest last) rather than the folder renamed: some file systems a technician
    /// meets (FUSE FAT drivers among them) lose a renamed folder's contents.
    pub fn finish(&self, overwrite: bool) -> std::io::Result<PathBuf> {
        match std::fs::remove_file(self.work.join(INCOMPLETE_MARKER)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        match self.naming {
            Naming::Stamped if overwrite && self.final_dir.exists() => {
                std::fs::remove_dir_all(&self.final_dir)?
            }
            Naming::InPlace if overwrite => remove_store_parts(&self.final_dir)?,
            _ => {}
        }
        std::fs::create_dir_all(&self.final_dir)?;
        move_tree(&self.work, &self.final_dir, true)?;
        std::fs::rename(
            self.work.join(MANIFEST_FILE),
            self.final_dir.join(MANIFEST_FILE),
        )?;
        std::fs::remove_dir_all(&self.work)?;
        Ok(self.final_dir.clone())
    }
}

fn move_tree(from: &Path, to: &Path, top: bool) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&dst)?;
            move_tree(&src, &dst, false)?;
        } else if !(top && entry.file_name() == MANIFEST_FILE) {
            std::fs::rename(&src, &dst)?;
        }
    }
    Ok(())
}

/// A complete store found in a destination folder.
#[derive(Debug, Clone)]
pub struct FoundStore {
    pub dir: PathBuf,
    pub computer: String,
    /// When the capture started (RFC 3339), for "newest first".
    pub started: String,
}

/// The complete stores directly in `dest`, newest first. Folders being written
/// (`.<name>.partial`), incomplete or unreadable stores are left out.
pub fn complete_stores(dest: &Path) -> Vec<FoundStore> {
    let mut found: Vec<FoundStore> = std::fs::read_dir(dest)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter_map(|dir| {
            let r = super::StoreReader::open(&dir).ok()?;
            let m = r.manifest();
            let complete = m.complete && !dir.join(INCOMPLETE_MARKER).exists();
            complete.then(|| FoundStore {
                computer: m.source.computer_name.clone().unwrap_or_default(),
                started: m.started.clone(),
                dir,
            })
        })
        .collect();
    found.sort_by(|a, b| b.started.cmp(&a.started));
    found
}
