//! lifeboat-media: builds bootable WinPE media carrying the Lifeboat agent
//! (base → inspect → edit → emit). Exit codes are the table the agent uses too
//! (`lifeboat_common::exit`: USMT's where the meaning is the same); [`exit_code`] maps the
//! errors to them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use lifeboat_common::{exit, output};
use lifeboat_media::error::{MediaError, Result};
use lifeboat_media::{agents, base, build, emit, inspect};

#[derive(Parser, Debug)]
#[command(
    name = "lifeboat-media",
    version,
    about = "Build bootable WinPE media carrying the Lifeboat agent",
    after_help = "Exit codes (USMT's where the meaning matches): 0 done, 11 bad command line \
(an option, or an --agent, --config, --drivers or --overlay that cannot be used), 26 the base \
cannot make media, 27 the output cannot be used, 28 a --profile cannot be used, 71 a tool the \
build needs is missing, 72 failed while writing.\n\
Reference: docs/commands/media-inspect.md, docs/commands/media-build.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Report what a WinPE base holds: images, architecture, optional components, MSXML, boot files.
    #[command(after_help = "Reference: docs/commands/media-inspect.md")]
    Inspect {
        /// A copype folder, a WinPE/Windows ISO, install media, or a boot.wim / winre.wim.
        base: PathBuf,
        /// Agent .exe files or folders of them: names the one a build would use.
        #[arg(long = "agent", value_name = "EXE|DIR")]
        agents: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build media: the agent, config, profiles and boot hook in a copy of the base's boot.wim.
    #[command(
        after_help = "Linux cannot add optional components or service drivers into the image (only DISM on Windows can):\n\
give a base already serviced on Windows; --drivers folders are loaded with drvload at boot instead.\n\
Reference: docs/commands/media-build.md"
    )]
    Build(Box<BuildArgs>),
}

#[derive(clap::Args, Debug)]
struct BuildArgs {
    /// A copype folder, a WinPE/Windows ISO, install media, or a boot.wim.
    #[arg(long)]
    base: PathBuf,
    /// lifeboat.exe builds (scripts/build-windows-agent.sh), or folders of them (target/agents):
    /// the one of the image's architecture goes in. Repeatable.
    #[arg(long = "agent", value_name = "EXE|DIR", required = true)]
    agents: Vec<PathBuf>,
    /// Agent config (YAML, validated); default: a LIFEBOAT USB stick, then the boot stick.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Extra profiles (YAML or MigXML) to carry; repeatable.
    #[arg(long = "profile")]
    profiles: Vec<PathBuf>,
    /// Driver folder (.inf) loaded with drvload at boot.
    #[arg(long)]
    drivers: Option<PathBuf>,
    /// Folder copied over the image's root.
    #[arg(long)]
    overlay: Option<PathBuf>,
    /// The boot.wim image to edit (default: the WinPE one).
    #[arg(long)]
    index: Option<u32>,
    /// Recompress boot.wim: lzx, xpress, lzms, none (default: keep the base's compression).
    #[arg(long, value_name = "TYPE")]
    compress: Option<String>,
    /// UEFI boot manager signer: 2011 (default) or 2023 (machines with the 2023 revocations).
    #[arg(long, default_value = "2011", value_parser = ["2011", "2023"])]
    boot_signer: String,
    /// Boot without "Press any key to boot from CD or DVD" (efisys_noprompt).
    #[arg(long)]
    noprompt: bool,
    /// Write a bootable ISO (BIOS and UEFI).
    #[arg(long, group = "out")]
    iso: Option<PathBuf>,
    /// Write a raw image for a USB stick (dd it onto the stick): FAT32 boot partition,
    /// BIOS and UEFI bootable.
    #[arg(long = "disk-image", group = "out")]
    disk_image: Option<PathBuf>,
    /// With --disk-image: add an NTFS partition labelled LIFEBOAT of SIZE MiB for captures.
    #[arg(long = "store-size", value_name = "MIB", requires = "disk_image")]
    store_size: Option<u64>,
    /// Write the media tree to copy onto a FAT32 stick.
    #[arg(long = "usb-dir", group = "out")]
    usb_dir: Option<PathBuf>,
    /// Print the build report as JSON.
    #[arg(long)]
    json: bool,
}

fn run_inspect(base: &std::path::Path, given: &[PathBuf], json: bool) -> Result<String> {
    let mut r = inspect::inspect(&base::open(base)?)?;
    if !given.is_empty() {
        r.choose_agent(&agents::load(given)?);
    }
    Ok(if json {
        output::json(&r)
    } else {
        inspect::render(&r)
    })
}

fn run_build(a: BuildArgs) -> Result<String> {
    if a.iso.is_none() && a.usb_dir.is_none() && a.disk_image.is_none() {
        return Err(MediaError::Usage(
            "choose an output: --iso OUT.iso, --usb-dir DIR or --disk-image OUT.img".into(),
        ));
    }
    let compression = a
        .compress
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| MediaError::Usage(format!("--compress: {e}")))?;
    let b = base::open(&a.base)?;
    let opts = build::BuildOptions {
        compression,
        progress: !a.json,
        agents: a.agents,
        config: a.config,
        profiles: a.profiles,
        drivers: a.drivers,
        overlay: a.overlay,
        index: a.index,
    };
    let built = build::build(&b, &opts)?;
    let media = emit::Media {
        base: &b,
        boot_wim: &built.boot_wim,
        signer: match a.boot_signer.as_str() {
            "2023" => emit::Signer::Ca2023,
            _ => emit::Signer::Ca2011,
        },
        arch: built.report.arch,
    };
    let written = if let Some(out) = a.iso {
        emit::iso(&media, &out, a.noprompt)?;
        out
    } else if let Some(out) = a.disk_image {
        emit::disk_image(&media, &out, a.store_size)?;
        out
    } else {
        let out = a.usb_dir.unwrap_or_default();
        emit::usb_dir(&media, &out)?;
        out
    };
    let r = &built.report;
    if a.json {
        let v = serde_json::json!({"output": written, "build": r});
        return Ok(output::json(&v));
    }
    Ok(format!(
        "built {}\n  image {} \"{}\" ({}), hook: {}\n  added: {}\n",
        written.display(),
        r.image,
        r.image_name,
        r.arch,
        r.hook,
        r.added.join(", ")
    ))
}

/// The one place errors become exit codes (the table both programs share).
fn exit_code(e: &MediaError) -> i32 {
    match e {
        MediaError::Usage(_)
        | MediaError::Agent { .. }
        | MediaError::Input { .. }
        | MediaError::Config(_) => exit::INVALID_PARAMETERS,
        MediaError::Base { .. } | MediaError::BaseWim { .. } | MediaError::NameClash { .. } => {
            exit::NO_INSTALLATION
        }
        MediaError::Output { .. } => exit::BAD_STORE,
        MediaError::Profile { .. } => exit::BAD_RULES,
        MediaError::ToolMissing { .. } => exit::WIN32_ERROR,
        MediaError::Io { .. } | MediaError::Wim { .. } | MediaError::ToolFailed { .. } => {
            exit::FATAL
        }
    }
}

/// Runs the command line; every result and message goes through the one output path.
fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return output::command_line(&e),
    };
    let r = match cli.command {
        Cmd::Inspect { base, agents, json } => run_inspect(&base, &agents, json),
        Cmd::Build(args) => run_build(*args),
    };
    match r {
        Ok(text) => output::finish(exit::OK, &text),
        Err(e) => {
            output::say(&format!("error: {e}"));
            exit_code(&e)
        }
    }
}

fn main() {
    std::process::exit(run());
}
