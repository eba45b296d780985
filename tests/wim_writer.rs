//! Lifeboat's own WIM writer (`lifeboat::wim::writer`) held to tools nobody here wrote:
//! wimlib's `wimverify`, `wimapply` (to a folder and to an NTFS volume through ntfs-3g),
//! `wimdir`, `wiminfo --xml` and `wimsplit`, 7-Zip's `7zz t`, and `wimcapture` of the same
//! tree; and to Lifeboat's own read-back. Every compression, on a tree that varies what
//! matters: tiny, empty, one-chunk, multi-chunk and streamed files, incompressible data,
//! duplicates of each, named streams, reparse points, hard links, security descriptors,
//! deep folders, Unicode names beyond the BMP, names differing only in case.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::{noise, run};
use lifeboat::wim::writer::{
    Data, Entry, EntryProblem, Error, Kind, NamedStream, Options, Reparse, Times, WimWriter,
};
use lifeboat::wim::{Compression, Wim};

const ALL: [Compression; 4] = [
    Compression::None,
    Compression::Xpress,
    Compression::Lzx,
    Compression::Lzms,
];
const SYMLINK: u32 = 0xA000_000C;
const MOUNT_POINT: u32 = 0xA000_0003;

fn chunk(c: Compression) -> usize {
    match c {
        Compression::Lzms => 128 << 10,
        _ => 32 << 10,
    }
}

fn tool(cmd: &mut Command) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{cmd:?} failed: {out}{err}");
    out
}

/// Compressible text of `len` bytes, different for each seed.
fn text(len: usize, seed: u64) -> Vec<u8> {
    let words = [
        "lifeboat ",
        "wim ",
        "chunk ",
        "resource ",
        "blob ",
        "image ",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut i = seed;
    while out.len() < len {
        out.extend_from_slice(words[(i % 6) as usize].as_bytes());
        out.extend_from_slice(format!("{i} ").as_bytes());
        i = i.wrapping_mul(31).wrapping_add(7) % 1000;
    }
    out.truncate(len);
    out
}

/// The tree on disk: files of every size class (each with a duplicate elsewhere),
/// Unicode and mixed-case names, a deep path, an empty folder, hard links and relative
/// symbolic links.
fn make_tree(root: &Path, c: Compression) -> u64 {
    let k = chunk(c);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("tiny.txt", b"x".to_vec()),
        ("empty.txt", Vec::new()),
        ("one chunk.txt", text(k, 1)),
        ("multi chunk.txt", text(3 * k + 17, 2)),
        ("streamed.txt", text((1 << 20) + 5000, 3)),
        ("noise one chunk.bin", noise(k, 4)),
        ("noise multi.bin", noise(3 * k + 1, 5)),
        ("noise streamed.bin", noise((2 << 20) + 3, 6)),
        ("a/Grüße ファイル.txt", text(4097, 7)),
        ("a/𝄞 music 🎵.txt", text(100, 8)),
        ("a/Readme.TXT", b"upper".to_vec()),
        ("a/readme.txt", b"lower".to_vec()),
        ("a/README.txt", b"mixed".to_vec()),
    ];
    std::fs::create_dir_all(root.join("a/empty folder")).unwrap();
    let deep: PathBuf = (0..40).map(|i| format!("d{i}")).collect();
    std::fs::create_dir_all(root.join(&deep)).unwrap();
    std::fs::write(root.join(&deep).join("deep.txt"), b"deep").unwrap();
    let mut bytes = 4;
    for (p, data) in &files {
        std::fs::write(root.join(p), data).unwrap();
        bytes += data.len() as u64;
        // A duplicate of each in another folder, written after the original.
        if !p.starts_with("a/") {
            std::fs::create_dir_all(root.join("copies")).unwrap();
            std::fs::write(root.join("copies").join(p), data).unwrap();
            bytes += data.len() as u64;
        }
    }
    std::fs::hard_link(root.join("multi chunk.txt"), root.join("a/hard link.txt")).unwrap();
    bytes += (3 * k + 17) as u64;
    std::os::unix::fs::symlink("../tiny.txt", root.join("a/link to tiny")).unwrap();
    std::os::unix::fs::symlink("a", root.join("link to a")).unwrap();
    bytes
}

