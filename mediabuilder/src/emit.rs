//! Writing the media: a USB folder (the media tree to copy onto a FAT32 stick) or an ISO
//! bootable on BIOS and UEFI through two El Torito entries, like the ADK's
//! `MakeWinPEMedia /ISO` (oscdimg -bootdata:2#p0,e,betfsboot.com#pEF,e,befisys.bin).
//!
//! The ISO is written by xorriso (GNU, well kept, in every distribution, and the tool whose
//! El Torito report the tests check independently): no Rust crate writes multi-entry El
//! Torito images today.

use std::path::{Path, PathBuf};
use std::process::Command;

use lifeboat::winpath::resolve_ci;

use crate::base::Base;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// Boot manager signed under the Microsoft Windows PCA 2011 (what older machines trust).
    Ca2011,
    /// The "Windows UEFI CA 2023" set (`bootmgfw_EX.efi`, `efisys_EX.bin`), needed where the
    /// 2023 revocations are applied, like MakeWinPEMedia `/bootex`.
    Ca2023,
}

fn copy_tree(from: &Path, to: &Path, skip_boot_wim: bool) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let dst = to.join(e.file_name());
        if e.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_tree(&e.path(), &dst, skip_boot_wim)?;
        } else if !(skip_boot_wim && e.file_name().eq_ignore_ascii_case("boot.wim")) {
            std::fs::copy(e.path(), &dst)
                .map_err(|err| format!("{}: {err}", e.path().display()))?;
        }
    }
    Ok(())
}

/// The media tree with the built boot.wim in `sources\`; with the 2023 signer, the EX boot
/// manager as the UEFI fallback loader.
pub fn media_tree(base: &Base, boot_wim: &Path, out: &Path, signer: Signer) -> Result<(), String> {
    let media = base.media.as_ref().ok_or_else(|| {
        format!(
            "{}: a bare WIM has no boot files; give a copype folder, an ISO or install media",
            base.path.display()
        )
    })?;
    copy_tree(media, out, true)?;
    let sources = resolve_ci(out, "sources").unwrap_or_else(|| out.join("sources"));
    std::fs::create_dir_all(&sources).map_err(|e| e.to_string())?;
    std::fs::copy(boot_wim, sources.join("boot.wim"))
        .map_err(|e| format!("writing boot.wim: {e}"))?;
    if signer == Signer::Ca2023 {
        let ex = base
            .firmware
            .as_ref()
            .and_then(|f| resolve_ci(f, "bootmgfw_EX.efi"))
            .ok_or("--boot-signer 2023: the base has no bootmgfw_EX.efi (an ADK from 2024 on ships it in bootbins)")?;
        let efi_boot = out.join("EFI").join("Boot");
        std::fs::create_dir_all(&efi_boot).map_err(|e| e.to_string())?;
        let target = resolve_ci(&efi_boot, "bootx64.efi").unwrap_or(efi_boot.join("bootx64.efi"));
        std::fs::copy(ex, target).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The El Torito images for the chosen signer and prompt behaviour.
fn firmware(base: &Base, signer: Signer, noprompt: bool) -> Result<(PathBuf, PathBuf), String> {
    let fw = base.firmware.as_ref().ok_or_else(|| {
        format!("{}: no firmware boot files (etfsboot.com, efisys.bin): give a copype folder or a bootable ISO", base.path.display())
    })?;
    let bios = resolve_ci(fw, "etfsboot.com")
        .or_else(|| resolve_ci(fw, "eltorito_img1_bios.img"))
        .ok_or_else(|| {
            format!(
                "{}: etfsboot.com (BIOS boot sector) is missing",
                fw.display()
            )
        })?;
    let name = match (signer, noprompt) {
        (Signer::Ca2011, false) => "efisys.bin",
        (Signer::Ca2011, true) => "efisys_noprompt.bin",
        (Signer::Ca2023, false) => "efisys_EX.bin",
        (Signer::Ca2023, true) => "efisys_noprompt_EX.bin",
    };
    let uefi = resolve_ci(fw, name)
        .or_else(|| {
            (signer == Signer::Ca2011 && !noprompt)
                .then(|| resolve_ci(fw, "eltorito_img2_uefi.img"))
                .flatten()
        })
        .ok_or_else(|| format!("{}: {name} (UEFI boot image) is missing", fw.display()))?;
    Ok((bios, uefi))
}

pub fn iso(
    base: &Base,
    boot_wim: &Path,
    out: &Path,
    signer: Signer,
    noprompt: bool,
) -> Result<(), String> {
    let (bios, uefi) = firmware(base, signer, noprompt)?;
    let stage = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = stage.path().join("root");
    media_tree(base, boot_wim, &root, signer)?;
    // xorriso boots from files inside the tree; oscdimg's hidden boot images become these.
    std::fs::create_dir_all(root.join("boot")).map_err(|e| e.to_string())?;
    std::fs::copy(&bios, root.join("boot").join("etfsboot.com")).map_err(|e| e.to_string())?;
    let efi_dir = root.join("efi").join("microsoft").join("boot");
    std::fs::create_dir_all(&efi_dir).map_err(|e| e.to_string())?;
    std::fs::copy(&uefi, efi_dir.join("efisys.bin")).map_err(|e| e.to_string())?;
    let tmp_out = out.with_extension("iso.partial");
    let result = Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-iso-level",
            "3",
            "-J",
            "-joliet-long",
            "-V",
            "LIFEBOAT",
        ])
        .args([
            "-b",
            "boot/etfsboot.com",
            "-no-emul-boot",
            "-boot-load-size",
            "8",
            "-hide",
            "boot.catalog",
        ])
        .args([
            "-eltorito-alt-boot",
            "-e",
            "efi/microsoft/boot/efisys.bin",
            "-no-emul-boot",
        ])
        .arg("-o")
        .arg(&tmp_out)
        .arg(&root)
        .output()
        .map_err(|e| format!("cannot run xorriso ({e}): install the xorriso package"))?;
    if !result.status.success() {
        let _ = std::fs::remove_file(&tmp_out);
        return Err(format!(
            "xorriso failed writing {}: {}",
            out.display(),
            String::from_utf8_lossy(&result.stderr).trim()
        ));
    }
    std::fs::rename(&tmp_out, out).map_err(|e| format!("{}: {e}", out.display()))
}

