//! Changing an image in place (the media builder edits boot.wim this way).

use std::path::{Path, PathBuf};

use wimlib_sys as w;

use super::progress::{with_progress, Ctx};
use super::tchar::{image_path, tpath, tstr};
use super::write::WriteOptions;
use super::{check, Result, Wim};

#[derive(Debug, Clone)]
pub enum UpdateCommand {
    /// Adds a file or folder from disk at `target` (backslash-separated) in the image.
    Add {
        source: PathBuf,
        target: String,
    },
    Delete {
        path: String,
    },
    Rename {
        from: String,
        to: String,
    },
}

impl Wim {
    pub fn update_image(&mut self, image: u32, commands: &[UpdateCommand]) -> Result<()> {
        for c in commands {
            let code = match c {
                UpdateCommand::Add { source, target } => {
                    let (s, t) = (tpath(source), tstr(&image_path(target)));
                    // SAFETY: NUL-terminated strings alive for the call.
                    unsafe { w::wimlib_add_tree(self.raw, image as i32, s.as_ptr(), t.as_ptr(), 0) }
                }
                UpdateCommand::Delete { path } => {
                    let p = tstr(&image_path(path));
                    unsafe {
                        w::wimlib_delete_path(
                            self.raw,
                            image as i32,
                            p.as_ptr(),
                            w::WIMLIB_DELETE_FLAG_RECURSIVE as i32,
                        )
                    }
                }
                UpdateCommand::Rename { from, to } => {
                    let (a, b) = (tstr(&image_path(from)), tstr(&image_path(to)));
                    unsafe { w::wimlib_rename_path(self.raw, image as i32, a.as_ptr(), b.as_ptr()) }
                }
            };
            check(
                code,
                self.path(),
                &format!("updating image {image} ({c:?})"),
            )?;
        }
        Ok(())
    }

    pub fn set_boot_index(&mut self, image: u32) -> Result<()> {
        // SAFETY: a zeroed info struct with only the boot index set, as wimlib documents.
        let mut info: w::wimlib_wim_info = unsafe { std::mem::zeroed() };
        info.boot_index = image;
        check(
            unsafe { w::wimlib_set_wim_info(self.raw, &info, w::WIMLIB_CHANGE_BOOT_INDEX as i32) },
            self.path(),
            "setting the boot index",
        )
    }

    pub fn set_image_property(&mut self, image: u32, name: &str, value: &str) -> Result<()> {
        let (n, v) = (tstr(name), tstr(value));
        check(
            unsafe { w::wimlib_set_image_property(self.raw, image as i32, n.as_ptr(), v.as_ptr()) },
            self.path(),
            "setting an image property",
        )
    }

    /// Compression for the next `write` (an existing WIM is then recompressed whole).
    pub fn set_output_compression(&mut self, c: super::Compression) -> Result<()> {
        // SAFETY: a valid handle and a compression type from the enum.
        check(
            unsafe { w::wimlib_set_output_compression_type(self.raw, crate::raw_compression(c)) },
            self.path(),
            "setting the compression",
        )
    }

    /// Writes the changes back into the file it was opened from.
    pub fn overwrite(&mut self, opts: WriteOptions<'_>) -> Result<()> {
        let flags = if opts.integrity {
            w::WIMLIB_WRITE_FLAG_CHECK_INTEGRITY as i32
        } else {
            0
        };
        let threads = opts.threads;
        let mut ctx = Ctx {
            on_progress: opts.progress,
            keep: None,
        };
        let raw = self.raw;
        let code = with_progress(raw, &mut ctx, || unsafe {
            w::wimlib_overwrite(raw, flags, threads)
        });
        check(code, self.path(), "writing the WIM back")
    }

    pub fn file(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}
