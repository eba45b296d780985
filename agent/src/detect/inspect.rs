//! Everything known about one installation, read from its hives and binaries.

use crate::hive::{LoadedHive, Recovery};
use crate::pe::Arch;

use super::locate::Candidate;
use super::model::{
    Application, ArchEvidence, DriveIdentity, DriveLetter, HiveState, HiveStatus, InstallKind,
    Installation, LetterSource, Problem, User, UserKind,
};
use super::{apps, drive_map, naming, profiles, system_info};
use crate::volume::Place;
use crate::winpath::LetterMap;

/// Settings that apply to every installation inspected in one run.
#[derive(Debug, Clone, Default)]
pub struct InspectContext {
    /// `MIG_OFFLINE_PLATFORM_ARCH`.
    pub arch_override: Option<u32>,
    /// Offline.xml `<mappings>`: they override every automatic mapping.
    pub mappings: Vec<(char, Place)>,
    /// Volumes visible now, to place the offline system's other drive letters.
    pub volumes: Vec<drive_map::Visible>,
}

/// An installation with its hives kept open for the stages after detection.
pub struct Inspected {
    pub installation: Installation,
    /// The volume (or folder) the installation was found on.
    pub root: Place,
    pub letters: LetterMap,
    pub problems: Vec<Problem>,
    /// The SOFTWARE hive as read (logs replayed), for the machine's variables and settings.
    pub software: Option<LoadedHive>,
}

fn hive_state(name: &str, hive: &LoadedHive) -> HiveState {
    let (state, detail) = match hive.recovery() {
        Recovery::Clean => (HiveStatus::Clean, None::<String>),
        Recovery::Replayed {
            logs,
            format,
            applied,
        } => (
            HiveStatus::Replayed,
            Some(format!(
                "{applied} change(s) replayed from {} ({format:?} log format)",
                logs.join(", ")
            )),
        ),
        Recovery::NotRecovered { reason } => (
            HiveStatus::NotRecovered,
            Some(format!(
                "dirty hive read as it is on disk, possibly missing recent changes: {reason}"
            )),
        ),
    };
    HiveState {
        name: name.to_string(),
        path: hive.path().to_string(),
        state,
        detail,
    }
}

/// Opens a hive of the installation; a missing or broken one becomes a problem.
fn open_hive(
    path: Option<Place>,
    expected: &str,
    problems: &mut Vec<Problem>,
) -> Option<LoadedHive> {
    let Some(path) = path else {
        problems.push(Problem {
            path: expected.to_string(),
            error: "hive file is missing".into(),
            hint: Some("the installation is incomplete or damaged; what the other hives say is still reported".into()),
        });
        return None;
    };
    match LoadedHive::open_at(&path) {
        Ok(h) => {
            if let Some(lost) = h.lost_words() {
                problems.push(Problem {
                    path: path.to_string(),
                    error: lost,
                    hint: Some("what the hive's other keys say is reported; `lifeboat image` with more --retries may still read the rest".into()),
                });
            }
            Some(h)
        }
        Err(e) => {
            problems.push(Problem {
                path: path.to_string(),
                error: e.to_string(),
                hint: Some("the hive is damaged; if a RegBack or .LOG copy exists beside it, a repair on another machine may recover it".into()),
            });
            None
        }
    }
}

/// The local accounts of a SAM hive; one that gives none is a problem naming the file.
fn read_accounts(sam: &LoadedHive, problems: &mut Vec<Problem>) -> Option<naming::SamInfo> {
    naming::read_sam(sam)
        .map_err(|e| {
            problems.push(Problem {
                path: sam.path().to_string(),
                error: e.to_string(),
                hint: Some("local account names fall back to the profile folders' names".into()),
            })
        })
        .ok()
}

