//! The BitLocker layer (`lifeboat_volume::bitlocker`) against independent readers:
//! - real volumes written by Windows (../shared/realdata/bitlocker: every method, every
//!   protector kind, suspended, decrypted, encrypted on write, Windows 7 partly decrypted,
//!   Vista), decrypted sector for sector and compared with `dislocker-file -r`, or with
//!   dissect.fve where dislocker cannot read them (Vista, encrypt-on-write);
//! - volumes from the fixture writer (support/bitlocker.rs) for each method, protector and
//!   sector size, which `dislocker-file`, `cryptsetup bitlkDump`, libbde and dissect.fve
//!   must open and give back the plain image;
//! - hostile and wrong inputs, which must give a clear error and never panic;
//! - and no key in any output.
//!
//! What each reader cannot do, found here: `dislocker-file` 0.7 crashes on encrypt-on-write
//! volumes, refuses Vista's, and takes no non-ASCII password (4 KiB sectors it reads);
//! `cryptsetup bitlkDump` 2.6 takes no clear key and no non-ASCII password; libbde
//! 20190102 refuses XTS-AES 256 ("invalid tweak key value too small", Windows' own volume
//! too), Vista, encrypt-on-write and suspended volumes; dissect.fve 4.6 counts
//! encrypt-on-write chunks from where a read resumes after a reserved area (see
//! `real_encrypt_on_write_volumes_read_as_dissect_reads_them`) and its Elephant diffuser is
//! pure Python (seconds per MiB), so it is asked for samples.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use fixtures::bitlocker::{self as writer, Method as W, Protector as P, Spec};
use lifeboat_volume::bitlocker::{
    self as bl, BitLockerError, Keys, Method, ProtectorKind, StartupKey, State, Unlocked,
};
use lifeboat_volume::block::{BlockSource, FileSource, MemSource, Source};

const PASSWORD: &str = "password12!@";

fn open(path: &Path) -> Source {
    Arc::new(FileSource::open(path).expect("open the image"))
}

/// The whole plain volume, read in 1 MiB reads.
fn read_all(u: &Unlocked) -> Vec<u8> {
    let mut out = vec![0u8; u.size() as usize];
    for (i, chunk) in out.chunks_mut(1 << 20).enumerate() {
        u.read_at((i as u64) << 20, chunk)
            .expect("read the plain volume");
    }
    out
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The Python with libbde's binding and dissect.fve (Debian's, where pyenv shadows it).
fn python() -> Command {
    let p = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut c = Command::new(p);
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bitlocker_oracle.py"));
    c
}

/// `dislocker-file -r` (read-only) with `args` (the key), the plain volume it writes.
fn dislocker(volume: &Path, args: &[&str], dir: &Path) -> Vec<u8> {
    let out = dir.join("dislocker.img");
    let _ = std::fs::remove_file(&out);
    let (ok, so, se) = run(Command::new("dislocker-file")
        .arg("-r")
        .arg("-V")
        .arg(volume)
        .args(args)
        .arg(&out));
    assert!(ok && out.exists(), "dislocker-file failed: {so}{se}");
    let v = std::fs::read(&out).expect("dislocker's output");
    std::fs::remove_file(&out).ok();
    v
}

/// dissect.fve's or libbde's plain volume (only `ranges`, when given).
fn oracle(
    reader: &str,
    volume: &Path,
    kind: &str,
    key: &str,
    ranges: &[(u64, u64)],
    dir: &Path,
) -> Vec<u8> {
    let out = dir.join(format!("{reader}.img"));
    let mut c = python();
    c.args(["decrypt", reader])
        .arg(volume)
        .args([kind, key])
        .arg(&out);
    c.args(ranges.iter().map(|(a, b)| format!("{a}:{b}")));
    let (ok, so, se) = run(&mut c);
    assert!(ok, "{reader} failed: {so}{se}");
    let v = if ranges.is_empty() {
        std::fs::read(&out).expect("the oracle's output")
    } else {
        // Only the ranges asked for: the rest is zeros (untouched pages cost nothing).
        let mut v = vec![0u8; std::fs::metadata(&out).unwrap().len() as usize];
        for &(a, e) in ranges {
            v[a as usize..e as usize].copy_from_slice(&stored(&out, a, (e - a) as usize));
        }
        v
    };
    std::fs::remove_file(&out).ok();
    v
}

/// Compares two plain volumes over `len` bytes, naming the first differing sector.
fn same(ours: &[u8], theirs: &[u8], len: usize, what: &str) {
    assert!(
        ours.len() >= len && theirs.len() >= len,
        "{what}: short output"
    );
    if ours[..len] != theirs[..len] {
        let at = ours
            .iter()
            .zip(theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!("{what}: differs from byte {at} (sector {})", at / 512);
    }
}

// ---------------------------------------------------------------------------------------
// The fixture writer's volumes.

/// A plain NTFS volume (`mkntfs`) of `mib` MiB with `sector`-byte sectors and a few files
/// (`ntfscp`), with a distinct pattern in its free space so that every sector differs.
fn plain_ntfs(dir: &Path, mib: u64, sector: u32) -> PathBuf {
    let img = dir.join(format!("plain-{sector}.img"));
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(mib << 20).unwrap();
    drop(f);
    let (ok, so, se) = run(Command::new("mkntfs")
        .args([
            "-F",
            "-Q",
            "-q",
            "-L",
            "Windows",
            "-s",
            &sector.to_string(),
            "-c",
            "4096",
        ])
        .arg(&img));
    assert!(ok, "mkntfs: {so}{se}");
    for (name, len) in [
        ("bootmgr", 300_000usize),
        ("pagefile.sys", 1 << 20),
        ("notes.txt", 10),
    ] {
        let src = dir.join(name);
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + name.len()) as u8).collect();
        std::fs::write(&src, data).unwrap();
        let (ok, so, se) = run(Command::new("ntfscp")
            .arg("-f")
            .arg(&img)
            .arg(&src)
            .arg(name));
        assert!(ok, "ntfscp {name}: {so}{se}");
    }
    img
}

