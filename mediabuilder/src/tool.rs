//! Running the standard tools the media need (xorriso, mkfs.vfat, mtools, syslinux, mkntfs,
//! sfdisk): a missing tool names its Debian package, a failing one its error output.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::{MediaError, Result};

/// A tool the builder runs, with the Debian package that has it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub name: &'static str,
    pub package: &'static str,
}

pub const XORRISO: Tool = Tool {
    name: "xorriso",
    package: "xorriso",
};
pub const MKFS_VFAT: Tool = Tool {
    name: "mkfs.vfat",
    package: "dosfstools",
};
pub const MCOPY: Tool = Tool {
    name: "mcopy",
    package: "mtools",
};
pub const SYSLINUX: Tool = Tool {
    name: "syslinux",
    package: "syslinux",
};
pub const MKNTFS: Tool = Tool {
    name: "mkntfs",
    package: "ntfs-3g",
};
pub const SFDISK: Tool = Tool {
    name: "sfdisk",
    package: "fdisk",
};

impl Tool {
    /// Runs `args` (with `stdin` fed in, if any) to `action`; the output on success.
    pub fn run(
        self,
        args: &mut Command,
        action: impl Into<String>,
        stdin: Option<&[u8]>,
    ) -> Result<std::process::Output> {
        let action = action.into();
        args.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let missing = |source| MediaError::ToolMissing {
            tool: self.name,
            package: self.package,
            action: action.clone(),
            source,
        };
        let mut child = args.spawn().map_err(missing)?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A tool that exits early closes its end; its own error is reported below.
            let _ = pipe.write_all(input);
        }
        let out = child.wait_with_output().map_err(missing)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(MediaError::ToolFailed {
                tool: self.name,
                action,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// A command for this tool.
    pub fn command(self) -> Command {
        Command::new(self.name)
    }
}
