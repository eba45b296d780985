//! `lifeboat-media inspect`: what a base's boot.wim holds — each image, its architecture
//! (from the PE header of its kernel), the WinPE optional components (from the package
//! names under `Windows\servicing\Packages`), MSXML, BitLocker unlock support — and the boot
//! files present for BIOS and UEFI. The text is also written into built media as notes.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use lifeboat_common::pe::{self, Arch};
use lifeboat_wim::Wim;

use crate::agents::{self, Agent, ImageNeeds};
use crate::base::{Base, BaseKind};
use crate::error::{MediaError, Result};

#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub index: u32,
    pub name: String,
    pub description: String,
    pub version: Option<String>,
    pub arch: Option<Arch>,
    pub is_winpe: bool,
    pub optional_components: Vec<String>,
    pub msxml: bool,
    pub bitlocker_unlock: bool,
    pub has_winpeshl_ini: bool,
    /// `Windows\System32\ucrtbase.dll`: the Universal CRT an arm64 agent needs.
    pub ucrtbase: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BootFiles {
    pub bios: Vec<String>,
    pub uefi: Vec<String>,
    /// The 2023-CA-signed set (`bootmgfw_EX.efi`, `efisys_EX.bin`) is present.
    pub signer_2023: bool,
    /// `efisys_noprompt*.bin`: boots without "Press any key".
    pub noprompt: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub base: String,
    pub kind: BaseKind,
    pub boot_wim: String,
    pub boot_index: u32,
    pub images: Vec<ImageReport>,
    /// The image a build would edit (boot index when it is WinPE, else the first WinPE).
    pub winpe_image: Option<u32>,
    pub boot_files: BootFiles,
    /// The agent a build would put in (when agents were given).
    pub agent: Option<AgentChoice>,
}

/// Which of the given agents fits the WinPE image, or why none does.
#[derive(Debug, Clone, Serialize)]
pub struct AgentChoice {
    pub agent: Option<Agent>,
    pub problem: Option<String>,
}

fn component(pkg_file: &str) -> Option<String> {
    // WinPE-WMI-Package~31bf3856ad364e35~amd64~~10.0.22621.1.mum → WinPE-WMI
    let stem = pkg_file.split('~').next()?;
    let name = stem.strip_suffix("-Package").unwrap_or(stem);
    name.to_ascii_lowercase()
        .starts_with("winpe-")
        .then(|| name.to_string())
}

fn inspect_image(wim: &mut Wim, path: &Path, index: u32) -> Result<ImageReport> {
    let entries = wim.iterate(index, "").map_err(base_wim(path))?;
    let has = |p: &str| entries.iter().any(|e| e.path.eq_ignore_ascii_case(p));
    let mut ocs: BTreeSet<String> = BTreeSet::new();
    for e in &entries {
        if let Some(rest) = e
            .path
            .to_ascii_lowercase()
            .strip_prefix(r"windows\servicing\packages\")
        {
            let file = &e.path[e.path.len() - rest.len()..];
            if let Some(c) = component(file) {
                ocs.insert(c);
            }
        }
    }
    let arch = {
        let tmp = tempfile::tempdir().map_err(MediaError::io(
            "create a temporary folder in",
            std::env::temp_dir(),
        ))?;
        let kernel = entries
            .iter()
            .find(|e| {
                e.path
                    .eq_ignore_ascii_case(r"Windows\System32\ntoskrnl.exe")
            })
            .map(|e| e.path.clone());
        match kernel {
            Some(k) => {
                wim.extract_paths(index, &[&k], tmp.path())
                    .map_err(base_wim(path))?;
                pe::arch_of_file(&tmp.path().join("ntoskrnl.exe")).ok()
            }
            None => None,
        }
    };
    let version = ["MAJOR", "MINOR", "BUILD", "SPBUILD"]
        .iter()
        .map(|p| wim.image_property(index, &format!("WINDOWS/VERSION/{p}")))
        .collect::<Option<Vec<_>>>()
        .map(|v| v.join("."));
    let is_winpe = has(r"Windows\System32\winpeshl.exe") || has(r"Windows\System32\startnet.cmd");
    Ok(ImageReport {
        index,
        name: wim.image_name(index),
        description: wim.image_property(index, "DESCRIPTION").unwrap_or_default(),
        version,
        arch,
        is_winpe,
        msxml: has(r"Windows\System32\msxml6.dll"),
        bitlocker_unlock: has(r"Windows\System32\manage-bde.exe")
            || ocs
                .iter()
                .any(|c| c.eq_ignore_ascii_case("WinPE-SecureStartup")),
        has_winpeshl_ini: has(r"Windows\System32\winpeshl.ini"),
        ucrtbase: has(r"Windows\System32\ucrtbase.dll"),
        optional_components: ocs.into_iter().collect(),
    })
}

fn boot_files(base: &Base) -> BootFiles {
    let mut bios = Vec::new();
    let mut uefi = Vec::new();
    let present = |dir: &Option<std::path::PathBuf>, rel: &str, list: &mut Vec<String>| {
        if let Some(d) = dir {
            if lifeboat::winpath::resolve_ci(d, rel).is_some() {
                list.push(rel.to_string());
            }
        }
    };
    for f in ["bootmgr", r"Boot\BCD", r"Boot\boot.sdi"] {
        present(&base.media, f, &mut bios);
    }
    for f in [
        r"EFI\Boot\bootx64.efi",
        r"EFI\Boot\bootaa64.efi",
        r"EFI\Boot\bootia32.efi",
        r"EFI\Microsoft\Boot\BCD",
    ] {
        present(&base.media, f, &mut uefi);
    }
    for f in ["etfsboot.com", "eltorito_img1_bios.img"] {
        present(&base.firmware, f, &mut bios);
    }
    for f in [
        "efisys.bin",
        "efisys_noprompt.bin",
        "efisys_EX.bin",
        "efisys_noprompt_EX.bin",
        "bootmgfw_EX.efi",
        "eltorito_img2_uefi.img",
    ] {
        present(&base.firmware, f, &mut uefi);
    }
    BootFiles {
        signer_2023: uefi.iter().any(|f| f.contains("_EX")),
        noprompt: uefi.iter().any(|f| f.contains("noprompt")),
        bios,
        uefi,
    }
}

fn base_wim(path: &Path) -> impl Fn(lifeboat_wim::WimError) -> MediaError + '_ {
    move |source| MediaError::BaseWim {
        path: path.into(),
        source,
    }
}

