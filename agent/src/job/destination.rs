//! Finding where a store goes from the media's config, in its order: a volume labelled
//! `LIFEBOAT`, a volume with a marker file, the boot stick, a network share — never the
//! source's own volume.

use std::path::{Path, PathBuf};

use super::JobError;
use crate::config::Destination;
use crate::console;
use crate::platform;

/// The first destination of `places` that is there. `ask`: share credentials may be asked
/// at the console (the password without echo, never stored or logged; three tries).
pub fn find(places: &[Destination], source_root: &Path, ask: bool) -> Result<PathBuf, JobError> {
    let volumes = platform::list_volumes();
    let source_vol = platform::volume_for_path(source_root).map(|v| v.root);
    let usable =
        |root: &PathBuf| Some(root) != source_vol.as_ref() && root.as_path() != source_root;
    let mut tried = Vec::new();
    for d in places {
        match d {
            Destination::UsbLabel { usb_label } => {
                let found = volumes.iter().find(|v| {
                    v.label
                        .as_deref()
                        .is_some_and(|l| l.eq_ignore_ascii_case(usb_label))
                        && usable(&v.root)
                });
                match found {
                    Some(v) => return Ok(v.root.clone()),
                    None => tried.push(format!("no volume labelled {usb_label}")),
                }
            }
            Destination::MarkerFile { marker_file } => {
                let found = volumes
                    .iter()
                    .find(|v| v.root.join(marker_file).is_file() && usable(&v.root));
                match found {
                    Some(v) => return Ok(v.root.clone()),
                    None => tried.push(format!("no volume with {marker_file} at its root")),
                }
            }
            Destination::BootStick { boot_stick: true } => {
                let boot = platform::volumes_to_skip()
                    .into_iter()
                    .find(|(root, role)| role.is_boot_media() && usable(root));
                match boot {
                    Some((root, _)) => return Ok(root),
                    None => tried.push("the boot stick is not writable here".into()),
                }
            }
            Destination::BootStick { boot_stick: false } => {}
            Destination::Share { share } => match connect(share, ask) {
                Ok(p) => return Ok(p),
                Err(e) => tried.push(e),
            },
        }
    }
    Err(JobError::NoDestination { tried })
}

/// A share already reachable (mapped, or open to this session) is used as it is; otherwise
/// it is connected with credentials asked at the console.
fn connect(share: &str, ask: bool) -> Result<PathBuf, String> {
    let reachable = PathBuf::from(share);
    if reachable.is_dir() {
        return Ok(reachable);
    }
    if !ask {
        return platform::connect_share(share, "", "");
    }
    let mut last = String::new();
    for attempt in 1..=3 {
        let Some(user) = console::ask(&format!("User name for {share} (DOMAIN\\user): ")) else {
            break;
        };
        console::say_part("Password (not shown): ");
        let password = platform::read_secret().map_err(|e| e.to_string())?;
        match platform::connect_share(share, &user, &password) {
            Ok(p) => return Ok(p),
            Err(e) => {
                console::say(&format!("  attempt {attempt} of 3: {e}"));
                last = e;
            }
        }
    }
    Err(if last.is_empty() {
        format!("{share}: no credentials were given")
    } else {
        last
    })
}
