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
            if reparse.is_some() {
                for stream in ntfsinfo_streams(img, meta.ino()) {
                    let data = ntfscat(img, meta.ino(), &stream);
                    seen.streams.insert(stream, sha(&data));
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

/// The names of record `record`'s named data streams, by ntfsinfo (ntfs-3g's mount shows a
/// reparse point as a link and lists none of its attributes).
fn ntfsinfo_streams(img: &Path, record: u64) -> Vec<String> {
    let (code, out, err) = run(std::process::Command::new("ntfsinfo")
        .args(["-f", "-i", &record.to_string()])
        .arg(img));
    assert_eq!(code, 0, "ntfsinfo -i {record}: {err}");
    let mut names = Vec::new();
    let mut in_data = false;
    for line in out.lines() {
        if line.starts_with("Dumping attribute") {
            in_data = line.contains("$DATA (0x80)");
        } else if let Some(name) = line.trim().strip_prefix("Attribute name:") {
            if in_data {
                names.push(name.trim().trim_matches('\'').to_string());
            }
        }
    }
    names
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

/// The rich volume at 4 KiB clusters, built once for the tests that only read it.
fn shared() -> &'static Path {
    static IMG: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    IMG.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join(format!("ntfs-shared-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Earlier runs' images (their mounts are gone with their processes).
        for old in std::fs::read_dir(base).unwrap().flatten() {
            let name = old.file_name().to_string_lossy().into_owned();
            if name.starts_with("ntfs-shared-") && old.path() != dir {
                let _ = std::fs::remove_dir_all(old.path());
            }
        }
        fx::rich_volume(&dir, "rich", 4096, 512)
    })
}

/// The MFT record `ntfsinfo` dumps for a path.
fn ntfsinfo_record(img: &Path, path: &str) -> u64 {
    let (code, out, err) = run(std::process::Command::new("ntfsinfo")
        .arg("-F")
        .arg(format!("/{}", path.replace('\\', "/")))
        .arg(img));
    assert_eq!(code, 0, "ntfsinfo {path}: {err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("Dumping Inode"))
        .unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

fn ntfsinfo_dump(img: &Path, path: &str) -> String {
    let (code, out, err) = run(std::process::Command::new("ntfsinfo")
        .arg("-v")
        .arg("-F")
        .arg(format!("/{}", path.replace('\\', "/")))
        .arg(img));
    assert_eq!(code, 0, "ntfsinfo {path}: {err}");
    out
}

#[test]
fn lookups_ignore_case_through_upcase() {
    let img = shared();
    let vol = open(img);
    let software = r"Windows\System32\config\SOFTWARE";
    let record = ntfsinfo_record(img, software);
    for p in [
        software,
        r"WINDOWS\system32\CONFIG\software",
        "windows/System32/Config/Software",
        r"\Windows\\System32\config\SOFTWARE\",
    ] {
        assert_eq!(vol.resolve(p).unwrap().record, record, "{p}");
    }
    // Beyond ASCII: Latin, Greek and Cyrillic letters change case through $UpCase; letters
    // outside the BMP have no case and stay.
    let deep = format!(
        r"{}\{}\{}",
        rich::DEEP_ROOT,
        fx::deep_folders().join("\\"),
        fx::longest_name()
    );
    let record = ntfsinfo_record(img, &deep);
    assert_eq!(vol.resolve(&deep).unwrap().record, record);
    assert_eq!(vol.resolve(&deep.to_uppercase()).unwrap().record, record);
    assert_eq!(vol.resolve(&deep.to_lowercase()).unwrap().record, record);
    // Every entry of a folder with an index of several levels, its name's case swapped.
    let many = vol.resolve(rich::MANY).unwrap();
    let entries = vol.read_dir(many).unwrap().entries;
    assert_eq!(entries.len(), rich::MANY_COUNT);
    for e in &entries {
        let swapped: String = e
            .name()
            .chars()
            .map(|c| {
                if c.is_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let found = vol
            .lookup(many, &swapped)
            .unwrap()
            .unwrap_or_else(|| panic!("{swapped}"));
        assert_eq!(found.file_ref, e.file_ref);
    }
    // Names that differ only in case are both listed; a lookup finds one of them.
    let root = vol.resolve(rich::DEEP_ROOT).unwrap();
    let twins = [
        vol.resolve(&format!(r"{}\Twin.txt", rich::DEEP_ROOT))
            .unwrap(),
        vol.resolve(&format!(r"{}\TWIN.txt", rich::DEEP_ROOT))
            .unwrap(),
    ];
    let listed: Vec<_> = vol
        .read_dir(root)
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.name().eq_ignore_ascii_case("twin.txt"))
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(twins.contains(&vol.lookup(root, "twin.TXT").unwrap().unwrap().file_ref));
    // No folder has "." or ".."; a missing name is NotFound, naming the path.
    for p in [
        r"Windows\.\System32",
        r"Windows\..\Windows",
        r"Windows\Nope",
    ] {
        let e = vol.resolve(p).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{p}: {e}");
        assert!(e.to_string().contains(p), "{e}");
    }
    assert!(matches!(
        vol.read_dir(vol.resolve(software).unwrap())
            .unwrap_err()
            .kind(),
        ErrorKind::NotADirectory
    ));
}

#[test]
fn dos_names_are_left_out() {
    let img = shared();
    let vol = open(img);
    // ntfs-3g wrote a separate DOS name beside the long one.
    let dump = ntfsinfo_dump(img, rich::LONG_NAME);
    assert!(
        dump.contains("Namespace:\t\t DOS") && dump.contains(rich::DOS_NAME),
        "{dump}"
    );
    let docs = vol.resolve("Documents").unwrap();
    let names: Vec<String> = vol
        .read_dir(docs)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    assert!(
        names.contains(&"Long File Name.txt".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == rich::DOS_NAME), "{names:?}");
    assert_eq!(vol.lookup(docs, rich::DOS_NAME).unwrap(), None);
    let file = vol.file(vol.resolve(rich::LONG_NAME).unwrap()).unwrap();
    let info = file.info();
    assert_eq!(info.names.len(), 1);
    assert_eq!(info.names[0].namespace, Namespace::Win32);
    assert_eq!(
        info.link_count, 2,
        "the record header counts the DOS name too"
    );
    let short = vol.file(vol.resolve(rich::SHORT_NAME).unwrap()).unwrap();
    assert_eq!(short.info().names[0].namespace, Namespace::Win32AndDos);
}

#[test]
fn hard_links_are_one_record_with_every_name() {
    let img = shared();
    let vol = open(img);
    let a = vol.resolve(rich::ORIGINAL).unwrap();
    let b = vol.resolve(rich::HARDLINK).unwrap();
    let c = vol.resolve(rich::HARDLINK_ELSEWHERE).unwrap();
    assert_eq!((a, a), (b, c));
    assert_eq!(a.record, ntfsinfo_record(img, rich::HARDLINK_ELSEWHERE));
    let info = vol.file(a).unwrap().info().clone();
    assert_eq!(info.link_count, 3);
    let links = vol.resolve("Links").unwrap().record;
    let docs = vol.resolve("Documents").unwrap().record;
    let mut parents: Vec<u64> = info.names.iter().map(|n| n.parent.record).collect();
    parents.sort();
    let mut want = vec![links, links, docs];
    want.sort();
    assert_eq!(parents, want);
    // Hundreds of names: more than a record holds, so the names spread over extension
    // records through an attribute list (ntfsinfo shows it).
    let dump = ntfsinfo_dump(img, rich::MANY_LINKS);
    assert!(
        dump.contains("$ATTRIBUTE_LIST"),
        "the fixture needs an attribute list"
    );
    let many = vol.file(vol.resolve(rich::MANY_LINKS).unwrap()).unwrap();
    assert_eq!(many.info().names.len(), rich::MANY_LINKS_COUNT + 1);
    assert_eq!(
        usize::from(many.info().link_count),
        rich::MANY_LINKS_COUNT + 1
    );
    let streams = vol.file(vol.resolve(rich::MANY_STREAMS).unwrap()).unwrap();
    assert_eq!(streams.info().streams.len(), rich::MANY_STREAMS_COUNT + 1);
    for i in 0..rich::MANY_STREAMS_COUNT {
        let s = streams.stream(&format!("STREAM_{i:02}")).unwrap();
        let mut b = vec![0u8; s.len() as usize];
        s.read_at(0, &mut b).unwrap();
        assert_eq!(b, fx::text(300 + i, i), "stream names ignore case");
    }
}

#[test]
fn reparse_points_are_parsed_and_never_followed() {
    let vol = open(shared());
    let kind = |p: &str| {
        vol.file(vol.resolve(p).unwrap())
            .unwrap()
            .info()
            .reparse
            .clone()
            .unwrap()
            .kind
    };
    assert_eq!(
        kind(rich::JUNCTION),
        ReparseKind::MountPoint {
            substitute: format!(r"\??\{}", rich::JUNCTION_TARGET),
            print: rich::JUNCTION_TARGET.into()
        }
    );
    assert_eq!(
        kind(rich::SYMLINK_FILE),
        ReparseKind::Symlink {
            substitute: rich::SYMLINK_FILE_TARGET.into(),
            print: rich::SYMLINK_FILE_TARGET.into(),
            relative: true
        }
    );
    assert_eq!(
        kind(rich::SYMLINK_DIR),
        ReparseKind::Symlink {
            substitute: format!(r"\??\{}", rich::SYMLINK_DIR_TARGET),
            print: rich::SYMLINK_DIR_TARGET.into(),
            relative: false
        }
    );
    assert_eq!(kind(rich::CLOUD), ReparseKind::Cloud);
    assert_eq!(
        kind(rich::WOF),
        ReparseKind::Wof {
            provider: 2,
            algorithm: Some(0)
        }
    );
    assert_eq!(kind(rich::DEDUP), ReparseKind::Dedup);
    match kind(rich::APPEXEC) {
        ReparseKind::AppExecLink { target, .. } => assert_eq!(target, rich::APPEXEC_TARGET),
        other => panic!("{other:?}"),
    }
    // Never followed: the junction is an empty folder here, whatever its target holds.
    let j = vol.resolve(rich::JUNCTION).unwrap();
    assert!(vol.read_dir(j).unwrap().entries.is_empty());
    assert!(vol
        .resolve(&format!(r"{}\notes.txt", rich::JUNCTION))
        .is_err());
}

#[test]
fn data_that_cannot_travel_is_refused_by_kind() {
    let img = shared();
    let vol = open(img);
    let refused = |p: &str| {
        let f = vol.file(vol.resolve(p).unwrap()).unwrap();
        match f.stream("").unwrap_err().kind() {
            ErrorKind::Unavailable(why) => (*why, f.info().encrypted),
            other => panic!("{p}: {other:?}"),
        }
    };
    assert_eq!(refused(rich::ENCRYPTED), (Unavailable::Encrypted, true));
    assert!(ntfsinfo_dump(img, rich::ENCRYPTED).contains("$LOGGED_UTILITY_STREAM"));
    assert_eq!(refused(rich::WOF).0, Unavailable::Wof);
    assert_eq!(refused(rich::DEDUP).0, Unavailable::Dedup);
    assert_eq!(refused(rich::CLOUD).0, Unavailable::Cloud);
    // A stream that is not there is NotFound, naming the file.
    let f = vol.file(vol.resolve(rich::REPORT).unwrap()).unwrap();
    let e = f.stream("nope").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)));
    assert_eq!(e.file(), Some("Report.txt"));
}

/// Reads `len` bytes of the image at `at`.
fn image_bytes(img: &Path, at: u64, len: u64) -> Vec<u8> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(img).unwrap();
    f.seek(std::io::SeekFrom::Start(at)).unwrap();
    let mut b = vec![0u8; len as usize];
    f.read_exact(&mut b).unwrap();
    b
}

#[test]
fn extents_say_where_each_stream_byte_lies() {
    let img = shared();
    let vol = open(img);
    for path in [rich::BIG, rich::SPARSE] {
        let s = vol.stream(vol.resolve(path).unwrap(), "").unwrap();
        let mut data = vec![0u8; s.len() as usize];
        s.read_at(0, &mut data).unwrap();
        let ext = s.extents();
        let mut at = 0;
        for e in &ext {
            assert_eq!(
                e.stream_offset, at,
                "{path}: extents in VCN order, without gaps"
            );
            let want = &data[e.stream_offset as usize..(e.stream_offset + e.len) as usize];
            match e.volume_offset {
                Some(v) => assert_eq!(image_bytes(img, v, e.len), want, "{path} at {at}"),
                None => assert!(want.iter().all(|&b| b == 0), "{path}: a sparse extent"),
            }
            at += e.len;
        }
        assert_eq!(at, s.len(), "{path}");
    }
    let sparse = vol.stream(vol.resolve(rich::SPARSE).unwrap(), "").unwrap();
    assert!(sparse.extents().iter().any(|e| e.volume_offset.is_none()));
    let report = vol.stream(vol.resolve(rich::REPORT).unwrap(), "").unwrap();
    assert!(report.is_resident() && report.extents().is_empty());
}

#[test]
fn a_scan_in_mft_order_finds_every_file() {
    let vol = open(shared());
    let mut walked = std::collections::BTreeSet::new();
    let mut stack = vec![vol.root()];
    while let Some(d) = stack.pop() {
        for e in vol.read_dir(d).unwrap().entries {
            if walked.insert(e.file_ref.record) && e.is_dir() {
                stack.push(e.file_ref);
            }
        }
    }
    let mut scanned = std::collections::BTreeSet::new();
    let mut last = None;
    for f in vol.scan() {
        let f = f.unwrap();
        let n = f.info().file_ref.record;
        assert!(last < Some(n), "MFT order");
        last = Some(n);
        scanned.insert(n);
        // Found by the scan, not the walk: the volume's own files and $Extend's.
        if !walked.contains(&n) {
            let under_extend = f.info().names.iter().all(|x| x.parent.record == 11);
            assert!(n < 16 || under_extend, "record {n} {:?}", f.info().names);
        }
    }
    let missing: Vec<_> = walked.difference(&scanned).collect();
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn security_descriptors_come_from_secure() {
    let vol = open(shared());
    let sid = |p: &str| {
        vol.file(vol.resolve(p).unwrap())
            .unwrap()
            .info()
            .security_id
    };
    let a = sid(&format!(r"{}\a.txt", rich::SECURED)).unwrap();
    assert_eq!(
        Some(a),
        sid(&format!(r"{}\b.txt", rich::SECURED)),
        "one descriptor, one id"
    );
    let custom = vol.file(vol.resolve(rich::CUSTOM_ACL).unwrap()).unwrap();
    let id = custom.info().security_id.unwrap();
    assert_ne!(id, a);
    let want = fx::security_descriptor(
        "S-1-5-32-544",
        "S-1-5-18",
        &[("S-1-1-0", 0x0012_0089), ("S-1-5-32-544", 0x001F_01FF)],
    );
    assert_eq!(&*vol.security_descriptor(id).unwrap().unwrap(), &want[..]);
    assert_eq!(vol.security_descriptor(0x7FFF_FFF0).unwrap(), None);
}

#[test]
fn volume_serial_and_label_match_blkid() {
    let img = shared();
    let vol = open(img);
    let (code, out, _) = run(std::process::Command::new("blkid")
        .args(["-p", "-o", "export"])
        .arg(img));
    assert_eq!(code, 0);
    let field = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_string()
    };
    assert_eq!(format!("{:016X}", vol.info().serial), field("UUID"));
    assert_eq!(
        vol.info().label.as_deref(),
        Some(field("LABEL").replace("\\ ", " ").as_str())
    );
}

#[test]
fn a_fragmented_mft_and_file_with_attribute_lists_match_ntfs3g() {
    let dir = tempfile::tempdir().unwrap();
    let (img, path) = fx::fragmented_volume(dir.path());
    // The fixture did what it is for: $MFT's own $DATA and the file's are spread over
    // several records through attribute lists.
    let (code, mft, _) = run(std::process::Command::new("ntfsinfo")
        .args(["-v", "-i", "0"])
        .arg(&img));
    assert_eq!(code, 0);
    assert!(
        mft.contains("$ATTRIBUTE_LIST"),
        "$MFT has no attribute list"
    );
    assert!(mft.matches("Dumping attribute $DATA").count() > 1, "{mft}");
    let dump = ntfsinfo_dump(&img, path);
    assert!(
        dump.matches("Dumping attribute $DATA").count() > 1,
        "{dump}"
    );

    let vol = open(&img);
    let s = vol.stream(vol.resolve(path).unwrap(), "").unwrap();
    assert!(s.extents().len() > 300, "{} extents", s.extents().len());
    let ours = lifeboat_view(&vol);
    let mnt = Mount::new(
        &img,
        &dir.path().join("oracle"),
        "ro,streams_interface=xattr",
    );
    assert_same(&ours, &ntfs3g_view(&img, mnt.path()));
    assert!(ours.len() > 9000);
}

/// A source that loses the bytes in `bad` (offsets of the source), as the rescue layer
/// reports sectors it gave up on: zeros there and [`BlockError::Damaged`].
struct Damaging {
    inner: Source,
    bad: Vec<Range<u64>>,
}

impl BlockSource for Damaging {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn name(&self) -> &str {
        "damaged.img"
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.inner.read_at(offset, buf)?;
        let end = offset + buf.len() as u64;
        let mut lost = Vec::new();
        for r in &self.bad {
            let (s, e) = (r.start.max(offset), r.end.min(end));
            if s < e {
                buf[(s - offset) as usize..(e - offset) as usize].fill(0);
                lost.push(s..e);
            }
        }
        if lost.is_empty() {
            Ok(())
        } else {
            Err(BlockError::Damaged {
                name: self.name().into(),
                lost,
            })
        }
    }
}

#[test]
fn bad_sectors_lose_only_their_bytes_through_a_partition() {
    let img = shared();
    let dir = tempfile::tempdir().unwrap();
    let (disk, number) = fx::disk_image(dir.path(), img, fx::Table::Gpt);
    let clean = open(img);
    let big = clean.resolve(rich::BIG).unwrap();
    let s = clean.stream(big, "").unwrap();
    let mut want = vec![0u8; s.len() as usize];
    s.read_at(0, &mut want).unwrap();
    let first = s.extents()[0];
    let report = clean.resolve(rich::REPORT).unwrap();
    let record_at = clean.file(report).unwrap().record_offset().unwrap();

    // Sectors lost on the disk: inside Big.bin and inside Report.txt's MFT record.
    let table = {
        let src: Source = Arc::new(FileSource::open(&disk).unwrap());
        lifeboat_volume::partition::PartitionTable::read(&src).unwrap()
    };
    let part = table
        .partitions
        .iter()
        .find(|p| p.number == number)
        .unwrap();
    let lost_in_volume = first.volume_offset.unwrap() + 5000..first.volume_offset.unwrap() + 9096;
    let damaging: Source = Arc::new(Damaging {
        inner: Arc::new(FileSource::open(&disk).unwrap()),
        bad: vec![
            part.offset + lost_in_volume.start..part.offset + lost_in_volume.end,
            part.offset + record_at + 100..part.offset + record_at + 612,
        ],
    });
    let vol = Ntfs::open(Arc::new(part.open(&damaging).unwrap())).unwrap();
    let s = vol.stream(big, "").unwrap();
    let mut got = vec![0xEEu8; s.len() as usize];
    let e = s.read_at(0, &mut got).unwrap_err();
    let lost = first.stream_offset + 5000..first.stream_offset + 9096;
    match e.kind() {
        ErrorKind::Damaged { lost: l, read } => {
            assert_eq!(l, &vec![lost.clone()]);
            assert_eq!(*read, want.len());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.file(), Some("Big.bin"));
    assert!(got[lost.start as usize..lost.end as usize]
        .iter()
        .all(|&b| b == 0));
    got[lost.start as usize..lost.end as usize]
        .copy_from_slice(&want[lost.start as usize..lost.end as usize]);
    assert_eq!(got, want, "every other byte is read");

    // The record is unreadable: the error names it; its folder still lists it.
    let e = vol.file(report).unwrap_err();
    assert_eq!(
        e.place(),
        &lifeboat_volume::ntfs::Place::Record(report.record)
    );
    assert!(
        e.to_string()
            .contains(&format!("MFT record {}", report.record)),
        "{e}"
    );
    let docs = vol.read_dir(vol.resolve("Documents").unwrap()).unwrap();
    assert!(docs
        .entries
        .iter()
        .any(|d| d.file_ref == report && d.name() == "Report.txt"));
}

/// The small volume's bytes and the records of its files, built once.
fn small() -> &'static (Vec<u8>, BTreeMap<&'static str, u64>) {
    static SMALL: std::sync::OnceLock<(Vec<u8>, BTreeMap<&'static str, u64>)> =
        std::sync::OnceLock::new();
    SMALL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let img = fx::small_volume(dir.path());
        let records = [
            fx::small::FOLDER,
            fx::small::BIG,
            fx::small::SMALL,
            fx::small::LINKED,
        ]
        .into_iter()
        .map(|p| (p, ntfsinfo_record(&img, p)))
        .collect();
        (std::fs::read(&img).unwrap(), records)
    })
}

