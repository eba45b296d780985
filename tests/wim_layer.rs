//! The WIM layer (over wimlib-sys) on Linux and in `lifeboat.exe` under Wine, checked with
//! Debian's wimtools as an independent reader; and the real, partly hostile WIMs from
//! `../shared/realdata/wim`.

use std::process::Command;
use std::time::Duration;

use fixtures::wine::WinePrefix;
use fixtures::{lifeboat_bin, noise, realdata, run};
use lifeboat::wim::{Compression, Wim, WriteOptions};

fn wiminfo(path: &std::path::Path) -> String {
    let (code, out, err) = run(Command::new("wiminfo").arg(path));
    assert_eq!(code, 0, "wiminfo failed (is wimtools installed?): {err}");
    out
}

fn wimdir(path: &std::path::Path) -> Vec<String> {
    let (code, out, err) = run(Command::new("wimdir").arg(path).arg("1"));
    assert_eq!(code, 0, "wimdir failed: {err}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn selftest_round_trip_on_linux_read_back_by_wimtools() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("selftest")
        .arg("--dir")
        .arg(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    let wim = dir.path().join("selftest.wim");
    let info = wiminfo(&wim);
    assert!(
        info.contains("Integrity info") && info.contains("LZX"),
        "{info}"
    );
    let files = wimdir(&wim);
    assert!(
        files.contains(&"/sub/deeper/b.dat".to_string()),
        "{files:?}"
    );
    let (code, _, err) = run(Command::new("wimverify").arg(&wim));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn selftest_round_trip_in_the_windows_agent() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    wine.map_drive('f', dir.path());
    let (code, out, err) = wine.run(&["selftest", "--dir", r"F:\selftest"], &[], None);
    assert_eq!(code, 0, "{out}{err}");
    let wim = dir.path().join("selftest/selftest.wim");
    assert!(wiminfo(&wim).contains("Integrity info"));
    assert!(
        wimdir(&wim).iter().any(|l| l.contains("ファイル")),
        "unicode names survive"
    );
}

#[test]
fn capture_filter_split_update_and_boot_index() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("keep/inner")).unwrap();
    std::fs::create_dir_all(src.join("drop")).unwrap();
    std::fs::write(src.join("keep/inner/a.txt"), b"aaa").unwrap();
    std::fs::write(src.join("keep/big.bin"), noise(3 << 20, 1)).unwrap();
    std::fs::write(src.join("drop/b.txt"), b"bbb").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("keep/link")).unwrap();

    let mut wim = Wim::create_new(Compression::Xpress).unwrap();
    let mut keep = |p: &std::path::Path| !p.to_string_lossy().contains("drop");
    wim.add_image_filtered(
        &[(src.clone(), r"C\Users\ann".into())],
        "ann",
        Some(&mut keep),
    )
    .unwrap();
    let path = dir.path().join("x.wim");
    let mut seen = 0u64;
    let mut progress = |p: lifeboat::wim::Progress| seen = seen.max(p.bytes_done);
    wim.write(
        &path,
        WriteOptions {
            integrity: true,
            threads: 2,
            progress: Some(&mut progress),
        },
    )
    .unwrap();
    assert!(seen >= 3 << 20, "progress reported {seen} bytes");
    drop(wim);

    let listing = wimdir(&path);
    assert!(
        listing.contains(&"/C/Users/ann/keep/inner/a.txt".to_string()),
        "{listing:?}"
    );
    assert!(!listing.iter().any(|l| l.contains("drop")), "{listing:?}");
    // The link is stored as a link, not followed.
    let mut w = Wim::open(&path, true).unwrap();
    let entries = w.iterate(1, "").unwrap();
    let link = entries
        .iter()
        .find(|e| e.path.ends_with("keep\\link"))
        .unwrap();
    assert!(link.reparse_tag != 0, "{link:?}");

    // Split into parts and join them again.
    let swm = dir.path().join("parts/files.swm");
    std::fs::create_dir_all(swm.parent().unwrap()).unwrap();
    w.write_split(&swm, 1 << 20, WriteOptions::default())
        .unwrap();
    let parts = std::fs::read_dir(swm.parent().unwrap()).unwrap().count();
    assert!(parts >= 2, "{parts} parts");
    let mut joined = Wim::open_split(&swm, false).unwrap();
    let out = dir.path().join("out");
    joined.extract_image(1, &out, None).unwrap();
    assert_eq!(
        std::fs::read(out.join("C/Users/ann/keep/big.bin")).unwrap(),
        noise(3 << 20, 1)
    );

    // Update in place, set the boot index: wiminfo/wimdir see it.
    let extra = dir.path().join("extra.txt");
    std::fs::write(&extra, b"new").unwrap();
    let mut w = Wim::open(&path, false).unwrap();
    w.update_image(
        1,
        &[
            lifeboat::wim::UpdateCommand::Add {
                source: extra,
                target: r"C\extra.txt".into(),
            },
            lifeboat::wim::UpdateCommand::Delete {
                path: r"C\Users\ann\keep\inner".into(),
            },
        ],
    )
    .unwrap();
    w.set_boot_index(1).unwrap();
    w.overwrite(WriteOptions {
        integrity: true,
        ..Default::default()
    })
    .unwrap();
    drop(w);
    let listing = wimdir(&path);
    assert!(
        listing.contains(&"/C/extra.txt".to_string())
            && !listing.iter().any(|l| l.contains("inner")),
        "{listing:?}"
    );
    assert!(wiminfo(&path).contains("Boot Index:     1"));
}

