//! A sample machine for the capture benchmark: one user with tens of thousands of files,
//! about 1 GB: compressible text, already-compressed media (incompressible bytes) and
//! duplicates.

use std::path::Path;

use crate::noise;
use crate::volume::{UserSpec, WindowsSpec};

fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "report",
        "quarterly",
        "budget",
        "meeting",
        "notes",
        "customer",
        "invoice",
        "project",
        "draft",
        "final",
        "review",
    ];
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(WORDS[(x % WORDS.len() as u64) as usize].as_bytes());
        out.push(if x % 11 == 0 { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}

/// Writes the machine to `dir/C`; `scale_mb` is the profile's approximate size.
pub fn write_bench(dir: &Path, scale_mb: usize) {
    let c = dir.join("C");
    std::fs::create_dir_all(&c).unwrap();
    let mut spec = WindowsSpec::win11("BENCH-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files.clear();
    spec.users = vec![ann];
    spec.write(&c.join("Windows"), &[('C', c.clone())]);
    let profile = c.join("Users/ann");
    // 40 % text in many small files, 40 % media, 20 % duplicates of both.
    let text_files = scale_mb * 20; // ~20 KiB each
    for i in 0..text_files {
        let p = profile.join(format!("Documents/project{:03}/notes{i:06}.txt", i % 400));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text(10_000 + (i * 7919) % 20_000, i as u64)).unwrap();
    }
    let media = (scale_mb * 4 / 10).max(1) / 2;
    for i in 0..media {
        let p = profile.join(format!("Pictures/camera/IMG_{i:05}.jpg"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, noise(2 << 20, i as u64 + 1)).unwrap();
    }
    let dups = scale_mb * 2;
    for i in 0..dups {
        let src = if i % 10 == 0 {
            profile.join(format!("Pictures/camera/IMG_{:05}.jpg", i % media.max(1)))
        } else {
            profile.join(format!(
                "Documents/project{:03}/notes{:06}.txt",
                i % 400,
                i % text_files.max(1)
            ))
        };
        let p = profile.join(format!(
            "Desktop/copies/copy{i:05}-{}",
            src.file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy(&src, &p).unwrap();
    }
}

/// A machine whose one user has `count` files of about 20 bytes, 200 to a folder (a
/// developer's profile: node_modules, caches): the many-small-files case of the bench.
pub fn write_small_files(dir: &Path, count: usize) {
    let c = dir.join("C");
    std::fs::create_dir_all(&c).unwrap();
    let mut spec = WindowsSpec::win11("BENCH-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files.clear();
    spec.users = vec![ann];
    spec.write(&c.join("Windows"), &[('C', c.clone())]);
    small_files(&c.join("Users/ann/Documents/small"), count);
}

/// `count` files of about 20 bytes under `root`, 200 to a folder.
fn small_files(root: &Path, count: usize) {
    for i in 0..count {
        let folder = root.join(format!("d{:05}", i / 200));
        if i % 200 == 0 {
            std::fs::create_dir_all(&folder).unwrap();
        }
        std::fs::write(
            folder.join(format!("f{i:07}.txt")),
            format!("small file {i:09}\n"),
        )
        .unwrap();
    }
}

/// An NTFS volume image (`mkntfs`, filled through an `ntfs-3g` mount, so ntfs-3g wrote
/// every structure) holding a Windows installation whose user has `count` files of about
/// 20 bytes, 200 to a folder: the bench's capture from an image against a capture from
/// the same image mounted by ntfs-3g.
pub fn write_ntfs_small_files(img: &Path, count: usize) {
    use crate::ntfs::{mkntfs, Mount, MIB};
    // Each file takes an MFT record (1 KiB) and its folder's index entry.
    let size = (count as u64 * 4096).max(256 * MIB);
    mkntfs(img, size, 4096, 512, "Bench");
    let m = Mount::new(img, &img.with_extension("fill"), "");
    let mut spec = WindowsSpec::win11("BENCH-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files.clear();
    spec.users = vec![ann];
    spec.write_volume(m.path());
    small_files(&m.path().join("Users/ann/Documents/small"), count);
}

/// A machine whose SOFTWARE hive is about `mb` MB and dirty (the newest product name only
/// in its LOG1/LOG2, as after a crash): the detect bench's input. 100 values of ~800
/// bytes (REG_SZ, UTF-16) per key, as vendors' keys hold.
pub fn write_big_hive(dir: &Path, mb: usize) {
    let c = dir.join("C");
    std::fs::create_dir_all(&c).unwrap();
    let mut spec = WindowsSpec::win11("BENCH-PC");
    spec.dirty_software = Some(crate::regf::LogFormat::New);
    let values = mb * 1_220;
    spec.software_extra = (0..values)
        .map(|i| {
            (
                format!(r"Bench\Vendor{:03}\Product{:05}", i / 10_000, i / 100),
                format!("Setting{i:07}"),
                String::from_utf8(text(400, i as u64 + 7)).unwrap(),
            )
        })
        .collect();
    spec.write(&c.join("Windows"), &[('C', c.clone())]);
}

/// The rule-evaluation benchmark's machine: one user whose profile holds `files` small
/// files spread over Documents, Desktop, Pictures, Music, AppData (Roaming and Local,
/// with application folders MigApp.xml names) and the profile root, with the extensions
/// MigUser.xml takes and others it does not.
pub fn write_rules_bench(dir: &Path, files: usize) {
    let c = dir.join("C");
    std::fs::create_dir_all(&c).unwrap();
    let mut spec = WindowsSpec::win11("RULES-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.files.clear();
    spec.users = vec![ann];
    spec.write(&c.join("Windows"), &[('C', c.clone())]);
    let profile = c.join("Users/ann");
    const PLACES: [&str; 8] = [
        "Documents/work",
        "Desktop",
        "Pictures/2024",
        "Music/albums",
        "AppData/Roaming/Mozilla/Firefox/Profiles/ab.default",
        "AppData/Local/Google/Chrome/User Data/Default/Cache",
        "AppData/Local/Temp",
        "projects/src",
    ];
    const EXTS: [&str; 8] = ["docx", "txt", "jpg", "mp3", "sqlite", "tmp", "rs", "xlsx"];
    let mut made = std::collections::HashSet::new();
    for i in 0..files {
        let place = PLACES[i % PLACES.len()];
        let ext = EXTS[(i / PLACES.len()) % EXTS.len()];
        let p = profile.join(format!("{place}/d{:03}/f{i:07}.{ext}", (i / 64) % 500));
        if let Some(dir) = p.parent() {
            if made.insert(dir.to_path_buf()) {
                std::fs::create_dir_all(dir).unwrap();
            }
        }
        std::fs::write(&p, b"x").unwrap();
    }
}
