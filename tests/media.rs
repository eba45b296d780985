//! lifeboat-media: the boot hook on real startnet.cmd / winpeshl.ini files, inspect on a
//! generated WinPE-shaped base and on the real WIMs, built ISOs, USB folders and disk images
//! checked with xorriso, isoinfo (ISO 9660 and Joliet trees), mtools, fsck.vfat, `file` and
//! wimtools, for bases spelt as the ADK and as Windows install media spell them; the agent
//! picked per architecture, read back against llvm-objdump.

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::winpe::{build_media, copype, install_iso, media_bin, Layout, WinPeSpec};
use fixtures::{realdata, run, workspace_root};
use lifeboat_media::hook;

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
            code == 0 || code == 26,
            "{}: crashed ({code}): {err}",
            p.display()
        );
        if code == 26 {
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
    let (code, out, err) = build_media(&base, &[&exe], &[], "--iso", &iso);
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
    let (code, _, err) = build_media(&base, &[&exe], &[], "--usb-dir", &usb1);
    assert_eq!(code, 0, "{err}");
    assert!(usb1.join("bootmgr").is_file() && usb1.join("EFI/Boot/bootx64.efi").is_file());
    // The built stick is itself a base (media folder): build again from it.
    let usb2 = dir.path().join("usb2");
    let (code, _, err) = build_media(&usb1, &[&exe], &[], "--usb-dir", &usb2);
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
    let (code, out, err) = build_media(&base, &[&exe], &[], "--usb-dir", &usb);
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
    let (code, _, err) = build_media(&base, &[&x86], &[], "--iso", &out);
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("x86") && err.contains("amd64"), "{err}");
    assert!(!out.exists());

    let amd = agent(dir.path(), fixtures::pe::AMD64);
    let bad_cfg = dir.path().join("config.yaml");
    std::fs::write(&bad_cfg, "destinations:\n  - share: not-a-unc\n").unwrap();
    let (code, _, err) = build_media(
        &base,
        &[&amd],
        &["--config", bad_cfg.to_str().unwrap()],
        "--iso",
        &out,
    );
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("config.yaml") && err.contains("UNC"), "{err}");

    // A bare WIM has no boot files for an ISO.
    let (code, _, err) = build_media(
        &base.join("media/sources/boot.wim"),
        &[&amd],
        &[],
        "--iso",
        &out,
    );
    assert_eq!(code, 26, "{err}");
    assert!(err.contains("boot files"), "{err}");

    // A corrupt base WIM.
    if let Some(corrupt_wim) = realdata("wim/wimlib__corrupted_file_1.wim") {
        let corrupt = dir.path().join("corrupt");
        std::fs::create_dir_all(corrupt.join("sources")).unwrap();
        std::fs::copy(corrupt_wim, corrupt.join("sources/boot.wim")).unwrap();
        let (code, _, err) =
            build_media(&corrupt, &[&amd], &[], "--usb-dir", &dir.path().join("u"));
        assert_eq!(code, 26, "{err}");
        assert!(err.contains("boot.wim"), "{err}");
    }

    // No firmware for the 2023 signer in a classic base.
    let (code, _, err) = build_media(&base, &[&amd], &["--boot-signer", "2023"], "--iso", &out);
    assert_eq!(code, 26, "{err}");
    assert!(err.contains("EX"), "{err}");
}

