//! `lifeboat verify STORE`: re-reads everything a store holds (the WIM's integrity table and
//! every file's hash, the per-user counts in the manifest, the .reg files' checksums) and
//! says whether it can be trusted for a restore.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::StoreError;
use super::manifest::INCOMPLETE_MARKER;
use super::read::StoreReader;

/// One thing wrong with a store.
#[derive(Debug, thiserror::Error)]
pub enum VerifyProblem {
    #[error("the store is marked incomplete{}", .reason.as_deref().map(|r| format!(": {}", crate::shown::Shown(r))).unwrap_or_default())]
    Incomplete { reason: Option<String> },
    #[error("{} is missing", crate::shown::ShownPath(.path))]
    PartMissing { path: PathBuf },
    #[error("{}: checksum differs from the manifest", crate::shown::ShownPath(.path))]
    RegistryChecksum { path: PathBuf },
    #[error(transparent)]
    Damaged(#[from] StoreError),
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub files: u64,
    pub bytes: u64,
    pub problems: Vec<VerifyProblem>,
    /// Files the capture kept with zeros where their disk lost bytes: the store holds
    /// them as captured (not a problem of the store), and the mark is said again.
    pub damaged: Vec<super::manifest::Damaged>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How much of a store is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBack {
    /// `lifeboat verify`: the integrity table over every byte of the WIM, then every
    /// stored file decompressed and checked against its SHA-1 (what `wimverify` does).
    Everything,
    /// The proof at the end of a capture: every stored file decompressed and checked
    /// against the SHA-1 taken from the source. The integrity table was computed from the
    /// same bytes moments before, so checking it again would read the WIM a third time
    /// and prove nothing new.
    Contents,
}

/// Everything `lifeboat verify` checks: the store is marked complete, and its contents.
/// An error means there is no store to check (no manifest, or one that does not parse).
pub fn verify_store(dir: &Path) -> Result<VerifyReport, StoreError> {
    let store = StoreReader::open(dir)?;
    let mut report = verify_contents(&store, ReadBack::Everything);
    let m = store.manifest();
    report.damaged = store
        .records()
        .flat_map(|r| r.damaged.iter().cloned())
        .collect();
    if !m.complete || dir.join(INCOMPLETE_MARKER).exists() {
        report.problems.insert(
            0,
            VerifyProblem::Incomplete {
                reason: m.incomplete_reason.clone(),
            },
        );
    }
    Ok(report)
}

/// The contents against the manifest: WIM integrity and hashes, per-user counts, .reg sums.
pub fn verify_contents(store: &StoreReader, depth: ReadBack) -> VerifyReport {
    let mut report = VerifyReport::default();
    verify_wim(store, depth, &mut report);
    for r in store.records() {
        let (Some(file), Some(want)) = (&r.registry_file, &r.registry_sha256) else {
            continue;
        };
        match store.read_registry(file) {
            Ok((path, data)) if sha256_hex(&data) != *want => report
                .problems
                .push(VerifyProblem::RegistryChecksum { path }),
            Ok(_) => {}
            Err(e) => report.problems.push(e.into()),
        }
    }
    report
}

fn verify_wim(store: &StoreReader, depth: ReadBack, report: &mut VerifyReport) {
    if store.records().all(|r| r.wim_image.is_none()) {
        return;
    }
    let parts = match store.wim_parts() {
        Ok(p) => p,
        Err(e) => return report.problems.push(e.into()),
    };
    let missing: Vec<PathBuf> = parts.into_iter().filter(|p| !p.exists()).collect();
    if !missing.is_empty() {
        return report.problems.extend(
            missing
                .into_iter()
                .map(|path| VerifyProblem::PartMissing { path }),
        );
    }
    let mut wim = match store.open_wim(depth == ReadBack::Everything) {
        Ok(w) => w,
        Err(e) => return report.problems.push(e.into()),
    };
    let verified = wim.verify(None).unwrap_or_else(|e| {
        report.problems.push(StoreError::from(e).into());
        Vec::new()
    });
    for r in store.records() {
        match store.check_image_against(&mut wim, r, &verified) {
            Ok((files, bytes)) => {
                report.files += files;
                report.bytes += bytes;
            }
            Err(e) => report.problems.push(e.into()),
        }
    }
}
