//! Windows paths as the offline system saw them (`C:\Users\ann`) are kept as data; this is
//! the one place that turns them into paths on the machine Lifeboat runs on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::limits;
use crate::volume::Place;

/// Where each drive letter of the offline system is now. A letter may have several
/// candidate places (a Windows.old system drive: first `Windows.old`, then the volume).
#[derive(Debug, Clone, Default)]
pub struct LetterMap {
    map: BTreeMap<char, Vec<Place>>,
}

impl LetterMap {
    pub fn insert(&mut self, letter: char, place: Place) {
        let places = self.map.entry(letter.to_ascii_uppercase()).or_default();
        if !places.contains(&place) {
            places.push(place);
        }
    }

    /// Replaces whatever was known for `letter` (Offline.xml `<mappings>` win).
    pub fn set(&mut self, letter: char, place: Place) {
        self.map.insert(letter.to_ascii_uppercase(), vec![place]);
    }

    pub fn get(&self, letter: char) -> Option<&[Place]> {
        self.map
            .get(&letter.to_ascii_uppercase())
            .map(Vec::as_slice)
    }

    pub fn letters(&self) -> impl Iterator<Item = (char, &[Place])> {
        self.map.iter().map(|(l, p)| (*l, p.as_slice()))
    }

    /// Where `win_path` (`X:\…`) is, when it exists on a mapped volume.
    pub fn find(&self, win_path: &str) -> Option<Place> {
        let (letter, rest) = split_drive(win_path)?;
        self.get(letter)?
            .iter()
            .find_map(|base| base.resolve_ci(rest))
    }

    /// The host path `win_path` (`X:\…`) has or would have on its mapped volume: what
    /// exists is matched case-insensitively, the rest appended (see [`resolve_ci_new`]).
    /// For writing a new Windows (a restore into an offline installation, always a host
    /// folder).
    pub fn to_host_new(&self, win_path: &str) -> Option<PathBuf> {
        let (letter, rest) = split_drive(win_path)?;
        let base = self
            .get(letter)?
            .iter()
            .filter_map(Place::host_path)
            .find(|b| b.is_dir())?;
        resolve_ci_new(&base, rest)
    }
}

/// `C:\Users\x` → ('C', `Users\x`). UNC and relative paths give `None`.
pub fn split_drive(win_path: &str) -> Option<(char, &str)> {
    let mut chars = win_path.chars();
    let letter = chars.next()?;
    if !letter.is_ascii_alphabetic() || chars.next()? != ':' {
        return None;
    }
    Some((
        letter.to_ascii_uppercase(),
        win_path[2..].trim_start_matches(['\\', '/']),
    ))
}

