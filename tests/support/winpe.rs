//! WinPE-shaped bases for the media builder's tests: the folder tree WinPE's boot.wim has
//! (kernel and shell binaries of an architecture, startnet.cmd, optional-component package
//! names), captured into boot.wim by Debian's `wimcapture`, inside an ADK `copype`-style
//! folder with boot files, spelt as the ADK or as Windows install media spell them. The boot
//! files are placeholders, or the project's own stand-in loaders (`tests/boot-standins/`) for
//! the boot tests. Nothing of Microsoft's: every file is generated.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::pe;

/// How a base spells its boot folders and names its firmware folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The ADK's `copype`: `media\Boot`, `media\EFI\Microsoft\Boot`, firmware in `fwfiles\`
    /// (`bootbins\` with the 2023-signed set).
    Adk,
    /// Windows install media: `boot\bcd`, `efi\microsoft\boot\bcd`, with the El Torito images
    /// visible in the tree (`boot\etfsboot.com`, `efi\microsoft\boot\efisys.bin`).
    InstallMedia,
    /// Both at once, as when files from install media were copied into an ADK folder:
    /// `Boot\BCD` beside `boot\boot.sdi`, `EFI\Microsoft` beside `efi\microsoft`.
    Mixed,
}

/// The project's stand-in loaders (built from `tests/boot-standins/` by [`Loaders::build`]).
#[derive(Debug, Clone)]
pub struct Loaders {
    /// El Torito no-emulation image (16-bit): finds and starts `\bootmgr`.
    pub etfsboot: Vec<u8>,
    /// `bootmgr` (16-bit), started by etfsboot.com or chain.c32.
    pub bootmgr: Vec<u8>,
    /// The UEFI application that stands in for every UEFI loader.
    pub efi: Vec<u8>,
}

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
    /// `Windows\System32\ucrtbase.dll` (the Universal CRT).
    pub ucrt: bool,
    pub layout: Layout,
    /// Stand-in loaders in place of the boot-file placeholders.
    pub loaders: Option<Loaders>,
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
            ucrt: true,
            layout: Layout::Adk,
            loaders: None,
        }
    }

    /// 32-bit WinPE 10.
    pub fn x86() -> WinPeSpec {
        WinPeSpec {
            machine: pe::I386,
            ..WinPeSpec::amd64()
        }
    }

    /// arm64 WinPE (no BIOS: the ADK ships no etfsboot.com for it).
    pub fn arm64() -> WinPeSpec {
        WinPeSpec {
            machine: pe::ARM64,
            ..WinPeSpec::amd64()
        }
    }

    fn arch(&self) -> &'static str {
        match self.machine {
            pe::I386 => "x86",
            pe::ARM64 => "arm64",
            _ => "amd64",
        }
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"))
}

/// The `lifeboat-media` binary, built on first use.
pub fn media_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "lifeboat-media"])
            .current_dir(crate::workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building lifeboat-media failed");
        target_dir().join("debug/lifeboat-media")
    })
    .clone()
}

/// `lifeboat-media build --base BASE --agent A… ARGS… OUT_FLAG OUT`: (exit code, stdout,
/// stderr).
pub fn build_media(
    base: &Path,
    agents: &[&Path],
    args: &[&str],
    out_flag: &str,
    out: &Path,
) -> (i32, String, String) {
    let mut cmd = Command::new(media_bin());
    cmd.args(["build", "--base"]).arg(base);
    for a in agents {
        cmd.arg("--agent").arg(a);
    }
    crate::run(cmd.args(args).arg(out_flag).arg(out))
}

/// The marker the stand-ins carry; the name a copy stands for follows it.
const TAG: &[u8] = b"@@LIFEBOAT-TAG@@";

/// A copy of a stand-in that names itself `name` when it runs.
pub fn tag(loader: &[u8], name: &str) -> Vec<u8> {
    let at = loader
        .windows(TAG.len())
        .position(|w| w == TAG)
        .expect("a stand-in loader carries the tag marker")
        + TAG.len();
    assert!(name.len() < 32, "tag {name} too long");
    let mut out = loader.to_vec();
    out[at..at + 32].fill(0);
    out[at..at + name.len()].copy_from_slice(name.as_bytes());
    out
}

