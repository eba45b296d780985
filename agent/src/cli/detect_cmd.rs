//! `lifeboat detect`.

use std::path::PathBuf;

use clap::Args;

use crate::console::say;
use crate::detect::{self, DetectOptions, Source};

use super::volume_args::{KeyError, RescueArgs, VolumeArgs};
use super::{exit, output};

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
    #[command(flatten)]
    pub volume: VolumeArgs,
    #[command(flatten)]
    pub rescue: RescueArgs,
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

    /// Detection options for these switches and roots, with USMT's environment variables
    /// and the keys given (a password asked now).
    pub fn options(&self, roots: &[PathBuf]) -> Result<DetectOptions, KeyError> {
        let mut opts = DetectOptions::new(roots.to_vec(), self.source());
        opts.scan = self.volume.scan_options()?;
        opts.scan.rescue = self.rescue.rescue();
        Ok(opts)
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Without ROOT on Windows every lettered volume is scanned except the WinPE RAM drive and the boot media.\n\
On Linux give the folders where Windows volumes are mounted (read-only is enough).\n\
Exit codes: 0 found, 26 no installation (or several with failOnMultipleWinDir), 11 bad options,\n\
27 the image or map of --map cannot be used or written.\n\
Reference: docs/commands/detect.md"
)]
pub struct DetectArgs {
    /// Volumes or folders to scan (a mounted NTFS partition, a fixture folder).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the report as JSON (schema in docs/commands/detect.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DetectArgs) -> i32 {
    let opts = match args.source.options(&args.roots) {
        Ok(o) => o,
        Err(e) => {
            say(&format!("error: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    match detect::detect(&opts) {
        Ok(d) => {
            let code = if d.report.installations.is_empty() {
                exit::NO_INSTALLATION
            } else {
                exit::OK
            };
            let text = if args.json {
                output::json(&d.report)
            } else {
                detect::report::render(&d.report)
            };
            output::finish(code, &text)
        }
        Err(e) => {
            say(&format!("error: {e}"));
            exit::detect(&e)
        }
    }
}
