//! Runs the real Windows agent (`lifeboat.exe`) under Wine: a private prefix, the
//! `ProcessPrng` stand-in Wine 8 lacks, and drive letters mapped onto test folders.
//!
//! `LIFEBOAT_EXE` chooses the agent (default: the x64 one). The x86 agent runs in wine64's
//! WoW64 mode: Wine's 32-bit DLLs come from `scripts/wine-wow64.sh` (libwine:i386 unpacked
//! into `target/wine-i386`, i386 never enabled in apt), the shim is built for i686 into
//! `syswow64`, and every program starts from a folder under `C:\` (WoW64 cannot start a
//! program from a Unix path without a `Z:` drive, which the harness removes).

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

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Wine's 32-bit Windows DLLs for WoW64 (`scripts/wine-wow64.sh`).
fn wow64_dlls() -> PathBuf {
    let dir = target_dir().join("wine-i386/usr/lib/i386-linux-gnu/wine");
    assert!(
        dir.join("i386-windows").is_dir(),
        "{} is missing: run scripts/wine-wow64.sh to run the x86 agent",
        dir.display()
    );
    dir
}

/// The folder under `C:\` x86 programs are started from (as the prefix holds it, as Windows
/// names it).
const WOW64_DIR: (&str, &str) = ("drive_c/lifeboat", r"C:\lifeboat");

pub struct WinePrefix {
    dir: tempfile::TempDir,
    /// The agent is x86: run through WoW64.
    wow64: bool,
}

fn wine_env(cmd: &mut Command, prefix: &Path, wow64: bool) {
    cmd.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY");
    if wow64 {
        cmd.env("WINEDLLPATH", wow64_dlls());
    }
}

/// The `ProcessPrng` shim built with `compiler` into `dll`.
fn build_shim(compiler: &str, dll: &Path) {
    let shim = workspace_root().join("tests/support/wine-shim");
    let (code, _, err) = crate::run(
        Command::new(compiler)
            .args(["-shared", "-O2", "-o"])
            .arg(dll)
            .arg(shim.join("bcp.c"))
            .arg(shim.join("bcp.def"))
            .arg("-ladvapi32"),
    );
    assert_eq!(
        code, 0,
        "building the ProcessPrng shim with {compiler} failed: {err}"
    );
}

