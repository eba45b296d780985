//! `lifeboat auto` restoring (`mode: restore`, or the technician's answer to `mode: ask`):
//! from WinPE this is the offline restore, files into the profiles of the Windows on this
//! machine, from the newest complete store for this computer name on the destination, or
//! one the technician picks (`job::prepare_restore`).

use super::{exit, output};
use crate::config::Config;
use crate::console::{banner, say};
use crate::detect::DetectOptions;
use crate::job::{self, Choose, JobError};
use crate::restore::offline::OfflineTarget;
use crate::restore::{self, RestoreOptions};

/// Restores the chosen store into the Windows found here and returns the exit code.
pub fn run(config: &Config, detect: &DetectOptions, choose: &mut Choose<'_>) -> i32 {
    let chosen = match job::prepare_restore(detect, choose) {
        Ok(c) => c,
        Err(e) => {
            banner(match e {
                JobError::NoDestination { .. } | JobError::BadDestination { .. } => {
                    "NOTHING RESTORED: no place with stores found"
                }
                JobError::NoStore { .. } => "NOTHING RESTORED: no store for this computer",
                _ => "NOTHING RESTORED: no Windows chosen to restore into",
            });
            say(&e.to_string());
            return exit::job(&e);
        }
    };
    say(&format!(
        "Restoring {} into {} (files; settings are left in each profile)",
        chosen.store.display(),
        chosen.installation.installation.windir
    ));
    let opts = RestoreOptions {
        store: chosen.store,
        continue_on_error: config.continue_on_error,
        ..Default::default()
    };
    let mut target = OfflineTarget::from_inspected(chosen.installation);
    match restore::restore(&opts, &mut target) {
        Ok(r) => {
            let code = output::finish(exit::restored(&r), &r.summary(false));
            if config.shutdown {
                if let Err(e) = crate::platform::shutdown() {
                    say(&format!("warning: cannot shut down: {e}"));
                }
            }
            code
        }
        Err(e) => {
            banner("RESTORE FAILED");
            say(&e.to_string());
            exit::restore(&e)
        }
    }
}