/// What opens a written volume: our `Keys`, dislocker's arguments, an oracle's kind and key.
struct Opener {
    keys: Keys,
    dislocker: Vec<String>,
    kind: &'static str,
    key: String,
}

fn opener(p: &P, dir: &Path) -> Opener {
    let mut keys = Keys::new();
    match p {
        P::RecoveryPassword(rp) => {
            keys.add_recovery_password(rp).unwrap();
            Opener {
                keys,
                dislocker: vec![format!("-p{rp}")],
                kind: "recovery",
                key: rp.clone(),
            }
        }
        P::Password(pw) => {
            keys.add_password(pw);
            Opener {
                keys,
                dislocker: vec![format!("-u{pw}")],
                kind: "password",
                key: pw.clone(),
            }
        }
        P::StartupKey { id, key } => {
            let bek = dir.join("key.bek");
            std::fs::write(&bek, writer::bek_file(id, key, false)).unwrap();
            keys.add_startup_key_file(&bek).unwrap();
            let b = bek.display().to_string();
            Opener {
                keys,
                dislocker: vec!["-f".into(), b.clone()],
                kind: "bek",
                key: b,
            }
        }
        P::ClearKey | P::Tpm => Opener {
            keys,
            dislocker: vec!["-c".into()],
            kind: "clear",
            key: String::new(),
        },
    }
}

/// The plain image as the volume must read: the areas BitLocker took read as zeros.
fn expected(plain: &Path, w: &writer::Written) -> Vec<u8> {
    let mut v = std::fs::read(plain).unwrap();
    for r in w.zeroed() {
        v[r.start as usize..r.end as usize].fill(0);
    }
    v
}

fn oracle_of(reader: &str, enc: &Path, o: &Opener, dir: &Path) -> Vec<u8> {
    oracle(reader, enc, o.kind, &o.key, &[], dir)
}

/// The byte ranges an oracle too slow for a whole volume is asked for: the start (volume
/// header, relocated sectors, `$MFT`'s neighbourhood), around each area BitLocker took, the
/// end.
fn sample_ranges(w: &writer::Written, size: u64) -> Vec<(u64, u64)> {
    let k = 64 << 10;
    let mut v = vec![(0, 4 * k), (size - 2 * k, size)];
    for r in w.zeroed() {
        v.push((r.start.saturating_sub(k), (r.end + k).min(size)));
    }
    v
}

fn same_ranges(ours: &[u8], theirs: &[u8], ranges: &[(u64, u64)], what: &str) {
    for &(a, b) in ranges {
        let (a, b) = (a as usize, b as usize);
        same(
            &ours[a..b],
            &theirs[a..b],
            b - a,
            &format!("{what}, bytes {a}..{b}"),
        );
    }
}

