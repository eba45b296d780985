//! Local accounts from an offline SAM hive: the machine SID and, per user, the RID, the
//! account name, the full name, logon times, account flags and (Windows 8 and later) the
//! Microsoft account a local account is linked to.
//!
//! Layouts (libyal winreg-kb "Security Accounts Manager keys"; chntpw `sam.h`; RegRipper
//! `samparse.pl`), checked against the real SAM hives in `realdata/hives/SAM`:
//! - `SAM\Domains\Account` `V`: the machine SID is its last 24 bytes (a revision-1 SID with
//!   4 sub-authorities, S-1-5-21-a-b-c), true of all eight real hives (Windows 7 to 11).
//! - `Users\Names\<name>`: the default value's *type number* is the user's RID.
//! - `Users\<RID as 8 hex digits>` `F` (fixed, 0x50 bytes): last logon FILETIME at 0x08,
//!   password last set at 0x18, RID at 0x30, account control flags (u16) at 0x38.
//! - `Users\<RID>` `V`: 17 descriptors of 12 bytes at 0 (offset from 0xCC, length, unknown);
//!   descriptor 1 is the user name, 2 the full name, 3 the comment (UTF-16LE).
//! - `Users\<RID>` `InternetUserName`, `InternetUID`, `InternetProviderName`, `GivenName`,
//!   `Surname` (UTF-16LE; read whether REG_SZ or REG_BINARY): written when a local account
//!   is linked to a Microsoft account (Windows 8+; SAM forensics course material; removed
//!   by "convert to local account" scripts). None of the real hives has one.
//!
//! Every offset read from the data is bounds-checked: a hostile hive yields missing fields,
//! never a panic.

use crate::hive::{utf16_until_nul, LoadedHive, Value, ValueType};
use crate::le::{u16_at, u32_at, u64_at};

pub const ACCOUNT: &str = r"SAM\Domains\Account";

/// User account control flags in `F` at 0x38.
pub const ACB_DISABLED: u16 = 0x0001;
pub const ACB_PASSWORD_NOT_REQUIRED: u16 = 0x0004;
pub const ACB_NORMAL: u16 = 0x0010;
pub const ACB_DONT_EXPIRE_PASSWORD: u16 = 0x0200;
pub const ACB_AUTOLOCKED: u16 = 0x0400;

/// The Microsoft account a local account is linked to (Windows 8 and later).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MicrosoftAccount {
    /// The e-mail address the user signs in with.
    pub user_name: Option<String>,
    pub uid: Option<String>,
    pub provider: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamUser {
    pub rid: u32,
    /// The account name (the `Names` key; else the name in `V`).
    pub name: String,
    pub full_name: Option<String>,
    pub comment: Option<String>,
    /// FILETIMEs; `None` when never (0 or the maximum).
    pub last_logon: Option<u64>,
    pub password_last_set: Option<u64>,
    /// Account control flags (`ACB_*`); `None` without a readable `F`.
    pub flags: Option<u16>,
    pub microsoft_account: Option<MicrosoftAccount>,
}