/// An image in memory, edited the way a hostile disk would be: the editor finds records
/// from the boot sector and handles update sequences itself (not through the reader).
struct Image(Vec<u8>);

fn le16(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}
fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

impl Image {
    fn small() -> Image {
        Image(small().0.clone())
    }
    fn record(name: &str) -> u64 {
        small().1[name]
    }
    fn cluster(&self) -> usize {
        le16(&self.0, 0x0B) * self.0[0x0D] as usize
    }
    /// Byte range of MFT record `n` (the small volume's MFT is in one piece).
    fn record_range(&self, n: u64) -> Range<usize> {
        let mft =
            u64::from_le_bytes(self.0[0x30..0x38].try_into().unwrap()) as usize * self.cluster();
        let rs = 1024;
        mft + n as usize * rs..mft + (n as usize + 1) * rs
    }
    /// Edits a multi-sector structure at `range`: its update sequence undone, `edit` run,
    /// the sequence written again.
    fn edit(&mut self, range: Range<usize>, edit: impl FnOnce(&mut [u8])) {
        let b = &mut self.0[range];
        let (usa, count) = (le16(b, 4), le16(b, 6));
        let stride = b.len() / (count - 1);
        for i in 0..count - 1 {
            let (end, saved) = ((i + 1) * stride - 2, usa + 2 + 2 * i);
            b.copy_within(saved..saved + 2, end);
        }
        edit(b);
        for i in 0..count - 1 {
            let (end, saved) = ((i + 1) * stride - 2, usa + 2 + 2 * i);
            b.copy_within(end..end + 2, saved);
            b.copy_within(usa..usa + 2, end);
        }
    }
    fn edit_record(&mut self, n: u64, edit: impl FnOnce(&mut [u8])) {
        let r = self.record_range(n);
        self.edit(r, edit);
    }
    fn open(&self) -> Result<Ntfs, lifeboat_volume::ntfs::NtfsError> {
        Ntfs::open(Arc::new(MemSource::new("hostile.img", self.0.clone())))
    }
}