/// The volume key `cryptsetup bitlkDump --dump-volume-key` prints (kept in memory, never
/// printed), or `None` for a key kind it does not take.
fn bitlk_key(volume: &Path, kind: &str, key: &str) -> Option<Vec<u8>> {
    let mut c = Command::new("cryptsetup");
    c.args(["bitlkDump", "--dump-volume-key"]);
    match kind {
        "bek" => c.arg(format!("--key-file={key}")),
        "password" | "recovery" => c.arg("--key-file=-"),
        _ => return None,
    };
    c.arg(volume)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("cryptsetup (cryptsetup-bin)");
    let mut stdin = child.stdin.take().unwrap();
    if kind != "bek" {
        stdin.write_all(key.as_bytes()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cryptsetup bitlkDump failed on {}",
        volume.display()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let dump = text
        .split("MK dump:")
        .nth(1)
        .expect("bitlkDump prints the key");
    let hex: Vec<u8> = dump
        .lines()
        .take_while(|l| l.trim().split(' ').all(|h| h.len() == 2))
        .flat_map(|l| {
            l.split_whitespace()
                .map(|h| u8::from_str_radix(h, 16).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    Some(hex)
}

/// bdeinfo's (libbde's) reading of a volume: method text, volume ID, description, and
/// each protector's ID and type.
struct BdeInfo {
    method: String,
    volume: String,
    description: String,
    protectors: Vec<(String, String)>,
}

fn bdeinfo(volume: &Path) -> BdeInfo {
    let (_, out, _) = run(Command::new("bdeinfo").arg(volume));
    let field = |l: &str| {
        l.split_once(':')
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut i = BdeInfo {
        method: String::new(),
        volume: String::new(),
        description: String::new(),
        protectors: vec![],
    };
    for l in out.lines() {
        let l = l.trim();
        if l.starts_with("Encryption method") {
            i.method = field(l);
        } else if l.starts_with("Volume identifier") {
            i.volume = field(l);
        } else if l.starts_with("Description") {
            i.description = field(l);
        } else if l.starts_with("Identifier") {
            i.protectors.push((field(l), String::new()));
        } else if l.starts_with("Type") {
            if let Some(p) = i.protectors.last_mut() {
                p.1 = field(l);
            }
        }
    }
    i
}

fn bde_method(m: Method) -> &'static str {
    match m {
        Method::AesCbc128 => "AES-CBC 128-bit",
        Method::AesCbc256 => "AES-CBC 256-bit",
        Method::AesCbc128Diffuser => "AES-CBC 128-bit with Diffuser",
        Method::AesCbc256Diffuser => "AES-CBC 256-bit with Diffuser",
        Method::XtsAes128 => "AES-XTS 128-bit",
        Method::XtsAes256 => "AES-XTS 256-bit",
        _ => "?",
    }
}

fn bde_kind(k: ProtectorKind) -> &'static str {
    match k {
        ProtectorKind::RecoveryPassword => "Recovery password",
        ProtectorKind::Password => "Password",
        ProtectorKind::StartupKey => "Startup key",
        ProtectorKind::ClearKey => "Clear key",
        ProtectorKind::Tpm => "TPM",
        _ => "?",
    }
}

/// Checks `probe` against bdeinfo: method, volume ID, description, protectors.
fn probe_as_bdeinfo(volume: &Path) {
    let info = bl::probe(&*open(volume))
        .unwrap()
        .expect("a BitLocker volume");
    let b = bdeinfo(volume);
    let what = volume.display();
    assert_eq!(bde_method(info.method), b.method, "{what}: method");
    assert!(
        b.volume.eq_ignore_ascii_case(&info.volume_id.to_string()),
        "{what}: volume ID"
    );
    assert_eq!(
        info.description.as_deref(),
        Some(b.description.as_str()),
        "{what}"
    );
    let ours: Vec<(String, String)> = info
        .protectors
        .iter()
        .map(|p| {
            (
                p.id.to_string().to_lowercase(),
                bde_kind(p.kind).to_string(),
            )
        })
        .collect();
    assert_eq!(ours, b.protectors, "{what}: protectors");
}

/// A real-data case: a dissect.fve test volume and what opens it.
struct Real {
    file: &'static str,
    kind: &'static str,
    key: &'static str,
    method: Method,
}

const REAL: [Real; 10] = [
    Real {
        file: "aes_128",
        kind: "password",
        key: PASSWORD,
        method: Method::AesCbc128,
    },
    Real {
        file: "aes_256",
        kind: "password",
        key: PASSWORD,
        method: Method::AesCbc256,
    },
    Real {
        file: "aes_128_diffuser",
        kind: "password",
        key: PASSWORD,
        method: Method::AesCbc128Diffuser,
    },
    Real {
        file: "aes_256_diffuser",
        kind: "password",
        key: PASSWORD,
        method: Method::AesCbc256Diffuser,
    },
    Real {
        file: "aes-xts_128",
        kind: "password",
        key: PASSWORD,
        method: Method::XtsAes128,
    },
    Real {
        file: "aes-xts_256",
        kind: "password",
        key: PASSWORD,
        method: Method::XtsAes256,
    },
    Real {
        file: "recovery_password",
        kind: "recovery",
        key: "284867-596541-514998-422114-660297-261613-215424-199408",
        method: Method::XtsAes128,
    },
    Real {
        file: "recovery_key",
        kind: "bek",
        key: "recovery_key",
        method: Method::XtsAes128,
    },
    Real {
        file: "startup_key",
        kind: "bek",
        key: "startup_key",
        method: Method::XtsAes128,
    },
    Real {
        file: "suspended",
        kind: "clear",
        key: "",
        method: Method::XtsAes128,
    },
];

/// Decompresses a gzip'd real volume into `out`, sparse where it is zeros.
fn gunzip(gz: &Path, out: &Path) {
    use std::os::unix::fs::FileExt;
    let mut d =
        flate2::read::GzDecoder::new(std::io::BufReader::new(std::fs::File::open(gz).unwrap()));
    let f = std::fs::File::create(out).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    loop {
        let mut n = 0;
        while n < buf.len() {
            match d.read(&mut buf[n..]).unwrap() {
                0 => break,
                k => n += k,
            }
        }
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|&b| b != 0) {
            f.write_all_at(&buf[..n], at).unwrap();
        }
        at += n as u64;
    }
    f.set_len(at).unwrap();
}

/// A real volume decompressed into `dir`, or `None` (skipped) without the real data.
fn real_volume(name: &str, dir: &Path) -> Option<PathBuf> {
    let gz = fixtures::realdata(&format!("bitlocker/dissect.fve__{name}.bin.gz"))?;
    let out = dir.join(format!("{name}.bin"));
    gunzip(&gz, &out);
    Some(out)
}

fn real_keys(r: &Real) -> (Keys, String) {
    let mut keys = Keys::new();
    let mut key = r.key.to_string();
    match r.kind {
        "password" => keys.add_password(r.key),
        "recovery" => keys.add_recovery_password(r.key).unwrap(),
        "bek" => {
            let p = fixtures::realdata(&format!("bitlocker/dissect.fve__{}.bek", r.key)).unwrap();
            keys.add_startup_key_file(&p).unwrap();
            key = p.display().to_string();
        }
        _ => {}
    }
    (keys, key)
}

fn dislocker_args(kind: &str, key: &str) -> Vec<String> {
    match kind {
        "password" => vec![format!("-u{key}")],
        "recovery" => vec![format!("-p{key}")],
        "bek" => vec!["-f".into(), key.into()],
        _ => vec!["-c".into()],
    }
}

/// Each real volume: `probe` as bdeinfo reads it (where it can), the plain volume as
/// dislocker gives it, the volume key as cryptsetup gives it.
fn real_cases(cases: &[Real]) {
    let dir = tempfile::tempdir().unwrap();
    for r in cases {
        let Some(vol) = real_volume(r.file, dir.path()) else {
            return;
        };
        let (keys, key) = real_keys(r);
        let u = bl::unlock(open(&vol), &keys).unwrap_or_else(|e| panic!("{}: {e}", r.file));
        assert_eq!(u.info().method, r.method, "{}", r.file);
        assert_eq!(u.info().suspended(), r.kind == "clear", "{}", r.file);
        let ours = read_all(&u);
        let args = dislocker_args(r.kind, &key);
        let theirs = dislocker(
            &vol,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            dir.path(),
        );
        same(
            &ours,
            &theirs,
            ours.len(),
            &format!("{}: ours and dislocker-file", r.file),
        );
        assert_eq!(&ours[3..11], b"NTFS    ");
        assert_eq!(
            &ours[0x2000..0x2004],
            b"FILE",
            "{}: $MFTMirr record 0",
            r.file
        );
        if let Some(k) = bitlk_key(&vol, r.kind, &key) {
            assert!(
                u.is_volume_key(&k),
                "{}: the volume key differs from cryptsetup's",
                r.file
            );
        }
        // bdeinfo 20190102 cannot open a suspended volume.
        if r.kind != "clear" {
            probe_as_bdeinfo(&vol);
        }
        std::fs::remove_file(&vol).ok();
    }
}

#[test]
fn real_cbc_volumes_read_as_dislocker_cryptsetup_and_libbde_read_them() {
    real_cases(&REAL[..4]);
}

#[test]
fn real_xts_volumes_read_as_dislocker_cryptsetup_and_libbde_read_them() {
    real_cases(&REAL[4..7]);
}

#[test]
fn real_bek_and_suspended_volumes_read_as_dislocker_cryptsetup_and_libbde_read_them() {
    real_cases(&REAL[7..]);
}

/// The 4 KiB blocks of `vol` that hold anything (the real volumes are trimmed to their
/// metadata and a few file-system sectors), as ranges, each widened by a block. Only the
/// file's data extents are read (SEEK_DATA): a volume may be gigabytes of sparse zeros.
fn stored_ranges(vol: &Path) -> Vec<(u64, u64)> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(vol).unwrap();
    let size = f.metadata().unwrap().len();
    let seek = |at: u64, whence| {
        // SAFETY: lseek on an open descriptor; no memory is passed.
        let r = unsafe { libc::lseek(f.as_raw_fd(), at as libc::off_t, whence) };
        u64::try_from(r).ok()
    };
    let mut v: Vec<(u64, u64)> = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    while let Some(data) = seek(at, libc::SEEK_DATA).filter(|&d| d < size) {
        let hole = seek(data, libc::SEEK_HOLE).unwrap_or(size).min(size);
        let mut pos = data / 4096 * 4096;
        while pos < hole {
            let n = (hole - pos).min(buf.len() as u64) as usize;
            f.read_exact_at(&mut buf[..n], pos).unwrap();
            for (i, b) in buf[..n].chunks(4096).enumerate() {
                if b.iter().any(|&x| x != 0) {
                    let block = pos + i as u64 * 4096;
                    let (a, e) = (block.saturating_sub(4096), (block + 8192).min(size));
                    match v.last_mut() {
                        Some(last) if a <= last.1 => last.1 = e,
                        _ => v.push((a, e)),
                    }
                }
            }
            pos += n as u64;
        }
        at = hole;
    }
    v
}

/// `len` bytes of `vol` at `at`, as stored.
fn stored(vol: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mut b = vec![0u8; len];
    std::fs::File::open(vol)
        .unwrap()
        .read_exact_at(&mut b, at)
        .unwrap();
    b
}

#[test]
fn real_encrypt_on_write_volumes_read_as_dissect_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let Some(vol) = real_volume("eow_partial", dir.path()) else {
        return;
    };
    let mut keys = Keys::new();
    keys.add_password(PASSWORD);
    let u = bl::unlock(open(&vol), &keys).unwrap();
    assert!(u.info().used_space_only);
    assert_eq!(u.info().method, Method::AesCbc128);
    let ours = read_all(&u);
    // Only the stored blocks: dissect.fve 4.6 counts EOW chunks from where a read resumes
    // after a reserved area instead of from the region's start, and differs from the
    // bitmap in 2 MiB of trimmed (all-zero) blocks; where there is data both agree.
    let ranges = stored_ranges(&vol);
    let theirs = oracle("dissect", &vol, "password", PASSWORD, &ranges, dir.path());
    same_ranges(&ours, &theirs, &ranges, "eow_partial: ours and dissect.fve");
    // Some of it is decrypted and some read plain: the bitmaps are followed.
    let raw = std::fs::read(&vol).unwrap();
    let (mut plain, mut decrypted) = (0, 0);
    for &(a, b) in &ranges {
        for s in (a..b).step_by(512) {
            let s = s as usize;
            if raw[s..s + 512].iter().any(|&x| x != 0) && ours[s..s + 512] == raw[s..s + 512] {
                plain += 1;
            } else if ours[s..s + 512] != raw[s..s + 512] {
                decrypted += 1;
            }
        }
    }
    assert!(
        plain > 0 && decrypted > 0,
        "plain {plain}, decrypted {decrypted}"
    );

    let Some(vol) = real_volume("decrypted", dir.path()) else {
        return;
    };
    let info = bl::probe(&*open(&vol)).unwrap().unwrap();
    assert_eq!((info.method, info.state), (Method::None, State::Decrypted));
    let u = bl::unlock(open(&vol), &Keys::new()).unwrap();
    let ours = read_all(&u);
    let theirs = oracle("dissect", &vol, "none", "", &[], dir.path());
    same(
        &ours,
        &theirs,
        ours.len(),
        "decrypted: ours and dissect.fve",
    );
}

#[test]
fn a_real_vista_volume_reads_as_dissect_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(vol) = real_volume("vista", dir.path()) else {
        return;
    };
    let rp = "517506-503998-044583-576191-587004-635965-501270-087802";
    let info = bl::probe(&*open(&vol)).unwrap().unwrap();
    assert_eq!(info.version, bl::Version::Vista);
    assert_eq!(info.method, Method::AesCbc128Diffuser);
    let kinds: Vec<_> = info.protectors.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [ProtectorKind::StartupKey, ProtectorKind::RecoveryPassword]
    );
    let mut keys = Keys::new();
    keys.add_recovery_password(rp).unwrap();
    let u = bl::unlock(open(&vol), &keys).unwrap();
    let ours = read_all(&u);
    // dissect.fve's diffuser is pure Python (seconds per MiB): the stored blocks only.
    let ranges = stored_ranges(&vol);
    let theirs = oracle("dissect", &vol, "recovery", rp, &ranges, dir.path());
    same_ranges(&ours, &theirs, &ranges, "vista: ours and dissect.fve");
    assert_eq!(&ours[3..11], b"NTFS    ");
}