/// A relative symbolic link as Windows stores it (substitute and print names the target
/// with backslashes, each NUL-terminated, flag 1 = relative), as wimlib's own capture
/// encodes it.
fn symlink_data(target: &str) -> Vec<u8> {
    let t: Vec<u8> = target
        .replace('/', "\\")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let n = t.len() as u16;
    let mut d = Vec::new();
    for v in [0, n, n + 2, n] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    d.extend_from_slice(&1u32.to_le_bytes());
    for _ in 0..2 {
        d.extend_from_slice(&t);
        d.extend_from_slice(&[0, 0]);
    }
    d
}

/// A self-relative security descriptor: owner and group, a DACL granting `sid_last`
/// (S-1-5-32-x) full control.
fn security_descriptor(sid_last: u32) -> Vec<u8> {
    let sid = |sub: &[u32]| {
        let mut s = vec![1, sub.len() as u8, 0, 0, 0, 0, 0, 5];
        for v in sub {
            s.extend_from_slice(&v.to_le_bytes());
        }
        s
    };
    let owner = sid(&[32, 544]);
    let group = sid(&[18]);
    let ace_sid = sid(&[32, sid_last]);
    let mut ace = vec![0, 0];
    ace.extend_from_slice(&((8 + ace_sid.len()) as u16).to_le_bytes());
    ace.extend_from_slice(&0x001F_01FFu32.to_le_bytes());
    ace.extend_from_slice(&ace_sid);
    let mut acl = vec![2, 0];
    acl.extend_from_slice(&((8 + ace.len()) as u16).to_le_bytes());
    acl.extend_from_slice(&1u16.to_le_bytes());
    acl.extend_from_slice(&0u16.to_le_bytes());
    acl.extend_from_slice(&ace);
    let mut sd = vec![1, 0];
    sd.extend_from_slice(&0x8004u16.to_le_bytes()); // self-relative, DACL present
    let owner_at = 20u32;
    let group_at = owner_at + owner.len() as u32;
    let dacl_at = group_at + group.len() as u32;
    for v in [owner_at, group_at, 0, dacl_at] {
        sd.extend_from_slice(&v.to_le_bytes());
    }
    sd.extend_from_slice(&owner);
    sd.extend_from_slice(&group);
    sd.extend_from_slice(&acl);
    sd
}

/// What the tests add beyond the disk: named streams and descriptors, by path.
#[derive(Default)]
struct Extras {
    streams: HashMap<String, Vec<(String, Vec<u8>)>>,
    security: HashMap<String, Vec<u8>>,
}

/// Feeds a folder to the writer as the bench does, plus `extras`; returns the stream
/// bytes added beyond the files' data.
fn feed(w: &mut WimWriter, root: &Path, extras: &Extras) -> u64 {
    let mut extra_bytes = 0;
    let mut stack = vec![(root.to_path_buf(), Vec::<String>::new())];
    while let Some((dir, parts)) = stack.pop() {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let mut e = Entry::folder(&refs);
        let key = parts.join("/");
        e.security = extras.security.get(&key).map(Vec::as_slice);
        let m = std::fs::metadata(&dir).unwrap();
        e.times = times(&m);
        w.add(e).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        names.sort_by_key(|e| e.file_name());
        for de in names {
            let name = de.file_name().into_string().unwrap();
            let mut p = parts.clone();
            p.push(name);
            let key = p.join("/");
            let meta = std::fs::symlink_metadata(de.path()).unwrap();
            if meta.is_dir() {
                stack.push((de.path(), p));
                continue;
            }
            let refs: Vec<&str> = p.iter().map(String::as_str).collect();
            let mut file = File::open(de.path()).ok();
            let target = std::fs::read_link(de.path()).ok();
            let rp = target.map(|t| symlink_data(t.to_str().unwrap()));
            let mut readers: Vec<(String, &[u8])> = Vec::new();
            for (n, d) in extras.streams.get(&key).into_iter().flatten() {
                readers.push((n.clone(), d.as_slice()));
                extra_bytes += d.len() as u64;
            }
            let mut slices: Vec<&[u8]> = readers.iter().map(|r| r.1).collect();
            let mut e = match (&rp, file.as_mut()) {
                (None, Some(f)) => Entry::file(
                    &refs,
                    Data {
                        size: meta.len(),
                        reader: f,
                    },
                ),
                // A link to a folder is a folder reparse point, as Windows (and wimlib) has it.
                _ if std::fs::metadata(de.path()).is_ok_and(|m| m.is_dir()) => Entry::folder(&refs),
                _ => Entry {
                    kind: Kind::File,
                    ..Entry::folder(&refs)
                },
            };
            e.named = readers
                .iter()
                .zip(slices.iter_mut())
                .map(|((n, d), s)| NamedStream {
                    name: n,
                    data: Data {
                        size: d.len() as u64,
                        reader: s,
                    },
                })
                .collect();
            if let Some(rp) = &rp {
                e.reparse = Some(Reparse {
                    tag: SYMLINK,
                    reserved: 0,
                    data: rp,
                });
                extra_bytes += rp.len() as u64;
            }
            e.security = extras.security.get(&key).map(Vec::as_slice);
            e.times = times(&meta);
            e.attributes = 0x20; // archive
            if meta.nlink() > 1 && rp.is_none() {
                e.link = Some(meta.ino());
            }
            w.add(e).unwrap();
        }
    }
    extra_bytes
}

