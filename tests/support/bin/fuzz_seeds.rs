//! `fuzz-seeds DIR`: seed inputs for the fuzz targets in `fuzz/`, one folder per target,
//! made by the fixture writers (hives clean, dirty with logs, looping, with a root that
//! points nowhere; SAM records; PE heads; MigXML, Offline.xml, YAML and a real store's
//! manifest; small NTFS volumes, packed; ddrescue mapfiles). `scripts/fuzz.sh` runs it; real data
//! is added there, read in place.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::regf::{self, HiveBuilder, LogFormat};
use fixtures::volume::{UserSpec, WindowsSpec};
use lifeboat::hive::LoadedHive;

fn put(dir: &Path, target: &str, name: &str, data: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("seed folder");
    std::fs::write(d.join(name), data).expect("seed file");
}

/// A hive with every value type, a class name, a big value and an `ri` subkey list.
fn rich_hive(minor: u32) -> Vec<u8> {
    let mut b = HiveBuilder::new("ROOT");
    b.minor_version(minor);
    b.key(r"Software\Vendor")
        .sz("Name", "x")
        .expand_sz("Path", r"%SystemRoot%\x")
        .multi_sz("List", &["a", "b"])
        .dword("Count", 3)
        .qword("Big", u64::MAX)
        .binary("Blob", &[1, 2, 3, 4, 5])
        .binary("Large", &vec![7u8; 20_000])
        .raw("Odd", 0x1234, b"??")
        .class_name("Class");
    for i in 0..600 {
        b.key(&format!(r"Many\k{i:03}")).dword("", i);
    }
    b.to_bytes()
}

fn looping_hive() -> Vec<u8> {
    let mut b = HiveBuilder::new("ROOT");
    b.key(r"Network\Z").sz("RemotePath", "x").link_to("Network");
    b.key(r"Network\Z\Self").link_to(r"Network\Z\Self");
    b.to_bytes()
}

/// `[u32 hive_len][u32 log1_len][hive][LOG1][LOG2]`, as the log_replay target splits it.
fn framed(primary: &[u8], log1: &[u8], log2: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(primary.len() as u32).to_le_bytes());
    out.extend_from_slice(&(log1.len() as u32).to_le_bytes());
    out.extend_from_slice(primary);
    out.extend_from_slice(log1);
    out.extend_from_slice(log2);
    out
}

fn hives(dir: &Path, spec: &WindowsSpec) {
    let software = spec.software_hive().to_bytes();
    for (name, bytes) in [
        ("software", software.clone()),
        ("system", spec.system_hive().to_bytes()),
        ("sam", spec.sam_hive().to_bytes()),
        ("rich-1.5", rich_hive(5)),
        ("rich-1.3", rich_hive(3)),
        ("looping", looping_hive()),
    ] {
        put(dir, "hive", name, &bytes);
    }
    let mut nowhere = software.clone();
    regf::set_root_offset(&mut nowhere, 0xFFFF_FFFF);
    put(dir, "hive", "root-nowhere", &nowhere);

    let mut older = spec.clone();
    older.product_name = "OLDER".into();
    let old = older.software_hive().to_bytes();
    for (name, format) in [("new", LogFormat::New), ("old", LogFormat::Old)] {
        let d = regf::make_dirty(&old, &software, format);
        put(
            dir,
            "log_replay",
            name,
            &framed(&d.primary, &d.log1, &d.log2),
        );
        put(dir, "hive", &format!("dirty-{name}"), &d.primary);
    }
}

/// The SAM target's records: `[0]F`, `[1]V`, `[2]domain V`, and a SAM hive.
fn sam(dir: &Path, spec: &WindowsSpec) {
    let bytes = spec.sam_hive().to_bytes();
    put(dir, "sam", "hive", &bytes);
    let tmp = tempfile::tempdir().expect("temporary folder");
    let path = tmp.path().join("SAM");
    std::fs::write(&path, &bytes).expect("SAM");
    let hive = LoadedHive::open(&path).expect("the fixture SAM opens");
    if let Some(v) = hive.key(r"SAM\Domains\Account").and_then(|k| k.value("V")) {
        put(dir, "sam", "domain-v", &[&[2u8][..], &v.data].concat());
    }
    let users = hive.key(r"SAM\Domains\Account\Users");
    for k in users.iter().flat_map(|u| u.subkeys()) {
        for (tag, value) in [(0u8, "F"), (1, "V")] {
            if let Some(v) = k.value(value) {
                let name = format!("{}-{value}", k.name());
                put(dir, "sam", &name, &[&[tag][..], &v.data].concat());
            }
        }
    }
}