#[test]
fn a_real_windows7_volume_partly_decrypted_reads_as_dissect_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(vol) = real_volume("win7_partial", dir.path()) else {
        return;
    };
    let info = bl::probe(&*open(&vol)).unwrap().unwrap();
    let State::PartlyEncrypted {
        toward,
        encrypted_bytes,
    } = info.state
    else {
        panic!("win7_partial: {:?}", info.state)
    };
    assert_eq!(toward, bl::Toward::Decrypted);
    assert_eq!(info.method, Method::AesCbc256);
    assert!(
        info.suspended(),
        "a volume being decrypted keeps a clear key"
    );
    let rp = "131450-120197-153989-250338-511368-495572-680944-381546";
    let mut keys = Keys::new();
    keys.add_recovery_password(rp).unwrap();
    for keys in [keys, Keys::new()] {
        let u = bl::unlock(open(&vol), &keys).unwrap();
        let b = encrypted_bytes;
        let mut ranges = stored_ranges(&vol);
        ranges.push((b - 4096, b + 4096));
        let mut ours = vec![0u8; u.size() as usize]; // sparse: untouched pages cost nothing
        for &(a, e) in &ranges {
            u.read_at(a, &mut ours[a as usize..e as usize]).unwrap();
        }
        let theirs = oracle("dissect", &vol, "recovery", rp, &ranges, dir.path());
        same_ranges(
            &ours,
            &theirs,
            &ranges,
            "win7_partial: ours and dissect.fve",
        );
        // Across the boundary: plain above, as stored.
        let at = b as usize;
        assert_eq!(
            ours[at..at + 4096],
            stored(&vol, b, 4096),
            "plain above the encrypted part"
        );
    }
}

