//! Where a store's parts live and how it becomes complete: written under a temporary name
//! with an INCOMPLETE marker, renamed to `<COMPUTER>-<YYYYMMDD-HHMMSS>` once verified.

use std::path::{Path, PathBuf};

use super::manifest::{INCOMPLETE_MARKER, REGISTRY_DIR};

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
}

impl StoreDirs {
    pub fn new(dest: &Path, computer: &str, stamp: &str) -> StoreDirs {
        let name = format!("{}-{stamp}", safe_name(computer));
        StoreDirs {
            work: dest.join(format!(".{name}.partial")),
            final_dir: dest.join(name),
        }
    }

    pub fn registry_dir(&self) -> PathBuf {
        self.work.join(REGISTRY_DIR)
    }

    /// Creates the working folder and its marker: until the marker goes, anyone looking at
    /// the folder sees that it is not a finished store.
    pub fn start(&self, overwrite: bool) -> std::io::Result<()> {
        if self.final_dir.exists() && !overwrite {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} already exists (use --overwrite to replace it)",
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

    /// Marks the store complete and gives it its final name.
    pub fn finish(&self, overwrite: bool) -> std::io::Result<PathBuf> {
        match std::fs::remove_file(self.work.join(INCOMPLETE_MARKER)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        if overwrite && self.final_dir.exists() {
            std::fs::remove_dir_all(&self.final_dir)?;
        }
        std::fs::rename(&self.work, &self.final_dir)?;
        Ok(self.final_dir.clone())
    }
}