/// The components of a relative Windows path with `.` and `..` resolved the way Windows
/// resolves them: `..` at the top stays at the top (`C:\..\..\x` is `C:\x`), so the result
/// can never leave the folder it is taken under.
pub fn normal_components(rel: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    for part in rel.split(['\\', '/']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts
}

/// [`normal_components`] of a path about to be joined to a host folder, or `None` when a
/// component holds a `:`. No file name on a Windows volume does; such a component is a
/// drive (`X:`, `X:name`) or an alternate data stream (`a.txt:hidden`), and on Windows
/// `Path::join` with `X:name` throws away the folder it was joined to: `C:\src\X:\secret`
/// would read drive X: of the machine running the agent.
fn host_components(rel: &str) -> Option<Vec<&str>> {
    let parts = normal_components(rel);
    if parts.iter().any(|p| p.contains(':')) {
        return None;
    }
    Some(parts)
}

/// A drive path with `.` and `..` resolved as Windows resolves them (`C:\Users\..\..\x`
/// is `C:\x`), so that the path recorded in a store is the place that was read. Anything
/// else (a UNC path, a path with an unknown `%VARIABLE%` in front) is left as it is.
pub fn normalize(win_path: &str) -> String {
    match split_drive(win_path) {
        Some((letter, rest)) => {
            format!("{letter}:\\{}", normal_components(rest).join("\\"))
        }
        None => win_path.to_string(),
    }
}

/// Finds `rel` (backslash- or slash-separated) under `base`, matching each component
/// case-insensitively as Windows would. Needed on Linux, where an NTFS mount is
/// case-sensitive but the registry's paths are not in the files' own case.
///
/// This is the one place a path from a source (a hive value, a rule, Offline.xml) becomes
/// a host path, and it cannot leave `base`: `..` is resolved lexically first (see
/// [`normal_components`]), and a link (a symlink, or a junction as ntfs-3g shows it) on the
/// way is never followed: the path is then not found. A component with a `:` (a drive or
/// a data stream) is never joined: the path is not found.
pub fn resolve_ci(base: &Path, rel: &str) -> Option<PathBuf> {
    let mut cur = base.to_path_buf();
    for part in host_components(rel)? {
        let exact = cur.join(part);
        let next = match std::fs::symlink_metadata(&exact) {
            Ok(_) => exact,
            Err(_) => {
                let lower = part.to_lowercase();
                std::fs::read_dir(&cur)
                    .ok()?
                    .flatten()
                    .find(|e| e.file_name().to_string_lossy().to_lowercase() == lower)?
                    .path()
            }
        };
        if std::fs::symlink_metadata(&next)
            .ok()?
            .file_type()
            .is_symlink()
        {
            return None;
        }
        cur = next;
    }
    std::fs::symlink_metadata(&cur).ok().map(|_| cur)
}

/// The outermost of `paths` (backslash-separated Windows paths or registry keys), each
/// once: a path at or below another one is dropped, case-insensitively. Sorted by their
/// components, so that whatever lies below a path follows it directly: n log n, where
/// comparing each path with every other was quadratic (40k rule patterns took 82 s).
pub fn outermost(paths: Vec<String>) -> Vec<String> {
    let mut keyed: Vec<(Vec<String>, String)> = paths
        .into_iter()
        .map(|p| {
            let parts = p
                .to_lowercase()
                .split('\\')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            (parts, p)
        })
        .collect();
    keyed.sort();
    let mut out: Vec<String> = Vec::new();
    let mut last: Option<Vec<String>> = None;
    for (parts, p) in keyed {
        if last.as_ref().is_some_and(|l| parts.starts_with(l)) {
            continue;
        }
        last = Some(parts);
        out.push(p);
    }
    out
}

/// Why a `%VARIABLE%` expansion gave no text. The text it came from is hostile (a hive
/// value, a rules file), so nesting, self-reference and growth are bounded
/// ([`limits::EXPAND_MAX_DEPTH`], [`limits::EXPAND_MAX_CHARS`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("%{0}% is not known here")]
    Unknown(String),
    #[error("%{0}% refers to itself")]
    SelfReference(String),
    #[error("%{0}% nests variables more than {max} deep", max = limits::EXPAND_MAX_DEPTH)]
    TooDeep(String),
    #[error("the text grows beyond {max} characters once its variables are expanded", max = limits::EXPAND_MAX_CHARS)]
    TooLong,
    #[error("the text names variables more than {max} times once they are expanded", max = limits::EXPAND_MAX_REFERENCES)]
    TooManyReferences,
}

/// What [`expand`] does with a `%NAME%` it has no value for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Left as written (`%FOO%`), as Windows' `ExpandEnvironmentStrings` does: for paths
    /// read from the registry, which may name variables of the old session.
    Keep,
    /// The whole expansion fails naming it: a rule under an unknown folder matches nothing.
    Fail,
}

/// The one `%VARIABLE%` expander (hive paths through [`expand_vars`], rules through
/// `rules::expand`). Replaces `%NAME%` in `text` by `lookup(NAME)` (the lookup decides on case), expanding
/// variables inside values too. A `%` that does not start a name (`100% sure`, `%a b%`) is
/// text. A name met again inside its own value is a self-reference: kept as written with
/// [`Unknown::Keep`] (one pass, as Windows does), an error with [`Unknown::Fail`].
pub fn expand<'v>(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<&'v str>,
    unknown: Unknown,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len().min(limits::EXPAND_MAX_CHARS));
    Expansion {
        lookup,
        unknown,
        active: Vec::new(),
        references: 0,
    }
    .run(text, &mut out)?;
    Ok(out)
}

struct Expansion<'a, 'v> {
    lookup: &'a dyn Fn(&str) -> Option<&'v str>,
    unknown: Unknown,
    /// Names being expanded, outermost first.
    active: Vec<String>,
    /// References met so far: values of empty variables make no text but still cost.
    references: usize,
}

impl Expansion<'_, '_> {
    fn push(out: &mut String, s: &str) -> Result<(), ExpandError> {
        if out.len() + s.len() > limits::EXPAND_MAX_CHARS {
            return Err(ExpandError::TooLong);
        }
        out.push_str(s);
        Ok(())
    }

