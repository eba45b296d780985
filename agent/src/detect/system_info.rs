//! What an installation is: version and edition from SOFTWARE, computer name and processor
//! architecture from SYSTEM, cross-checked against the kernel binary's PE header.

use std::path::Path;

use crate::hive::LoadedHive;
use crate::pe::{self, Arch};

use super::model::ArchEvidence;
use crate::winpath::resolve_ci;

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

/// Windows 11 still calls itself "Windows 10" in ProductName; build 22000 is its first.
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
    if let Some(b) = build {
        if b >= 22000 {
            return Some("Windows 11".into());
        }
        if b >= 10240 || major == Some(10) {
            return Some("Windows 10".into());
        }
    }
    let named = match current_version? {
        "6.3" => "Windows 8.1",
        "6.2" => "Windows 8",
        "6.1" => "Windows 7",
        "6.0" => "Windows Vista",
        "5.1" | "5.2" => "Windows XP",
        _ => return product.map(str::to_string),
    };
    Some(named.into())
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

/// Architecture from the kernel's PE header, checked against the registry; a
/// `MIG_OFFLINE_PLATFORM_ARCH` of 32 or 64 overrides both, as in USMT.
pub fn architecture(
    windir: &Path,
    registry: Option<Arch>,
    override_bits: Option<u32>,
) -> (Option<Arch>, ArchEvidence, Option<String>) {
    let mut problem = None;
    let kernel = match resolve_ci(windir, r"System32\ntoskrnl.exe") {
        Some(path) => match pe::arch_of_file(&path) {
            Ok(a) => Some(a),
            Err(e) => {
                problem = Some(e.to_string());
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
    }
}