impl Loaders {
    /// Builds the stand-ins once per test process (make, gcc -m16, ld, mingw-w64, gnu-efi).
    pub fn build() -> Loaders {
        static BUILT: OnceLock<Loaders> = OnceLock::new();
        BUILT
            .get_or_init(|| {
                let out = target_dir().join("boot-standins");
                let (code, stdout, err) = crate::run(
                    Command::new("make")
                        .arg("-s")
                        .arg("-C")
                        .arg(crate::workspace_root().join("tests/boot-standins"))
                        .arg(format!("OUT={}", out.display())),
                );
                assert_eq!(
                    code, 0,
                    "building the stand-in loaders failed: {stdout}{err}"
                );
                let read = |f: &str| std::fs::read(out.join(f)).expect("a built stand-in");
                Loaders {
                    etfsboot: read("etfsboot.com"),
                    bootmgr: read("bootmgr"),
                    efi: read("standin.efi"),
                }
            })
            .clone()
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
    let arch = spec.arch();
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
    if spec.ucrt {
        write(&sys.join("ucrtbase.dll"), &pe::pe_stub(spec.machine));
    }
    if spec.components.contains(&"WinPE-SecureStartup") {
        write(&sys.join("manage-bde.exe"), &pe::pe_stub(spec.machine));
    }
}

/// The media files of a layout: (path, which loader stands for it).
fn media_files(layout: Layout) -> &'static [&'static str] {
    match layout {
        Layout::Adk => &[
            "bootmgr",
            "bootmgr.efi",
            "Boot/BCD",
            "Boot/boot.sdi",
            "EFI/Boot/bootx64.efi",
            "EFI/Microsoft/Boot/BCD",
        ],
        Layout::InstallMedia => &[
            "bootmgr",
            "bootmgr.efi",
            "boot/bcd",
            "boot/boot.sdi",
            "efi/boot/bootx64.efi",
            "efi/microsoft/boot/bcd",
        ],
        Layout::Mixed => &[
            "bootmgr",
            "bootmgr.efi",
            "Boot/BCD",
            "boot/boot.sdi",
            "EFI/Boot/bootx64.efi",
            "efi/microsoft/boot/BCD",
            "EFI/Microsoft/Boot/Fonts/wgl4_boot.ttf",
        ],
    }
}

/// The contents of a media or firmware file: a placeholder, or a tagged stand-in.
fn boot_file(spec: &WinPeSpec, rel: &str) -> Vec<u8> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    match &spec.loaders {
        Some(l) if lower == "bootmgr" => tag(&l.bootmgr, name),
        Some(l) if lower == "etfsboot.com" => tag(&l.etfsboot, name),
        Some(l) if lower.ends_with(".efi") => tag(&l.efi, name),
        None if lower == "etfsboot.com" => vec![0x90u8; 2048],
        _ => format!("generated stand-in for {rel}").into_bytes(),
    }
}

/// An El Torito UEFI image (`efisys*.bin`): a FAT file system holding `EFI\Boot\bootx64.efi`
/// (the stand-in, tagged with the image's name) or nothing.
fn efisys(spec: &WinPeSpec, path: &Path) {
    let _ = std::fs::remove_file(path);
    let (code, _, err) = crate::run(
        Command::new("mkfs.vfat")
            .args(["-C", "-n", "EFISYS"])
            .arg(path)
            .arg("1440"),
    );
    assert_eq!(code, 0, "mkfs.vfat (dosfstools) failed: {err}");
    let Some(l) = &spec.loaders else {
        return;
    };
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let app = path.with_extension("app");
    std::fs::write(&app, tag(&l.efi, &name)).unwrap();
    let img = path.display().to_string();
    for cmd in [
        Command::new("mmd").args(["-i", &img, "::/EFI", "::/EFI/Boot"]),
        Command::new("mcopy")
            .args(["-i", &img])
            .arg(&app)
            .arg("::/EFI/Boot/bootx64.efi"),
    ] {
        let (code, _, err) = crate::run(cmd);
        assert_eq!(code, 0, "mtools failed on {img}: {err}");
    }
    std::fs::remove_file(app).unwrap();
}