/// The read-back: an uncompressed WIM is read in one pass of its own, any other by wimlib.
/// Both must give each image's files and bytes as they are on disk, and both must refuse a
/// WIM with one byte of one file changed, as wimverify does.
#[test]
fn read_back_counts_each_image_and_finds_one_changed_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(a.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let marker = b"<<lifeboat read-back marker 7f3e>>".to_vec();
    let mut big = noise(3 << 20, 11); // more than one read buffer
    big[..marker.len()].copy_from_slice(&marker);
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = vec![
        (a.join("big.bin"), big),
        (a.join("empty.txt"), Vec::new()),
        (a.join("sub/twin1.txt"), b"same content".to_vec()),
        (a.join("sub/deeper/twin2.txt"), b"same content".to_vec()),
        (a.join("sub/Änderung ファイル.txt"), noise(4097, 3)),
        (b.join("one byte"), b"x".to_vec()),
    ];
    for (p, data) in &files {
        std::fs::write(p, data).unwrap();
    }
    let on_disk = |root: &std::path::Path| {
        let mine: Vec<_> = files.iter().filter(|(p, _)| p.starts_with(root)).collect();
        (
            mine.len() as u64,
            mine.iter().map(|(_, d)| d.len() as u64).sum::<u64>(),
        )
    };
    for compression in [Compression::None, Compression::Xpress] {
        let path = dir.path().join(format!("{}.wim", compression.as_str()));
        let mut w = Wim::create_new(compression).unwrap();
        w.add_image(&a, "a").unwrap();
        w.add_image(&b, "b").unwrap();
        w.write(&path, WriteOptions::default()).unwrap();
        drop(w);
        let totals = Wim::open(&path, false).unwrap().verify(None).unwrap();
        let got: Vec<(u64, u64)> = totals.iter().map(|t| (t.files, t.bytes)).collect();
        assert_eq!(got, vec![on_disk(&a), on_disk(&b)], "{compression:?}");
        let (code, _, err) = run(Command::new("wimverify").arg(&path));
        assert_eq!(code, 0, "{err}");

        let mut bytes = std::fs::read(&path).unwrap();
        if compression == Compression::None {
            let at = bytes
                .windows(marker.len())
                .position(|w| w == marker.as_slice())
                .expect("an uncompressed WIM holds the file's bytes as they are");
            bytes[at + 5] ^= 0x01;
        } else {
            let mid = bytes.len() / 3;
            bytes[mid] ^= 0x01;
        }
        std::fs::write(&path, &bytes).unwrap();
        let (code, _, _) = run(Command::new("wimverify").arg(&path));
        assert_ne!(
            code, 0,
            "{compression:?}: wimverify accepts the changed WIM"
        );
        let err = Wim::open(&path, false)
            .and_then(|mut w| w.verify(None))
            .expect_err("a changed byte is found");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{compression:?}: the error names the WIM: {err}"
        );
        if compression == Compression::None {
            assert_eq!(err.code, 28, "WIMLIB_ERR_INVALID_RESOURCE_HASH: {err}");
        }
    }
}