fn times(m: &std::fs::Metadata) -> Times {
    let t = Times::filetime(m.mtime(), m.mtime_nsec() as u32);
    Times {
        creation: t,
        last_access: t,
        last_write: t,
    }
}

fn write(
    path: &Path,
    root: &Path,
    c: Compression,
    extras: &Extras,
) -> (lifeboat::wim::writer::Summary, u64) {
    let mut opts = Options::new(c);
    opts.threads = 3;
    let mut w = WimWriter::create(path, opts).unwrap();
    w.begin_image("tree", "a test tree").unwrap();
    let extra = feed(&mut w, root, extras);
    (w.finish().unwrap(), extra)
}

/// `wiminfo --xml`'s numbers for image 1.
fn xml_numbers(wim: &Path) -> BTreeMap<String, String> {
    let out = Command::new("wiminfo")
        .arg("--xml")
        .arg(wim)
        .output()
        .unwrap();
    assert!(out.status.success());
    let units: Vec<u16> = out
        .stdout
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let doc = String::from_utf16(&units).unwrap();
    // The image's element (the WIM's own TOTALBYTES stands outside it).
    let x = &doc[doc.find("<IMAGE").unwrap()..doc.find("</IMAGE>").unwrap()];
    let mut out = BTreeMap::new();
    for tag in [
        "DIRCOUNT",
        "FILECOUNT",
        "TOTALBYTES",
        "HARDLINKBYTES",
        "NAME",
        "DESCRIPTION",
    ] {
        let open = format!("<{tag}>");
        let values: Vec<&str> = x
            .match_indices(&open)
            .map(|(i, _)| {
                let v = &x[i + open.len()..];
                &v[..v.find('<').unwrap()]
            })
            .collect();
        if let Some(v) = values.first() {
            out.insert(tag.to_string(), v.to_string());
        }
    }
    out
}

/// Path → SHA-1 of each entry's data, by wimlib's reading of the WIM.
/// Whether a folder, its data's size and SHA-1, its reparse tag.
type Seen = (bool, u64, Option<[u8; 20]>, u32);

fn hashes(wim: &Path) -> BTreeMap<String, Seen> {
    let mut w = Wim::open(wim, false).unwrap();
    w.iterate(1, "")
        .unwrap()
        .into_iter()
        .map(|e| (e.path, (e.is_dir, e.size, e.sha1, e.reparse_tag)))
        .collect()
}

