//! What an installation is: version and edition from SOFTWARE, computer name and processor
//! architecture from SYSTEM, cross-checked against the kernel binary's PE header.

use crate::hive::LoadedHive;
use crate::pe::{self, Arch};

use super::model::ArchEvidence;
use crate::volume::Place;

#[derive(Debug, Clone, Default)]
pub struct VersionInfo {
    pub product_name: Option<String>,
    pub edition: Option<String>,
    pub display_version: Option<String>,
    pub build: Option<u32>,
    pub ubr: Option<u32>,
    pub family: Option<String>,
    pub install_date: Option<String>,
    pub system_root: Option<String>,
    pub registered_owner: Option<String>,
}

pub fn read_version(software: &LoadedHive) -> VersionInfo {
    let Some(cv) = software.key(r"Microsoft\Windows NT\CurrentVersion") else {
        return VersionInfo::default();
    };
    let text = |n: &str| {
        cv.string(n)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let build = text("CurrentBuildNumber")
        .or_else(|| text("CurrentBuild"))
        .and_then(|s| s.parse::<u32>().ok());
    let product_name = text("ProductName");
    // DisplayVersion (20H2 and later) replaced ReleaseId; before Windows 10, the service pack.
    let display_version = text("DisplayVersion")
        .or_else(|| text("ReleaseId"))
        .or_else(|| text("CSDVersion"));
    let install_date = cv
        .value("InstallTime")
        .and_then(|v| v.as_qword())
        .and_then(crate::time::filetime_to_rfc3339)
        .or_else(|| {
            cv.dword("InstallDate")
                .filter(|&d| d > 0)
                .map(|d| crate::time::unix_to_rfc3339(i64::from(d)))
        });
    let family = family(
        product_name.as_deref(),
        build,
        cv.dword("CurrentMajorVersionNumber"),
        text("CurrentVersion").as_deref(),
        text("InstallationType").as_deref(),
    );
    VersionInfo {
        edition: text("EditionID"),
        ubr: cv.dword("UBR"),
        system_root: text("SystemRoot"),
        registered_owner: text("RegisteredOwner"),
        product_name,
        display_version,
        build,
        install_date,
        family,
    }
}

/// The family a build number belongs to. Windows 11 still calls itself "Windows 10" in
/// ProductName (build 22000 is its first); before Windows 10 each release had its own
/// build numbers (RTM and service packs).
fn family_of_build(b: u32) -> Option<&'static str> {
    Some(match b {
        22000.. => "Windows 11",
        10240.. => "Windows 10",
        9600 => "Windows 8.1",
        9200 => "Windows 8",
        7600 | 7601 => "Windows 7",
        6000..=6003 => "Windows Vista",
        2600 | 3790 => "Windows XP",
        _ => return None,
    })
}

/// The family of an installation ("Windows 11", "Windows 7", "Windows Server"…), from
/// the build first, then `CurrentVersion` (6.1 is Windows 7), then the product's name.
pub fn family(
    product: Option<&str>,
    build: Option<u32>,
    major: Option<u32>,
    current_version: Option<&str>,
    installation_type: Option<&str>,
) -> Option<String> {
    let server = installation_type.is_some_and(|t| t.eq_ignore_ascii_case("server"))
        || product.is_some_and(|p| p.contains("Server"));
    if server {
        return Some("Windows Server".into());
    }
    if let Some(f) = build.and_then(family_of_build) {
        return Some(f.into());
    }
    if major == Some(10) {
        return Some("Windows 10".into());
    }
    let by_version = match current_version.map(str::trim) {
        Some("6.3") => Some("Windows 8.1"),
        Some("6.2") => Some("Windows 8"),
        Some("6.1") => Some("Windows 7"),
        Some("6.0") => Some("Windows Vista"),
        Some("5.1" | "5.2") => Some("Windows XP"),
        _ => None,
    };
    if let Some(f) = by_version {
        return Some(f.into());
    }
    // "Windows 8.1 Pro", "Windows 7 Ultimate": the words before the edition.
    let p = product?.trim();
    [
        "Windows 8.1",
        "Windows 8",
        "Windows 7",
        "Windows Vista",
        "Windows XP",
    ]
    .into_iter()
    .find(|f| {
        p.strip_prefix(f)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    })
    .map(|f| f.to_string())
    .or_else(|| Some(p.to_string()))
}

