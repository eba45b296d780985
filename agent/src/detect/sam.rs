//! Local accounts from the offline SAM hive: `SAM\Domains\Account` (the machine SID at the
//! end of its `V` value) and one key per account, `Users\<RID in hex>`, whose `V` value holds
//! the names (a table of offset/length pairs at 0, data from 0xCC) and whose `F` value holds
//! the last logon and account flags. Layouts as documented in libyal's winreg-kb ("Security
//! Accounts Manager (SAM) keys") and used by RegRipper's samparse.

use crate::hive::LoadedHive;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamAccount {
    pub rid: u32,
    pub name: String,
    pub full_name: Option<String>,
    pub disabled: bool,
    pub last_logon: Option<u64>,
    /// Windows 8+: the Microsoft account (e-mail) a local account is linked to.
    pub microsoft_account: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamInfo {
    /// `S-1-5-21-a-b-c`: local accounts' SIDs are this plus `-RID`.
    pub machine_sid: Option<String>,
    pub accounts: Vec<SamAccount>,
}

impl SamInfo {
    pub fn account_for_sid(&self, sid: &str) -> Option<&SamAccount> {
        let machine = self.machine_sid.as_deref()?;
        let rid: u32 = sid.strip_prefix(machine)?.strip_prefix('-')?.parse().ok()?;
        self.accounts.iter().find(|a| a.rid == rid)
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Entry `i` of a `V` value's table: UTF-16 text at 0xCC + offset, bounds-checked.
pub fn v_string(v: &[u8], i: usize) -> Option<String> {
    let off = u32_at(v, i * 12)? as usize;
    let len = u32_at(v, i * 12 + 4)? as usize;
    let start = 0xCCusize.checked_add(off)?;
    let bytes = v.get(start..start.checked_add(len)?)?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let s = String::from_utf16_lossy(&units);
    let s = s.trim_end_matches('\0').to_string();
    (!s.is_empty()).then_some(s)
}

/// The machine SID from the last 24 bytes of `SAM\Domains\Account`'s `V` value.
pub fn machine_sid(v: &[u8]) -> Option<String> {
    let tail = v.get(v.len().checked_sub(24)?..)?;
    // A binary SID: revision 1, 4 sub-authorities, authority 5, first sub-authority 21.
    if tail[0] != 1 || tail[1] != 4 || tail[2..8] != [0, 0, 0, 0, 0, 5] || u32_at(tail, 8)? != 21 {
        return None;
    }
    Some(format!(
        "S-1-5-21-{}-{}-{}",
        u32_at(tail, 12)?,
        u32_at(tail, 16)?,
        u32_at(tail, 20)?
    ))
}

pub fn read_sam(hive: &LoadedHive) -> Result<SamInfo, String> {
    let account = hive
        .key(r"SAM\Domains\Account")
        .ok_or("no SAM\\Domains\\Account key")?;
    let machine_sid = account.value("V").and_then(|v| machine_sid(&v.data));
    let mut accounts = Vec::new();
    if let Some(users) = account.subkey("Users") {
        for k in users.subkeys() {
            let name = k.name();
            if name.len() != 8 {
                continue;
            }
            let Ok(rid) = u32::from_str_radix(&name, 16) else {
                continue;
            };
            let Some(v) = k.value("V") else { continue };
            let Some(account_name) = v_string(&v.data, 1) else {
                continue;
            };
            let f = k.value("F").map(|f| f.data).unwrap_or_default();
            let last_logon = f
                .get(8..16)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .filter(|&t| t != 0);
            let acb = f
                .get(0x38..0x3A)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .unwrap_or(0);
            accounts.push(SamAccount {
                rid,
                name: account_name,
                full_name: v_string(&v.data, 2),
                disabled: acb & 0x0001 != 0,
                last_logon,
                microsoft_account: k.string("InternetUserName").filter(|s| !s.is_empty()),
            });
        }
    }
    Ok(SamInfo {
        machine_sid,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_v_values_do_not_panic() {
        assert_eq!(v_string(&[], 1), None);
        let mut v = vec![0u8; 0xCC];
        v[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        v[16..20].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(v_string(&v, 1), None);
        v[12..16].copy_from_slice(&0u32.to_le_bytes());
        v[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(v_string(&v, 1), None);
        v[16..20].copy_from_slice(&4u32.to_le_bytes());
        v.extend_from_slice(&[b'a', 0, b'b', 0]);
        assert_eq!(v_string(&v, 1).as_deref(), Some("ab"));
        assert_eq!(machine_sid(&[1, 2, 3]), None);
    }
}
