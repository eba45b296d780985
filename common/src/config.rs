//! The agent's configuration, carried on the boot media (`X:\Lifeboat\config.yaml`) and
//! read by `lifeboat auto`. The media builder validates with this same type, so media never
//! carry a config the agent would refuse. No password is ever part of it: share
//! credentials are asked at the console.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compression::CompressionChoice;
use crate::media_layout::MediaLayout;
use crate::users::UserPattern;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the config cannot be read: {0}")]
    Read(#[from] crate::fsread::ReadError),
    #[error("{}: {}", .path.display(), crate::shown::Shown(.reason))]
    Invalid { path: PathBuf, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the boot flow does: capture this machine's Windows, restore a store into it, or
    /// ask the technician which (`capture` is the default).
    #[serde(default)]
    pub mode: Mode,
    /// Where stores go (and, restoring, where they are looked for), in order of preference.
    #[serde(default = "default_destinations")]
    pub destinations: Vec<Destination>,
    /// Capture profiles (built-in names or files under the media's `Lifeboat\profiles`).
    #[serde(default = "default_profiles")]
    pub profiles: Vec<String>,
    /// `--users` patterns; empty = every real user.
    #[serde(default, with = "as_text")]
    pub users: Vec<UserPattern>,
    #[serde(default = "default_compression", with = "as_text")]
    pub compression: CompressionChoice,
    /// No questions at the console: failures end with a message and an exit code.
    #[serde(default)]
    pub unattended: bool,
    /// Skip unreadable files instead of stopping (ScanState /c).
    #[serde(default = "yes")]
    pub continue_on_error: bool,
    /// Shut the machine down after a complete capture.
    #[serde(default)]
    pub shutdown: bool,
}

/// `mode:` in the config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Capture,
    /// Restore the newest complete store for this computer (or a chosen one) into the
    /// Windows on this machine, files only (the offline restore).
    Restore,
    /// Ask "capture or restore?" at the console (unattended: capture).
    Ask,
}

/// One place a store may go; written in YAML as a one-key map (`- usb-label: LIFEBOAT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Destination {
    /// A volume with this label (default `LIFEBOAT`).
    UsbLabel {
        #[serde(rename = "usb-label")]
        usb_label: String,
    },
    /// A volume holding this file at its root.
    MarkerFile {
        #[serde(rename = "marker-file")]
        marker_file: String,
    },
    /// The store partition of the boot stick itself.
    BootStick {
        #[serde(rename = "boot-stick")]
        boot_stick: bool,
    },
    /// A network share (`\\server\share\folder`); credentials asked at the console.
    Share { share: String },
}

fn default_destinations() -> Vec<Destination> {
    vec![
        Destination::UsbLabel {
            usb_label: "LIFEBOAT".into(),
        },
        Destination::MarkerFile {
            marker_file: "lifeboat.store".into(),
        },
        Destination::BootStick { boot_stick: true },
    ]
}
fn default_profiles() -> Vec<String> {
    vec!["user".into()]
}
fn default_compression() -> CompressionChoice {
    CompressionChoice::Auto
}
fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Capture,
            destinations: default_destinations(),
            profiles: default_profiles(),
            users: Vec::new(),
            compression: default_compression(),
            unattended: false,
            continue_on_error: true,
            shutdown: false,
        }
    }
}

/// Fields written in YAML as text and held as their type (`FromStr` + `Display`).
mod as_text {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub trait Text: Sized {
        fn parse_text(s: &str) -> Result<Self, String>;
        fn text(&self) -> String;
    }

    impl<T: std::str::FromStr<Err = String> + std::fmt::Display> Text for T {
        fn parse_text(s: &str) -> Result<Self, String> {
            s.parse()
        }
        fn text(&self) -> String {
            self.to_string()
        }
    }

    pub fn serialize<T: Many, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        v.ser(s)
    }

    pub fn deserialize<'de, T: Many, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::de(d)
    }

    /// One value or a list of values.
    pub trait Many: Sized {
        fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
        fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
    }

    impl<T: Text> Many for Vec<T> {
        fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter().map(Text::text))
        }
        fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|t| T::parse_text(t).map_err(D::Error::custom))
                .collect()
        }
    }

    impl Many for crate::compression::CompressionChoice {
        fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
        fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            String::deserialize(d)?.parse().map_err(D::Error::custom)
        }
    }
}

impl Config {
    /// Reads the media's config (`X:\\Lifeboat\\config.yaml`); its profiles are the ones
    /// `builtin` knows and the files beside it.
    pub fn load(path: &Path, builtin: &dyn Fn(&str) -> bool) -> Result<Config, ConfigError> {
        let text = crate::fsread::read_text_bounded(path, crate::limits::YAML_MAX_BYTES)?;
        let media = MediaLayout::of_config(path);
        Config::parse(&text, path, &|p: &str| media.has_profile(p, builtin))
    }

    /// Parses and checks a config; `profile_exists` says whether a named profile is there.
    pub fn parse(
        text: &str,
        source: &Path,
        profile_exists: &dyn Fn(&str) -> bool,
    ) -> Result<Config, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            path: source.to_path_buf(),
            reason,
        };
        let c: Config = crate::bounded_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if c.destinations.is_empty() {
            return Err(invalid("destinations: at least one is needed".into()));
        }
        for d in &c.destinations {
            if let Destination::Share { share: s } = d {
                if !s.starts_with("\\\\") {
                    return Err(invalid(format!(
                        "share \"{s}\" is not a UNC path (\\\\server\\share)"
                    )));
                }
            }
        }
        for p in &c.profiles {
            if !profile_exists(p) {
                return Err(invalid(format!(
                    "profile \"{p}\" is neither built in nor on the media"
                )));
            }
        }
        Ok(c)
    }

    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let any = |_: &str| true;
        let src = Path::new("c");
        let c = Config::parse("{}", src, &any).unwrap();
        assert_eq!(c, Config::default());
        assert!(c.continue_on_error && !c.unattended);
        assert_eq!(c.compression, CompressionChoice::Auto);
        // Typed fields go back to the same text.
        let c = Config::parse(
            "users: ['!*\\\\guest', ann]\ncompression: xpress\n",
            src,
            &any,
        )
        .unwrap();
        assert_eq!(c.users.len(), 2);
        assert!(c.users[0].exclude);
        assert_eq!(Config::parse(&c.to_yaml(), src, &any).unwrap(), c);
        let c = Config::parse(
            "destinations:\n  - share: '\\\\srv\\captures'\nunattended: true\n",
            src,
            &any,
        )
        .unwrap();
        assert_eq!(
            c.destinations,
            vec![Destination::Share {
                share: "\\\\srv\\captures".into()
            }]
        );
        for bad in [
            "colour: red",
            "destinations:\n  - usb: X",
            "compression: zip",
            "destinations: []",
            "destinations:\n  - share: srv/x",
            "users: ['!']",
            "mode: both",
        ] {
            assert!(Config::parse(bad, src, &any).is_err(), "{bad}");
        }
        assert!(
            Config::parse("profiles: [nope]", src, &|p: &str| p == "user")
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
        let deep = format!("users: {}", "[".repeat(100_000));
        let e = Config::parse(&deep, Path::new("config.yaml"), &any)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("config.yaml: line 1: nested"), "{e}");
    }
}
