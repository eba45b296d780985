//! Finding offline Windows installations and what they are: volumes → candidate Windows
//! folders → an [`Installation`] each, read from its hives and binaries.

pub mod apps;
pub mod drive_map;
pub mod inspect;
pub mod locate;
pub mod model;
pub mod naming;
pub mod offline_xml;
pub mod profiles;
pub mod report;
pub mod sam;
pub mod scan;
pub mod system_info;

use std::path::{Path, PathBuf};

pub use inspect::{InspectContext, Inspected};
pub use model::*;

use crate::volume::Place;
use drive_map::Visible;
use locate::Candidate;

/// Which installations to look at, mirroring ScanState's offline switches.
#[derive(Debug, Clone, Default)]
pub enum Source {
    /// Every installation on the given roots (or, on Windows, on every volume).
    #[default]
    Auto,
    /// `/offlineWinDir`: one Windows folder.
    WinDir(PathBuf),
    /// `/OfflineWinOld`: a Windows.old folder.
    WinOld(PathBuf),
    /// `/offline`: an Offline.xml file.
    OfflineXml(PathBuf),
}

#[derive(Debug, Clone, Default)]
pub struct DetectOptions {
    pub roots: Vec<PathBuf>,
    pub source: Source,
    /// `MIG_OFFLINE_PLATFORM_ARCH` (32 or 64).
    pub arch_override: Option<u32>,
    /// Folder that relative Offline.xml paths start from.
    pub cwd: PathBuf,
    /// How volumes are read.
    pub scan: scan::ScanOptions,
}

impl DetectOptions {
    /// Options for these roots and switches, with what USMT takes from the environment:
    /// `MIG_OFFLINE_PLATFORM_ARCH` (32 or 64) and the working folder that relative
    /// Offline.xml paths start from. Every command builds its options here.
    pub fn new(roots: Vec<PathBuf>, source: Source) -> DetectOptions {
        DetectOptions {
            roots,
            source,
            arch_override: std::env::var("MIG_OFFLINE_PLATFORM_ARCH")
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            cwd: std::env::current_dir().unwrap_or_default(),
            scan: scan::ScanOptions::default(),
        }
    }
}

/// Reasons detection cannot give an answer at all (the USMT return code it matches).
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{path}: {reason}")]
    OfflineXml { path: PathBuf, reason: String },
    #[error("{what} {path} does not hold a Windows installation (no System32\\config\\SOFTWARE or SYSTEM hive there)")]
    NotWindows { what: &'static str, path: PathBuf },
    /// A partition, disk or image named where a Windows folder was wanted, which could not
    /// be read (locked by BitLocker, damaged): what stood in the way, with what to do.
    #[error("{what} {path}: no Windows installation could be read from it: {why}")]
    NotRead {
        what: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("none of the Windows folders listed in {path} holds a Windows installation: {tried}")]
    NoValidWinDir { path: PathBuf, tried: String },
    #[error(
        "{path} sets failOnMultipleWinDir and several Windows installations were found:\n{list}"
    )]
    MultipleWinDirs { path: PathBuf, list: String },
    #[error("no volume to scan: {0}")]
    NoRoots(String),
    #[error("ROOT folders cannot be combined with --windir, --winold or --offline-xml (= /offlineWinDir, /OfflineWinOld, /offline): they name the installation themselves")]
    RootsWithSource,
    #[error("--map: {0}")]
    Rescue(#[from] crate::volume::rescue::RescueOpenError),
}

/// Everything detect found, with the open installations for later stages.
pub struct Detection {
    pub report: DetectReport,
    pub inspected: Vec<Inspected>,
}

pub fn detect(opts: &DetectOptions) -> Result<Detection, DetectError> {
    if !opts.roots.is_empty() && !matches!(opts.source, Source::Auto) {
        return Err(DetectError::RootsWithSource);
    }
    let mut report = DetectReport {
        schema: SCHEMA_VERSION,
        agent_version: crate::VERSION.to_string(),
        ..Default::default()
    };
    let mut ctx = InspectContext {
        arch_override: opts.arch_override,
        ..Default::default()
    };
    let mut visible = Vec::new();
    let candidates: Vec<Candidate> = match &opts.source {
        Source::WinDir(dir) => {
            let on_disk = |c: &Candidate| c.kind == InstallKind::Installed;
            let found = match std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
                true => locate::candidate_from_path(&Place::host_within(dir)),
                false => from_image(dir, opts, &mut report, &mut visible, on_disk)?,
            };
            vec![found.ok_or_else(|| not_windows("--windir", dir, &report))?]
        }
        Source::WinOld(dir) => {
            let old = |c: &Candidate| c.kind == InstallKind::WindowsOld;
            let found = match std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
                true => locate::candidate_from_winold(&Place::host_within(dir)),
                false => from_image(dir, opts, &mut report, &mut visible, old)?,
            };
            vec![found.ok_or_else(|| not_windows("--winold", dir, &report))?]
        }
        Source::OfflineXml(file) => {
            let xml =
                offline_xml::load(file, &opts.cwd).map_err(|reason| DetectError::OfflineXml {
                    path: file.clone(),
                    reason,
                })?;
            for w in &xml.warnings {
                report.problems.push(Problem {
                    path: file.display().to_string(),
                    error: w.clone(),
                    hint: None,
                });
            }
            ctx.mappings = xml
                .mappings
                .iter()
                .map(|(l, p)| (*l, Place::host(p)))
                .collect();
            from_offline_xml(file, &xml)?
        }
        Source::Auto => {
            let roots = if opts.roots.is_empty() {
                default_roots(&mut report)?
            } else {
                opts.roots.clone()
            };
            let mut scan = scan::Scan::default();
            for root in roots {
                scan.root(&root, &opts.scan);
            }
            if let Some(e) = scan.refused {
                return Err(e.into());
            }
            report.scanned.extend(scan.scanned);
            report.problems.extend(scan.problems);
            visible.extend(scan.visible);
            scan.candidates
        }
    };
    ctx.volumes = visible_volumes(&candidates, visible);
    let mut inspected = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let mut ins = inspect::inspect(c, &ctx);
        ins.installation.index = i + 1;
        report.problems.append(&mut ins.problems);
        report.installations.push(ins.installation.clone());
        inspected.push(ins);
    }
    Ok(Detection { report, inspected })
}