pub fn inspect(c: &Candidate, ctx: &InspectContext) -> Inspected {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let SystemHives {
        software,
        system,
        sam,
    } = SystemHives::open(c, &mut problems);
    let version = software
        .as_ref()
        .map(system_info::read_version)
        .unwrap_or_default();
    let computer_name = system.as_ref().and_then(system_info::computer_name);
    let (arch, arch_evidence) = architecture(c, system.as_ref(), ctx, &mut problems);
    if let Some(conflict) = &arch_evidence.conflict {
        warnings.push(conflict.clone());
    }
    let system_root = version
        .system_root
        .clone()
        .unwrap_or_else(|| r"C:\Windows".to_string());
    let (letters, drive_letters) = letters_of(c, system.as_ref(), &system_root, ctx);

    let mut hives: Vec<HiveState> = [("SOFTWARE", &software), ("SYSTEM", &system), ("SAM", &sam)]
        .into_iter()
        .filter_map(|(name, h)| h.as_ref().map(|h| hive_state(name, h)))
        .collect();
    let sam_info = sam.as_ref().and_then(|h| read_accounts(h, &mut problems));
    let found = match &software {
        Some(sw) => {
            let naming = naming::NamingContext {
                software: Some(sw),
                sam: sam_info.as_ref(),
                computer_name: computer_name.as_deref(),
            };
            read_users(sw, &system_root, &letters, &naming, &mut problems)
        }
        None => FoundUsers::default(),
    };
    hives.extend(found.hives);

    let hibernated = was_hibernated(c, &hives);
    if hibernated {
        warnings.push(
            "hiberfil.sys is present and hives were dirty: this Windows was hibernated or fast-started (Fast Startup), \
             so its newest registry data was in the transaction logs"
                .into(),
        );
    }
    let mut applications = software
        .as_ref()
        .map(|sw| apps::machine_apps(sw, arch.and_then(|a| a.bits()) == Some(64)))
        .unwrap_or_default();
    applications.extend(found.apps);

    let installation = Installation {
        index: 0,
        root: c.root.to_string(),
        windir: c.windir.to_string(),
        kind: c.kind,
        product_name: version.product_name,
        edition: version.edition,
        display_version: version.display_version,
        build: version.build,
        ubr: version.ubr,
        family: version.family,
        arch,
        arch_evidence,
        computer_name,
        install_date: version.install_date,
        system_root_original: version.system_root,
        registered_owner: version.registered_owner,
        hives,
        hibernated,
        drive_letters,
        users: found.users,
        applications,
        warnings,
    };
    Inspected {
        installation,
        root: c.root.clone(),
        letters,
        problems,
        software,
    }
}

/// The installation's own hives: SOFTWARE and SYSTEM, and SAM when it is there (only the
/// names of local accounts come from it).
struct SystemHives {
    software: Option<LoadedHive>,
    system: Option<LoadedHive>,
    sam: Option<LoadedHive>,
}

impl SystemHives {
    fn open(c: &Candidate, problems: &mut Vec<Problem>) -> SystemHives {
        let config = |name: &str| c.windir.resolve_ci(&format!(r"System32\config\{name}"));
        let expected = |name: &str| c.windir.shown_child(&format!(r"System32\config\{name}"));
        SystemHives {
            software: open_hive(config("SOFTWARE"), &expected("SOFTWARE"), problems),
            system: open_hive(config("SYSTEM"), &expected("SYSTEM"), problems),
            sam: config("SAM").and_then(|p| open_hive(Some(p), &expected("SAM"), problems)),
        }
    }
}

/// The architecture from the kernel's PE header, cross-checked with the registry (and
/// `MIG_OFFLINE_PLATFORM_ARCH`); a kernel that cannot be read is a problem.
fn architecture(
    c: &Candidate,
    system: Option<&LoadedHive>,
    ctx: &InspectContext,
    problems: &mut Vec<Problem>,
) -> (Option<Arch>, ArchEvidence) {
    let registry_arch = system.and_then(system_info::registry_arch);
    let (arch, evidence, pe_problem) =
        system_info::architecture(&c.windir, registry_arch, ctx.arch_override);
    if let Some(p) = pe_problem {
        problems.push(Problem {
            path: c.windir.shown_child(r"System32\ntoskrnl.exe"),
            error: p,
            hint: None,
        });
    }
    (arch, evidence)
}

/// The drive letters as the system saw them (its own from `SystemRoot`, e.g. C: from
/// `C:\Windows`; the others from `MountedDevices`), mapped to where they are now.
fn letters_of(
    c: &Candidate,
    system: Option<&LoadedHive>,
    system_root: &str,
    ctx: &InspectContext,
) -> (LetterMap, Vec<DriveLetter>) {
    let system_letter = crate::winpath::split_drive(system_root)
        .map(|(l, _)| l)
        .unwrap_or('C');
    let mounted = system
        .and_then(|s| s.key("MountedDevices"))
        .map(|k| drive_map::parse_mounted_devices(&k.values()))
        .unwrap_or_default();
    letter_map(c, system_letter, &mounted, ctx)
}

/// The users of `ProfileList`, their own hives (opened for their applications) and those
/// applications.
#[derive(Default)]
struct FoundUsers {
    users: Vec<User>,
    hives: Vec<HiveState>,
    apps: Vec<Application>,
}