/// The byte ranges of the attributes of type `kind` in a (fixed-up) record.
fn attrs(rec: &[u8], kind: u32) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = le16(rec, 0x14);
    while le32(rec, at) as u32 != 0xFFFF_FFFF {
        let len = le32(rec, at + 4);
        if le32(rec, at) as u32 == kind {
            out.push(at..at + len);
        }
        at += len;
    }
    out
}

/// Walks the whole volume as a capture would (bounded), reading every stream and
/// descriptor; returns every error met. It must end, and must not panic.
fn exercise(vol: &Ntfs) -> Vec<String> {
    let mut errors = Vec::new();
    let mut stack = vec![(vol.root(), 0)];
    let mut seen = std::collections::HashSet::new();
    let mut buf = vec![0u8; 1 << 16];
    while let Some((dir, depth)) = stack.pop() {
        let listing = match vol.read_dir(dir) {
            Ok(l) => l,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        errors.extend(listing.problems.iter().map(|e| e.to_string()));
        for e in listing.entries {
            if !seen.insert(e.file_ref.record) {
                continue;
            }
            let file = match vol.file(e.file_ref) {
                Ok(f) => f,
                Err(err) => {
                    errors.push(err.to_string());
                    continue;
                }
            };
            if let Err(err) = vol.file_security(&file) {
                errors.push(err.to_string());
            }
            for s in file.info().streams.clone() {
                match file.stream(&s.name) {
                    Ok(st) => {
                        let mut at = 0;
                        while at < st.len().min(64 << 20) {
                            match st.read_at(at, &mut buf) {
                                Ok(0) => break,
                                Ok(n) => at += n as u64,
                                Err(err) => {
                                    errors.push(err.to_string());
                                    break;
                                }
                            }
                        }
                    }
                    Err(err) => errors.push(err.to_string()),
                }
            }
            if file.info().is_dir && depth < 64 {
                stack.push((e.file_ref, depth + 1));
            }
        }
    }
    errors
}

#[test]
fn a_torn_record_is_refused_by_its_number_and_still_listed() {
    let mut img = Image::small();
    let n = Image::record(fx::small::SMALL);
    let r = img.record_range(n);
    img.0[r.start + 1022] ^= 0xFF; // the last stride no longer ends with the USN
    let vol = img.open().unwrap();
    let e = vol.file(FileRef::record(n)).unwrap_err();
    assert_eq!(e.place(), &lifeboat_volume::ntfs::Place::Record(n));
    assert!(e.to_string().contains("torn write"), "{e}");
    let root = vol.read_dir(vol.root()).unwrap();
    assert!(root.entries.iter().any(|d| d.name() == fx::small::SMALL));
    assert!(exercise(&vol)
        .iter()
        .any(|m| m.contains(&format!("MFT record {n}"))));
}

#[test]
fn a_run_list_past_the_volume_is_refused_naming_it() {
    let mut img = Image::small();
    let n = Image::record(fx::small::BIG);
    img.edit_record(n, |rec| {
        let data = attrs(rec, 0x80)[0].clone();
        let runs = data.start + le16(rec, data.start + 0x20);
        let h = rec[runs];
        let (len, off) = ((h & 0x0F) as usize, (h >> 4) as usize);
        rec[runs + 1 + len..runs + 1 + len + off].fill(0x7F);
    });
    let vol = img.open().unwrap();
    let e = vol.stream(FileRef::record(n), "").unwrap_err();
    assert!(
        matches!(e.place(), lifeboat_volume::ntfs::Place::RunList { record, kind: 0x80, .. } if *record == n),
        "{e:?}"
    );
    assert!(e.to_string().contains("past the volume"), "{e}");
    assert_eq!(e.file(), Some(fx::small::BIG));
}

#[test]
fn absurd_sizes_are_refused_or_cost_nothing() {
    let n = Image::record(fx::small::BIG);
    // Initialized bytes beyond the clusters mapped.
    let mut img = Image::small();
    img.edit_record(n, |rec| {
        let data = attrs(rec, 0x80)[0].clone();
        for at in [0x30, 0x38] {
            rec[data.start + at..data.start + at + 8].copy_from_slice(&(1u64 << 60).to_le_bytes());
        }
    });
    let vol = img.open().unwrap();
    let e = vol.stream(FileRef::record(n), "").unwrap_err();
    assert!(e.to_string().contains("initialized"), "{e}");
    // A huge length with nothing initialized past the data: zeros, read only as asked.
    let mut img = Image::small();
    img.edit_record(n, |rec| {
        let data = attrs(rec, 0x80)[0].clone();
        rec[data.start + 0x30..data.start + 0x38].copy_from_slice(&(1u64 << 62).to_le_bytes());
    });
    let vol = img.open().unwrap();
    let s = vol.stream(FileRef::record(n), "").unwrap();
    assert_eq!(s.len(), 1 << 62);
    let mut b = [0xEEu8; 16];
    assert_eq!(s.read_at(1 << 61, &mut b).unwrap(), 16);
    assert_eq!(b, [0; 16]);
    // A resident value longer than its record.
    let small = Image::record(fx::small::SMALL);
    let mut img = Image::small();
    img.edit_record(small, |rec| {
        let data = attrs(rec, 0x80)[0].clone();
        rec[data.start + 0x10..data.start + 0x14].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    });
    let vol = img.open().unwrap();
    let e = vol.file(FileRef::record(small)).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
}

/// A copy of a multi-sector structure with its update sequence undone.
fn unprotected(b: &[u8]) -> Vec<u8> {
    let mut b = b.to_vec();
    let (usa, count) = (le16(&b, 4), le16(&b, 6));
    let stride = b.len() / (count - 1);
    for i in 0..count - 1 {
        let (end, saved) = ((i + 1) * stride - 2, usa + 2 + 2 * i);
        b.copy_within(saved..saved + 2, end);
    }
    b
}

/// The first run of a non-resident attribute at `attr` in `rec`: (LCN, clusters).
fn first_run(rec: &[u8], attr: &Range<usize>) -> (usize, usize) {
    let runs = attr.start + le16(rec, attr.start + 0x20);
    let h = rec[runs];
    let (ls, os) = ((h & 0x0F) as usize, (h >> 4) as usize);
    let field =
        |at: usize, n: usize| (0..n).fold(0usize, |v, i| v | (rec[at + i] as usize) << (8 * i));
    (field(runs + 1 + ls, os), field(runs + 1, ls))
}

/// Points the last entry of an attribute list at record `target`.
fn point_last_entry(list: &mut [u8], target: u64) {
    let (mut at, mut last) = (0, 0);
    while at + 0x1A <= list.len() && le16(list, at + 4) > 0 {
        last = at;
        at += le16(list, at + 4);
    }
    list[last + 0x10..last + 0x18].copy_from_slice(&target.to_le_bytes());
}

#[test]
fn an_attribute_list_naming_another_file_is_refused() {
    let n = Image::record(fx::small::LINKED);
    let other = Image::record(fx::small::SMALL);
    for (target, refused) in [(other, true), (n, false)] {
        let mut img = Image::small();
        let rec = unprotected(&img.0[img.record_range(n)]);
        let list = attrs(&rec, 0x20)[0].clone();
        if rec[list.start + 8] == 0 {
            img.edit_record(n, |rec| {
                let value = list.start + le16(rec, list.start + 0x14);
                let len = le32(rec, list.start + 0x10);
                point_last_entry(&mut rec[value..value + len], target);
            });
        } else {
            let (lcn, _) = first_run(&rec, &list);
            let size = u64::from_le_bytes(
                rec[list.start + 0x30..list.start + 0x38]
                    .try_into()
                    .unwrap(),
            );
            let at = lcn * img.cluster();
            point_last_entry(&mut img.0[at..at + size as usize], target);
        }
        let vol = img.open().unwrap();
        match vol.file(FileRef::record(n)) {
            Err(e) if refused => {
                assert!(e.to_string().contains("belongs to MFT record 0"), "{e}");
                assert!(matches!(
                    e.place(),
                    lifeboat_volume::ntfs::Place::AttributeList { .. }
                ));
            }
            // Naming the base record itself: nothing loops, the names there are read.
            Ok(f) if !refused => assert!(f.info().names.len() <= fx::small::LINKS + 1),
            other => panic!("{target}: {other:?}"),
        }
    }
}

/// The index blocks of a folder on the small volume: (byte range, VCN) of each, from its
/// `$INDEX_ALLOCATION`'s first run.
fn index_blocks(img: &Image, n: u64) -> Vec<(Range<usize>, u64)> {
    let rec = unprotected(&img.0[img.record_range(n)]);
    let alloc = attrs(&rec, 0xA0)[0].clone();
    let (lcn, len) = first_run(&rec, &alloc);
    let c = img.cluster();
    (0..len)
        .map(|v| (lcn * c + v * c..lcn * c + (v + 1) * c, v as u64))
        .filter(|(r, _)| &img.0[r.start..r.start + 4] == b"INDX")
        .collect()
}

/// Offsets (in `node`'s buffer) of the sub-node pointers of the node whose header is at
/// `header`.
fn subnode_pointers(b: &[u8], header: usize) -> Vec<usize> {
    let mut at = header + le32(b, header);
    let mut out = Vec::new();
    loop {
        let (len, flags) = (le16(b, at + 8), le16(b, at + 12));
        if flags & 1 != 0 {
            out.push(at + len - 8);
        }
        if flags & 2 != 0 {
            return out;
        }
        at += len;
    }
}

#[test]
fn an_index_that_loops_ends_and_loses_nothing() {
    let n = Image::record(fx::small::FOLDER);
    let mut img = Image::small();
    let blocks = index_blocks(&img, n);
    assert!(blocks.len() >= 2, "the folder's index has blocks");
    let is_leaf = |img: &Image, r: &Range<usize>| img.0[r.start + 0x18 + 12] & 1 == 0;
    // A leaf block's last entry now points at the block itself.
    let (range, vcn) = blocks
        .iter()
        .find(|(r, _)| is_leaf(&img, r))
        .unwrap()
        .clone();
    img.edit(range, |b| {
        let node = 0x18;
        let used = le32(b, node + 4);
        let last = node + used - 16;
        assert_eq!(le16(b, last + 12) & 2, 2, "the last entry");
        assert!(used + 8 <= le32(b, node + 8), "room for the pointer");
        b[last + 8..last + 10].copy_from_slice(&24u16.to_le_bytes());
        b[last + 12..last + 14].copy_from_slice(&3u16.to_le_bytes());
        b[last + 16..last + 24].copy_from_slice(&vcn.to_le_bytes());
        b[node + 4..node + 8].copy_from_slice(&((used + 8) as u32).to_le_bytes());
        b[node + 12] |= 1;
    });
    let vol = img.open().unwrap();
    let listing = vol.read_dir(FileRef::record(n)).unwrap();
    let cycle = format!("index block at VCN {vcn} of MFT record {n}");
    assert!(
        listing
            .problems
            .iter()
            .any(|p| p.to_string().contains("cycle") && p.to_string().contains(&cycle)),
        "{:?}",
        listing.problems
    );
    assert_eq!(listing.entries.len(), fx::small::FOLDER_FILES);
    let _ = vol.lookup(FileRef::record(n), "zzz not there");
    let _ = vol.lookup(FileRef::record(n), "file 000.txt");

    // Two pointers of one node at one block: the second visit is refused, and the block no
    // pointer reaches now is found through the index's bitmap.
    let mut img = Image::small();
    let inner = blocks.iter().find(|(r, _)| !is_leaf(&img, r)).cloned();
    match inner {
        Some((range, _)) => img.edit(range, |b| {
            let p = subnode_pointers(b, 0x18);
            assert!(p.len() >= 2);
            b.copy_within(p[0]..p[0] + 8, p[1]);
        }),
        None => img.edit_record(n, |rec| {
            let root = attrs(rec, 0x90)[0].clone();
            let p = subnode_pointers(rec, root.start + le16(rec, root.start + 0x14) + 0x10);
            assert!(p.len() >= 2);
            rec.copy_within(p[0]..p[0] + 8, p[1]);
        }),
    }
    let vol = img.open().unwrap();
    let listing = vol.read_dir(FileRef::record(n)).unwrap();
    assert!(!listing.problems.is_empty());
    assert_eq!(listing.entries.len(), fx::small::FOLDER_FILES);
}

#[test]
fn a_damaged_mft_start_or_boot_sector_falls_back_to_the_copies() {
    let mut img = Image::small();
    let r = img.record_range(0);
    img.0[r.start..r.start + 4].copy_from_slice(b"XXXX");
    let vol = img.open().unwrap();
    assert!(exercise(&vol).is_empty());
    let mut img = Image::small();
    img.0[..512].fill(0);
    let vol = img.open().unwrap();
    assert!(vol.info().backup_boot_sector);
    assert!(exercise(&vol).is_empty());
    let e = Image(vec![0u8; 1 << 20]).open().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotNtfs(_)), "{e}");
}

