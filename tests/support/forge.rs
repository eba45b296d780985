//! A store nobody can vouch for: a genuine capture copied, then changed as a hostile hand
//! would (files added to a user's image under any name, the manifest's folders and MigXML
//! helpers rewritten, the `.reg` replaced) and sealed again, so that it verifies: the WIM's
//! integrity table rebuilt by wimlib, each image's counts and each `.reg`'s SHA-256 written
//! back into the manifest. A restore of such a store gets past verification, so what it
//! does with the contents is what a test sees.

use std::path::{Path, PathBuf};

use lifeboat::store::manifest::{Manifest, RestoreEntry};
use lifeboat::store::schema::{Call, RestoreKind};
use lifeboat::wim::{UpdateCommand, Wim, WriteOptions};

/// A copy of a store being changed; [`Forge::seal`] makes it verify again.
pub struct Forge {
    pub dir: PathBuf,
    manifest: Manifest,
    scratch: tempfile::TempDir,
    adds: Vec<(u32, PathBuf, String)>,
}

impl Forge {
    /// Copies `store` to `to` (which must not exist) to change it there.
    pub fn copy(store: &Path, to: &Path) -> Forge {
        copy_dir(store, to);
        let text = std::fs::read_to_string(to.join("manifest.yaml")).expect("manifest");
        Forge {
            dir: to.to_path_buf(),
            manifest: Manifest::from_yaml(&text).expect("a genuine manifest"),
            scratch: tempfile::tempdir().expect("scratch"),
            adds: Vec::new(),
        }
    }

    /// The manifest, to change.
    pub fn manifest(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// Adds a file holding `data` at `image_path` (`C\Users\ann\NTUSER.DAT`, backslashes,
    /// any name a WIM can hold) to the image of user `user` (index in the manifest).
    pub fn add_file(&mut self, user: usize, image_path: &str, data: &[u8]) -> &mut Forge {
        let image = self.manifest.users[user]
            .wim_image
            .expect("a user with files");
        let src = self.scratch.path().join(format!("f{}", self.adds.len()));
        std::fs::write(&src, data).unwrap();
        self.adds.push((image, src, image_path.to_string()));
        self
    }

    /// Records a MigXML instruction for user `user`, as a capture would have.
    pub fn helper(
        &mut self,
        user: usize,
        kind: RestoreKind,
        call: &str,
        args: &[&str],
        patterns: &[&str],
    ) -> &mut Forge {
        self.manifest.users[user].restore.push(RestoreEntry {
            component: "Forged".into(),
            kind,
            script: Some(Call {
                name: call.into(),
                args: args.iter().map(|a| a.to_string()).collect(),
            }),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            source_args: Vec::new(),
        });
        self
    }

    /// Replaces user `user`'s settings with `text` (written as regedit writes, UTF-16LE
    /// with a byte-order mark).
    pub fn registry(&mut self, user: usize, text: &str) -> &mut Forge {
        let rel = self.manifest.users[user]
            .registry_file
            .clone()
            .unwrap_or_else(|| "registry/forged.reg".into());
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        std::fs::write(self.dir.join(&rel), &bytes).unwrap();
        let r = &mut self.manifest.users[user];
        r.registry_file = Some(rel);
        r.registry_sha256 = Some(lifeboat::store::verify::sha256_hex(&bytes));
        self
    }

    /// Writes the changes: files into the WIM (its integrity table rebuilt), each image's
    /// files and bytes as the WIM now counts them, the manifest. Returns the store folder.
    pub fn seal(&mut self) -> PathBuf {
        self.try_seal()
            .unwrap_or_else(|e| panic!("sealing the forged store: {e}"))
    }

    /// [`seal`](Self::seal), saying what wimlib refused (a name it cannot add).
    pub fn try_seal(&mut self) -> Result<PathBuf, String> {
        let wim_path = self.dir.join("files.wim");
        if !self.adds.is_empty() {
            let mut wim = Wim::open(&wim_path, true).map_err(|e| e.to_string())?;
            for (image, src, target) in self.adds.drain(..) {
                wim.update_image(
                    image,
                    &[UpdateCommand::Add {
                        source: src,
                        target,
                    }],
                )
                .map_err(|e| e.to_string())?;
            }
            wim.overwrite(WriteOptions {
                integrity: true,
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
        }
        let mut wim = Wim::open(&wim_path, false).map_err(|e| e.to_string())?;
        let (mut files, mut bytes) = (0, 0);
        for r in self
            .manifest
            .users
            .iter_mut()
            .chain(self.manifest.machine.iter_mut())
        {
            if let Some(image) = r.wim_image {
                let t = wim.totals(image).map_err(|e| e.to_string())?;
                (r.files, r.bytes) = (t.files, t.bytes);
                files += t.files;
                bytes += t.bytes;
            }
        }
        (self.manifest.totals.files, self.manifest.totals.bytes) = (files, bytes);
        std::fs::write(self.dir.join("manifest.yaml"), self.manifest.to_yaml()?)
            .map_err(|e| e.to_string())?;
        Ok(self.dir.clone())
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}