/// The firmware files: etfsboot.com (not for arm64), efisys*.bin, the 2023 set.
fn firmware(spec: &WinPeSpec, fw: &Path) {
    std::fs::create_dir_all(fw).unwrap();
    if spec.machine != pe::ARM64 {
        write(&fw.join("etfsboot.com"), &boot_file(spec, "etfsboot.com"));
    }
    let mut names = vec!["efisys.bin", "efisys_noprompt.bin"];
    if spec.signer_2023 {
        names.extend(["efisys_EX.bin", "efisys_noprompt_EX.bin"]);
        write(
            &fw.join("bootmgfw_EX.efi"),
            &boot_file(spec, "bootmgfw_EX.efi"),
        );
    }
    for n in names {
        efisys(spec, &fw.join(n));
    }
}

/// The image tree captured into `media/sources/boot.wim`.
fn boot_wim(dir: &Path, spec: &WinPeSpec, media: &Path) {
    let tree = dir.join("pe-tree");
    image_tree(&tree, spec);
    std::fs::create_dir_all(media.join("sources")).unwrap();
    let (code, _, err) = crate::run(
        Command::new("wimcapture")
            .arg(&tree)
            .arg(media.join("sources/boot.wim"))
            .arg(format!("Microsoft Windows PE ({})", spec.arch()))
            .args(["--compress=lzx", "--boot"]),
    );
    assert_eq!(code, 0, "wimcapture (wimtools) failed: {err}");
}

/// A `copype`-style folder: `media\` with boot files and `sources\boot.wim`, and the
/// firmware images in `fwfiles\` (or `bootbins\` with the 2023 set).
pub fn copype(dir: &Path, spec: &WinPeSpec) -> PathBuf {
    let base = dir.join(format!("winpe_{}", spec.arch()));
    let media = base.join("media");
    boot_wim(dir, spec, &media);
    for f in media_files(spec.layout) {
        write(&media.join(f), &boot_file(spec, f));
    }
    let fw = if spec.signer_2023 {
        "bootbins"
    } else {
        "fwfiles"
    };
    firmware(spec, &base.join(fw));
    base
}

/// Windows install media as an ISO, the way Microsoft's are made: the tree spelt in lower
/// case with the El Torito images visible in it (`boot\etfsboot.com`,
/// `efi\microsoft\boot\efisys.bin`), written by xorriso.
pub fn install_iso(dir: &Path, spec: &WinPeSpec) -> PathBuf {
    let root = dir.join("install-media");
    boot_wim(dir, spec, &root);
    for f in media_files(Layout::InstallMedia) {
        write(&root.join(f), &boot_file(spec, f));
    }
    let fw = dir.join("install-fw");
    firmware(spec, &fw);
    let boot = root.join("boot");
    std::fs::copy(fw.join("etfsboot.com"), boot.join("etfsboot.com")).unwrap();
    std::fs::copy(
        fw.join("efisys.bin"),
        root.join("efi/microsoft/boot/efisys.bin"),
    )
    .unwrap();
    let iso = dir.join("install.iso");
    let (code, _, err) = crate::run(
        Command::new("xorriso")
            .args([
                "-as",
                "mkisofs",
                "-quiet",
                "-iso-level",
                "3",
                "-J",
                "-joliet-long",
            ])
            .args([
                "-b",
                "boot/etfsboot.com",
                "-no-emul-boot",
                "-boot-load-size",
                "8",
            ])
            .args(["-eltorito-alt-boot", "-e", "efi/microsoft/boot/efisys.bin"])
            .arg("-no-emul-boot")
            .arg("-o")
            .arg(&iso)
            .arg(&root),
    );
    assert_eq!(code, 0, "xorriso failed: {err}");
    iso
}