/// The exit codes are USMT's (and the agent's) where the meaning matches: each kind of
/// failure gets its code, and the message names what to fix.
#[test]
fn exit_codes_follow_usmt_as_the_agents_do() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let amd = agent(dir.path(), fixtures::pe::AMD64);
    let media = || Command::new(media_bin());

    let (code, out, _) = run(media().arg("--help"));
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes"), "{out}");
    // Bad command line: 11.
    let (code, _, err) = run(media().args(["build", "--no-such-option"]));
    assert_eq!(code, 11, "{err}");
    let (code, _, err) = run(media()
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&amd));
    assert_eq!(code, 11, "no output chosen: {err}");
    assert!(err.contains("--iso"), "{err}");
    // The output cannot take the media: 27.
    let full = dir.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "a technician's file").unwrap();
    let (code, _, err) = build_media(&base, &[&amd], &[], "--usb-dir", &full);
    assert_eq!(code, 27, "{err}");
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
    // A profile that is not one: 28.
    let bad = dir.path().join("broken.yaml");
    std::fs::write(&bad, "include: [unclosed\n").unwrap();
    let (code, _, err) = build_media(
        &base,
        &[&amd],
        &["--profile", &bad.display().to_string()],
        "--usb-dir",
        &dir.path().join("u1"),
    );
    assert_eq!(code, 28, "{err}");
    assert!(err.contains("broken.yaml"), "{err}");
    // A tool the build needs is missing: 71, naming its package.
    let iso = dir.path().join("o.iso");
    let (code, _, err) = run(media()
        .env("PATH", dir.path().join("empty"))
        .args(["build", "--base"])
        .arg(&base)
        .arg("--agent")
        .arg(&amd)
        .arg("--iso")
        .arg(&iso));
    assert_eq!(code, 71, "{err}");
    assert!(err.contains("install the xorriso package"), "{err}");
    assert!(!iso.exists());
    // Failed while writing: 72, naming the file.
    let nowhere = dir.path().join("no-such-folder/o.iso");
    let (code, _, err) = build_media(&base, &[&amd], &[], "--iso", &nowhere);
    assert_eq!(code, 72, "{err}");
    assert!(err.contains("o.iso"), "{err}");
}

#[test]
fn disk_image_has_a_bootable_fat32_and_a_lifeboat_store_partition() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let img = dir.path().join("stick.img");
    let (code, out, err) = build_media(
        &base,
        &[&exe],
        &["--store-size", "64"],
        "--disk-image",
        &img,
    );
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
    let (code, _, err) = build_media(&base, &[&exe], &[], "--iso", &iso);
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
    let (code, _, err) = build_media(&iso, &[&exe], &[], "--iso", &again);
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
    let (code, _, err) = build_media(&wim, &[&exe], &[], "--usb-dir", &dir.path().join("u"));
    assert_eq!(code, 26, "{err}");
    assert!(err.contains("no WinPE image"), "{err}");
}

