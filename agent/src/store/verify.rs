//! `lifeboat verify STORE`: re-reads everything a store holds (the WIM's integrity table and
//! every file's hash, the per-user counts in the manifest, the .reg files' checksums) and
//! says whether it can be trusted for a restore.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{Manifest, FILES_WIM, INCOMPLETE_MARKER, MANIFEST_FILE};
use crate::wim::Wim;

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub files: u64,
    pub bytes: u64,
    pub problems: Vec<String>,
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

pub fn read_manifest(store: &Path) -> Result<Manifest, String> {
    let p = store.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&p)
        .map_err(|e| format!("{}: {e} (is this a Lifeboat store?)", p.display()))?;
    Manifest::from_yaml(&text).map_err(|e| format!("{}: not a valid manifest: {e}", p.display()))
}

/// The WIM of a store: `files.wim`, or the first part of a split one.
pub fn open_store_wim(
    store: &Path,
    manifest: &Manifest,
    check_integrity: bool,
) -> Result<Wim, String> {
    let first = manifest
        .wim
        .parts
        .first()
        .cloned()
        .unwrap_or_else(|| FILES_WIM.to_string());
    let path: PathBuf = store.join(&first);
    let r = if manifest.wim.parts.len() > 1 {
        Wim::open_split(&path, check_integrity)
    } else {
        Wim::open(&path, check_integrity)
    };
    r.map_err(|e| e.to_string())
}

/// Everything `lifeboat verify` checks: the store is marked complete, and its contents.
pub fn verify_store(store: &Path) -> Result<VerifyReport, String> {
    let manifest = read_manifest(store)?;
    let mut report = verify_contents(store, &manifest);
    if !manifest.complete || store.join(INCOMPLETE_MARKER).exists() {
        report.problems.insert(
            0,
            format!(
                "the store is marked incomplete{}",
                manifest
                    .incomplete_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        );
    }
    Ok(report)
}

/// The contents against the manifest: WIM integrity and hashes, per-user counts, .reg sums.
pub fn verify_contents(store: &Path, manifest: &Manifest) -> VerifyReport {
    let mut report = VerifyReport::default();
    for part in &manifest.wim.parts {
        if !store.join(part).is_file() {
            report
                .problems
                .push(format!("{} is missing", store.join(part).display()));
        }
    }
    let records: Vec<_> = manifest
        .users
        .iter()
        .chain(manifest.machine.iter())
        .collect();
    if records.iter().any(|r| r.wim_image.is_some())
        && report.problems.iter().all(|p| !p.ends_with("is missing"))
    {
        match open_store_wim(store, manifest, true) {
            Err(e) => report.problems.push(e),
            Ok(mut wim) => {
                if let Err(e) = wim.verify(None) {
                    report.problems.push(e.to_string());
                }
                for r in &records {
                    let Some(image) = r.wim_image else { continue };
                    match wim.iterate(image, "") {
                        Err(e) => report.problems.push(e.to_string()),
                        Ok(entries) => {
                            let files = entries.iter().filter(|e| !e.is_dir).count() as u64;
                            let bytes: u64 =
                                entries.iter().filter(|e| !e.is_dir).map(|e| e.size).sum();
                            report.files += files;
                            report.bytes += bytes;
                            if files != r.files || bytes != r.bytes {
                                report.problems.push(format!(
                                    "{}: image {image} holds {files} files / {bytes} bytes, the manifest says {} / {}",
                                    r.name, r.files, r.bytes
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    for r in &records {
        if let (Some(file), Some(want)) = (&r.registry_file, &r.registry_sha256) {
            let p = store.join(file);
            match std::fs::read(&p) {
                Ok(data) if sha256_hex(&data) == *want => {}
                Ok(_) => report.problems.push(format!(
                    "{}: checksum differs from the manifest",
                    p.display()
                )),
                Err(e) => report.problems.push(format!("{}: {e}", p.display())),
            }
        }
    }
    report
}
