//! MigXML evaluated against offline fixture volumes: Microsoft's shipped MigApp.xml files
//! (../shared/realdata/usmt/ms-shipped, used in place) detect exactly the applications a
//! volume holds — registry keys in the 64- and 32-bit views, files with PE version
//! resources of chosen versions, per-user files — and `lifeboat rules explain` says why
//! one out of its version range is not detected.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::pe::{pe_with_version, VersionSpec, I386};
use fixtures::volume::{Arch, UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run};

const MIGAPPS: [&str; 5] = [
    "usmt__MigApp.xml",
    "hta__MigApp.xml",
    "Pwsh-USMT__MigApp.xml",
    "USMT-Helper__MigApp.xml",
    "USMT_Backup-__MigApp.xml",
];

/// Microsoft's shipped MigXML files by name; `None` without the real data (the test then
/// skips).
fn shipped_files() -> Option<impl Fn(&str) -> String> {
    let dir = fixtures::realdata("usmt/ms-shipped")?;
    Some(move |name: &str| dir.join(name).display().to_string())
}

/// What the fixture machine has installed.
#[derive(Clone, Copy)]
struct Apps {
    /// Firefox 3.6 registered in the 32-bit view (or the only view on x86).
    firefox: bool,
    /// Opera at this ProductVersion, its folder in the registry.
    opera: Option<&'static str>,
    /// Chrome installed per user, for ann only.
    chrome_for_ann: bool,
    arch: Arch,
}

fn machine(dir: &Path, apps: Apps) -> PathBuf {
    let vol = dir.join("c");
    std::fs::create_dir_all(&vol).unwrap();
    let mut spec = WindowsSpec::win10("APPS-PC");
    spec.arch = apps.arch;
    let wow = if apps.arch == Arch::X86 {
        ""
    } else {
        r"WOW6432Node\"
    };
    let pf32 = if apps.arch == Arch::X86 {
        "Program Files"
    } else {
        "Program Files (x86)"
    };
    let mut ann = UserSpec::local(1001, "ann");
    let mut bob = UserSpec::local(1002, "bob");
    if apps.firefox {
        // Both keys a Firefox installer writes (older MigApp.xml looks at the first, the
        // newer one at both).
        let exe = format!(r"C:\{pf32}\Mozilla Firefox\firefox.exe");
        for key in [
            format!(r"{wow}Mozilla\Mozilla Firefox 3.6.28\bin"),
            format!(r"{wow}Mozilla\Mozilla Firefox\3.6.28 (en-US)\Main"),
        ] {
            spec.software_extra
                .push((key, "PathToExe".into(), exe.clone()));
        }
        for u in [&mut ann, &mut bob] {
            u.files.push((
                r"AppData\Roaming\Mozilla\Firefox\profiles.ini".into(),
                b"[General]\r\n".to_vec(),
            ));
        }
    }
    if let Some(v) = apps.opera {
        spec.software_extra.push((
            format!(r"{wow}Netscape\Netscape Navigator\Opera\main"),
            "Install Directory".into(),
            format!(r"C:\{pf32}\Opera"),
        ));
        let dir = vol.join(pf32).join("Opera");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Opera.exe"),
            pe_with_version(I386, &VersionSpec::new(v)),
        )
        .unwrap();
    }
    if apps.chrome_for_ann {
        ann.files.push((
            r"AppData\Local\Google\Chrome\Application\chrome.exe".into(),
            b"MZ".to_vec(),
        ));
        ann.files.push((
            r"AppData\Local\Google\Chrome\Application\1.0.154.36\chrome.dll".into(),
            b"MZ".to_vec(),
        ));
        ann.files.push((
            r"AppData\Local\Google\Chrome\User Data\Default\Bookmarks".into(),
            b"{}".to_vec(),
        ));
    }
    spec.users = vec![ann, bob];
    spec.write_volume(&vol);
    vol
}

