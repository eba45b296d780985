//! The agents given with `--agent` (files, or folders of `.exe` files): each one's
//! architecture (PE machine) and C runtime (from its import table), and the one that fits an
//! image. An agent built on the `*-windows-gnullvm` targets (arm64) links the UCRT
//! (`api-ms-win-crt-*`, served by `ucrtbase.dll`), one built on `*-windows-gnu` msvcrt.

use std::path::{Path, PathBuf};

use serde::Serialize;

use lifeboat_common::le::u32_at;
use lifeboat_common::pe::{self, Arch, Headers};

use crate::error::{MediaError, Result};

/// The C runtime an agent needs in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// `msvcrt.dll`, in every Windows and WinPE.
    Msvcrt,
    /// The Universal CRT: needs `Windows\System32\ucrtbase.dll` in the image.
    Ucrt,
}

#[derive(Debug, Clone, Serialize)]
pub struct Agent {
    pub path: PathBuf,
    pub arch: Arch,
    pub runtime: Runtime,
}

/// An agent .exe is a few MiB; anything this large is not one.
const MAX_AGENT_BYTES: u64 = 64 << 20;
/// Import descriptors read at most (a real agent has about ten).
const MAX_IMPORTS: usize = 512;

fn bad(path: &Path, problem: impl Into<String>) -> MediaError {
    MediaError::Agent {
        path: path.into(),
        problem: problem.into(),
    }
}

/// Every agent in `given` (files, and the `.exe` files of folders), at most one per
/// architecture.
pub fn load(given: &[PathBuf]) -> Result<Vec<Agent>> {
    let mut agents: Vec<Agent> = Vec::new();
    for g in given {
        for path in expand(g)? {
            let agent = read(&path)?;
            if let Some(other) = agents.iter().find(|a| a.arch == agent.arch) {
                return Err(bad(
                    &path,
                    format!(
                        "{} is {} too: give one agent per architecture",
                        other.path.display(),
                        agent.arch
                    ),
                ));
            }
            agents.push(agent);
        }
    }
    Ok(agents)
}

fn expand(given: &Path) -> Result<Vec<PathBuf>> {
    if !given.is_dir() {
        return Ok(vec![given.into()]);
    }
    let mut exes = Vec::new();
    for e in std::fs::read_dir(given).map_err(|e| bad(given, format!("cannot list it: {e}")))? {
        let p = e
            .map_err(|e| bad(given, format!("cannot list it: {e}")))?
            .path();
        let is_exe = p.extension().is_some_and(|x| x.eq_ignore_ascii_case("exe"));
        if is_exe && p.is_file() {
            exes.push(p);
        }
    }
    exes.sort();
    if exes.is_empty() {
        return Err(bad(given, "a folder without .exe files"));
    }
    Ok(exes)
}

fn read(path: &Path) -> Result<Agent> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    f.take(MAX_AGENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(path, format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_AGENT_BYTES {
        return Err(bad(
            path,
            format!("over {MAX_AGENT_BYTES} bytes: not an agent"),
        ));
    }
    let machine =
        pe::machine_of(&bytes).map_err(|r| bad(path, format!("not a Windows executable: {r}")))?;
    let arch = Arch::from_machine(machine);
    if arch == Arch::Other {
        return Err(bad(
            path,
            format!("PE machine {machine:#06x} is none of x86, amd64, arm64"),
        ));
    }
    let imports =
        imports(&bytes).map_err(|r| bad(path, format!("unreadable import table: {r}")))?;
    let ucrt = imports.iter().any(|d| {
        let d = d.to_ascii_lowercase();
        d.starts_with("api-ms-win-crt-") || d == "ucrtbase.dll"
    });
    Ok(Agent {
        path: path.into(),
        arch,
        runtime: if ucrt { Runtime::Ucrt } else { Runtime::Msvcrt },
    })
}

/// The names of the DLLs a PE image imports (PE/COFF spec: optional header data directory 1,
/// the import directory table, RVAs mapped through the section table by the shared header
/// reader).
pub fn imports(b: &[u8]) -> std::result::Result<Vec<String>, &'static str> {
    let headers = Headers::parse(b)?;
    let Some((rva, _)) = headers.directory(pe::DIR_IMPORT) else {
        return Ok(Vec::new());
    };
    let in_file = |rva: u32| -> Option<usize> {
        let (offset, _) = headers.file_offset(rva)?;
        usize::try_from(offset).ok()
    };
    let mut at = in_file(rva).ok_or("import table outside every section")?;
    let mut names = Vec::new();
    loop {
        let name_rva = u32_at(b, at + 12).ok_or("truncated import table")?;
        if name_rva == 0 {
            return Ok(names);
        }
        if names.len() == MAX_IMPORTS {
            return Err("too many imported DLLs");
        }
        let start = in_file(name_rva).ok_or("DLL name outside every section")?;
        let tail = b.get(start..).ok_or("DLL name outside the file")?;
        let end = tail
            .iter()
            .take(256)
            .position(|&c| c == 0)
            .ok_or("DLL name not terminated")?;
        names.push(String::from_utf8_lossy(&tail[..end]).into_owned());
        at += 20;
    }
}

/// What an image offers an agent.
pub struct ImageNeeds {
    pub index: u32,
    pub arch: Option<Arch>,
    pub ucrtbase: bool,
}

/// The agent for an image: the one of its architecture, refused when it needs the UCRT and
/// the image has no `ucrtbase.dll`.
pub fn pick<'a>(agents: &'a [Agent], image: &ImageNeeds) -> Result<&'a Agent> {
    let given = || -> PathBuf { agents.first().map(|a| a.path.clone()).unwrap_or_default() };
    let arch = image.arch.ok_or_else(|| MediaError::Base {
        path: PathBuf::from(format!("image {}", image.index)),
        problem: "no Windows\\System32\\ntoskrnl.exe: cannot tell its architecture".into(),
    })?;
    let Some(agent) = agents.iter().find(|a| a.arch == arch) else {
        let have: Vec<String> = agents
            .iter()
            .map(|a| format!("{} ({})", a.path.display(), a.arch))
            .collect();
        let flag = match arch {
            Arch::X86 => "i686",
            Arch::Arm64 => "aarch64",
            _ => "x86_64",
        };
        return Err(bad(
            &given(),
            format!(
                "the WinPE image is {arch} and no agent given is (given: {}): build one with scripts/build-windows-agent.sh --arch {flag} (64-bit WinPE has no WOW64)",
                have.join(", ")
            ),
        ));
    };
    if agent.runtime == Runtime::Ucrt && !image.ucrtbase {
        return Err(bad(
            &agent.path,
            format!(
                "built with the Universal CRT (api-ms-win-crt-*), but image {} has no Windows\\System32\\ucrtbase.dll: use a WinPE 10 or later base that carries it",
                image.index
            ),
        ));
    }
    Ok(agent)
}