/// Every path of one tree of an ISO as isoinfo (genisoimage) lists it, versions (";1") and
/// the trailing dot of extension-less ISO 9660 names left off.
fn iso_tree(iso: &Path, joliet: bool) -> Vec<String> {
    let mut cmd = Command::new("isoinfo");
    cmd.arg("-f").arg("-i").arg(iso);
    if joliet {
        cmd.arg("-J");
    }
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "isoinfo: {err}");
    out.lines()
        .map(|l| {
            l.split('/')
                .map(|p| p.split(';').next().unwrap_or(p).trim_end_matches('.'))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

/// One tree: no two names that differ only in case, every file the boot managers read next,
/// no boot catalog and no El Torito image in it.
fn assert_one_tree(iso: &Path, joliet: bool) {
    let which = if joliet { "Joliet" } else { "ISO 9660" };
    let paths = iso_tree(iso, joliet);
    let mut seen = std::collections::HashSet::new();
    for p in &paths {
        assert!(
            seen.insert(p.to_lowercase()),
            "{which}: {p} twice (ignoring case):\n{paths:#?}"
        );
        let l = p.to_lowercase();
        assert!(
            !l.contains("boot.cat") && !l.contains("eltorito"),
            "{which}: {p} visible"
        );
    }
    for want in [
        "/bootmgr",
        "/boot/bcd",
        "/boot/boot.sdi",
        "/efi/boot/bootx64.efi",
        "/efi/microsoft/boot/bcd",
        "/sources/boot.wim",
    ] {
        assert!(seen.contains(want), "{which}: {want} missing:\n{paths:#?}");
    }
}

/// The El Torito images the ISO boots, as xorriso extracts them.
fn eltorito_images(iso: &Path, dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let out = dir.join("eltorito");
    std::fs::create_dir_all(&out).unwrap();
    let (code, _, err) = run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .arg("-extract_boot_images")
        .arg(format!("{}/", out.display())));
    assert_eq!(code, 0, "{err}");
    let read = |n: &str| std::fs::read(out.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
    (
        read("eltorito_img1_bios.img"),
        read("eltorito_img2_uefi.img"),
    )
}

#[test]
fn every_casing_gives_one_tree_in_iso9660_and_joliet() {
    let dir = tempfile::tempdir().unwrap();
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    for layout in [Layout::Adk, Layout::InstallMedia, Layout::Mixed] {
        let sub = dir.path().join(format!("{layout:?}"));
        std::fs::create_dir_all(&sub).unwrap();
        let mut spec = WinPeSpec::amd64();
        spec.layout = layout;
        spec.signer_2023 = layout == Layout::Mixed;
        let base = copype(&sub, &spec);
        let iso = sub.join("out.iso");
        let extra: &[&str] = if spec.signer_2023 {
            &["--boot-signer", "2023", "--noprompt"]
        } else {
            &[]
        };
        let (code, out, err) = build_media(&base, &[&exe], extra, "--iso", &iso);
        assert_eq!(code, 0, "{layout:?}: {out}{err}");
        assert_one_tree(&iso, false);
        assert_one_tree(&iso, true);
        let fw = base.join(if spec.signer_2023 {
            "bootbins"
        } else {
            "fwfiles"
        });
        let (bios, uefi) = eltorito_images(&iso, &sub);
        assert!(
            bios.starts_with(&std::fs::read(fw.join("etfsboot.com")).unwrap()),
            "{layout:?}"
        );
        let efisys = if spec.signer_2023 {
            "efisys_noprompt_EX.bin"
        } else {
            "efisys.bin"
        };
        assert!(
            uefi.starts_with(&std::fs::read(fw.join(efisys)).unwrap()),
            "{layout:?}: not {efisys}"
        );
    }
    // Windows install media (lower case, El Torito images visible in the tree) as the base.
    let install = install_iso(dir.path(), &WinPeSpec::amd64());
    let iso = dir.path().join("from-install.iso");
    let (code, out, err) = build_media(&install, &[&exe], &[], "--iso", &iso);
    assert_eq!(code, 0, "{out}{err}");
    assert_one_tree(&iso, false);
    assert_one_tree(&iso, true);
}

#[test]
fn a_base_with_one_file_in_two_casings_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let base = copype(dir.path(), &WinPeSpec::amd64());
    std::fs::create_dir_all(base.join("media/boot")).unwrap();
    std::fs::write(base.join("media/boot/bcd"), "another BCD").unwrap();
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let (code, _, err) = build_media(&base, &[&exe], &[], "--usb-dir", &dir.path().join("usb"));
    assert_eq!(code, 26, "{err}");
    assert!(
        err.contains("Boot/BCD") && err.contains("boot/bcd") && err.contains("case"),
        "{err}"
    );
}

#[test]
fn usb_folder_and_disk_image_merge_casings_and_say_where_fat32_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = WinPeSpec::amd64();
    spec.layout = Layout::Mixed;
    let base = copype(dir.path(), &spec);
    let exe = agent(dir.path(), fixtures::pe::AMD64);
    let usb = dir.path().join("usb");
    let (code, out, err) = build_media(&base, &[&exe], &[], "--usb-dir", &usb);
    assert_eq!(code, 0, "{out}{err}");
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&usb),
        ["Boot", "EFI", "bootmgr", "bootmgr.efi", "sources"]
    );
    assert_eq!(names(&usb.join("Boot")), ["BCD", "boot.sdi"]);
    assert_eq!(names(&usb.join("EFI/Microsoft/Boot")), ["BCD", "Fonts"]);

    let img = dir.path().join("stick.img");
    let (code, out, err) = build_media(&base, &[&exe], &[], "--disk-image", &img);
    assert_eq!(code, 0, "{out}{err}");
    let (_, table, _) = run(Command::new("sfdisk").arg("-J").arg(&img));
    let table: serde_json::Value = serde_json::from_str(&table).unwrap();
    let start = table["partitiontable"]["partitions"][0]["start"]
        .as_u64()
        .unwrap();
    let bytes = std::fs::read(&img).unwrap();
    let part = dir.path().join("boot.part");
    std::fs::write(&part, &bytes[start as usize * 512..]).unwrap();
    let (_, kind, _) = run(Command::new("file").arg("-b").arg(&part));
    assert!(
        kind.contains(&format!("hidden sectors {start}")) && kind.contains("FAT (32 bit)"),
        "{kind}"
    );
    let (code, out, err) = run(Command::new("fsck.vfat").arg("-n").arg(&part));
    assert_eq!(code, 0, "fsck.vfat: {out}{err}");
    let (code, listing, err) = run(Command::new("mdir")
        .args(["-b", "-/", "-i"])
        .arg(&part)
        .arg("::/"));
    assert_eq!(code, 0, "{err}");
    let mut seen = std::collections::HashSet::new();
    for l in listing.lines() {
        assert!(seen.insert(l.to_lowercase()), "{l} twice:\n{listing}");
    }
    for want in [
        "::/boot/bcd",
        "::/boot/boot.sdi",
        "::/efi/microsoft/boot/bcd",
        "::/sources/boot.wim",
        "::/bootmgr",
    ] {
        assert!(seen.contains(want), "{want} missing:\n{listing}");
    }
}