#[test]
fn every_compression_writes_a_wim_wimlib_and_7zip_accept_and_apply_back_unchanged() {
    for c in ALL {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let file_bytes = make_tree(&src, c);
        let wim = dir.path().join("ours.wim");
        let (summary, extra) = write(&wim, &src, c, &Extras::default());
        let what = c.as_str();

        tool(Command::new("wimverify").arg(&wim));
        tool(Command::new("7zz").arg("t").arg(&wim));
        let info = tool(Command::new("wiminfo").arg(&wim));
        assert!(info.contains("Integrity info"), "{what}: {info}");
        if c != Compression::None {
            assert!(
                info.to_uppercase().contains(&what.to_uppercase()),
                "{what}: {info}"
            );
        }

        // Counts from the tree on disk: 13 + 8 copies + 1 deep + 1 hard link + 2 links
        // files (a link to a folder is a folder reparse point, which wimlib counts as a
        // file); the root, a, a/empty folder, copies and 40 deep folders.
        let x = xml_numbers(&wim);
        assert_eq!(x["FILECOUNT"], "25", "{what}: {x:?}");
        assert_eq!(x["DIRCOUNT"], "44", "{what}: {x:?}");
        assert_eq!(
            x["TOTALBYTES"],
            (file_bytes + extra).to_string(),
            "{what}: {x:?}"
        );
        assert_eq!(
            x["HARDLINKBYTES"],
            (3 * chunk(c) + 17).to_string(),
            "{what}"
        );
        assert_eq!(x["NAME"], "tree");
        assert_eq!(summary.images[0].files, 25);

        // The same tree captured by wimlib: the same entries with the same data, and a
        // WIM no more than 1 % larger.
        let theirs = dir.path().join("theirs.wim");
        tool(
            Command::new("wimcapture")
                .arg(&src)
                .arg(&theirs)
                .arg(format!("--compress={what}"))
                .arg("--norpfix"),
        );
        let (a, b) = (hashes(&wim), hashes(&theirs));
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{what}"
        );
        for (p, v) in &a {
            assert_eq!(*v, b[p], "{what}: {p}");
        }
        let y = xml_numbers(&theirs);
        for tag in ["FILECOUNT", "DIRCOUNT", "TOTALBYTES", "HARDLINKBYTES"] {
            assert_eq!(x[tag], y[tag], "{what}: {tag}");
        }
        let (ours, their) = (
            std::fs::metadata(&wim).unwrap().len(),
            std::fs::metadata(&theirs).unwrap().len(),
        );
        assert!(
            ours * 100 <= their * 101,
            "{what}: {ours} bytes against wimcapture's {their}"
        );
        // Every duplicate stored once: streamed ones were taken back.
        assert_eq!(
            summary.duplicates, 7,
            "{what}: every copy but the empty one: {summary:?}"
        );

        // Applied back: the same tree, links and times.
        let out = dir.path().join("out");
        tool(Command::new("wimapply").arg(&wim).arg("1").arg(&out));
        let (code, diff, err) = run(Command::new("diff")
            .arg("-r")
            .arg("--no-dereference")
            .arg(&src)
            .arg(&out));
        assert_eq!(code, 0, "{what}: applied back different: {diff}{err}");
        let ino = |p: &str| std::fs::metadata(out.join(p)).unwrap().ino();
        assert_eq!(ino("multi chunk.txt"), ino("a/hard link.txt"), "{what}");
        let mtime = |p: &Path| std::fs::metadata(p).unwrap().mtime();
        assert_eq!(
            mtime(&out.join("a/Readme.TXT")),
            mtime(&src.join("a/Readme.TXT"))
        );

        // wimdir lists what is on disk.
        let listed = tool(Command::new("wimdir").arg(&wim).arg("1"));
        assert!(listed.lines().any(|l| l == "/a/𝄞 music 🎵.txt"), "{listed}");
        assert_eq!(listed.lines().count(), 24 + 45, "{listed}");

        // Lifeboat's read-back: every blob against its hash, the totals.
        let mut w = Wim::open(&wim, true).unwrap();
        let totals = w.verify(None).unwrap();
        assert_eq!(
            totals[0].files, 24,
            "{what}: the link to a folder is a folder here"
        );
        // A link to a file counts its reparse data as its data there, as it does for
        // wimcapture's WIM.
        let link = symlink_data("../tiny.txt").len() as u64;
        assert_eq!(totals[0].bytes, file_bytes + link, "{what}");
        let theirs_totals = Wim::open(&theirs, true).unwrap().verify(None).unwrap();
        assert_eq!(totals, theirs_totals, "{what}");
    }
}

