//! The fixture hive writer, checked by independent readers: Debian's hivex (`hivexml`,
//! `hivexget`) and nt-hive.

use std::process::Command;

use fixtures::regf::{make_dirty, HiveBuilder, LogFormat};
use fixtures::run;

fn sample(minor: u32) -> HiveBuilder {
    let mut h = HiveBuilder::new("ROOT");
    h.minor_version(minor);
    h.key(r"Software\Test")
        .sz("Text", "hello")
        .sz("", "default value")
        .expand_sz("Path", r"%SystemRoot%\x")
        .multi_sz("Multi", &["a", "b"])
        .dword("Count", 42)
        .qword("Big", 1 << 40)
        .binary("Blob", &[1, 2, 3, 4, 5])
        .binary("Large", &vec![7u8; 40_000])
        .sz("Ünïcödé 名前", "値");
    for i in 0..1200 {
        h.key(r"Software\Many")
            .subkey(&format!("Key{i:04}"))
            .dword("n", i);
    }
    h
}

fn hivexget(file: &std::path::Path, key: &str, value: &str) -> String {
    let (code, out, err) = run(Command::new("hivexget").arg(file).arg(key).arg(value));
    assert_eq!(
        code, 0,
        "hivexget {key} {value} failed (is libhivex-bin installed?): {err}"
    );
    out.trim_end_matches('\n').to_string()
}

#[test]
fn hivex_reads_what_the_writer_wrote() {
    let dir = tempfile::tempdir().unwrap();
    for minor in [3, 5] {
        let file = dir.path().join(format!("hive{minor}"));
        std::fs::write(&file, sample(minor).to_bytes()).unwrap();
        let (code, xml, err) = run(Command::new("hivexml").arg(&file));
        assert_eq!(
            code, 0,
            "hivexml rejected the 1.{minor} hive (is libhivex-bin installed?): {err}"
        );
        assert!(
            xml.contains("Key1199"),
            "1.{minor}: deep subkey list incomplete"
        );
        assert_eq!(hivexget(&file, r"\Software\Test", "Text"), "hello");
        assert_eq!(hivexget(&file, r"\Software\Test", "@"), "default value");
        assert_eq!(hivexget(&file, r"\Software\Test", "Count"), "42");
        assert_eq!(hivexget(&file, r"\Software\Test", "Ünïcödé 名前"), "値");
        assert_eq!(hivexget(&file, r"\Software\Many\Key0777", "n"), "777");
        // Every subkey reachable through the index (lh lists under an ri root).
        assert_eq!(xml.matches("<node name=\"Key").count(), 1200, "1.{minor}");
    }
}

#[test]
fn nt_hive_reads_every_type_back() {
    let bytes = sample(5).to_bytes();
    let hive = nt_hive::Hive::new(&bytes[..]).expect("valid hive");
    let root = hive.root_key_node().unwrap();
    let k = root.subpath(r"Software\Test").unwrap().unwrap();
    let v = |n: &str| k.value(n).unwrap().unwrap();
    assert_eq!(v("Text").string_data().unwrap(), "hello");
    assert_eq!(v("Count").dword_data().unwrap(), 42);
    assert_eq!(v("Big").qword_data().unwrap(), 1 << 40);
    assert_eq!(
        v("Large").data().unwrap().into_vec().unwrap(),
        vec![7u8; 40_000]
    );
    let multi: Vec<String> = v("Multi")
        .multi_string_data()
        .unwrap()
        .map(|s| s.unwrap())
        .collect();
    assert_eq!(multi, ["a", "b"]);
    assert!(
        root.subpath(r"software\many\KEY0500").is_some(),
        "lookups are case-insensitive"
    );
}

#[test]
fn dirty_hives_fail_validation_until_replayed() {
    let mut old = HiveBuilder::new("ROOT");
    old.key("A").sz("v", "old");
    let mut new = HiveBuilder::new("ROOT");
    new.key("A").sz("v", "new");
    for i in 0..300 {
        new.key(&format!(r"Grown\K{i}")).binary("pad", &[0u8; 64]);
    }
    let (old, new) = (old.to_bytes(), new.to_bytes());
    for format in [LogFormat::New, LogFormat::Old] {
        let d = make_dirty(&old, &new, format);
        assert!(
            matches!(
                nt_hive::Hive::new(&d.primary[..]),
                Err(nt_hive::NtHiveError::SequenceNumberMismatch { .. })
            ),
            "{format:?}"
        );
        assert_eq!(&d.log1[..4], b"regf");
        // The agent's replay (written separately from the spec) turns it into `new`.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("SOFTWARE");
        std::fs::write(&p, &d.primary).unwrap();
        std::fs::write(
            dir.path().join(if format == LogFormat::New {
                "SOFTWARE.LOG1"
            } else {
                "SOFTWARE.LOG"
            }),
            &d.log1,
        )
        .unwrap();
        let h = lifeboat::hive::LoadedHive::open(&p).unwrap();
        assert_eq!(
            h.key("A").unwrap().string("v").as_deref(),
            Some("new"),
            "{format:?}"
        );
        assert!(h.key(r"Grown\K299").is_some(), "{format:?}: the hive grew");
        assert_eq!(
            &h.bytes()[4096..],
            &new[4096..],
            "{format:?}: replayed bins equal the new hive"
        );
    }
}