impl SamUser {
    pub fn disabled(&self) -> bool {
        self.flags.is_some_and(|f| f & ACB_DISABLED != 0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamInfo {
    /// S-1-5-21-a-b-c: local accounts' SIDs are this plus `-RID`.
    pub machine_sid: Option<String>,
    /// Ordered by RID.
    pub users: Vec<SamUser>,
}

impl SamInfo {
    pub fn by_rid(&self, rid: u32) -> Option<&SamUser> {
        self.users.iter().find(|u| u.rid == rid)
    }

    /// The local account with this SID, when it belongs to this machine.
    pub fn by_sid(&self, sid: &str) -> Option<&SamUser> {
        self.by_rid(self.local_rid(sid)?)
    }

    /// The RID of `sid` when it is a SID of this machine's accounts.
    pub fn local_rid(&self, sid: &str) -> Option<u32> {
        let machine = self.machine_sid.as_deref()?;
        let rest = sid.strip_prefix(machine)?.strip_prefix('-')?;
        rest.parse().ok()
    }
}

/// Why a SAM hive gives no accounts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamError {
    #[error("{path}: no {ACCOUNT} key: it is not a SAM hive, or it is damaged")]
    NoAccountKey { path: String },
}

pub fn read_sam(hive: &LoadedHive) -> Result<SamInfo, SamError> {
    let account = hive.key(ACCOUNT).ok_or_else(|| SamError::NoAccountKey {
        path: hive.path().to_string(),
    })?;
    let machine_sid = account
        .value("V")
        .and_then(|v| machine_sid_from_domain_v(&v.data));

    let mut users: Vec<SamUser> = Vec::new();
    if let Some(names) = account.subkey(r"Users\Names") {
        for k in names.subkeys() {
            let Some(rid) = k.value_type_code("") else {
                continue;
            };
            users.push(SamUser {
                rid,
                name: k.name(),
                ..Default::default()
            });
        }
    }
    if let Some(list) = account.subkey("Users") {
        for k in list.subkeys() {
            let key_name = k.name();
            if key_name.len() != 8 {
                continue;
            }
            let Ok(rid) = u32::from_str_radix(&key_name, 16) else {
                continue;
            };
            let f = k.value("F").and_then(|v| parse_user_f(&v.data));
            let v = k
                .value("V")
                .map(|v| parse_user_v(&v.data))
                .unwrap_or_default();
            let ms = microsoft_account(&k.values());
            let i = match users.iter().position(|u| u.rid == rid) {
                Some(i) => i,
                None => {
                    // A user key without a Names entry: name it from V (or not at all).
                    let Some(name) = v.name.clone() else { continue };
                    users.push(SamUser {
                        rid,
                        name,
                        ..Default::default()
                    });
                    users.len() - 1
                }
            };
            let u = &mut users[i];
            u.full_name = v.full_name;
            u.comment = v.comment;
            if let Some(f) = f {
                u.last_logon = f.last_logon;
                u.password_last_set = f.password_last_set;
                u.flags = Some(f.flags);
            }
            u.microsoft_account = ms;
        }
    }
    users.sort_by_key(|u| u.rid);
    Ok(SamInfo { machine_sid, users })
}

/// A binary SID at the start of `b` (revision 1), as text, and its length.
pub fn parse_sid(b: &[u8]) -> Option<(String, usize)> {
    let (&rev, &count) = (b.first()?, b.get(1)?);
    if rev != 1 || count > 15 {
        return None;
    }
    let len = 8 + 4 * count as usize;
    let b = b.get(..len)?;
    let auth = b[2..8].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut s = format!("S-1-{auth}");
    for c in b[8..].chunks_exact(4) {
        s.push_str(&format!(
            "-{}",
            u32::from_le_bytes([c[0], c[1], c[2], c[3]])
        ));
    }
    Some((s, len))
}

/// The machine SID in the `V` value of `SAM\Domains\Account`: its last 24 bytes. Anything
/// else there (not S-1-5-21 with three sub-authorities after 21) is not trusted.
pub fn machine_sid_from_domain_v(v: &[u8]) -> Option<String> {
    let tail = v.get(v.len().checked_sub(24)?..)?;
    let (sid, len) = parse_sid(tail)?;
    (len == 24 && sid.starts_with("S-1-5-21-")).then_some(sid)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserF {
    pub last_logon: Option<u64>,
    pub password_last_set: Option<u64>,
    pub rid: u32,
    pub flags: u16,
}

/// 0 and the largest value both mean "never".
fn filetime(ft: u64) -> Option<u64> {
    (ft != 0 && ft < 0x7FFF_FFFF_FFFF_FFFF).then_some(ft)
}

pub fn parse_user_f(f: &[u8]) -> Option<UserF> {
    Some(UserF {
        last_logon: filetime(u64_at(f, 0x08)?),
        password_last_set: filetime(u64_at(f, 0x18)?),
        rid: u32_at(f, 0x30)?,
        flags: u16_at(f, 0x38)?,
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserV {
    pub name: Option<String>,
    pub full_name: Option<String>,
    pub comment: Option<String>,
}

/// Data of descriptor `i` of a user's `V` value, when it lies inside the value.
fn v_field(v: &[u8], i: usize) -> Option<&[u8]> {
    let off = u32_at(v, i * 12)? as usize;
    let len = u32_at(v, i * 12 + 4)? as usize;
    let start = 0xCCusize.checked_add(off)?;
    v.get(start..start.checked_add(len)?)
}

pub fn parse_user_v(v: &[u8]) -> UserV {
    let text = |i| v_field(v, i).map(utf16_until_nul).filter(|s| !s.is_empty());
    UserV {
        name: text(1),
        full_name: text(2),
        comment: text(3),
    }
}

/// Text of a SAM value: UTF-16LE whether stored as REG_SZ or REG_BINARY.
fn lenient_text(v: &Value) -> Option<String> {
    let s = match v.kind {
        Some(ValueType::Sz | ValueType::ExpandSz | ValueType::Binary) | None => {
            utf16_until_nul(&v.data)
        }
        _ => return None,
    };
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn microsoft_account(values: &[Value]) -> Option<MicrosoftAccount> {
    let get = |n: &str| {
        values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(n))
            .and_then(lenient_text)
    };
    let m = MicrosoftAccount {
        user_name: get("InternetUserName"),
        uid: get("InternetUID"),
        provider: get("InternetProviderName"),
        given_name: get("GivenName"),
        surname: get("Surname"),
    };
    (m.user_name.is_some() || m.uid.is_some()).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn v_with(entries: &[(usize, u32, u32)], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 0xCC];
        for &(i, off, len) in entries {
            v[i * 12..i * 12 + 4].copy_from_slice(&off.to_le_bytes());
            v[i * 12 + 4..i * 12 + 8].copy_from_slice(&len.to_le_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn v_names_and_hostile_offsets() {
        let mut data = utf16("ann");
        data.extend(utf16("Ann Example"));
        let v = v_with(&[(1, 0, 6), (2, 6, 22)], &data);
        let p = parse_user_v(&v);
        assert_eq!(p.name.as_deref(), Some("ann"));
        assert_eq!(p.full_name.as_deref(), Some("Ann Example"));
        // Offsets past the end and lengths that overflow give nothing, not a panic.
        let v = v_with(&[(1, 0xFFFF_FFF0, 0x100), (2, 4, u32::MAX)], &data);
        assert_eq!(parse_user_v(&v), UserV::default());
        assert_eq!(parse_user_v(&[1, 2, 3]), UserV::default());
    }

    #[test]
    fn f_fields() {
        let mut f = vec![0u8; 0x50];
        f[0x08..0x10].copy_from_slice(&133_000_000_000_000_000u64.to_le_bytes());
        f[0x18..0x20].copy_from_slice(&u64::MAX.to_le_bytes());
        f[0x30..0x34].copy_from_slice(&1001u32.to_le_bytes());
        f[0x38..0x3A].copy_from_slice(&0x0211u16.to_le_bytes());
        let p = parse_user_f(&f).unwrap();
        assert_eq!(p.last_logon, Some(133_000_000_000_000_000));
        assert_eq!(p.password_last_set, None);
        assert_eq!(p.rid, 1001);
        assert_eq!(p.flags & ACB_DISABLED, ACB_DISABLED);
        assert!(parse_user_f(&f[..0x39]).is_none());
    }

    #[test]
    fn machine_sid_is_the_last_24_bytes() {
        // Bytes seen at the end of the velociraptor SAM's Account V.
        let mut v = vec![0u8; 100];
        v.extend_from_slice(&[
            1, 4, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0x22, 0x32, 0x2a, 0xcd, 0xc0, 0x45, 0xfe, 0xe1,
            0x62, 0x96, 0xea, 0x78,
        ]);
        assert_eq!(
            machine_sid_from_domain_v(&v).as_deref(),
            Some("S-1-5-21-3442094626-3791537600-2028639842")
        );
        assert_eq!(machine_sid_from_domain_v(&v[..20]), None);
        assert_eq!(machine_sid_from_domain_v(&[0u8; 40]), None);
        assert_eq!(parse_sid(&[1, 15, 0, 0]), None);
    }

    #[test]
    fn local_rid_needs_the_machine_prefix() {
        let info = SamInfo {
            machine_sid: Some("S-1-5-21-1-2-3".into()),
            users: vec![SamUser {
                rid: 1001,
                name: "ann".into(),
                ..Default::default()
            }],
        };
        assert_eq!(info.by_sid("S-1-5-21-1-2-3-1001").unwrap().name, "ann");
        assert!(info.by_sid("S-1-5-21-1-2-33-1001").is_none());
        assert!(info.by_sid("S-1-5-21-1-2-3").is_none());
    }
}
