//! lifeboat-media: the boot hook on real startnet.cmd / winpeshl.ini files, inspect on a
//! generated WinPE-shaped base and on the real WIMs, and built ISOs and USB folders checked
//! with xorriso and wimtools.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fixtures::winpe::{copype, WinPeSpec};
use fixtures::{realdata, run, workspace_root};
use lifeboat_media::hook;

fn media_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "lifeboat-media"])
            .current_dir(workspace_root())
            .status()
            .unwrap();
        assert!(status.success());
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"));
        target.join("debug/lifeboat-media")
    })
    .clone()
}

/// An agent stand-in with the right PE header (the real .exe is tested under Wine elsewhere).
fn agent(dir: &Path, machine: u16) -> PathBuf {
    let p = dir.join(format!("lifeboat-{machine:x}.exe"));
    std::fs::write(&p, fixtures::pe::pe_stub(machine)).unwrap();
    p
}

#[test]
fn hook_keeps_every_real_startnet_and_wpeinit_first() {
    let Some(dir) = realdata("winpe-scripts/startnet") else {
        return;
    };
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let original = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
        let hooked = hook::hook_startnet(&original);
        assert_eq!(
            hook::hook_startnet(&hooked),
            hooked,
            "{name}: not idempotent"
        );
        let lines: Vec<&str> = hooked.lines().map(|l| l.trim_end_matches('\r')).collect();
        let begin = lines
            .iter()
            .position(|l| *l == hook::BEGIN)
            .unwrap_or_else(|| panic!("{name}: no block"));
        let wpeinit = lines
            .iter()
            .position(|l| l.to_lowercase().contains("wpeinit"))
            .unwrap();
        assert!(wpeinit < begin, "{name}: the block runs before wpeinit");
        // Every original line is still there, in order.
        let kept: Vec<&str> = lines
            .iter()
            .filter(|l| !l.contains("lifeboat") && !l.starts_with("REM <<<"))
            .copied()
            .collect();
        let orig: Vec<&str> = original.lines().map(|l| l.trim_end_matches('\r')).collect();
        let mut it = kept.iter();
        for o in &orig {
            assert!(it.any(|k| k == o), "{name}: line {o:?} lost or reordered");
        }
        if original.contains("\r\n") {
            assert!(
                hooked.contains(&format!("{}\r\n", hook::BEGIN)),
                "{name}: CRLF not kept"
            );
        }
    }
}

#[test]
fn hook_goes_into_every_real_winpeshl_ini() {
    let Some(dir) = realdata("winpe-scripts/winpeshl") else {
        return;
    };
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let original = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
        let hooked = hook::hook_winpeshl(&original);
        assert_eq!(hook::hook_winpeshl(&hooked), hooked, "{name}");
        let lines: Vec<&str> = hooked.lines().collect();
        let section = lines
            .iter()
            .position(|l| l.trim().eq_ignore_ascii_case("[LaunchApps]"))
            .unwrap();
        let agent = lines
            .iter()
            .position(|l| l.contains("lifeboat.exe, auto"))
            .unwrap();
        let wpeinit = lines[section..]
            .iter()
            .position(|l| l.to_lowercase().contains("wpeinit"))
            .map(|p| p + section)
            .unwrap();
        assert!(section < wpeinit && wpeinit < agent, "{name}: {hooked}");
        for o in original.lines().map(|l| l.trim_end_matches('\r')) {
            assert!(
                lines.iter().any(|l| l.trim_end_matches('\r') == o),
                "{name}: lost {o:?}"
            );
        }
    }
}

#[test]
fn inspect_reports_the_generated_base() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let (code, out, err) = run(Command::new(media_bin())
        .args(["inspect", "--json"])
        .arg(&base));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let img = &v["images"][0];
    assert_eq!(img["arch"], "amd64");
    assert_eq!(img["is_winpe"], true);
    assert_eq!(img["msxml"], true);
    assert_eq!(img["bitlocker_unlock"], true);
    let ocs: Vec<&str> = img["optional_components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(ocs, ["WinPE-Scripting", "WinPE-SecureStartup", "WinPE-WMI"]);
    assert_eq!(v["winpe_image"], 1);
    assert!(v["boot_files"]["bios"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "etfsboot.com"));
    assert!(v["boot_files"]["uefi"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "efisys.bin"));
    let (code, text, _) = run(Command::new(media_bin()).arg("inspect").arg(&base));
    assert_eq!(code, 0);
    assert!(
        text.contains("MSXML: present") && text.contains("ScanState"),
        "{text}"
    );
}

