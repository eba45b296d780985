//! NTFS volume images for the NTFS reader's tests: formatted by `mkntfs` and filled through
//! an `ntfs-3g` FUSE mount (so every structure on them is written by ntfs-3g, not by
//! Lifeboat), and wrapped in MBR or GPT disk images written by `sfdisk`.
//!
//! [`rich_volume`] holds what real volumes hold: compressed files, named streams,
//! junctions, symbolic links and other reparse points, hard links (some hundreds of them,
//! which force an attribute list), sparse files, deep and long Unicode names in mixed case,
//! a folder of thousands of entries (an index of several levels), security descriptors,
//! an EFS-encrypted file and a Windows installation with its hives. [`fragmented_volume`]
//! fragments a file and the `$MFT` itself until both need attribute lists.

use std::ffi::CString;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::volume::WindowsSpec;
use crate::{noise, run};

pub const MIB: u64 = 1 << 20;

/// An ntfs-3g FUSE mount, unmounted on drop.
pub struct Mount {
    dir: PathBuf,
}

impl Mount {
    /// Mounts `img` on `dir` (created) with ntfs-3g `options` (comma-separated, may be empty).
    pub fn new(img: &Path, dir: &Path, options: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let mut cmd = Command::new("ntfs-3g");
        if !options.is_empty() {
            cmd.args(["-o", options]);
        }
        let (code, _, err) = run(cmd.arg(img).arg(dir));
        assert_eq!(
            code, 0,
            "ntfs-3g mount failed (needs root, FUSE, ntfs-3g): {err}"
        );
        Mount {
            dir: dir.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `rel` (Windows-style, `\`-separated) under the mount.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.join(rel.replace('\\', "/"))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // ntfs-3g writes its last changes while unmounting: wait until it has let go.
        for _ in 0..100 {
            let ok = Command::new("umount")
                .arg(&self.dir)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// A sparse image of `size` bytes formatted by mkntfs (quick) with the given cluster and
/// sector sizes and label.
pub fn mkntfs(img: &Path, size: u64, cluster: u32, sector: u32, label: &str) {
    let f = std::fs::File::create(img).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    let (code, out, err) = run(Command::new("mkntfs")
        .args(["-F", "-Q", "-q", "-p", "0", "-H", "0", "-S", "0"])
        .args(["-c", &cluster.to_string(), "-s", &sector.to_string()])
        .args(["-L", label])
        .arg(img));
    assert_eq!(code, 0, "mkntfs failed (package ntfs-3g): {out}{err}");
}

/// Sets an extended attribute without following a link (ntfs-3g's `system.ntfs_*`).
pub fn set_xattr(path: &Path, name: &str, value: &[u8]) {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    let rc = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(
        rc,
        0,
        "setxattr {name} on {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// An extended attribute without following a link; None when there is none. The size is
/// asked first: ntfs-3g fails a read into a buffer smaller than the value.
pub fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    // SAFETY: a size query (null buffer of length 0), then a read into a buffer of that size.
    let size = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), std::ptr::null_mut(), 0) };
    if size < 0 {
        return None;
    }
    let mut buf = vec![0u8; size as usize];
    // SAFETY: as above.
    let got =
        unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (got >= 0).then(|| {
        buf.truncate(got as usize);
        buf
    })
}

/// Names of a file's extended attributes (without following a link).
pub fn list_xattrs(path: &Path) -> Vec<String> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: size query, then a read into a buffer of that size.
    let size = unsafe { libc::llistxattr(p.as_ptr(), std::ptr::null_mut(), 0) };
    if size <= 0 {
        return Vec::new();
    }
    let mut buf = vec![0u8; size as usize];
    // SAFETY: as above.
    let got = unsafe { libc::llistxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if got < 0 {
        return Vec::new();
    }
    buf.truncate(got as usize);
    buf.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A REPARSE_DATA_BUFFER: Microsoft tag, length, reserved, data.
pub fn reparse_buffer(tag: u32, data: &[u8]) -> Vec<u8> {
    let mut v = tag.to_le_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(data);
    v
}

/// A junction or symbolic link's buffer, as `mklink` writes it.
pub fn link_buffer(symlink: bool, substitute: &str, print: &str, relative: bool) -> Vec<u8> {
    let (sub, prt) = (utf16(substitute), utf16(print));
    let mut d = Vec::new();
    d.extend_from_slice(&0u16.to_le_bytes());
    d.extend_from_slice(&(sub.len() as u16).to_le_bytes());
    d.extend_from_slice(&(sub.len() as u16 + 2).to_le_bytes());
    d.extend_from_slice(&(prt.len() as u16).to_le_bytes());
    if symlink {
        d.extend_from_slice(&u32::from(relative).to_le_bytes());
    }
    d.extend_from_slice(&sub);
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&prt);
    d.extend_from_slice(&[0, 0]);
    reparse_buffer(if symlink { 0xA000_000C } else { 0xA000_0003 }, &d)
}

/// A self-relative security descriptor: owner and group SIDs, and a DACL granting each
/// (SID, mask) pair.
pub fn security_descriptor(owner: &str, group: &str, allow: &[(&str, u32)]) -> Vec<u8> {
    let sid = crate::volume::sid_bytes;
    let mut aces = Vec::new();
    for (s, mask) in allow {
        let body = sid(s);
        let size = (8 + body.len()) as u16;
        aces.extend_from_slice(&[0, 0]); // ACCESS_ALLOWED, no flags
        aces.extend_from_slice(&size.to_le_bytes());
        aces.extend_from_slice(&mask.to_le_bytes());
        aces.extend_from_slice(&body);
    }
    let mut acl = vec![2, 0];
    acl.extend_from_slice(&((8 + aces.len()) as u16).to_le_bytes());
    acl.extend_from_slice(&(allow.len() as u16).to_le_bytes());
    acl.extend_from_slice(&[0, 0]);
    acl.extend_from_slice(&aces);
    let (o, g) = (sid(owner), sid(group));
    let dacl_at = 20u32;
    let owner_at = dacl_at + acl.len() as u32;
    let group_at = owner_at + o.len() as u32;
    let mut sd = vec![1, 0];
    sd.extend_from_slice(&0x8004u16.to_le_bytes()); // self-relative, DACL present
    sd.extend_from_slice(&owner_at.to_le_bytes());
    sd.extend_from_slice(&group_at.to_le_bytes());
    sd.extend_from_slice(&0u32.to_le_bytes());
    sd.extend_from_slice(&dacl_at.to_le_bytes());
    sd.extend_from_slice(&acl);
    sd.extend_from_slice(&o);
    sd.extend_from_slice(&g);
    sd
}

/// Where [`rich_volume`] puts what (paths from the root).
pub mod rich {
    pub const REPORT: &str = r"Documents\Report.txt";
    pub const BIG: &str = r"Documents\Big.bin";
    pub const ZONE: &str = "Zone.Identifier";
    pub const ZONE_DATA: &[u8] = b"[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://example.com/\r\n";
    pub const THUMB: &str = "Thumbnail";
    pub const COMPRESSED: &str = "Compressed";
    pub const SPARSE: &str = r"Sparse\holes.bin";
    pub const SPARSE_SIZE: u64 = 20 << 20;
    pub const ORIGINAL: &str = r"Links\original.txt";
    pub const HARDLINK: &str = r"Links\hardlink.txt";
    pub const HARDLINK_ELSEWHERE: &str = r"Documents\also-here.txt";
    pub const JUNCTION: &str = r"Links\Junction";
    pub const JUNCTION_TARGET: &str = r"C:\Users\ann\Documents";
    pub const SYMLINK_FILE: &str = r"Links\SymlinkFile";
    pub const SYMLINK_FILE_TARGET: &str = r"..\Documents\Report.txt";
    pub const SYMLINK_DIR: &str = r"Links\SymlinkDir";
    pub const SYMLINK_DIR_TARGET: &str = r"C:\Windows";
    pub const CLOUD: &str = r"Reparse\OneDrive placeholder.docx";
    pub const CLOUD_TAG: u32 = 0x9000_701A;
    pub const WOF: &str = r"Reparse\compact.exe";
    pub const DEDUP: &str = r"Reparse\dedup.dat";
    pub const APPEXEC: &str = r"Reparse\python.exe";
    pub const APPEXEC_TARGET: &str = r"C:\Program Files\WindowsApps\Python.3.12_x64\python.exe";
    pub const MANY: &str = "Many Entries";
    pub const MANY_COUNT: usize = 4000;
    pub const MANY_LINKS: &str = r"Many Links\target.txt";
    pub const MANY_LINKS_COUNT: usize = 180;
    pub const MANY_STREAMS: &str = r"Many Streams\file.txt";
    pub const MANY_STREAMS_COUNT: usize = 60;
    pub const DEEP_ROOT: &str = "Ünïcödé Fòldér 日本語";
    pub const DEEP_LEVELS: usize = 24;
    pub const ENCRYPTED: &str = r"Secret\encrypted.txt";
    pub const SECURED: &str = "Secured";
    pub const CUSTOM_ACL: &str = r"Secured\custom.txt";
    pub const TIMED: &str = r"Documents\Report.txt";
    /// FILETIMEs set on [`TIMED`]: created, modified, accessed.
    pub const TIMES: [u64; 3] = [
        130_000_000_000_000_000,
        131_000_000_000_000_000,
        132_000_000_000_000_000,
    ];
    pub const HIDDEN: &str = r"Documents\hidden-system.txt";
    /// A long name with a separate DOS name (as Windows gives names that are not 8.3).
    pub const LONG_NAME: &str = r"Documents\Long File Name.txt";
    pub const DOS_NAME: &str = "LONGFI~1.TXT";
    /// A name that is its own 8.3 name (one $FILE_NAME in the Win32 & DOS namespace).
    pub const SHORT_NAME: &str = r"Documents\SHORT.TXT";
    pub const HIDDEN_ATTRS: u32 = 0x2 | 0x4 | 0x20;
}

/// The deep path's folders under [`rich::DEEP_ROOT`], in mixed case, some with letters
/// outside the BMP.
pub fn deep_folders() -> Vec<String> {
    (0..rich::DEEP_LEVELS)
        .map(|i| match i % 4 {
            0 => format!("Level {i} ÄÖÜ äöü"),
            1 => format!("ΕΠΙΠΕΔΟ {i} ωμέγα"),
            2 => format!("уровень {i} ПАПКА"),
            _ => format!("Ebene {i} 😀 𝄞"),
        })
        .collect()
}

/// A 255-unit name: the longest NTFS allows (𝄞 takes two units).
pub fn longest_name() -> String {
    let mut s = String::from("Long 𝄞 ");
    while s.encode_utf16().count() < 251 {
        s.push('ä');
    }
    s.push_str(".TxT");
    assert_eq!(s.encode_utf16().count(), 255);
    s
}

fn write(path: &Path, data: &[u8]) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Text that compresses well, `len` bytes.
pub fn text(len: usize, seed: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 64);
    let mut i = seed;
    while v.len() < len {
        v.extend_from_slice(
            format!("line {i}: the quick brown fox jumps over the lazy dog\n").as_bytes(),
        );
        i += 1;
    }
    v.truncate(len);
    v
}

/// A volume with everything a real one holds that the reader must handle; see the module
/// doc and [`rich`]. Compression, hundreds of links and streams and the large folder need
/// clusters of at most 4 KiB (ntfs-3g compresses only there; 2 MiB clusters make every
/// file 2 MiB): larger clusters get the rest.
pub fn rich_volume(dir: &Path, name: &str, cluster: u32, sector: u32) -> PathBuf {
    let img = dir.join(format!("{name}.img"));
    let size = if cluster >= 1 << 20 {
        1024 * MIB
    } else {
        256 * MIB
    };
    mkntfs(&img, size, cluster, sector, "Rich Vol");
    let full = cluster <= 4096;
    {
        let m = Mount::new(
            &img,
            &dir.join(format!("{name}-fill")),
            "streams_interface=windows,efs_raw",
        );
        fill_rich(&m, full);
    }
    {
        let m = Mount::new(&img, &dir.join(format!("{name}-secure")), "permissions");
        fill_secured(&m);
    }
    img
}

fn fill_rich(m: &Mount, full: bool) {
    use rich::*;
    write(&m.join(REPORT), b"Quarterly report\r\n");
    write(&m.join(BIG), &noise(300_000, 1));
    write(&m.join(&format!("{REPORT}:{ZONE}")), ZONE_DATA);
    write(&m.join(&format!("{BIG}:{THUMB}")), &noise(100_000, 2));
    write(&m.join(r"Documents\empty.txt"), b"");
    write(&m.join(r"Documents\empty-stream.txt"), b"main");
    write(&m.join(r"Documents\empty-stream.txt:Empty"), b"");
    write(&m.join(HIDDEN), b"hidden and system");
    set_xattr(
        &m.join(HIDDEN),
        "system.ntfs_attrib_be",
        &HIDDEN_ATTRS.to_be_bytes(),
    );
    write(&m.join(LONG_NAME), b"long");
    set_xattr(
        &m.join(LONG_NAME),
        "system.ntfs_dos_name",
        DOS_NAME.as_bytes(),
    );
    write(&m.join(SHORT_NAME), b"short");
    set_xattr(&m.join(SHORT_NAME), "system.ntfs_dos_name", b"SHORT.TXT");
    let t: Vec<u8> = TIMES.iter().flat_map(|t| t.to_le_bytes()).collect();
    set_xattr(&m.join(TIMED), "system.ntfs_times", &t);

    if full {
        let c = m.join(COMPRESSED);
        std::fs::create_dir_all(&c).unwrap();
        set_xattr(&c, "system.ntfs_attrib_be", &0x0000_0810u32.to_be_bytes());
        write(&c.join("text.txt"), &text(200_000, 0));
        write(&c.join("zeros.bin"), &vec![0u8; 256 * 1024]);
        write(&c.join("noise.bin"), &noise(150_000, 3));
        let mut mixed = text(70_000, 7);
        mixed.extend(noise(70_000, 4));
        mixed.extend(vec![0u8; 70_000]);
        mixed.extend(text(33_333, 9));
        write(&c.join("mixed.bin"), &mixed);
        write(&c.join("tiny.txt"), b"tiny");
        write(&c.join(r"Sub Folder\nested.txt"), &text(50_000, 5));
    }

    let sparse = m.join(SPARSE);
    std::fs::create_dir_all(sparse.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(&sparse).unwrap();
    f.set_len(SPARSE_SIZE).unwrap();
    for (at, what) in [
        (0u64, &b"start"[..]),
        (8 << 20, b"middle"),
        (SPARSE_SIZE - 3, b"end"),
    ] {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(what).unwrap();
    }
    drop(f);

    write(&m.join(ORIGINAL), b"one file, two names\n");
    std::fs::hard_link(m.join(ORIGINAL), m.join(HARDLINK)).unwrap();
    std::fs::hard_link(m.join(ORIGINAL), m.join(HARDLINK_ELSEWHERE)).unwrap();

    std::fs::create_dir_all(m.join(JUNCTION)).unwrap();
    let j = link_buffer(
        false,
        &format!(r"\??\{JUNCTION_TARGET}"),
        JUNCTION_TARGET,
        false,
    );
    set_xattr(&m.join(JUNCTION), "system.ntfs_reparse_data", &j);
    write(&m.join(SYMLINK_FILE), b"");
    let s = link_buffer(true, SYMLINK_FILE_TARGET, SYMLINK_FILE_TARGET, true);
    set_xattr(&m.join(SYMLINK_FILE), "system.ntfs_reparse_data", &s);
    std::fs::create_dir_all(m.join(SYMLINK_DIR)).unwrap();
    let s = link_buffer(
        true,
        &format!(r"\??\{SYMLINK_DIR_TARGET}"),
        SYMLINK_DIR_TARGET,
        false,
    );
    set_xattr(&m.join(SYMLINK_DIR), "system.ntfs_reparse_data", &s);
    fill_other_reparse(m);

    let deep = deep_folders().join("/");
    write(
        &m.join(DEEP_ROOT).join(&deep).join(longest_name()),
        b"at the bottom",
    );
    write(&m.join(DEEP_ROOT).join("MiXeD CaSe.TxT"), b"mixed");
    // Two names that differ only in case (POSIX namespace, as ntfs-3g and WSL make them).
    write(&m.join(DEEP_ROOT).join("Twin.txt"), b"twin one");
    write(&m.join(DEEP_ROOT).join("TWIN.txt"), b"twin two");

    write_windows(m.path());

    write(&m.join(ENCRYPTED), b"");
    let mut efs = 0x100u32.to_le_bytes().to_vec();
    efs.extend(noise(252, 5));
    set_xattr(&m.join(ENCRYPTED), "user.ntfs.efsinfo", &efs);

    if full {
        let many = m.join(MANY);
        std::fs::create_dir_all(&many).unwrap();
        for i in 0..MANY_COUNT {
            let name = format!(
                "{}_{i:05}_{}.txt",
                if i % 2 == 0 { "Entry" } else { "eNTRY" },
                "x".repeat(i % 13)
            );
            write(&many.join(name), format!("{i}").as_bytes());
        }
        let target = m.join(MANY_LINKS);
        write(&target, b"linked many times");
        for i in 0..MANY_LINKS_COUNT {
            let name = format!("link {i:03} {}", "n".repeat(90));
            std::fs::hard_link(&target, target.parent().unwrap().join(name)).unwrap();
        }
        let streams = m.join(MANY_STREAMS);
        write(&streams, b"main stream");
        for i in 0..MANY_STREAMS_COUNT {
            let mut p = streams.clone().into_os_string();
            p.push(format!(":stream_{i:02}"));
            std::fs::write(&p, text(300 + i, i)).unwrap();
        }
    }
}

/// Reparse points of kinds ntfs-3g cannot follow: a cloud placeholder, a WOF-compressed
/// file, a deduplicated file, an app execution alias and a WSL symlink.
fn fill_other_reparse(m: &Mount) {
    use rich::*;
    write(&m.join(CLOUD), b"");
    set_xattr(
        &m.join(CLOUD),
        "system.ntfs_reparse_data",
        &reparse_buffer(CLOUD_TAG, &noise(60, 6)),
    );
    set_xattr(
        &m.join(CLOUD),
        "system.ntfs_attrib_be",
        &(0x20u32 | 0x1000).to_be_bytes(),
    );
    write(&m.join(WOF), b"");
    let mut wof = Vec::new();
    for v in [1u32, 2, 1, 0] {
        wof.extend(v.to_le_bytes()); // WOF v1, file provider, provider v1, XPRESS4K
    }
    set_xattr(
        &m.join(WOF),
        "system.ntfs_reparse_data",
        &reparse_buffer(0x8000_0017, &wof),
    );
    write(&m.join(DEDUP), b"");
    set_xattr(
        &m.join(DEDUP),
        "system.ntfs_reparse_data",
        &reparse_buffer(0x8000_0013, &noise(80, 7)),
    );
    write(&m.join(APPEXEC), b"");
    let mut app = 3u32.to_le_bytes().to_vec();
    for s in [
        "PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0",
        "PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0!Python",
        APPEXEC_TARGET,
        "0",
    ] {
        app.extend(utf16(s));
        app.extend([0, 0]);
    }
    set_xattr(
        &m.join(APPEXEC),
        "system.ntfs_reparse_data",
        &reparse_buffer(0x8000_001B, &app),
    );
}

/// A Windows 10 installation: hives under `Windows\System32\config`, ann's profile and
/// NTUSER.DAT under `Users`.
fn write_windows(root: &Path) {
    WindowsSpec::win10("NTFS-PC").write_volume(root);
}

/// Files made while ntfs-3g keeps permissions: their descriptors go to `$Secure`, shared
/// by security id; one gets an explicit descriptor.
fn fill_secured(m: &Mount) {
    use rich::*;
    for name in ["a.txt", "b.txt"] {
        write(&m.join(SECURED).join(name), name.as_bytes());
    }
    write(&m.join(CUSTOM_ACL), b"custom");
    let sd = security_descriptor(
        "S-1-5-32-544",
        "S-1-5-18",
        &[("S-1-1-0", 0x0012_0089), ("S-1-5-32-544", 0x001F_01FF)],
    );
    set_xattr(&m.join(CUSTOM_ACL), "system.ntfs_acl", &sd);
}

/// A small volume whose free space was cut into single clusters before a file and then
/// thousands of records were written: the file's run list and the `$MFT`'s own both run
/// over several records through attribute lists. Returns the image and the file's path.
pub fn fragmented_volume(dir: &Path) -> (PathBuf, &'static str) {
    let img = dir.join("fragmented.img");
    mkntfs(&img, 64 * MIB, 4096, 512, "Fragments");
    let m = Mount::new(&img, &dir.join("fragmented-fill"), "");
    let fill = m.join("fill");
    std::fs::create_dir_all(&fill).unwrap();
    let cluster = vec![0xABu8; 4096];
    let mut n = 0;
    while std::fs::write(fill.join(format!("{n:05}")), &cluster).is_ok() {
        n += 1;
    }
    let _ = std::fs::remove_file(fill.join(format!("{n:05}")));
    for i in (0..n).step_by(2) {
        std::fs::remove_file(fill.join(format!("{i:05}"))).unwrap();
    }
    // A file over a quarter of the holes, then records enough to grow the MFT into the rest.
    let path = r"Scattered\file.bin";
    write(&m.join(path), &noise(n / 4 * 4096, 11));
    let later = m.join("later");
    std::fs::create_dir_all(&later).unwrap();
    for j in 0..9000 {
        if std::fs::write(later.join(format!("small_{j:05}.txt")), "x".repeat(j % 40)).is_err() {
            break;
        }
    }
    (img, path)
}

/// A Windows installation on a volume of its own (64 MiB, 4 KiB clusters).
pub fn windows_volume(dir: &Path, spec: &WindowsSpec) -> PathBuf {
    let img = dir.join("windows.img");
    mkntfs(&img, 64 * MIB, 4096, 512, "Windows");
    let m = Mount::new(&img, &dir.join("windows-fill"), "");
    spec.write_volume(m.path());
    img
}

/// How [`disk_image`] partitions its disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// GPT: an EFI system partition, the Microsoft reserved one, the volume.
    Gpt,
    /// MBR: a small primary partition, then the volume as a logical partition in an
    /// extended one, after another logical one.
    Mbr,
}

/// Sectors (512 bytes) before the first partition and between partitions.
const GAP: u64 = 2048;

/// A disk image holding `volume` as one of several partitions, the table written by
/// sfdisk; returns the image and the volume's partition number.
pub fn disk_image(dir: &Path, volume: &Path, table: Table) -> (PathBuf, u32) {
    let vol_sectors = std::fs::metadata(volume).unwrap().len() / 512;
    let small = 4096u64; // 2 MiB
    let (script, start, number) = match table {
        Table::Gpt => {
            let start = GAP + small + GAP + small + GAP;
            let s = format!(
                "label: gpt\nlabel-id: 11111111-2222-3333-4444-555555555555\n\
                 start={GAP}, size={small}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system partition\"\n\
                 start={}, size={small}, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name=\"Microsoft reserved partition\"\n\
                 start={start}, size={vol_sectors}, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"Basic data partition\", uuid=AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\n",
                GAP + small + GAP
            );
            (s, start, 3)
        }
        Table::Mbr => {
            let ext_start = GAP + small + GAP;
            let start = ext_start + GAP + small + GAP;
            let s = format!(
                "label: dos\nlabel-id: 0x1234abcd\n\
                 start={GAP}, size={small}, type=7, bootable\n\
                 start={ext_start}, size={}, type=5\n\
                 start={}, size={small}, type=b\n\
                 start={start}, size={vol_sectors}, type=7\n",
                start + vol_sectors + GAP - ext_start,
                ext_start + GAP,
            );
            (s, start, 6)
        }
    };
    let img = dir.join(format!("disk-{table:?}.img").to_lowercase());
    let f = std::fs::File::create(&img).unwrap();
    f.set_len((start + vol_sectors + 2 * GAP) * 512).unwrap();
    drop(f);
    sfdisk(&img, &script);
    copy_into(volume, &img, start * 512);
    (img, number)
}

/// Writes a partition table with sfdisk from its script.
pub fn sfdisk(img: &Path, script: &str) {
    let mut child = Command::new("sfdisk")
        .arg("-q")
        .arg("--no-reread")
        .arg("--no-tell-kernel")
        .arg(img)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfdisk (package fdisk)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sfdisk: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies `from` into `to` at byte `at`, leaving the rest of `to` (and its holes) alone.
fn copy_into(from: &Path, to: &Path, at: u64) {
    let (code, _, err) = run(Command::new("dd")
        .arg(format!("if={}", from.display()))
        .arg(format!("of={}", to.display()))
        .args(["bs=1M", "conv=notrunc,sparse", "status=none"])
        .arg(format!("seek={at}"))
        .arg("oflag=seek_bytes"));
    assert_eq!(code, 0, "dd: {err}");
}

/// Where [`small_volume`] puts what.
pub mod small {
    pub const FOLDER: &str = "Folder";
    pub const FOLDER_FILES: usize = 400;
    pub const BIG: &str = "big.bin";
    pub const SMALL: &str = "small.txt";
    pub const LINKED: &str = r"Linked\target.txt";
    pub const LINKS: usize = 12;
}

/// A 16 MiB volume (4 KiB clusters) for hostile edits: a folder of 400 files (its index has
/// blocks), a non-resident file, a resident one, a file whose dozen long names need an
/// attribute list, and a named stream.
pub fn small_volume(dir: &Path) -> PathBuf {
    use small::*;
    let img = dir.join("small.img");
    mkntfs(&img, 16 * MIB, 4096, 512, "Small");
    let m = Mount::new(&img, &dir.join("small-fill"), "streams_interface=windows");
    for i in 0..FOLDER_FILES {
        write(
            &m.join(FOLDER).join(format!("file {i:03}.txt")),
            format!("{i}").as_bytes(),
        );
    }
    write(&m.join(BIG), &noise(100_000, 21));
    write(&m.join(SMALL), b"small");
    write(
        &m.join(&format!("{SMALL}:Zone.Identifier")),
        rich::ZONE_DATA,
    );
    let target = m.join(LINKED);
    write(&target, b"linked");
    for i in 0..LINKS {
        let name = format!("link {i:02} {}", "l".repeat(100));
        std::fs::hard_link(&target, target.parent().unwrap().join(name)).unwrap();
    }
    img
}
