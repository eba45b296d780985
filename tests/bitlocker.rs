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
        u.read_at((i as u64) << 20, chunk).expect("read the plain volume");
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
fn oracle(reader: &str, volume: &Path, kind: &str, key: &str, ranges: &[(u64, u64)], dir: &Path) -> Vec<u8> {
    let out = dir.join(format!("{reader}.img"));
    let mut c = python();
    c.args(["decrypt", reader]).arg(volume).args([kind, key]).arg(&out);
    c.args(ranges.iter().map(|(a, b)| format!("{a}:{b}")));
    let (ok, so, se) = run(&mut c);
    assert!(ok, "{reader} failed: {so}{se}");
    let v = std::fs::read(&out).expect("the oracle's output");
    std::fs::remove_file(&out).ok();
    v
}

/// Compares two plain volumes over `len` bytes, naming the first differing sector.
fn same(ours: &[u8], theirs: &[u8], len: usize, what: &str) {
    assert!(ours.len() >= len && theirs.len() >= len, "{what}: short output");
    if ours[..len] != theirs[..len] {
        let at = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(0);
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
        .args(["-F", "-Q", "-q", "-L", "Windows", "-s", &sector.to_string(), "-c", "4096"])
        .arg(&img));
    assert!(ok, "mkntfs: {so}{se}");
    for (name, len) in [("bootmgr", 300_000usize), ("pagefile.sys", 2 << 20), ("notes.txt", 10)] {
        let src = dir.join(name);
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + name.len()) as u8).collect();
        std::fs::write(&src, data).unwrap();
        let (ok, so, se) = run(Command::new("ntfscp").arg("-f").arg(&img).arg(&src).arg(name));
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
            Opener { keys, dislocker: vec![format!("-p{rp}")], kind: "recovery", key: rp.clone() }
        }
        P::Password(pw) => {
            keys.add_password(pw);
            Opener { keys, dislocker: vec![format!("-u{pw}")], kind: "password", key: pw.clone() }
        }
        P::StartupKey { id, key } => {
            let bek = dir.join("key.bek");
            std::fs::write(&bek, writer::bek_file(id, key, false)).unwrap();
            keys.add_startup_key_file(&bek).unwrap();
            let b = bek.display().to_string();
            Opener { keys, dislocker: vec!["-f".into(), b.clone()], kind: "bek", key: b }
        }
        P::ClearKey | P::Tpm => Opener { keys, dislocker: vec!["-c".into()], kind: "clear", key: String::new() },
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
        same(&ours[a..b], &theirs[a..b], b - a, &format!("{what}, bytes {a}..{b}"));
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
    assert!(out.status.success(), "cryptsetup bitlkDump failed on {}", volume.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let dump = text.split("MK dump:").nth(1).expect("bitlkDump prints the key");
    let hex: Vec<u8> = dump
        .lines()
        .take_while(|l| l.trim().split(' ').all(|h| h.len() == 2))
        .flat_map(|l| l.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect::<Vec<_>>())
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
    let field = |l: &str| l.split_once(':').map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let mut i = BdeInfo { method: String::new(), volume: String::new(), description: String::new(), protectors: vec![] };
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
    let info = bl::probe(&*open(volume)).unwrap().expect("a BitLocker volume");
    let b = bdeinfo(volume);
    let what = volume.display();
    assert_eq!(bde_method(info.method), b.method, "{what}: method");
    assert!(b.volume.eq_ignore_ascii_case(&info.volume_id.to_string()), "{what}: volume ID");
    assert_eq!(info.description.as_deref(), Some(b.description.as_str()), "{what}");
    let ours: Vec<(String, String)> = info
        .protectors
        .iter()
        .map(|p| (p.id.to_string().to_lowercase(), bde_kind(p.kind).to_string()))
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
    Real { file: "aes_128", kind: "password", key: PASSWORD, method: Method::AesCbc128 },
    Real { file: "aes_256", kind: "password", key: PASSWORD, method: Method::AesCbc256 },
    Real { file: "aes_128_diffuser", kind: "password", key: PASSWORD, method: Method::AesCbc128Diffuser },
    Real { file: "aes_256_diffuser", kind: "password", key: PASSWORD, method: Method::AesCbc256Diffuser },
    Real { file: "aes-xts_128", kind: "password", key: PASSWORD, method: Method::XtsAes128 },
    Real { file: "aes-xts_256", kind: "password", key: PASSWORD, method: Method::XtsAes256 },
    Real {
        file: "recovery_password",
        kind: "recovery",
        key: "284867-596541-514998-422114-660297-261613-215424-199408",
        method: Method::XtsAes128,
    },
    Real { file: "recovery_key", kind: "bek", key: "recovery_key", method: Method::XtsAes128 },
    Real { file: "startup_key", kind: "bek", key: "startup_key", method: Method::XtsAes128 },
    Real { file: "suspended", kind: "clear", key: "", method: Method::XtsAes128 },
];