fn read_users(
    software: &LoadedHive,
    system_root: &str,
    letters: &LetterMap,
    naming: &naming::NamingContext,
    problems: &mut Vec<Problem>,
) -> FoundUsers {
    let mut found = FoundUsers::default();
    for entry in profiles::read_profile_list(software, system_root) {
        let profile_path = letters.find(&entry.path);
        let ntuser = profile_path.as_ref().and_then(|p| p.child("NTUSER.DAT"));
        let named = naming::name_user(naming, &entry);
        let last_used = entry
            .last_used
            .and_then(crate::time::filetime_to_rfc3339)
            .or_else(|| ntuser.as_ref().and_then(file_mtime_rfc3339));
        if let Some(path) = ntuser.as_ref().filter(|_| named.kind.is_real_user()) {
            match LoadedHive::open_at(path) {
                Ok(h) => {
                    found
                        .hives
                        .push(hive_state(&format!("NTUSER.DAT ({})", named.name), &h));
                    found.apps.extend(apps::user_apps(&h));
                }
                Err(e) => problems.push(Problem {
                    path: path.to_string(),
                    error: e.to_string(),
                    hint: Some(
                        "this user's settings cannot be read; their files can still be captured"
                            .into(),
                    ),
                }),
            }
        }
        found.users.push(User {
            sid: entry.sid.clone(),
            name: named.name,
            name_source: named.source,
            name_is_guess: named.guess,
            display_name: named.display_name,
            profile_path_original: entry.path.clone(),
            profile_path: profile_path.map(|p| p.to_string()),
            has_ntuser: ntuser.is_some(),
            last_used,
            kind: named.kind,
        });
    }
    found
}

/// Hives were dirty and `hiberfil.sys` is there: hibernated or fast-started.
fn was_hibernated(c: &Candidate, hives: &[HiveState]) -> bool {
    let any_dirty = hives.iter().any(|h| h.state != HiveStatus::Clean);
    c.kind == InstallKind::Installed
        && any_dirty
        && c.root.child("hiberfil.sys").is_some_and(|p| p.is_file())
}

/// Where each drive letter the offline system used is now. The system drive is the volume
/// (for Windows.old, the folder) the installation was found on; the others come from
/// `MountedDevices` matched against the visible volumes; Offline.xml `<mappings>` win.
fn letter_map(
    c: &Candidate,
    system_letter: char,
    mounted: &[(char, drive_map::MountedDevice)],
    ctx: &InspectContext,
) -> (LetterMap, Vec<DriveLetter>) {
    let mut map = LetterMap::default();
    // letter -> (how it was placed, None when not found; identity)
    let mut how: std::collections::BTreeMap<char, (Option<LetterSource>, DriveIdentity)> =
        Default::default();
    map.insert(system_letter, c.system_base());
    map.insert(system_letter, c.root.clone());
    how.insert(
        system_letter,
        (
            Some(LetterSource::InstallationVolume),
            DriveIdentity::Unknown,
        ),
    );
    for (letter, device) in mounted {
        if *letter == system_letter {
            how.insert(
                *letter,
                (Some(LetterSource::InstallationVolume), device.identity()),
            );
            continue;
        }
        match drive_map::find_volume(device, &ctx.volumes) {
            Some(v) => {
                map.insert(*letter, v.root.clone());
                how.insert(*letter, (device.found_by(), device.identity()));
            }
            None => {
                how.insert(*letter, (None, device.identity()));
            }
        }
    }
    for (letter, place) in &ctx.mappings {
        map.set(*letter, place.clone());
        let identity = how
            .get(letter)
            .map(|h| h.1)
            .unwrap_or(DriveIdentity::Unknown);
        how.insert(*letter, (Some(LetterSource::OfflineXml), identity));
    }
    let report = how
        .into_iter()
        .map(|(l, (how, identity))| DriveLetter {
            letter: format!("{l}:"),
            identity,
            now_at: map
                .get(l)
                .and_then(|p| p.iter().find(|p| p.meta().is_ok()))
                .map(|p| p.to_string()),
            how,
        })
        .collect();
    (map, report)
}

fn file_mtime_rfc3339(p: &Place) -> Option<String> {
    let written = p.meta().ok()?.times?.written;
    crate::time::filetime_to_rfc3339(written)
}

impl UserKind {
    pub fn label(self) -> &'static str {
        match self {
            UserKind::Local => "local",
            UserKind::Domain => "domain",
            UserKind::Microsoft => "microsoft",
            UserKind::Entra => "entra",
            UserKind::System => "system",
            UserKind::Service => "service",
            UserKind::Temporary => "temporary",
            UserKind::Backup => "backup",
            UserKind::Unknown => "unknown",
        }
    }
}