/// The control set Windows last booted with (`Select\Current`), as a key path prefix.
pub fn current_control_set(system: &LoadedHive) -> String {
    let n = system
        .key("Select")
        .and_then(|k| k.dword("Current"))
        .filter(|n| (1..=999).contains(n))
        .unwrap_or(1);
    format!("ControlSet{n:03}")
}

pub fn computer_name(system: &LoadedHive) -> Option<String> {
    let ccs = current_control_set(system);
    system
        .key(&format!(r"{ccs}\Control\ComputerName\ComputerName"))
        .and_then(|k| k.string("ComputerName"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub fn registry_arch(system: &LoadedHive) -> Option<Arch> {
    let ccs = current_control_set(system);
    system
        .key(&format!(r"{ccs}\Control\Session Manager\Environment"))
        .and_then(|k| k.string("PROCESSOR_ARCHITECTURE"))
        .map(|s| Arch::from_processor_architecture(&s))
}

/// The architecture the kernel's PE header names (only its head is read).
fn kernel_arch(kernel: &Place) -> Result<Arch, String> {
    let head = kernel
        .read_head(crate::limits::PE_HEAD_BYTES)
        .map_err(|e| e.to_string())?;
    pe::machine_of(&head)
        .map(Arch::from_machine)
        .map_err(|reason| format!("{kernel} is not a Windows executable: {reason}"))
}

/// Architecture from the kernel's PE header, checked against the registry; a
/// `MIG_OFFLINE_PLATFORM_ARCH` of 32 or 64 overrides both, as in USMT.
pub fn architecture(
    windir: &Place,
    registry: Option<Arch>,
    override_bits: Option<u32>,
) -> (Option<Arch>, ArchEvidence, Option<String>) {
    let mut problem = None;
    let kernel = match windir.resolve_ci(r"System32\ntoskrnl.exe") {
        Some(path) => match kernel_arch(&path) {
            Ok(a) => Some(a),
            Err(e) => {
                problem = Some(e);
                None
            }
        },
        None => None,
    };
    let conflict = match (kernel, registry) {
        (Some(k), Some(r)) if k != r => Some(format!(
            "ntoskrnl.exe is {k} but the SYSTEM hive says PROCESSOR_ARCHITECTURE={r}; trusting the kernel"
        )),
        _ => None,
    };
    let detected = kernel.or(registry);
    let arch = match override_bits {
        Some(32) => Some(Arch::X86),
        Some(64) => Some(match detected {
            Some(Arch::Arm64) => Arch::Arm64,
            _ => Arch::Amd64,
        }),
        _ => detected,
    };
    let evidence = ArchEvidence {
        kernel,
        registry,
        override_bits: override_bits.filter(|b| *b == 32 || *b == 64),
        conflict,
    };
    (arch, evidence, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_11_is_named_by_build() {
        assert_eq!(
            family(
                Some("Windows 10 Pro"),
                Some(22631),
                Some(10),
                Some("6.3"),
                Some("Client")
            )
            .as_deref(),
            Some("Windows 11")
        );
        assert_eq!(
            family(
                Some("Windows 10 Pro"),
                Some(19045),
                Some(10),
                Some("6.3"),
                None
            )
            .as_deref(),
            Some("Windows 10")
        );
        assert_eq!(
            family(
                Some("Windows 7 Ultimate"),
                Some(7601),
                None,
                Some("6.1"),
                None
            )
            .as_deref(),
            Some("Windows 7")
        );
        assert_eq!(
            family(
                Some("Windows Server 2019 Standard"),
                Some(17763),
                Some(10),
                None,
                Some("Server")
            )
            .as_deref(),
            Some("Windows Server")
        );
        assert_eq!(family(None, None, None, None, None), None);
        // Windows 7 and 8.x by build alone (CurrentVersion missing), by CurrentVersion
        // alone, and by name alone.
        for (build, want) in [
            (7601, "Windows 7"),
            (9200, "Windows 8"),
            (9600, "Windows 8.1"),
        ] {
            assert_eq!(
                family(
                    Some("Windows 7 Professional"),
                    Some(build),
                    None,
                    None,
                    None
                )
                .as_deref(),
                Some(want)
            );
        }
        assert_eq!(
            family(None, None, None, Some("6.3"), None).as_deref(),
            Some("Windows 8.1")
        );
        assert_eq!(
            family(Some("Windows 8.1 Pro"), None, None, None, None).as_deref(),
            Some("Windows 8.1")
        );
        assert_eq!(
            family(Some("Windows 7 Ultimate N"), Some(1), None, None, None).as_deref(),
            Some("Windows 7")
        );
    }
}
