//! Editing a copy of the base's boot.wim (never the original): the agent, its config and
//! profiles under `X:\Lifeboat`, the boot hook, driver folders loaded with `drvload` at
//! boot, an overlay, and notes on what the image has. Linux cannot add optional components
//! or service drivers into an image (only DISM on Windows can): a base must come serviced.

use std::path::{Path, PathBuf};

use serde::Serialize;

use lifeboat::config::Config;
use lifeboat::pe;
use lifeboat_wim::{UpdateCommand, Wim, WriteOptions};

use crate::base::Base;
use crate::hook;
use crate::inspect::{self, InspectReport};
use lifeboat::media_layout::{MediaLayout, AGENT_DIR, AGENT_EXE, CONFIG_FILE};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub agent: PathBuf,
    pub config: Option<PathBuf>,
    pub profiles: Vec<PathBuf>,
    pub drivers: Option<PathBuf>,
    pub overlay: Option<PathBuf>,
    pub index: Option<u32>,
    /// Recompress the boot.wim (default: keep the base's compression).
    pub compression: Option<lifeboat_wim::Compression>,
    /// Show a progress bar while the WIM is written.
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub image: u32,
    pub image_name: String,
    pub arch: String,
    pub hook: String,
    pub added: Vec<String>,
    pub config: String,
    pub notes: String,
}

pub struct Built {
    /// The edited boot.wim (inside `work`).
    pub boot_wim: PathBuf,
    pub report: BuildReport,
    pub inspect: InspectReport,
    pub work: tempfile::TempDir,
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let dst = to.join(e.file_name());
        if e.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&e.path(), &dst)?;
        } else {
            std::fs::copy(e.path(), &dst)
                .map_err(|err| format!("{}: {err}", e.path().display()))?;
        }
    }
    Ok(())
}

const LINUX_NOTE: &str = "Optional components and drivers serviced into the image can only be added with DISM on Windows; \
this media loads extra drivers at boot with drvload from X:\\Lifeboat\\drivers instead.";