#[test]
fn random_damage_to_the_mft_never_panics() {
    let mft = Image::small().record_range(0).start;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..200 {
        let mut img = Image::small();
        for _ in 0..1 + round % 16 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = mft + (x as usize % (64 * 1024));
            img.0[at] = (x >> 32) as u8;
        }
        if let Ok(vol) = img.open() {
            let _ = exercise(&vol);
            let _ = vol.scan().count();
        }
    }
}

/// A `$LogFile` restart page (4 KiB, protected by its update sequence) as Windows writes
/// it: one log client ("NTFS"), in use, and the clean flag as given.
fn restart_page(lsn: u64, clean: bool, file_size: u64) -> Vec<u8> {
    let mut p = vec![0u8; 4096];
    let put = |p: &mut Vec<u8>, at: usize, v: &[u8]| p[at..at + v.len()].copy_from_slice(v);
    put(&mut p, 0, b"RSTR");
    put(&mut p, 4, &0x1Eu16.to_le_bytes());
    put(&mut p, 6, &9u16.to_le_bytes());
    put(&mut p, 0x10, &4096u32.to_le_bytes());
    put(&mut p, 0x14, &4096u32.to_le_bytes());
    put(&mut p, 0x18, &0x30u16.to_le_bytes());
    put(&mut p, 0x1A, &1u16.to_le_bytes());
    put(&mut p, 0x1C, &1u16.to_le_bytes());
    let ra = 0x30;
    put(&mut p, ra, &lsn.to_le_bytes());
    put(&mut p, ra + 8, &1u16.to_le_bytes()); // one client
    put(&mut p, ra + 10, &0xFFFFu16.to_le_bytes()); // none free
    put(&mut p, ra + 12, &0u16.to_le_bytes()); // client 0 in use
    put(
        &mut p,
        ra + 14,
        &(if clean { 2u16 } else { 0 }).to_le_bytes(),
    );
    let bits = 64 - file_size.leading_zeros();
    put(&mut p, ra + 16, &(67 - bits).to_le_bytes());
    put(&mut p, ra + 20, &(0x30u16 + 0xA0).to_le_bytes());
    put(&mut p, ra + 22, &0x30u16.to_le_bytes());
    put(&mut p, ra + 24, &file_size.to_le_bytes());
    put(&mut p, ra + 36, &0x30u16.to_le_bytes());
    put(&mut p, ra + 38, &0x40u16.to_le_bytes());
    let client = ra + 0x30;
    put(&mut p, client, &lsn.to_le_bytes());
    put(&mut p, client + 8, &lsn.to_le_bytes());
    put(&mut p, client + 16, &0xFFFFu16.to_le_bytes());
    put(&mut p, client + 18, &0xFFFFu16.to_le_bytes());
    put(&mut p, client + 28, &8u32.to_le_bytes());
    let name: Vec<u8> = "NTFS".encode_utf16().flat_map(u16::to_le_bytes).collect();
    put(&mut p, client + 32, &name);
    // Protect: USN 1 at the end of every 512-byte stride, the real bytes in the array.
    put(&mut p, 0x1E, &1u16.to_le_bytes());
    for i in 0..8 {
        let end = (i + 1) * 512 - 2;
        p.copy_within(end..end + 2, 0x20 + 2 * i);
        put(&mut p, end, &1u16.to_le_bytes());
    }
    p
}

