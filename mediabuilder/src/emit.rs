//! Writing the media: a USB folder (the media tree to copy onto a FAT32 stick), an ISO
//! bootable on BIOS and UEFI through two El Torito entries like the ADK's
//! `MakeWinPEMedia /ISO` (oscdimg -bootdata:2#p0,e,betfsboot.com#pEF,e,befisys.bin), or a raw
//! disk image for a stick. Every tree goes through [`MediaTree`], so folders merge whatever
//! their case.
//!
//! The ISO is written by xorriso (GNU, well kept, in every distribution, and the tool whose
//! El Torito report the tests check independently): no Rust crate writes multi-entry El
//! Torito images today. As with oscdimg, the boot images and the boot catalog are in neither
//! the ISO 9660 nor the Joliet tree: only the El Torito catalog points at them.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use lifeboat::winpath::resolve_ci;
use lifeboat_common::pe::Arch;

use crate::base::Base;
use crate::error::{MediaError, Result};
use crate::tool::{MCOPY, MKFS_VFAT, MKNTFS, SFDISK, SYSLINUX, XORRISO};
use crate::tree::{copy_error, MediaTree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// Boot manager signed under the Microsoft Windows PCA 2011 (what older machines trust).
    Ca2011,
    /// The "Windows UEFI CA 2023" set (`bootmgfw_EX.efi`, `efisys_EX.bin`), needed where the
    /// 2023 revocations are applied, like MakeWinPEMedia `/bootex`.
    Ca2023,
}

/// What goes onto any medium: the base's tree, the built boot.wim, the signer's loaders.
pub struct Media<'a> {
    pub base: &'a Base,
    pub boot_wim: &'a Path,
    pub signer: Signer,
    pub arch: Arch,
}

const BOOT_WIM: &str = r"sources\boot.wim";

/// The UEFI fallback loader the firmware of `arch` starts.
fn uefi_loader(arch: Arch) -> &'static str {
    match arch {
        Arch::Arm64 => r"EFI\Boot\bootaa64.efi",
        Arch::X86 => r"EFI\Boot\bootia32.efi",
        _ => r"EFI\Boot\bootx64.efi",
    }
}

impl Media<'_> {
    /// Writes the media tree into `out`: the base's tree, the built boot.wim in `sources\`;
    /// with the 2023 signer, the EX boot manager as the UEFI fallback loader.
    pub fn tree(&self, out: &Path) -> Result<MediaTree> {
        let media = self.base.media.as_ref().ok_or_else(|| MediaError::Base {
            path: self.base.path.clone(),
            problem: "a bare WIM has no boot files; give a copype folder, an ISO or install media"
                .into(),
        })?;
        let tree = MediaTree::create(out)?;
        tree.merge(media, &[BOOT_WIM])?;
        tree.put(BOOT_WIM, self.boot_wim)?;
        if self.signer == Signer::Ca2023 {
            let ex = self
                .base
                .firmware
                .as_ref()
                .and_then(|f| resolve_ci(f, "bootmgfw_EX.efi"))
                .ok_or_else(|| MediaError::Base {
                    path: self.base.path.clone(),
                    problem: "--boot-signer 2023: no bootmgfw_EX.efi (an ADK from 2024 on ships it in bootbins)".into(),
                })?;
            tree.put(uefi_loader(self.arch), &ex)?;
        }
        Ok(tree)
    }

    /// The El Torito images for the chosen signer and prompt behaviour: BIOS (none on arm64,
    /// which has no BIOS) and UEFI.
    fn eltorito(&self, noprompt: bool) -> Result<(Option<PathBuf>, PathBuf)> {
        let fw = self.base.firmware.as_ref().ok_or_else(|| MediaError::Base {
            path: self.base.path.clone(),
            problem: "no firmware boot files (etfsboot.com, efisys.bin): give a copype folder or a bootable ISO".into(),
        })?;
        let missing = |name: &str, what: &str| MediaError::Base {
            path: fw.clone(),
            problem: format!("{name} ({what}) is missing"),
        };
        let bios = match self.arch {
            Arch::Arm64 => None,
            _ => Some(
                resolve_ci(fw, "etfsboot.com")
                    .or_else(|| resolve_ci(fw, "eltorito_img1_bios.img"))
                    .ok_or_else(|| missing("etfsboot.com", "BIOS boot image"))?,
            ),
        };
        let name = match (self.signer, noprompt) {
            (Signer::Ca2011, false) => "efisys.bin",
            (Signer::Ca2011, true) => "efisys_noprompt.bin",
            (Signer::Ca2023, false) => "efisys_EX.bin",
            (Signer::Ca2023, true) => "efisys_noprompt_EX.bin",
        };
        let unpacked = || {
            (self.signer == Signer::Ca2011 && !noprompt)
                .then(|| resolve_ci(fw, "eltorito_img2_uefi.img"))
                .flatten()
        };
        let uefi = resolve_ci(fw, name)
            .or_else(unpacked)
            .ok_or_else(|| missing(name, "UEFI boot image"))?;
        Ok((bios, uefi))
    }
}