/// No installation at `path`: when its volumes were read by Lifeboat and one could not be
/// (BitLocker-locked, damaged), what stood in the way and what to do (the recovery key's
/// ID, for one), not only "no Windows there".
fn not_windows(what: &'static str, path: &Path, report: &DetectReport) -> DetectError {
    let why: Vec<String> = report
        .problems
        .iter()
        .map(|p| match &p.hint {
            Some(h) => format!("{} ({h})", p.error),
            None => p.error.clone(),
        })
        .collect();
    if why.is_empty() {
        DetectError::NotWindows {
            what,
            path: path.to_path_buf(),
        }
    } else {
        DetectError::NotRead {
            what,
            path: path.to_path_buf(),
            why: why.join("; "),
        }
    }
}

/// `--windir` / `--winold` naming a partition, a disk or an image file rather than a
/// folder (ScanState's `/offlineWinDir` on a volume without a drive letter): the first
/// installation of the wanted kind on it. Its volumes are reported as a scan's are.
fn from_image(
    path: &Path,
    opts: &DetectOptions,
    report: &mut DetectReport,
    visible: &mut Vec<Visible>,
    wanted: impl Fn(&Candidate) -> bool,
) -> Result<Option<Candidate>, DetectError> {
    let mut scan = scan::Scan::default();
    scan.root(path, &opts.scan);
    if let Some(e) = scan.refused {
        return Err(e.into());
    }
    report.scanned.extend(scan.scanned);
    report.problems.extend(scan.problems);
    visible.extend(scan.visible);
    Ok(scan.candidates.into_iter().find(wanted))
}

/// Offline.xml: the first listed folder that holds Windows wins; with
/// failOnMultipleWinDir, more than one valid folder is an error.
fn from_offline_xml(
    file: &Path,
    xml: &offline_xml::OfflineXml,
) -> Result<Vec<Candidate>, DetectError> {
    let valid: Vec<Candidate> = xml
        .windirs
        .iter()
        .filter_map(|p| locate::candidate_from_path(&Place::host_within(p)))
        .collect();
    if valid.is_empty() {
        return Err(DetectError::NoValidWinDir {
            path: file.to_path_buf(),
            tried: xml
                .windirs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if xml.fail_on_multiple && valid.len() > 1 {
        return Err(DetectError::MultipleWinDirs {
            path: file.to_path_buf(),
            list: valid
                .iter()
                .map(|c| format!("  {}", c.windir))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    Ok(valid.into_iter().take(1).collect())
}

/// Without ROOT: every lettered volume on Windows except WinPE's own and the boot media;
/// on Linux the technician names the mounted volumes.
fn default_roots(report: &mut DetectReport) -> Result<Vec<PathBuf>, DetectError> {
    let volumes = crate::platform::list_volumes();
    if volumes.iter().all(|v| v.letter.is_none()) {
        return Err(DetectError::NoRoots(
            "give the mounted Windows volume(s) as ROOT, e.g. `lifeboat detect /mnt/windows` (mount NTFS read-only: ntfs-3g -o ro /dev/sdb3 /mnt/windows)".into(),
        ));
    }
    let skip = crate::platform::volumes_to_skip();
    let mut roots = Vec::new();
    for v in volumes {
        match skip.iter().find(|(root, _)| *root == v.root) {
            Some((root, why)) => report.scanned.push(ScannedRoot {
                label: v.label.clone(),
                filesystem: v.fs_type.clone(),
                ..ScannedRoot::new(root.display().to_string(), RootState::Skipped(*why), 0)
            }),
            None => roots.push(v.root),
        }
    }
    Ok(roots)
}

/// Volumes to place other drive letters on: all the machine shows, the volumes of the
/// installations themselves (a folder given on Linux), and those read from disks.
fn visible_volumes(candidates: &[Candidate], mut read: Vec<Visible>) -> Vec<Visible> {
    let mut mounted = crate::platform::list_volumes();
    for c in candidates {
        let Some(host) = c.root.host_path() else {
            continue;
        };
        if let Some(v) = crate::platform::volume_for_path(&host) {
            if !mounted.contains(&v) {
                mounted.push(v);
            }
        }
    }
    read.extend(mounted.into_iter().map(|v| Visible {
        identity: v.identity,
        root: Place::host(&v.root),
    }));
    read
}