    fn run(&mut self, text: &str, out: &mut String) -> Result<(), ExpandError> {
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            Self::push(out, &rest[..start])?;
            let after = &rest[start + 1..];
            let Some(end) = after.find('%') else {
                return Self::push(out, &rest[start..]);
            };
            let name = &after[..end];
            if name.is_empty() || name.contains(['\\', ' ', '[', ']']) {
                // Not a name: keep the '%' and look for a reference after it.
                Self::push(out, "%")?;
                rest = after;
                continue;
            }
            rest = &after[end + 1..];
            self.references += 1;
            if self.references > limits::EXPAND_MAX_REFERENCES {
                return Err(ExpandError::TooManyReferences);
            }
            let looped = self.active.iter().any(|a| a.eq_ignore_ascii_case(name));
            match (self.lookup)(name) {
                Some(_) if looped && self.unknown == Unknown::Fail => {
                    return Err(ExpandError::SelfReference(name.to_string()))
                }
                Some(value) if !looped => {
                    if self.active.len() >= limits::EXPAND_MAX_DEPTH {
                        return Err(ExpandError::TooDeep(name.to_string()));
                    }
                    self.active.push(name.to_string());
                    self.run(value, out)?;
                    self.active.pop();
                }
                None if self.unknown == Unknown::Fail => {
                    return Err(ExpandError::Unknown(name.to_string()))
                }
                _ => {
                    Self::push(out, "%")?;
                    Self::push(out, name)?;
                    Self::push(out, "%")?;
                }
            }
        }
        Self::push(out, rest)
    }
}

/// Windows-style expansion of a path read from a hive (`ProfileImagePath`, `User Shell
/// Folders`): unknown and self-referencing names stay as written; a text whose expansion
/// passes the limits stays as it is, unexpanded (it then names no folder).
pub fn expand_vars(text: &str, vars: &[(&str, &str)]) -> String {
    expand(text, &pairs(vars), Unknown::Keep).unwrap_or_else(|_| text.to_string())
}