/// Decompresses a gzip'd real volume into `out`, sparse where it is zeros.
fn gunzip(gz: &Path, out: &Path) {
    use std::os::unix::fs::FileExt;
    let mut d = flate2::read::GzDecoder::new(std::io::BufReader::new(std::fs::File::open(gz).unwrap()));
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
        let Some(vol) = real_volume(r.file, dir.path()) else { return };
        let (keys, key) = real_keys(r);
        let u = bl::unlock(open(&vol), &keys).unwrap_or_else(|e| panic!("{}: {e}", r.file));
        assert_eq!(u.info().method, r.method, "{}", r.file);
        assert_eq!(u.info().suspended(), r.kind == "clear", "{}", r.file);
        let ours = read_all(&u);
        let args = dislocker_args(r.kind, &key);
        let theirs = dislocker(&vol, &args.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
        same(&ours, &theirs, ours.len(), &format!("{}: ours and dislocker-file", r.file));
        assert_eq!(&ours[3..11], b"NTFS    ");
        assert_eq!(&ours[0x2000..0x2004], b"FILE", "{}: $MFTMirr record 0", r.file);
        if let Some(k) = bitlk_key(&vol, r.kind, &key) {
            assert!(u.is_volume_key(&k), "{}: the volume key differs from cryptsetup's", r.file);
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
/// metadata and a few file-system sectors), as ranges, each widened by a block.
fn stored_ranges(vol: &Path) -> Vec<(u64, u64)> {
    let data = std::fs::read(vol).unwrap();
    let mut v: Vec<(u64, u64)> = Vec::new();
    for (i, b) in data.chunks(4096).enumerate() {
        if b.iter().any(|&x| x != 0) {
            let (a, e) = ((i as u64).saturating_sub(1) * 4096, ((i as u64 + 2) * 4096).min(data.len() as u64));
            match v.last_mut() {
                Some(last) if a <= last.1 => last.1 = e,
                _ => v.push((a, e)),
            }
        }
    }
    v
}

#[test]
fn real_encrypt_on_write_volumes_read_as_dissect_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let Some(vol) = real_volume("eow_partial", dir.path()) else { return };
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
    assert!(plain > 0 && decrypted > 0, "plain {plain}, decrypted {decrypted}");

    let Some(vol) = real_volume("decrypted", dir.path()) else { return };
    let info = bl::probe(&*open(&vol)).unwrap().unwrap();
    assert_eq!((info.method, info.state), (Method::None, State::Decrypted));
    let u = bl::unlock(open(&vol), &Keys::new()).unwrap();
    let ours = read_all(&u);
    let theirs = oracle("dissect", &vol, "none", "", &[], dir.path());
    same(&ours, &theirs, ours.len(), "decrypted: ours and dissect.fve");
}

#[test]
fn a_real_vista_volume_reads_as_dissect_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(vol) = real_volume("vista", dir.path()) else { return };
    let rp = "517506-503998-044583-576191-587004-635965-501270-087802";
    let info = bl::probe(&*open(&vol)).unwrap().unwrap();
    assert_eq!(info.version, bl::Version::Vista);
    assert_eq!(info.method, Method::AesCbc128Diffuser);
    let kinds: Vec<_> = info.protectors.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ProtectorKind::StartupKey, ProtectorKind::RecoveryPassword]);
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
    let Some(vol) = real_volume("win7_partial", dir.path()) else { return };
    let info = bl::probe(&*open(&vol)).unwrap().unwrap();
    let State::PartlyEncrypted { toward, encrypted_bytes } = info.state else {
        panic!("win7_partial: {:?}", info.state)
    };
    assert_eq!(toward, bl::Toward::Decrypted);
    assert_eq!(info.method, Method::AesCbc256);
    assert!(info.suspended(), "a volume being decrypted keeps a clear key");
    let rp = "131450-120197-153989-250338-511368-495572-680944-381546";
    let mut keys = Keys::new();
    keys.add_recovery_password(rp).unwrap();
    for keys in [keys, Keys::new()] {
        let u = bl::unlock(open(&vol), &keys).unwrap();
        let b = encrypted_bytes;
        let mut ranges = stored_ranges(&vol);
        ranges.push((b - 4096, b + 4096));
        let mut ours = vec![0u8; u.size() as usize];
        for &(a, e) in &ranges {
            u.read_at(a, &mut ours[a as usize..e as usize]).unwrap();
        }
        let theirs = oracle("dissect", &vol, "recovery", rp, &ranges, dir.path());
        same_ranges(&ours, &theirs, &ranges, "win7_partial: ours and dissect.fve");
        // Across the boundary: encrypted below (decrypted here), plain above.
        let raw = std::fs::read(&vol).unwrap();
        let at = b as usize;
        assert_eq!(ours[at..at + 4096], raw[at..at + 4096], "plain above the encrypted part");
    }
}

