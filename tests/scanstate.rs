//! `lifeboat scanstate` (and the binary named `scanstate`): ScanState's command line on a
//! generated offline volume. Stores are checked with wimlib's `wimdir` and `wimverify`.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::{lifeboat_bin, run};

fn volume(dir: &Path) -> PathBuf {
    let mut spec = WindowsSpec::win10("SCAN-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK fake docx".to_vec()),
        (r"Documents\deep\notes.txt".into(), vec![b'n'; 200_000]),
        (r"Pictures\cat.jpg".into(), vec![0xFF; 50_000]),
    ];
    spec.users = vec![ann];
    let v = dir.join("c");
    spec.write_volume(&v);
    v
}

fn scanstate(args: &[&str]) -> (i32, String, String) {
    run(Command::new(lifeboat_bin()).arg("scanstate").args(args))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The files (not folders) of image 1 in `store`, as wimdir lists them.
fn wim_files(store: &Path) -> Vec<String> {
    let (code, out, err) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
    assert_eq!(code, 0, "{out}{err}");
    let all: Vec<String> = out.lines().map(str::to_string).collect();
    all.iter()
        .filter(|p| !all.iter().any(|q| q.starts_with(&format!("{p}/"))))
        .filter(|p| p.contains('.'))
        .cloned()
        .collect()
}

/// A MigXML of our own: two components, so Config.xml can switch one off.
const TWO_COMPONENTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/scanstate-test">
  <component type="Documents" context="User">
    <displayName>Ann documents</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
  <component type="Documents" context="User">
    <displayName>Ann pictures</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%CSIDL_MYPICTURES%\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
</migration>
"#;

fn two_components(dir: &Path) -> PathBuf {
    let p = dir.join("two.xml");
    std::fs::write(&p, TWO_COMPONENTS).unwrap();
    p
}

/// `08 Jun 2006, 13:49:13 +00:00, 00:00:10, key, value[, key, value…]`.
fn progress_pairs(line: &str) -> Vec<(String, String)> {
    let f: Vec<&str> = line.split(", ").collect();
    assert!(f.len() >= 5 && (f.len() - 3) % 2 == 0, "{line}");
    let date: Vec<&str> = f[0].split(' ').collect();
    assert!(
        date.len() == 3
            && date[0].len() == 2
            && date[0].parse::<u8>().is_ok()
            && date[1].len() == 3
            && date[2].parse::<u16>().is_ok(),
        "date field: {line}"
    );
    let hms = |t: &str| {
        t.split(':').count() == 3
            && t.split(':')
                .all(|x| x.len() == 2 && x.parse::<u8>().is_ok())
    };
    assert!(hms(f[1].split(' ').next().unwrap()), "time field: {line}");
    assert!(hms(f[2]), "elapsed field: {line}");
    f[3..]
        .chunks(2)
        .map(|c| (c[0].to_string(), c[1].to_string()))
        .collect()
}

#[test]
fn captures_into_storepath_like_scanstate() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path());
    let windir = vol.join("Windows");
    let store = dir.path().join("store").join("SCAN-PC");
    let (log, prog, list) = (
        dir.path().join("scan.log"),
        dir.path().join("prog.log"),
        dir.path().join("files.txt"),
    );
    let rules = match fixtures::realdata("usmt/ms-shipped/usmt__MigDocs.xml") {
        Some(p) => p,
        None => two_components(dir.path()),
    };
    let args = [
        s(&store).to_string(),
        format!("/offlineWinDir:{}", s(&windir)),
        format!("/i:{}", s(&rules)),
        "/o".into(),
        "/c".into(),
        "/v:13".into(),
        format!("/l:{}", s(&log)),
        format!("/progress:{}", s(&prog)),
        format!("/listfiles:{}", s(&list)),
    ];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = scanstate(&argv);
    assert_eq!(code, 0, "{out}{err}");

    // The store is in StorePath itself and wimlib agrees with it.
    assert!(store.join("manifest.yaml").is_file() && !store.join(".lifeboat.partial").exists());
    let (code, o, e) = run(Command::new("wimverify").arg(store.join("files.wim")));
    assert_eq!(code, 0, "{o}{e}");
    let (code, o, e) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "{o}{e}");

    // /listfiles lists exactly the files wimdir shows.
    let listed: Vec<String> = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .map(|l| format!("/{}", l.replacen(':', "", 1).replace('\\', "/")))
        .collect();
    let mut held = wim_files(&store);
    let mut want = listed.clone();
    held.sort();
    want.sort();
    assert_eq!(want, held);
    assert!(
        listed.iter().any(|l| l.ends_with("Documents/report.docx")),
        "{listed:?}"
    );

    // The progress log parses in ScanState's format and ends at 100 %.
    let text = std::fs::read_to_string(&prog).unwrap();
    let pairs: Vec<(String, String)> = text.lines().flat_map(progress_pairs).collect();
    let value = |k: &str| {
        pairs
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(value("totalSizeInMBToTransfer").len(), 1, "{text}");
    assert_eq!(
        value("totalPercentageCompleted").last().map(String::as_str),
        Some("100"),
        "{text}"
    );
    assert!(value("PHASE").contains(&"Saving".to_string()), "{text}");
    assert!(
        value("detectedUser").iter().any(|u| u.ends_with("ann")),
        "{text}"
    );
    // The /l log holds the capture's own lines.
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("exit code 0"));

    // An existing store without /o: ScanState's 27, the store untouched.
    let before = std::fs::read(store.join("manifest.yaml")).unwrap();
    let no_o: Vec<&str> = argv.iter().copied().filter(|a| *a != "/o").collect();
    let (code, out, err) = scanstate(&no_o);
    assert_eq!(code, 27, "{out}{err}");
    assert!(err.contains("/o"), "{err}");
    assert_eq!(before, std::fs::read(store.join("manifest.yaml")).unwrap());
    // With /o it is replaced; something else in the folder is left alone.
    std::fs::write(store.join("notes-of-the-technician.txt"), "keep").unwrap();
    let (code, out, err) = scanstate(&argv);
    assert_eq!(code, 0, "{out}{err}");
    assert!(store.join("notes-of-the-technician.txt").is_file());
}

