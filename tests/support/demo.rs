//! The built-in demo: a generated machine with two volumes, a current Windows 11 and the
//! Windows 10 it replaced (Windows.old), so that `lifeboat detect` has something real-looking
//! to find without any Microsoft media. Its two users have what a technician usually finds:
//! documents, photos, a wallpaper, a mapped drive, browser bookmarks; bob's profile lives on
//! the data volume D:.

use std::path::Path;

use crate::regf::LogFormat;
use crate::volume::{filetime, AppSpec, UserSpec, WindowsSpec};

/// The disk signature the demo's `MountedDevices` records for C: and D:.
const DISK_SIGNATURE: u32 = 0x5EED_1E55;

/// Writes the demo machine under `dir`: `dir/C` (system volume), `dir/D` (data volume) and
/// `dir/Offline.xml`, which tells Lifeboat (as it tells ScanState) where the old D: is now.
/// Plain folders carry no partition identity to match `MountedDevices` against; on a real
/// disk, mounted from its partitions, D: is found without it.
pub fn write_demo(dir: &Path) {
    let c = dir.join("C");
    let d = dir.join("D");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::create_dir_all(&d).unwrap();
    let volumes = [('C', c.clone()), ('D', d.clone())];

    let mut win11 = WindowsSpec::win11("DEMO-PC");
    win11.users = vec![ann(), bob()];
    win11.apps.push(AppSpec {
        key: "{90160000-0011-0000-1000-0000000FF1CE}".into(),
        name: "Microsoft Office Professional Plus 2016".into(),
        version: "16.0.4266.1001".into(),
        publisher: "Microsoft Corporation".into(),
        wow64: true,
    });
    // One disk, MBR: C: at 1 MiB, D: (the data partition) at 200 GiB.
    win11.mounted_devices = vec![('C', mbr_entry(1 << 20)), ('D', mbr_entry(200 << 30))];
    // Fast Startup left SOFTWARE dirty: its newest data is only in the logs.
    win11.dirty_software = Some(LogFormat::New);
    win11.write(&c.join("Windows"), &volumes);
    std::fs::write(c.join("hiberfil.sys"), vec![0u8; 4096]).unwrap();

    let mut win10 = WindowsSpec::win10("DEMO-PC");
    win10.users = vec![UserSpec::local(1001, "ann")];
    win10.users[0].last_used = Some(filetime(1_600_000_000));
    let old = c.join("Windows.old");
    win10.write(&old.join("Windows"), &[('C', old.clone())]);

    let dir = dir.canonicalize().unwrap();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<offline>\n  <winDir>\n    <path>{}</path>\n  </winDir>\n  <mappings>\n    <path>D:\\, {}</path>\n  </mappings>\n</offline>\n",
        xml_text(&dir.join("C").join("Windows")),
        xml_text(&dir.join("D")),
    );
    std::fs::write(dir.join("Offline.xml"), xml).unwrap();
}

/// The new PC the demo restores into (`make-fixture newpc`): a freshly imaged Windows 11
/// (`NEWPC`, its system volume `dir` itself) where each of `users` has signed in once, so
/// has a profile with nothing in it yet.
pub fn write_new_pc(dir: &Path, users: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut spec = WindowsSpec::win11("NEWPC");
    spec.users = (1001..)
        .zip(users)
        .map(|(rid, user)| {
            let mut u = UserSpec::local(rid, user);
            u.files = Vec::new();
            u
        })
        .collect();
    spec.write_volume(dir);
}

