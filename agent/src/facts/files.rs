//! File objects of the offline system: a Windows path (`C:\Program Files\App [app.exe]`,
//! `%CSIDL_LOCAL_APPDATA%\Google\Chrome\Application\1.*` once expanded) found on the
//! volumes through the installation's [`LetterMap`], `*` in folder and file names matched
//! one level per segment within [`FACTS_MAX_ENTRIES`]. Links are never followed.

use std::path::PathBuf;

use crate::limits::FACTS_MAX_ENTRIES;
use crate::rules::pattern::glob;
use crate::rules::Pattern;
use crate::winpath::{split_drive, LetterMap};

/// A file or folder found: its Windows path and where it is on this machine.
#[derive(Debug, Clone)]
pub struct Found {
    pub win: String,
    pub host: PathBuf,
    pub is_dir: bool,
}

fn join(dir: &str, name: &str) -> String {
    format!(r"{}\{name}", dir.trim_end_matches('\\'))
}

/// The entries of a folder (no link followed), each counted against `budget`.
fn entries(dir: &Found, budget: &mut usize) -> Result<Vec<Found>, super::OverBudget> {
    let Ok(rd) = std::fs::read_dir(&dir.host) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        *budget = budget.checked_sub(1).ok_or(super::OverBudget)?;
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            continue;
        }
        out.push(Found {
            win: join(&dir.win, &e.file_name().to_string_lossy()),
            host: e.path(),
            is_dir: ft.is_dir(),
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
    let Some(root_host) = letters.to_host(&format!(r"{root_win}\")) else {
        return Ok(Vec::new());
    };
    let too_many =
        || format!("{p}: more than {FACTS_MAX_ENTRIES} entries to look at; not followed");
    let mut budget = FACTS_MAX_ENTRIES;
    let mut level = vec![Found {
        win: root_win,
        host: root_host,
        is_dir: true,
    }];
    for seg in crate::winpath::normal_components(rest) {
        let mut next = Vec::new();
        for d in level.iter().filter(|d| d.is_dir) {
            if seg.contains('*') {
                let pat = seg.to_lowercase();
                for e in entries(d, &mut budget).map_err(|_| too_many())? {
                    let name = e.win.rsplit('\\').next().unwrap_or("").to_lowercase();
                    if glob(pat.as_bytes(), name.as_bytes()) {
                        next.push(e);
                    }
                }
            } else if let Some(host) = crate::winpath::resolve_ci(&d.host, seg) {
                let Ok(meta) = std::fs::symlink_metadata(&host) else {
                    continue;
                };
                next.push(Found {
                    win: join(&d.win, seg),
                    host,
                    is_dir: meta.is_dir(),
                });
            }
        }
        level = next;
        if level.is_empty() {
            return Ok(Vec::new());
        }
    }
    if p.recursive {
        let mut stack: Vec<Found> = level.iter().filter(|f| f.is_dir).cloned().collect();
        while let Some(d) = stack.pop() {
            for e in entries(&d, &mut budget).map_err(|_| too_many())? {
                if e.is_dir {
                    stack.push(e.clone());
                    level.push(e);
                }
            }
        }
    }
    let Some(leaf) = &p.leaf else {
        return Ok(level);
    };
    let pat = leaf.to_lowercase();
    let mut out = Vec::new();
    for d in level.iter().filter(|d| d.is_dir) {
        if !pat.is_empty() && pat.bytes().all(|c| c == b'*') {
            out.push(d.clone());
        }
        if !pat.contains('*') {
            if let Some(host) = crate::winpath::resolve_ci(&d.host, leaf) {
                if std::fs::symlink_metadata(&host).is_ok_and(|m| m.is_file()) {
                    out.push(Found {
                        win: join(&d.win, leaf),
                        host,
                        is_dir: false,
                    });
                }
            }
            continue;
        }
        for e in entries(d, &mut budget).map_err(|_| too_many())? {
            let name = e.win.rsplit('\\').next().unwrap_or("").to_lowercase();
            if !e.is_dir && glob(pat.as_bytes(), name.as_bytes()) {
                out.push(e);
            }
        }
    }
    Ok(out)
}