/// Named streams, reparse points, attributes, hard links and security descriptors reach
/// an NTFS volume: `wimapply` writes the WIM onto an ntfs-3g volume image, which ntfs-3g
/// then mounts, and each is read back through its extended attributes.
#[test]
fn streams_reparse_points_links_and_descriptors_reach_an_ntfs_volume() {
    for c in [Compression::None, Compression::Lzx] {
        let dir = tempfile::tempdir().unwrap();
        let wim = dir.path().join("n.wim");
        let mut w = WimWriter::create(&wim, Options::new(c)).unwrap();
        w.begin_image("ntfs", "").unwrap();
        let (sd_a, sd_b) = (security_descriptor(545), security_descriptor(546));
        let zone = b"[ZoneTransfer]\r\nZoneId=3\r\n".to_vec();
        let big_stream = text(50_000, 9); // an xattr holds at most 64 KiB
        let body = text(70_000, 10);
        // A file whose folder comes after it (the order of data on a disk).
        let mut z = &zone[..];
        let mut s = &big_stream[..];
        let mut b = &body[..];
        let mut e = Entry::file(
            &["docs", "report.txt"],
            Data {
                size: body.len() as u64,
                reader: &mut b,
            },
        );
        e.attributes = 0x21; // read-only, archive
        e.security = Some(&sd_a);
        e.link = Some(7);
        e.named = vec![
            NamedStream {
                name: "Zone.Identifier",
                data: Data {
                    size: zone.len() as u64,
                    reader: &mut z,
                },
            },
            NamedStream {
                name: "big ストリーム",
                data: Data {
                    size: big_stream.len() as u64,
                    reader: &mut s,
                },
            },
        ];
        w.add(e).unwrap();
        let mut folder = Entry::folder(&["docs"]);
        folder.attributes = 0x12; // hidden
        folder.security = Some(&sd_b);
        w.add(folder).unwrap();
        let added = w
            .add(Entry {
                link: Some(7),
                ..Entry::file(
                    &["report link.txt"],
                    Data {
                        size: 0,
                        reader: &mut &b""[..],
                    },
                )
            })
            .unwrap();
        assert!(added.linked);
        // A junction (a folder reparse point) and a file symlink.
        let target: Vec<u8> = r"\??\C:\docs"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let mut junction = Vec::new();
        for v in [0u16, target.len() as u16, target.len() as u16 + 2, 0] {
            junction.extend_from_slice(&v.to_le_bytes());
        }
        junction.extend_from_slice(&target);
        junction.extend_from_slice(&[0, 0, 0, 0]);
        let mut j = Entry::folder(&["junction"]);
        j.reparse = Some(Reparse {
            tag: MOUNT_POINT,
            reserved: 0,
            data: &junction,
        });
        w.add(j).unwrap();
        let link = symlink_data("docs/report.txt");
        let mut l = Entry {
            kind: Kind::File,
            ..Entry::folder(&["report symlink"])
        };
        l.reparse = Some(Reparse {
            tag: SYMLINK,
            reserved: 0,
            data: &link,
        });
        l.security = Some(&sd_a);
        w.add(l).unwrap();
        let s = w.finish().unwrap();
        assert_eq!(
            s.images[0].hard_link_bytes,
            body.len() as u64 + zone.len() as u64 + big_stream.len() as u64
        );
        tool(Command::new("wimverify").arg(&wim));
        tool(Command::new("7zz").arg("t").arg(&wim));

        let img = dir.path().join("ntfs.img");
        tool(Command::new("truncate").args(["-s", "32M"]).arg(&img));
        tool(Command::new("mkntfs").args(["-F", "-Q", "-q"]).arg(&img));
        tool(Command::new("wimapply").arg(&wim).arg("1").arg(&img));
        let mnt = dir.path().join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        tool(
            Command::new("ntfs-3g")
                .args(["-o", "ro,streams_interface=xattr"])
                .arg(&img)
                .arg(&mnt),
        );
        let _unmount = Unmount(mnt.clone());
        let xattr = |p: &str, name: &str| -> Vec<u8> {
            let out = Command::new("getfattr")
                .args(["-h", "--only-values", "--absolute-names", "-n", name])
                .arg(mnt.join(p))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{p} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let read = |p: &str| std::fs::read(mnt.join(p)).unwrap();
        assert_eq!(read("docs/report.txt"), body);
        assert_eq!(read("report link.txt"), body);
        assert_eq!(
            std::fs::metadata(mnt.join("docs/report.txt"))
                .unwrap()
                .ino(),
            std::fs::metadata(mnt.join("report link.txt"))
                .unwrap()
                .ino()
        );
        assert_eq!(xattr("docs/report.txt", "user.Zone.Identifier"), zone);
        assert_eq!(
            xattr("docs/report.txt", "user.big ストリーム").len(),
            big_stream.len()
        );
        assert_eq!(xattr("docs/report.txt", "system.ntfs_acl"), sd_a);
        assert_eq!(xattr("docs", "system.ntfs_acl"), sd_b);
        let attrib =
            |p: &str| u32::from_le_bytes(xattr(p, "system.ntfs_attrib")[..4].try_into().unwrap());
        assert_eq!(attrib("docs/report.txt") & 0x21, 0x21);
        assert_eq!(attrib("docs") & 0x12, 0x12);
        let rp = xattr("junction", "system.ntfs_reparse_data");
        assert_eq!(u32::from_le_bytes(rp[..4].try_into().unwrap()), MOUNT_POINT);
        assert_eq!(&rp[8..], &junction[..]);
        let rp = xattr("report symlink", "system.ntfs_reparse_data");
        assert_eq!(u32::from_le_bytes(rp[..4].try_into().unwrap()), SYMLINK);
        assert_eq!(&rp[8..], &link[..]);
    }
}

struct Unmount(PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A reader that fails after `ok` bytes, or yields more or fewer bytes than declared.
struct Faulty {
    data: Vec<u8>,
    at: usize,
    fail_at: Option<usize>,
}

impl Read for Faulty {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.at >= f) {
            return Err(std::io::Error::other("the disk gave up"));
        }
        let end = self.data.len().min(self.at + buf.len());
        let end = self.fail_at.map_or(end, |f| end.min(f));
        let n = end - self.at;
        buf[..n].copy_from_slice(&self.data[self.at..end]);
        self.at = end;
        Ok(n)
    }
}

