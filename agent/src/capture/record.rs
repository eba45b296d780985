//! What the capture writes into the manifest: the types detect, the plan and the rules work
//! in, turned into the store's own records (`store::schema`). The one place where those
//! types meet the store's format, so a field they gain changes the format only when it is
//! added here (and to the schema, by its rule: fields are only ever added).

use serde::Serialize;

use crate::detect::model as detect;
use crate::known_folders::UserFolders;
use crate::plan;
use crate::rules;
use crate::rules::configxml;
use crate::store::schema;

/// The word detect's JSON uses for a kind or a state (`windows.old`, `not-recovered`,
/// `amd64`): what the store keeps of what it only reports.
fn word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<&detect::Installation> for schema::Source {
    fn from(i: &detect::Installation) -> Self {
        schema::Source {
            index: i.index,
            root: i.root.clone(),
            windir: i.windir.clone(),
            kind: word(&i.kind),
            product_name: i.product_name.clone(),
            edition: i.edition.clone(),
            display_version: i.display_version.clone(),
            build: i.build,
            ubr: i.ubr,
            family: i.family.clone(),
            arch: i.arch.as_ref().map(word),
            arch_evidence: schema::ArchEvidence {
                kernel: i.arch_evidence.kernel.as_ref().map(word),
                registry: i.arch_evidence.registry.as_ref().map(word),
                override_bits: i.arch_evidence.override_bits,
                conflict: i.arch_evidence.conflict.clone(),
            },
            computer_name: i.computer_name.clone(),
            install_date: i.install_date.clone(),
            system_root_original: i.system_root_original.clone(),
            registered_owner: i.registered_owner.clone(),
            hives: i.hives.iter().map(hive).collect(),
            hibernated: i.hibernated,
            drive_letters: i.drive_letters.iter().map(drive_letter).collect(),
            users: i.users.iter().map(source_user).collect(),
            applications: i.applications.iter().map(application).collect(),
            warnings: i.warnings.clone(),
        }
    }
}

fn hive(h: &detect::HiveState) -> schema::Hive {
    schema::Hive {
        name: h.name.clone(),
        path: h.path.clone(),
        state: word(&h.state),
        detail: h.detail.clone(),
    }
}

fn drive_letter(d: &detect::DriveLetter) -> schema::DriveLetter {
    schema::DriveLetter {
        letter: d.letter.clone(),
        identity: word(&d.identity),
        now_at: d.now_at.clone(),
        how: d.how.as_ref().map(word),
    }
}

fn source_user(u: &detect::User) -> schema::SourceUser {
    schema::SourceUser {
        sid: u.sid.clone(),
        name: u.name.clone(),
        name_source: word(&u.name_source),
        name_is_guess: u.name_is_guess,
        display_name: u.display_name.clone(),
        profile_path_original: u.profile_path_original.clone(),
        profile_path: u.profile_path.clone(),
        has_ntuser: u.has_ntuser,
        last_used: u.last_used.clone(),
        kind: word(&u.kind),
    }
}

fn application(a: &detect::Application) -> schema::Application {
    schema::Application {
        name: a.name.clone(),
        version: a.version.clone(),
        publisher: a.publisher.clone(),
        view: word(&a.view),
    }
}

impl From<&plan::Skipped> for schema::Skipped {
    fn from(s: &plan::Skipped) -> Self {
        schema::Skipped {
            path: s.path.clone(),
            reason: s.reason.clone(),
            kind: s.kind.into(),
        }
    }
}

impl From<plan::SkipKind> for schema::SkipKind {
    fn from(k: plan::SkipKind) -> Self {
        use plan::SkipKind as P;
        use schema::SkipKind as S;
        match k {
            P::Unreadable => S::Unreadable,
            P::FolderUnreadable => S::FolderUnreadable,
            P::HiveUnreadable => S::HiveUnreadable,
            P::Vanished => S::Vanished,
            P::BadName => S::BadName,
            P::Link => S::Link,
            P::NotRegular => S::NotRegular,
            P::CloudPlaceholder => S::CloudPlaceholder,
            P::Encrypted => S::Encrypted,
            P::RegistryDamaged => S::RegistryDamaged,
            P::TooDeep => S::TooDeep,
            P::Other => S::Other,
        }
    }
}