fn texts(dir: &Path) {
    for (name, machine) in [("x86", 0x14c), ("amd64", 0x8664), ("arm64", 0xaa64)] {
        put(dir, "pe", name, &fixtures::pe::pe_stub(machine));
        let spec = fixtures::pe::VersionSpec::new("10.63.2.1").with_string("ProductName", "Opera");
        put(
            dir,
            "pe",
            &format!("{name}-version"),
            &fixtures::pe::pe_with_version(machine, &spec),
        );
    }
    let mut shortcut = fixtures::lnk::LnkSpec::to(r"C:\Program Files\App\app.exe");
    shortcut.arguments = Some("--flag".into());
    shortcut.env_target = Some(r"%ProgramFiles%\App\app.exe".into());
    put(dir, "lnk", "app", &fixtures::lnk::lnk_bytes(&shortcut));
    put(
        dir,
        "offline_xml",
        "documented",
        br"<offline><winDir><path>C:\Windows</path><path>D:\Windows</path></winDir>
<failOnMultipleWinDir>1</failOnMultipleWinDir><mappings><path>C:\, D:\</path></mappings></offline>",
    );
    put(
        dir,
        "offline_xml",
        "utf16",
        &[
            &[0xFF, 0xFE][..],
            &"<offline><winDir><path>vol\\Windows</path></winDir></offline>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        ]
        .concat(),
    );
    let vars: String = (1..=20)
        .map(|i| {
            format!(
                "<variable name='V{i}'><text>%V{0}%%V{0}%</text></variable>",
                i - 1
            )
        })
        .collect();
    put(
        dir,
        "migxml",
        "environment",
        format!(
            "<migration urlid='http://x/y'><component type='Documents' context='UserAndSystem'>\
<displayName>D</displayName><environment><variable name='V0'><text>ab</text></variable>{vars}</environment>\
<role role='Data'><detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\",\"%V3%\")</condition></detect></detects>\
<rules><include><objectSet><pattern type='File'>%V20%\\* [*]</pattern>\
<script>MigXmlHelper.GenerateDocPatterns (\"FALSE\",\"TRUE\",\"FALSE\")</script></objectSet></include>\
<exclude><objectSet><pattern type='Registry'>HKCU\\Software\\* [*]</pattern></objectSet></exclude></rules>\
</role></component></migration>"
        )
        .as_bytes(),
    );
    put(
        dir,
        "migxml",
        "named",
        br#"<migration urlid="http://x/y"><namedElements>
<rules name="R"><include><objectSet><pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern></objectSet></include></rules>
<environment name="E"><variable name="A"><text>%USERPROFILE%\a</text></variable></environment>
<detects name="D"><detect><condition>MigXmlHelper.IsNative64Bit()</condition></detect></detects>
</namedElements><component type="Documents" context="User"><displayName>N</displayName>
<environment name="E"/><role role="Data"><detects name="D"/><rules name="R"/><rules name="R"/></role></component></migration>"#,
    );
    for name in ["documents", "user", "full"] {
        if let Some(text) = lifeboat::rules::builtin::builtin(name) {
            put(dir, "yaml", name, &[&[0u8][..], text.as_bytes()].concat());
        }
    }
    put(
        dir,
        "yaml",
        "config",
        b"\x01destinations:\n  - usb: auto\n  - share: '\\\\srv\\captures'\nprofiles: [user]\nusers: ['*\\ann', '!S-1-5-21-*-500']\ncompression: lzx\nunattended: true\n",
    );
    put(
        dir,
        "yaml",
        "anchors",
        b"\x02a: &x [1, {b: c}]\nd: |\n  text\n  - more\n",
    );
}

/// A real store's manifest: the demo-shaped machine captured by the `lifeboat` binary.
fn manifest(dir: &Path, spec: &WindowsSpec) {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let vol = tmp.path().join("c");
    std::fs::create_dir_all(&vol).expect("volume");
    spec.write(&vol.join("Windows"), &[('C', vol.clone())]);
    let dest = tmp.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let (code, _, err) = fixtures::run(
        Command::new(fixtures::lifeboat_bin())
            .args(["capture", "--continue", "--dest"])
            .arg(&dest)
            .arg(&vol),
    );
    assert!(
        code == 0 || code == 3,
        "capture for the manifest seed: {err}"
    );
    let store: PathBuf = std::fs::read_dir(&dest)
        .expect("dest")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .expect("a store");
    let text = std::fs::read(store.join("manifest.yaml")).expect("manifest");
    put(dir, "manifest", "capture", &text);
    restore_plan(dir, &store, &text);
}

/// The restore_plan target's input from a real store: `[u32 manifest_len][u32 reg_len]
/// [manifest][first user's .reg][the first image's paths, one per line]`.
fn restore_plan(dir: &Path, store: &Path, manifest: &[u8]) {
    let m = lifeboat::store::manifest::Manifest::from_yaml(
        std::str::from_utf8(manifest).expect("UTF-8 manifest"),
    )
    .expect("manifest");
    let reg = m
        .users
        .iter()
        .find_map(|u| u.registry_file.as_ref())
        .map(|f| std::fs::read(store.join(f)).expect(".reg"))
        .unwrap_or_default();
    let mut wim = lifeboat::wim::Wim::open(&store.join("files.wim"), false).expect("WIM");
    let listing: String = wim
        .iterate(1, "")
        .expect("image 1")
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| format!("{}\n", e.path))
        .collect();
    let mut seed = Vec::new();
    seed.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    seed.extend_from_slice(&(reg.len() as u32).to_le_bytes());
    seed.extend_from_slice(manifest);
    seed.extend_from_slice(&reg);
    seed.extend_from_slice(listing.as_bytes());
    put(dir, "restore_plan", "capture", &seed);
}

