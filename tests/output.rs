//! Every command of both programs that prints a result, with standard output closed (a
//! pipe whose reader has gone: `| head -c1`) and full (`/dev/full`). Each is first run
//! normally, which must print something, so the test knows the command writes to standard
//! output and what its own exit code is. Then: a closed pipe ends the output quietly with
//! that same code, a full disk gives 72, and neither ever panics (Rust's code 101).

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fixtures::migration::old_machine_store;
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::winpe::{copype, media_bin, WinPeSpec};
use fixtures::{lifeboat_bin, run};

/// The write end of a pipe whose read end is already closed: every write fails with EPIPE.
fn closed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just made by pipe() and are owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

fn dev_full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
        .into()
}

/// Runs `args` with standard output `stdout`; returns the exit code and standard error.
fn run_with(bin: &Path, args: &[String], stdout: Stdio) -> (Option<i32>, String) {
    let out = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Makes a command's arguments for one run, named `normal`, `closed` or `full`.
type Args<'a> = Box<dyn Fn(&str) -> Vec<String> + 'a>;

/// One command: its program and a way to make its arguments afresh for each run (a
/// command that writes somewhere gets a new place every time).
struct Case<'a> {
    bin: PathBuf,
    args: Args<'a>,
}

fn case<'a>(bin: &Path, args: impl Fn(&str) -> Vec<String> + 'a) -> Case<'a> {
    Case {
        bin: bin.to_path_buf(),
        args: Box::new(args),
    }
}

fn fixed(bin: &Path, args: &[&str]) -> Case<'static> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    case(bin, move |_| args.clone())
}

fn no_panic(what: &str, err: &str) {
    for sign in ["panicked", "RUST_BACKTRACE"] {
        assert!(!err.contains(sign), "{what}: {err}");
    }
}

fn check(case: &Case) {
    let name = format!("{} {}", case.bin.display(), (case.args)("normal").join(" "));
    let (code, out, err) = run(Command::new(&case.bin)
        .args((case.args)("normal"))
        .stdin(Stdio::null()));
    assert!(!out.is_empty(), "{name}: prints nothing\n{err}");
    no_panic(&name, &err);

    let (closed, err) = run_with(&case.bin, &(case.args)("closed"), closed_pipe().into());
    no_panic(&name, &err);
    assert_eq!(closed, Some(code), "{name} to a closed pipe: {err}");

    let (full, err) = run_with(&case.bin, &(case.args)("full"), dev_full());
    no_panic(&name, &err);
    assert_eq!(full, Some(72), "{name} to /dev/full: {err}");
    assert!(err.contains("cannot write the output"), "{name}: {err}");
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_agent_survives_a_closed_or_full_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("vol");
    let mut spec = WindowsSpec::win10("PC-OUT");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![(r"Documents\a.txt".into(), b"a".to_vec())];
    spec.users = vec![ann];
    spec.write_volume(&vol);
    let windir = vol.join("Windows");
    let store = old_machine_store(&dir.path().join("old"));
    let target = dir.path().join("new");
    let mut bob = UserSpec::local(1001, "bob");
    bob.files = vec![(r"Desktop\b.txt".into(), b"b".to_vec())];
    let mut new = WindowsSpec::win11("NEWPC");
    new.users = vec![bob];
    new.write_volume(&target);

    let bin = lifeboat_bin();
    let d = dir.path().to_path_buf();
    let (v, w, st, t) = (s(&vol), s(&windir), s(&store), s(&target));
    let restore = |extra: &[&str]| {
        let mut a = strings(&[
            "restore",
            &st,
            "--offline-root",
            &t,
            "--user",
            "OLDPC\\ann=bob",
        ]);
        a.extend(strings(extra));
        a
    };
    let cases = vec![
        fixed(&bin, &["--help"]),
        fixed(&bin, &["--version"]),
        fixed(&bin, &["restore", "--help"]),
        fixed(&bin, &["detect", &v]),
        fixed(&bin, &["detect", "--json", &v]),
        fixed(&bin, &["rules", "explain", "user", "--root", &v]),
        fixed(
            &bin,
            &["rules", "explain", "--json", "documents", "--root", &v],
        ),
        fixed(&bin, &["capture", "--estimate", &v]),
        fixed(&bin, &["capture", "--estimate", "--json", &v]),
        case(&bin, |run| {
            let dest = d.join(format!("dest-{run}"));
            std::fs::create_dir_all(&dest).unwrap();
            strings(&["capture", &v, "--dest", &s(&dest), "--compress", "none"])
        }),
        fixed(&bin, &["verify", &st]),
        case(&bin, |run| {
            strings(&["extract", &st, &s(&d.join(format!("x-{run}")))])
        }),
        case(&bin, move |_| restore(&["--dry-run"])),
        case(&bin, move |_| restore(&["--dry-run", "--json"])),
        case(&bin, move |_| restore(&["--json"])),
        case(&bin, move |_| restore(&[])),
        fixed(&bin, &["scanstate", "/?"]),
        fixed(&bin, &["loadstate", "/?"]),
        fixed(
            &bin,
            &["scanstate", "/genconfig:-", &format!("/offlineWinDir:{w}")],
        ),
        fixed(
            &bin,
            &[
                "scanstate",
                "/genconfig:/dev/stdout",
                &format!("/offlineWinDir:{w}"),
            ],
        ),
        case(&bin, |run| {
            strings(&["selftest", "--dir", &s(&d.join(format!("self-{run}")))])
        }),
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn the_media_builder_survives_a_closed_or_full_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let exe = dir.path().join("lifeboat.exe");
    std::fs::write(&exe, fixtures::pe::pe_stub(fixtures::pe::AMD64)).unwrap();
    let bin = media_bin();
    let d = dir.path().to_path_buf();
    let (b, e) = (s(&base), s(&exe));
    let cases = vec![
        fixed(&bin, &["--help"]),
        fixed(&bin, &["--version"]),
        fixed(&bin, &["build", "--help"]),
        fixed(&bin, &["inspect", &b]),
        fixed(&bin, &["inspect", "--json", &b, "--agent", &e]),
        case(&bin, |run| {
            let usb = s(&d.join(format!("usb-{run}")));
            strings(&["build", "--base", &b, "--agent", &e, "--usb-dir", &usb])
        }),
        case(&bin, |run| {
            let usb = s(&d.join(format!("usb-json-{run}")));
            strings(&[
                "build",
                "--json",
                "--base",
                &b,
                "--agent",
                &e,
                "--usb-dir",
                &usb,
            ])
        }),
    ];
    for c in &cases {
        check(c);
    }
}

/// The report of the issue: `lifeboat rules explain MigApp.xml --root … | head -c1`. The
/// text is larger than a pipe holds, so the agent is still writing when the reader goes.
#[test]
fn rules_explain_of_migapp_into_head_c1() {
    let Some(migapp) = fixtures::realdata("usmt/ms-shipped/usmt__MigApp.xml") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("vol");
    WindowsSpec::win10("PC-HEAD").write_volume(&vol);
    let mut cmd = Command::new(lifeboat_bin());
    cmd.args(["rules", "explain"])
        .arg(&migapp)
        .arg("--root")
        .arg(&vol);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    // Linux pipes hold 64 KiB unless enlarged.
    assert!(out.len() > 64 << 10, "{} bytes fit in a pipe", out.len());

    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut one = [0u8; 1];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut one).unwrap();
    drop(child.stdout.take());
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    no_panic("rules explain MigApp.xml | head -c1", &err);
    assert_eq!(done.status.code(), Some(0), "{err}");
    assert_eq!(out.as_bytes()[0], one[0]);
}