/// A recorded kind read back, for what the capture decides on it (is it an error, which
/// Win32 code ScanState's progress log gives it).
impl From<schema::SkipKind> for plan::SkipKind {
    fn from(k: schema::SkipKind) -> Self {
        use plan::SkipKind as P;
        use schema::SkipKind as S;
        match k {
            S::Unreadable => P::Unreadable,
            S::FolderUnreadable => P::FolderUnreadable,
            S::HiveUnreadable => P::HiveUnreadable,
            S::Vanished => P::Vanished,
            S::BadName => P::BadName,
            S::Link => P::Link,
            S::NotRegular => P::NotRegular,
            S::CloudPlaceholder => P::CloudPlaceholder,
            S::Encrypted => P::Encrypted,
            S::RegistryDamaged => P::RegistryDamaged,
            S::TooDeep => P::TooDeep,
            S::Other => P::Other,
        }
    }
}

impl From<&plan::LeftUser> for schema::LeftUser {
    fn from(u: &plan::LeftUser) -> Self {
        use plan::LeaveKind as P;
        use schema::LeaveKind as S;
        schema::LeftUser {
            sid: u.sid.clone(),
            name: u.name.clone(),
            reason: u.reason.clone(),
            kind: match u.kind {
                P::Excluded => S::Excluded,
                P::NotNamed => S::NotNamed,
                P::NotARealUser => S::NotARealUser,
                P::Unused => S::Unused,
                P::ProfileMissing => S::ProfileMissing,
            },
        }
    }
}

impl From<&UserFolders> for schema::UserFolders {
    fn from(f: &UserFolders) -> Self {
        schema::UserFolders {
            profile: f.profile.clone(),
            known: f.known.clone(),
        }
    }
}

impl From<&plan::ComponentSize> for schema::ComponentSize {
    fn from(c: &plan::ComponentSize) -> Self {
        schema::ComponentSize {
            component: c.component.clone(),
            files: c.files,
            bytes: c.bytes,
        }
    }
}

impl From<&plan::RestoreEntry> for schema::RestoreEntry {
    fn from(e: &plan::RestoreEntry) -> Self {
        use rules::RestoreKind as R;
        use schema::RestoreKind as S;
        schema::RestoreEntry {
            component: e.component.clone(),
            kind: match e.kind {
                R::Merge => S::Merge,
                R::LocationModify => S::LocationModify,
                R::ContentModify => S::ContentModify,
                R::DestinationCleanup => S::DestinationCleanup,
                R::IncludeFilter => S::IncludeFilter,
                R::ExcludeFilter => S::ExcludeFilter,
                R::AddObjects => S::AddObjects,
            },
            script: e.script.as_ref().map(|c| schema::Call {
                name: c.name.clone(),
                args: c.args.clone(),
            }),
            patterns: e.patterns.clone(),
            source_args: e.source_args.clone(),
        }
    }
}

impl From<&configxml::ProfileControl> for schema::ProfileControl {
    fn from(p: &configxml::ProfileControl) -> Self {
        use configxml::AppliesTo as C;
        use schema::AppliesTo as S;
        schema::ProfileControl {
            change_groups: p
                .change_groups
                .iter()
                .map(|g| schema::ChangeGroup {
                    from: g.from.clone(),
                    to: g.to.clone(),
                    applies_to: match g.applies_to {
                        C::MigratedUsers => S::MigratedUsers,
                        C::NonMigratedUsers => S::NonMigratedUsers,
                        C::AllUsers => S::AllUsers,
                    },
                    include: g.include.clone(),
                    exclude: g.exclude.clone(),
                })
                .collect(),
            domains: p.domains.clone(),
            users: p.users.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_words_are_the_stores() {
        assert_eq!(word(&detect::InstallKind::WindowsOld), "windows.old");
        assert_eq!(word(&detect::HiveStatus::NotRecovered), "not-recovered");
        assert_eq!(word(&detect::AppView::Bits32), "32-bit");
        assert_eq!(word(&detect::LetterSource::OfflineXml), "offline-xml");
        assert_eq!(
            word(&detect::NameSource::SamMicrosoftAccount),
            "sam-microsoft-account"
        );
        assert_eq!(word(&crate::pe::Arch::Amd64), "amd64");
    }
}
