//! Registry objects of the offline system: `HKLM\SOFTWARE\…` (with its `Wow6432Node` 32-bit
//! view) from the SOFTWARE hive, `HKCU\…` from the user's NTUSER.DAT, `HKCU\Software\Classes`
//! from UsrClass.dat, `HKCR\…` from both, as Windows merges them. USMT's `Node [Leaf]`
//! patterns with `*` in any key name are matched one level per segment, within
//! [`FACTS_MAX_ENTRIES`].

use crate::hive::{Key, LoadedHive, Value, ValueType};
use crate::limits::FACTS_MAX_ENTRIES;
use crate::rules::pattern::glob;
use crate::rules::Pattern;

/// The hives a pass can see.
#[derive(Clone, Copy, Default)]
pub struct Hives<'a> {
    pub software: Option<&'a LoadedHive>,
    pub ntuser: Option<&'a LoadedHive>,
    pub usrclass: Option<&'a LoadedHive>,
    /// A user pass: HKCU is that user's. In the machine pass (USMT's System context)
    /// there is no current user and nothing under HKCU exists.
    pub user: bool,
}

/// Where a registry path lives.
pub enum Place<'a> {
    /// In these hives, at these paths relative to their roots (HKCR has two).
    In(Vec<(&'a LoadedHive, String)>),
    /// A root this pass has no hive for (HKCU in the machine pass, HKLM\SYSTEM, …).
    NotLoaded(&'static str),
    /// Not a registry root at all, or HKCU in the machine pass: nothing is there.
    NoSuchRoot,
}

/// `rest` of `prefix\rest` (the path is folded: lower case, short root names).
fn strip<'s>(path: &'s str, prefix: &str) -> Option<&'s str> {
    if path == prefix {
        return Some("");
    }
    path.strip_prefix(prefix)?.strip_prefix('\\')
}

impl<'a> Hives<'a> {
    pub fn place(&self, path: &str) -> Place<'a> {
        // Lower case, short root names: key lookups are case-insensitive anyway.
        let path = crate::rules::pattern::fold(crate::rules::ObjectKind::Registry, path);
        let one = |h: Option<&'a LoadedHive>, rel: &str, what| match h {
            Some(h) => Place::In(vec![(h, rel.to_string())]),
            None => Place::NotLoaded(what),
        };
        if let Some(rel) = strip(&path, r"hklm\software") {
            return one(self.software, rel, "the SOFTWARE hive");
        }
        if !self.user && strip(&path, "hkcu").is_some() {
            return Place::NoSuchRoot;
        }
        if let Some(rel) = strip(&path, r"hkcu\software\classes") {
            if let Some(h) = self.usrclass {
                return Place::In(vec![(h, rel.to_string())]);
            }
            return one(
                self.ntuser,
                &format!(r"Software\Classes\{rel}"),
                "a user's NTUSER.DAT",
            );
        }
        if let Some(rel) = strip(&path, "hkcu") {
            return one(
                self.ntuser,
                rel,
                "a user's NTUSER.DAT (this is the machine pass)",
            );
        }
        if let Some(rel) = strip(&path, "hkcr") {
            let mut v = Vec::new();
            if let Some(h) = self.usrclass {
                v.push((h, rel.to_string()));
            }
            if let Some(h) = self.software {
                v.push((h, format!(r"Classes\{rel}")));
            }
            return if v.is_empty() {
                Place::NotLoaded("the classes hives")
            } else {
                Place::In(v)
            };
        }
        if strip(&path, "hklm").is_some() || strip(&path, "hku").is_some() {
            return Place::NotLoaded("that hive (Lifeboat reads HKLM\\SOFTWARE and HKCU)");
        }
        Place::NoSuchRoot
    }
}