pub fn usb_dir(base: &Base, boot_wim: &Path, out: &Path, signer: Signer) -> Result<(), String> {
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(format!(
            "{}: not empty; give an empty folder (or the stick's root after formatting it FAT32)",
            out.display()
        ));
    }
    media_tree(base, boot_wim, out, signer)
}

/// Runs a tool the disk image needs; its absence or failure is a clear error.
fn tool(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("cannot run {what} ({e}): install it (packages mtools, dosfstools, syslinux, syslinux-common, fdisk, ntfs-3g)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn tree_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => tree_size(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

const MIB: u64 = 1 << 20;
const SYSLINUX_BIOS: &str = "/usr/lib/syslinux/modules/bios";
const SYSLINUX_MBR: &str = "/usr/lib/syslinux/mbr/mbr.bin";

/// A raw image to write to a stick: MBR, an active FAT32 partition with the media (UEFI
/// boots its `EFI\Boot` loader; BIOS goes MBR → syslinux → chain.c32 → bootmgr, since
/// Microsoft's own boot sectors cannot be shipped), and optionally an NTFS partition
/// labelled LIFEBOAT of `store_mib` MiB for captures.
pub fn disk_image(
    base: &Base,
    boot_wim: &Path,
    out: &Path,
    signer: Signer,
    store_mib: Option<u64>,
) -> Result<(), String> {
    let stage = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = stage.path().join("root");
    media_tree(base, boot_wim, &root, signer)?;
    std::fs::write(
        root.join("syslinux.cfg"),
        "DEFAULT bootmgr\r\nPROMPT 0\r\nLABEL bootmgr\r\n  COM32 chain.c32\r\n  APPEND fs ntldr=/bootmgr\r\n",
    )
    .map_err(|e| e.to_string())?;
    for m in ["chain.c32", "libcom32.c32", "libutil.c32"] {
        std::fs::copy(Path::new(SYSLINUX_BIOS).join(m), root.join(m))
            .map_err(|e| format!("{SYSLINUX_BIOS}/{m}: {e} (install syslinux-common)"))?;
    }
    // FAT32 needs at least ~33 MiB; leave room for the boot.wim to be replaced later.
    let boot_mib = ((tree_size(&root) * 5 / 4) / MIB + 64).max(128);
    let part1 = stage.path().join("boot.part");
    tool(
        Command::new("mkfs.vfat")
            .args(["-F", "32", "-n", "LIFEBOAT-PE", "-C"])
            .arg(&part1)
            .arg((boot_mib * 1024).to_string()),
        "mkfs.vfat",
    )?;
    let mut copy = Command::new("mcopy");
    copy.args(["-s", "-Q", "-i"]).arg(&part1);
    for e in std::fs::read_dir(&root)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        copy.arg(e.path());
    }
    copy.arg("::/");
    tool(&mut copy, "mcopy")?;
    tool(
        Command::new("syslinux").arg("--install").arg(&part1),
        "syslinux --install",
    )?;

    let part2 = match store_mib {
        Some(mib) => {
            let p = stage.path().join("store.part");
            std::fs::File::create(&p)
                .and_then(|f| f.set_len(mib * MIB))
                .map_err(|e| e.to_string())?;
            tool(
                Command::new("mkntfs")
                    .args(["-F", "-Q", "-q", "-L", "LIFEBOAT"])
                    .arg(&p),
                "mkntfs",
            )?;
            Some(p)
        }
        None => None,
    };
    let start1 = MIB;
    let start2 = start1 + boot_mib * MIB;
    let total = start2 + store_mib.unwrap_or(0) * MIB;
    let tmp_out = out.with_extension("img.partial");
    std::fs::File::create(&tmp_out)
        .and_then(|f| f.set_len(total))
        .map_err(|e| format!("{}: {e}", tmp_out.display()))?;
    let mut table = format!(
        "label: dos\nstart={}, size={}, type=c, bootable\n",
        start1 / 512,
        boot_mib * MIB / 512
    );
    if let Some(mib) = store_mib {
        table.push_str(&format!(
            "start={}, size={}, type=7\n",
            start2 / 512,
            mib * MIB / 512
        ));
    }
    let mut sfdisk = Command::new("sfdisk");
    sfdisk
        .arg("-q")
        .arg(&tmp_out)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = sfdisk
        .spawn()
        .map_err(|e| format!("cannot run sfdisk ({e}): install fdisk"))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(table.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    if !child.wait().map_err(|e| e.to_string())?.success() {
        return Err("sfdisk could not write the partition table".into());
    }
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut img = std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp_out)
            .map_err(|e| e.to_string())?;
        // syslinux's MBR code: boots the active partition, keeping the table sfdisk wrote.
        let mbr = std::fs::read(SYSLINUX_MBR)
            .map_err(|e| format!("{SYSLINUX_MBR}: {e} (install syslinux-common)"))?;
        img.write_all(&mbr[..mbr.len().min(440)])
            .map_err(|e| e.to_string())?;
        for (part, at) in [(Some(part1.clone()), start1), (part2.clone(), start2)] {
            if let Some(p) = part {
                img.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
                let mut f = std::fs::File::open(&p).map_err(|e| e.to_string())?;
                std::io::copy(&mut f, &mut img)
                    .map_err(|e| format!("writing {}: {e}", out.display()))?;
            }
        }
    }
    std::fs::rename(&tmp_out, out).map_err(|e| format!("{}: {e}", out.display()))
}
