//! `lifeboat extract STORE DIR [--user NAME]`: files back out of a store, for recovery by
//! hand on any machine (one folder per user, the original paths below it).

use std::path::{Path, PathBuf};

use super::layout::safe_name;
use super::verify::{open_store_wim, read_manifest};

/// Extracts the images of the users matching `user` (name, `DOMAIN\name` or SID; all when
/// None) into `target/<user>`. Returns the folders written.
pub fn extract(store: &Path, target: &Path, user: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let manifest = read_manifest(store)?;
    let records: Vec<_> = manifest
        .users
        .iter()
        .chain(manifest.machine.iter())
        .filter(|r| r.wim_image.is_some())
        .filter(|r| match user {
            None => true,
            Some(u) => {
                let u = u.to_lowercase();
                r.sid.to_lowercase() == u
                    || r.name.to_lowercase() == u
                    || r.name
                        .rsplit('\\')
                        .next()
                        .is_some_and(|n| n.to_lowercase() == u)
            }
        })
        .collect();
    if records.is_empty() {
        let known: Vec<&str> = manifest.users.iter().map(|r| r.name.as_str()).collect();
        return Err(match user {
            Some(u) => format!(
                "no user \"{u}\" with files in this store (it has: {})",
                known.join(", ")
            ),
            None => "this store holds no files".into(),
        });
    }
    let mut wim = open_store_wim(store, &manifest, false)?;
    let mut written = Vec::new();
    let bare = |n: &str| n.rsplit('\\').next().unwrap_or(n).to_lowercase();
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
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        wim.extract_image(r.wim_image.unwrap_or(1), &dir, None)
            .map_err(|e| e.to_string())?;
        written.push(dir);
    }
    Ok(written)
}
