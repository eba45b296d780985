//! `lifeboat selftest`: proves on the machine at hand (a WinPE, a Linux live system) that
//! the agent's WIM engine works: a small tree is captured with an integrity table, read
//! back, verified and extracted, and every byte compared.

use std::path::{Path, PathBuf};

use crate::wim::{Compression, Wim, WriteOptions};

const FILES: &[(&str, usize)] = &[
    ("a.txt", 12),
    ("empty.bin", 0),
    ("sub/deeper/b.dat", 300_000),
    ("sub/copy-of-b.dat", 300_000),
    ("ünïcödé ファイル.txt", 40),
];

fn content(name: &str, len: usize) -> Vec<u8> {
    // Duplicates share content on purpose (the WIM stores it once).
    let seed = name.replace("copy-of-", "").replace("sub/deeper/", "sub/");
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed.len() as u8))
        .collect()
}

/// Runs the test in `dir` (created if needed), leaving `selftest.wim` there. Returns a
/// short report, or what went wrong.
pub fn run(dir: &Path) -> Result<String, String> {
    let src = dir.join("source");
    let out = dir.join("extracted");
    let wim_path = dir.join("selftest.wim");
    for p in [&src, &out] {
        if p.exists() {
            std::fs::remove_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    for (name, len) in FILES {
        let p = src.join(name);
        std::fs::create_dir_all(p.parent().unwrap_or(&src))
            .map_err(|e| format!("{}: {e}", p.display()))?;
        std::fs::write(&p, content(name, *len)).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut wim = Wim::create_new(Compression::Lzx).map_err(|e| e.to_string())?;
    wim.add_image(&src, "selftest").map_err(|e| e.to_string())?;
    wim.write(
        &wim_path,
        WriteOptions {
            integrity: true,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    drop(wim);

    let mut wim = Wim::open(&wim_path, true).map_err(|e| e.to_string())?;
    let info = wim.info().map_err(|e| e.to_string())?;
    if !info.has_integrity || info.image_count != 1 {
        return Err(format!(
            "{}: expected one image with an integrity table",
            wim_path.display()
        ));
    }
    wim.verify(None).map_err(|e| e.to_string())?;
    let entries = wim.iterate(1, "").map_err(|e| e.to_string())?;
    let files = entries.iter().filter(|e| !e.is_dir).count();
    if files != FILES.len() {
        return Err(format!(
            "{}: {files} files listed, {} captured",
            wim_path.display(),
            FILES.len()
        ));
    }
    wim.extract_image(1, &out, None)
        .map_err(|e| e.to_string())?;
    for (name, len) in FILES {
        let p: PathBuf = out.join(name);
        let got = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        if got != content(name, *len) {
            return Err(format!(
                "{}: extracted bytes differ from what was captured",
                p.display()
            ));
        }
    }
    Ok(format!(
        "selftest ok: {} files captured into {} (LZX, integrity table), verified, extracted and compared",
        FILES.len(),
        wim_path.display()
    ))
}
