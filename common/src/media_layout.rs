//! Where things sit on the boot media: the folder `X:\Lifeboat` with the agent, its config,
//! the profiles, drivers, the technician's menu and the notes. The media builder writes
//! this layout and `lifeboat auto` reads it; both use this one type.

use std::path::{Path, PathBuf};

/// The agent's folder at the root of the WinPE image (`X:\Lifeboat` at boot).
pub const AGENT_DIR: &str = "Lifeboat";
pub const AGENT_EXE: &str = "lifeboat.exe";
pub const CONFIG_FILE: &str = "config.yaml";
pub const PROFILES_DIR: &str = "profiles";
pub const DRIVERS_DIR: &str = "drivers";
pub const MENU_FILE: &str = "lifeboat-menu.cmd";
pub const NOTES_FILE: &str = "MEDIA-NOTES.txt";
/// Extensions a profile on the media may have, in the order they are looked for.
pub const PROFILE_EXTENSIONS: [&str; 3] = ["yaml", "yml", "xml"];

/// The agent's folder on a medium (or a staging folder that becomes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLayout {
    dir: PathBuf,
}

impl MediaLayout {
    pub fn new(dir: impl Into<PathBuf>) -> MediaLayout {
        MediaLayout { dir: dir.into() }
    }

    /// The layout a config file belongs to (its folder; `.` for a bare file name).
    pub fn of_config(config: &Path) -> MediaLayout {
        MediaLayout::new(
            config
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn agent(&self) -> PathBuf {
        self.dir.join(AGENT_EXE)
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }
    pub fn profiles(&self) -> PathBuf {
        self.dir.join(PROFILES_DIR)
    }
    pub fn drivers(&self) -> PathBuf {
        self.dir.join(DRIVERS_DIR)
    }
    pub fn menu(&self) -> PathBuf {
        self.dir.join(MENU_FILE)
    }
    pub fn notes(&self) -> PathBuf {
        self.dir.join(NOTES_FILE)
    }

    /// The media's own file for profile `name` (`profiles\NAME.yaml`, `.yml` or `.xml`).
    pub fn profile_file(&self, name: &str) -> Option<PathBuf> {
        PROFILE_EXTENSIONS
            .iter()
            .map(|e| self.profiles().join(format!("{name}.{e}")))
            .find(|p| p.is_file())
    }

    /// What a profile name in the config means on this medium: a built-in profile (one
    /// `builtin` knows), the media's own file of that name, or a file path given as it is.
    pub fn resolve_profile(&self, name: &str, builtin: &dyn Fn(&str) -> bool) -> String {
        if builtin(name) {
            return name.to_string();
        }
        self.profile_file(name)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| name.to_string())
    }

    /// Whether a profile name in the config is built in (`builtin` says) or can be found on
    /// this medium.
    pub fn has_profile(&self, name: &str, builtin: &dyn Fn(&str) -> bool) -> bool {
        builtin(name) || Path::new(name).is_file() || self.profile_file(name).is_some()
    }
}

/// `%SystemDrive%\Lifeboat\…` as the boot scripts write it (`drive` is `%SystemDrive%`
/// or `%SYSTEMDRIVE%`, as the script it goes into spells it).
pub fn boot_path(drive: &str, file: &str) -> String {
    format!("{drive}\\{AGENT_DIR}\\{file}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_profiles_on_the_media() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaLayout::new(dir.path());
        std::fs::create_dir_all(media.profiles()).unwrap();
        std::fs::write(media.profiles().join("mine.xml"), "<migration/>").unwrap();
        let builtin = |n: &str| n == "user";
        assert_eq!(media.resolve_profile("user", &builtin), "user");
        assert_eq!(
            media.resolve_profile("mine", &builtin),
            media.profiles().join("mine.xml").display().to_string()
        );
        assert!(media.has_profile("mine", &builtin) && !media.has_profile("theirs", &builtin));
        assert!(media.has_profile("user", &builtin));
        assert_eq!(MediaLayout::of_config(&media.config()).dir(), media.dir());
        assert_eq!(
            boot_path("%SystemDrive%", CONFIG_FILE),
            r"%SystemDrive%\Lifeboat\config.yaml"
        );
    }
}
