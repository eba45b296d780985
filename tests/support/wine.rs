//! Runs the real Windows agent (`lifeboat.exe`) under Wine: a private prefix, the
//! `ProcessPrng` stand-in Wine 8 lacks, and drive letters mapped onto test folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::workspace_root;

/// The agent built by `scripts/build-windows-agent.sh` (or `LIFEBOAT_EXE`).
pub fn agent_exe() -> PathBuf {
    let exe = std::env::var_os("LIFEBOAT_EXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            target.join("x86_64-pc-windows-gnu/release/lifeboat.exe")
        });
    assert!(
        exe.is_file(),
        "{} is missing: run scripts/build-windows-agent.sh first",
        exe.display()
    );
    exe
}

pub struct WinePrefix {
    dir: tempfile::TempDir,
}

fn wine_env(cmd: &mut Command, prefix: &Path) {
    cmd.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY");
}

impl WinePrefix {
    /// A fresh prefix with the shim installed and no drive letters but C:.
    pub fn new() -> WinePrefix {
        let dir = tempfile::tempdir().expect("temp dir");
        let prefix = dir.path().join("prefix");
        let mut boot = Command::new("wineboot");
        boot.arg("-i");
        wine_env(&mut boot, &prefix);
        let status = boot
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wineboot (is wine installed?)");
        assert!(status.success(), "wineboot failed");
        let shim = workspace_root().join("tests/support/wine-shim");
        let dll = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
        let (code, _, err) = crate::run(
            Command::new("x86_64-w64-mingw32-gcc")
                .args(["-shared", "-O2", "-o"])
                .arg(&dll)
                .arg(shim.join("bcp.c"))
                .arg(shim.join("bcp.def"))
                .arg("-ladvapi32"),
        );
        assert_eq!(code, 0, "building the ProcessPrng shim failed: {err}");
        // Wine maps Z: to / by default; a scan of every volume must not wander there.
        let _ = std::fs::remove_file(prefix.join("dosdevices/z:"));
        WinePrefix { dir }
    }

    pub fn prefix(&self) -> PathBuf {
        self.dir.path().join("prefix")
    }

    /// Makes `folder` appear as drive `letter`.
    pub fn map_drive(&self, letter: char, folder: &Path) {
        let link = self
            .prefix()
            .join(format!("dosdevices/{}:", letter.to_ascii_lowercase()));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(folder, &link).expect("map drive");
        self.restart();
    }

    /// Stops the prefix's wineserver so the next run sees drive changes from the start.
    fn restart(&self) {
        let mut cmd = Command::new("wineserver");
        cmd.arg("-k");
        wine_env(&mut cmd, &self.prefix());
        let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
    }

    /// Adds a registry key in the prefix (e.g. WinPE's MiniNT).
    pub fn reg_add(&self, key: &str) {
        let mut cmd = Command::new("wine");
        cmd.args(["reg", "add", key, "/f"]);
        wine_env(&mut cmd, &self.prefix());
        let out = cmd.output().expect("wine reg");
        assert!(
            out.status.success(),
            "wine reg add {key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs the agent with `args`; returns (exit code, stdout, stderr).
    pub fn run(
        &self,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> (i32, String, String) {
        let mut cmd = Command::new("wine");
        cmd.arg(agent_exe()).args(args);
        wine_env(&mut cmd, &self.prefix());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run wine");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            let _ = pipe.write_all(input.as_bytes());
        }
        // Read the pipes on another thread so a chatty agent never blocks on a full pipe.
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(out) => out.expect("output"),
            Err(_) => {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                panic!("lifeboat.exe {args:?} did not finish in 300 s");
            }
        };
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
            String::from_utf8_lossy(&out.stderr).replace("\r\n", "\n"),
        )
    }
}

impl Default for WinePrefix {
    fn default() -> Self {
        Self::new()
    }
}
