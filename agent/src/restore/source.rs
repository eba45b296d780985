//! The store as a restore reads it: checked exactly as `lifeboat verify` checks it (WIM
//! integrity table, every file's hash, per-user counts against the manifest, `.reg` sums)
//! before anything is written, every file it names opened inside the store only.

use std::path::Path;

use super::RestoreError;
use crate::known_folders::{self, UserFolders};
use crate::store::manifest::{Manifest, UserRecord, INCOMPLETE_MARKER};
use crate::store::regread::{self, RegKey};
use crate::store::verify;
use crate::store::StoreReader;
use crate::wim::Wim;

pub struct Store {
    pub reader: StoreReader,
    pub incomplete: bool,
    /// Files and bytes the verification read back.
    pub files: u64,
    pub bytes: u64,
}

/// Opens and verifies a store; an incomplete one is refused unless `allow_incomplete`.
pub fn open(dir: &Path, allow_incomplete: bool) -> Result<Store, RestoreError> {
    let reader = StoreReader::open(dir)?;
    let m = reader.manifest();
    let incomplete = !m.complete || dir.join(INCOMPLETE_MARKER).exists();
    if incomplete && !allow_incomplete {
        return Err(RestoreError::Incomplete {
            path: dir.to_path_buf(),
            reason: m.incomplete_reason.clone(),
        });
    }
    // The check `lifeboat verify` makes, on the contents.
    let check = verify::verify_contents(&reader, verify::ReadBack::Everything);
    if !check.ok() {
        return Err(RestoreError::Corrupt {
            path: dir.to_path_buf(),
            problems: check
                .problems
                .iter()
                .map(|p| crate::shown::shown(&p.to_string()))
                .collect(),
        });
    }
    Ok(Store {
        reader,
        incomplete,
        files: check.files,
        bytes: check.bytes,
    })
}

impl Store {
    pub fn dir(&self) -> &Path {
        self.reader.dir()
    }

    pub fn manifest(&self) -> &Manifest {
        self.reader.manifest()
    }

    pub fn open_wim(&self) -> Result<Option<Wim>, RestoreError> {
        if self.reader.records().all(|r| r.wim_image.is_none()) {
            return Ok(None);
        }
        Ok(Some(self.reader.open_wim(false)?))
    }

    /// A user's settings, when the store holds any.
    pub fn registry(&self, r: &UserRecord) -> Result<Option<Vec<RegKey>>, RestoreError> {
        let Some(rel) = &r.registry_file else {
            return Ok(None);
        };
        let (path, bytes) = self.reader.read_registry(rel)?;
        regread::decode(&bytes)
            .and_then(|text| regread::parse(&text))
            .map(Some)
            .map_err(|source| RestoreError::Registry { path, source })
    }
}

/// A user's folders as captured: recorded in the manifest, or (stores made before it was
/// recorded) Windows' default layout below the profile the source reported.
pub fn folders_of(m: &Manifest, r: &UserRecord) -> UserFolders {
    if let Some(f) = &r.folders {
        return UserFolders {
            profile: f.profile.clone(),
            known: f.known.clone(),
        };
    }
    let profile = m
        .source
        .users
        .iter()
        .find(|u| u.sid.eq_ignore_ascii_case(&r.sid))
        .map(|u| u.profile_path_original.clone())
        .unwrap_or_else(|| format!(r"C:\Users\{}", super::users::bare(&r.name)));
    let xp = known_folders::xp_layout(m.source.build, &profile);
    UserFolders {
        known: known_folders::default_known_folders(xp)
            .map(|(name, rel)| (name.to_string(), format!(r"{profile}\{rel}")))
            .collect(),
        profile,
    }
}