pub fn inspect(base: &Base) -> Result<InspectReport> {
    let path = base.boot_wim.as_path();
    let mut wim = Wim::open(path, true).map_err(base_wim(path))?;
    let info = wim.info().map_err(base_wim(path))?;
    if info.total_parts > 1 {
        return Err(MediaError::Base {
            path: path.into(),
            problem: format!(
                "a split WIM (part {} of {}) cannot be a boot image",
                info.part_number, info.total_parts
            ),
        });
    }
    let mut images = Vec::new();
    for i in 1..=info.image_count {
        images.push(inspect_image(&mut wim, path, i)?);
    }
    let winpe_image = images
        .iter()
        .find(|i| i.index == info.boot_index && i.is_winpe)
        .or_else(|| images.iter().find(|i| i.is_winpe))
        .map(|i| i.index);
    Ok(InspectReport {
        base: base.path.display().to_string(),
        kind: base.kind,
        boot_wim: base.boot_wim.display().to_string(),
        boot_index: info.boot_index,
        images,
        winpe_image,
        boot_files: boot_files(base),
        agent: None,
    })
}

impl InspectReport {
    /// What the given image offers an agent.
    pub fn needs(&self, index: u32) -> Option<ImageNeeds> {
        self.images
            .iter()
            .find(|i| i.index == index)
            .map(|i| ImageNeeds {
                index,
                arch: i.arch,
                ucrtbase: i.ucrtbase,
            })
    }

    /// Notes which of `given` a build would put into the WinPE image.
    pub fn choose_agent(&mut self, given: &[Agent]) {
        let Some(needs) = self.winpe_image.and_then(|i| self.needs(i)) else {
            return;
        };
        self.agent = Some(match agents::pick(given, &needs) {
            Ok(a) => AgentChoice {
                agent: Some(a.clone()),
                problem: None,
            },
            Err(e) => AgentChoice {
                agent: None,
                problem: Some(e.to_string()),
            },
        });
    }
}

/// The readable report (also the media's notes file).
pub fn render(r: &InspectReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Base: {} ({:?})\nboot.wim: {} (boot index {})",
        r.base, r.kind, r.boot_wim, r.boot_index
    );
    for i in &r.images {
        render_image(&mut s, i, Some(i.index) == r.winpe_image);
    }
    render_boot_files(&mut s, &r.boot_files);
    render_agent(&mut s, r.agent.as_ref());
    s
}

/// "none" for an empty list, else its items joined with commas.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// One image: its heading (marked when a build would use it) and what it offers an agent.
fn render_image(s: &mut String, i: &ImageReport, used: bool) {
    let mark = if used {
        "  <- WinPE image Lifeboat uses"
    } else {
        ""
    };
    let version = i.version.as_deref().unwrap_or("");
    let _ = writeln!(s, "\n[{}] {} {version}{mark}", i.index, i.name);
    let arch = i
        .arch
        .map(|a| a.as_str())
        .unwrap_or("unknown (no System32\\ntoskrnl.exe)");
    let _ = writeln!(s, "    architecture: {arch}");
    let _ = writeln!(s, "    WinPE: {}", if i.is_winpe { "yes" } else { "no" });
    let _ = writeln!(
        s,
        "    optional components: {}",
        list(&i.optional_components)
    );
    let msxml = if i.msxml {
        "present (msxml6.dll). Lifeboat needs none; Microsoft's ScanState would."
    } else {
        "absent. Lifeboat needs none; Microsoft's ScanState would not run here."
    };
    let _ = writeln!(s, "    MSXML: {msxml}");
    let unlock = if i.bitlocker_unlock {
        "yes (manage-bde -unlock works)"
    } else {
        "no: add WinPE-WMI and WinPE-SecureStartup with DISM on Windows to unlock volumes"
    };
    let _ = writeln!(s, "    BitLocker unlock: {unlock}");
    if i.has_winpeshl_ini {
        let _ = writeln!(s, "    winpeshl.ini present: startnet.cmd does not run; Lifeboat hooks winpeshl.ini instead");
    }
    let ucrt = if i.ucrtbase {
        "present (an agent built with the UCRT, as the arm64 one is, runs)"
    } else {
        "absent: only an agent built with msvcrt (x86, amd64) runs here"
    };
    let _ = writeln!(s, "    UCRT (ucrtbase.dll): {ucrt}");
}