#[test]
fn inspect_on_real_wims_reports_or_refuses() {
    let Some(wims) = realdata("wim") else {
        return;
    };
    for e in std::fs::read_dir(wims).unwrap().flatten() {
        let p = e.path();
        let (tx, rx) = std::sync::mpsc::channel();
        let bin = media_bin();
        let p2 = p.clone();
        std::thread::spawn(move || {
            let _ = tx.send(run(Command::new(bin).arg("inspect").arg(&p2)));
        });
        let (code, out, err) = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("{}: hung", p.display()));
        assert!(
            code == 0 || code == 1,
            "{}: crashed ({code}): {err}",
            p.display()
        );
        if code == 1 {
            assert!(
                err.starts_with("error: ")
                    && err.contains(&*p.file_name().unwrap().to_string_lossy()),
                "{}: {err}",
                p.display()
            );
        } else {
            assert!(out.contains("boot.wim"), "{out}");
        }
    }
}

fn wim_file(wim: &Path, image: u32, path: &str, out: &Path) -> String {
    let (code, _, err) = run(Command::new("wimextract")
        .arg(wim)
        .arg(image.to_string())
        .arg(path)
        .arg(format!("--dest-dir={}", out.display()))
        .arg("--no-acls"));
    assert_eq!(code, 0, "wimextract {path}: {err}");
    let name = path.rsplit('/').next().unwrap();
    String::from_utf8_lossy(&std::fs::read(out.join(name)).unwrap()).into_owned()
}

#[test]
fn iso_boots_bios_and_uefi_and_carries_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let original_wim = std::fs::read(base.join("media/sources/boot.wim")).unwrap();
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let iso = dir.path().join("lifeboat.iso");
    let (code, out, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&exe)
        .arg("--iso")
        .arg(&iso));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read(base.join("media/sources/boot.wim")).unwrap(),
        original_wim,
        "the base's boot.wim was modified"
    );

    let (code, report, err) = run(Command::new("xorriso")
        .args(["-indev"])
        .arg(&iso)
        .args(["-report_el_torito", "plain"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        report.contains("BIOS") && report.contains("UEFI"),
        "{report}"
    );
    // The boot.wim inside the ISO, read by wimlib's own tools.
    let x = dir.path().join("x");
    std::fs::create_dir_all(&x).unwrap();
    let (code, _, err) = run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/sources/boot.wim"])
        .arg(x.join("boot.wim")));
    assert_eq!(code, 0, "{err}");
    let (_, info, _) = run(Command::new("wiminfo").arg(x.join("boot.wim")));
    assert!(
        info.contains("Boot Index:     1") && info.contains("Integrity info"),
        "{info}"
    );
    let (_, listing, _) = run(Command::new("wimdir").arg(x.join("boot.wim")).arg("1"));
    for f in [
        "/Lifeboat/lifeboat.exe",
        "/Lifeboat/config.yaml",
        "/Lifeboat/profiles/user.yaml",
        "/Lifeboat/MEDIA-NOTES.txt",
    ] {
        assert!(listing.lines().any(|l| l == f), "{f} missing:\n{listing}");
    }
    let startnet = wim_file(&x.join("boot.wim"), 1, "/Windows/System32/startnet.cmd", &x);
    assert!(
        startnet.starts_with("wpeinit\r\n") && startnet.contains("lifeboat.exe auto"),
        "{startnet}"
    );
    assert!(
        !listing.contains(".partial") && !listing.contains("tmp"),
        "temporary files in the image"
    );
}