/// Where the El Torito images sit while xorriso writes; hidden from both trees.
const BIOS_IMAGE: &str = "lifeboat-eltorito-bios.img";
const UEFI_IMAGE: &str = "lifeboat-eltorito-uefi.img";

fn hidden(name: &str) -> [&str; 4] {
    ["-hide", name, "-hide-joliet", name]
}

pub fn iso(m: &Media, out: &Path, noprompt: bool) -> Result<()> {
    let (bios, uefi) = m.eltorito(noprompt)?;
    let stage = tempfile::tempdir().map_err(MediaError::io(
        "create a temporary folder in",
        std::env::temp_dir(),
    ))?;
    let tree = m.tree(&stage.path().join("root"))?;
    let mut cmd = XORRISO.command();
    cmd.args([
        "-as",
        "mkisofs",
        "-quiet",
        "-iso-level",
        "3",
        "-J",
        "-joliet-long",
    ])
    .args(["-V", "LIFEBOAT", "--boot-catalog-hide"]);
    if let Some(bios) = bios {
        tree.put(BIOS_IMAGE, &bios)?;
        cmd.args(["-b", BIOS_IMAGE, "-no-emul-boot", "-boot-load-size", "8"])
            .args(hidden(BIOS_IMAGE))
            .arg("-eltorito-alt-boot");
    }
    tree.put(UEFI_IMAGE, &uefi)?;
    cmd.args(["-e", UEFI_IMAGE, "-no-emul-boot"])
        .args(hidden(UEFI_IMAGE));
    let tmp_out = out.with_extension("iso.partial");
    cmd.arg("-o").arg(&tmp_out).arg(tree.root());
    if let Err(e) = XORRISO.run(&mut cmd, format!("write {}", out.display()), None) {
        let _ = std::fs::remove_file(&tmp_out);
        return Err(e);
    }
    std::fs::rename(&tmp_out, out).map_err(MediaError::io("rename into place", out))
}

pub fn usb_dir(m: &Media, out: &Path) -> Result<()> {
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(MediaError::Output {
            option: "--usb-dir",
            path: out.into(),
            problem:
                "not empty; give an empty folder (or the stick's root after formatting it FAT32)"
                    .into(),
        });
    }
    m.tree(out).map(drop)
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
const SECTOR: u64 = 512;
const SYSLINUX_BIOS: &str = "/usr/lib/syslinux/modules/bios";
const SYSLINUX_MBR: &str = "/usr/lib/syslinux/mbr/mbr.bin";
const SYSLINUX_CFG: &str = "DEFAULT bootmgr\r\nPROMPT 0\r\nLABEL bootmgr\r\n  COM32 chain.c32\r\n  APPEND fs ntldr=/bootmgr\r\n";

/// The FAT32 boot partition's file system: the media tree, syslinux chaining to bootmgr.
/// `start` (in sectors) goes into the boot sector's hidden-sectors field, which loaders that
/// read the boot sector from disk rely on.
fn boot_partition(tree: &MediaTree, part: &Path, mib: u64, start: u64) -> Result<()> {
    tree.write("syslinux.cfg", SYSLINUX_CFG.as_bytes())?;
    for m in ["chain.c32", "libcom32.c32", "libutil.c32"] {
        let src = Path::new(SYSLINUX_BIOS).join(m);
        if !src.is_file() {
            return Err(MediaError::Base {
                path: src,
                problem: "missing: install the syslinux-common package".into(),
            });
        }
        tree.put(m, &src)?;
    }
    let shown = part.display();
    MKFS_VFAT.run(
        MKFS_VFAT
            .command()
            .args([
                "-F",
                "32",
                "-n",
                "LIFEBOAT-PE",
                "-h",
                &start.to_string(),
                "-C",
            ])
            .arg(part)
            .arg((mib * 1024).to_string()),
        format!("make the FAT32 file system {shown}"),
        None,
    )?;
    let mut copy = MCOPY.command();
    copy.args(["-s", "-Q", "-i"]).arg(part);
    for e in std::fs::read_dir(tree.root()).map_err(MediaError::io("list", tree.root()))? {
        copy.arg(e.map_err(MediaError::io("list", tree.root()))?.path());
    }
    copy.arg("::/");
    MCOPY.run(&mut copy, format!("copy the media tree into {shown}"), None)?;
    SYSLINUX
        .run(
            SYSLINUX.command().arg("--install").arg(part),
            format!("install syslinux into {shown}"),
            None,
        )
        .map(drop)
}

