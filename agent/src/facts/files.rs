//! File objects of the offline system: a Windows path (`C:\Program Files\App [app.exe]`,
//! `%CSIDL_LOCAL_APPDATA%\Google\Chrome\Application\1.*` once expanded) found on the
//! volumes through the installation's [`LetterMap`], `*` in folder and file names matched
//! one level per segment within [`FACTS_MAX_ENTRIES`]. Links are never followed.

use super::OverBudget;
use crate::limits::FACTS_MAX_ENTRIES;
use crate::rules::pattern::glob;
use crate::rules::Pattern;
use crate::volume::{Kind, Place};
use crate::winpath::{split_drive, LetterMap};

/// A file or folder found: its Windows path and where it is now.
#[derive(Debug, Clone)]
pub struct Found {
    pub win: String,
    pub place: Place,
    pub is_dir: bool,
}

fn join(dir: &str, name: &str) -> String {
    format!(r"{}\{name}", dir.trim_end_matches('\\'))
}

/// The entries of a folder (no link followed), each counted against `budget`.
fn entries(dir: &Found, budget: &mut usize) -> Result<Vec<Found>, OverBudget> {
    let Ok(listing) = dir.place.list() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (e, place) in listing {
        *budget = budget.checked_sub(1).ok_or(OverBudget)?;
        if matches!(e.kind, Kind::Link | Kind::Other) {
            continue;
        }
        out.push(Found {
            win: join(&dir.win, &e.name),
            place,
            is_dir: e.kind == Kind::Folder,
        });
    }
    Ok(out)
}

