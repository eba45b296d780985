//! The recovery key asked at the console for a BitLocker-locked volume (the boot flow):
//! the volume and its recovery key ID shown as Windows shows them, the key typed in one go
//! or group by group, each group checked as it comes (the bad one named and typed again),
//! a few tries. What is typed is held in zeroized memory and never repeated.

use lifeboat_volume::bitlocker::{Keys, RecoveryPassword};
use zeroize::Zeroizing;

use crate::console;
use crate::detect::model::{RootState, ScannedRoot};

/// Rounds of asking: a volume the keys typed still do not open is asked for again.
pub const KEY_ROUNDS: usize = 3;
/// Mistyped groups forgiven in one key before it is given up.
const GROUP_TRIES: usize = 5;
const GROUPS: usize = 8;

/// The volumes a recovery key would open: locked by BitLocker, not opened by the keys given.
pub fn locked(scanned: &[ScannedRoot]) -> Vec<&ScannedRoot> {
    scanned
        .iter()
        .filter(|s| s.state == RootState::Locked)
        .filter(|s| s.encryption.as_ref().is_some_and(|e| !e.unlocked))
        .collect()
}

/// Asks for a recovery key for each locked volume; `None` when none was typed.
pub fn ask(locked: &[&ScannedRoot]) -> Option<Keys> {
    let mut keys = Keys::new();
    for s in locked {
        console::say(&format!("\n{} is locked by BitLocker.", s.root));
        let ids: Vec<String> = s
            .encryption
            .iter()
            .flat_map(|e| &e.protectors)
            .filter(|p| p.is_recovery_password())
            .map(|p| format!("Recovery key ID: {} (full ID {})", p.short_id, p.id))
            .collect();
        for id in &ids {
            console::say(&format!("  {id}"));
        }
        console::say(
            "  Find the 48-digit recovery key with this ID in the Microsoft account \
             (aka.ms/myrecoverykey), Entra ID or Active Directory.",
        );
        if let Some(text) = ask_key() {
            if let Err(e) = keys.add_recovery_password(&text) {
                console::say(&format!("  {e}"));
            }
        }
    }
    (!keys.is_empty()).then_some(keys)
}

/// One recovery key, typed whole or group by group; `None` when skipped or given up.
fn ask_key() -> Option<Zeroizing<String>> {
    let mut typed = Zeroizing::new(String::new());
    let mut mistakes = 0;
    loop {
        let done = RecoveryPassword::check_typed(&typed).unwrap_or(0);
        let prompt = if done == 0 {
            "Recovery key (Enter to skip this volume): ".to_string()
        } else {
            format!("  group {} of {GROUPS}: ", done + 1)
        };
        let line = Zeroizing::new(console::ask(&prompt)?);
        if line.is_empty() && done == 0 {
            return None;
        }
        let mut candidate = Zeroizing::new(typed.to_string());
        if !candidate.is_empty() {
            candidate.push('-');
        }
        candidate.push_str(line.trim().trim_matches('-'));
        match RecoveryPassword::check_typed(&candidate) {
            Ok(GROUPS) => return Some(candidate),
            Ok(_) => typed = keep_groups(&candidate, GROUPS),
            Err(e) => {
                console::say(&format!("  {e}; type it again from there"));
                mistakes += 1;
                if mistakes >= GROUP_TRIES {
                    console::say("  too many mistakes; this volume is skipped");
                    return None;
                }
                let good = RecoveryPassword::check_typed(&typed).unwrap_or(0);
                typed = keep_groups(&typed, good);
            }
        }
    }
}

/// The first `n` complete groups of what was typed, dash-separated.
fn keep_groups(text: &str, n: usize) -> Zeroizing<String> {
    let digits: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(char::is_ascii_digit).collect());
    let mut out = Zeroizing::new(String::new());
    for (i, chunk) in digits.as_bytes().chunks(6).take(n).enumerate() {
        if chunk.len() < 6 {
            break;
        }
        if i > 0 {
            out.push('-');
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_groups_are_kept_and_a_partial_one_dropped() {
        assert_eq!(
            keep_groups("284867-596541-5149", 8).as_str(),
            "284867-596541"
        );
        assert_eq!(keep_groups("284867596541", 1).as_str(), "284867");
        assert_eq!(keep_groups("", 8).as_str(), "");
    }
}
