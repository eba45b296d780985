//! Looking at what detect was given: each ROOT folder (a volume the host mounted), image
//! file, partition or whole disk. A folder is read through the host; anything else (and a
//! folder with `--raw`, or one the host cannot list) is read by Lifeboat itself, one
//! `scanned[]` entry per volume on it, with where it lies on its disk and what it is.

use std::path::Path;
use std::sync::Arc;

use lifeboat_volume::bitlocker::{self, BitLockerError, Keys, ProtectorKind};

use super::drive_map::Visible;
use super::locate::{self, Candidate};
use super::model::{
    Problem, RootState, ScannedEncryption, ScannedPartition, ScannedProtector, ScannedRoot,
};
use crate::platform::BootSector;
use crate::volume::open::{self, Found, State};
use crate::volume::Place;

/// What the roots hold.
#[derive(Default)]
pub struct Scan {
    pub scanned: Vec<ScannedRoot>,
    pub candidates: Vec<Candidate>,
    pub problems: Vec<Problem>,
    /// The volumes read from disks, to place the offline system's other drive letters on.
    pub visible: Vec<Visible>,
    /// `--map` could not be used for a disk (a place that would lose or invent bytes, a
    /// map that does not fit): the run stops, as for a bad option.
    pub refused: Option<crate::volume::rescue::RescueOpenError>,
}

/// How the volumes are to be read.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Read a mounted volume's device with Lifeboat's own reader rather than the host's
    /// (a volume Windows refuses or wants to check).
    pub raw: bool,
    /// The keys for BitLocker-locked volumes, each tried on every one.
    pub keys: Arc<Keys>,
    /// A disk or image ROOT read through the rescue layer (`--map`): its map and rescued
    /// bytes, shared by every scan of the run.
    pub rescue: Option<Arc<crate::volume::rescue::Rescue>>,
}

impl Scan {
    /// Looks at one ROOT.
    pub fn root(&mut self, root: &Path, opts: &ScanOptions) {
        let meta = std::fs::metadata(root);
        let is_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
        let device = is_dir
            .then(|| crate::platform::device_of(root))
            .flatten()
            .filter(|_| opts.raw);
        match (is_dir, device) {
            (true, None) => {
                if opts.rescue.is_some() {
                    self.problems.push(Problem {
                        path: root.display().to_string(),
                        error: "a folder is read through the system, not through --map".into(),
                        hint: Some(
                            "give the disk or partition itself, or --raw to read the folder's device, for a failing disk"
                                .into(),
                        ),
                    });
                }
                self.folder(root, opts)
            }
            (true, Some(device)) => self.image(&device, opts),
            (false, _) if meta.is_ok() => self.image(root, opts),
            (false, _) => self.unreadable(
                root,
                RootState::Unreadable,
                meta.err()
                    .map_or("not a folder".into(), |e| format!("cannot read it: {e}")),
            ),
        }
    }

    /// A folder the host mounted; when the host cannot list it, its device read directly.
    fn folder(&mut self, root: &Path, opts: &ScanOptions) {
        match locate::find_on_root(&Place::host(root)) {
            Ok(found) => {
                self.scanned.push(ScannedRoot::new(
                    root.display().to_string(),
                    RootState::Ok,
                    found.len(),
                ));
                self.candidates.extend(found);
            }
            Err(e) => match crate::platform::device_of(root) {
                Some(device) => self.image(&device, opts),
                None => self.unreadable(
                    root,
                    RootState::Unreadable,
                    format!("cannot read it: {}", e.problem),
                ),
            },
        }
    }

    /// An image file or a device: each volume on it.
    fn image(&mut self, path: &Path, opts: &ScanOptions) {
        use crate::volume::rescue::RescueOpenError;
        let opened = match opts.rescue.as_ref().map(|r| r.source(path)) {
            Some(Ok(disk)) => open::open_disk(disk, &opts.keys).map_err(|e| e.to_string()),
            Some(Err(RescueOpenError::Open(e))) => Err(e.to_string()),
            Some(Err(e)) => {
                self.refused.get_or_insert(e);
                return;
            }
            None => open::open_image(path, &opts.keys).map_err(|e| e.to_string()),
        };
        match opened {
            Ok(found) => {
                for f in found {
                    self.volume(f);
                }
            }
            Err(e) => self.unreadable(path, RootState::Unreadable, e),
        }
    }

