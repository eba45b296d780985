//! Shortcuts (`.lnk`) read by the agent, checked against Debian's `lnkinfo` (liblnk-utils,
//! libyal's independent reader) on shortcuts written by the fixture writer in several
//! shapes (ANSI and Unicode LinkInfo, StringData, an environment-variable block).

use fixtures::lnk::{lnk_bytes, LnkSpec};

/// `lnkinfo`'s field → value lines.
fn lnkinfo(path: &std::path::Path) -> Vec<(String, String)> {
    let (code, out, err) = fixtures::run(std::process::Command::new("lnkinfo").arg(path));
    assert_eq!(code, 0, "lnkinfo (apt-get install liblnk-utils): {err}");
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn field<'a>(info: &'a [(String, String)], name: &str) -> Option<&'a str> {
    info.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn shortcuts_read_the_same_as_lnkinfo_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut specs = vec![LnkSpec::to(r"C:\Program Files\App\app.exe")];
    let mut s = LnkSpec::to(r"D:\Tools\Ünïcode Dir\tool.exe");
    s.unicode_link_info = true;
    s.relative_path = Some(r"..\..\Tools\Ünïcode Dir\tool.exe".into());
    s.arguments = Some("--flag value".into());
    specs.push(s);
    let mut s = LnkSpec::to(r"C:\Windows\notepad.exe");
    s.env_target = Some(r"%windir%\notepad.exe".into());
    s.working_dir = None;
    specs.push(s);
    for (i, spec) in specs.iter().enumerate() {
        let p = dir.path().join(format!("s{i}.lnk"));
        std::fs::write(&p, lnk_bytes(spec)).unwrap();
        let ours = lifeboat::lnk::read_file(&p).unwrap();
        let theirs = lnkinfo(&p);
        let local = field(&theirs, "Local path").expect("lnkinfo's Local path");
        assert_eq!(ours.link_target.as_deref(), Some(local), "{}", p.display());
        assert_eq!(
            ours.relative_path.as_deref(),
            field(&theirs, "Relative path"),
            "{theirs:?}"
        );
        assert_eq!(
            ours.working_dir.as_deref(),
            field(&theirs, "Working directory")
        );
        assert_eq!(
            ours.arguments.as_deref(),
            field(&theirs, "Command line arguments")
        );
        assert_eq!(
            ours.env_target.as_deref(),
            field(&theirs, "Environment variables location"),
            "{theirs:?}"
        );
    }
}
