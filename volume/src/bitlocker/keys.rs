//! The keys a technician gives: 48-digit recovery passwords, passwords, and startup or
//! recovery key files (`.BEK`). Each is turned at once into what BitLocker stretches or
//! uses (a SHA-256 hash, a 256-bit key) and held in zeroized memory; the text typed is not
//! kept. No `Debug` or error here shows a key: they count keys and name groups by number.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::crypt::Key32;
use super::entry::{self, Entries, VALUE_EXTERNAL_KEY, VALUE_KEY};
use super::info::Guid;
use crate::le::u32_at;

/// Groups of a recovery password, and digits in each.
const GROUPS: usize = 8;
const GROUP_DIGITS: usize = 6;
/// Each group is 11 times a 16-bit number.
const GROUP_LIMIT: u32 = 11 << 16;

/// Why text is not a recovery password. Groups are counted from 1, as printed on the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryPasswordError {
    #[error("a recovery password holds only digits and dashes")]
    NotDigits,
    #[error("group {group} of the recovery password does not have 6 digits")]
    GroupLength { group: usize },
    #[error("a recovery password has 48 digits in 8 groups of 6; this has {digits} digits")]
    Length { digits: usize },
    #[error("group {group} of the recovery password is mistyped: each group divides by 11")]
    NotMultipleOf11 { group: usize },
    #[error("group {group} of the recovery password is mistyped: each group is below 720896")]
    TooLarge { group: usize },
}

/// A recovery password, held as the SHA-256 of its 128-bit key.
#[derive(Clone)]
pub struct RecoveryPassword {
    pub(crate) hash: Key32,
}

impl RecoveryPassword {
    /// Parses 48 digits, in 8 dash-separated groups or run together; spaces around are
    /// ignored. Each group is checked as Windows checks it.
    pub fn parse(text: &str) -> Result<RecoveryPassword, RecoveryPasswordError> {
        let text = text.trim();
        let groups = groups(text)?;
        let short = groups.iter().position(|g| g.len() != GROUP_DIGITS);
        if let (true, Some(i)) = (text.contains('-'), short) {
            return Err(RecoveryPasswordError::GroupLength { group: i + 1 });
        }
        if groups.len() != GROUPS || short.is_some() {
            let digits = groups.iter().map(|g| g.len()).sum();
            return Err(RecoveryPasswordError::Length { digits });
        }
        let mut key = Zeroizing::new([0u8; 16]);
        for (i, g) in groups.iter().enumerate() {
            let v = group_value(g, i + 1)?;
            key[2 * i..2 * i + 2].copy_from_slice(&((v / 11) as u16).to_le_bytes());
        }
        Ok(RecoveryPassword {
            hash: sha256(&key[..]),
        })
    }

    /// Checks text as it is typed: every complete group must be valid. Returns how many
    /// groups are complete, so a prompt can say "group 3 of 8".
    pub fn check_typed(text: &str) -> Result<usize, RecoveryPasswordError> {
        let groups = groups(text.trim())?;
        let mut complete = 0;
        for (i, g) in groups.iter().enumerate() {
            if i >= GROUPS {
                let digits = groups.iter().map(|g| g.len()).sum();
                return Err(RecoveryPasswordError::Length { digits });
            }
            match g.len() {
                GROUP_DIGITS => {
                    group_value(g, i + 1)?;
                    complete += 1;
                }
                n if n > GROUP_DIGITS || i + 1 < groups.len() => {
                    return Err(RecoveryPasswordError::GroupLength { group: i + 1 })
                }
                _ => {}
            }
        }
        Ok(complete)
    }
}

/// The groups of digits: split at dashes, or every 6 digits when there is no dash.
fn groups(text: &str) -> Result<Vec<Zeroizing<String>>, RecoveryPasswordError> {
    if !text.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Err(RecoveryPasswordError::NotDigits);
    }
    if text.contains('-') {
        let gs: Vec<_> = text
            .split('-')
            .map(|g| Zeroizing::new(g.to_string()))
            .collect();
        // "123456-" while typing: the empty last group is the one being typed.
        for (i, g) in gs.iter().enumerate() {
            if g.is_empty() && i + 1 < gs.len() {
                return Err(RecoveryPasswordError::GroupLength { group: i + 1 });
            }
        }
        return Ok(gs);
    }
    Ok(text
        .as_bytes()
        .chunks(GROUP_DIGITS)
        .map(|c| Zeroizing::new(String::from_utf8_lossy(c).into_owned()))
        .collect())
}

