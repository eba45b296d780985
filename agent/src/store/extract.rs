//! `lifeboat extract STORE DIR [--user NAME]`: files back out of a store, for recovery by
//! hand on any machine (one folder per user, the original paths below it). A store is
//! hostile input: the WIM is checked against its integrity table before anything is
//! written, each image's size in the WIM's metadata must be what the manifest says, and the
//! whole must fit where it goes, so a damaged store never fills a disk.

use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::layout::safe_name;
use super::manifest::UserRecord;
use super::read::StoreReader;

/// The records of the users matching `user` (name, `DOMAIN\name` or SID; all when None).
pub fn select_records<'a>(
    store: &'a StoreReader,
    user: Option<&str>,
) -> Result<Vec<&'a UserRecord>, StoreError> {
    let matches = |r: &UserRecord, u: &str| {
        let u = u.to_lowercase();
        r.sid.to_lowercase() == u
            || r.name.to_lowercase() == u
            || r.name
                .rsplit('\\')
                .next()
                .is_some_and(|n| n.to_lowercase() == u)
    };
    let records: Vec<&UserRecord> = store
        .records()
        .filter(|r| r.wim_image.is_some())
        .filter(|r| user.is_none_or(|u| matches(r, u)))
        .collect();
    if records.is_empty() {
        return Err(match user {
            Some(u) => StoreError::NoSuchUser {
                user: u.to_string(),
                known: store
                    .manifest()
                    .users
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            None => StoreError::NoFiles {
                dir: store.dir().to_path_buf(),
            },
        });
    }
    Ok(records)
}

/// Extracts the chosen users' images into `target/<user>`. Returns the folders written.
pub fn extract(
    store: &Path,
    target: &Path,
    user: Option<&str>,
) -> Result<Vec<PathBuf>, StoreError> {
    let store = StoreReader::open(store)?;
    let records = select_records(&store, user)?;
    // Integrity first: a damaged WIM stops here, before anything is written.
    let mut wim = store.open_wim(true)?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for r in &records {
        let (f, b) = store.check_image(&mut wim, r)?;
        files = files.saturating_add(f);
        bytes = bytes.saturating_add(b);
    }
    std::fs::create_dir_all(target).map_err(|source| StoreError::Write {
        path: target.to_path_buf(),
        source,
    })?;
    if let Ok(space) = crate::platform::space(target) {
        // As the file system counts: each file's last block whole, and its entry.
        let per_file = space
            .block
            .saturating_add(crate::limits::RESTORE_ENTRY_BYTES);
        let need = bytes.saturating_add(files.saturating_mul(per_file));
        if need > space.available {
            return Err(StoreError::NoRoom {
                path: target.to_path_buf(),
                need,
                free: space.available,
            });
        }
    }
    let bare = |n: &str| n.rsplit('\\').next().unwrap_or(n).to_lowercase();
    let mut written = Vec::new();
    for r in &records {
        // One folder per user, by bare name unless two users share it.
        let shared = records
            .iter()
            .filter(|o| bare(&o.name) == bare(&r.name))
            .count()
            > 1;
        let shown = if shared {
            r.name.as_str()
        } else {
            r.name.rsplit('\\').next().unwrap_or(&r.name)
        };
        let dir = target.join(safe_name(shown));
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Write {
            path: dir.clone(),
            source,
        })?;
        wim.extract_image(r.wim_image.unwrap_or(1), &dir, None)
            .map_err(|e| write_failed(e, &dir))?;
        written.push(dir);
    }
    Ok(written)
}

/// An extraction that failed writing on the target (a full disk, a folder that cannot be
/// made) is the target's, not the store's: it says so, naming the folder.
fn write_failed(e: crate::wim::WimError, dir: &Path) -> StoreError {
    if !e.is_write_failure() {
        return e.into();
    }
    StoreError::Write {
        path: dir.to_path_buf(),
        source: e
            .os_error()
            .unwrap_or_else(|| std::io::Error::other(e.to_string())),
    }
}
