//! Where a captured path goes on the new machine. One [`Rebase`] per user, built from the
//! known folders the capture recorded and the ones the target user has now, serves both the
//! files and the settings that hold paths. Every path from the store is hostile: an image
//! path is checked component by component before it is mapped.

use std::collections::BTreeMap;

use crate::known_folders::UserFolders;
use crate::limits::{PATH_MAX_CHARS, RESTORE_REWRITE_MAX_BYTES};

/// Old → new folder prefixes, longest old prefix first.
#[derive(Debug, Clone, Default)]
pub struct Rebase {
    pairs: Vec<(String, String)>,
}

/// Where one captured path goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// Into the target user's folders: the new Windows path.
    User(String),
    /// Not below the old profile or a known folder: a machine path.
    Machine,
}

impl Rebase {
    /// From the source folders (as captured) and the target's (value name → path, and the
    /// target profile). Known folders present on both sides map onto each other; whatever
    /// else was under the old profile goes under the new one.
    pub fn new(
        source: &UserFolders,
        target_profile: &str,
        target_known: &BTreeMap<String, String>,
    ) -> Rebase {
        let mut pairs: Vec<(String, String)> = source
            .known
            .iter()
            .filter_map(|(name, old)| {
                let new = target_known
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))?
                    .1;
                Some((folder(old)?, folder(new)?))
            })
            .collect();
        if let (Some(old), Some(new)) = (folder(&source.profile), folder(target_profile)) {
            pairs.push((old, new));
        }
        // Longest first: `C:\Users\ann\Documents` before `C:\Users\ann`.
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        pairs.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
        Rebase { pairs }
    }

    /// The new place of `old` (a Windows path on the source).
    pub fn map(&self, old: &str) -> Mapped {
        match self.locate(old) {
            Some((to, rest)) => Mapped::User(format!("{to}{rest}")),
            None => Mapped::Machine,
        }
    }

    /// The new folder `old` goes below, and the rest of its path (`\a\b.txt`).
    pub fn locate(&self, old: &str) -> Option<(String, String)> {
        self.pairs.iter().find_map(|(from, to)| {
            strip_folder(old, from).map(|rest| (to.clone(), rest.to_string()))
        })
    }

    /// The new folder a path of the new machine (a MigXML move's result) lies in, the
    /// deepest one, and the rest of its path; None when it is outside the user's folders.
    pub fn within_target(&self, new: &str) -> Option<(String, String)> {
        self.pairs
            .iter()
            .filter_map(|(_, to)| strip_folder(new, to).map(|rest| (to.clone(), rest.to_string())))
            .max_by_key(|(to, _)| to.len())
    }

    /// Rewrites every old folder found inside a text (a registry value) at a path
    /// boundary; returns None when nothing changed, or when the text or its rewritten form
    /// would pass [`RESTORE_REWRITE_MAX_BYTES`] (the text is then left as it is). Every
    /// old folder is a real one ([`folder`]), so each match moves past at least `X:\a`.
    pub fn rewrite_text(&self, text: &str) -> Option<String> {
        if text.len() > RESTORE_REWRITE_MAX_BYTES {
            return None;
        }
        let mut out = String::new();
        let (mut i, mut copied) = (0, 0);
        while let Some(rest) = text.get(i..).filter(|r| !r.is_empty()) {
            match self.old_folder_at(rest) {
                Some((len, to)) => {
                    out.push_str(text.get(copied..i)?);
                    out.push_str(to);
                    i += len;
                    copied = i;
                    if out.len() > RESTORE_REWRITE_MAX_BYTES {
                        return None;
                    }
                }
                None => i += rest.chars().next().map_or(1, char::len_utf8),
            }
        }
        if copied == 0 {
            return None;
        }
        out.push_str(text.get(copied..)?);
        (out.len() <= RESTORE_REWRITE_MAX_BYTES).then_some(out)
    }

    /// The longest old folder `text` starts with, followed by a path boundary: the bytes of
    /// `text` it spans and the new folder.
    fn old_folder_at(&self, text: &str) -> Option<(usize, &str)> {
        self.pairs.iter().find_map(|(from, to)| {
            let len = starts_with_folded(text, from)?;
            boundary(text.get(len..)?).then_some((len, to.as_str()))
        })
    }
}

/// The bytes of `text` that spell `prefix`, character by character ignoring case (a case
/// mapping may change a character's length, as `İ` or the Kelvin sign do).
fn starts_with_folded(text: &str, prefix: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for p in prefix.chars() {
        let (_, c) = chars.next()?;
        if c != p && !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(at, _)| at))
}

