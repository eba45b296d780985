//! WinPE-shaped bases for the media builder's tests: the folder tree WinPE's boot.wim has
//! (kernel and shell binaries of an architecture, startnet.cmd, optional-component package
//! names), captured into boot.wim by Debian's `wimcapture`, inside an ADK `copype`-style
//! folder with boot files. Nothing of Microsoft's: every file is generated.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::pe;

pub struct WinPeSpec {
    pub machine: u16,
    pub startnet: Option<String>,
    pub winpeshl_ini: Option<String>,
    pub components: Vec<&'static str>,
    pub msxml: bool,
    /// Also ship the 2023-signed boot files (bootbins layout).
    pub signer_2023: bool,
    /// Incompressible system-file stand-ins, in MiB, so a benchmark image has real weight.
    pub padding_mib: usize,
}

impl WinPeSpec {
    pub fn amd64() -> WinPeSpec {
        WinPeSpec {
            machine: pe::AMD64,
            startnet: Some("wpeinit\r\n".into()),
            winpeshl_ini: None,
            components: vec!["WinPE-WMI", "WinPE-SecureStartup", "WinPE-Scripting"],
            msxml: true,
            signer_2023: false,
            padding_mib: 0,
        }
    }
}

fn write(p: &Path, data: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// The image's file tree under `dir`.
pub fn image_tree(dir: &Path, spec: &WinPeSpec) {
    let sys = dir.join("Windows/System32");
    write(&sys.join("ntoskrnl.exe"), &pe::pe_stub(spec.machine));
    write(&sys.join("winpeshl.exe"), &pe::pe_stub(spec.machine));
    write(&sys.join("wpeinit.exe"), &pe::pe_stub(spec.machine));
    if let Some(s) = &spec.startnet {
        write(&sys.join("startnet.cmd"), s.as_bytes());
    }
    if let Some(s) = &spec.winpeshl_ini {
        write(&sys.join("winpeshl.ini"), s.as_bytes());
    }
    if spec.msxml {
        write(&sys.join("msxml6.dll"), &pe::pe_stub(spec.machine));
    }
    let arch = if spec.machine == pe::I386 {
        "x86"
    } else if spec.machine == pe::ARM64 {
        "arm64"
    } else {
        "amd64"
    };
    for c in &spec.components {
        write(
            &dir.join(format!(
                "Windows/servicing/Packages/{c}-Package~31bf3856ad364e35~{arch}~~10.0.22621.1.mum"
            )),
            b"<assembly/>",
        );
    }
    for i in 0..spec.padding_mib {
        write(
            &sys.join(format!("payload{i:04}.dll")),
            &crate::noise(1 << 20, i as u64 + 1),
        );
    }
    if spec.components.contains(&"WinPE-SecureStartup") {
        write(&sys.join("manage-bde.exe"), &pe::pe_stub(spec.machine));
    }
}

/// A `copype`-style folder: `media\` with boot files and `sources\boot.wim`, and the
/// firmware images in `fwfiles\` (or `bootbins\` with the 2023 set).
pub fn copype(dir: &Path, spec: &WinPeSpec) -> PathBuf {
    let base = dir.join("winpe_amd64");
    let tree = dir.join("pe-tree");
    image_tree(&tree, spec);
    let media = base.join("media");
    std::fs::create_dir_all(media.join("sources")).unwrap();
    let (code, _, err) = crate::run(
        Command::new("wimcapture")
            .arg(&tree)
            .arg(media.join("sources/boot.wim"))
            .args(["Microsoft Windows PE (amd64)", "--compress=lzx", "--boot"]),
    );
    assert_eq!(code, 0, "wimcapture (wimtools) failed: {err}");
    for f in [
        "bootmgr",
        "bootmgr.efi",
        "Boot/BCD",
        "Boot/boot.sdi",
        "EFI/Boot/bootx64.efi",
        "EFI/Microsoft/Boot/BCD",
    ] {
        write(
            &media.join(f),
            format!("generated stand-in for {f}").as_bytes(),
        );
    }
    let fw = base.join(if spec.signer_2023 {
        "bootbins"
    } else {
        "fwfiles"
    });
    std::fs::create_dir_all(&fw).unwrap();
    write(&fw.join("etfsboot.com"), &[0x90u8; 2048]);
    let efisys = fw.join("efisys.bin");
    let (code, _, err) = crate::run(
        Command::new("mkfs.vfat")
            .args(["-C", "-n", "EFISYS"])
            .arg(&efisys)
            .arg("1440"),
    );
    assert_eq!(code, 0, "mkfs.vfat (dosfstools) failed: {err}");
    std::fs::copy(&efisys, fw.join("efisys_noprompt.bin")).unwrap();
    if spec.signer_2023 {
        std::fs::copy(&efisys, fw.join("efisys_EX.bin")).unwrap();
        std::fs::copy(&efisys, fw.join("efisys_noprompt_EX.bin")).unwrap();
        write(
            &fw.join("bootmgfw_EX.efi"),
            b"generated stand-in for the 2023-signed boot manager",
        );
    }
    base
}