#[test]
fn real_volumes_probe_as_libbde_and_dissect_read_them() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "aes_128",
        "recovery_password",
        "startup_key",
        "eow_partial",
        "vista",
        "suspended",
    ] {
        let Some(vol) = real_volume(name, dir.path()) else {
            return;
        };
        let info = bl::probe(&*open(&vol)).unwrap().unwrap();
        let (_, out, err) = run(python().arg("info").arg(&vol));
        let ds: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        let ids: Vec<String> = info
            .protectors
            .iter()
            .map(|p| p.id.to_string().to_lowercase())
            .collect();
        assert_eq!(ds["ids"], serde_json::json!(ids), "{name}");
        assert_eq!(ds["method"], u64::from(method_code(info.method)), "{name}");
        assert_eq!(
            ds["description"].as_str(),
            info.description.as_deref(),
            "{name}"
        );
        if ["aes_128", "recovery_password", "startup_key"].contains(&name) {
            probe_as_bdeinfo(&vol);
        }
        let short: Vec<String> = info.protectors.iter().map(|p| p.id.short_id()).collect();
        assert!(short
            .iter()
            .zip(&ids)
            .all(|(s, id)| id.to_uppercase().starts_with(s.as_str()) && s.len() == 8));
        std::fs::remove_file(&vol).ok();
    }
}

fn method_code(m: Method) -> u16 {
    match m {
        Method::None => 0,
        Method::AesCbc128Diffuser => 0x8000,
        Method::AesCbc256Diffuser => 0x8001,
        Method::AesCbc128 => 0x8002,
        Method::AesCbc256 => 0x8003,
        Method::XtsAes128 => 0x8004,
        Method::XtsAes256 => 0x8005,
        Method::Unknown(c) => c,
    }
}

// ---------------------------------------------------------------------------------------
// The fixture writer's volumes against every reader.

/// Writes `p`'s volume and checks ours, then the oracles named, against the plain image;
/// the volume key against cryptsetup's where it takes the key.
fn check_written(dir: &Path, plain: &Path, spec: Spec, oracles: &[&str]) {
    let p = spec.protectors[0].clone();
    let (method, sector) = (spec.method, spec.sector);
    let enc = dir.join("enc.img");
    let w = writer::encrypt_file(plain, &enc, &spec).unwrap();
    let want = expected(plain, &w);
    let o = opener(&p, dir);
    let what = format!("{method:?}, {sector}-byte sectors, {}", o.kind);
    let u = bl::unlock(open(&enc), &o.keys).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(u.sector_size(), sector);
    same(&read_all(&u), &want, want.len(), &format!("{what}: ours"));
    for reader in oracles {
        match *reader {
            "dislocker" => {
                let args: Vec<&str> = o.dislocker.iter().map(String::as_str).collect();
                same(
                    &dislocker(&enc, &args, dir),
                    &want,
                    want.len(),
                    &format!("{what}: dislocker"),
                );
            }
            "libbde" => {
                let theirs = oracle_of("libbde", &enc, &o, dir);
                same(&theirs, &want, want.len(), &format!("{what}: libbde"));
            }
            "dissect" => {
                let ranges = sample_ranges(&w, want.len() as u64);
                let theirs = oracle("dissect", &enc, o.kind, &o.key, &ranges, dir);
                same_ranges(&theirs, &want, &ranges, &format!("{what}: dissect.fve"));
            }
            "bitlk" => {
                let k = bitlk_key(&enc, o.kind, &o.key).expect("cryptsetup takes this key");
                assert!(
                    u.is_volume_key(&k),
                    "{what}: the volume key differs from cryptsetup's"
                );
            }
            other => panic!("no oracle {other}"),
        }
    }
}

fn protector_for(i: usize) -> P {
    match i % 3 {
        0 => P::Password(PASSWORD.into()),
        1 => P::recovery_password(i as u64),
        _ => P::startup_key(i as u64),
    }
}

/// Every method with `sector`-byte sectors: ours, dislocker, libbde (which refuses XTS-AES
/// 256 as it refuses Windows' own, "invalid tweak key value too small"), dissect.fve (on
/// samples: its diffuser is pure Python) and cryptsetup's volume key.
fn every_method(sector: u32) {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_ntfs(dir.path(), 4, sector);
    for (i, m) in W::ALL.into_iter().enumerate() {
        let spec = Spec::new(m, sector).protect(protector_for(i + sector as usize));
        let mut oracles = vec!["dislocker", "dissect", "bitlk"];
        if m != W::XtsAes256 {
            oracles.push("libbde");
        }
        check_written(dir.path(), &plain, spec, &oracles);
    }
}

#[test]
fn written_volumes_of_every_method_with_512_byte_sectors_read_as_every_reader_reads_them() {
    every_method(512);
}

#[test]
fn written_volumes_of_every_method_with_4096_byte_sectors_read_as_every_reader_reads_them() {
    every_method(4096);
}

