//! Which users a capture takes: by default every real user; `--users` patterns in
//! ScanState's `/ui` `/ue` shape (`DOMAIN\name`, `*\name`, SIDs with `*`), and
//! `--unused-days N`. Junk profiles (system, service, temporary, `.bak`, setup accounts)
//! stay out unless named explicitly.

use super::skip::LeaveKind;
use crate::detect::model::{User, UserKind};

/// `--users` patterns (`ann`, `PC01\ann`, `*\ann`, SIDs with `*`, `!` to exclude): their
/// syntax is shared with the media config.
pub use lifeboat_common::users::{glob, UserPattern};

/// Names of Windows' own setup accounts, never real people.
fn is_setup_account(user: &User) -> bool {
    let bare = user
        .name
        .rsplit('\\')
        .next()
        .unwrap_or(&user.name)
        .to_lowercase();
    bare.starts_with("defaultuser") || bare == "default" || bare == "public" || bare == "all users"
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Take,
    /// Left out, with the reason shown in the summary and the manifest.
    Leave(LeaveKind, String),
}

/// Whose rules decide between include, exclude and last use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Precedence {
    /// `--users`: an include beats an exclude; once anyone is named, only those named
    /// are taken; `--unused-days` then leaves out the rest.
    #[default]
    Lifeboat,
    /// ScanState's `/ui` `/ue` `/uel`: every user by default; `/ui` beats `/uel`, which
    /// beats `/ue` (with `/uel`, last use alone decides for those not named by `/ui`).
    ScanState,
}