/// Packs an image as the ntfs target reads it: its size in 256 KiB units, then each run of
/// non-zero 512-byte sectors as `[u32 offset][u16 length][bytes]`.
fn pack(img: &[u8]) -> Vec<u8> {
    let mut out = vec![(img.len() >> 18) as u8];
    let mut at = 0;
    while at < img.len() {
        if img[at..at + 512].iter().all(|&b| b == 0) {
            at += 512;
            continue;
        }
        let start = at;
        while at < img.len() && at - start < 127 * 512 && img[at..at + 512].iter().any(|&b| b != 0)
        {
            at += 512;
        }
        out.extend_from_slice(&(start as u32).to_le_bytes());
        out.extend_from_slice(&((at - start) as u16).to_le_bytes());
        out.extend_from_slice(&img[start..at]);
    }
    out
}

/// Small NTFS volumes made by mkntfs and ntfs-3g (a folder with index blocks, compressed,
/// sparse and named streams, a hard link, a junction, a descriptor in $Secure), packed for
/// the ntfs target. $LogFile and $UpCase are zeroed to keep the seeds small.
fn ntfs(dir: &Path) {
    use fixtures::ntfs::{self as fx, Mount};
    use lifeboat_volume::ntfs::{FileRef, Ntfs};
    let tmp = tempfile::tempdir().expect("temporary folder");
    for (name, size, cluster) in [("c512", 2u64 << 20, 512u32), ("c4k", 4 << 20, 4096)] {
        let img = tmp.path().join(format!("{name}.img"));
        fx::mkntfs(&img, size, cluster, 512, "Seed");
        {
            let m = Mount::new(
                &img,
                &tmp.path().join(name),
                "streams_interface=windows,permissions",
            );
            let p = m.path();
            for i in 0..80 {
                std::fs::create_dir_all(p.join("Folder")).expect("folder");
                std::fs::write(p.join(format!("Folder/file {i:02}.txt")), format!("{i}"))
                    .expect("file");
            }
            std::fs::create_dir_all(p.join("Comp")).expect("folder");
            fx::set_xattr(
                &p.join("Comp"),
                "system.ntfs_attrib_be",
                &0x810u32.to_be_bytes(),
            );
            std::fs::write(p.join("Comp/text.txt"), fx::text(20_000, 1)).expect("file");
            std::fs::write(p.join("big.bin"), fixtures::noise(9000, 2)).expect("file");
            std::fs::write(p.join("big.bin:Zone.Identifier"), fx::rich::ZONE_DATA).expect("stream");
            std::fs::hard_link(p.join("big.bin"), p.join("Folder/link.bin")).expect("link");
            let f = std::fs::File::create(p.join("sparse.bin")).expect("file");
            f.set_len(100_000).expect("sparse");
            std::fs::create_dir_all(p.join("Junction")).expect("folder");
            let j = fx::link_buffer(false, r"\??\C:\Users", r"C:\Users", false);
            fx::set_xattr(&p.join("Junction"), "system.ntfs_reparse_data", &j);
        }
        let mut bytes = std::fs::read(&img).expect("image");
        let src: lifeboat_volume::block::Source = std::sync::Arc::new(
            lifeboat_volume::block::MemSource::new("seed", bytes.clone()),
        );
        let vol = Ntfs::open(src).expect("the seed volume opens");
        for record in [2, 10] {
            let s = vol
                .stream(FileRef::record(record), "")
                .expect("$LogFile, $UpCase");
            for e in s.extents() {
                if let Some(at) = e.volume_offset {
                    bytes[at as usize..(at + e.len) as usize].fill(0);
                }
            }
        }
        put(dir, "ntfs", name, &pack(&bytes));
    }
}