/// ann: on C:, photos from a holiday as her wallpaper, a mapped share, Office and Chrome.
fn ann() -> UserSpec {
    let mut ann = UserSpec::local(1001, "ann");
    let photo = r"Pictures\Holiday 2023\IMG_4471.JPG";
    ann.files.extend([
        text(r"Desktop\Shopping list.txt", "milk\r\neggs\r\nbread\r\n"),
        sized(r"Documents\Budget 2024.xlsx", 48 << 10, 1),
        sized(r"Documents\Letters\Landlord - heating repair.docx", 22 << 10, 2),
        sized(r"Documents\Tax\Tax return 2023.pdf", 310 << 10, 3),
        sized(photo, 2_400 << 10, 4),
        sized(r"Pictures\Holiday 2023\IMG_4472.JPG", 2_100 << 10, 5),
        sized(r"Pictures\Screenshots\Screenshot 2024-03-02 101512.png", 260 << 10, 6),
        text(
            r"Music\Playlists\Road trip.m3u8",
            "#EXTM3U\r\n..\\..\\Music\\Road trip\\01 Intro.mp3\r\n",
        ),
        sized(r"Downloads\statement-2024-02.pdf", 95 << 10, 7),
        // Windows' own copy of the wallpaper (no extension), and what Lifeboat leaves behind.
        (
            r"AppData\Roaming\Microsoft\Windows\Themes\TranscodedWallpaper".into(),
            looks_like("jpg", 420 << 10, 8),
        ),
        sized(r"AppData\Local\Temp\~DF3A1B.tmp", 64 << 10, 9),
        text(
            r"AppData\Local\Google\Chrome\User Data\Default\Bookmarks",
            r#"{"roots":{"bookmark_bar":{"children":[{"name":"Bank","type":"url","url":"https://bank.example/"}],"name":"Bookmarks bar","type":"folder"}},"version":1}"#,
        ),
        text(
            r"AppData\Roaming\Microsoft\Signatures\Ann.htm",
            "<html><body><p>Ann<br>Accounts</p></body></html>",
        ),
    ]);
    let desktop = r"Control Panel\Desktop";
    ann.ntuser_values = vec![
        setting(desktop, "Wallpaper", &format!(r"C:\Users\ann\{photo}")),
        setting(desktop, "WallpaperStyle", "10"),
        setting(desktop, "TileWallpaper", "0"),
        setting(r"Network\S", "RemotePath", r"\\fileserver\shared"),
        setting(r"Network\S", "ProviderName", "Microsoft Windows Network"),
        setting(
            r"Software\Microsoft\Office\16.0\Common\UserInfo",
            "UserName",
            "Ann Example",
        ),
        setting(
            r"Software\Microsoft\Office\16.0\Common\UserInfo",
            "UserInitials",
            "AE",
        ),
    ];
    ann
}

/// bob: his profile on the data volume D:, invoices, a family photo, Firefox.
fn bob() -> UserSpec {
    let mut bob = UserSpec::local(1002, "bob");
    bob.profile_path = r"D:\Profiles\bob".into();
    bob.last_used = Some(filetime(1_699_000_000));
    let firefox = r"AppData\Roaming\Mozilla\Firefox";
    bob.files.extend([
        text(r"Desktop\todo.txt", "call the bank\r\n"),
        sized(r"Documents\CV 2024.docx", 35 << 10, 11),
        sized(r"Documents\Invoices\Invoice-1043.pdf", 70 << 10, 12),
        sized(r"Documents\Invoices\Invoice-1044.pdf", 68 << 10, 13),
        sized(r"Pictures\family.jpg", 1_600 << 10, 14),
        sized(r"Videos\birthday.mp4", 1_200 << 10, 15),
        text(
            &format!(r"{firefox}\profiles.ini"),
            "[Profile0]\r\nName=default-release\r\nIsRelative=1\r\nPath=Profiles/k3x9w1v2.default-release\r\n",
        ),
        sized(
            &format!(r"{firefox}\Profiles\k3x9w1v2.default-release\places.sqlite"),
            1_024 << 10,
            16,
        ),
    ]);
    bob.ntuser_values = vec![setting(r"Control Panel\Desktop", "WallpaperStyle", "6")];
    bob
}

fn mbr_entry(offset: u64) -> Vec<u8> {
    let mut v = DISK_SIGNATURE.to_le_bytes().to_vec();
    v.extend_from_slice(&offset.to_le_bytes());
    v
}

/// A REG_SZ value of NTUSER.DAT.
fn setting(key: &str, name: &str, data: &str) -> (String, String, u32, Vec<u8>) {
    (key.into(), name.into(), 1, crate::migration::utf16z(data))
}

fn text(rel: &str, body: &str) -> (String, Vec<u8>) {
    (rel.into(), body.as_bytes().to_vec())
}

/// A file of `len` bytes named `rel`, its contents as [`looks_like`] its extension.
fn sized(rel: &str, len: usize, seed: u64) -> (String, Vec<u8>) {
    let ext = rel.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    (rel.into(), looks_like(&ext, len, seed))
}

/// `len` bytes that begin as files of type `ext` do (what `file` looks at), the rest
/// incompressible, as photos and office documents are.
fn looks_like(ext: &str, len: usize, seed: u64) -> Vec<u8> {
    let head: &[u8] = match ext {
        "jpg" | "jpeg" => b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00",
        "png" => b"\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR",
        "pdf" => b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n",
        "docx" | "xlsx" => b"PK\x03\x04\x14\x00\x06\x00",
        "mp4" => b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
        "sqlite" => b"SQLite format 3\x00",
        _ => b"",
    };
    let mut data = head.to_vec();
    data.extend(crate::noise(len.saturating_sub(head.len()), seed));
    data
}

/// A path as XML text.
fn xml_text(p: &Path) -> String {
    p.display()
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