/// Every protector kind, each sector size, every method: ours opens each with its key; the
/// kinds the other readers take are checked by them (clear key: dislocker and dissect;
/// libbde 20190102 and cryptsetup's dump take no clear key).
#[test]
fn written_volumes_open_with_every_protector_kind_for_every_method_and_sector_size() {
    let dir = tempfile::tempdir().unwrap();
    for sector in [512u32, 4096] {
        let plain = plain_ntfs(dir.path(), 4, sector);
        for (i, m) in W::ALL.into_iter().enumerate() {
            let kinds = [
                P::recovery_password(i as u64 + 7),
                P::Password(format!("Pässwörd {i} ✓")),
                P::startup_key(i as u64 + 7),
                P::ClearKey,
            ];
            let mut spec = Spec::new(m, sector);
            // One volume holds the three kinds that need a key; each key alone opens it.
            spec.protectors = kinds[..3].to_vec();
            let enc = dir.path().join("multi.img");
            let w = writer::encrypt_file(&plain, &enc, &spec).unwrap();
            let want = expected(&plain, &w);
            for p in &kinds[..3] {
                let o = opener(p, dir.path());
                let u = bl::unlock(open(&enc), &o.keys)
                    .unwrap_or_else(|e| panic!("{m:?} {sector} {}: {e}", o.kind));
                same(
                    &read_all(&u),
                    &want,
                    want.len(),
                    &format!("{m:?} {sector} {}", o.kind),
                );
            }
            if i == 0 && sector == 512 {
                // The password's UTF-16 (non-ASCII) stretch, as libbde computes it
                // (dislocker 0.7 and cryptsetup 2.6 take no non-ASCII password).
                let o = opener(&kinds[1], dir.path());
                let theirs = oracle_of("libbde", &enc, &o, dir.path());
                same(&theirs, &want, want.len(), "non-ASCII password: libbde");
            }
            let suspended = Spec {
                protectors: vec![P::ClearKey],
                ..Spec::new(m, sector)
            };
            let mut oracles = vec!["dissect"];
            if sector == 512 {
                oracles.push("dislocker");
            }
            check_written(dir.path(), &plain, suspended, &oracles);
        }
    }
}

#[test]
fn a_volume_with_two_recovery_passwords_opens_with_either_and_a_windows11_bek() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_ntfs(dir.path(), 4, 512);
    let (a, b) = (P::recovery_password(100), P::recovery_password(200));
    let P::StartupKey { id, key } = P::startup_key(3) else {
        unreachable!()
    };
    let mut spec = Spec::new(W::XtsAes128, 512);
    spec.protectors = vec![a.clone(), b.clone(), P::StartupKey { id, key }];
    let enc = dir.path().join("two.img");
    let w = writer::encrypt_file(&plain, &enc, &spec).unwrap();
    let want = expected(&plain, &w);
    let info = bl::probe(&*open(&enc)).unwrap().unwrap();
    assert_eq!(info.recovery_ids().len(), 2);
    for p in [&b, &a] {
        let u = bl::unlock(open(&enc), &opener(p, dir.path()).keys).unwrap();
        same(&read_all(&u), &want, want.len(), "either recovery password");
    }
    // The second given of two recovery passwords, the first being another volume's.
    let (P::RecoveryPassword(ra), P::RecoveryPassword(other)) = (&a, &P::recovery_password(999))
    else {
        unreachable!()
    };
    let mut keys = Keys::new();
    keys.add_recovery_password(other).unwrap();
    keys.add_recovery_password(ra).unwrap();
    bl::unlock(open(&enc), &keys).unwrap();
    // A .BEK as later Windows write it (a description entry beside the external key).
    let bek = dir.path().join("win11.bek");
    std::fs::write(&bek, writer::bek_file(&id, &key, true)).unwrap();
    assert!(std::fs::metadata(&bek).unwrap().len() > 156);
    let mut keys = Keys::new();
    keys.add_startup_key_file(&bek).unwrap();
    let u = bl::unlock(open(&enc), &keys).unwrap();
    same(&read_all(&u), &want, want.len(), "Windows 11 .BEK");
    let (ok, so, se) = run(Command::new("dislocker-file")
        .arg("-r")
        .arg("-V")
        .arg(&enc)
        .arg("-f")
        .arg(&bek)
        .arg(dir.path().join("d.img")));
    assert!(ok, "dislocker with the longer .BEK: {so}{se}");
}

#[test]
fn a_bitlocker_to_go_fat_volume_is_recognised_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("fat.img");
    std::fs::File::create(&plain)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let (ok, so, se) = run(Command::new("mkfs.vfat")
        .args(["-F", "16", "-n", "STICK"])
        .arg(&plain));
    assert!(ok, "mkfs.vfat (dosfstools): {so}{se}");
    let spec = Spec {
        to_go: true,
        ..Spec::new(W::AesCbc128, 512)
    }
    .protect(P::Password(PASSWORD.into()));
    let enc = dir.path().join("togo.img");
    let w = writer::encrypt_file(&plain, &enc, &spec).unwrap();
    let info = bl::probe(&*open(&enc)).unwrap().unwrap();
    assert!(info.to_go);
    let mut keys = Keys::new();
    keys.add_password(PASSWORD);
    let u = bl::unlock(open(&enc), &keys).unwrap();
    let want = expected(&plain, &w);
    same(&read_all(&u), &want, want.len(), "To Go: ours");
    same(
        &dislocker(&enc, &[&format!("-u{PASSWORD}")], dir.path()),
        &want,
        want.len(),
        "To Go: dislocker",
    );
}

// ---------------------------------------------------------------------------------------
// Wrong keys and hostile volumes: clear errors, never a panic.

/// A small written volume in memory, its plain image, and what was written.
fn small_volume(protectors: Vec<P>) -> (tempfile::TempDir, Vec<u8>, Vec<u8>, writer::Written) {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_ntfs(dir.path(), 4, 512);
    let spec = Spec {
        protectors,
        ..Spec::new(W::XtsAes128, 512)
    };
    let enc = dir.path().join("v.img");
    let w = writer::encrypt_file(&plain, &enc, &spec).unwrap();
    let bytes = std::fs::read(&enc).unwrap();
    let want = expected(&plain, &w);
    (dir, bytes, want, w)
}

fn mem(bytes: &[u8]) -> Source {
    Arc::new(MemSource::new("vol.img", bytes.to_vec()))
}

