//! Installed applications from the Uninstall keys, so a technician knows what to reinstall
//! on the new machine.

use crate::hive::{Key, LoadedHive};

use super::model::{AppView, Application};

const UNINSTALL: &str = r"Microsoft\Windows\CurrentVersion\Uninstall";

/// Machine-wide applications: the native view, and on 64-bit systems the 32-bit view
/// under `WOW6432Node`.
pub fn machine_apps(software: &LoadedHive, is_64bit: bool) -> Vec<Application> {
    let mut apps = Vec::new();
    let native = if is_64bit {
        AppView::Bits64
    } else {
        AppView::Bits32
    };
    if let Some(k) = software.key(UNINSTALL) {
        collect(&k, native, &mut apps);
    }
    if let Some(k) = software.key(&format!(r"WOW6432Node\{UNINSTALL}")) {
        collect(&k, AppView::Bits32, &mut apps);
    }
    finish(apps)
}

/// Per-user installs (`HKCU\Software\...\Uninstall` in the user's NTUSER.DAT).
pub fn user_apps(ntuser: &LoadedHive) -> Vec<Application> {
    let mut apps = Vec::new();
    if let Some(k) = ntuser.key(&format!(r"Software\{UNINSTALL}")) {
        collect(&k, AppView::User, &mut apps);
    }
    finish(apps)
}

fn collect(uninstall: &Key<'_>, view: AppView, out: &mut Vec<Application>) {
    for k in uninstall.subkeys() {
        let Some(name) = k
            .string("DisplayName")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        // Updates and components are not things a technician reinstalls.
        if k.dword("SystemComponent") == Some(1) || k.string("ParentKeyName").is_some() {
            continue;
        }
        if k.string("ReleaseType")
            .is_some_and(|t| t.contains("Update") || t.contains("Hotfix"))
        {
            continue;
        }
        out.push(Application {
            name,
            version: k
                .string("DisplayVersion")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            publisher: k
                .string("Publisher")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            view,
        });
    }
}

fn finish(mut apps: Vec<Application>) -> Vec<Application> {
    apps.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.view.cmp(&b.view))
            .then(a.version.cmp(&b.version))
    });
    apps.dedup();
    apps
}
