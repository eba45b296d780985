//! The options every command that reads volumes takes (detect, capture, auto, rules
//! explain; image takes the keys alone): `--raw`, and the keys for BitLocker-locked volumes. A key given here is
//! turned into what BitLocker uses at once and held in zeroized memory; it is never echoed,
//! logged or kept in an error: errors name the option, the group or the line, never the
//! text.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use lifeboat_volume::bitlocker::{BekError, Keys, RecoveryPasswordError};
use zeroize::Zeroizing;

use crate::detect::scan::ScanOptions;
use crate::volume::rescue::{Rescue, RescueSpec};

#[derive(Args, Debug, Default, Clone)]
pub struct VolumeArgs {
    /// Read mounted volumes through Lifeboat's own NTFS reader rather than the system's
    /// (a volume Windows refuses to mount or wants to check with chkdsk).
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// The keys for BitLocker-locked volumes (also `lifeboat image`'s, which has no `--raw`).
#[derive(Args, Debug, Default, Clone)]
pub struct KeyArgs {
    /// A BitLocker recovery password (48 digits, as 8 groups of 6): tried on every locked
    /// volume. May be given more than once.
    #[arg(long = "recovery-password", value_name = "KEY")]
    pub recovery_passwords: Vec<Secret>,
    /// A BitLocker startup or recovery key file (.BEK, from the USB key or the Microsoft
    /// account). May be given more than once.
    #[arg(long = "startup-key", value_name = "FILE.BEK")]
    pub startup_keys: Vec<PathBuf>,
    /// Ask for a BitLocker password at the console (read from standard input when it is
    /// not a terminal).
    #[arg(long = "bitlocker-password")]
    pub bitlocker_password: bool,
    /// A file of BitLocker recovery passwords, one a line (blank lines and lines starting
    /// with # are ignored): an imaging team's batch.
    #[arg(long = "keys", value_name = "FILE")]
    pub keys_file: Option<PathBuf>,
}

/// Reading a failing disk (detect, capture, auto, rules explain): a disk or image ROOT read
/// with GNU ddrescue's discipline, sharing its map and rescued bytes with `lifeboat image`.
#[derive(Args, Debug, Default, Clone)]
pub struct RescueArgs {
    /// Read a disk or image ROOT as `lifeboat image` does, keeping GNU ddrescue's mapfile
    /// here: every read bounded in time, a bad sector named and never waited on, a good one
    /// read once. The same map as `lifeboat image DISK OUT --map MAP`: neither reads again
    /// what the other rescued.
    #[arg(long, value_name = "MAP")]
    pub map: Option<PathBuf>,
    /// Where the bytes read are kept, at the disk's offsets (lifeboat image's OUT)
    /// [default: MAP without its .map ending, else MAP.img].
    #[arg(long = "rescue-image", value_name = "FILE", requires = "map")]
    pub rescue_image: Option<PathBuf>,
    /// With --map: stop reading the disk after this many seconds; what is not read by
    /// then is reported lost (the next run goes on from the map).
    #[arg(long = "rescue-time", value_name = "SECONDS", value_parser = seconds, requires = "map")]
    pub rescue_time: Option<Duration>,
    /// With --map: a read the disk has not answered in this long counts as failed.
    #[arg(long = "read-timeout", value_name = "SECONDS", value_parser = some_seconds, default_value = "30")]
    pub read_timeout: Duration,
}

impl RescueArgs {
    /// The rescue asked for, if any.
    pub fn rescue(&self) -> Option<Arc<Rescue>> {
        let map = self.map.clone()?;
        Some(Arc::new(Rescue::new(RescueSpec {
            map,
            image: self.rescue_image.clone(),
            max_time: self.rescue_time,
            read_timeout: self.read_timeout,
            command_line: redacted_args().join(" "),
        })))
    }
}

/// A number of seconds (decimals allowed), at most a year.
pub fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(0.0..=365.0 * 86_400.0).contains(&v) {
        return Err(format!("`{s}`: give 0 to 31536000 seconds"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// A number of seconds more than 0 (a read given no time at all would never be waited
/// for: everything would be lost).
fn some_seconds(s: &str) -> Result<Duration, String> {
    match seconds(s)? {
        d if d.is_zero() => Err("give more than 0 seconds".into()),
        d => Ok(d),
    }
}

/// A secret given on the command line: kept in zeroized memory, never shown.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(Zeroizing::new(s.to_string())))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[not shown]")
    }
}

/// Why the keys given cannot be used. Never holds a key's text.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("--recovery-password (the {nth} given): {source}")]
    RecoveryPassword {
        nth: usize,
        #[source]
        source: RecoveryPasswordError,
    },
    #[error("--keys {}: line {line}: {source}", .path.display())]
    KeysLine {
        path: PathBuf,
        line: usize,
        #[source]
        source: RecoveryPasswordError,
    },
    #[error("--keys {}: {source}", .path.display())]
    KeysFile {
        path: PathBuf,
        #[source]
        source: crate::fsread::ReadError,
    },
    #[error("--startup-key: {0}")]
    StartupKey(#[from] BekError),
    #[error("--bitlocker-password: nothing could be read from the console: {0}")]
    Console(std::io::Error),
}

/// The program's arguments as they may be recorded (a manifest, a log): the value of
/// `--recovery-password`, however given, replaced.
pub fn redacted_args() -> Vec<String> {
    redact(std::env::args())
}

fn redact(args: impl Iterator<Item = String>) -> Vec<String> {
    const SECRET: &str = "--recovery-password";
    let mut out = Vec::new();
    let mut hide_next = false;
    for a in args {
        if std::mem::take(&mut hide_next) {
            out.push("(not shown)".into());
        } else if a == SECRET {
            hide_next = true;
            out.push(a);
        } else if a.starts_with(&format!("{SECRET}=")) {
            out.push(format!("{SECRET}=(not shown)"));
        } else {
            out.push(a);
        }
    }
    out
}

/// A keys file holds recovery passwords, one a line: a batch of thousands is a few hundred
/// KB.
const KEYS_FILE_MAX_BYTES: u64 = 16 << 20;

impl VolumeArgs {
    /// The scan's options with every key given, read and checked; the password asked now.
    pub fn scan_options(&self) -> Result<ScanOptions, KeyError> {
        Ok(ScanOptions {
            raw: self.raw,
            keys: Arc::new(self.keys.keys()?),
            rescue: None,
        })
    }
}

impl KeyArgs {
    /// Whether any key was given.
    pub fn any(&self) -> bool {
        !self.recovery_passwords.is_empty()
            || !self.startup_keys.is_empty()
            || self.bitlocker_password
            || self.keys_file.is_some()
    }

    /// Every key given, read and checked; the password asked now.
    pub fn keys(&self) -> Result<Keys, KeyError> {
        let mut keys = Keys::new();
        for (i, r) in self.recovery_passwords.iter().enumerate() {
            keys.add_recovery_password(&r.0)
                .map_err(|source| KeyError::RecoveryPassword { nth: i + 1, source })?;
        }
        for f in &self.startup_keys {
            keys.add_startup_key_file(f)?;
        }
        if let Some(path) = &self.keys_file {
            read_keys_file(path, &mut keys)?;
        }
        if self.bitlocker_password {
            crate::console::say_part("BitLocker password: ");
            let text = Zeroizing::new(crate::platform::read_secret().map_err(KeyError::Console)?);
            keys.add_password(&text);
        }
        Ok(keys)
    }
}

fn read_keys_file(path: &std::path::Path, keys: &mut Keys) -> Result<(), KeyError> {
    let text = Zeroizing::new(
        crate::fsread::read_text_bounded(path, KEYS_FILE_MAX_BYTES).map_err(|source| {
            KeyError::KeysFile {
                path: path.to_path_buf(),
                source,
            }
        })?,
    );
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        keys.add_recovery_password(line)
            .map_err(|source| KeyError::KeysLine {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "284867-596541-514998-422114-660297-261613-215424-199408";

    #[test]
    fn a_mistyped_group_is_named_and_the_key_never_shown() {
        let mut bad = KEY.to_string();
        bad.replace_range(7..8, "6"); // group 2: 696541 is not a multiple of 11
        let args = VolumeArgs {
            keys: KeyArgs {
                recovery_passwords: vec![KEY.parse().unwrap(), bad.parse().unwrap()],
                ..Default::default()
            },
            ..Default::default()
        };
        let e = args.scan_options().unwrap_err();
        let shown = format!("{e} {e:?} {args:?}");
        assert!(
            shown.contains("the 2 given") && shown.contains("group 2"),
            "{shown}"
        );
        assert!(
            !shown.contains("596541") && !shown.contains("696541"),
            "{shown}"
        );
    }

    #[test]
    fn a_recovery_password_is_never_recorded() {
        let args = [
            "lifeboat",
            "capture",
            "--recovery-password",
            KEY,
            "--dest",
            "x",
        ];
        let shown = redact(args.iter().map(|s| s.to_string())).join(" ");
        assert_eq!(
            shown,
            "lifeboat capture --recovery-password (not shown) --dest x"
        );
        let args = ["lifeboat", &format!("--recovery-password={KEY}")];
        let shown = redact(args.iter().map(|s| s.to_string())).join(" ");
        assert_eq!(shown, "lifeboat --recovery-password=(not shown)");
    }

    #[test]
    fn a_keys_file_names_the_bad_line_and_skips_comments() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("keys.txt");
        std::fs::write(&f, format!("# batch 7\n\n{KEY}\n123456-\n")).unwrap();
        let e = KeyArgs {
            keys_file: Some(f.clone()),
            ..Default::default()
        }
        .keys()
        .unwrap_err();
        assert!(matches!(e, KeyError::KeysLine { line: 4, .. }), "{e}");
        assert!(!e.to_string().contains("123456"), "{e}");
        std::fs::write(&f, format!("# batch 7\n{KEY}\n")).unwrap();
        let keys = KeyArgs {
            keys_file: Some(f),
            ..Default::default()
        }
        .keys()
        .unwrap();
        assert!(!keys.is_empty());
    }
}