#[test]
fn a_volume_windows_did_not_close_is_reported_and_read_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    for clean in [false, true] {
        let mut img = Image::small();
        let rec = unprotected(&img.0[img.record_range(2)]);
        let data = attrs(&rec, 0x80)[0].clone();
        let (lcn, _) = first_run(&rec, &data);
        let size = u64::from_le_bytes(
            rec[data.start + 0x30..data.start + 0x38]
                .try_into()
                .unwrap(),
        );
        let at = lcn * img.cluster();
        img.0[at..at + 4096].copy_from_slice(&restart_page(0x2000, clean, size));
        img.0[at + 4096..at + 8192].copy_from_slice(&restart_page(0x1000, clean, size));
        let path = dir.path().join(format!("log-{clean}.img"));
        std::fs::write(&path, &img.0).unwrap();
        // ntfs-3g finds the log unclean (and then mounts read-only) or clean.
        let mnt = dir.path().join(format!("mnt-{clean}"));
        std::fs::create_dir_all(&mnt).unwrap();
        let (code, _, err) = run(std::process::Command::new("ntfs-3g")
            .args(["-o", "norecover"])
            .arg(&path)
            .arg(&mnt));
        if code == 0 {
            let _ = run(std::process::Command::new("umount").arg(&mnt));
        }
        assert_eq!(
            err.contains("unclean file system"),
            !clean,
            "ntfs-3g: {err}"
        );

        let vol = img.open().unwrap();
        let want = if clean {
            LogState::Clean
        } else {
            LogState::Dirty
        };
        assert_eq!(vol.info().log, want);
        assert_eq!(vol.info().unclean(), !clean);
        assert!(exercise(&vol).is_empty(), "read as it is");
    }

    // The dirty bit of $Volume, as chkdsk and ntfsinfo see it.
    let mut img = Image::small();
    let set_dirty = |rec: &mut [u8]| {
        let info = attrs(rec, 0x70)[0].clone();
        let value = info.start + le16(rec, info.start + 0x14);
        rec[value + 10] |= 1;
    };
    img.edit_record(3, set_dirty);
    // $MFTMirr's copy too, as Windows keeps them the same.
    let mirror = u64::from_le_bytes(img.0[0x38..0x40].try_into().unwrap()) as usize * img.cluster();
    img.edit(mirror + 3 * 1024..mirror + 4 * 1024, set_dirty);
    let path = dir.path().join("dirty-bit.img");
    std::fs::write(&path, &img.0).unwrap();
    let (code, _, err) = run(std::process::Command::new("ntfsinfo").arg("-m").arg(&path));
    assert!(
        code != 0 && err.contains("scheduled for check"),
        "ntfsinfo: {err}"
    );
    let (code, out, _) = run(std::process::Command::new("ntfsinfo")
        .args(["-f", "-m"])
        .arg(&path));
    assert_eq!(code, 0);
    assert!(out.contains("Volume Flags: 0x0001"), "{out}");
    let vol = img.open().unwrap();
    assert!(vol.info().dirty_flag() && vol.info().unclean());
}