fn store_partition(part: &Path, mib: u64) -> Result<()> {
    std::fs::File::create(part)
        .and_then(|f| f.set_len(mib * MIB))
        .map_err(MediaError::io("create", part))?;
    MKNTFS
        .run(
            MKNTFS
                .command()
                .args(["-F", "-Q", "-q", "-L", "LIFEBOAT"])
                .arg(part),
            format!("make the NTFS store partition {}", part.display()),
            None,
        )
        .map(drop)
}

/// A raw image to write to a stick: MBR, an active FAT32 partition with the media (UEFI
/// boots its `EFI\Boot` loader; BIOS goes MBR → syslinux → chain.c32 → bootmgr, since
/// Microsoft's own boot sectors cannot be shipped), and optionally an NTFS partition
/// labelled LIFEBOAT of `store_mib` MiB for captures.
pub fn disk_image(m: &Media, out: &Path, store_mib: Option<u64>) -> Result<()> {
    let stage = tempfile::tempdir().map_err(MediaError::io(
        "create a temporary folder in",
        std::env::temp_dir(),
    ))?;
    let tree = m.tree(&stage.path().join("root"))?;
    // FAT32 needs at least ~33 MiB; leave room for the boot.wim to be replaced later.
    let boot_mib = ((tree_size(tree.root()) * 5 / 4) / MIB + 64).max(128);
    let start1 = MIB;
    let start2 = start1 + boot_mib * MIB;
    let part1 = stage.path().join("boot.part");
    boot_partition(&tree, &part1, boot_mib, start1 / SECTOR)?;
    let part2 = stage.path().join("store.part");
    if let Some(mib) = store_mib {
        store_partition(&part2, mib)?;
    }
    let total = start2 + store_mib.unwrap_or(0) * MIB;
    let tmp_out = out.with_extension("img.partial");
    let result = (|| {
        std::fs::File::create(&tmp_out)
            .and_then(|f| f.set_len(total))
            .map_err(MediaError::io("create", &tmp_out))?;
        let mut table = format!(
            "label: dos\nstart={}, size={}, type=c, bootable\n",
            start1 / SECTOR,
            boot_mib * MIB / SECTOR
        );
        if let Some(mib) = store_mib {
            table.push_str(&format!(
                "start={}, size={}, type=7\n",
                start2 / SECTOR,
                mib * MIB / SECTOR
            ));
        }
        SFDISK.run(
            SFDISK.command().arg("-q").arg(&tmp_out),
            format!("write the partition table of {}", tmp_out.display()),
            Some(table.as_bytes()),
        )?;
        let mut parts = vec![(part1.as_path(), start1)];
        if store_mib.is_some() {
            parts.push((part2.as_path(), start2));
        }
        write_disk(&tmp_out, &parts)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp_out);
        return Err(e);
    }
    std::fs::rename(&tmp_out, out).map_err(MediaError::io("rename into place", out))
}

/// syslinux's MBR boot code (booting the active partition, keeping the table sfdisk wrote),
/// then each partition's file system at its offset.
fn write_disk(img_path: &Path, parts: &[(&Path, u64)]) -> Result<()> {
    let mbr = std::fs::read(SYSLINUX_MBR).map_err(|source| MediaError::Io {
        action: "read syslinux's MBR code (install syslinux-common)",
        path: SYSLINUX_MBR.into(),
        source,
    })?;
    let write = MediaError::io("write", img_path);
    let mut img = std::fs::OpenOptions::new()
        .write(true)
        .open(img_path)
        .map_err(MediaError::io("open", img_path))?;
    img.write_all(mbr.get(..440).unwrap_or(&mbr))
        .map_err(write)?;
    for (part, at) in parts {
        img.seek(SeekFrom::Start(*at))
            .map_err(MediaError::io("seek in", img_path))?;
        let mut f = std::fs::File::open(part).map_err(MediaError::io("read", *part))?;
        std::io::copy(&mut f, &mut img).map_err(|e| copy_error(part, img_path, e))?;
    }
    img.sync_all().map_err(MediaError::io("write", img_path))
}