/// ddrescue mapfiles: one as GNU ddrescue writes it mid-rescue, one from before 1.21 (no
/// pass), one edited by hand (octal, comments after blocks).
fn mapfiles(dir: &Path) {
    put(
        dir,
        "mapfile",
        "ddrescue",
        b"# Mapfile. Created by GNU ddrescue version 1.27\n# current_pos  current_status  current_pass\n\
0x00020000     ?               2\n#      pos        size  status\n0x00000000  0x00017000  +\n\
0x00017000  0x00000200  -\n0x00017200  0x00001000  /\n0x00018200  0x00007E00  *\n\
0x00020000  0x00048000  ?\n",
    );
    put(dir, "mapfile", "old", b"0x0 +\n0x0 0x100000 +\n");
    put(
        dir,
        "mapfile",
        "edited",
        b"  0 - 3 # retrying\n0 01000 +  # good\n512 512 -\n1024 0x1000 ?\n",
    );
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: fuzz-seeds DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    let mut spec = WindowsSpec::win10("SEED-PC");
    let mut ann = UserSpec::local(1001, "ann");
    ann.shell_folders = vec![("Personal".into(), r"%USERPROFILE%\Docs".into())];
    ann.microsoft_account = Some(("ann@example.com".into(), "Ann".into(), "Example".into()));
    spec.users = vec![ann, UserSpec::local(1002, "bob")];
    hives(dir, &spec);
    sam(dir, &spec);
    texts(dir);
    manifest(dir, &spec);
    ntfs(dir);
    bitlocker(dir);
    mapfiles(dir);
    println!("fuzz seeds written to {}", dir.display());
}

/// BitLocker seeds, each behind the byte that picks the target's mode: small volumes
/// (512 KiB: a boot sector and `$MFT` record that pass the file-system check, the areas
/// BitLocker takes placed early) for every method with a clear key, as a suspended volume
/// carries; a `.BEK` file; recovery passwords as typed.
fn bitlocker(dir: &Path) {
    use fixtures::bitlocker::{bek_file, encrypt_file, Method, Protector, Spec};
    let tmp = tempfile::tempdir().expect("temporary folder");
    let plain = tmp.path().join("plain.img");
    let mut img = vec![0u8; 512 << 10];
    img[3..11].copy_from_slice(b"NTFS    ");
    img[11..13].copy_from_slice(&512u16.to_le_bytes());
    img[13] = 8;
    img[48..56].copy_from_slice(&2u64.to_le_bytes());
    img[56..64].copy_from_slice(&2u64.to_le_bytes());
    img[510..512].copy_from_slice(&[0x55, 0xaa]);
    img[0x2000..0x2004].copy_from_slice(b"FILE");
    std::fs::write(&plain, &img).expect("plain image");
    for (i, m) in Method::ALL.into_iter().enumerate() {
        let mut spec = Spec::new(m, 512).protect(Protector::ClearKey);
        spec.free = Some(64 << 10..512 << 10);
        let out = tmp.path().join("enc.img");
        encrypt_file(&plain, &out, &spec).expect("encrypt the seed");
        let mut seed = vec![2u8];
        seed.extend(std::fs::read(&out).expect("the seed"));
        put(dir, "bitlocker", &format!("volume-{i}"), &seed);
    }
    let mut bek = vec![0u8];
    bek.extend(bek_file(&[7; 16], &[9; 32], true));
    put(dir, "bitlocker", "bek", &bek);
    for (i, text) in [
        "284867-596541-514998-422114-660297-261613-215424-199408",
        "284867-5965",
    ]
    .iter()
    .enumerate()
    {
        put(
            dir,
            "bitlocker",
            &format!("recovery-{i}"),
            &[&[1u8][..], text.as_bytes()].concat(),
        );
    }
}
