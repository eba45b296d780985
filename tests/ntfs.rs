//! Lifeboat's NTFS reader against ntfs-3g: volumes formatted by `mkntfs` and filled through
//! an ntfs-3g mount (tests/support/ntfs.rs), then read by both, file by file (names, record
//! numbers, sizes, SHA-256 of every stream, times, attributes, reparse data, security
//! descriptors, link counts), across cluster sizes from 512 B to 2 MiB and 512 B or 4 KiB
//! sectors. Then what ntfs-3g cannot show (reparse points it does not follow, extents,
//! damaged sectors) against `ntfsinfo` and the image's own bytes, and hostile images.

use std::collections::BTreeMap;
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use fixtures::ntfs::{self as fx, rich, Mount};
use fixtures::run;
use lifeboat_volume::block::{BlockError, BlockSource, FileSource, MemSource, Source};
use lifeboat_volume::ntfs::{
    ErrorKind, FileRef, LogState, Namespace, Ntfs, ReparseKind, Unavailable,
};
use sha2::{Digest, Sha256};

fn open(img: &Path) -> Ntfs {
    let src: Source = Arc::new(FileSource::open(img).unwrap());
    Ntfs::open(src).unwrap_or_else(|e| panic!("{}: {e}", img.display()))
}

fn sha(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// What both readers say of one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Seen {
    record: u64,
    dir: bool,
    size: Option<u64>,
    content: Option<String>,
    streams: BTreeMap<String, String>,
    /// created, modified, accessed, MFT changed
    times: [u64; 4],
    attributes: u32,
    reparse: Option<Vec<u8>>,
    security: Option<Vec<u8>>,
    links: Option<u64>,
}

/// Lifeboat's view: every file under the root (the volume's own files left out, as
/// ntfs-3g hides them), by path.
fn lifeboat_view(vol: &Ntfs) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(vol.root(), String::new())];
    while let Some((dir, path)) = stack.pop() {
        let listing = vol.read_dir(dir).unwrap();
        assert!(
            listing.problems.is_empty(),
            "{path}: {:?}",
            listing.problems
        );
        for e in listing.entries {
            if path.is_empty() && e.file_ref.is_metadata() {
                continue;
            }
            let p = format!("{path}/{}", e.name());
            let file = vol
                .file(e.file_ref)
                .unwrap_or_else(|err| panic!("{p}: {err}"));
            let info = file.info();
            let read = |name: &str| {
                let s = file.stream(name).ok()?;
                let mut buf = vec![0u8; s.len() as usize];
                let n = s
                    .read_at(0, &mut buf)
                    .unwrap_or_else(|err| panic!("{p}:{name}: {err}"));
                assert_eq!(n as u64, s.len());
                Some(sha(&buf))
            };
            let mut seen = Seen {
                record: e.file_ref.record,
                dir: info.is_dir,
                times: [
                    info.times.created,
                    info.times.modified,
                    info.times.accessed,
                    info.times.mft_changed,
                ],
                attributes: info.attributes,
                reparse: info.reparse.as_ref().map(|r| r.data.clone()),
                security: vol.file_security(&file).unwrap().map(|d| d.to_vec()),
                links: (!info.is_dir).then_some(u64::from(info.link_count)),
                ..Seen::default()
            };
            if info.reparse.is_none() && !info.is_dir {
                seen.size = info
                    .streams
                    .iter()
                    .find(|s| s.name.is_empty())
                    .map(|s| s.size);
                seen.content = read("");
            }
            for s in info.streams.iter().filter(|s| !s.name.is_empty()) {
                seen.streams
                    .insert(s.name.clone(), read(&s.name).unwrap_or_default());
            }
            if info.is_dir && info.reparse.is_none() {
                stack.push((e.file_ref, p.clone()));
            }
            out.insert(p, seen);
        }
    }
    out
}

fn le_u64s(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// ntfs-3g's view through a read-only mount whose named streams are `user.*` attributes.
fn ntfs3g_view(img: &Path, root: &Path) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, path)) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = format!("{path}/{}", e.file_name().to_str().unwrap());
            let host = e.path();
            let meta = std::fs::symlink_metadata(&host).unwrap();
            let x = |name| fx::get_xattr(&host, name);
            let times = le_u64s(&x("system.ntfs_times").unwrap());
            let reparse = x("system.ntfs_reparse_data");
            let attributes =
                u32::from_le_bytes(x("system.ntfs_attrib").unwrap().try_into().unwrap());
            // A junction or folder symlink shows as a link here, a folder in its attributes.
            let dir = attributes & 0x10 != 0;
            let mut seen = Seen {
                record: meta.ino(),
                dir,
                times: [times[0], times[1], times[2], times[3]],
                attributes,
                security: x("system.ntfs_acl"),
                links: (!dir).then_some(meta.nlink()),
                ..Seen::default()
            };
            // An encrypted file's data is ciphertext (Lifeboat refuses it; checked apart).
            let encrypted = attributes & 0x4000 != 0;
            if reparse.is_none() && meta.is_file() {
                seen.size = Some(meta.len());
                seen.content = std::fs::read(&host)
                    .ok()
                    .filter(|_| !encrypted)
                    .map(|b| sha(&b));
            }
            for name in fx::list_xattrs(&host) {
                if let Some(stream) = name.strip_prefix("user.") {
                    // Attributes stop at 64 KiB: larger streams come from ntfscat.
                    let data = fx::get_xattr(&host, &name)
                        .unwrap_or_else(|| ntfscat(img, meta.ino(), stream));
                    seen.streams.insert(stream.to_string(), sha(&data));
                }
            }
            if dir && reparse.is_none() {
                stack.push((host.clone(), p.clone()));
            }
            seen.reparse = reparse;
            out.insert(p, seen);
        }
    }
    out
}

