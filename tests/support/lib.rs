//! Test fixtures for Lifeboat: a registry-hive writer, PE stubs, fake offline Windows
//! volumes, and (later) WinPE-shaped bases and the Wine harness. Used by the integration
//! tests in this folder and by the demo (`make-fixture`).

pub mod bench;
pub mod demo;
pub mod lnk;
pub mod migration;
pub mod pe;
pub mod regf;
pub mod volume;
pub mod wine;
pub mod winpe;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The workspace root (this crate sits in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `../shared/realdata` beside the checkout; a test that needs it fails when it is missing.
pub fn realdata(rel: &str) -> PathBuf {
    let p = workspace_root().join("../shared/realdata").join(rel);
    assert!(
        p.exists(),
        "real test data {} is missing (CI has ../shared beside the checkout)",
        p.display()
    );
    p
}

/// The Linux `lifeboat` binary, built on first use so any test can run it.
pub fn lifeboat_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = workspace_root();
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "lifeboat", "--bin", "lifeboat"])
            .current_dir(&root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building lifeboat failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target.join("debug").join("lifeboat")
    })
    .clone()
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Path → SHA-256-free fingerprint of every file (size, bytes, mtime) under `dir`, for
/// "the source was not written to" checks.
pub fn tree_fingerprint(dir: &Path) -> Vec<(PathBuf, Vec<u8>, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.push((p.clone(), Vec::new(), None));
                stack.push(p);
            } else if meta.is_file() {
                out.push((p.clone(), std::fs::read(&p).unwrap(), meta.modified().ok()));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Incompressible, reproducible bytes (xorshift): media files, split-worthy data.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
