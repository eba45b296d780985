//! lifeboat-media: builds bootable WinPE media carrying the Lifeboat agent
//! (base → inspect → edit → emit). Exit codes: 0 done, 2 bad command line, 1 failure.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use lifeboat_media::{base, build, emit, inspect};

#[derive(Parser, Debug)]
#[command(
    name = "lifeboat-media",
    version,
    about = "Build bootable WinPE media carrying the Lifeboat agent"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Report what a WinPE base holds: images, architecture, optional components, MSXML, boot files.
    Inspect {
        /// A copype folder, a WinPE/Windows ISO, install media, or a boot.wim / winre.wim.
        base: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Build media: the agent, config, profiles and boot hook in a copy of the base's boot.wim.
    #[command(
        after_help = "Linux cannot add optional components or service drivers into the image (only DISM on Windows can):\n\
give a base already serviced on Windows; --drivers folders are loaded with drvload at boot instead."
    )]
    Build(Box<BuildArgs>),
}

#[derive(clap::Args, Debug)]
struct BuildArgs {
    /// A copype folder, a WinPE/Windows ISO, install media, or a boot.wim.
    #[arg(long)]
    base: PathBuf,
    /// lifeboat.exe for the image's architecture (scripts/build-windows-agent.sh).
    #[arg(long)]
    agent: PathBuf,
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
    #[arg(long)]
    json: bool,
}

fn main() {
    let cli = Cli::parse();
    let r = match cli.command {
        Cmd::Inspect { base, json } => {
            base::open(&base)
                .and_then(|b| inspect::inspect(&b))
                .map(|r| {
                    if json {
                        serde_json::to_string_pretty(&r).unwrap_or_default()
                    } else {
                        inspect::render(&r)
                    }
                })
        }
        Cmd::Build(args) => (|| {
            let BuildArgs {
                base,
                agent,
                config,
                profiles,
                drivers,
                overlay,
                index,
                boot_signer,
                noprompt,
                iso,
                disk_image,
                store_size,
                usb_dir,
                json,
            } = *args;
            if iso.is_none() && usb_dir.is_none() && disk_image.is_none() {
                return Err(
                    "choose an output: --iso OUT.iso, --usb-dir DIR or --disk-image OUT.img"
                        .to_string(),
                );
            }
            let b = base::open(&base)?;
            let built = build::build(
                &b,
                &build::BuildOptions {
                    agent,
                    config,
                    profiles,
                    drivers,
                    overlay,
                    index,
                },
            )?;
            let signer = if boot_signer == "2023" {
                emit::Signer::Ca2023
            } else {
                emit::Signer::Ca2011
            };
            let output = if let Some(out) = &iso {
                emit::iso(&b, &built.boot_wim, out, signer, noprompt)?;
                out.clone()
            } else if let Some(out) = &disk_image {
                emit::disk_image(&b, &built.boot_wim, out, signer, store_size)?;
                out.clone()
            } else {
                let out = usb_dir.clone().unwrap_or_default();
                emit::usb_dir(&b, &built.boot_wim, &out, signer)?;
                out
            };
            Ok(if json {
                serde_json::to_string_pretty(
                    &serde_json::json!({"output": output, "build": built.report}),
                )
                .unwrap_or_default()
            } else {
                let r = &built.report;
                format!(
                    "built {}\n  image {} \"{}\" ({}), hook: {}\n  added: {}\n",
                    output.display(),
                    r.image,
                    r.image_name,
                    r.arch,
                    r.hook,
                    r.added.join(", ")
                )
            })
        })(),
    };
    match r {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
