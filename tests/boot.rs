//! The media booted in real firmware: QEMU (TCG, headless) with SeaBIOS and OVMF, on every
//! kind of media lifeboat-media writes. The base's Microsoft loaders are replaced by the
//! project's stand-ins (`tests/boot-standins/`), each tagged with the name of the file it
//! stands for: it prints that name to the serial port, then looks up through the firmware
//! (INT 13h, EFI Block I/O) the files the real loader reads next — `\bootmgr`, `\Boot\BCD`,
//! `\Boot\boot.sdi`, `\EFI\Microsoft\Boot\BCD`, `\sources\boot.wim` — in the ISO 9660 and the
//! Joliet tree of a disc, or in the FAT32 of a stick. The tests assert which stand-in ran and
//! that every lookup found exactly one file. Media built from a base without stand-ins show
//! no marker.
//!
//! An OVMF boot takes about ten seconds of emulation; the tests that are not `#[ignore]`d are
//! the ones CI runs. The full matrix: `cargo test --test boot -- --include-ignored`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fixtures::run;
use fixtures::winpe::{build_media, copype, install_iso, Layout, Loaders, WinPeSpec};

const OVMF: &str = "/usr/share/ovmf/OVMF.fd";
const MARK: &str = "LIFEBOAT-STANDIN";
const NEXT_FILES: [&str; 5] = [
    r"\bootmgr",
    r"\Boot\BCD",
    r"\Boot\boot.sdi",
    r"\EFI\Microsoft\Boot\BCD",
    r"\sources\boot.wim",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Firmware {
    SeaBios,
    Ovmf,
}

enum Drive<'a> {
    Cdrom(&'a Path),
    Disk(&'a Path),
}

/// What a boot left on COM1 (the stand-ins' lines; OVMF's console), on COM2 (SeaBIOS's
/// screen), how long it took.
struct Boot {
    serial: String,
    screen: String,
    secs: f64,
}

/// Boots `drive` until QEMU exits (the stand-ins end it through isa-debug-exit), `limit`
/// passes, or `until.0` appears on COM1 or COM2 and then `until.1` more passes.
fn boot(fw: Firmware, drive: Drive, until: Option<(&str, Duration)>, limit: Duration) -> Boot {
    let dir = tempfile::tempdir().unwrap();
    let serial = dir.path().join("com1.log");
    let screen = dir.path().join("com2.log");
    // SeaBIOS's serial console (fw_cfg etc/sercon-port, a 16-bit port number) copies its
    // screen ("Booting from DVD/CD...") to COM2. Not COM1: SeaBIOS programs that port and
    // writes to it from its timer interrupt, and the stand-ins' lines came out torn.
    let sercon = dir.path().join("sercon-port");
    std::fs::write(&sercon, 0x2f8u16.to_le_bytes()).unwrap();
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args([
        "-accel",
        "tcg",
        "-M",
        "pc",
        "-m",
        "256",
        "-nodefaults",
        "-display",
        "none",
    ])
    .args(["-no-reboot", "-snapshot", "-net", "none"])
    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
    .arg("-serial")
    .arg(format!("file:{}", serial.display()))
    .arg("-serial")
    .arg(format!("file:{}", screen.display()));
    match fw {
        Firmware::Ovmf => cmd.args(["-bios", OVMF]),
        Firmware::SeaBios => cmd
            .arg("-fw_cfg")
            .arg(format!("name=etc/sercon-port,file={}", sercon.display())),
    };
    match drive {
        Drive::Cdrom(p) => cmd
            .arg("-drive")
            .arg(format!(
                "file={},media=cdrom,if=ide,format=raw,readonly=on",
                p.display()
            ))
            .args(["-boot", "d"]),
        Drive::Disk(p) => cmd
            .arg("-drive")
            .arg(format!("file={},if=ide,format=raw", p.display()))
            .args(["-boot", "c"]),
    };
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu-system-x86_64 (package qemu-system-x86)");
    let read = |p: &Path| {
        let mut s = Vec::new();
        let _ = std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut s));
        String::from_utf8_lossy(&s).replace('\r', "")
    };
    let mut seen: Option<Instant> = None;
    loop {
        let exited = child.try_wait().unwrap().is_some();
        if let Some((text, _)) = until.filter(|_| seen.is_none()) {
            if read(&serial).contains(text) || read(&screen).contains(text) {
                seen = Some(Instant::now());
            }
        }
        let over = seen
            .zip(until)
            .is_some_and(|(at, (_, then))| at.elapsed() >= then);
        if exited || over || start.elapsed() > limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    let b = Boot {
        serial: read(&serial),
        screen: read(&screen),
        secs: start.elapsed().as_secs_f64(),
    };
    eprintln!("{fw:?} boot: {:.1} s", b.secs);
    b
}

/// The stand-ins that ran, in order, each looked every file up in `trees` and found it.
fn assert_booted(b: &Boot, chain: &[&str], trees: &[&str]) {
    // The stand-ins' lines, whatever a firmware's console left before them on the line.
    let log: String = b
        .serial
        .lines()
        .filter_map(|l| l.find(MARK).map(|at| format!("{}\n", &l[at..])))
        .collect();
    let log = &log;
    let booted: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{MARK} booted ")))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(booted, chain, "which stand-ins ran:\n{log}");
    for tree in trees {
        for f in NEXT_FILES {
            let line = format!("{MARK} lookup {tree} {f} found");
            assert!(log.lines().any(|l| l == line), "{line} missing:\n{log}");
        }
    }
    assert!(log.contains(&format!("{MARK} done failures=0")), "{log}");
}

fn boot_all(fw: Firmware, drive: Drive, chain: &[&str], trees: &[&str]) {
    let limit = Duration::from_secs(if fw == Firmware::Ovmf { 300 } else { 120 });
    let done = format!("{MARK} done");
    let b = boot(fw, drive, Some((&done, Duration::ZERO)), limit);
    assert_booted(&b, chain, trees);
}

const DISC: &[&str] = &["iso9660", "joliet"];
const STICK: &[&str] = &["fat"];

/// A base whose loaders are the stand-ins, with the 2023-signed set (bootbins).
fn standin_base(dir: &Path, layout: Layout) -> PathBuf {
    let mut spec = WinPeSpec::amd64();
    spec.loaders = Some(Loaders::build());
    spec.signer_2023 = true;
    spec.layout = layout;
    copype(dir, &spec)
}

fn agent(dir: &Path) -> PathBuf {
    let p = dir.join("lifeboat.exe");
    std::fs::write(&p, fixtures::pe::pe_stub(fixtures::pe::AMD64)).unwrap();
    p
}

fn build(base: &Path, dir: &Path, args: &[&str], out_flag: &str, out: &Path) {
    let (code, stdout, err) = build_media(base, &[&agent(dir)], args, out_flag, out);
    assert_eq!(code, 0, "{stdout}{err}");
}

fn built_iso(layout: Layout, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let base = standin_base(dir.path(), layout);
    let iso = dir.path().join("lifeboat.iso");
    build(&base, dir.path(), args, "--iso", &iso);
    (dir, iso)
}

const BIOS_DISC: &[&str] = &["etfsboot.com", "bootmgr"];
const BIOS_STICK: &[&str] = &["bootmgr"];

#[test]
fn iso_boots_on_seabios_and_ovmf() {
    let (_dir, iso) = built_iso(Layout::Adk, &[]);
    boot_all(Firmware::SeaBios, Drive::Cdrom(&iso), BIOS_DISC, DISC);
    boot_all(Firmware::Ovmf, Drive::Cdrom(&iso), &["efisys.bin"], DISC);
}

#[test]
fn iso_with_the_2023_signer_boots_efisys_ex_on_ovmf() {
    let (_dir, iso) = built_iso(Layout::Adk, &["--boot-signer", "2023"]);
    boot_all(Firmware::Ovmf, Drive::Cdrom(&iso), &["efisys_EX.bin"], DISC);
}

#[test]
#[ignore = "full boot matrix: cargo test --test boot -- --include-ignored"]
fn iso_noprompt_boots_efisys_noprompt() {
    let (_dir, iso) = built_iso(Layout::Adk, &["--noprompt"]);
    boot_all(Firmware::SeaBios, Drive::Cdrom(&iso), BIOS_DISC, DISC);
    boot_all(
        Firmware::Ovmf,
        Drive::Cdrom(&iso),
        &["efisys_noprompt.bin"],
        DISC,
    );
    let (_dir, iso) = built_iso(Layout::Adk, &["--noprompt", "--boot-signer", "2023"]);
    boot_all(Firmware::SeaBios, Drive::Cdrom(&iso), BIOS_DISC, DISC);
    boot_all(
        Firmware::Ovmf,
        Drive::Cdrom(&iso),
        &["efisys_noprompt_EX.bin"],
        DISC,
    );
}

#[test]
#[ignore = "full boot matrix: cargo test --test boot -- --include-ignored"]
fn iso_from_mixed_casing_and_from_install_media_boots() {
    let (_dir, iso) = built_iso(Layout::Mixed, &[]);
    boot_all(Firmware::SeaBios, Drive::Cdrom(&iso), BIOS_DISC, DISC);
    boot_all(Firmware::Ovmf, Drive::Cdrom(&iso), &["efisys.bin"], DISC);
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WinPeSpec::amd64();
    spec.loaders = Some(Loaders::build());
    let install = install_iso(dir.path(), &spec);
    let iso = dir.path().join("lifeboat.iso");
    build(&install, dir.path(), &[], "--iso", &iso);
    // The install ISO's own El Torito images, unpacked by xorriso, keep their names inside.
    boot_all(Firmware::SeaBios, Drive::Cdrom(&iso), BIOS_DISC, DISC);
    boot_all(Firmware::Ovmf, Drive::Cdrom(&iso), &["efisys.bin"], DISC);
}

fn disk_image(args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let base = standin_base(dir.path(), Layout::Adk);
    let img = dir.path().join("stick.img");
    build(&base, dir.path(), args, "--disk-image", &img);
    (dir, img)
}

#[test]
fn disk_image_with_store_boots_on_seabios_and_ovmf() {
    let (_dir, img) = disk_image(&["--store-size", "16"]);
    let b = boot(
        Firmware::SeaBios,
        Drive::Disk(&img),
        Some((&format!("{MARK} done"), Duration::ZERO)),
        Duration::from_secs(120),
    );
    assert_booted(&b, BIOS_STICK, STICK);
    let hidden = format!("{MARK} check hidden-sectors 2048 ok");
    assert!(
        b.serial.lines().any(|l| l.ends_with(&hidden)),
        "{}",
        b.serial
    );
    boot_all(Firmware::Ovmf, Drive::Disk(&img), &["bootx64.efi"], STICK);
}

#[test]
#[ignore = "full boot matrix: cargo test --test boot -- --include-ignored"]
fn disk_image_without_store_and_with_the_2023_signer_boots() {
    let (_dir, img) = disk_image(&[]);
    boot_all(Firmware::SeaBios, Drive::Disk(&img), BIOS_STICK, STICK);
    boot_all(Firmware::Ovmf, Drive::Disk(&img), &["bootx64.efi"], STICK);
    let (_dir, img) = disk_image(&["--boot-signer", "2023"]);
    boot_all(
        Firmware::Ovmf,
        Drive::Disk(&img),
        &["bootmgfw_EX.efi"],
        STICK,
    );
}

/// The USB folder copied onto a stick formatted FAT32 (one MBR partition at 1 MiB), as a
/// technician would; UEFI boots it. (BIOS needs a Windows boot sector on the stick, which
/// `bootsect /nt60` writes on Windows; `--disk-image` brings syslinux's instead.)
#[test]
fn usb_folder_on_a_fat32_stick_boots_on_ovmf() {
    let dir = tempfile::tempdir().unwrap();
    let base = standin_base(dir.path(), Layout::Adk);
    let usb = dir.path().join("usb");
    build(&base, dir.path(), &[], "--usb-dir", &usb);
    let part = dir.path().join("part.img");
    let mib = 128u64;
    let steps: [(&str, Vec<String>); 2] = [
        (
            "mkfs.vfat",
            [
                "-F",
                "32",
                "-h",
                "2048",
                "-C",
                &part.display().to_string(),
                &(mib * 1024).to_string(),
            ]
            .map(String::from)
            .to_vec(),
        ),
        ("mcopy", {
            let mut a = vec![
                "-s".into(),
                "-Q".into(),
                "-i".into(),
                part.display().to_string(),
            ];
            for e in std::fs::read_dir(&usb).unwrap() {
                a.push(e.unwrap().path().display().to_string());
            }
            a.push("::/".into());
            a
        }),
    ];
    for (tool, args) in steps {
        let (code, _, err) = run(Command::new(tool).args(&args));
        assert_eq!(code, 0, "{tool}: {err}");
    }
    let img = dir.path().join("stick.img");
    let mut bytes = vec![0u8; 1 << 20];
    bytes.extend(std::fs::read(&part).unwrap());
    std::fs::write(&img, &bytes).unwrap();
    let table = format!(
        "label: dos\nstart=2048, size={}, type=c, bootable\n",
        mib * 2048
    );
    let mut sfdisk = Command::new("sfdisk")
        .arg("-q")
        .arg(&img)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut sfdisk.stdin.take().unwrap(), table.as_bytes()).unwrap();
    assert!(sfdisk.wait().unwrap().success());
    boot_all(Firmware::Ovmf, Drive::Disk(&img), &["bootx64.efi"], STICK);
}

