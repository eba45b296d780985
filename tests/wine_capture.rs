//! Capture through the real Windows agent under Wine: the offline volume as E:, the store
//! on F:, checked afterwards by the Linux agent's verify and by wimtools.

use std::process::Command;

use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::wine::WinePrefix;
use fixtures::{lifeboat_bin, run, tree_fingerprint};

#[test]
fn windows_agent_captures_e_to_f() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let e = dir.path().join("e");
    let f = dir.path().join("f");
    std::fs::create_dir_all(&e).unwrap();
    std::fs::create_dir_all(&f).unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK report".to_vec()),
        (r"Desktop\ünïcödé.txt".into(), "ünïcödé".as_bytes().to_vec()),
        (r"AppData\Local\Temp\junk.tmp".into(), b"junk".to_vec()),
    ];
    // A long path, past Windows' old 260-character limit.
    let long = (0..12)
        .map(|i| format!("folder-with-a-long-name-{i:02}"))
        .collect::<Vec<_>>()
        .join("\\");
    ann.files
        .push((format!(r"Documents\{long}\deep.txt"), b"deep".to_vec()));
    let mut spec = WindowsSpec::win10("WINE-CAP");
    spec.users = vec![ann];
    spec.write_volume(&e);
    wine.map_drive('e', &e);
    wine.map_drive('f', &f);
    let before = tree_fingerprint(&e);

    let (code, out, err) = wine.run(
        &["capture", r"E:\", "--dest", r"F:\", "--profile", "user"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("STORE COMPLETE AND VERIFIED"), "{out}");
    assert_eq!(
        before,
        tree_fingerprint(&e),
        "the Windows agent wrote to the source"
    );

    let store = std::fs::read_dir(&f)
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .find(|p| p.join("manifest.yaml").exists())
        .expect("store on F:");
    let (code, vout, verr) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(
        code, 0,
        "Linux verify of the Windows-made store: {vout}{verr}"
    );
    let (_, listing, _) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
    assert!(
        listing.contains("/C/Users/ann/Documents/report.docx"),
        "{listing}"
    );
    assert!(listing.contains("ünïcödé.txt"), "{listing}");
    assert!(listing.contains("deep.txt"), "long path lost: {listing}");
    assert!(!listing.contains("junk.tmp"), "{listing}");
    assert!(store.join("registry/ann.reg").is_file());

    // The Windows agent's own verify and extract on the same store.
    let name = store.file_name().unwrap().to_string_lossy().to_string();
    let (code, out, err) = wine.run(&["verify", &format!(r"F:\{name}")], &[], None);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = wine.run(
        &["extract", &format!(r"F:\{name}"), r"F:\restored"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read(f.join("restored/ann/C/Users/ann/Documents/report.docx")).unwrap(),
        b"PK report"
    );
}