pub fn build(base: &Base, opts: &BuildOptions) -> Result<Built, String> {
    let report = inspect::inspect(base)?;
    let index = match opts.index {
        Some(i) => {
            let img = report.images.iter().find(|x| x.index == i).ok_or_else(|| format!("--index {i}: the base has {} image(s)", report.images.len()))?;
            if !img.is_winpe {
                return Err(format!("--index {i} (\"{}\") is not a WinPE image (no winpeshl.exe or startnet.cmd)", img.name));
            }
            i
        }
        None => report.winpe_image.ok_or_else(|| format!("{}: no WinPE image in it (none has Windows\\System32\\winpeshl.exe or startnet.cmd)", base.boot_wim.display()))?,
    };
    let image = report
        .images
        .iter()
        .find(|x| x.index == index)
        .cloned()
        .ok_or("image vanished")?;
    let agent_arch = pe::arch_of_file(&opts.agent).map_err(|e| format!("--agent: {e}"))?;
    match image.arch {
        Some(a) if a != agent_arch => {
            return Err(format!(
                "--agent {} is {agent_arch}, but the WinPE image is {a}: build the agent for {a} (64-bit WinPE has no WOW64)",
                opts.agent.display()
            ))
        }
        None => return Err(format!("image {index} has no System32\\ntoskrnl.exe: cannot tell its architecture")),
        _ => {}
    }

    // The config must be one the agent accepts: the same type validates it here.
    let profile_names: Vec<String> = opts
        .profiles
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let exists = |p: &str| {
        lifeboat::rules::builtin::builtin(p).is_some()
            || profile_names.iter().any(|n| n.eq_ignore_ascii_case(p))
    };
    let config = match &opts.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--config {}: {e}", path.display()))?;
            Config::parse(&text, path, &exists).map_err(|e| e.to_string())?
        }
        None => Config::default(),
    };
    for p in &opts.profiles {
        lifeboat::rules::load_profile(&p.to_string_lossy())
            .map_err(|e| format!("--profile: {e}"))?;
    }

    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let boot_wim = work.path().join("boot.wim");
    std::fs::copy(&base.boot_wim, &boot_wim)
        .map_err(|e| format!("copying {}: {e}", base.boot_wim.display()))?;
    let media = MediaLayout::new(work.path().join("stage").join(AGENT_DIR));
    let stage = media.dir().to_path_buf();
    std::fs::create_dir_all(media.profiles()).map_err(|e| e.to_string())?;
    std::fs::copy(&opts.agent, media.agent())
        .map_err(|e| format!("--agent {}: {e}", opts.agent.display()))?;
    std::fs::write(media.config(), config.to_yaml()).map_err(|e| e.to_string())?;
    let mut added = vec![
        format!(r"{AGENT_DIR}\{AGENT_EXE}"),
        format!(r"{AGENT_DIR}\{CONFIG_FILE}"),
    ];
    for name in lifeboat::rules::builtin::builtin_names() {
        if let Some(text) = lifeboat::rules::builtin::builtin(name) {
            std::fs::write(media.profiles().join(format!("{name}.yaml")), text)
                .map_err(|e| e.to_string())?;
        }
    }
    for p in &opts.profiles {
        let name = p.file_name().ok_or("--profile needs a file")?;
        std::fs::copy(p, media.profiles().join(name))
            .map_err(|e| format!("--profile {}: {e}", p.display()))?;
    }
    added.push(format!(
        r"{AGENT_DIR}\profiles\ ({} profiles)",
        std::fs::read_dir(media.profiles())
            .map(|d| d.count())
            .unwrap_or(0)
    ));
    if let Some(d) = &opts.drivers {
        copy_dir(d, &media.drivers())?;
        added.push(format!(
            r"{AGENT_DIR}\drivers\ (loaded with drvload at boot)"
        ));
    }
    std::fs::write(media.menu(), hook::MENU_CMD).map_err(|e| e.to_string())?;
    added.push(format!(r"{AGENT_DIR}\lifeboat-menu.cmd"));
    let notes = format!("{}\n{LINUX_NOTE}\n", inspect::render(&report));
    std::fs::write(media.notes(), &notes).map_err(|e| e.to_string())?;
    added.push(format!(r"{AGENT_DIR}\MEDIA-NOTES.txt"));

    let mut wim = Wim::open(&boot_wim, false).map_err(|e| e.to_string())?;
    let originals = work.path().join("originals");
    std::fs::create_dir_all(&originals).map_err(|e| e.to_string())?;
    let read_file = |wim: &mut Wim, rel: &str| -> Option<String> {
        let name = rel.rsplit('\\').next()?;
        wim.extract_paths(index, &[rel], &originals).ok()?;
        let bytes = std::fs::read(originals.join(name)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut commands = vec![UpdateCommand::Add {
        source: stage.clone(),
        target: AGENT_DIR.into(),
    }];
    let hook_kind = if image.has_winpeshl_ini {
        let ini = read_file(&mut wim, r"Windows\System32\winpeshl.ini").unwrap_or_default();
        let path = work.path().join("winpeshl.ini");
        std::fs::write(&path, hook::hook_winpeshl(&ini)).map_err(|e| e.to_string())?;
        commands.push(UpdateCommand::Add {
            source: path,
            target: r"Windows\System32\winpeshl.ini".into(),
        });
        "winpeshl.ini ([LaunchApps]: wpeinit, then lifeboat auto)"
    } else {
        let start = read_file(&mut wim, r"Windows\System32\startnet.cmd")
            .unwrap_or_else(|| hook::DEFAULT_STARTNET.into());
        let path = work.path().join("startnet.cmd");
        std::fs::write(&path, hook::hook_startnet(&start)).map_err(|e| e.to_string())?;
        commands.push(UpdateCommand::Add {
            source: path,
            target: r"Windows\System32\startnet.cmd".into(),
        });
        "startnet.cmd (after wpeinit)"
    };
    if let Some(o) = &opts.overlay {
        commands.push(UpdateCommand::Add {
            source: o.clone(),
            target: "\\".into(),
        });
        added.push(format!("overlay {}", o.display()));
    }
    wim.update_image(index, &commands)
        .map_err(|e| e.to_string())?;
    wim.set_boot_index(index).map_err(|e| e.to_string())?;
    wim.overwrite(WriteOptions {
        integrity: true,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;

    Ok(Built {
        boot_wim,
        report: BuildReport {
            image: index,
            image_name: image.name.clone(),
            arch: agent_arch.as_str().into(),
            hook: hook_kind.into(),
            added,
            config: config.to_yaml(),
            notes,
        },
        inspect: report,
        work,
    })
}