/// Volumes formatted and filled by Windows 10 (msuhanov/ntfs-samples, CC0 1.0: 2 MiB
/// clusters, a volume with shadow copies, $I30 slack, differing timestamps), read by both
/// readers through their MBR partition. The images are not in this repository: set
/// `LIFEBOAT_NTFS_SAMPLES` to a folder holding them (`*.raw`, or `*.raw.gz` and `ntfs.tgz`
/// as published); without it the test says so and checks nothing.
#[test]
fn windows_made_volumes_match_ntfs3g() {
    let Some(dir) = std::env::var_os("LIFEBOAT_NTFS_SAMPLES") else {
        eprintln!("skipped: windows_made_volumes_match_ntfs3g needs LIFEBOAT_NTFS_SAMPLES");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut images = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".raw") {
            images.push(p);
        } else if let Some(stem) = name.strip_suffix(".raw.gz") {
            let out = tmp.path().join(format!("{stem}.raw"));
            let (code, _, err) = run(std::process::Command::new("sh").arg("-c").arg(format!(
                "gunzip -c '{}' > '{}'",
                p.display(),
                out.display()
            )));
            assert_eq!(code, 0, "{err}");
            images.push(out);
        } else if name == "ntfs.tgz" {
            let (code, _, err) = run(std::process::Command::new("tar")
                .arg("-xzf")
                .arg(&p)
                .arg("-C")
                .arg(tmp.path()));
            assert_eq!(code, 0, "{err}");
            images.push(tmp.path().join("ntfs.raw"));
        }
    }
    assert!(
        !images.is_empty(),
        "no images in {}",
        Path::new(&dir).display()
    );
    for img in images {
        let disk: Source = Arc::new(FileSource::open(&img).unwrap());
        let table = lifeboat_volume::partition::PartitionTable::read(&disk).unwrap();
        let part = &table.partitions[0];
        let vol = Ntfs::open(Arc::new(part.open(&disk).unwrap())).unwrap();
        assert_eq!(
            vol.info().log,
            LogState::Clean,
            "{}: Windows closed it",
            img.display()
        );
        let (code, dev, err) = run(std::process::Command::new("losetup")
            .args(["-f", "--show", "-r", "-o", &part.offset.to_string()])
            .args(["--sizelimit", &part.size.to_string()])
            .arg(&img));
        assert_eq!(code, 0, "losetup: {err}");
        let dev = dev.trim().to_string();
        let ours = lifeboat_view(&vol);
        let theirs = {
            let mnt = Mount::new(
                Path::new(&dev),
                &tmp.path().join("oracle"),
                "ro,streams_interface=xattr",
            );
            ntfs3g_view(Path::new(&dev), mnt.path())
        };
        let _ = run(std::process::Command::new("losetup").arg("-d").arg(&dev));
        assert_same(&ours, &theirs);
        eprintln!("{}: {} files alike", img.display(), ours.len());
    }
}