/// A folder fit to map and to rewrite: `X:\name…` or `\\server\share…`, trimmed, without
/// a trailing backslash, every name in it real (not empty, `.` or `..`). An empty, blank,
/// `\`, drive-root or relative "folder" (a hostile or broken manifest) is None: used as a
/// prefix it would match everywhere, or nothing would advance past it.
pub fn folder(p: &str) -> Option<String> {
    let t = p.trim().trim_end_matches('\\');
    let names = match t.strip_prefix(r"\\") {
        Some(unc) => unc,
        None => {
            let b = t.as_bytes();
            if !(b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\') {
                return None;
            }
            t.get(3..)?
        }
    };
    let parts: Vec<&str> = names.split('\\').collect();
    let real = parts
        .iter()
        .all(|n| !n.trim().is_empty() && *n != "." && *n != "..");
    let enough = if t.starts_with(r"\\") {
        parts.len() >= 2
    } else {
        !parts.is_empty()
    };
    (real && enough).then(|| t.to_string())
}

fn trim(p: &str) -> String {
    p.trim().trim_end_matches('\\').to_string()
}

/// The path must continue with a separator or end (or the end of a quoted or listed path).
fn boundary(rest: &str) -> bool {
    matches!(
        rest.chars().next(),
        None | Some('\\' | '"' | ';' | ',' | ' ' | '\0' | '\'' | '|' | '>')
    )
}

/// `rest` (with its leading backslash, or empty) when `path` is `folder` or below it.
pub(super) fn strip_folder<'a>(path: &'a str, folder: &str) -> Option<&'a str> {
    let head = path.get(..folder.len())?;
    if !head.eq_ignore_ascii_case(folder) {
        return None;
    }
    let rest = &path[folder.len()..];
    (rest.is_empty() || rest.starts_with('\\')).then_some(rest)
}

/// Why an image path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnsafePath {
    /// Empty, `.` or `..` components, or none at all.
    Traversal,
    /// A character no Windows name may hold (`:` `/` NUL, control characters…).
    BadCharacter,
    /// The first component is not a drive folder (`C`).
    NoDrive,
    /// Longer than any Windows path can be.
    TooLong,
}

impl std::fmt::Display for UnsafePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnsafePath::Traversal => "empty, . or .. components",
            UnsafePath::BadCharacter => "a character Windows names cannot hold",
            UnsafePath::NoDrive => "not below a drive folder",
            UnsafePath::TooLong => "longer than a Windows path can be",
        })
    }
}

/// The Windows path a capture stored as image path `C\Users\ann\x` (`C:\Users\ann\x`),
/// refusing anything that could leave the folder it is placed in.
pub fn windows_path(image_path: &str) -> Result<String, UnsafePath> {
    if image_path.chars().count() > PATH_MAX_CHARS {
        return Err(UnsafePath::TooLong);
    }
    let parts: Vec<&str> = image_path.split('\\').collect();
    let (drive, rest) = parts.split_first().ok_or(UnsafePath::Traversal)?;
    if drive.len() != 1 || !drive.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(UnsafePath::NoDrive);
    }
    if rest.is_empty() {
        return Err(UnsafePath::Traversal);
    }
    for p in rest {
        if p.is_empty() || *p == "." || *p == ".." {
            return Err(UnsafePath::Traversal);
        }
        if p.chars()
            .any(|c| c.is_control() || matches!(c, ':' | '/' | '<' | '>' | '"' | '|' | '?' | '*'))
        {
            return Err(UnsafePath::BadCharacter);
        }
    }
    Ok(format!(
        "{}:\\{}",
        drive.to_ascii_uppercase(),
        rest.join("\\")
    ))
}