fn explain(vol: &Path, files: &[String]) -> serde_json::Value {
    let mut cmd = Command::new(lifeboat_bin());
    cmd.args(["rules", "explain", "--json", "--root"])
        .arg(vol)
        .args(files);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// (user or "machine", component) for every component with `detected` = `want`.
fn with_state(v: &serde_json::Value, want: serde_json::Value) -> BTreeSet<(String, String)> {
    v["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["detected"] == want)
        .map(|c| {
            (
                c["user"]
                    .as_str()
                    .map(|u| u.rsplit('\\').next().unwrap_or(u))
                    .unwrap_or("machine")
                    .to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn shipped_migapp_detects_exactly_the_applications_present() {
    let Some(shipped) = shipped_files() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vol = machine(
        dir.path(),
        Apps {
            firefox: true,
            opera: Some("9.64"),
            chrome_for_ann: true,
            arch: Arch::Amd64,
        },
    );
    let want = set(&[
        ("ann", "Mozilla Firefox"),
        ("bob", "Mozilla Firefox"),
        ("ann", "Opera"),
        ("bob", "Opera"),
        ("ann", "Google Chrome"),
    ]);
    for f in MIGAPPS {
        let v = explain(&vol, &[shipped(f)]);
        // The newest MigApp.xml detects Chrome by a machine-wide HKLM\…\Google key, which
        // a per-user Chrome does not write.
        let mut want = want.clone();
        if f == "Pwsh-USMT__MigApp.xml" {
            want.remove(&("ann".to_string(), "Google Chrome".to_string()));
        }
        assert_eq!(with_state(&v, true.into()), want, "{f}");
        assert_eq!(
            with_state(&v, serde_json::Value::Null),
            BTreeSet::new(),
            "{f}: every MigApp component can be told on an offline system"
        );
    }
    // The variables come from the offline registry, and the patterns follow them.
    let v = explain(&vol, &[shipped("usmt__MigApp.xml")]);
    let opera = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Opera" && c["user"] == r"APPS-PC\ann")
        .unwrap();
    assert_eq!(
        opera["variables"]["OperaInstallDir"]["value"],
        r"C:\Program Files (x86)\Opera"
    );
    assert!(
        opera["why"]
            .as_str()
            .unwrap()
            .contains(r#"ProductVersion is "9.64""#),
        "{opera}"
    );
    let firefox = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Mozilla Firefox" && c["user"] == r"APPS-PC\bob")
        .unwrap();
    assert!(
        firefox["why"].as_str().unwrap().contains(r"Wow6432Node"),
        "the 32-bit view on 64-bit Windows: {firefox}"
    );
    let includes = firefox["patterns"]["include"].to_string();
    assert!(
        includes.contains(r"C:\\Users\\bob\\AppData\\Roaming\\Mozilla\\Firefox\\* [*]"),
        "{includes}"
    );
    assert!(
        firefox["restore"].to_string().contains("SourcePriority"),
        "{firefox}"
    );
}

#[test]
fn a_machine_without_applications_detects_none_and_versions_out_of_range_say_why() {
    let Some(shipped) = shipped_files() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bare = machine(
        &dir.path().join("bare"),
        Apps {
            firefox: false,
            opera: None,
            chrome_for_ann: false,
            arch: Arch::Amd64,
        },
    );
    for f in MIGAPPS {
        let v = explain(&bare, &[shipped(f)]);
        assert_eq!(with_state(&v, true.into()), BTreeSet::new(), "{f}");
    }
    // Opera 10 is installed, but the shipped MigApp.xml knows Opera 9 only.
    let newer = machine(
        &dir.path().join("newer"),
        Apps {
            firefox: false,
            opera: Some("10.63"),
            chrome_for_ann: false,
            arch: Arch::Amd64,
        },
    );
    let v = explain(&newer, &[shipped("usmt__MigApp.xml")]);
    assert_eq!(with_state(&v, true.into()), BTreeSet::new());
    let opera = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Opera")
        .unwrap();
    assert_eq!(opera["detected"], false);
    let why = opera["why"].as_str().unwrap();
    assert!(
        why.contains(r#"ProductVersion is "10.63""#) && why.contains("9.*"),
        "{why}"
    );
    // The same in words.
    let (code, text, err) = run(Command::new(lifeboat_bin())
        .args(["rules", "explain", "--root"])
        .arg(&newer)
        .arg(shipped("usmt__MigApp.xml")));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("[not detected] Opera"), "{text}");
    assert!(text.contains(r#"ProductVersion is "10.63""#), "{text}");
}

#[test]
fn thirty_two_bit_windows_reads_the_only_view() {
    let Some(shipped) = shipped_files() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let x86 = machine(
        dir.path(),
        Apps {
            firefox: true,
            opera: Some("9.27"),
            chrome_for_ann: false,
            arch: Arch::X86,
        },
    );
    let v = explain(&x86, &[shipped("usmt__MigApp.xml")]);
    assert_eq!(
        with_state(&v, true.into()),
        set(&[
            ("ann", "Mozilla Firefox"),
            ("bob", "Mozilla Firefox"),
            ("ann", "Opera"),
            ("bob", "Opera"),
        ])
    );
    let c = &v["components"][0];
    assert_eq!(
        c["variables"]["HklmWowSoftware"]["value"], r"HKLM\Software",
        "{c}"
    );
}