#[test]
fn each_damaged_metadata_copy_is_passed_over_for_the_next_and_all_damaged_is_an_error() {
    let pw = P::Password(PASSWORD.into());
    let (_d, bytes, want, w) = small_volume(vec![pw]);
    let mut keys = Keys::new();
    keys.add_password(PASSWORD);
    let m: Vec<usize> = w.metadata.iter().map(|r| r.start as usize).collect();
    // Copy 1's CRC broken: copy 2 is used.
    let mut b = bytes.clone();
    b[m[0] + 200] ^= 1;
    let u = bl::unlock(mem(&b), &keys).unwrap();
    assert_eq!(u.metadata_copy(), 2);
    same(&read_all(&u), &want, want.len(), "copy 2");
    // Copy 2 too, by a change that keeps its CRC32 right but not its sealed SHA-256: the
    // check that needs the VMK passes it over.
    let len = usize::from(u16::from_le_bytes([b[m[1] + 8], b[m[1] + 9]])) << 4;
    b[m[1] + 100] ^= 0x10;
    let crc = crc32fast::hash(&b[m[1]..m[1] + len]);
    b[m[1] + len + 4..m[1] + len + 8].copy_from_slice(&crc.to_le_bytes());
    let u = bl::unlock(mem(&b), &keys).unwrap();
    assert_eq!(u.metadata_copy(), 3);
    same(&read_all(&u), &want, want.len(), "copy 3");
    // All three: an error naming each copy.
    b[m[2]] = b'X';
    let e = bl::unlock(mem(&b), &keys).unwrap_err();
    let BitLockerError::Metadata { problems, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        problems.iter().map(|p| p.copy).collect::<Vec<_>>(),
        [1, 2, 3],
        "{e}"
    );
    let text = e.to_string();
    for what in ["CRC32", "sealed SHA-256", "signature"] {
        assert!(text.contains(what), "{text}");
    }
    assert!(
        matches!(bl::probe(&*mem(&b)), Ok(Some(_))),
        "probe still reads copy 2"
    );
    // A third copy that lies past the end (as in an image cut short): the first is used.
    let mut b = bytes.clone();
    b[192..200].copy_from_slice(&(bytes.len() as u64 + 4096).to_le_bytes());
    let u = bl::unlock(mem(&b), &keys).unwrap();
    assert_eq!(u.metadata_copy(), 1);
    same(&read_all(&u), &want, want.len(), "copy 3 past the end");
}

#[test]
fn wrong_keys_of_each_kind_and_missing_keys_are_refused_by_name() {
    let rp = P::recovery_password(5);
    let sk = P::startup_key(5);
    let (dir, bytes, _, _) =
        small_volume(vec![rp.clone(), P::Password(PASSWORD.into()), sk.clone()]);
    let wrong = |keys: &Keys| bl::unlock(mem(&bytes), keys).unwrap_err();
    let mut k = Keys::new();
    k.add_password("password12!#");
    assert!(matches!(
        wrong(&k),
        BitLockerError::WrongKey {
            why: bl::WrongKeyWhy::NoProtectorOpens,
            ..
        }
    ));
    let mut k = Keys::new();
    let P::RecoveryPassword(other) = P::recovery_password(6) else {
        unreachable!()
    };
    k.add_recovery_password(&other).unwrap();
    let e = wrong(&k);
    assert!(matches!(e, BitLockerError::WrongKey { .. }), "{e}");
    assert!(e.to_string().contains("wrong key or damaged volume"), "{e}");
    // A .BEK with the right ID and another key; one with another ID.
    let P::StartupKey { id, .. } = sk else {
        unreachable!()
    };
    let mut k = Keys::new();
    k.add_startup_key(StartupKey::parse("x.bek", &writer::bek_file(&id, &[1; 32], false)).unwrap());
    assert!(matches!(wrong(&k), BitLockerError::WrongKey { .. }));
    let mut k = Keys::new();
    k.add_startup_key(
        StartupKey::parse("y.bek", &writer::bek_file(&[9; 16], &[1; 32], false)).unwrap(),
    );
    let e = wrong(&k);
    assert!(
        matches!(e, BitLockerError::NoMatchingProtector { .. }),
        "{e}"
    );
    // Not a key file at all.
    let junk = dir.path().join("notes.BEK");
    std::fs::write(&junk, b"not a key").unwrap();
    let e = Keys::new().add_startup_key_file(&junk).unwrap_err();
    assert!(matches!(e, bl::BekError::NotBek { .. }), "{e}");
    assert!(matches!(
        Keys::new().add_startup_key_file(&dir.path().join("missing.bek")),
        Err(bl::BekError::Io { .. })
    ));
    // No key: say which keys would do.
    let e = wrong(&Keys::new());
    assert!(matches!(e, BitLockerError::NoKey { .. }), "{e}");
    assert!(e.to_string().contains("--recovery-password"), "{e}");
    // A TPM-protected volume: the key is in the old machine's chip; the recovery key's ID.
    let (_d, tpm, _, w) = small_volume(vec![P::Tpm, P::recovery_password(8)]);
    let e = bl::unlock(mem(&tpm), &Keys::new()).unwrap_err();
    let BitLockerError::TpmOnly { recovery_ids, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(recovery_ids[0].0, w.protector_ids[1]);
    let text = e.to_string();
    assert!(
        text.contains("TPM chip") && text.contains(&recovery_ids[0].short_id()),
        "{text}"
    );
    let info = bl::probe(&*mem(&tpm)).unwrap().unwrap();
    assert_eq!(info.protectors[0].kind, ProtectorKind::Tpm);
}

#[test]
fn a_key_that_opens_something_other_than_a_file_system_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A plain image that is not a file system: what it decrypts to is refused.
    let plain = dir.path().join("noise.img");
    let noise: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&plain, &noise).unwrap();
    let spec = Spec::new(W::AesCbc256, 512).protect(P::Password(PASSWORD.into()));
    let enc = dir.path().join("noise.enc");
    writer::encrypt_file(&plain, &enc, &spec).unwrap();
    let mut keys = Keys::new();
    keys.add_password(PASSWORD);
    let e = bl::unlock(open(&enc), &keys).unwrap_err();
    assert!(
        matches!(
            e,
            BitLockerError::WrongKey {
                why: bl::WrongKeyWhy::NotAFileSystem,
                ..
            }
        ),
        "{e}"
    );
    // NTFS whose $MFT record 0 is not FILE (and not blank): refused too.
    let ntfs = plain_ntfs(dir.path(), 4, 512);
    let mut img = std::fs::read(&ntfs).unwrap();
    let lcn = u64::from_le_bytes(img[48..56].try_into().unwrap()) as usize;
    img[lcn * 4096..lcn * 4096 + 4].copy_from_slice(b"BAAD");
    std::fs::write(&plain, &img).unwrap();
    writer::encrypt_file(&plain, &enc, &spec).unwrap();
    let e = bl::unlock(open(&enc), &keys).unwrap_err();
    assert!(
        matches!(
            e,
            BitLockerError::WrongKey {
                why: bl::WrongKeyWhy::NoMft,
                ..
            }
        ),
        "{e}"
    );
}