/// Volumes formatted and filled by Windows, from dissect.ntfs's test suite (downloaded by
/// scripts/test.sh): one with folders, streams and descriptors, one of 1 GiB holding
/// OneDrive placeholders. Both readers list the same files with the same bytes, times,
/// attributes, reparse data and descriptors; every placeholder ntfs-3g shows as a cloud
/// reparse point is one Lifeboat says cannot be read here.
#[test]
fn windows_formatted_volumes_from_dissect_ntfs_match_ntfs3g() {
    let Some(data) = fixtures::downloaded("LIFEBOAT_WINDOWS_NTFS", "ntfs.bin.gz") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for name in ["ntfs.bin", "ntfs-cloud.bin"] {
        let img = tmp.path().join(name);
        // Unpacked sparse: the cloud volume is 1 GiB, almost all of it never written.
        let (code, _, err) = run(std::process::Command::new("sh").arg("-c").arg(format!(
            "gunzip -c '{}' | cp --sparse=always /dev/stdin '{}'",
            data.with_file_name(format!("{name}.gz")).display(),
            img.display()
        )));
        assert_eq!(code, 0, "{err}");
        let vol = open(&img);
        let ours = lifeboat_view(&vol);
        let theirs = {
            let mnt = Mount::new(
                &img,
                &tmp.path().join("oracle"),
                "ro,streams_interface=xattr",
            );
            ntfs3g_view(&img, mnt.path())
        };
        assert_same(&ours, &theirs);
        let cloud = if name == "ntfs-cloud.bin" {
            cloud_files_match_ntfs3g(&vol, &img, "/OneDrive")
        } else {
            0
        };
        eprintln!("{name}: {} files alike, {cloud} cloud files", ours.len());
    }
}

