//! `lifeboat verify` and `lifeboat extract`.

use std::path::PathBuf;

use clap::Args;

use super::{exit, output};
use crate::console::say;

#[derive(Args, Debug)]
#[command(after_help = "Reference: docs/commands/verify.md")]
pub struct VerifyArgs {
    /// The store folder (holding manifest.yaml).
    pub store: PathBuf,
}

#[derive(Args, Debug)]
#[command(after_help = "Reference: docs/commands/extract.md")]
pub struct ExtractArgs {
    pub store: PathBuf,
    /// Folder to extract into (one subfolder per user).
    pub dir: PathBuf,
    /// Only this user (name, DOMAIN\name or SID).
    #[arg(long)]
    pub user: Option<String>,
}

pub fn verify(args: VerifyArgs) -> i32 {
    match crate::store::verify::verify_store(&args.store) {
        Err(e) => {
            say(&format!("error: {e}"));
            exit::store(&e)
        }
        Ok(r) if r.ok() => output::finish(
            exit::OK,
            &format!(
                "ok: {} - {} files, {} bytes read back and checked\n{}",
                args.store.display(),
                r.files,
                r.bytes,
                damaged_lines(&r.damaged)
            ),
        ),
        Ok(r) => {
            say(&format!("NOT OK: {}", args.store.display()));
            for p in &r.problems {
                say(&format!("  - {p}"));
            }
            exit::CORRUPTED_STORE
        }
    }
}

/// The files the capture marked damaged, said again: the store is sound, their bytes lost
/// on the old disk are zeros in it.
fn damaged_lines(damaged: &[crate::store::manifest::Damaged]) -> String {
    if damaged.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "{} file(s) DAMAGED at capture (zeros where the old disk lost bytes):\n",
        damaged.len()
    );
    for d in damaged {
        s.push_str(&format!("  {}: {d}\n", crate::shown::Shown(&d.path)));
    }
    s
}

pub fn extract(args: ExtractArgs) -> i32 {
    match crate::store::extract::extract(&args.store, &args.dir, args.user.as_deref()) {
        Ok(dirs) => {
            let text: String = dirs
                .iter()
                .map(|d| format!("extracted {}\n", d.display()))
                .collect();
            output::finish(exit::OK, &text)
        }
        Err(e) => {
            say(&format!("error: {e}"));
            exit::store(&e)
        }
    }
}