/// Every file or folder `p` names. `Err` names why it cannot be told.
pub fn objects(letters: &LetterMap, p: &Pattern) -> Result<Vec<Found>, String> {
    let Some((letter, rest)) = split_drive(&p.node) else {
        return Err(format!("{} is not a drive path", p.node));
    };
    let root_win = format!("{letter}:");
    let Some(root_place) = letters.find(&format!(r"{root_win}\")) else {
        return Ok(Vec::new());
    };
    let root = Found {
        win: root_win,
        place: root_place,
        is_dir: true,
    };
    let mut budget = FACTS_MAX_ENTRIES;
    walk(root, rest, p, &mut budget).map_err(|OverBudget| {
        format!("{p}: more than {FACTS_MAX_ENTRIES} entries to look at; not followed")
    })
}

/// The pattern's node below `root` (with its subfolders when recursive), then its leaf in
/// each of those folders.
fn walk(
    root: Found,
    rest: &str,
    p: &Pattern,
    budget: &mut usize,
) -> Result<Vec<Found>, OverBudget> {
    let mut level = node(root, rest, budget)?;
    if p.recursive {
        add_subfolders(&mut level, budget)?;
    }
    match &p.leaf {
        None => Ok(level),
        Some(leaf) => leaves(&level, leaf, budget),
    }
}

/// What the node's segments name, one level per segment: a `*` segment matches the names
/// in the folder, any other is found without regard to case.
fn node(root: Found, rest: &str, budget: &mut usize) -> Result<Vec<Found>, OverBudget> {
    let mut level = vec![root];
    for seg in crate::winpath::normal_components(rest) {
        let mut next = Vec::new();
        for d in level.iter().filter(|d| d.is_dir) {
            if seg.contains('*') {
                next.extend(matching(d, &seg.to_lowercase(), budget)?);
            } else if let Some(place) = d.place.child(seg) {
                let Ok(meta) = place.meta() else {
                    continue;
                };
                next.push(Found {
                    win: join(&d.win, seg),
                    place,
                    is_dir: meta.is_dir(),
                });
            }
        }
        level = next;
        if level.is_empty() {
            break;
        }
    }
    Ok(level)
}

/// Every folder below those in `level`, added to it.
fn add_subfolders(level: &mut Vec<Found>, budget: &mut usize) -> Result<(), OverBudget> {
    let mut stack: Vec<Found> = level.iter().filter(|f| f.is_dir).cloned().collect();
    while let Some(d) = stack.pop() {
        for e in entries(&d, budget)? {
            if e.is_dir {
                stack.push(e.clone());
                level.push(e);
            }
        }
    }
    Ok(())
}

/// The files named `leaf` in the folders of `level` (`*` alone also names each folder).
fn leaves(level: &[Found], leaf: &str, budget: &mut usize) -> Result<Vec<Found>, OverBudget> {
    let pat = leaf.to_lowercase();
    let mut out = Vec::new();
    for d in level.iter().filter(|d| d.is_dir) {
        if !pat.is_empty() && pat.bytes().all(|c| c == b'*') {
            out.push(d.clone());
        }
        if !pat.contains('*') {
            if let Some(place) = d.place.child(leaf).filter(Place::is_file) {
                out.push(Found {
                    win: join(&d.win, leaf),
                    place,
                    is_dir: false,
                });
            }
            continue;
        }
        out.extend(matching(d, &pat, budget)?.into_iter().filter(|e| !e.is_dir));
    }
    Ok(out)
}

/// The entries of folder `d` whose names match the lower-case wildcard `pat`.
fn matching(d: &Found, pat: &str, budget: &mut usize) -> Result<Vec<Found>, OverBudget> {
    let mut out = entries(d, budget)?;
    out.retain(|e| {
        let name = e.win.rsplit('\\').next().unwrap_or("").to_lowercase();
        glob(pat.as_bytes(), name.as_bytes())
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;
    use crate::rules::pattern::parse;
    use crate::rules::ObjectKind;

    /// `C:` with `Program Files\{App, Apple, Other}`: files, a subfolder and a link.
    fn volume() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let pf = root.path().join("Program Files");
        for dir in ["App/Sub/Deeper", "Apple", "Other"] {
            fs::create_dir_all(pf.join(dir)).unwrap();
        }
        for file in [
            "App/app.exe",
            "App/ReadMe.TXT",
            "App/Sub/helper.exe",
            "App/Sub/Deeper/deep.dll",
            "Apple/apple.exe",
            "Other/other.exe",
        ] {
            fs::write(pf.join(file), b"x").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(pf.join("Other/other.exe"), pf.join("App/link.exe")).unwrap();
        root
    }

    fn found(vol: &Path, pattern: &str) -> Result<Vec<(String, bool)>, String> {
        let mut letters = LetterMap::default();
        letters.insert('C', Place::host(vol));
        let p = parse(ObjectKind::File, pattern).unwrap();
        let mut out: Vec<_> = objects(&letters, &p)?
            .into_iter()
            .map(|f| {
                let host = f.place.host_path().unwrap();
                assert!(host.starts_with(vol), "{host:?}");
                (f.win, f.is_dir)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn names(items: &[(&str, bool)]) -> Vec<(String, bool)> {
        items.iter().map(|(w, d)| (w.to_string(), *d)).collect()
    }

    #[test]
    fn literal_names_are_found_in_any_case() {
        let vol = volume();
        assert_eq!(
            found(vol.path(), r"c:\PROGRAM FILES\app [APP.EXE]").unwrap(),
            names(&[(r"C:\PROGRAM FILES\app\APP.EXE", false)])
        );
        assert_eq!(
            found(vol.path(), r"C:\Program Files\App").unwrap(),
            names(&[(r"C:\Program Files\App", true)])
        );
        assert_eq!(
            found(vol.path(), r"C:\Program Files\Gone [a.exe]"),
            Ok(vec![])
        );
        assert_eq!(found(vol.path(), r"C:\Program Files\App [Sub]"), Ok(vec![]));
        assert_eq!(
            found(vol.path(), r"C:\Program Files\App [link.exe]"),
            Ok(vec![])
        );
    }

    #[test]
    fn wildcards_match_one_level_and_leave_links_out() {
        let vol = volume();
        assert_eq!(
            found(vol.path(), r"C:\Program Files\AP* [*.EXE]").unwrap(),
            names(&[
                (r"C:\Program Files\App\app.exe", false),
                (r"C:\Program Files\Apple\apple.exe", false),
            ])
        );
        assert_eq!(
            found(vol.path(), r"C:\Program Files\App [*]").unwrap(),
            names(&[
                (r"C:\Program Files\App", true),
                (r"C:\Program Files\App\ReadMe.TXT", false),
                (r"C:\Program Files\App\app.exe", false),
            ])
        );
    }

    #[test]
    fn recursive_patterns_look_in_every_subfolder() {
        let vol = volume();
        assert_eq!(
            found(vol.path(), r"C:\Program Files\App\* [*.exe]").unwrap(),
            names(&[
                (r"C:\Program Files\App\Sub\helper.exe", false),
                (r"C:\Program Files\App\app.exe", false),
            ])
        );
        assert_eq!(
            found(vol.path(), r"C:\Program Files\App\*").unwrap(),
            names(&[
                (r"C:\Program Files\App", true),
                (r"C:\Program Files\App\Sub", true),
                (r"C:\Program Files\App\Sub\Deeper", true),
            ])
        );
    }

    #[test]
    fn paths_without_a_drive_or_on_no_volume() {
        let vol = volume();
        assert!(found(vol.path(), r"\\server\share [a]").is_err());
        assert_eq!(found(vol.path(), r"D:\Program Files [a.exe]"), Ok(vec![]));
    }
}
