//! Capture through the real Windows agent under Wine: the offline volume as E:, the store
//! on F:, checked afterwards by the Linux agent's verify and by wimtools.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::ntfs;
use fixtures::volume::{UserSpec, WindowsSpec};
use fixtures::wine::WinePrefix;
use fixtures::{lifeboat_bin, run, tree_fingerprint};

#[test]
fn windows_agent_captures_e_to_f() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let e = dir.path().join("e");
    let f = dir.path().join("f");
    std::fs::create_dir_all(&e).unwrap();
    std::fs::create_dir_all(&f).unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK report".to_vec()),
        (r"Desktop\ünïcödé.txt".into(), "ünïcödé".as_bytes().to_vec()),
        (r"AppData\Local\Temp\junk.tmp".into(), b"junk".to_vec()),
    ];
    // A long path, past Windows' old 260-character limit.
    let long = (0..12)
        .map(|i| format!("folder-with-a-long-name-{i:02}"))
        .collect::<Vec<_>>()
        .join("\\");
    ann.files
        .push((format!(r"Documents\{long}\deep.txt"), b"deep".to_vec()));
    let mut spec = WindowsSpec::win10("WINE-CAP");
    spec.users = vec![ann];
    spec.write_volume(&e);
    wine.map_drive('e', &e);
    wine.map_drive('f', &f);
    let before = tree_fingerprint(&e);

    let (code, out, err) = wine.run(
        &["capture", r"E:\", "--dest", r"F:\", "--profile", "user"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("STORE COMPLETE AND VERIFIED"), "{out}");
    assert_eq!(
        before,
        tree_fingerprint(&e),
        "the Windows agent wrote to the source"
    );

    let store = std::fs::read_dir(&f)
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .find(|p| p.join("manifest.yaml").exists())
        .expect("store on F:");
    let (code, vout, verr) = run(Command::new(lifeboat_bin()).arg("verify").arg(&store));
    assert_eq!(
        code, 0,
        "Linux verify of the Windows-made store: {vout}{verr}"
    );
    let (_, listing, _) = run(Command::new("wimdir").arg(store.join("files.wim")).arg("1"));
    assert!(
        listing.contains("/C/Users/ann/Documents/report.docx"),
        "{listing}"
    );
    assert!(listing.contains("ünïcödé.txt"), "{listing}");
    assert!(listing.contains("deep.txt"), "long path lost: {listing}");
    assert!(!listing.contains("junk.tmp"), "{listing}");
    assert!(store.join("registry/ann.reg").is_file());

    // The Windows agent's own verify and extract on the same store.
    let name = store.file_name().unwrap().to_string_lossy().to_string();
    let (code, out, err) = wine.run(&["verify", &format!(r"F:\{name}")], &[], None);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = wine.run(
        &["extract", &format!(r"F:\{name}"), r"F:\restored"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read(f.join("restored/ann/C/Users/ann/Documents/report.docx")).unwrap(),
        b"PK report"
    );
}

/// `wimdir --detailed` of one image: each entry's path and fields (`Security Descriptor`,
/// `Link Group ID`, `Link Count`, `Attributes`, …), and each stream's `Hash` under its
/// stream heading, as wimlib prints them.
fn wimdir_detailed(wim: &Path, image: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let (code, out, err) = run(Command::new("wimdir").arg(wim).arg(image).arg("--detailed"));
    assert_eq!(code, 0, "wimdir --detailed: {err}");
    let mut entries = BTreeMap::new();
    let mut path = String::new();
    let mut stream = String::new();
    let mut fields = BTreeMap::new();
    for line in out.lines().chain(["-----"]) {
        if line.starts_with("-----") {
            if !path.is_empty() {
                entries.insert(std::mem::take(&mut path), std::mem::take(&mut fields));
            }
            stream.clear();
        } else if let Some(s) = line.strip_prefix('\t') {
            stream = s.trim_end_matches(':').to_string();
        } else if let Some((k, v)) = line.split_once(" = ") {
            let (k, v) = (k.trim(), v.trim());
            if k == "Full Path" {
                path = v.trim_matches('"').to_string();
            } else if stream.is_empty() {
                fields.insert(k.to_string(), v.to_string());
            } else {
                fields.insert(format!("{stream}: {k}"), v.to_string());
            }
        }
    }
    entries
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The owner SID of a self-relative security descriptor, as `S-1-…`.
fn owner_sid(sd: &[u8]) -> Option<String> {
    let at = u32::from_le_bytes(sd.get(4..8)?.try_into().ok()?) as usize;
    let sid = sd.get(at..)?;
    let count = usize::from(*sid.get(1)?);
    let authority = sid
        .get(2..8)?
        .iter()
        .fold(0u64, |a, &b| a << 8 | u64::from(b));
    let subs: Vec<String> = (0..count)
        .map(|i| {
            let b = sid.get(8 + 4 * i..12 + 4 * i)?;
            Some(u32::from_le_bytes(b.try_into().ok()?).to_string())
        })
        .collect::<Option<_>>()?;
    Some(format!("S-{}-{authority}-{}", sid[0], subs.join("-")))
}

/// The SIDs of the profiles Wine's own registry lists (its user's among them).
fn wine_profile_sids(wine: &WinePrefix) -> Vec<String> {
    let out = Command::new("wine")
        .args([
            "reg",
            "query",
            r"HKLM\Software\Microsoft\Windows NT\CurrentVersion\ProfileList",
        ])
        .env("WINEPREFIX", wine.prefix())
        .env("WINEDEBUG", "-all")
        .output()
        .expect("wine reg query");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().rsplit('\\').next())
        .filter(|s| s.starts_with("S-1-5-"))
        .map(str::to_string)
        .collect()
}

/// What a host volume carries besides data, through Windows' own calls as Wine answers
/// them: a security descriptor for every file and folder (Wine makes one from the Unix
/// owner and mode: its owner is Wine's user), hard links as one inode (Wine gives both
/// names the same file index). Wine keeps no named streams on a Unix folder
/// (FindFirstStreamW and FileStreamInfo list none) and no reparse points (a Unix symlink
/// is followed), so those are not shown here.
#[test]
fn windows_agent_carries_security_descriptors_and_hard_links() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let (e, f) = (dir.path().join("e"), dir.path().join("f"));
    std::fs::create_dir_all(&f).unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK report".to_vec()),
        (r"Pictures\holiday.jpg".into(), fixtures::noise(300_000, 7)),
    ];
    let mut spec = WindowsSpec::win10("WINE-SD");
    spec.users = vec![ann];
    spec.write_volume(&e);
    let docs = e.join("Users/ann/Documents");
    std::fs::hard_link(docs.join("report.docx"), docs.join("report (link).docx")).unwrap();
    wine.map_drive('e', &e);
    wine.map_drive('f', &f);

    let (code, out, err) = wine.run(
        &["capture", r"E:\", "--dest", r"F:\", "--profile", "user"],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let wim = fixtures::store_in(&f).join("files.wim");
    let (code, vout, verr) = run(Command::new("wimverify").arg(&wim));
    assert_eq!(code, 0, "wimverify: {vout}{verr}");

    let entries = wimdir_detailed(&wim, "1");
    let sids = wine_profile_sids(&wine);
    assert!(!sids.is_empty(), "Wine lists no profile");
    let doc = "/C/Users/ann/Documents/report.docx";
    for path in [
        doc,
        "/C/Users/ann/Pictures/holiday.jpg",
        "/C/Users/ann/Documents",
    ] {
        let e = entries
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the image: {:?}", entries.keys()));
        let sd = from_hex(
            e.get("Security Descriptor")
                .unwrap_or_else(|| panic!("{path} has no security descriptor: {e:?}")),
        );
        let owner = owner_sid(&sd).unwrap_or_else(|| panic!("{path}: bad descriptor {sd:?}"));
        assert!(
            sids.contains(&owner),
            "{path}: owner {owner}, Wine's users {sids:?}"
        );
    }
    let link = &entries["/C/Users/ann/Documents/report (link).docx"];
    assert_eq!(link["Link Count"], "2", "{link:?}");
    assert_eq!(entries[doc]["Link Count"], "2");
    assert_eq!(link["Link Group ID"], entries[doc]["Link Group ID"]);
    assert_ne!(link["Link Group ID"], "0x0000000000000000");
    let picture = &entries["/C/Users/ann/Pictures/holiday.jpg"];
    assert_eq!(picture["Link Count"], "1");
}

/// Issue 17: the x64 agent under Wine captures from an NTFS image file (ROOT =
/// `E:\windows.img`, made by mkntfs and filled through ntfs-3g). The store verifies with
/// wimlib, holds the users' files with the content ntfs-3g reads from the image, and the
/// same entries, content, times, attributes, descriptors and links as the Linux agent's
/// capture of the same image.
#[test]
fn windows_agent_captures_from_an_ntfs_image() {
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let [e, f, linux] = ["e", "f", "linux"].map(|n| {
        let d = dir.path().join(n);
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Documents\report.docx".into(), b"PK report".to_vec()),
        (
            r"Documents\Ünïcödé Fïlé.txt".into(),
            "ünïcödé".as_bytes().to_vec(),
        ),
        (r"Pictures\holiday.jpg".into(), fixtures::noise(700_000, 3)),
        (r"Desktop\notes.txt".into(), fixtures::ntfs::text(50_000, 1)),
    ];
    let mut spec = WindowsSpec::win10("WINE-IMG");
    spec.users = vec![ann, UserSpec::local(1002, "Bob")];
    let img = ntfs::windows_volume(&e, &spec);
    wine.map_drive('e', &e);
    wine.map_drive('f', &f);
    let before = tree_fingerprint(&e);

    let (code, out, err) = wine.run(
        &[
            "capture",
            r"E:\windows.img",
            "--dest",
            r"F:\",
            "--profile",
            "user",
        ],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("STORE COMPLETE AND VERIFIED"), "{out}");
    assert_eq!(before, tree_fingerprint(&e), "the image was written");
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(&img)
        .arg("--dest")
        .arg(&linux)
        .args(["--profile", "user"]));
    assert_eq!(code, 0, "Linux capture: {out}{err}");

    let wims = [&f, &linux].map(|d| fixtures::store_in(d).join("files.wim"));
    let applied = applied_alike(dir.path(), &wims, "the Windows and the Linux captures");

    // The users' files, as ntfs-3g reads them from the image.
    let mount = ntfs::Mount::new(&img, &dir.path().join("mnt"), "ro");
    let ann_docs = std::fs::read_dir(&applied[0])
        .unwrap()
        .flatten()
        .map(|d| d.path().join("C/Users/ann"))
        .find(|p| p.is_dir())
        .expect("ann's image");
    for rel in [
        "Documents/report.docx",
        "Documents/Ünïcödé Fïlé.txt",
        "Pictures/holiday.jpg",
        "Desktop/notes.txt",
    ] {
        assert_eq!(
            std::fs::read(ann_docs.join(rel)).unwrap(),
            std::fs::read(mount.join(&format!(r"Users\ann\{rel}"))).unwrap(),
            "{rel}"
        );
    }

    // Entry by entry, the metadata both agents took from the image.
    let (code, info, _) = run(Command::new("wiminfo").arg(&wims[0]));
    assert_eq!(code, 0);
    let images = info
        .lines()
        .filter(|l| l.starts_with("Image Count:"))
        .find_map(|l| l.split(':').nth(1)?.trim().parse::<usize>().ok())
        .expect("image count");
    assert!(images >= 2, "{info}");
    // Where each capture put a stream, and the times of the folders the writer makes on the
    // way to a profile (`/`, `/C`, `/C/Users`: the capture's own time), differ by nature.
    let kept = |m: BTreeMap<String, BTreeMap<String, String>>| {
        m.into_iter()
            .map(|(p, fields)| {
                let made = !p.contains("/Users/");
                let fields: BTreeMap<String, String> = fields
                    .into_iter()
                    .filter(|(k, _)| {
                        let placed = ["Offset in WIM", "Compressed size", "Part Number", "Flags"]
                            .iter()
                            .any(|x| k.ends_with(x));
                        let made_time = made && k.ends_with(" Time");
                        !placed && !made_time
                    })
                    .collect();
                (p, fields)
            })
            .collect::<BTreeMap<_, _>>()
    };
    let mut report = None;
    for image in 1..=images {
        let [windows, linux] = wims
            .each_ref()
            .map(|w| kept(wimdir_detailed(w, &image.to_string())));
        assert_eq!(windows, linux, "image {image}");
        report = report.or(windows.get("/C/Users/ann/Documents/report.docx").cloned());
    }
    // The descriptor NTFS keeps for it ($Secure), carried from the image.
    let report = report.expect("ann's report in an image");
    assert!(report.contains_key("Security Descriptor"), "{report:?}");
}

/// Issue 18 under Wine: the x64 agent captures a BitLocker-locked image with the startup
/// key file from the stick (`.BEK`), and what it stores is what the Linux agent stores from
/// the plain volume; nothing it wrote holds the key.
#[test]
fn windows_agent_captures_a_bitlocker_image_with_its_bek() {
    use fixtures::bitlocker::{bek_file, encrypt_file, Method, Protector, Spec};
    let wine = WinePrefix::new();
    let dir = tempfile::tempdir().unwrap();
    let [e, f, linux] = ["e", "f", "linux"].map(|n| {
        let d = dir.path().join(n);
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![(r"Documents\thesis.docx".into(), fixtures::noise(300_000, 9))];
    let mut spec = WindowsSpec::win11("WINE-BDE");
    spec.users = vec![ann];
    let plain = ntfs::windows_volume(dir.path(), &spec);
    let startup = Protector::startup_key(5);
    let Protector::StartupKey { id, key } = startup.clone() else {
        unreachable!()
    };
    std::fs::write(e.join("7E2B1C0A-key.BEK"), bek_file(&id, &key, true)).unwrap();
    let locked = e.join("locked.img");
    encrypt_file(
        &plain,
        &locked,
        &Spec::new(Method::AesCbc128, 512).protect(startup),
    )
    .unwrap();
    wine.map_drive('e', &e);
    wine.map_drive('f', &f);
    let before = tree_fingerprint(&e);
    let (code, out, err) = wine.run(
        &[
            "capture",
            r"E:\locked.img",
            "--startup-key",
            r"E:\7E2B1C0A-key.BEK",
            "--dest",
            r"F:\",
            "--profile",
            "user",
        ],
        &[],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        before,
        tree_fingerprint(&e),
        "the locked image or the key was written"
    );
    let (code, out, err) = run(Command::new(lifeboat_bin())
        .arg("capture")
        .arg(&plain)
        .arg("--dest")
        .arg(&linux)
        .args(["--profile", "user"]));
    assert_eq!(code, 0, "Linux capture: {out}{err}");
    let wims = [&f, &linux].map(|d| fixtures::store_in(d).join("files.wim"));
    applied_alike(dir.path(), &wims, "the locked and the plain captures");
    // The key's bytes appear in no file of the store.
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    for file in fixtures::migration::walk(&f) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key)
                && !String::from_utf8_lossy(&bytes).contains(&hex),
            "{} holds the key",
            file.display()
        );
    }
}

/// Each WIM verified by wimlib and applied into `dir` (`applied-N`), the trees then alike
/// to `diff -r`; the applied folders.
fn applied_alike(dir: &Path, wims: &[PathBuf], what: &str) -> Vec<PathBuf> {
    let mut applied = Vec::new();
    for (i, wim) in wims.iter().enumerate() {
        let (code, vout, verr) = run(Command::new("wimverify").arg(wim));
        assert_eq!(code, 0, "wimverify {}: {vout}{verr}", wim.display());
        let to = dir.join(format!("applied-{i}"));
        let (code, aout, aerr) = run(Command::new("wimapply").arg(wim).arg("all").arg(&to));
        assert_eq!(code, 0, "wimapply {}: {aout}{aerr}", wim.display());
        applied.push(to);
    }
    let (code, diff, _) = run(Command::new("diff").arg("-r").args(&applied));
    assert_eq!(code, 0, "{what} differ:\n{diff}");
    applied
}
