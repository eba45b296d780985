//! Where Windows installations sit on a volume: `<vol>\Windows`, `<vol>\Windows.old\Windows`
//! (and `Windows.old.000`…), and any other top-level folder holding the SOFTWARE and SYSTEM
//! hives.

use super::model::InstallKind;
use crate::volume::{Kind, Place, VolumeError};

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The volume (or folder) it was found on.
    pub root: Place,
    pub windir: Place,
    pub kind: InstallKind,
}

impl Candidate {
    /// The folder that was the system drive's root when this Windows ran (`Windows.old`
    /// for a previous installation).
    pub fn system_base(&self) -> Place {
        self.windir.parent().unwrap_or_else(|| self.root.clone())
    }
}

/// What a folder holds of a Windows registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveSet {
    /// SOFTWARE and SYSTEM both present.
    Complete,
    /// Only one of them: a damaged installation worth reporting.
    Partial,
    None,
}

/// A hive counts as present when something other than a folder stands where it should: a
/// pipe or a device there is then reported by name when the hive is opened (through
/// [`crate::fsread`]) instead of making the installation silently disappear.
pub fn hive_set(windir: &Place) -> HiveSet {
    let has = |name: &str| {
        windir
            .resolve_ci(&format!(r"System32\config\{name}"))
            .and_then(|p| p.meta().ok())
            .is_some_and(|m| !m.is_dir())
    };
    match (has("SOFTWARE"), has("SYSTEM")) {
        (true, true) => HiveSet::Complete,
        (false, false) => HiveSet::None,
        _ => HiveSet::Partial,
    }
}

fn is_windows_old(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "windows.old"
        || (n.starts_with("windows.old.") && n[12..].chars().all(|c| c.is_ascii_digit()))
}

/// Every installation on `root`. A folder named `Windows` (at the top or inside
/// Windows.old) counts when it has either hive, so that a damaged one is reported rather
/// than silently missed; any other folder needs both.
pub fn find_on_root(root: &Place) -> Result<Vec<Candidate>, VolumeError> {
    let mut found = Vec::new();
    let mut entries = root.list()?;
    entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    // Never follow links out of the volume; only real folders.
    for (entry, path) in entries.into_iter().filter(|(e, _)| e.kind == Kind::Folder) {
        let name = entry.name;
        if is_windows_old(&name) {
            if let Some(windir) = path.child("Windows") {
                if hive_set(&windir) != HiveSet::None {
                    found.push(Candidate {
                        root: root.clone(),
                        windir,
                        kind: InstallKind::WindowsOld,
                    });
                }
            }
            continue;
        }
        let set = hive_set(&path);
        let named_windows =
            name.eq_ignore_ascii_case("windows") || name.eq_ignore_ascii_case("winnt");
        if set == HiveSet::Complete || (named_windows && set == HiveSet::Partial) {
            found.push(Candidate {
                root: root.clone(),
                windir: path,
                kind: InstallKind::Installed,
            });
        }
    }
    Ok(found)
}

/// A path given by the technician (`--windir`, an Offline.xml `<path>`): a Windows folder,
/// or a volume root holding one (the USMT documentation's own example lists `E:\`).
pub fn candidate_from_path(path: &Place) -> Option<Candidate> {
    if hive_set(path) != HiveSet::None {
        let parent = path.parent().unwrap_or_else(|| path.clone());
        let in_old = is_windows_old(parent.name());
        let root = if in_old {
            parent.parent().unwrap_or(parent)
        } else {
            parent
        };
        return Some(Candidate {
            root,
            windir: path.clone(),
            kind: if in_old {
                InstallKind::WindowsOld
            } else {
                InstallKind::Installed
            },
        });
    }
    find_on_root(path)
        .ok()?
        .into_iter()
        .find(|c| c.kind == InstallKind::Installed)
}

/// `--winold DIR` (= ScanState `/OfflineWinOld`): `C:\Windows.old` or its `Windows` folder.
pub fn candidate_from_winold(path: &Place) -> Option<Candidate> {
    let windir = if hive_set(path) != HiveSet::None {
        path.clone()
    } else {
        path.child("Windows")?
    };
    let old = windir.parent()?;
    Some(Candidate {
        root: old.parent().unwrap_or(old),
        windir,
        kind: InstallKind::WindowsOld,
    })
}
