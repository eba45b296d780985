//! Editing a copy of the base's boot.wim (never the original): the agent that fits the
//! image, its config and profiles under `X:\Lifeboat`, the boot hook, driver folders loaded
//! with `drvload` at boot, an overlay, and notes on what the image has. Linux cannot add
//! optional components or service drivers into an image (only DISM on Windows can): a base
//! must come serviced.

use std::path::{Path, PathBuf};

use serde::Serialize;

use lifeboat_common::config::{Config, ConfigError};
use lifeboat_common::media_layout::{MediaLayout, AGENT_DIR, AGENT_EXE, CONFIG_FILE};
use lifeboat_common::pe::Arch;
use lifeboat_wim::{UpdateCommand, Wim, WriteOptions};

use crate::agents::{self, Agent};
use crate::base::Base;
use crate::error::{MediaError, Result};
use crate::hook;
use crate::inspect::{self, ImageReport, InspectReport};
use crate::tree::copy_error;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Agent .exe files or folders of them; the one of the image's architecture is used.
    pub agents: Vec<PathBuf>,
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
    pub arch: Arch,
    pub agent: PathBuf,
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

const LINUX_NOTE: &str = "Optional components and drivers serviced into the image can only be added with DISM on Windows; \
this media loads extra drivers at boot with drvload from X:\\Lifeboat\\drivers instead.";

fn input(option: &'static str, path: &Path, problem: impl ToString) -> MediaError {
    MediaError::Input {
        option,
        path: path.into(),
        problem: problem.to_string(),
    }
}

fn profile(path: &Path, problem: impl ToString) -> MediaError {
    MediaError::Profile {
        path: path.into(),
        problem: problem.to_string(),
    }
}

fn copy_dir(option: &'static str, from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(MediaError::io("create the folder", to))?;
    let entries = std::fs::read_dir(from).map_err(|e| input(option, from, e))?;
    for e in entries {
        let e = e.map_err(|e| input(option, from, e))?;
        let dst = to.join(e.file_name());
        if e.file_type()
            .map_err(|err| input(option, &e.path(), err))?
            .is_dir()
        {
            copy_dir(option, &e.path(), &dst)?;
        } else {
            std::fs::copy(e.path(), &dst).map_err(|err| copy_error(&e.path(), &dst, err))?;
        }
    }
    Ok(())
}

/// The image to edit: `--index`, else the boot image when it is WinPE, else the first WinPE.
fn choose_image(base: &Base, report: &InspectReport, index: Option<u32>) -> Result<ImageReport> {
    let index = match index {
        Some(i) => i,
        None => report.winpe_image.ok_or_else(|| MediaError::Base {
            path: base.boot_wim.clone(),
            problem:
                "no WinPE image in it (none has Windows\\System32\\winpeshl.exe or startnet.cmd)"
                    .into(),
        })?,
    };
    let image = report
        .images
        .iter()
        .find(|x| x.index == index)
        .ok_or_else(|| {
            MediaError::Usage(format!(
                "--index {index}: the base has {} image(s)",
                report.images.len()
            ))
        })?;
    if !image.is_winpe {
        return Err(MediaError::Usage(format!(
            "--index {index} (\"{}\") is not a WinPE image (no winpeshl.exe or startnet.cmd)",
            image.name
        )));
    }
    Ok(image.clone())
}

/// The config (validated by the agent's own type) and the extra profiles.
fn load_config(opts: &BuildOptions) -> Result<Config> {
    for p in &opts.profiles {
        lifeboat::rules::load_profile(&p.to_string_lossy()).map_err(|e| profile(p, e))?;
    }
    let names: Vec<String> = opts
        .profiles
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let exists = |p: &str| {
        lifeboat::rules::builtin::builtin(p).is_some()
            || names.iter().any(|n| n.eq_ignore_ascii_case(p))
    };
    let Some(path) = &opts.config else {
        return Ok(Config::default());
    };
    let text =
        lifeboat_common::fsread::read_text_bounded(path, lifeboat_common::limits::YAML_MAX_BYTES)
            .map_err(ConfigError::from)?;
    Ok(Config::parse(&text, path, &exists)?)
}

/// `X:\Lifeboat` staged in `stage`: agent, config, profiles, drivers, menu, notes.
fn stage_layout(
    stage: &Path,
    agent: &Agent,
    config: &Config,
    opts: &BuildOptions,
    notes: &str,
) -> Result<Vec<String>> {
    let media = MediaLayout::new(stage);
    let write =
        |p: PathBuf, text: &str| std::fs::write(&p, text).map_err(MediaError::io("write", p));
    std::fs::create_dir_all(media.profiles())
        .map_err(MediaError::io("create the folder", media.profiles()))?;
    std::fs::copy(&agent.path, media.agent())
        .map_err(|e| copy_error(&agent.path, &media.agent(), e))?;
    write(media.config(), &config.to_yaml())?;
    let mut added = vec![
        format!(r"{AGENT_DIR}\{AGENT_EXE} ({})", agent.path.display()),
        format!(r"{AGENT_DIR}\{CONFIG_FILE}"),
    ];
    let builtin = lifeboat::rules::builtin::builtin_names();
    for name in &builtin {
        if let Some(text) = lifeboat::rules::builtin::builtin(name) {
            write(media.profiles().join(format!("{name}.yaml")), text)?;
        }
    }
    for p in &opts.profiles {
        let name = p.file_name().ok_or_else(|| profile(p, "not a file"))?;
        let dst = media.profiles().join(name);
        std::fs::copy(p, &dst).map_err(|e| copy_error(p, &dst, e))?;
    }
    added.push(format!(
        r"{AGENT_DIR}\profiles\ ({} profiles)",
        builtin.len() + opts.profiles.len()
    ));
    if let Some(d) = &opts.drivers {
        copy_dir("--drivers", d, &media.drivers())?;
        added.push(format!(
            r"{AGENT_DIR}\drivers\ (loaded with drvload at boot)"
        ));
    }
    write(media.menu(), hook::MENU_CMD)?;
    added.push(format!(r"{AGENT_DIR}\lifeboat-menu.cmd"));
    write(media.notes(), notes)?;
    added.push(format!(r"{AGENT_DIR}\MEDIA-NOTES.txt"));
    Ok(added)
}

