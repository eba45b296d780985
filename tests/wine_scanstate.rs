//! The Windows agent named `scanstate.exe` under Wine, run as a task sequence runs
//! ScanState: `scanstate.exe F:\store /offlineWinDir:E:\Windows /i:… /o /c`, the offline
//! volume as E:, the store on F:. The store is checked with wimlib's tools.

use std::path::PathBuf;
use std::process::Command;

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::wine::{agent_exe, WinePrefix};
use fixtures::{lifeboat_bin, run, tree_fingerprint};

#[test]
fn scanstate_exe_captures_e_into_f() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let (e, f, g) = (
        dir.path().join("e"),
        dir.path().join("f"),
        dir.path().join("g"),
    );
    for d in [&e, &f, &g] {
        std::fs::create_dir_all(d).unwrap();
    }
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK report".to_vec()),
        (
            r"Documents\ünïcödé.txt".into(),
            "ünïcödé".as_bytes().to_vec(),
        ),
    ];
    let mut spec = WindowsSpec::win10("WINE-SCAN");
    spec.users = vec![ann];
    spec.write_volume(&e);
    // Microsoft's MigDocs.xml in place (G: is its folder), or a rule of our own.
    let rules = match fixtures::realdata("usmt/ms-shipped/usmt__MigDocs.xml") {
        Some(p) => {
            wine.map_drive('g', p.parent().unwrap());
            r"G:\usmt__MigDocs.xml".to_string()
        }
        None => {
            std::fs::write(g.join("docs.xml"), DOCS).unwrap();
            wine.map_drive('g', &g);
            r"G:\docs.xml".to_string()
        }
    };
    wine.map_drive('e', &e);
    wine.map_drive('f', &f);
    let before = tree_fingerprint(&e);
    let exe_dir = tempfile::tempdir().unwrap();
    let exe: PathBuf = exe_dir.path().join("scanstate.exe");
    std::fs::copy(agent_exe(), &exe).unwrap();

    let i = format!("/i:{rules}");
    let args = [r"F:\store", r"/offlineWinDir:E:\Windows", &i, "/o", "/c"];
    let (code, out, err) = wine.run_program(&exe, &args, &[], None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        before,
        tree_fingerprint(&e),
        "scanstate.exe wrote to the source"
    );

    let store = f.join("store");
    let (code, o, er) = run(Command::new("wimverify").arg(store.join("files.wim")));
    assert_eq!(code, 0, "{o}{er}");
    let (_, listing, _) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
    assert!(
        listing.contains("/C/Users/ann/Documents/report.docx"),
        "{listing}"
    );
    assert!(listing.contains("ünïcödé.txt"), "{listing}");
    let (code, o, er) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(code, 0, "{o}{er}");

    // Again without /o: ScanState's 27; in WinPE terms, no offline switch: 36.
    let (code, out, err) = wine.run_program(&exe, &args[..3], &[], None);
    assert_eq!(code, 27, "{out}\n{err}");
    let (code, out, err) = wine.run_program(&exe, &[r"F:\other", &i], &[], None);
    assert_eq!(code, 36, "{out}\n{err}");
}

const DOCS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/wine-scanstate">
  <component type="Documents" context="User">
    <displayName>Documents</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
</migration>
"#;