/// Decides for one user. `now_unix` and `unused_days` implement `--unused-days` (`/uel`).
pub fn select(
    user: &User,
    patterns: &[UserPattern],
    unused_days: Option<u64>,
    now_unix: i64,
    precedence: Precedence,
) -> Selection {
    let matches = |p: &UserPattern| p.matches_account(&user.name, &user.sid);
    let included = patterns.iter().any(|p| !p.exclude && matches(p));
    let excluded = patterns.iter().any(|p| p.exclude && matches(p));
    // As in ScanState, an explicit include beats an exclude.
    if included {
        return Selection::Take;
    }
    let scanstate = precedence == Precedence::ScanState;
    if excluded && !(scanstate && unused_days.is_some()) {
        return Selection::Leave(LeaveKind::Excluded, "excluded by --users".into());
    }
    if !scanstate && patterns.iter().any(|p| !p.exclude) {
        return Selection::Leave(LeaveKind::NotNamed, "not named by --users".into());
    }
    if !user.kind.is_real_user() || is_setup_account(user) {
        let what = match user.kind {
            UserKind::System => "system profile",
            UserKind::Service => "service profile",
            UserKind::Temporary => "temporary profile",
            UserKind::Backup => "backup (.bak) profile",
            _ => "Windows setup account",
        };
        return Selection::Leave(
            LeaveKind::NotARealUser,
            format!("{what} (name it with --users to take it)"),
        );
    }
    if let (Some(days), Some(last)) = (unused_days, user.last_used.as_deref()) {
        if let Some(t) = crate::time::rfc3339_to_unix(last) {
            if now_unix - t > (days as i64) * 86_400 {
                return Selection::Leave(
                    LeaveKind::Unused,
                    format!("not used for more than {days} days (last {last})"),
                );
            }
        }
    }
    if user.profile_path.is_none() {
        return Selection::Leave(
            LeaveKind::ProfileMissing,
            format!("profile folder {} not found", user.profile_path_original),
        );
    }
    Selection::Take
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, sid: &str, kind: UserKind, last: Option<&str>) -> User {
        User {
            sid: sid.into(),
            name: name.into(),
            name_source: crate::detect::NameSource::Sam,
            name_is_guess: false,
            display_name: None,
            profile_path_original: format!(r"C:\Users\{name}"),
            profile_path: Some("/x".into()),
            has_ntuser: true,
            last_used: last.map(str::to_string),
            kind,
        }
    }

    #[test]
    fn patterns_in_scanstate_shape() {
        let ann = user(r"PC01\ann", "S-1-5-21-1-2-3-1001", UserKind::Local, None);
        let m = |p: &str| {
            UserPattern::parse(p)
                .unwrap()
                .matches_account(&ann.name, &ann.sid)
        };
        assert!(
            m("ann")
                && m("ANN")
                && m(r"PC01\ann")
                && m(r"*\ann")
                && m("a*")
                && m("S-1-5-21-*-1001")
        );
        assert!(!m(r"CONTOSO\ann") && !m("bob") && !m("S-1-5-21-*-500"));
    }

    #[test]
    fn defaults_and_precedence() {
        let now = crate::time::rfc3339_to_unix("2024-01-01T00:00:00Z").unwrap();
        let ann = user(
            r"PC01\ann",
            "S-1-5-21-1-2-3-1001",
            UserKind::Local,
            Some("2023-12-25T00:00:00Z"),
        );
        let old = user(
            r"PC01\old",
            "S-1-5-21-1-2-3-1002",
            UserKind::Local,
            Some("2020-01-01T00:00:00Z"),
        );
        let svc = user(
            r"NT AUTHORITY\LOCAL SERVICE",
            "S-1-5-19",
            UserKind::Service,
            None,
        );
        let setup = user(
            r"PC01\defaultuser0",
            "S-1-5-21-1-2-3-1003",
            UserKind::Local,
            None,
        );
        assert_eq!(
            select(&ann, &[], None, now, Precedence::Lifeboat),
            Selection::Take
        );
        assert!(matches!(
            select(&svc, &[], None, now, Precedence::Lifeboat),
            Selection::Leave(..)
        ));
        assert!(matches!(
            select(&setup, &[], None, now, Precedence::Lifeboat),
            Selection::Leave(..)
        ));
        assert!(matches!(
            select(&old, &[], Some(90), now, Precedence::Lifeboat),
            Selection::Leave(..)
        ));
        assert_eq!(
            select(&ann, &[], Some(90), now, Precedence::Lifeboat),
            Selection::Take
        );
        let pats = [
            UserPattern::parse(r"!*\*").unwrap(),
            UserPattern::parse("ann").unwrap(),
        ];
        assert_eq!(
            select(&ann, &pats, None, now, Precedence::Lifeboat),
            Selection::Take,
            "include beats exclude"
        );
        assert!(matches!(
            select(&old, &pats, None, now, Precedence::Lifeboat),
            Selection::Leave(..)
        ));
        assert_eq!(
            select(
                &svc,
                &[UserPattern::parse("S-1-5-19").unwrap()],
                None,
                now,
                Precedence::Lifeboat
            ),
            Selection::Take
        );
        assert!(glob("a*b*c", "axxbyyc") && !glob("a*b*c", "axxbyy") && glob("*", ""));
    }

    /// USMT's documented examples (`/ui` beats `/uel` beats `/ue`; all users by default).
    #[test]
    fn scanstate_precedence() {
        let now = 1_700_000_000;
        let recent = Some("2023-11-10T00:00:00Z");
        let stale = Some("2020-01-01T00:00:00Z");
        let u1 = user(
            r"CONTOSO\user1",
            "S-1-5-21-9-1001",
            UserKind::Domain,
            recent,
        );
        let u2 = user(r"CONTOSO\user2", "S-1-5-21-9-1002", UserKind::Domain, stale);
        let local = user(r"PC01\ann", "S-1-5-21-1-2-3-1001", UserKind::Local, stale);
        let p = |s: &[&str]| -> Vec<UserPattern> {
            s.iter().map(|x| UserPattern::parse(x).unwrap()).collect()
        };
        let take = |u: &User, pats: &[UserPattern], uel: Option<u64>| {
            select(u, pats, uel, now, Precedence::ScanState) == Selection::Take
        };
        // /ui:contoso\* /ue:contoso\user1: user1 still migrates, and so does everyone else.
        let pats = p(&[r"CONTOSO\*", r"!CONTOSO\user1"]);
        assert!(take(&u1, &pats, None) && take(&local, &pats, None));
        // /ue:contoso\user1 /uel:14: user1 migrates when used in 14 days; u2 (stale) not.
        let pats = p(&[r"!CONTOSO\user1"]);
        assert!(take(&u1, &pats, Some(14)));
        assert!(!take(&u2, &pats, Some(14)) && !take(&u1, &pats, None));
        // /ue:*\* /ui:contoso\user2: only user2.
        let pats = p(&[r"!*\*", r"CONTOSO\user2"]);
        assert!(take(&u2, &pats, None) && !take(&u1, &pats, None) && !take(&local, &pats, None));
        // /ui alone leaves nobody out: every user, ScanState's default.
        assert!(take(&local, &p(&[r"CONTOSO\user2"]), None));
    }
}