fn group_value(g: &str, group: usize) -> Result<u32, RecoveryPasswordError> {
    let v: u32 = g.parse().map_err(|_| RecoveryPasswordError::NotDigits)?;
    if v % 11 != 0 {
        return Err(RecoveryPasswordError::NotMultipleOf11 { group });
    }
    if v >= GROUP_LIMIT {
        return Err(RecoveryPasswordError::TooLarge { group });
    }
    Ok(v)
}

fn sha256(data: &[u8]) -> Key32 {
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&Sha256::digest(data));
    out
}

/// A password, held as Windows hashes it before the stretch: SHA-256 of the SHA-256 of its
/// UTF-16LE text.
#[derive(Clone)]
pub struct Password {
    pub(crate) hash: Key32,
}

impl Password {
    pub fn new(text: &str) -> Password {
        let utf16 = Zeroizing::new(
            text.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        );
        Password {
            hash: sha256(&sha256(&utf16)[..]),
        }
    }
}

/// Bytes of a `.BEK` file read at most. Windows writes 156 bytes.
pub const BEK_MAX: usize = 64 << 10;

/// Why a file is not a startup or recovery key.
#[derive(Debug, thiserror::Error)]
pub enum BekError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: not a BitLocker key file (.BEK): {what}")]
    NotBek { name: String, what: &'static str },
}

/// A startup or recovery key from a `.BEK` file: its ID (the protector it opens, and the
/// file's name) and its 256-bit key.
#[derive(Clone)]
pub struct StartupKey {
    pub id: Guid,
    pub(crate) key: Key32,
}

impl StartupKey {
    /// Reads `path` (at most [`BEK_MAX`] bytes).
    pub fn from_file(path: &Path) -> Result<StartupKey, BekError> {
        use std::io::Read;
        let io = |source| BekError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = Zeroizing::new(Vec::new());
        std::fs::File::open(path)
            .map_err(io)?
            .take(BEK_MAX as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        StartupKey::parse(&path.display().to_string(), &bytes)
    }

    /// Parses a `.BEK` file's bytes: a dataset header like the metadata's, then entries, one
    /// of which is an external key (GUID, time, and a nested 256-bit key). Windows 7 to 11
    /// write a description entry beside the key; the key is found whatever else is there.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<StartupKey, BekError> {
        let not = |what| BekError::NotBek {
            name: name.to_string(),
            what,
        };
        if bytes.len() > BEK_MAX {
            return Err(not("it is larger than any key file"));
        }
        let size = u32_at(bytes, 0).ok_or(not("it is too short"))? as usize;
        let start = u32_at(bytes, 8).ok_or(not("it is too short"))? as usize;
        if u32_at(bytes, 4) != Some(1) || size > bytes.len() || !(48..=size).contains(&start) {
            return Err(not("its header is not a key file's"));
        }
        Entries::new(&bytes[start..size])
            .map_while(Result::ok)
            .filter(|e| e.value == VALUE_EXTERNAL_KEY)
            .find_map(|e| {
                let id = Guid(e.data.get(..16)?.try_into().ok()?);
                let k = e.property(24, VALUE_KEY)?;
                let (_, raw) = entry::key_of(&k)?;
                let mut key = Zeroizing::new([0u8; 32]);
                key.copy_from_slice(raw.get(..32)?);
                Some(StartupKey { id, key })
            })
            .ok_or(not("it holds no external key"))
    }
}

/// The keys given for the locked volumes: each is tried on every protector of its kind.
/// The clear key of a suspended volume needs none of them.
#[derive(Default, Clone)]
pub struct Keys {
    pub(crate) recovery: Vec<RecoveryPassword>,
    pub(crate) passwords: Vec<Password>,
    pub(crate) startup: Vec<StartupKey>,
}