fn render_boot_files(s: &mut String, b: &BootFiles) {
    let _ = writeln!(
        s,
        "\nBoot files: BIOS {}; UEFI {}",
        list(&b.bios),
        list(&b.uefi)
    );
    if b.signer_2023 {
        let _ = writeln!(s, "    2023-signed boot manager present: --boot-signer 2023 for machines with the 2023 revocations");
    }
}

fn render_agent(s: &mut String, choice: Option<&AgentChoice>) {
    match choice {
        Some(AgentChoice { agent: Some(a), .. }) => {
            let runtime = match a.runtime {
                agents::Runtime::Msvcrt => "msvcrt",
                agents::Runtime::Ucrt => "UCRT",
            };
            let _ = writeln!(s, "\nAgent: {} ({}, {runtime})", a.path.display(), a.arch);
        }
        Some(AgentChoice {
            problem: Some(p), ..
        }) => {
            let _ = writeln!(s, "\nAgent: none of the given fits: {p}");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(index: u32, yes: bool) -> ImageReport {
        ImageReport {
            index,
            name: format!("Image {index}"),
            description: String::new(),
            version: yes.then(|| "10.0.22621".to_string()),
            arch: yes.then_some(Arch::Amd64),
            is_winpe: yes,
            optional_components: if yes {
                vec!["WinPE-WMI".into(), "WinPE-SecureStartup".into()]
            } else {
                Vec::new()
            },
            msxml: yes,
            bitlocker_unlock: yes,
            has_winpeshl_ini: yes,
            ucrtbase: yes,
        }
    }

    fn report(agent: Option<AgentChoice>) -> InspectReport {
        InspectReport {
            base: "/media/base".into(),
            kind: BaseKind::Copype,
            boot_wim: "/media/base/media/sources/boot.wim".into(),
            boot_index: 2,
            images: vec![image(1, false), image(2, true)],
            winpe_image: Some(2),
            boot_files: BootFiles {
                bios: vec!["bootmgr".into(), "etfsboot.com".into()],
                uefi: Vec::new(),
                signer_2023: true,
                noprompt: false,
            },
            agent,
        }
    }

    #[test]
    fn render_reads_as_the_notes_say() {
        let agent = AgentChoice {
            agent: Some(Agent {
                path: "/agents/lifeboat.exe".into(),
                arch: Arch::Amd64,
                runtime: agents::Runtime::Msvcrt,
            }),
            problem: None,
        };
        let text = render(&report(Some(agent)));
        let expected = "Base: /media/base (Copype)
boot.wim: /media/base/media/sources/boot.wim (boot index 2)

[1] Image 1\x20
    architecture: unknown (no System32\\ntoskrnl.exe)
    WinPE: no
    optional components: none
    MSXML: absent. Lifeboat needs none; Microsoft's ScanState would not run here.
    BitLocker unlock: no: add WinPE-WMI and WinPE-SecureStartup with DISM on Windows to unlock volumes
    UCRT (ucrtbase.dll): absent: only an agent built with msvcrt (x86, amd64) runs here

[2] Image 2 10.0.22621  <- WinPE image Lifeboat uses
    architecture: amd64
    WinPE: yes
    optional components: WinPE-WMI, WinPE-SecureStartup
    MSXML: present (msxml6.dll). Lifeboat needs none; Microsoft's ScanState would.
    BitLocker unlock: yes (manage-bde -unlock works)
    winpeshl.ini present: startnet.cmd does not run; Lifeboat hooks winpeshl.ini instead
    UCRT (ucrtbase.dll): present (an agent built with the UCRT, as the arm64 one is, runs)

Boot files: BIOS bootmgr, etfsboot.com; UEFI none
    2023-signed boot manager present: --boot-signer 2023 for machines with the 2023 revocations

Agent: /agents/lifeboat.exe (amd64, msvcrt)
";
        assert_eq!(text, expected);
    }

    #[test]
    fn render_says_why_no_agent_fits() {
        let none = AgentChoice {
            agent: None,
            problem: Some("no arm64 agent given".into()),
        };
        let text = render(&report(Some(none)));
        assert!(text.ends_with("\nAgent: none of the given fits: no arm64 agent given\n"));
        assert!(!render(&report(None)).contains("Agent:"));
    }
}
