//! The command line: parsing, dispatch, and the mapping of outcomes to exit codes.
//!
//! Exit codes follow USMT's where the meaning is the same, so scripts written for
//! ScanState keep working: 0 success, 3 completed with skipped errors, 11 invalid command
//! line, 26 no usable (or too many) Windows installations, 27 bad store location,
//! 28 unusable rules file, 42 corrupted store, 61 stopped on an I/O error, 72 fatal.

mod auto_cmd;
mod auto_restore;
mod capture_cmd;
mod detect_cmd;
pub mod exit;
mod image_cmd;
mod image_plain;
mod image_screen;
mod loadstate_cmd;
mod output;
mod restore_cmd;
mod rules_cmd;
mod scanstate_args;
mod scanstate_cmd;
mod store_cmd;
mod usmt_args;
mod volume_args;

use clap::{Parser, Subcommand};

use crate::console::say;

#[derive(Parser, Debug)]
#[command(
    name = "lifeboat",
    version,
    about = "Rescue a user's files and settings from an offline Windows installation",
    after_help = "Reference: docs/commands/<command>.md; the technician's guide: docs/technician-guide.md"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Find every offline Windows installation and report what it is and who used it.
    Detect(detect_cmd::DetectArgs),
    /// Capture users' files and settings from an offline Windows into a verified store.
    Capture(Box<capture_cmd::CaptureArgs>),
    /// The boot-time flow WinPE runs: detect, choose, capture to the first destination found.
    Auto(auto_cmd::AutoArgs),
    /// Evaluate MigXML/profiles against an offline installation (`rules explain`).
    #[command(subcommand, after_help = "Reference: docs/commands/rules-explain.md")]
    Rules(rules_cmd::RulesCommand),
    /// Copy a disk, partition or image into an image file with GNU ddrescue's discipline
    /// (good areas first, bad ones mapped), keeping ddrescue's mapfile to go on later; a
    /// BitLocker volume is written decrypted with the key given.
    Image(Box<image_cmd::ImageArgs>),
    /// Re-read a store completely and say whether it can be trusted.
    Verify(store_cmd::VerifyArgs),
    /// Copy files back out of a store, one folder per user.
    Extract(store_cmd::ExtractArgs),
    /// Put a store back on the new machine: files into each user's known folders, settings
    /// into their registry (LoadState's job). --offline-root: files into an offline Windows.
    Restore(Box<restore_cmd::RestoreArgs>),
    /// LoadState's command line (STORE /mu: /md: /ui: /ue: /lac /lae /c /v: /l:) over restore.
    #[command(
        after_help = "`lifeboat loadstate /?` lists the switches.\nReference: docs/commands/loadstate.md; the switches: docs/usmt.md"
    )]
    Loadstate {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// ScanState's command line (STORE /offlineWinDir: /i: /config: /o /c /l: /progress:
    /// /listfiles: /p /ui /ue /uel …) over capture; the store is written in STORE itself.
    #[command(
        after_help = "`lifeboat scanstate /?` lists the switches.\nReference: docs/commands/scanstate.md; the switches: docs/usmt.md"
    )]
    Scanstate {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// The current user's known folders as Windows reports them (SHGetKnownFolderPath).
    #[command(hide = true)]
    KnownFolders,
    /// Check that this machine can run captures: a small WIM is written, read back and compared.
    #[command(after_help = "Reference: docs/commands/selftest.md")]
    Selftest {
        /// Folder to work in (default: a new temporary folder).
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

/// The name the program was started under (`loadstate.exe` → `loadstate`), lower case.
fn called_as() -> Option<String> {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().to_lowercase()))
}

pub fn main() -> i32 {
    // argv[0] decides: a task sequence only swaps the binary.
    match called_as().as_deref() {
        Some("loadstate") => {
            return loadstate_cmd::run(&std::env::args().skip(1).collect::<Vec<_>>())
        }
        Some("scanstate") => {
            return scanstate_cmd::run(&std::env::args().skip(1).collect::<Vec<_>>())
        }
        _ => {}
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if restore_cmd::password_given(&e) {
                say("error: --create-local takes no value: the password is asked at the console, never taken from the command line (the word given after it was not kept)");
                return exit::INVALID_PARAMETERS;
            }
            return output::command_line(&e);
        }
    };
    match cli.command {
        Command::Detect(args) => detect_cmd::run(args),
        Command::Capture(args) => capture_cmd::run(*args),
        Command::Auto(args) => auto_cmd::run(args),
        Command::Rules(cmd) => rules_cmd::run(cmd),
        Command::Image(args) => image_cmd::run(*args),
        Command::Verify(args) => store_cmd::verify(args),
        Command::Extract(args) => store_cmd::extract(args),
        Command::Restore(args) => restore_cmd::run(*args),
        Command::Loadstate { args } => loadstate_cmd::run(&args),
        Command::Scanstate { args } => scanstate_cmd::run(&args),
        Command::KnownFolders => restore_cmd::known_folders(),
        Command::Selftest { dir } => {
            let dir = dir.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("lifeboat-selftest-{}", std::process::id()))
            });
            match crate::selftest::run(&dir) {
                Ok(report) => output::finish(exit::OK, &format!("{report}\n")),
                Err(e) => {
                    say(&format!("selftest FAILED: {e}"));
                    exit::FATAL
                }
            }
        }
    }
}
