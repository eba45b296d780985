//! What can go wrong reading a store, each naming the store or the file.

use std::path::PathBuf;

use crate::fsread::ReadError;
use crate::wim::WimError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: no manifest.yaml here; this is not a Lifeboat store (give the folder named <COMPUTER>-<date>)", .dir.display())]
    NotAStore { dir: PathBuf },
    #[error("{}: not a valid Lifeboat manifest: {reason}", .path.display())]
    BadManifest { path: PathBuf, reason: String },
    #[error("{}: the manifest names \"{entry}\", {why}; a store only refers to its own files, so it was changed or damaged", .dir.display())]
    UnsafeEntry {
        dir: PathBuf,
        entry: String,
        why: &'static str,
    },
    #[error("{}: {what}", .dir.display())]
    Damaged { dir: PathBuf, what: String },
    #[error("{}: image {image} ({user}) holds {files} files / {bytes} bytes, the manifest says {want_files} / {want_bytes}: the store was changed or damaged after it was made", .dir.display())]
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
    #[error("{}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {need} bytes are to be written and {free} are free; make room or choose another folder", .path.display())]
    NoRoom { path: PathBuf, need: u64, free: u64 },
    #[error("no user \"{user}\" with files in this store (it has: {known})")]
    NoSuchUser { user: String, known: String },
    #[error("{}: this store holds no files", .dir.display())]
    NoFiles { dir: PathBuf },
}