#[test]
fn usb_folder_built_twice_has_the_hook_once() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let usb1 = dir.path().join("usb1");
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&exe)
        .arg("--usb-dir")
        .arg(&usb1));
    assert_eq!(code, 0, "{err}");
    assert!(usb1.join("bootmgr").is_file() && usb1.join("EFI/Boot/bootx64.efi").is_file());
    // The built stick is itself a base (media folder): build again from it.
    let usb2 = dir.path().join("usb2");
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&usb1)
        .arg("--agent")
        .arg(&exe)
        .arg("--usb-dir")
        .arg(&usb2));
    assert_eq!(code, 0, "{err}");
    let x = dir.path().join("x");
    std::fs::create_dir_all(&x).unwrap();
    let startnet = wim_file(
        &usb2.join("sources/boot.wim"),
        1,
        "/Windows/System32/startnet.cmd",
        &x,
    );
    assert_eq!(startnet.matches(hook::BEGIN).count(), 1, "{startnet}");
}

#[test]
fn winpeshl_base_is_hooked_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WinPeSpec::amd64();
    spec.winpeshl_ini = Some("[LaunchApps]\r\n%SYSTEMDRIVE%\\Tools\\menu.exe\r\n".into());
    let base = copype(dir.path(), &spec);
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let usb = dir.path().join("usb");
    let (code, out, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&exe)
        .arg("--usb-dir")
        .arg(&usb));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("winpeshl.ini"), "{out}");
    let x = dir.path().join("x");
    std::fs::create_dir_all(&x).unwrap();
    let ini = wim_file(
        &usb.join("sources/boot.wim"),
        1,
        "/Windows/System32/winpeshl.ini",
        &x,
    );
    let lines: Vec<&str> = ini.lines().collect();
    assert!(
        lines[1].contains("wpeinit")
            && lines[2].contains("lifeboat.exe, auto")
            && lines[3].contains("menu.exe"),
        "{ini}"
    );
}

#[test]
fn clear_errors_for_bad_builds() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let x86 = agent(dir.path(), fixtures::pe::I386);
    let out = dir.path().join("o.iso");
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&x86)
        .arg("--iso")
        .arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("x86") && err.contains("amd64"), "{err}");
    assert!(!out.exists());

    let amd = agent(dir.path(), fixtures::pe::AMD64);
    let bad_cfg = dir.path().join("config.yaml");
    std::fs::write(&bad_cfg, "destinations:\n  - share: not-a-unc\n").unwrap();
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&amd)
        .arg("--config")
        .arg(&bad_cfg)
        .arg("--iso")
        .arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("config.yaml") && err.contains("UNC"), "{err}");

    // A bare WIM has no boot files for an ISO.
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(base.join("media/sources/boot.wim"))
        .arg("--agent")
        .arg(&amd)
        .arg("--iso")
        .arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("boot files"), "{err}");

    // A corrupt base WIM.
    if let Some(corrupt_wim) = realdata("wim/wimlib__corrupted_file_1.wim") {
        let corrupt = dir.path().join("corrupt");
        std::fs::create_dir_all(corrupt.join("sources")).unwrap();
        std::fs::copy(corrupt_wim, corrupt.join("sources/boot.wim")).unwrap();
        let (code, _, err) = run(Command::new(media_bin())
            .args(["build", "--base"])
            .arg(&corrupt)
            .arg("--agent")
            .arg(&amd)
            .arg("--usb-dir")
            .arg(dir.path().join("u")));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("boot.wim"), "{err}");
    }

    // No firmware for the 2023 signer in a classic base.
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&amd)
        .args(["--boot-signer", "2023"])
        .arg("--iso")
        .arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("EX"), "{err}");
}