impl Keys {
    pub fn new() -> Keys {
        Keys::default()
    }

    pub fn add_recovery_password(&mut self, text: &str) -> Result<(), RecoveryPasswordError> {
        self.recovery.push(RecoveryPassword::parse(text)?);
        Ok(())
    }

    pub fn add_password(&mut self, text: &str) {
        self.passwords.push(Password::new(text));
    }

    pub fn add_startup_key(&mut self, key: StartupKey) {
        self.startup.push(key);
    }

    pub fn add_startup_key_file(&mut self, path: &Path) -> Result<(), BekError> {
        self.startup.push(StartupKey::from_file(path)?);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.recovery.is_empty() && self.passwords.is_empty() && self.startup.is_empty()
    }

    /// Every key of `other` added to these.
    pub fn merge(&mut self, other: Keys) {
        self.recovery.extend(other.recovery);
        self.passwords.extend(other.passwords);
        self.startup.extend(other.startup);
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Keys {{ recovery passwords: {}, passwords: {}, startup keys: {} }}",
            self.recovery.len(),
            self.passwords.len(),
            self.startup.len()
        )
    }
}

impl fmt::Debug for RecoveryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryPassword(redacted)")
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(redacted)")
    }
}

impl fmt::Debug for StartupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StartupKey({:?}, key redacted)", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "284867-596541-514998-422114-660297-261613-215424-199408";

    #[test]
    fn a_recovery_password_parses_with_or_without_dashes() {
        let a = RecoveryPassword::parse(GOOD).unwrap();
        let b = RecoveryPassword::parse(&GOOD.replace('-', "")).unwrap();
        let c = RecoveryPassword::parse(&format!("  {GOOD}\n")).unwrap();
        assert_eq!(*a.hash, *b.hash);
        assert_eq!(*a.hash, *c.hash);
    }

    #[test]
    fn a_bad_group_is_named_by_its_number() {
        use RecoveryPasswordError::*;
        let bad3 = GOOD.replace("514998", "514999");
        assert_eq!(
            RecoveryPassword::parse(&bad3).unwrap_err(),
            NotMultipleOf11 { group: 3 }
        );
        // 720907 = 11 * 65537: divides by 11 but is too large.
        let big8 = GOOD.replace("199408", "720907");
        assert_eq!(
            RecoveryPassword::parse(&big8).unwrap_err(),
            TooLarge { group: 8 }
        );
        assert_eq!(RecoveryPassword::parse("12a").unwrap_err(), NotDigits);
        assert_eq!(
            RecoveryPassword::parse(&GOOD[..19]).unwrap_err(),
            GroupLength { group: 3 }
        );
        assert_eq!(
            RecoveryPassword::parse(&GOOD.replace('-', "")[..47]).unwrap_err(),
            Length { digits: 47 }
        );
        assert_eq!(RecoveryPassword::check_typed("284867-5965"), Ok(1));
        assert_eq!(RecoveryPassword::check_typed("284867-"), Ok(1));
        assert_eq!(RecoveryPassword::check_typed(""), Ok(0));
        assert_eq!(
            RecoveryPassword::check_typed("284867-596542"),
            Err(NotMultipleOf11 { group: 2 })
        );
        assert_eq!(
            RecoveryPassword::check_typed("2848-596541"),
            Err(GroupLength { group: 1 })
        );
        assert_eq!(RecoveryPassword::check_typed(GOOD), Ok(8));
        // No error text holds the digits.
        for e in [
            RecoveryPassword::parse(&bad3).unwrap_err(),
            RecoveryPassword::parse(&big8).unwrap_err(),
        ] {
            let text = format!("{e} {e:?}");
            assert!(
                !text.contains("514999") && !text.contains("720907"),
                "{text}"
            );
        }
    }

    #[test]
    fn debug_shows_no_key() {
        let mut k = Keys::new();
        k.add_recovery_password(GOOD).unwrap();
        k.add_password("password12!@");
        let text = format!("{k:?} {:?} {:?}", k.recovery[0], k.passwords[0]);
        assert!(
            !text.contains("password12") && !text.contains("284867"),
            "{text}"
        );
    }
}
