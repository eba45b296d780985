//! What the technician hands over as a WinPE base, recognised: an ADK `copype` working folder
//! (`media\` + `fwfiles\` or the newer `bootbins\`), a WinPE or Windows ISO (unpacked with
//! xorriso, its El Torito boot images kept), a media folder with `sources\boot.wim` (Windows
//! install media, a copied stick), or a bare `boot.wim` / `winre.wim`.

use std::path::{Path, PathBuf};
use std::process::Command;

use lifeboat::winpath::resolve_ci;

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

pub fn open(path: &Path) -> Result<Base, String> {
    let shown = path.display();
    if path.is_dir() {
        if let Some(media) = resolve_ci(path, "media").filter(|m| m.is_dir()) {
            let boot_wim = resolve_ci(&media, r"sources\boot.wim").ok_or_else(|| {
                format!("{shown}: a copype folder without media\\sources\\boot.wim")
            })?;
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
        if let Some(boot_wim) = resolve_ci(path, r"sources\boot.wim") {
            return Ok(Base {
                kind: BaseKind::MediaFolder,
                path: path.into(),
                boot_wim,
                media: Some(path.into()),
                firmware: None,
                _unpacked: None,
            });
        }
        return Err(format!(
            "{shown}: not a WinPE base (expected a copype folder with media\\sources\\boot.wim, media with sources\\boot.wim, an ISO or a .wim)"
        ));
    }
    if !path.is_file() {
        return Err(format!("{shown}: no such file or folder"));
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
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let media = tmp.path().join("media");
        let fw = tmp.path().join("firmware");
        std::fs::create_dir_all(&fw).map_err(|e| e.to_string())?;
        let out = Command::new("xorriso")
            .args(["-osirrox", "on", "-indev"])
            .arg(path)
            .args(["-extract", "/"])
            .arg(&media)
            .args(["-extract_boot_images"])
            .arg(format!("{}/", fw.display()))
            .output()
            .map_err(|e| format!("{shown}: cannot run xorriso to unpack the ISO ({e}); install xorriso or give an unpacked folder"))?;
        if !out.status.success() {
            return Err(format!(
                "{shown}: xorriso could not unpack the ISO: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let boot_wim = resolve_ci(&media, r"sources\boot.wim")
            .ok_or_else(|| format!("{shown}: the ISO has no sources\\boot.wim"))?;
        return Ok(Base {
            kind: BaseKind::Iso,
            path: path.into(),
            boot_wim,
            media: Some(media),
            firmware: Some(fw),
            _unpacked: Some(tmp),
        });
    }
    Err(format!(
        "{shown}: neither a WIM (no MSWIM header) nor an ISO 9660 image"
    ))
}
