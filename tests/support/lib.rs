//! Test fixtures for Lifeboat: a registry-hive writer, PE stubs, fake offline Windows
//! volumes, and (later) WinPE-shaped bases and the Wine harness. Used by the integration
//! tests in this folder and by the demo (`make-fixture`).

pub mod bench;
pub mod bitlocker;
pub mod demo;
pub mod faultdisk;
pub mod forge;
pub mod lnk;
pub mod migration;
pub mod ntfs;
pub mod pe;
pub mod regf;
pub mod store_v1;
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

/// `../shared/realdata/<rel>`: real hives, USMT files, WIMs and WinPE scripts written by
/// others, which may not be redistributed (docs/testing.md, "Real test data"). `None` when
/// `../shared/realdata` is not beside the checkout: the calling test then skips what needs it,
/// with one line naming the test and the data, or fails when `LIFEBOAT_REQUIRE_REALDATA=1`
/// (CI). When the data is there, a missing `rel` fails the test. Every use reads
///
/// ```ignore
/// let Some(dir) = fixtures::realdata("hives/SYSTEM") else { return };
/// ```
pub fn realdata(rel: &str) -> Option<PathBuf> {
    let root = workspace_root()
        .parent()
        .expect("the checkout has a parent folder")
        .join("shared/realdata");
    let path = root.join(rel);
    if root.is_dir() {
        assert!(
            path.exists(),
            "real test data {} is missing",
            path.display()
        );
        return Some(path);
    }
    let test = current_test();
    let required =
        std::env::var("LIFEBOAT_REQUIRE_REALDATA").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "{test}: real test data {} is not there and LIFEBOAT_REQUIRE_REALDATA is set",
        path.display()
    );
    record_skip(&format!(
        "skipped: {test} needs {} (real data not present, see README)",
        path.display()
    ));
    None
}

/// Test data `scripts/test.sh` downloads from PyPI into `target/testdata` (other projects'
/// test files, read in place, never copied into this repository), found through the
/// environment variable `var` the script sets. `None` when the tests were not started by
/// the script: the test skips with one line, or fails with `LIFEBOAT_REQUIRE_REALDATA=1`.
pub fn downloaded(var: &str, rel: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(var) {
        let path = Path::new(&dir).join(rel);
        assert!(
            path.exists(),
            "downloaded test data {} is missing",
            path.display()
        );
        return Some(path);
    }
    let test = current_test();
    let required =
        std::env::var("LIFEBOAT_REQUIRE_REALDATA").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "{test}: {var} is not set (scripts/test.sh downloads {rel}) and LIFEBOAT_REQUIRE_REALDATA is set"
    );
    record_skip(&format!(
        "skipped: {test} needs {rel} ({var}: run the tests with scripts/test.sh)"
    ));
    None
}

/// `binary::test` for the running test (libtest names each test's thread after it).
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    // Cargo names test binaries `<name>-<hash>`.
    let binary = binary.rsplit_once('-').map_or(binary.as_str(), |(b, _)| b);
    match std::thread::current().name() {
        Some(t) if t != "main" => format!("{binary}::{t}"),
        _ => binary.to_string(),
    }
}

/// One line on stderr, written past libtest's capture so it shows in a passing run, and
/// appended to the file `LIFEBOAT_REALDATA_SKIPS` names (scripts/test.sh counts them).
fn record_skip(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(file) = std::env::var_os("LIFEBOAT_REALDATA_SKIPS") {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = appended {
            panic!(
                "cannot record the skip in {}: {e}",
                Path::new(&file).display()
            );
        }
    }
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

/// The one store a capture wrote into `dest`: the folder with a `manifest.yaml` whose name
/// does not start with a dot (a store still being written is `.<name>.partial`).
pub fn store_in(dest: &Path) -> PathBuf {
    let stores: Vec<PathBuf> = std::fs::read_dir(dest)
        .unwrap_or_else(|e| panic!("{}: {e}", dest.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter(|p| p.join("manifest.yaml").is_file())
        .collect();
    assert_eq!(
        stores.len(),
        1,
        "not one store in {}: {stores:?}",
        dest.display()
    );
    stores[0].clone()
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
