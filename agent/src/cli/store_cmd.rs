//! `lifeboat verify` and `lifeboat extract`.

use std::path::PathBuf;

use clap::Args;

use super::exit;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The store folder (holding manifest.yaml).
    pub store: PathBuf,
}

#[derive(Args, Debug)]
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
            eprintln!("error: {e}");
            super::store_exit(&e)
        }
        Ok(r) if r.ok() => {
            println!(
                "ok: {} - {} files, {} bytes read back and checked",
                args.store.display(),
                r.files,
                r.bytes
            );
            exit::OK
        }
        Ok(r) => {
            eprintln!("NOT OK: {}", args.store.display());
            for p in &r.problems {
                eprintln!("  - {p}");
            }
            exit::CORRUPTED_STORE
        }
    }
}

pub fn extract(args: ExtractArgs) -> i32 {
    match crate::store::extract::extract(&args.store, &args.dir, args.user.as_deref()) {
        Ok(dirs) => {
            for d in dirs {
                println!("extracted {}", d.display());
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            super::store_exit(&e)
        }
    }
}
