//! Whose settings go where: the store's users chosen (`--user`, LoadState's `/ui` `/ue`) and
//! each given the account name it gets on the new machine (`--user OLD=NEW` = `/mu`,
//! `--domain OLD=NEW` = `/md`; a local account of the old computer becomes a local account
//! of the new one, as LoadState does).

use crate::store::manifest::{Manifest, UserRecord};
use lifeboat_common::users::glob;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRules {
    /// Users to take (`--user OLD`, `/ui`); empty = every user of the store.
    pub include: Vec<String>,
    /// Users to leave (`/ue`); an include beats an exclude, as `/ui` beats `/ue`.
    pub exclude: Vec<String>,
    /// `OLD=NEW` account renames (`--user OLD=NEW`, `/mu:OLD:NEW`), no wildcards.
    pub map_user: Vec<(String, String)>,
    /// `OLD=NEW` domain moves (`--domain`, `/md`); OLD may hold `*`; the first match wins.
    pub map_domain: Vec<(String, String)>,
}

/// A store user chosen for the restore.
#[derive(Debug, Clone)]
pub struct Chosen<'m> {
    pub record: &'m UserRecord,
    /// The account on the new machine: `name` (local) or `DOMAIN\name`.
    pub target: String,
}

/// Why a store user is not restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftReason {
    NotIncluded,
    Excluded,
}

impl std::fmt::Display for LeftReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LeftReason::NotIncluded => "not named by --user",
            LeftReason::Excluded => "left out by an exclude (/ue)",
        })
    }
}

/// `ann`, `PC\ann`, `S-1-5-21-*-1001`: SID patterns against the SID, patterns with a
/// backslash against `DOMAIN\name`, others against the bare name; case-insensitive.
pub fn matches(pattern: &str, record: &UserRecord) -> bool {
    let p = pattern.trim().to_lowercase();
    let name = record.name.to_lowercase();
    if p.starts_with("s-1-") {
        return glob(&p, &record.sid.to_lowercase());
    }
    if p.contains('\\') {
        return glob(&p, &name);
    }
    glob(&p, bare(&name))
}

pub fn bare(name: &str) -> &str {
    name.rsplit('\\').next().unwrap_or(name)
}

fn domain(name: &str) -> Option<&str> {
    name.rsplit_once('\\').map(|(d, _)| d)
}

/// The users of the store to restore, each with its target account, and those left out.
pub fn choose<'m>(
    manifest: &'m Manifest,
    rules: &UserRules,
) -> (Vec<Chosen<'m>>, Vec<(&'m UserRecord, LeftReason)>) {
    let mut chosen = Vec::new();
    let mut left = Vec::new();
    for r in &manifest.users {
        let included = rules.include.iter().any(|p| matches(p, r));
        if !rules.include.is_empty() && !included {
            left.push((r, LeftReason::NotIncluded));
        } else if !included && rules.exclude.iter().any(|p| matches(p, r)) {
            left.push((r, LeftReason::Excluded));
        } else {
            chosen.push(Chosen {
                record: r,
                target: target_name(r, manifest.source.computer_name.as_deref(), rules),
            });
        }
    }
    (chosen, left)
}

fn target_name(r: &UserRecord, old_computer: Option<&str>, rules: &UserRules) -> String {
    if let Some((_, new)) = rules.map_user.iter().find(|(old, _)| {
        let old = old.to_lowercase();
        let name = r.name.to_lowercase();
        old == name || (!old.contains('\\') && old == bare(&name)) || old == r.sid.to_lowercase()
    }) {
        return new.clone();
    }
    let name = bare(&r.name).to_string();
    let Some(dom) = domain(&r.name) else {
        return name;
    };
    if let Some((_, new)) = rules
        .map_domain
        .iter()
        .find(|(old, _)| glob(&old.to_lowercase(), &dom.to_lowercase()))
    {
        return format!("{new}\\{name}");
    }
    if old_computer.is_some_and(|c| c.eq_ignore_ascii_case(dom)) {
        name
    } else {
        r.name.clone()
    }
}

/// Whether a target account name is a local account of the new machine (no domain, `.`,
/// or the machine's own name).
pub fn is_local(target: &str, this_computer: Option<&str>) -> bool {
    match domain(target) {
        None => true,
        Some(".") => true,
        Some(d) => this_computer.is_some_and(|c| c.eq_ignore_ascii_case(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(sid: &str, name: &str) -> UserRecord {
        UserRecord {
            sid: sid.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_follow_loadstate() {
        let rules = UserRules {
            map_user: vec![("OLDPC\\ann".into(), "bob".into())],
            map_domain: vec![("CONT*".into(), "FABRIKAM".into())],
            ..Default::default()
        };
        let pc = Some("OLDPC");
        assert_eq!(
            target_name(&rec("S-1-5-21-1-1001", "OLDPC\\ann"), pc, &rules),
            "bob"
        );
        assert_eq!(
            target_name(&rec("S-1-5-21-1-1002", "OLDPC\\eve"), pc, &rules),
            "eve"
        );
        assert_eq!(
            target_name(&rec("S-1-5-21-9-1", "CONTOSO\\joe"), pc, &rules),
            "FABRIKAM\\joe"
        );
        assert_eq!(
            target_name(&rec("S-1-5-21-9-2", "OTHER\\joe"), pc, &rules),
            "OTHER\\joe"
        );
        assert!(is_local("bob", None) && is_local("NEWPC\\bob", Some("newpc")));
        assert!(!is_local("CONTOSO\\bob", Some("NEWPC")));
    }

    #[test]
    fn include_beats_exclude() {
        let r1 = rec("S-1-5-21-1-1001", "PC\\ann");
        let r2 = rec("S-1-5-21-1-1002", "PC\\bob");
        assert!(matches("ann", &r1) && matches("pc\\*", &r1) && matches("S-1-5-21-*-1001", &r1));
        assert!(!matches("ann", &r2));
        let rules = UserRules {
            include: vec!["ann".into()],
            exclude: vec!["*".into()],
            ..Default::default()
        };
        let excluded = rules.exclude.iter().any(|p| matches(p, &r1));
        let included = rules.include.iter().any(|p| matches(p, &r1));
        assert!(excluded && included);
    }
}
