//! What can go wrong reading a store, each naming the store or the file.

use std::path::PathBuf;

use crate::fsread::ReadError;
use crate::shown::{Shown, ShownPath};
use crate::wim::WimError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: no manifest.yaml here; this is not a Lifeboat store (give the folder named <COMPUTER>-<date>)", ShownPath(.dir))]
    NotAStore { dir: PathBuf },
    #[error("{}: not a valid Lifeboat manifest: {}", ShownPath(.path), Shown(.reason))]
    BadManifest { path: PathBuf, reason: String },
    #[error("{}: the manifest names \"{}\", {why}; a store only refers to its own files, so it was changed or damaged", ShownPath(.dir), Shown(.entry))]
    UnsafeEntry {
        dir: PathBuf,
        entry: String,
        why: &'static str,
    },
    #[error("{}: {}", ShownPath(.dir), Shown(.what))]
    Damaged { dir: PathBuf, what: String },
    #[error("{}: image {image} ({}) holds {files} files / {bytes} bytes, the manifest says {want_files} / {want_bytes}: the store was changed or damaged after it was made", ShownPath(.dir), Shown(.user))]
    ImageMismatch {
        dir: PathBuf,
        user: String,
        image: u32,
        files: u64,
        bytes: u64,
        want_files: u64,
        want_bytes: u64,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Wim(#[from] WimError),
    #[error("{}: {source}", ShownPath(.path))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {need} bytes are to be written and {free} are free; make room or choose another folder", ShownPath(.path))]
    NoRoom { path: PathBuf, need: u64, free: u64 },
    #[error("no user \"{}\" with files in this store (it has: {})", Shown(.user), Shown(.known))]
    NoSuchUser { user: String, known: String },
    #[error("{}: this store holds no files", ShownPath(.dir))]
    NoFiles { dir: PathBuf },
}