    fn volume(&mut self, f: Found) {
        let mut scanned = ScannedRoot::new(f.name.clone(), RootState::Ok, 0);
        scanned.filesystem = f.filesystem.map(|fs| fs.to_string());
        scanned.partition = f.partition.as_ref().map(|p| ScannedPartition {
            number: p.number,
            offset: p.offset,
            size: p.size,
            kind: p.type_name().map(str::to_string),
        });
        let unlocked = matches!(f.state, State::Ready { .. });
        scanned.encryption = f.encryption.as_ref().map(|i| encryption(i, unlocked));
        match f.state {
            State::Ready { root, dirty } => {
                if let Some(d) = dirty {
                    scanned.dirty = Some(d.to_string());
                    self.problems.push(Problem {
                        path: f.name.clone(),
                        error: format!("the volume is {d}"),
                        hint: Some(
                            "it is read as it is on the disk; nothing is replayed or repaired, and it is never written"
                                .into(),
                        ),
                    });
                }
                match locate::find_on_root(&root) {
                    Ok(found) => {
                        scanned.installations = found.len();
                        self.candidates.extend(found);
                    }
                    Err(e) => {
                        scanned.state = RootState::Unreadable;
                        self.problems.push(Problem {
                            path: f.name.clone(),
                            error: format!("its root folder cannot be read: {}", e.problem),
                            hint: None,
                        });
                    }
                }
                self.visible.push(Visible {
                    identity: f.identity,
                    root,
                });
            }
            State::Locked(why) => {
                scanned.state = RootState::Locked;
                self.problems
                    .push(locked(&f.name, &why, f.encryption.as_ref()));
            }
            State::Other => {
                scanned.state = RootState::NotRead;
                // A partition table names the disk's other volumes (EFI, recovery): only a
                // lone volume given on its own is worth a word.
                if f.partition.is_none() {
                    self.problems.push(not_read(&f.name, f.filesystem));
                }
            }
            State::Unreadable(why) => {
                scanned.state = RootState::Unreadable;
                self.problems.push(Problem {
                    path: f.name.clone(),
                    error: why,
                    hint: Some(
                        "the volume is damaged where its file system begins; `lifeboat image` copies what can be read"
                            .into(),
                    ),
                });
            }
        }
        self.scanned.push(scanned);
    }

    fn unreadable(&mut self, root: &Path, state: RootState, error: String) {
        let path = root.display().to_string();
        self.scanned.push(ScannedRoot::new(path.clone(), state, 0));
        self.problems.push(Problem {
            path,
            error,
            hint: Some(
                "give the folder where the Windows volume is mounted, or its disk, partition or image file".into(),
            ),
        });
    }
}

/// A locked volume: why, and what the technician can give. The error names the volume and
/// its protectors, never a key.
fn locked(name: &str, why: &BitLockerError, info: Option<&bitlocker::Info>) -> Problem {
    let ids: Vec<String> = info
        .map(|i| i.recovery_ids())
        .unwrap_or_default()
        .iter()
        .map(|id| format!("Recovery key ID: {} ({{{id}}})", id.short_id()))
        .collect();
    let hint = match why {
        BitLockerError::NoKey { .. } | BitLockerError::TpmOnly { .. } => Some(format!(
            "give its recovery key with --recovery-password (look it up by its ID in the \
             Microsoft account, Entra ID or Active Directory){}",
            if ids.is_empty() {
                String::new()
            } else {
                format!(": {}", ids.join(", "))
            }
        )),
        BitLockerError::WrongKey { .. } | BitLockerError::NoMatchingProtector { .. } => Some(
            "check the key against the recovery key ID; nothing was written and no store is made"
                .into(),
        ),
        BitLockerError::Header { .. } | BitLockerError::Metadata { .. } => Some(
            "its BitLocker metadata is damaged: with the recovery key, Windows' repair-bde may \
             still recover the volume (on a copy, never on the original)"
                .into(),
        ),
        _ => None,
    };
    Problem {
        path: name.to_string(),
        error: why.to_string(),
        hint,
    }
}

/// A protector's kind as the JSON schema names it.
fn protector_kind(k: ProtectorKind) -> &'static str {
    match k {
        ProtectorKind::RecoveryPassword => ScannedProtector::RECOVERY_PASSWORD,
        ProtectorKind::Password => "password",
        ProtectorKind::StartupKey => "startup-key",
        ProtectorKind::Tpm => "tpm",
        ProtectorKind::TpmAndPin => "tpm-pin",
        ProtectorKind::TpmAndStartupKey => "tpm-startup-key",
        ProtectorKind::TpmAndPinAndStartupKey => "tpm-pin-startup-key",
        ProtectorKind::ClearKey => "clear-key",
        ProtectorKind::Other(_) => "other",
    }
}

/// What `--json` shows of an encrypted volume.
fn encryption(i: &bitlocker::Info, unlocked: bool) -> ScannedEncryption {
    ScannedEncryption {
        kind: "bitlocker".into(),
        method: i.method.to_string(),
        protectors: i
            .protectors
            .iter()
            .map(|p| ScannedProtector {
                kind: protector_kind(p.kind).into(),
                id: p.id.to_string(),
                short_id: p.id.short_id(),
            })
            .collect(),
        unlocked,
    }
}

fn not_read(name: &str, fs: Option<BootSector>) -> Problem {
    Problem {
        path: name.to_string(),
        error: match fs {
            Some(fs) => format!("an {fs} volume, which Lifeboat does not read itself"),
            None => "no file system Lifeboat knows".into(),
        },
        hint: Some(
            "mount it read-only (e.g. mount -o ro DEVICE /mnt/x) and give the folder".into(),
        ),
    }
}