/// The files of a OneDrive folder (a sync root: both readers stop at its reparse point),
/// listed by ntfs-3g's ntfsls and read by ntfscat: each cloud file is one Lifeboat sees as
/// such; one Windows keeps on the disk reads the same bytes; one whose data stayed on the
/// server (offline, recalled on access: ntfscat gives zeros) Lifeboat refuses to read as
/// a placeholder. Returns the count of cloud files.
fn cloud_files_match_ntfs3g(vol: &Ntfs, img: &Path, folder: &str) -> usize {
    let (code, out, err) = run(std::process::Command::new("ntfsls")
        .args(["-f", "-p", folder])
        .arg(img));
    assert_eq!(code, 0, "ntfsls: {err}");
    let mut theirs: Vec<String> = out.lines().map(|l| l.trim().to_string()).collect();
    theirs.retain(|n| !n.is_empty() && n != "." && n != "..");
    theirs.sort();
    let mut ours: Vec<String> = vol
        .read_dir(vol.resolve(folder).unwrap())
        .unwrap()
        .entries
        .iter()
        .filter(|e| e.file_name.namespace != Namespace::Dos)
        .map(|e| e.name().to_string())
        .collect();
    ours.sort();
    ours.dedup();
    assert_eq!(ours, theirs, "{folder}");
    let (mut cloud, mut offline) = (0, 0);
    for name in &theirs {
        let path = format!("{folder}/{name}");
        let file = vol.file(vol.resolve(&path).unwrap()).unwrap();
        let info = file.info();
        if info.is_dir {
            continue;
        }
        let (_, text, _) = run(std::process::Command::new("ntfsinfo")
            .args(["-f", "-F", &path])
            .arg(img));
        let attributes = text
            .lines()
            .find(|l| l.trim_start().starts_with("File attributes:"))
            .and_then(|l| l.rsplit_once("(0x"))
            .and_then(|(_, hex)| u32::from_str_radix(hex.trim_end_matches(')'), 16).ok())
            .unwrap_or_else(|| panic!("{path}: no attributes in\n{text}"));
        assert_eq!(info.attributes, attributes, "{path}");
        let is_cloud = info.reparse.as_ref().map(|r| r.kind.clone()) == Some(ReparseKind::Cloud);
        if attributes & 0x400 == 0 || !is_cloud {
            continue;
        }
        cloud += 1;
        // Offline, or its data recalled on access: the bytes are not on this disk.
        if attributes & (0x1000 | 0x0040_0000) != 0 {
            offline += 1;
            let e = file
                .stream("")
                .err()
                .unwrap_or_else(|| panic!("{path} read"));
            assert!(
                matches!(e.kind(), ErrorKind::Unavailable(Unavailable::Cloud)),
                "{path}: {e}"
            );
        } else {
            let stream = file.stream("").unwrap_or_else(|e| panic!("{path}: {e}"));
            let (_, want, _) = run(std::process::Command::new("ntfscat")
                .arg("-f")
                .arg(img)
                .arg(&path));
            let mut buf = vec![0u8; stream.len() as usize];
            let n = stream.read_at(0, &mut buf).unwrap();
            assert_eq!(String::from_utf8_lossy(&buf[..n]), want, "{path}");
        }
    }
    assert!(
        cloud > offline && offline > 0,
        "{cloud} cloud files, {offline} offline"
    );
    cloud
}