/// splitmix64, for reproducible damage.
fn rng(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn absurd_sizes_offsets_and_counts_give_errors_never_panics() {
    let (_d, bytes, _, w) = small_volume(vec![P::ClearKey]);
    let m: Vec<usize> = w.metadata.iter().map(|r| r.start as usize).collect();
    let check = |b: &[u8]| {
        let src = mem(b);
        let _ = bl::probe(&*src);
        if let Ok(u) = bl::unlock(src, &Keys::new()) {
            let mut buf = vec![0u8; 64 << 10];
            let _ = u.read_at(0, &mut buf);
            let _ = u.read_at(u.size() - 700, &mut buf[..700]);
        }
    };
    // Fields set to absurd values in the volume header and in every copy at once.
    let fields: &[(usize, usize)] = &[(11, 2), (13, 1), (176, 8), (184, 8), (192, 8)];
    for &(at, len) in fields {
        for v in [0u64, 1, 7, 0x7fff_ffff, u64::MAX] {
            let mut b = bytes.clone();
            b[at..at + len].copy_from_slice(&v.to_le_bytes()[..len]);
            check(&b);
        }
    }
    let copy_fields: &[(usize, usize)] = &[
        (8, 2),
        (10, 2),
        (12, 2),
        (16, 8),
        (24, 4),
        (28, 4),
        (32, 8),
        (56, 8),
        (64, 4),
        (72, 4),
        (76, 4),
        (100, 2),
        (112, 2),
        (114, 2),
        (116, 2),
    ];
    for &(at, len) in copy_fields {
        for v in [0u64, 1, 3, 8, 0xffff, 0x7fff_ffff, u64::MAX] {
            let mut b = bytes.clone();
            for &c in &m {
                b[c + at..c + at + len].copy_from_slice(&v.to_le_bytes()[..len]);
            }
            check(&b);
        }
    }
    // Random damage to the metadata: the CRC32 catches most, so every copy's CRC32 is
    // recomputed to let the damage through to the parser.
    let mut seed = 42;
    for _ in 0..300 {
        let mut b = bytes.clone();
        for &c in &m {
            let len = usize::from(u16::from_le_bytes([b[c + 8], b[c + 9]])) << 4;
            for _ in 0..1 + rng(&mut seed) % 8 {
                let at = c + 8 + (rng(&mut seed) as usize % (len + 200));
                b[at] = rng(&mut seed) as u8;
            }
            let len = usize::from(u16::from_le_bytes([b[c + 8], b[c + 9]])) << 4;
            if len + 8 < 64 << 10 {
                let crc = crc32fast::hash(&b[c..c + len]);
                b[c + len + 4..c + len + 8].copy_from_slice(&crc.to_le_bytes());
            }
        }
        check(&b);
    }
    // Too short to hold anything.
    for n in [0usize, 11, 511, 512, 4096] {
        check(&bytes[..n]);
    }
}

// ---------------------------------------------------------------------------------------
// Secrets.

#[test]
fn no_key_appears_in_any_debug_display_or_error() {
    let P::RecoveryPassword(rp) = P::recovery_password(77) else {
        unreachable!()
    };
    let P::StartupKey { id, key } = P::startup_key(77) else {
        unreachable!()
    };
    let pw = "Correct Horse 77";
    let protectors = vec![
        P::RecoveryPassword(rp.clone()),
        P::Password(pw.into()),
        P::StartupKey { id, key },
    ];
    let (dir, bytes, _, w) = small_volume(protectors);
    let bek = dir.path().join("k.bek");
    std::fs::write(&bek, writer::bek_file(&id, &key, false)).unwrap();
    let mut out = String::new();
    let mut keys = Keys::new();
    keys.add_recovery_password(&rp).unwrap();
    keys.add_password(pw);
    keys.add_startup_key_file(&bek).unwrap();
    let u = bl::unlock(mem(&bytes), &keys).unwrap();
    out += &format!(
        "{keys:?} {u:?} {:?} {:?}",
        u.info(),
        StartupKey::from_file(&bek).unwrap()
    );
    // Every error a key can cause.
    let mut wrong = Keys::new();
    wrong.add_password(&format!("{pw}x"));
    for e in [
        bl::unlock(mem(&bytes), &wrong).unwrap_err(),
        bl::unlock(mem(&bytes), &Keys::new()).unwrap_err(),
    ] {
        out += &format!("{e} {e:?}");
    }
    for typo in [
        rp.replacen('1', "2", 1),
        rp[..20].to_string(),
        format!("{rp}-123456"),
    ] {
        if let Err(e) = Keys::new().add_recovery_password(&typo) {
            out += &format!("{e} {e:?}");
        }
        if let Err(e) = bl::RecoveryPassword::check_typed(&typo) {
            out += &format!("{e} {e:?}");
        }
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let lower = out.to_lowercase();
    let mut secrets: Vec<String> = rp.split('-').map(String::from).collect();
    secrets.extend([
        pw.to_lowercase(),
        hex(&key),
        hex(&w.fvek),
        hex(&w.fvek[..8]),
        hex(&key[..8]),
    ]);
    for s in &secrets {
        assert!(!lower.contains(s.as_str()), "a secret shows in: {out}");
    }
    assert!(
        !out.contains(&format!("{:?}", &key[..4])),
        "raw key bytes show in: {out}"
    );
}