/// A lookup for [`expand`] over `(name, value)` pairs, names case-insensitive.
pub fn pairs<'v>(vars: &'v [(&'v str, &'v str)]) -> impl Fn(&str) -> Option<&'v str> + 'v {
    move |name| {
        vars.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// [`resolve_ci`] for a path that may not exist yet: the existing part is matched
/// case-insensitively, the missing components are appended as given. Like `resolve_ci` it
/// cannot leave `base` and refuses a link met on the way (`None`).
pub fn resolve_ci_new(base: &Path, rel: &str) -> Option<PathBuf> {
    let mut cur = base.to_path_buf();
    let mut missing = false;
    for part in host_components(rel)? {
        if missing {
            cur.push(part);
            continue;
        }
        match resolve_ci(&cur, part) {
            Some(next) => cur = next,
            None => {
                let exact = cur.join(part);
                if std::fs::symlink_metadata(&exact).is_ok() {
                    // There, but a link (resolve_ci refuses links).
                    return None;
                }
                missing = true;
                cur = exact;
            }
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_drive_letters() {
        assert_eq!(split_drive(r"c:\Users\ann"), Some(('C', r"Users\ann")));
        assert_eq!(split_drive(r"D:"), Some(('D', "")));
        assert_eq!(split_drive(r"\\srv\share"), None);
        assert_eq!(split_drive("x"), None);
    }

    #[test]
    fn expands_known_variables_only() {
        let vars = [("SystemDrive", "C:"), ("USERPROFILE", r"C:\Users\ann")];
        let keep = |t: &str| expand(t, &pairs(&vars), Unknown::Keep);
        assert_eq!(expand_vars(r"%SystemDrive%\%x%", &vars), r"C:\%x%");
        assert_eq!(keep(r"%systemdrive%\Users\x").unwrap(), r"C:\Users\x");
        assert_eq!(
            keep(r"%USERPROFILE%\%FOO%\a%").unwrap(),
            r"C:\Users\ann\%FOO%\a%"
        );
        assert_eq!(keep("100% sure").unwrap(), "100% sure");
        assert_eq!(
            expand(r"%FOO%\x", &pairs(&vars), Unknown::Fail),
            Err(ExpandError::Unknown("FOO".into()))
        );
    }

    #[test]
    fn nested_values_are_bounded() {
        let nested = [
            ("A", r"%B%\a"),
            ("B", r"%SystemDrive%\b"),
            ("SystemDrive", "C:"),
        ];
        assert_eq!(
            expand("%a%", &pairs(&nested), Unknown::Fail).unwrap(),
            r"C:\b\a"
        );
        // A value naming itself (directly or through another) stays as written in one
        // Windows-like pass, and is an error for rules.
        let looped = [("L", "x%M%"), ("M", "%L%y")];
        assert_eq!(
            expand("%L%", &pairs(&looped), Unknown::Keep).unwrap(),
            "x%L%y"
        );
        assert_eq!(
            expand("%L%", &pairs(&looped), Unknown::Fail),
            Err(ExpandError::SelfReference("L".into()))
        );
        // Each level doubles: 2^40 characters without a bound, an error with it.
        let names: Vec<String> = (0..41).map(|i| format!("V{i}")).collect();
        let values: Vec<String> = (0..41)
            .map(|i| match i {
                40 => "x".to_string(),
                _ => format!("%V{}%%V{}%", i + 1, i + 1),
            })
            .collect();
        let doubling: Vec<(&str, &str)> = names
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            expand("%V33%", &pairs(&doubling), Unknown::Keep).unwrap(),
            "x".repeat(128)
        );
        assert!(matches!(
            expand("%V0%", &pairs(&doubling), Unknown::Keep),
            Err(ExpandError::TooDeep(_))
        ));
        let wide = [
            ("W", "%X%%X%%X%%X%%X%%X%%X%%X%"),
            ("X", "%Y%%Y%%Y%%Y%%Y%%Y%%Y%%Y%"),
        ];
        let y = "y".repeat(2000);
        let lookup = |n: &str| match n {
            "Y" => Some(y.as_str()),
            n => pairs(&wide)(n),
        };
        assert_eq!(
            expand("%W%", &lookup, Unknown::Keep),
            Err(ExpandError::TooLong)
        );
        // Empty values make no text, yet 1000^8 references would never end.
        let (r, s) = ("%S%".repeat(1000), "%E%".repeat(1000));
        let lookup = |n: &str| match n {
            "R" => Some(r.as_str()),
            "S" => Some(s.as_str()),
            _ => Some(""),
        };
        assert_eq!(
            expand("%R%", &lookup, Unknown::Keep),
            Err(ExpandError::TooManyReferences)
        );
    }

    #[test]
    fn outermost_paths_once() {
        let got = outermost(
            [
                r"C:\a b",
                r"C:\A\x",
                r"c:\a",
                r"C:\a\",
                r"D:\z\y",
                r"d:\Z\y\w",
                r"C:\ab",
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got
            .iter()
            .any(|p| p.eq_ignore_ascii_case(r"C:\a") || p == r"C:\a\"));
        assert!(got.contains(&r"C:\a b".to_string()));
        assert!(got.contains(&r"C:\ab".to_string()));
        assert!(got.contains(&r"D:\z\y".to_string()));
        assert_eq!(
            outermost(vec![String::new(), "x".into()]),
            vec![String::new()]
        );
    }

    #[test]
    fn resolves_case_insensitively() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Users/Ann/Documents")).unwrap();
        let got = resolve_ci(dir.path(), r"users\ANN\documents").unwrap();
        assert_eq!(got, dir.path().join("Users/Ann/Documents"));
        assert!(resolve_ci(dir.path(), r"users\bob").is_none());
        // `..` stays inside the base, as Windows keeps `C:\..\..` at `C:\`.
        assert_eq!(
            resolve_ci(dir.path(), r"..\..\Users\x\..\Ann"),
            Some(dir.path().join("Users/Ann"))
        );
        assert_eq!(normal_components(r"..\a\.\b\..\..\..\c"), vec!["c"]);
        assert_eq!(normalize(r"c:\Users\ann\..\..\..\x\.\y"), r"C:\x\y");
        assert_eq!(normalize(r"D:"), r"D:\");
        assert_eq!(normalize(r"%X%\..\y"), r"%X%\..\y");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.path().join("Users/Ann/etc")).unwrap();
            assert!(resolve_ci(dir.path(), r"Users\Ann\etc\passwd").is_none());
            assert!(resolve_ci(dir.path(), r"Users\Ann\etc").is_none());
        }
        assert_eq!(
            resolve_ci_new(dir.path(), r"USERS\ann\New\..\Folder\x.txt"),
            Some(dir.path().join("Users/Ann/Folder/x.txt"))
        );
        #[cfg(unix)]
        assert_eq!(resolve_ci_new(dir.path(), r"Users\Ann\etc\x"), None);
        // A drive or a data stream inside a path is never joined: on Windows `X:\secret`
        // would replace the base. (On Linux a folder may be named `X:`; it is refused too.)
        #[cfg(unix)]
        {
            std::fs::create_dir_all(dir.path().join("Users/Ann/X:/secret")).unwrap();
            assert_eq!(resolve_ci(dir.path(), r"Users\Ann\X:\secret"), None);
            assert_eq!(resolve_ci(dir.path(), r"Users\Ann\X:secret"), None);
            assert_eq!(resolve_ci_new(dir.path(), r"Users\Ann\X:\secret\new"), None);
            assert_eq!(resolve_ci_new(dir.path(), r"Users\Ann\a.txt:hidden"), None);
        }
        let mut map = LetterMap::default();
        map.insert('c', Place::host(dir.path().join("missing")));
        map.insert('C', Place::host(dir.path()));
        assert_eq!(
            map.find(r"C:\USERS\ann").and_then(|p| p.host_path()),
            Some(dir.path().join("Users/Ann"))
        );
    }
}
