//! `lifeboat detect`.

use std::path::PathBuf;

use clap::Args;

use crate::detect::{self, DetectError, DetectOptions, Source};

use super::exit;

#[derive(Args, Debug, Default)]
pub struct SourceArgs {
    /// The Windows folder to read (= ScanState /offlineWinDir).
    #[arg(long, value_name = "DIR", group = "offline_source")]
    pub windir: Option<PathBuf>,
    /// A Windows.old folder to read (= ScanState /OfflineWinOld).
    #[arg(long, value_name = "DIR", group = "offline_source")]
    pub winold: Option<PathBuf>,
    /// An Offline.xml naming candidate Windows folders and drive mappings (= ScanState /offline).
    #[arg(long = "offline-xml", value_name = "FILE", group = "offline_source")]
    pub offline_xml: Option<PathBuf>,
}

impl SourceArgs {
    pub fn source(&self) -> Source {
        if let Some(d) = &self.windir {
            Source::WinDir(d.clone())
        } else if let Some(d) = &self.winold {
            Source::WinOld(d.clone())
        } else if let Some(f) = &self.offline_xml {
            Source::OfflineXml(f.clone())
        } else {
            Source::Auto
        }
    }

    /// Detection options for these switches and roots, with USMT's environment variables.
    pub fn options(&self, roots: &[PathBuf]) -> DetectOptions {
        DetectOptions {
            roots: roots.to_vec(),
            source: self.source(),
            arch_override: std::env::var("MIG_OFFLINE_PLATFORM_ARCH")
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            cwd: std::env::current_dir().unwrap_or_default(),
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Without ROOT on Windows every lettered volume is scanned except the WinPE RAM drive and the boot media.\n\
On Linux give the folders where Windows volumes are mounted (read-only is enough).\n\
Exit codes: 0 found, 26 no installation (or several with failOnMultipleWinDir), 11 bad options."
)]
pub struct DetectArgs {
    /// Volumes or folders to scan (a mounted NTFS partition, a fixture folder).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the report as JSON (schema documented in README.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DetectArgs) -> i32 {
    let opts = args.source.options(&args.roots);
    if !args.roots.is_empty() && !matches!(opts.source, Source::Auto) {
        eprintln!(
            "error: ROOT folders cannot be combined with --windir, --winold or --offline-xml"
        );
        return exit::INVALID_PARAMETERS;
    }
    match detect::detect(&opts) {
        Ok(d) => {
            if args.json {
                match serde_json::to_string_pretty(&d.report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: cannot write the report: {e}");
                        return exit::FATAL;
                    }
                }
            } else {
                print!("{}", detect::report::render(&d.report));
            }
            if d.report.installations.is_empty() {
                exit::NO_INSTALLATION
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                DetectError::OfflineXml { .. } => exit::INVALID_PARAMETERS,
                DetectError::NoRoots(_) => exit::INVALID_PARAMETERS,
                _ => exit::NO_INSTALLATION,
            }
        }
    }
}