/// A PE stub for `machine` that imports `dlls` (one section holding the import directory).
fn pe_importing(machine: u16, dlls: &[&str]) -> Vec<u8> {
    let mut b = fixtures::pe::pe_stub(machine);
    let put32 =
        |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let opt = 0x98;
    let opt_size = u16::from_le_bytes([b[0x94], b[0x95]]) as usize;
    let dirs = opt
        + if machine == fixtures::pe::I386 {
            96
        } else {
            112
        };
    put32(&mut b, dirs + 8, 0x1000); // import directory RVA
    put32(&mut b, dirs + 12, 20 * (dlls.len() as u32 + 1));
    let sec = opt + opt_size;
    put32(&mut b, sec + 8, 0x200);
    put32(&mut b, sec + 12, 0x1000);
    put32(&mut b, sec + 16, 0x200);
    put32(&mut b, sec + 20, 0x200);
    let mut name_at = 0x100;
    for (i, d) in dlls.iter().enumerate() {
        put32(&mut b, 0x200 + i * 20 + 12, 0x1000 + name_at as u32);
        b[0x200 + name_at..0x200 + name_at + d.len()].copy_from_slice(d.as_bytes());
        name_at += d.len() + 1;
    }
    b
}

#[test]
fn the_agent_of_each_images_architecture_goes_in() {
    let dir = tempfile::tempdir().unwrap();
    let agents = dir.path().join("agents");
    std::fs::create_dir_all(&agents).unwrap();
    let crt = ["KERNEL32.dll", "msvcrt.dll"];
    let ucrt = ["KERNEL32.dll", "api-ms-win-crt-runtime-l1-1-0.dll"];
    std::fs::write(
        agents.join("lifeboat-x86.exe"),
        pe_importing(fixtures::pe::I386, &crt),
    )
    .unwrap();
    std::fs::write(
        agents.join("lifeboat-amd64.exe"),
        pe_importing(fixtures::pe::AMD64, &crt),
    )
    .unwrap();
    std::fs::write(
        agents.join("lifeboat-arm64.exe"),
        pe_importing(fixtures::pe::ARM64, &ucrt),
    )
    .unwrap();
    std::fs::write(agents.join("notes.txt"), "not an agent").unwrap();
    for (spec, file) in [
        (WinPeSpec::x86(), "lifeboat-x86.exe"),
        (WinPeSpec::amd64(), "lifeboat-amd64.exe"),
        (WinPeSpec::arm64(), "lifeboat-arm64.exe"),
    ] {
        let sub = dir.path().join(file);
        std::fs::create_dir_all(&sub).unwrap();
        let base = copype(&sub, &spec);
        let (code, out, err) = run(Command::new(media_bin())
            .arg("inspect")
            .arg(&base)
            .arg("--agent")
            .arg(&agents));
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains(&format!("Agent: {}", agents.join(file).display())),
            "{out}"
        );
        assert!(out.contains("UCRT (ucrtbase.dll): present"), "{out}");
        let iso = sub.join("out.iso");
        let (code, out, err) = build_media(&base, &[&agents], &["--json"], "--iso", &iso);
        assert_eq!(code, 0, "{file}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["build"]["agent"], agents.join(file).display().to_string());
        // The exe in the image is that agent, byte for byte.
        let x = sub.join("x");
        std::fs::create_dir_all(&x).unwrap();
        let (code, _, err) = run(Command::new("xorriso")
            .args(["-osirrox", "on", "-indev"])
            .arg(&iso)
            .args(["-extract", "/sources/boot.wim"])
            .arg(x.join("boot.wim")));
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = run(Command::new("wimextract")
            .arg(x.join("boot.wim"))
            .args(["1", "/Lifeboat/lifeboat.exe", "--no-acls"])
            .arg(format!("--dest-dir={}", x.display())));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            std::fs::read(x.join("lifeboat.exe")).unwrap(),
            std::fs::read(agents.join(file)).unwrap()
        );
    }
    // An arm64 image without the UCRT cannot run the arm64 agent.
    let sub = dir.path().join("no-ucrt");
    std::fs::create_dir_all(&sub).unwrap();
    let mut spec = WinPeSpec::arm64();
    spec.ucrt = false;
    let base = copype(&sub, &spec);
    let (code, out, _) = run(Command::new(media_bin())
        .arg("inspect")
        .arg(&base)
        .arg("--agent")
        .arg(&agents));
    assert_eq!(code, 0);
    assert!(
        out.contains("UCRT (ucrtbase.dll): absent") && out.contains("none of the given fits"),
        "{out}"
    );
    let (code, _, err) = build_media(&base, &[&agents], &[], "--usb-dir", &sub.join("usb"));
    assert_eq!(code, 11, "{err}");
    assert!(
        err.contains("ucrtbase.dll") && err.contains("lifeboat-arm64.exe"),
        "{err}"
    );
    // Two agents of one architecture: which one is meant?
    let other = dir.path().join("other-amd64.exe");
    std::fs::write(&other, pe_importing(fixtures::pe::AMD64, &crt)).unwrap();
    let base = copype(&dir.path().join("lifeboat-amd64.exe"), &WinPeSpec::amd64());
    let (code, _, err) = build_media(
        &base,
        &[&agents, &other],
        &[],
        "--usb-dir",
        &sub.join("usb2"),
    );
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("one agent per architecture"), "{err}");
}