#[test]
fn real_volumes_probe_as_libbde_and_dissect_read_them() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["aes_128", "recovery_password", "startup_key", "eow_partial", "vista", "suspended"] {
        let Some(vol) = real_volume(name, dir.path()) else { return };
        let info = bl::probe(&*open(&vol)).unwrap().unwrap();
        let (_, out, err) = run(python().arg("info").arg(&vol));
        let ds: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        let ids: Vec<String> = info.protectors.iter().map(|p| p.id.to_string().to_lowercase()).collect();
        assert_eq!(ds["ids"], serde_json::json!(ids), "{name}");
        assert_eq!(ds["method"], u64::from(method_code(info.method)), "{name}");
        assert_eq!(ds["description"].as_str(), info.description.as_deref(), "{name}");
        if ["aes_128", "recovery_password", "startup_key"].contains(&name) {
            probe_as_bdeinfo(&vol);
        }
        let short: Vec<String> = info.protectors.iter().map(|p| p.id.short_id()).collect();
        assert!(short.iter().zip(&ids).all(|(s, id)| id.to_uppercase().starts_with(s.as_str()) && s.len() == 8));
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
                same(&dislocker(&enc, &args, dir), &want, want.len(), &format!("{what}: dislocker"));
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
                assert!(u.is_volume_key(&k), "{what}: the volume key differs from cryptsetup's");
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

#[test]
fn written_volumes_of_every_method_with_512_byte_sectors_read_as_every_reader_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_ntfs(dir.path(), 8, 512);
    for (i, m) in W::ALL.into_iter().enumerate() {
        let spec = Spec::new(m, 512).protect(protector_for(i));
        check_written(dir.path(), &plain, spec, &["dislocker", "libbde", "dissect", "bitlk"]);
    }
}

#[test]
fn written_volumes_of_every_method_with_4096_byte_sectors_read_as_every_reader_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_ntfs(dir.path(), 8, 4096);
    for (i, m) in W::ALL.into_iter().enumerate() {
        let spec = Spec::new(m, 4096).protect(protector_for(i + 1));
        check_written(dir.path(), &plain, spec, &["dislocker", "libbde", "dissect", "bitlk"]);
    }
}