#[test]
fn estimate_xml_in_scanstates_shape() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path());
    let rules = two_components(dir.path());
    let est = dir.path().join("est.xml");
    let store = dir.path().join("store");
    let (code, out, err) = scanstate(&[
        s(&store),
        &format!("/offlineWinDir:{}", s(&vol.join("Windows"))),
        &format!("/i:{}", s(&rules)),
        &format!("/p:{}", s(&est)),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!store.exists(), "/p writes no store");
    let xml = std::fs::read_to_string(&est).unwrap();
    let number = |open: &str| -> u64 {
        let start = xml.find(open).unwrap_or_else(|| panic!("{open} in {xml}")) + open.len();
        let body = &xml[start..];
        let gt = body.find('>').unwrap() + 1;
        body[gt..body.find("</size>").unwrap()]
            .trim()
            .parse()
            .unwrap()
    };
    assert!(
        xml.starts_with("<?xml")
            && xml.contains("<PreMigration>")
            && xml.contains("</PreMigration>"),
        "{xml}"
    );
    let store_size = number("<storeSize>\r\n<size clusterSize=\"4096\"");
    let _temporary = number("<temporarySpace>\r\n<size");
    assert!(store_size >= 12 + 200_000 + 50_000, "{xml}");
    assert_eq!(store_size % 4096, 0, "{xml}");
    // An existing estimate file is not overwritten without /o (ScanState's 41).
    let (code, _, _) = scanstate(&[
        s(&store),
        &format!("/offlineWinDir:{}", s(&vol.join("Windows"))),
        &format!("/i:{}", s(&rules)),
        &format!("/p:{}", s(&est)),
    ]);
    assert_eq!(code, 41);
}