/// A stream that fails midway or changes size leaves its entry out, with an error the
/// caller can tell from a broken WIM; nothing of it stays referenced, and its bytes are
/// taken back; the WIM is finished and sound.
#[test]
fn a_file_that_fails_or_changes_while_read_is_left_out_cleanly() {
    for c in ALL {
        let dir = tempfile::tempdir().unwrap();
        let wim = dir.path().join("f.wim");
        let mut w = WimWriter::create(&wim, Options::new(c)).unwrap();
        w.begin_image("f", "").unwrap();
        let big = noise(3 << 20, 11);
        let cases: Vec<(&str, u64, Faulty)> = vec![
            (
                "fails midway",
                big.len() as u64,
                Faulty {
                    data: big.clone(),
                    at: 0,
                    fail_at: Some(2 << 20),
                },
            ),
            (
                "shrank",
                big.len() as u64 + 10,
                Faulty {
                    data: big.clone(),
                    at: 0,
                    fail_at: None,
                },
            ),
            (
                "grew",
                big.len() as u64 - 10,
                Faulty {
                    data: big.clone(),
                    at: 0,
                    fail_at: None,
                },
            ),
            (
                "small grew",
                3,
                Faulty {
                    data: b"abcd".to_vec(),
                    at: 0,
                    fail_at: None,
                },
            ),
            (
                "small fails",
                4,
                Faulty {
                    data: b"abcd".to_vec(),
                    at: 0,
                    fail_at: Some(2),
                },
            ),
        ];
        for (name, size, mut r) in cases {
            let err = w
                .add(Entry::file(
                    &["bad", name],
                    Data {
                        size,
                        reader: &mut r,
                    },
                ))
                .unwrap_err();
            assert!(!err.is_fatal(), "{name}: {err}");
            assert!(
                matches!(err, Error::Read { .. } | Error::SizeChanged { .. }),
                "{name}: {err}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
        // A named stream failing leaves the whole file out.
        let mut ok = &b"fine"[..];
        let mut bad = Faulty {
            data: b"zzzz".to_vec(),
            at: 0,
            fail_at: Some(1),
        };
        let mut e = Entry::file(
            &["bad", "stream fails"],
            Data {
                size: 4,
                reader: &mut ok,
            },
        );
        e.named = vec![NamedStream {
            name: "s",
            data: Data {
                size: 4,
                reader: &mut bad,
            },
        }];
        assert!(matches!(w.add(e), Err(Error::Read { stream: Some(s), .. }) if s == "s"));
        let small = text(5000, 12);
        w.add(Entry::file(
            &["good.txt"],
            Data {
                size: small.len() as u64,
                reader: &mut &small[..],
            },
        ))
        .unwrap();
        let s = w.finish().unwrap();
        assert_eq!(
            (s.images[0].files, s.images[0].folders),
            (1, 1),
            "{c:?}: the failed files' folder was never made"
        );
        tool(Command::new("wimverify").arg(&wim));
        let size = std::fs::metadata(&wim).unwrap().len();
        assert!(
            size < 1 << 20,
            "{c:?}: the failed reads' data was left in the WIM ({size} bytes)"
        );
        let listed = tool(Command::new("wimdir").arg(&wim).arg("1"));
        assert_eq!(listed.lines().collect::<Vec<_>>(), ["/", "/good.txt"]);
    }
}

/// Entries that cannot be stored are refused before anything is read, and the writer
/// goes on; parents come implicitly and take their own metadata when added later.
#[test]
fn bad_entries_are_refused_and_parents_may_come_after_their_children() {
    let dir = tempfile::tempdir().unwrap();
    let wim = dir.path().join("e.wim");
    let mut w = WimWriter::create(&wim, Options::new(Compression::Xpress)).unwrap();
    w.begin_image("e", "").unwrap();
    let file = |w: &mut WimWriter, path: &[&str]| {
        w.add(Entry::file(
            path,
            Data {
                size: 1,
                reader: &mut &b"x"[..],
            },
        ))
    };
    let problem = |r: Result<_, Error>| match r {
        Err(Error::Entry { problem, .. }) => problem,
        other => panic!("{:?}", other.map(|_| ())),
    };
    file(&mut w, &["late", "child.txt"]).unwrap();
    assert_eq!(
        problem(file(&mut w, &["late", "child.txt"])),
        EntryProblem::Exists
    );
    assert_eq!(
        problem(file(&mut w, &["late", "child.txt", "under a file"])),
        EntryProblem::ParentNotFolder
    );
    assert_eq!(problem(file(&mut w, &["late"])), EntryProblem::Exists);
    let long = "n".repeat(256);
    assert_eq!(problem(file(&mut w, &[&long])), EntryProblem::NameTooLong);
    for bad in ["", ".", "..", "a/b", "a\\b", "nul\0"] {
        assert_eq!(
            problem(file(&mut w, &[bad])),
            EntryProblem::BadName,
            "{bad:?}"
        );
    }
    let deep: Vec<&str> = vec!["d"; 513];
    assert_eq!(problem(file(&mut w, &deep)), EntryProblem::TooDeep);
    assert_eq!(
        problem(w.add(Entry::file(
            &[],
            Data {
                size: 0,
                reader: &mut &b""[..]
            }
        ))),
        EntryProblem::RootNotFolder
    );
    let mut enc = Entry::folder(&["enc"]);
    enc.attributes |= 0x4000;
    assert_eq!(problem(w.add(enc)), EntryProblem::Encrypted);
    let mut sd = Entry::folder(&["sd"]);
    sd.security = Some(&[1, 0, 4]);
    assert_eq!(problem(w.add(sd)), EntryProblem::BadSecurityDescriptor);
    // The folder given after its child keeps the child and takes its own times.
    let mut late = Entry::folder(&["late"]);
    late.times.last_write = Times::filetime(1_000_000_000, 0);
    w.add(late).unwrap();
    assert_eq!(
        problem(w.add(Entry::folder(&["late"]))),
        EntryProblem::Exists
    );
    w.finish().unwrap();
    tool(Command::new("wimverify").arg(&wim));
    let out = dir.path().join("out");
    tool(Command::new("wimapply").arg(&wim).arg("1").arg(&out));
    assert_eq!(std::fs::read(out.join("late/child.txt")).unwrap(), b"x");
    assert_eq!(
        std::fs::metadata(out.join("late")).unwrap().mtime(),
        1_000_000_000
    );
}

/// A writer dropped or aborted before `finish` leaves no file; until the header is
/// written last, no tool takes the file for a WIM.
#[test]
fn an_unfinished_wim_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    for abort in [true, false] {
        let wim = dir.path().join(format!("u{abort}.wim"));
        let mut w = WimWriter::create(&wim, Options::new(Compression::Lzx)).unwrap();
        w.begin_image("u", "").unwrap();
        let data = text(3 << 20, 1);
        w.add(Entry::file(
            &["f"],
            Data {
                size: data.len() as u64,
                reader: &mut &data[..],
            },
        ))
        .unwrap();
        assert!(wim.exists());
        let (code, _, _) = run(Command::new("wiminfo").arg(&wim));
        assert_ne!(code, 0, "a WIM being written is not a WIM yet");
        if abort {
            w.abort();
        } else {
            drop(w);
        }
        assert!(!wim.exists());
    }
}

/// The writer's WIM splits for FAT32 (wimlib's split, as the capture does today) and the
/// parts join back; several images in one WIM each keep their own files.
#[test]
fn several_images_split_and_join() {
    let dir = tempfile::tempdir().unwrap();
    let wim = dir.path().join("m.wim");
    let mut w = WimWriter::create(&wim, Options::new(Compression::Xpress)).unwrap();
    let big = noise(3 << 20, 3);
    for user in ["ann", "bob"] {
        w.begin_image(user, &format!("Lifeboat capture of {user}"))
            .unwrap();
        w.add(Entry::file(
            &["Users", user, "big.bin"],
            Data {
                size: big.len() as u64,
                reader: &mut &big[..],
            },
        ))
        .unwrap();
        let own = text(10_000, u64::from(user.as_bytes()[0]));
        w.add(Entry::file(
            &["Users", user, "own.txt"],
            Data {
                size: own.len() as u64,
                reader: &mut &own[..],
            },
        ))
        .unwrap();
        w.end_image().unwrap();
    }
    assert!(matches!(w.begin_image("ANN", ""), Err(Error::Usage(_))));
    let s = w.finish().unwrap();
    assert_eq!(s.images.len(), 2);
    assert_eq!(s.duplicates, 1, "bob's big.bin is ann's");
    tool(Command::new("wimverify").arg(&wim));
    let info = tool(Command::new("wiminfo").arg(&wim));
    assert!(
        info.lines()
            .any(|l| l.starts_with("Image Count:") && l.ends_with(" 2")),
        "{info}"
    );
    assert!(info.contains("Lifeboat capture of bob"), "{info}");

    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    tool(
        Command::new("wimsplit")
            .arg(&wim)
            .arg(parts.join("files.swm"))
            .arg("1"),
    );
    assert!(std::fs::read_dir(&parts).unwrap().count() >= 3);
    let mut joined = Wim::open_split(&parts.join("files.swm"), true).unwrap();
    let out = dir.path().join("out");
    joined.extract_image(2, &out, None).unwrap();
    assert_eq!(std::fs::read(out.join("Users/bob/big.bin")).unwrap(), big);
    let mut ours = Wim::open(&wim, false).unwrap();
    let swm = dir.path().join("crate.swm");
    ours.write_split(&swm, 2 << 20, Default::default()).unwrap();
    assert!(Wim::open_split(&swm, true).unwrap().verify(None).is_ok());
}