/// The agents scripts/build-windows-agent.sh built (CI builds all three): the import reader
/// the builder uses agrees with llvm-objdump, and the UCRT build is the arm64 one.
#[test]
fn built_agents_imports_read_as_llvm_objdump_reads_them() {
    let agents = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("agents");
    for (file, ucrt) in [
        ("lifeboat-amd64.exe", false),
        ("lifeboat-x86.exe", false),
        ("lifeboat-arm64.exe", true),
    ] {
        let exe = agents.join(file);
        assert!(
            exe.is_file(),
            "{} is missing: run scripts/build-windows-agent.sh --arch x86_64|i686|aarch64",
            exe.display()
        );
        let (code, dump, err) = run(Command::new("llvm-objdump").arg("-p").arg(&exe));
        assert_eq!(code, 0, "{err}");
        let theirs: Vec<&str> = dump
            .lines()
            .filter_map(|l| l.trim().strip_prefix("DLL Name: "))
            .collect();
        let ours = lifeboat_media::agents::imports(&std::fs::read(&exe).unwrap()).unwrap();
        assert_eq!(ours, theirs, "{file}");
        let loaded = lifeboat_media::agents::load(std::slice::from_ref(&exe)).unwrap();
        assert_eq!(
            loaded[0].runtime == lifeboat_media::agents::Runtime::Ucrt,
            ucrt,
            "{file}"
        );
    }
}