#[test]
fn genconfig_then_config_drops_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path());
    let windir = format!("/offlineWinDir:{}", s(&vol.join("Windows")));
    let rules = two_components(dir.path());
    let i = format!("/i:{}", s(&rules));
    let cfg = dir.path().join("Config.xml");
    let (code, out, err) = scanstate(&[&format!("/genconfig:{}", s(&cfg)), &windir, &i]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&cfg).unwrap();
    for c in ["Ann documents", "Ann pictures"] {
        assert!(
            text.contains(&format!("displayname=\"{c}\" migrate=\"yes\"")),
            "{text}"
        );
    }
    // The generated file loads as a Config.xml (rules explain reads it with --config).
    let (code, o, e) = run(Command::new(lifeboat_bin()).args([
        "rules",
        "explain",
        "--windir",
        s(&vol.join("Windows")),
        "--config",
        s(&cfg),
        s(&rules),
    ]));
    assert_eq!(code, 0, "{o}{e}");
    // With StorePath it is refused, naming both.
    let (code, _, err) = scanstate(&["store", &format!("/genconfig:{}", s(&cfg)), &windir]);
    assert_eq!(code, 11);
    assert!(
        err.contains("/genconfig") && err.contains("StorePath"),
        "{err}"
    );

    // migrate="no" on the pictures: they stay out of the store.
    std::fs::write(
        &cfg,
        text.replace(
            "displayname=\"Ann pictures\" migrate=\"yes\"",
            "displayname=\"Ann pictures\" migrate=\"no\"",
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let (code, out, err) = scanstate(&[s(&store), &windir, &i, &format!("/config:{}", s(&cfg))]);
    assert_eq!(code, 0, "{out}{err}");
    let held = wim_files(&store).join("\n");
    assert!(
        held.contains("report.docx") && !held.contains("cat.jpg"),
        "{held}"
    );
    // A Config.xml that cannot be read: ScanState's 39.
    let (code, _, _) = scanstate(&[
        s(&dir.path().join("s2")),
        &windir,
        &i,
        "/config:/nonexistent/Config.xml",
    ]);
    assert_eq!(code, 39);
}

/// A file whose name is not Unicode: every walk reports it as an error (root or not).
fn with_bad_name(vol: &Path) {
    let docs = vol.join("Users/ann/Documents");
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.txt");
    std::fs::write(docs.join(name), "x").unwrap();
}

fn error_control(dir: &Path, severity: &str) -> PathBuf {
    let p = dir.join(format!("{severity}.xml"));
    std::fs::write(
        &p,
        format!(
            "<Configuration><Policies><ErrorControl><fileError>\
             <{severity} errorCode=\"any\">* [*]</{severity}>\
             </fileError></ErrorControl></Policies></Configuration>"
        ),
    )
    .unwrap();
    p
}

#[test]
fn error_control_decides_before_c() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path());
    with_bad_name(&vol);
    let windir = format!("/offlineWinDir:{}", s(&vol.join("Windows")));
    let i = format!("/i:{}", s(&two_components(dir.path())));
    // Beside the volume (`c`), never in it.
    let store = |n: &str| dir.path().join("stores").join(n);
    // Neither: without /c the first error stops (61); with /c it is skipped (3).
    let (code, out, err) = scanstate(&[s(&store("a")), &windir, &i]);
    assert_eq!(code, 61, "{out}{err}");
    let (code, out, err) = scanstate(&[s(&store("b")), &windir, &i, "/c"]);
    assert_eq!(code, 3, "{out}{err}");
    // nonFatal lets the capture go on without /c.
    let nf = format!("/config:{}", s(&error_control(dir.path(), "nonFatal")));
    let (code, out, err) = scanstate(&[s(&store("c")), &windir, &i, &nf]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(wim_files(&store("c"))
        .iter()
        .any(|f| f.ends_with("report.docx")));
    // fatal stops it even with /c.
    let fatal = format!("/config:{}", s(&error_control(dir.path(), "fatal")));
    let (code, out, err) = scanstate(&[s(&store("d")), &windir, &i, &fatal, "/c"]);
    assert_eq!(code, 61, "{out}{err}");
    assert!(!store("d").join("manifest.yaml").exists());
}

#[test]
fn refusals_and_the_scanstate_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // No offline switch: ScanState's "unsupported platform", never a capture.
    let (code, _, err) = scanstate(&[s(&store), "/i:MigDocs.xml", "/o"]);
    assert_eq!(code, 36, "{err}");
    assert!(err.contains("/offlineWinDir"), "{err}");
    assert!(!store.exists());
    // A Windows folder that is not there: 11, as ScanState.
    let (code, _, err) = scanstate(&[s(&store), "/offlineWinDir:/nonexistent/Windows"]);
    assert_eq!(code, 11, "{err}");
    // An incompatible pair names both options.
    let (code, _, err) = scanstate(&[s(&store), "/offlineWinDir:/x", "/all", "/ue:*\\guest"]);
    assert_eq!(code, 11);
    assert!(err.contains("/all") && err.contains("/ue"), "{err}");
    // /key is refused and never echoed.
    let (code, out, err) = scanstate(&[
        s(&store),
        "/offlineWinDir:/x",
        "/encrypt",
        "/key:hunter2secret",
    ]);
    assert_eq!(code, 11);
    assert!(!out.contains("hunter2secret") && !err.contains("hunter2secret"));

    // argv[0] decides: the same binary named ScanState.exe speaks ScanState.
    let named = dir.path().join("ScanState.exe");
    std::fs::copy(lifeboat_bin(), &named).unwrap();
    let (code, out, _) = run(Command::new(&named).arg("/?"));
    assert_eq!(code, 1);
    assert!(out.contains("SCANSTATE StorePath"), "{out}");
    let (code, _, err) = run(Command::new(&named).args([s(&store), "-i", "x.xml"]));
    assert_eq!(code, 36, "{err}");
}

#[test]
fn a_storepath_on_the_source_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let vol = volume(dir.path());
    let before = fixtures::tree_fingerprint(&vol);
    let store = vol.join("x");
    let (code, out, err) = scanstate(&[
        s(&store),
        &format!("/offlineWinDir:{}", s(&vol.join("Windows"))),
        "/o",
        "/c",
    ]);
    assert_eq!(code, 27, "{out}{err}");
    assert!(
        err.contains(s(&store)) && err.contains(s(&vol)) && err.contains("another disk"),
        "names both and what to do: {err}"
    );
    assert!(!store.exists(), "no folder made on the source");
    assert_eq!(before, fixtures::tree_fingerprint(&vol));
}