/// A blob table that points a file's data past the end of an uncompressed WIM: the
/// one-pass read-back stops at the end of the file with wimlib's end-of-file code and
/// names the WIM, where wimverify also refuses it.
#[test]
fn read_back_refuses_data_said_to_lie_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let size: u64 = 123_457; // unique among the blob table's sizes
    std::fs::write(src.join("data.bin"), noise(size as usize, 5)).unwrap();
    std::fs::write(src.join("small.txt"), b"small").unwrap();
    let path = dir.path().join("plain.wim");
    let mut w = Wim::create_new(Compression::None).unwrap();
    w.add_image(&src, "x").unwrap();
    w.write(&path, WriteOptions::default()).unwrap();
    drop(w);

    // The WIM header's blob table entry (at byte 48): size (7 bytes) and flags, offset.
    let mut bytes = std::fs::read(&path).unwrap();
    let u64_at = |b: &[u8], at: usize| lifeboat::le::u64_at(b, at).unwrap();
    let table_size = (u64_at(&bytes, 48) & 0x00FF_FFFF_FFFF_FFFF) as usize;
    let table = u64_at(&bytes, 56) as usize;
    // Entries of 50 bytes: size and flags, offset, original size, part, count, SHA-1.
    let entry = (table..table + table_size)
        .step_by(50)
        .find(|&e| u64_at(&bytes, e + 16) == size)
        .expect("the file's entry in the blob table");
    let past_end = (bytes.len() as u64 + 4096).to_le_bytes();
    bytes[entry + 8..entry + 16].copy_from_slice(&past_end);
    std::fs::write(&path, &bytes).unwrap();

    let (code, _, _) = run(Command::new("wimverify").arg(&path));
    assert_ne!(code, 0, "wimverify accepts data past the end");
    let err = Wim::open(&path, false)
        .and_then(|mut w| w.verify(None))
        .expect_err("data past the end is refused");
    assert_eq!(err.code, 65, "WIMLIB_ERR_UNEXPECTED_END_OF_FILE: {err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

/// Opens, lists, verifies and extracts a real WIM on another thread; a hang fails the test.
fn exercise(wims: &std::path::Path, name: &str) -> Result<(), String> {
    let path = wims.join(name);
    let is_split = name.ends_with(".swm");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = (|| -> Result<(), String> {
            let target = tempfile::tempdir().map_err(|e| e.to_string())?;
            let mut w = if is_split {
                Wim::open_split(&path, false).map_err(|e| e.to_string())?
            } else {
                Wim::open(&path, true).map_err(|e| e.to_string())?
            };
            let n = w.image_count();
            for i in 1..=n {
                w.iterate(i, "").map_err(|e| e.to_string())?;
            }
            w.verify(None).map_err(|e| e.to_string())?;
            for i in 1..=n {
                w.extract_image(i, &target.path().join(i.to_string()), None)
                    .map_err(|e| e.to_string())?;
            }
            // Nothing may land outside the target folder.
            let outside = target.path().parent().unwrap().join("evil");
            assert!(!outside.exists());
            Ok(())
        })();
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{name}: hung"))
}

#[test]
fn real_wims_are_read_or_refused_clearly() {
    let Some(wims) = realdata("wim") else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(&wims)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.retain(|n| n != "pebakery__Split2.swm");
    let mut failed = Vec::new();
    for n in &names {
        if let Err(e) = exercise(&wims, n) {
            assert!(
                e.contains(n.as_str()),
                "{n}: error does not name the file: {e}"
            );
            failed.push(n.clone());
        }
    }
    // Whole WIMs: refused exactly when wimverify refuses them.
    for n in names.iter().filter(|n| n.ends_with(".wim")) {
        let (code, _, _) = run(Command::new("wimverify").arg(wims.join(n)));
        assert_eq!(
            failed.contains(n),
            code != 0,
            "{n}: lifeboat and wimverify disagree (wimverify exit {code})"
        );
    }
    // The corrupt ones must be caught; the good ones must pass.
    for bad in [
        "wimlib__corrupted_file_1.wim",
        "wimlib__corrupted_file_2.wim",
        "pebakery__VerifyFail.wim",
    ] {
        assert!(
            failed.contains(&bad.to_string()),
            "{bad} was not refused: {failed:?}"
        );
    }
    for good in [
        "pebakery__LZX.wim",
        "pebakery__XPRESS.wim",
        "pebakery__LZMS.wim",
        "pebakery__MultiImage.wim",
        "pebakery__Split.swm",
        "pebakery__VerifySuccess.wim",
    ] {
        assert!(!failed.contains(&good.to_string()), "{good} was refused");
    }
}
