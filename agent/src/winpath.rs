//! Windows paths as the offline system saw them (`C:\Users\ann`) are kept as data; this is
//! the one place that turns them into paths on the machine Lifeboat runs on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where each drive letter of the offline system is now. A letter may have several
/// candidate places (a Windows.old system drive: first `Windows.old`, then the volume).
#[derive(Debug, Clone, Default)]
pub struct LetterMap {
    map: BTreeMap<char, Vec<PathBuf>>,
}

impl LetterMap {
    pub fn insert(&mut self, letter: char, place: PathBuf) {
        let places = self.map.entry(letter.to_ascii_uppercase()).or_default();
        if !places.contains(&place) {
            places.push(place);
        }
    }

    /// Replaces whatever was known for `letter` (Offline.xml `<mappings>` win).
    pub fn set(&mut self, letter: char, place: PathBuf) {
        self.map.insert(letter.to_ascii_uppercase(), vec![place]);
    }

    pub fn get(&self, letter: char) -> Option<&[PathBuf]> {
        self.map
            .get(&letter.to_ascii_uppercase())
            .map(Vec::as_slice)
    }

    pub fn letters(&self) -> impl Iterator<Item = (char, &[PathBuf])> {
        self.map.iter().map(|(l, p)| (*l, p.as_slice()))
    }

    /// The host path of `win_path` (`X:\…`) when it exists on a mapped volume.
    pub fn to_host(&self, win_path: &str) -> Option<PathBuf> {
        let (letter, rest) = split_drive(win_path)?;
        self.get(letter)?
            .iter()
            .find_map(|base| resolve_ci(base, rest))
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
/// way is never followed: the path is then not found.
pub fn resolve_ci(base: &Path, rel: &str) -> Option<PathBuf> {
    let mut cur = base.to_path_buf();
    for part in normal_components(rel) {
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

/// Expands `%SystemDrive%`, `%SystemRoot%`/`%windir%` and `%ProgramData%`-style variables
/// known for the offline system; unknown variables are left as they are.
pub fn expand_vars(s: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(end) => {
                let name = &after[..end];
                match vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('%');
                        out.push_str(name);
                        out.push('%');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
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
        assert_eq!(expand_vars(r"%systemdrive%\Users\x", &vars), r"C:\Users\x");
        assert_eq!(
            expand_vars(r"%USERPROFILE%\%FOO%\a%", &vars),
            r"C:\Users\ann\%FOO%\a%"
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
        let mut map = LetterMap::default();
        map.insert('c', dir.path().join("missing"));
        map.insert('C', dir.path().to_path_buf());
        assert_eq!(
            map.to_host(r"C:\USERS\ann"),
            Some(dir.path().join("Users/Ann"))
        );
    }
}