/// The components below `folder` of a Windows path known to be under it.
pub fn below<'a>(path: &'a str, folder: &str) -> Option<Vec<&'a str>> {
    let rest = strip_folder(path, trim(folder).as_str())?;
    Some(rest.split('\\').filter(|p| !p.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebase() -> Rebase {
        let source = UserFolders {
            profile: r"C:\Users\ann".into(),
            known: [
                ("Personal".to_string(), r"D:\Docs".to_string()),
                ("Desktop".to_string(), r"C:\Users\ann\Desktop".to_string()),
                (
                    "Favorites".to_string(),
                    r"C:\Users\ann\Favorites".to_string(),
                ),
            ]
            .into(),
        };
        let target: BTreeMap<String, String> = [
            (
                "Personal".to_string(),
                r"C:\Users\bob\OneDrive\Documents".to_string(),
            ),
            ("desktop".to_string(), r"C:\Users\bob\Desktop\".to_string()),
        ]
        .into();
        Rebase::new(&source, r"C:\Users\bob", &target)
    }

    #[test]
    fn known_folders_then_profile_then_machine() {
        let r = rebase();
        assert_eq!(
            r.map(r"d:\docs\a\b.txt"),
            Mapped::User(r"C:\Users\bob\OneDrive\Documents\a\b.txt".into())
        );
        assert_eq!(
            r.map(r"C:\Users\ann\Desktop\x"),
            Mapped::User(r"C:\Users\bob\Desktop\x".into())
        );
        // Favorites is not known on the target: it follows the profile.
        assert_eq!(
            r.map(r"C:\Users\ann\Favorites\f.url"),
            Mapped::User(r"C:\Users\bob\Favorites\f.url".into())
        );
        assert_eq!(r.map(r"C:\Users\anna\x"), Mapped::Machine);
        assert_eq!(r.map(r"D:\Docsx\y"), Mapped::Machine);
        assert_eq!(r.map(r"C:\Data\y"), Mapped::Machine);
    }

    #[test]
    fn rewrites_paths_inside_values_at_boundaries() {
        let r = rebase();
        assert_eq!(
            r.rewrite_text(r#""C:\USERS\ANN\AppData\x.exe" /d D:\Docs;C:\Users\anna"#)
                .as_deref(),
            Some(
                r#""C:\Users\bob\AppData\x.exe" /d C:\Users\bob\OneDrive\Documents;C:\Users\anna"#
            )
        );
        assert_eq!(r.rewrite_text(r"%USERPROFILE%\x"), None);
        assert_eq!(r.rewrite_text(r"C:\Users\annex"), None);
    }

    #[test]
    fn hostile_image_paths_are_refused() {
        assert_eq!(
            windows_path(r"C\Users\ann\ü.txt").as_deref(),
            Ok(r"C:\Users\ann\ü.txt")
        );
        for (p, why) in [
            (r"C\Users\..\..\x", UnsafePath::Traversal),
            (r"C\Users\\x", UnsafePath::Traversal),
            (r"C", UnsafePath::Traversal),
            (r"C\a:b", UnsafePath::BadCharacter),
            ("C\\a\u{1}b", UnsafePath::BadCharacter),
            (r"CD\x", UnsafePath::NoDrive),
            (r"\x", UnsafePath::NoDrive),
        ] {
            assert_eq!(windows_path(p), Err(why), "{p}");
        }
        assert_eq!(
            below(r"C:\Users\bob\Documents\a\b", r"C:\Users\bob\"),
            Some(vec!["Documents", "a", "b"])
        );
    }

    #[test]
    fn degenerate_folders_are_never_prefixes() {
        for bad in [
            "",
            " ",
            r"\",
            "C:",
            r"C:\",
            r"c:\\",
            r"\\",
            r"\\srv",
            r"\\srv\",
            r"Users\ann",
            r"C:\..",
            r"C:\.\x",
            r"C:\a\\b",
            "C:/Users/ann",
            r"C:\ \x",
        ] {
            assert_eq!(folder(bad), None, "{bad:?}");
        }
        assert_eq!(folder(r" C:\a\ ").as_deref(), Some(r"C:\a"));
        assert_eq!(
            folder(r"\\srv\share\ann").as_deref(),
            Some(r"\\srv\share\ann")
        );
        // A manifest whose profile and known folders are degenerate maps nothing and
        // rewrites nothing, at once (it once looped, allocating without end).
        for profile in ["", " ", r"\", r"C:\"] {
            let source = UserFolders {
                profile: profile.into(),
                known: [("Personal".to_string(), profile.to_string())].into(),
            };
            let target: BTreeMap<String, String> = [(
                "Personal".to_string(),
                r"C:\Users\bob\Documents".to_string(),
            )]
            .into();
            let r = Rebase::new(&source, r"C:\Users\bob", &target);
            assert_eq!(r.rewrite_text(r"C:\Users\ann\x \ y"), None, "{profile:?}");
            assert_eq!(r.map(r"C:\Users\ann\x"), Mapped::Machine, "{profile:?}");
        }
    }

    #[test]
    fn rewriting_is_bounded() {
        let source = UserFolders {
            profile: r"C:\a".into(),
            known: Default::default(),
        };
        let long = format!(r"C:\{}", "n".repeat(30_000));
        let r = Rebase::new(&source, &long, &Default::default());
        // A value of nothing but the short old folder, each growing 7,500 times.
        let text = r"C:\a;".repeat(1000);
        assert_eq!(r.rewrite_text(&text), None);
        let few = r"C:\a;".repeat(10);
        assert_eq!(
            r.rewrite_text(&few).map(|t| t.len()),
            Some(10 * (long.len() + 1))
        );
        let huge = "x".repeat(RESTORE_REWRITE_MAX_BYTES + 1);
        assert_eq!(r.rewrite_text(&huge), None);
    }
}