impl WinePrefix {
    /// A fresh prefix with the shim installed and no drive letters but C:.
    pub fn new() -> WinePrefix {
        let dir = tempfile::tempdir().expect("temp dir");
        let prefix = dir.path().join("prefix");
        let wow64 = lifeboat::pe::arch_of_file(&agent_exe()).ok() == Some(lifeboat::pe::Arch::X86);
        let mut boot = Command::new("wineboot");
        boot.arg("-i");
        wine_env(&mut boot, &prefix, wow64);
        let status = boot
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wineboot (is wine installed?)");
        assert!(status.success(), "wineboot failed");
        let windows = prefix.join("drive_c/windows");
        build_shim(
            "x86_64-w64-mingw32-gcc",
            &windows.join("system32/bcryptprimitives.dll"),
        );
        if wow64 {
            build_shim(
                "i686-w64-mingw32-gcc",
                &windows.join("syswow64/bcryptprimitives.dll"),
            );
        }
        // Wine maps Z: to / by default; a scan of every volume must not wander there.
        let _ = std::fs::remove_file(prefix.join("dosdevices/z:"));
        WinePrefix { dir, wow64 }
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

    /// Wine links the user's Desktop, Documents, Downloads… to the Unix home folder; a test
    /// that writes into them gets real folders instead, as Windows has, so nothing lands
    /// in the home of the account running the tests.
    pub fn own_user_folders(&self) {
        let users = self.prefix().join("drive_c/users");
        for user in std::fs::read_dir(&users).into_iter().flatten().flatten() {
            for f in std::fs::read_dir(user.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if f.file_type().is_ok_and(|t| t.is_symlink()) {
                    let _ = std::fs::remove_file(f.path());
                    let _ = std::fs::create_dir(f.path());
                }
            }
        }
    }

    /// Makes `\\server\share` reach `folder`, as Wine resolves UNC paths through
    /// `dosdevices/unc/<server>/<share>`.
    pub fn map_unc(&self, server: &str, share: &str, folder: &Path) {
        let dir = self.prefix().join("dosdevices/unc").join(server);
        std::fs::create_dir_all(&dir).expect("dosdevices/unc");
        let link = dir.join(share);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(folder, &link).expect("map share");
        self.restart();
    }

    /// Stops the prefix's wineserver so the next run sees drive changes from the start.
    fn restart(&self) {
        let mut cmd = Command::new("wineserver");
        cmd.arg("-k");
        wine_env(&mut cmd, &self.prefix(), self.wow64);
        let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
    }

    /// Adds a registry key in the prefix (e.g. WinPE's MiniNT).
    pub fn reg_add(&self, key: &str) {
        let mut cmd = Command::new("wine");
        cmd.args(["reg", "add", key, "/f"]);
        wine_env(&mut cmd, &self.prefix(), self.wow64);
        let out = cmd.output().expect("wine reg");
        assert!(
            out.status.success(),
            "wine reg add {key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sets a string value in the prefix's registry (e.g. WinPE's `PEBootRamdiskSourceDrive`).
    pub fn reg_set(&self, key: &str, name: &str, value: &str) {
        let mut cmd = Command::new("wine");
        cmd.args([
            "reg", "add", key, "/v", name, "/t", "REG_SZ", "/d", value, "/f",
        ]);
        wine_env(&mut cmd, &self.prefix(), self.wow64);
        let out = cmd.output().expect("wine reg");
        assert!(
            out.status.success(),
            "wine reg add {key} /v {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `wine reg query KEY /v VALUE`: the output, or None when the value is not there.
    pub fn reg_query(&self, key: &str, value: &str) -> Option<String> {
        let mut cmd = Command::new("wine");
        cmd.args(["reg", "query", key, "/v", value]);
        wine_env(&mut cmd, &self.prefix(), self.wow64);
        let out = cmd.output().expect("wine reg");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
    }

    /// The host folder of a Windows path of the prefix's C: drive (`C:\users\x`).
    pub fn c_drive_path(&self, win: &str) -> PathBuf {
        let rest = win
            .get(3..)
            .unwrap_or("")
            .split('\\')
            .filter(|p| !p.is_empty())
            .fold(self.prefix().join("drive_c"), |p, c| {
                // Wine keeps the case a folder was created with; match it.
                std::fs::read_dir(&p)
                    .ok()
                    .and_then(|rd| {
                        rd.flatten().map(|e| e.path()).find(|e| {
                            e.file_name()
                                .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case(c))
                        })
                    })
                    .unwrap_or_else(|| p.join(c))
            });
        rest
    }

    /// `exe` copied into the prefix's `C:\lifeboat`, as Windows names the copy (WoW64 starts
    /// programs only from a drive).
    fn under_c(&self, exe: &Path) -> String {
        let name = exe.file_name().expect("a program file name");
        let dir = self.prefix().join(WOW64_DIR.0);
        std::fs::create_dir_all(&dir).expect("C:\\lifeboat");
        std::fs::copy(exe, dir.join(name)).expect("copy the program into C:");
        format!(r"{}\{}", WOW64_DIR.1, name.to_string_lossy())
    }

    /// Runs the agent with `args`; returns (exit code, stdout, stderr).
    pub fn run(
        &self,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> (i32, String, String) {
        self.run_program(&agent_exe(), args, envs, stdin)
    }

    /// Runs a Windows program (the agent under another name, e.g. `loadstate.exe`).
    pub fn run_program(
        &self,
        exe: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> (i32, String, String) {
        let mut cmd = Command::new("wine");
        if self.wow64 {
            cmd.arg(self.under_c(exe));
        } else {
            cmd.arg(exe);
        }
        cmd.args(args);
        wine_env(&mut cmd, &self.prefix(), self.wow64);
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