/// The keys whose path matches `node` (segments with `*` matched against each subkey's
/// name), below `hive`'s root. `Err` when the budget runs out.
pub fn matching_keys<'h>(
    hive: &'h LoadedHive,
    rel: &str,
    recursive: bool,
    budget: &mut usize,
) -> Result<Vec<Key<'h>>, super::OverBudget> {
    let Ok(root) = hive.root() else {
        return Ok(Vec::new());
    };
    let mut level = vec![root];
    for seg in rel.split('\\').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for k in &level {
            if seg.contains('*') {
                let pat = seg.to_lowercase();
                for sk in k.subkeys() {
                    spend(budget)?;
                    if glob(pat.as_bytes(), sk.name().to_lowercase().as_bytes()) {
                        next.push(sk);
                    }
                }
            } else if let Some(sk) = k.subkey(seg) {
                spend(budget)?;
                next.push(sk);
            }
        }
        level = next;
        if level.is_empty() {
            break;
        }
    }
    if recursive {
        let mut all = Vec::new();
        let mut stack = level;
        while let Some(k) = stack.pop() {
            spend(budget)?;
            stack.extend(k.subkeys());
            all.push(k);
        }
        return Ok(all);
    }
    Ok(level)
}

fn spend(budget: &mut usize) -> Result<(), super::OverBudget> {
    *budget = budget.checked_sub(1).ok_or(super::OverBudget)?;
    Ok(())
}

/// The values of `key` a pattern's leaf names (`None` leaf: none; `""`: the default).
pub fn matching_values(key: &Key<'_>, leaf: &str) -> Vec<Value> {
    if !leaf.contains('*') {
        return key.value(leaf).into_iter().collect();
    }
    let pat = leaf.to_lowercase();
    key.values()
        .into_iter()
        .filter(|v| glob(pat.as_bytes(), v.name.to_lowercase().as_bytes()))
        .collect()
}

/// A value as text, as MigXML's string helpers see it: strings as they are, a
/// REG_MULTI_SZ's strings joined by NUL, numbers in decimal, binary data holding text
/// (Outlook's PST paths) decoded as UTF-16 or ANSI.
pub fn value_text(v: &Value) -> String {
    match v.kind {
        Some(ValueType::MultiSz) => v.as_multi_string().unwrap_or_default().join("\0"),
        Some(ValueType::Dword | ValueType::DwordBigEndian | ValueType::Qword) => {
            v.as_qword().map(|n| n.to_string()).unwrap_or_default()
        }
        Some(ValueType::Sz | ValueType::ExpandSz | ValueType::Link) => {
            v.as_string().unwrap_or_default()
        }
        _ => binary_text(&v.data),
    }
}

/// Binary data that holds a string: UTF-16LE when every other byte is zero, else ANSI.
fn binary_text(b: &[u8]) -> String {
    let looks_utf16 = b.len() >= 4 && b.iter().skip(1).step_by(2).take(8).all(|&c| c == 0);
    if looks_utf16 {
        crate::hive::utf16_until_nul(b)
    } else {
        b.iter()
            .take_while(|&&c| c != 0)
            .map(|&c| char::from(c))
            .collect()
    }
}

/// Every registry object `p` names: `(path, value)` pairs (`None`: the key itself).
pub fn objects<'h>(hives: &Hives<'h>, p: &Pattern) -> Result<Vec<(String, Option<Value>)>, String> {
    let places = match hives.place(&p.node) {
        Place::In(v) => v,
        Place::NotLoaded(what) => return Err(format!("{} is in {what}, not read here", p.node)),
        Place::NoSuchRoot => return Ok(Vec::new()),
    };
    let mut budget = FACTS_MAX_ENTRIES;
    let mut out = Vec::new();
    for (hive, rel) in places {
        let keys = matching_keys(hive, &rel, p.recursive, &mut budget).map_err(|_| {
            format!("{p}: more than {FACTS_MAX_ENTRIES} keys to look at; not followed")
        })?;
        for k in keys {
            match &p.leaf {
                None => out.push((k.path(), None)),
                Some(leaf) => {
                    if leaf.chars().all(|c| c == '*') && !leaf.is_empty() {
                        out.push((k.path(), None));
                    }
                    for v in matching_values(&k, leaf) {
                        out.push((k.path(), Some(v)));
                    }
                }
            }
        }
    }
    Ok(out)
}