/// Media from a base without stand-ins: the firmware gets to the disc and nothing prints the
/// marker, so a marker can only come from a stand-in that ran.
#[test]
fn media_without_standins_show_no_marker() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let iso = dir.path().join("plain.iso");
    build(&base, dir.path(), &[], "--iso", &iso);
    // A stand-in prints within a second of SeaBIOS starting it (see the boots above); five
    // seconds after "Booting from DVD/CD" nothing has.
    let b = boot(
        Firmware::SeaBios,
        Drive::Cdrom(&iso),
        Some(("Booting from DVD/CD", Duration::from_secs(5))),
        Duration::from_secs(120),
    );
    assert!(
        b.screen.contains("Booting from DVD/CD"),
        "SeaBIOS never tried the disc:\n{}",
        b.screen
    );
    assert!(!b.serial.contains(MARK), "{}", b.serial);
    // OVMF finds no loader in the empty efisys.bin and says so.
    let b = boot(
        Firmware::Ovmf,
        Drive::Cdrom(&iso),
        Some(("failed to load Boot", Duration::ZERO)),
        Duration::from_secs(300),
    );
    assert!(
        b.serial.contains("failed to load Boot"),
        "OVMF never gave up on the disc:\n{}",
        b.serial
    );
    assert!(!b.serial.contains(MARK), "{}", b.serial);
}
