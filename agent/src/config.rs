//! The agent's configuration, carried on the boot media (`X:\Lifeboat\config.yaml`) and
//! read by `lifeboat auto`. The media builder validates with this same type, so media never
//! carry a config the agent would refuse. No password is ever part of it: share
//! credentials are asked at the console.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where stores go, in order of preference.
    #[serde(default = "default_destinations")]
    pub destinations: Vec<Destination>,
    /// Capture profiles (built-in names or files under the media's `Lifeboat\profiles`).
    #[serde(default = "default_profiles")]
    pub profiles: Vec<String>,
    /// `--users` patterns; empty = every real user.
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default = "default_compression")]
    pub compression: String,
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
fn default_compression() -> String {
    "lzx".into()
}
fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        serde_norway::from_str("{}").unwrap_or_else(|_| Config {
            destinations: default_destinations(),
            profiles: default_profiles(),
            users: Vec::new(),
            compression: default_compression(),
            unattended: false,
            continue_on_error: true,
            shutdown: false,
        })
    }
}

impl Config {
    /// Parses and checks a config; `profile_exists` says whether a named profile is there.
    pub fn parse(
        text: &str,
        source: &str,
        profile_exists: &dyn Fn(&str) -> bool,
    ) -> Result<Config, String> {
        let c: Config = serde_norway::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        c.compression
            .parse::<crate::wim::Compression>()
            .map_err(|e| format!("{source}: compression: {e}"))?;
        if c.destinations.is_empty() {
            return Err(format!("{source}: destinations: at least one is needed"));
        }
        for d in &c.destinations {
            if let Destination::Share { share: s } = d {
                if !s.starts_with("\\\\") {
                    return Err(format!(
                        "{source}: share \"{s}\" is not a UNC path (\\\\server\\share)"
                    ));
                }
            }
        }
        for p in &c.profiles {
            if !profile_exists(p) {
                return Err(format!(
                    "{source}: profile \"{p}\" is neither built in nor on the media"
                ));
            }
        }
        for u in &c.users {
            crate::plan::users::UserPattern::parse(u)
                .map_err(|e| format!("{source}: users: {e}"))?;
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
        let c = Config::parse("{}", "c", &any).unwrap();
        assert_eq!(c, Config::default());
        assert!(c.continue_on_error && !c.unattended);
        let c = Config::parse(
            "destinations:\n  - share: '\\\\srv\\captures'\nunattended: true\n",
            "c",
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
        ] {
            assert!(Config::parse(bad, "c", &any).is_err(), "{bad}");
        }
        assert!(
            Config::parse("profiles: [nope]", "c", &|p: &str| p == "user")
                .unwrap_err()
                .contains("nope")
        );
    }
}
