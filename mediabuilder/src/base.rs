//! What the technician hands over as a WinPE base, recognised: an ADK `copype` working folder
//! (`media\` + `fwfiles\` or the newer `bootbins\`), a WinPE or Windows ISO (unpacked with
//! xorriso, its El Torito boot images kept), a media folder with `sources\boot.wim` (Windows
//! install media, a copied stick), or a bare `boot.wim` / `winre.wim`.

use std::path::{Path, PathBuf};

use lifeboat::winpath::resolve_ci;

use crate::error::{MediaError, Result};
use crate::tool::XORRISO;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaseKind {
    Copype,
    MediaFolder,
    Iso,
    Wim,
}

pub struct Base {
    pub kind: BaseKind,
    pub path: PathBuf,
    pub boot_wim: PathBuf,
    /// The tree that goes onto the media (bootmgr, Boot\, EFI\, sources\).
    pub media: Option<PathBuf>,
    /// Firmware boot images for ISOs (etfsboot.com, efisys*.bin).
    pub firmware: Option<PathBuf>,
    /// Where an ISO was unpacked; removed with the base.
    _unpacked: Option<tempfile::TempDir>,
}

fn is_wim(p: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"MSWIM\0\0\0"
}

fn is_iso(p: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut buf = [0u8; 5];
    std::fs::File::open(p)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(0x8001))?;
            f.read_exact(&mut buf)
        })
        .is_ok()
        && &buf == b"CD001"
}

fn not_a_base(path: &Path, problem: impl Into<String>) -> MediaError {
    MediaError::Base {
        path: path.into(),
        problem: problem.into(),
    }
}

pub fn open(path: &Path) -> Result<Base> {
    if path.is_dir() {
        return open_folder(path);
    }
    if !path.is_file() {
        return Err(not_a_base(path, "no such file or folder"));
    }
    if is_wim(path) {
        return Ok(Base {
            kind: BaseKind::Wim,
            path: path.into(),
            boot_wim: path.into(),
            media: None,
            firmware: None,
            _unpacked: None,
        });
    }
    if is_iso(path) {
        return open_iso(path);
    }
    Err(not_a_base(
        path,
        "neither a WIM (no MSWIM header) nor an ISO 9660 image",
    ))
}

fn open_folder(path: &Path) -> Result<Base> {
    if let Some(media) = resolve_ci(path, "media").filter(|m| m.is_dir()) {
        let boot_wim = resolve_ci(&media, r"sources\boot.wim")
            .ok_or_else(|| not_a_base(path, "a copype folder without media\\sources\\boot.wim"))?;
        let firmware = resolve_ci(path, "bootbins").or_else(|| resolve_ci(path, "fwfiles"));
        return Ok(Base {
            kind: BaseKind::Copype,
            path: path.into(),
            boot_wim,
            media: Some(media),
            firmware,
            _unpacked: None,
        });
    }
    let boot_wim = resolve_ci(path, r"sources\boot.wim").ok_or_else(|| not_a_base(path, "not a WinPE base (expected a copype folder with media\\sources\\boot.wim, media with sources\\boot.wim, an ISO or a .wim)"))?;
    Ok(Base {
        kind: BaseKind::MediaFolder,
        path: path.into(),
        boot_wim,
        media: Some(path.into()),
        firmware: None,
        _unpacked: None,
    })
}

/// An ISO unpacked with xorriso into a temporary folder, its El Torito images kept.
fn open_iso(path: &Path) -> Result<Base> {
    let tmp = tempfile::tempdir().map_err(MediaError::io(
        "create a temporary folder in",
        std::env::temp_dir(),
    ))?;
    let media = tmp.path().join("media");
    let fw = tmp.path().join("firmware");
    std::fs::create_dir_all(&fw).map_err(MediaError::io("create the folder", &fw))?;
    XORRISO.run(
        XORRISO
            .command()
            .args(["-osirrox", "on", "-indev"])
            .arg(path)
            .args(["-extract", "/"])
            .arg(&media)
            .args(["-extract_boot_images"])
            .arg(format!("{}/", fw.display())),
        format!("unpack the ISO {}", path.display()),
        None,
    )?;
    let boot_wim = resolve_ci(&media, r"sources\boot.wim")
        .ok_or_else(|| not_a_base(path, "the ISO has no sources\\boot.wim"))?;
    Ok(Base {
        kind: BaseKind::Iso,
        path: path.into(),
        boot_wim,
        media: Some(media),
        firmware: Some(fw),
        _unpacked: Some(tmp),
    })
}