#[test]
fn disk_image_has_a_bootable_fat32_and_a_lifeboat_store_partition() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let img = dir.path().join("stick.img");
    let (code, out, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&exe)
        .arg("--disk-image")
        .arg(&img)
        .args(["--store-size", "64"]));
    assert_eq!(code, 0, "{out}{err}");
    // The partition table, read by sfdisk: an active FAT32 (LBA) partition, then NTFS.
    let (code, table, err) = run(Command::new("sfdisk").arg("-d").arg(&img));
    assert_eq!(code, 0, "{err}");
    let parts: Vec<&str> = table.lines().filter(|l| l.contains(" : start=")).collect();
    assert_eq!(parts.len(), 2, "{table}");
    assert!(
        parts[0].contains("type=c") && parts[0].contains("bootable"),
        "{table}"
    );
    assert!(parts[1].contains("type=7"), "{table}");
    let start = |l: &str| -> u64 {
        l.split("start=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
            * 512
    };
    let (p1, p2) = (start(parts[0]), start(parts[1]));
    // The boot partition's files, read by mtools: media, syslinux and the chain to bootmgr.
    let (code, listing, err) = run(Command::new("mdir")
        .arg("-a")
        .arg("-i")
        .arg(format!("{}@@{p1}", img.display()))
        .arg("::/"));
    assert_eq!(code, 0, "{err}");
    for f in [
        "bootmgr",
        "ldlinux  sys",
        "chain    c32",
        "syslinux cfg",
        "EFI",
        "sources",
    ] {
        assert!(listing.contains(f), "{f} missing:\n{listing}");
    }
    let bytes = std::fs::read(&img).unwrap();
    assert_eq!(
        &bytes[..440],
        &std::fs::read("/usr/lib/syslinux/mbr/mbr.bin").unwrap()[..440],
        "MBR boot code"
    );
    assert_eq!(&bytes[510..512], &[0x55, 0xAA]);
    assert_eq!(
        &bytes[p1 as usize + 3..p1 as usize + 11],
        b"SYSLINUX",
        "boot sector of the FAT32 partition"
    );
    assert_eq!(&bytes[p2 as usize + 3..p2 as usize + 11], b"NTFS    ");
    let store = dir.path().join("store.part");
    std::fs::write(&store, &bytes[p2 as usize..]).unwrap();
    let (code, label, err) = run(Command::new("ntfslabel").arg(&store));
    assert_eq!(code, 0, "{err}");
    assert_eq!(label.trim(), "LIFEBOAT");
    // The boot.wim on the stick carries the agent.
    let wim = dir.path().join("boot.wim");
    let (code, _, err) = run(Command::new("mcopy")
        .arg("-i")
        .arg(format!("{}@@{p1}", img.display()))
        .arg("::/sources/boot.wim")
        .arg(&wim));
    assert_eq!(code, 0, "{err}");
    let (_, files, _) = run(Command::new("wimdir").arg(&wim).arg("1"));
    assert!(
        files.lines().any(|l| l == "/Lifeboat/lifeboat.exe"),
        "{files}"
    );
}

#[test]
fn an_iso_is_a_base_too_and_a_non_winpe_wim_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let iso = dir.path().join("first.iso");
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&exe)
        .arg("--iso")
        .arg(&iso));
    assert_eq!(code, 0, "{err}");
    // The ISO as a base: unpacked with xorriso, its El Torito images used as firmware files.
    let (code, out, err) = run(Command::new(media_bin())
        .args(["inspect", "--json"])
        .arg(&iso));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "iso");
    assert_eq!(v["images"][0]["arch"], "amd64");
    let again = dir.path().join("second.iso");
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&iso)
        .arg("--agent")
        .arg(&exe)
        .arg("--iso")
        .arg(&again));
    assert_eq!(code, 0, "{err}");
    let (_, report, _) = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&again)
        .args(["-report_el_torito", "plain"]));
    assert!(
        report.contains("BIOS") && report.contains("UEFI"),
        "{report}"
    );

    // A WIM that is not WinPE (no winpeshl.exe, no startnet.cmd) cannot carry the agent.
    let tree = dir.path().join("not-pe");
    std::fs::create_dir_all(tree.join("Windows/System32")).unwrap();
    std::fs::write(
        tree.join("Windows/System32/ntoskrnl.exe"),
        fixtures::pe::pe_stub(fixtures::pe::AMD64),
    )
    .unwrap();
    let wim = dir.path().join("install.wim");
    let (code, _, err) = run(Command::new("wimcapture")
        .arg(&tree)
        .arg(&wim)
        .arg("Windows 11 Pro"));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(Command::new(media_bin())
        .args(["build", "--base"])
        .arg(&wim)
        .arg("--agent")
        .arg(&exe)
        .arg("--usb-dir")
        .arg(dir.path().join("u")));
    assert_eq!(code, 1);
    assert!(err.contains("no WinPE image"), "{err}");
}
