//! Opening a store that travelled on a stick or sat on a share: the manifest read within a
//! budget, every file it names resolved inside the store (a manifest is input like any
//! other: `../../etc/passwd`, a FIFO or `/dev/zero` as a `registry_file` are refused), and
//! each image's size in the WIM's own metadata checked against the manifest before a byte
//! is extracted. `verify`, `extract` and restore read stores through this.

use std::path::{Component, Path, PathBuf};

use super::error::StoreError;
use super::manifest::{Manifest, UserRecord, FILES_WIM, MANIFEST_FILE, REGISTRY_DIR};
use crate::fsread;
use crate::limits;
use crate::wim::{Totals, Wim};

/// A store whose manifest was read and parsed.
#[derive(Debug, Clone)]
pub struct StoreReader {
    dir: PathBuf,
    manifest: Manifest,
}

impl StoreReader {
    pub fn open(dir: &Path) -> Result<StoreReader, StoreError> {
        let path = dir.join(MANIFEST_FILE);
        let text =
            fsread::read_text_bounded(&path, limits::YAML_MAX_BYTES).map_err(
                |source| match source {
                    fsread::ReadError::Io { ref source, .. }
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        StoreError::NotAStore {
                            dir: dir.to_path_buf(),
                        }
                    }
                    source => StoreError::Read(source),
                },
            )?;
        let manifest = Manifest::from_yaml(&text)
            .map_err(|reason| StoreError::BadManifest { path, reason })?;
        Ok(StoreReader::with_manifest(dir, manifest))
    }

    /// A store being written, with the manifest the capture holds in memory.
    pub fn with_manifest(dir: &Path, manifest: Manifest) -> StoreReader {
        StoreReader {
            dir: dir.to_path_buf(),
            manifest,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Users' records, then the machine's.
    pub fn records(&self) -> impl Iterator<Item = &UserRecord> {
        self.manifest
            .users
            .iter()
            .chain(self.manifest.machine.iter())
    }

    /// The WIM's parts, each checked to be a plain name inside the store.
    pub fn wim_parts(&self) -> Result<Vec<PathBuf>, StoreError> {
        let parts: Vec<&str> = if self.manifest.wim.parts.is_empty() {
            vec![FILES_WIM]
        } else {
            self.manifest.wim.parts.iter().map(String::as_str).collect()
        };
        parts.into_iter().map(|p| self.entry(p, None)).collect()
    }

    /// Opens `files.wim` (or joins a split one), each part checked to be a regular file;
    /// `check_integrity` verifies the whole file against its integrity table first.
    pub fn open_wim(&self, check_integrity: bool) -> Result<Wim, StoreError> {
        let parts = self.wim_parts()?;
        for p in &parts {
            fsread::open_regular(p)?;
        }
        let wim = if parts.len() > 1 {
            Wim::open_split(&parts[0], check_integrity)?
        } else {
            Wim::open(&parts[0], check_integrity)?
        };
        if check_integrity && self.manifest.wim.integrity_table && !wim.info()?.has_integrity {
            return Err(StoreError::Damaged {
                dir: self.dir.clone(),
                what: "the WIM has lost the integrity table the manifest says it was written with"
                    .into(),
            });
        }
        Ok(wim)
    }

    /// The `.reg` file of a record, read within its budget.
    pub fn read_registry(&self, rel: &str) -> Result<(PathBuf, Vec<u8>), StoreError> {
        let path = self.entry(rel, Some(REGISTRY_DIR))?;
        let data = fsread::read_bounded(&path, limits::REG_FILE_MAX_BYTES)?;
        Ok((path, data))
    }

    /// The image's files and bytes as the WIM's metadata declares them, which must be what
    /// the manifest says: a store changed after it was made is not extracted from.
    pub fn check_image(&self, wim: &mut Wim, r: &UserRecord) -> Result<(u64, u64), StoreError> {
        self.check_image_against(wim, r, &[])
    }

    /// [`check_image`](Self::check_image), taking an image's totals from `verified` (what
    /// [`Wim::verify`] read back, in image order) when it has them.
    pub fn check_image_against(
        &self,
        wim: &mut Wim,
        r: &UserRecord,
        verified: &[Totals],
    ) -> Result<(u64, u64), StoreError> {
        let Some(image) = r.wim_image else {
            return Ok((0, 0));
        };
        if image == 0 || image > wim.image_count() {
            return Err(StoreError::Damaged {
                dir: self.dir.clone(),
                what: format!(
                    "{}: the manifest names image {image}, the WIM has {}",
                    r.name,
                    wim.image_count()
                ),
            });
        }
        let Totals { files, bytes } = match verified.get(image as usize - 1) {
            Some(t) => *t,
            None => wim.totals(image)?,
        };
        if files != r.files || bytes != r.bytes {
            return Err(StoreError::ImageMismatch {
                dir: self.dir.clone(),
                user: r.name.clone(),
                image,
                files,
                bytes,
                want_files: r.files,
                want_bytes: r.bytes,
            });
        }
        Ok((files, bytes))
    }

    /// A file the manifest names: a relative path of plain names inside the store (inside
    /// `under` when given), never `..`, a root, a drive or a link on the way.
    fn entry(&self, rel: &str, under: Option<&str>) -> Result<PathBuf, StoreError> {
        let unsafe_entry = |why: &'static str| StoreError::UnsafeEntry {
            dir: self.dir.clone(),
            entry: rel.chars().take(200).collect(),
            why,
        };
        if rel.is_empty() || rel.len() > 255 {
            return Err(unsafe_entry("which is not a file name of the store"));
        }
        let slashed = rel.replace('\\', "/");
        let parts: Vec<Component> = Path::new(&slashed).components().collect();
        if !parts.iter().all(|c| matches!(c, Component::Normal(_))) || rel.contains(':') {
            return Err(unsafe_entry("a path that leaves the store"));
        }
        let expected = if under.is_some() { 2 } else { 1 };
        let in_place = parts.len() == expected
            && under.is_none_or(|u| parts[0].as_os_str().eq_ignore_ascii_case(u));
        if !in_place {
            return Err(unsafe_entry("which is not where a store keeps such a file"));
        }
        let mut path = self.dir.clone();
        for c in &parts {
            path.push(c);
            let is_link = std::fs::symlink_metadata(&path)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if is_link {
                return Err(unsafe_entry("a link"));
            }
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(dir: &Path) -> StoreReader {
        let yaml = r#"
lifeboat_store: 1
agent_version: "0"
complete: true
started: "2026-01-01T00:00:00Z"
finished: null
command_line: []
source: {index: 1, root: "/", windir: "/Windows", kind: installed, product_name: null,
  edition: null, display_version: null, build: null, ubr: null, family: null, arch: null,
  arch_evidence: {kernel: null, registry: null, override_bits: null, conflict: null},
  computer_name: null, install_date: null, system_root_original: null,
  registered_owner: null, hives: [], hibernated: false, drive_letters: [], users: [],
  applications: [], warnings: []}
rules: []
rule_warnings: []
wim: {parts: [], compression: lzx, integrity_table: true}
users: []
machine: null
users_left: []
cannot_travel: []
totals: {files: 0, bytes: 0, skipped: 0, registry_values: 0}
"#;
        std::fs::write(dir.join(MANIFEST_FILE), yaml).unwrap();
        StoreReader::open(dir).unwrap()
    }

    #[test]
    fn entries_stay_inside_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let r = reader(dir.path());
        std::fs::create_dir_all(dir.path().join("registry")).unwrap();
        std::fs::write(dir.path().join("registry/ann.reg"), b"x").unwrap();
        assert_eq!(r.read_registry("registry/ann.reg").unwrap().1, b"x");
        assert_eq!(r.read_registry(r"registry\ann.reg").unwrap().1, b"x");
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "registry/../../x.reg",
            "ann.reg",
            "other/ann.reg",
            "C:/x.reg",
            "registry/a/b.reg",
            "",
        ] {
            assert!(
                matches!(r.read_registry(bad), Err(StoreError::UnsafeEntry { .. })),
                "{bad}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/zero", dir.path().join("registry/z.reg")).unwrap();
            assert!(r.read_registry("registry/z.reg").is_err());
            let c = std::ffi::CString::new(dir.path().join("registry/fifo.reg").to_str().unwrap())
                .unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            assert!(matches!(
                r.read_registry("registry/fifo.reg"),
                Err(StoreError::Read(fsread::ReadError::NotRegular { .. }))
            ));
        }
    }

    #[test]
    fn missing_and_broken_manifests() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            StoreReader::open(dir.path()),
            Err(StoreError::NotAStore { .. })
        ));
        std::fs::write(dir.path().join(MANIFEST_FILE), "complete: [").unwrap();
        assert!(matches!(
            StoreReader::open(dir.path()),
            Err(StoreError::BadManifest { .. })
        ));
    }
}