/// The hook file (startnet.cmd, or winpeshl.ini when the image has one) and its name.
fn hook_file(
    wim: &mut Wim,
    image: &ImageReport,
    work: &Path,
) -> Result<(UpdateCommand, &'static str)> {
    let originals = work.join("originals");
    std::fs::create_dir_all(&originals).map_err(MediaError::io("create the folder", &originals))?;
    // A file the image lacks reads as None; the hook then starts from the default.
    let mut read = |rel: &str| -> Option<String> {
        let name = rel.rsplit('\\').next()?;
        wim.extract_paths(image.index, &[rel], &originals).ok()?;
        let bytes = std::fs::read(originals.join(name)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let (target, text, kind) = if image.has_winpeshl_ini {
        let target = r"Windows\System32\winpeshl.ini";
        let ini = read(target).unwrap_or_default();
        (
            target,
            hook::hook_winpeshl(&ini),
            "winpeshl.ini ([LaunchApps]: wpeinit, then lifeboat auto)",
        )
    } else {
        let target = r"Windows\System32\startnet.cmd";
        let start = read(target).unwrap_or_else(|| hook::DEFAULT_STARTNET.into());
        (
            target,
            hook::hook_startnet(&start),
            "startnet.cmd (after wpeinit)",
        )
    };
    let path = work.join(target.rsplit('\\').next().unwrap_or("hook"));
    std::fs::write(&path, text).map_err(MediaError::io("write", &path))?;
    Ok((
        UpdateCommand::Add {
            source: path,
            target: target.into(),
        },
        kind,
    ))
}

/// A progress bar on standard error while the WIM is written.
fn write_wim(wim: &mut Wim, path: &Path, opts: &BuildOptions) -> Result<()> {
    if let Some(c) = opts.compression {
        wim.set_output_compression(c)
            .map_err(MediaError::wim("setting the compression of", path))?;
    }
    let bar = indicatif::ProgressBar::new(0);
    if opts.progress {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "writing boot.wim {bar:40} {bytes}/{total_bytes}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut on_progress = |p: lifeboat_wim::Progress| {
        bar.set_length(p.bytes_total);
        bar.set_position(p.bytes_done);
    };
    let r = wim.overwrite(WriteOptions {
        integrity: true,
        progress: Some(&mut on_progress),
        ..Default::default()
    });
    bar.finish_and_clear();
    r.map_err(MediaError::wim("writing", path))
}

pub fn build(base: &Base, opts: &BuildOptions) -> Result<Built> {
    let mut report = inspect::inspect(base)?;
    let image = choose_image(base, &report, opts.index)?;
    let given = agents::load(&opts.agents)?;
    let needs = report
        .needs(image.index)
        .ok_or_else(|| MediaError::Usage(format!("image {} vanished", image.index)))?;
    let agent = agents::pick(&given, &needs)?.clone();
    report.choose_agent(std::slice::from_ref(&agent));
    let config = load_config(opts)?;

    let work = tempfile::tempdir().map_err(MediaError::io(
        "create a temporary folder in",
        std::env::temp_dir(),
    ))?;
    let boot_wim = work.path().join("boot.wim");
    std::fs::copy(&base.boot_wim, &boot_wim)
        .map_err(|e| copy_error(&base.boot_wim, &boot_wim, e))?;
    let notes = format!("{}\n{LINUX_NOTE}\n", inspect::render(&report));
    let stage = work.path().join("stage").join(AGENT_DIR);
    let mut added = stage_layout(&stage, &agent, &config, opts, &notes)?;

    let mut wim = Wim::open(&boot_wim, false).map_err(MediaError::wim("opening", &boot_wim))?;
    let (hook_cmd, hook_kind) = hook_file(&mut wim, &image, work.path())?;
    let mut commands = vec![
        UpdateCommand::Add {
            source: stage,
            target: AGENT_DIR.into(),
        },
        hook_cmd,
    ];
    if let Some(o) = &opts.overlay {
        if !o.is_dir() {
            return Err(input("--overlay", o, "not a folder"));
        }
        commands.push(UpdateCommand::Add {
            source: o.clone(),
            target: "\\".into(),
        });
        added.push(format!("overlay {}", o.display()));
    }
    wim.update_image(image.index, &commands)
        .map_err(MediaError::wim("adding the agent to", &boot_wim))?;
    wim.set_boot_index(image.index)
        .map_err(MediaError::wim("setting the boot index of", &boot_wim))?;
    write_wim(&mut wim, &boot_wim, opts)?;

    Ok(Built {
        boot_wim,
        report: BuildReport {
            image: image.index,
            image_name: image.name.clone(),
            arch: agent.arch,
            agent: agent.path.clone(),
            hook: hook_kind.into(),
            added,
            config: config.to_yaml(),
            notes,
        },
        inspect: report,
        work,
    })
}
