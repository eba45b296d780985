//! A media tree being written, with names compared as FAT32, ISO 9660 readers and Windows
//! compare them: ignoring case. The ADK's `copype` writes `Boot\` and `EFI\Microsoft\Boot\`,
//! Windows install media `boot\` and `efi\microsoft\boot\`; whatever the builder adds goes
//! into the folder that is already there, in the base's own spelling, so the media never hold
//! two folders (or files) whose names differ only in case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{MediaError, Result};

pub struct MediaTree {
    root: PathBuf,
}

/// The parts of a media path (`\` or `/` separated).
fn parts(rel: &str) -> impl Iterator<Item = &str> {
    rel.split(['\\', '/'])
        .filter(|p| !p.is_empty() && *p != ".")
}

fn key(rel: &str) -> String {
    parts(rel).collect::<Vec<_>>().join("\\").to_lowercase()
}

/// The entry of `dir` named `name` in any case.
fn child(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    let exact = dir.join(name);
    if exact.symlink_metadata().is_ok() {
        return Ok(Some(exact));
    }
    let lower = name.to_lowercase();
    for e in std::fs::read_dir(dir).map_err(MediaError::io("list", dir))? {
        let e = e.map_err(MediaError::io("list", dir))?;
        if e.file_name().to_string_lossy().to_lowercase() == lower {
            return Ok(Some(e.path()));
        }
    }
    Ok(None)
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(MediaError::io("list", dir))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(MediaError::io("list", dir))?;
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

impl MediaTree {
    pub fn create(root: &Path) -> Result<MediaTree> {
        std::fs::create_dir_all(root).map_err(MediaError::io("create the folder", root))?;
        Ok(MediaTree { root: root.into() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder `rel`, created where missing; an existing folder is used whatever its case.
    pub fn folder(&self, rel: &str) -> Result<PathBuf> {
        let mut cur = self.root.clone();
        for part in parts(rel) {
            cur = match child(&cur, part)? {
                Some(p) if p.is_dir() => p,
                Some(p) => {
                    return Err(MediaError::NameClash {
                        first: p,
                        second: cur.join(part),
                    })
                }
                None => {
                    let p = cur.join(part);
                    std::fs::create_dir(&p).map_err(MediaError::io("create the folder", &p))?;
                    p
                }
            };
        }
        Ok(cur)
    }

    /// Where file `rel` goes: its folder resolved, and an existing file of that name in any
    /// case (which is then replaced).
    pub fn file_path(&self, rel: &str) -> Result<PathBuf> {
        let all: Vec<&str> = parts(rel).collect();
        let (name, dirs) = all
            .split_last()
            .ok_or_else(|| MediaError::Usage(format!("\"{rel}\" is not a file name")))?;
        let dir = self.folder(&dirs.join("\\"))?;
        match child(&dir, name)? {
            Some(p) if p.is_dir() => Err(MediaError::NameClash {
                first: p,
                second: dir.join(name),
            }),
            Some(p) => Ok(p),
            None => Ok(dir.join(name)),
        }
    }

    /// Copies `src` to `rel`, replacing a file of that name in any case.
    pub fn put(&self, rel: &str, src: &Path) -> Result<PathBuf> {
        let dst = self.file_path(rel)?;
        std::fs::copy(src, &dst).map_err(|source| copy_error(src, &dst, source))?;
        Ok(dst)
    }

    /// Writes `bytes` to `rel`, replacing a file of that name in any case.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf> {
        let dst = self.file_path(rel)?;
        std::fs::write(&dst, bytes).map_err(MediaError::io("write", &dst))?;
        Ok(dst)
    }

    /// Copies a base's media folder into the tree, merging folders whose names differ only in
    /// case, leaving out the files in `skip` (media paths, any case).
    pub fn merge(&self, from: &Path, skip: &[&str]) -> Result<()> {
        let skip: Vec<String> = skip.iter().map(|s| key(s)).collect();
        let mut seen = BTreeMap::new();
        self.merge_dir(from, "", &skip, &mut seen)
    }

    fn merge_dir(
        &self,
        dir: &Path,
        rel: &str,
        skip: &[String],
        seen: &mut BTreeMap<String, PathBuf>,
    ) -> Result<()> {
        for e in sorted_entries(dir)? {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}\\{name}")
            };
            let kind = e.file_type().map_err(MediaError::io("read", e.path()))?;
            if kind.is_dir() {
                self.folder(&rel)?;
                self.merge_dir(&e.path(), &rel, skip, seen)?;
            } else if kind.is_file() {
                let k = key(&rel);
                if skip.contains(&k) {
                    continue;
                }
                if let Some(first) = seen.insert(k, e.path()) {
                    return Err(MediaError::NameClash {
                        first,
                        second: e.path(),
                    });
                }
                self.put(&rel, &e.path())?;
            } else {
                return Err(MediaError::Base {
                    path: e.path(),
                    problem: "a link or special file; media trees hold only files and folders"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

/// A failed copy names the side that failed: reading the source or writing the target.
pub fn copy_error(src: &Path, dst: &Path, source: std::io::Error) -> MediaError {
    if std::fs::File::open(src).is_err() {
        MediaError::Io {
            action: "read",
            path: src.into(),
            source,
        }
    } else {
        MediaError::Io {
            action: "write",
            path: dst.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_merge_whatever_their_case() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        for f in [
            "Boot/BCD",
            "boot/etfsboot.com",
            "EFI/Microsoft/Boot/BCD",
            "efi/microsoft/boot/efisys.bin",
            "sources/boot.wim",
        ] {
            let p = base.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f).unwrap();
        }
        let tree = MediaTree::create(&dir.path().join("out")).unwrap();
        tree.merge(&base, &[r"SOURCES\BOOT.WIM"]).unwrap();
        let root: Vec<String> = sorted_entries(tree.root())
            .unwrap()
            .iter()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(root, ["Boot", "EFI", "sources"]);
        assert!(tree.root().join("Boot/etfsboot.com").is_file());
        assert!(tree.root().join("EFI/Microsoft/Boot/efisys.bin").is_file());
        assert!(!tree.root().join("sources/boot.wim").exists());
        let p = tree.write(r"efi\boot\BOOTX64.EFI", b"x").unwrap();
        assert_eq!(p, tree.root().join("EFI/boot/BOOTX64.EFI"));
        assert_eq!(
            tree.put("boot/bcd", &base.join("Boot/BCD")).unwrap(),
            tree.root().join("Boot/BCD")
        );
    }

    #[test]
    fn two_files_of_one_name_are_refused_with_both_named() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        for f in ["Boot/BCD", "boot/bcd"] {
            let p = base.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f).unwrap();
        }
        let tree = MediaTree::create(&dir.path().join("out")).unwrap();
        let err = tree.merge(&base, &[]).unwrap_err().to_string();
        assert!(
            err.contains("Boot/BCD") && err.contains("boot/bcd"),
            "{err}"
        );
    }
}