/// A named data stream of record `record`, by ntfscat.
fn ntfscat(img: &Path, record: u64, stream: &str) -> Vec<u8> {
    let out = std::process::Command::new("ntfscat")
        .args(["-f", "-a", "0x80", "-n", stream, "-i", &record.to_string()])
        .arg(img)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ntfscat {record}:{stream}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Both views, compared file by file; the differences listed, all of them.
fn assert_same(lifeboat: &BTreeMap<String, Seen>, ntfs3g: &BTreeMap<String, Seen>) {
    let mut diffs = Vec::new();
    for (p, a) in lifeboat {
        match ntfs3g.get(p) {
            None => diffs.push(format!("only Lifeboat lists {p}")),
            Some(b) if a != b => diffs.push(format!("{p}:\n  lifeboat {a:?}\n  ntfs-3g  {b:?}")),
            Some(_) => {}
        }
    }
    for p in ntfs3g.keys().filter(|p| !lifeboat.contains_key(*p)) {
        diffs.push(format!("only ntfs-3g lists {p}"));
    }
    assert!(
        diffs.is_empty(),
        "{} differences of {} files:\n{}",
        diffs.len(),
        ntfs3g.len(),
        diffs
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `ntfsinfo -m` fields by label.
fn ntfsinfo(img: &Path) -> BTreeMap<String, String> {
    let (code, out, err) = run(std::process::Command::new("ntfsinfo").arg("-m").arg(img));
    assert_eq!(code, 0, "ntfsinfo: {err}");
    out.lines()
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Builds a rich volume with the given geometry and compares the two readers over it.
fn rich_volume_matches_ntfs3g(cluster: u32, sector: u32) {
    let dir = tempfile::tempdir().unwrap();
    let img = fx::rich_volume(dir.path(), "rich", cluster, sector);
    let vol = open(&img);
    let info = vol.info();
    let m = ntfsinfo(&img);
    assert_eq!(info.cluster_size.to_string(), m["Cluster Size"]);
    assert_eq!(info.sector_size.to_string(), m["Sector Size"]);
    assert_eq!(info.record_size.to_string(), m["MFT Record Size"]);
    assert_eq!(info.index_block_size.to_string(), m["Index Block Size"]);
    assert_eq!(info.label.as_deref(), Some(m["Volume Name"].as_str()));
    assert_eq!(
        format!("{}.{}", info.version.0, info.version.1),
        m["Volume Version"]
    );
    assert_eq!(format!("{:#06x}", info.flags), m["Volume Flags"]);
    assert_eq!(
        (info.size / info.cluster_size).to_string(),
        m["Volume Size in Clusters"]
    );
    assert!(!info.unclean() && !info.builtin_upcase);
    assert_eq!(info.log, LogState::Empty, "ntfs-3g leaves $LogFile reset");

    let ours = lifeboat_view(&vol);
    let mnt = Mount::new(
        &img,
        &dir.path().join("oracle"),
        "ro,streams_interface=xattr",
    );
    let theirs = ntfs3g_view(&img, mnt.path());
    assert_same(&ours, &theirs);
    let full = cluster <= 4096;
    let expected_min = if full {
        rich::MANY_COUNT + rich::MANY_LINKS_COUNT
    } else {
        60
    };
    assert!(ours.len() > expected_min, "{} files", ours.len());
    if full {
        let text = &ours[&format!("/{}/text.txt", rich::COMPRESSED)];
        assert_eq!(text.attributes & 0x800, 0x800, "compressed: {text:?}");
    }
}

#[test]
fn clusters_of_4k_on_512_byte_sectors() {
    rich_volume_matches_ntfs3g(4096, 512);
}

#[test]
fn clusters_of_512_bytes() {
    rich_volume_matches_ntfs3g(512, 512);
}

#[test]
fn clusters_of_4k_on_4k_sectors() {
    rich_volume_matches_ntfs3g(4096, 4096);
}

#[test]
fn clusters_of_64k_on_4k_sectors() {
    rich_volume_matches_ntfs3g(65536, 4096);
}

#[test]
fn clusters_of_2_mib() {
    rich_volume_matches_ntfs3g(2 << 20, 512);
}
