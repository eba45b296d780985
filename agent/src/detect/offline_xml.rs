//! USMT's Offline.xml (`scanstate /offline:FILE`): candidate Windows folders in order,
//! `failOnMultipleWinDir`, and `<mappings>` of drive letters as the system saw them onto
//! where those volumes are now.

use std::path::{Path, PathBuf};

use crate::xml::{self, Element};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfflineXml {
    /// `<winDir><path>` values in document order, resolved against the working folder.
    pub windirs: Vec<PathBuf>,
    pub fail_on_multiple: bool,
    /// (letter the offline system used, where that volume is now).
    pub mappings: Vec<(char, PathBuf)>,
    /// Tolerated oddities worth telling the technician about.
    pub warnings: Vec<String>,
}

/// Reads the file (a regular file of at most [`crate::limits::OFFLINE_XML_MAX_BYTES`]).
pub fn load(path: &Path, cwd: &Path) -> Result<OfflineXml, String> {
    let bytes = crate::fsread::read_bounded(path, crate::limits::OFFLINE_XML_MAX_BYTES)
        .map_err(|e| format!("cannot read it: {e}"))?;
    parse(&bytes, cwd)
}

/// UTF-8 (with or without BOM) or UTF-16 with a BOM, as Notepad writes them, read with the
/// XML tree reader the rules use (its limits, no DOCTYPE, no entities). Element names are
/// matched case-insensitively, as the old parser did; a `winDir` spelled otherwise is
/// noted.
pub fn parse(bytes: &[u8], cwd: &Path) -> Result<OfflineXml, String> {
    let at_line = |(line, msg): (usize, String)| format!("line {line}: {msg}");
    let text = xml::decode(bytes).map_err(at_line)?;
    let root = xml::parse(&text).map_err(at_line)?;
    if !root.is("offline") {
        return Err(if root.children.is_empty() && root.text.trim().is_empty() {
            format!(
                "the root element is <{}/>, expected <offline> with a <winDir>",
                root.name
            )
        } else {
            format!("the root element is <{}>, expected <offline>", root.name)
        });
    }
    let mut out = OfflineXml::default();
    for child in &root.children {
        if child.is("winDir") {
            if child.name != "winDir" {
                out.warnings.push(format!(
                    "<{}> read as <winDir> (USMT documents the name as winDir)",
                    child.name
                ));
            }
            for p in paths(child) {
                out.windirs.push(resolve(p, cwd));
            }
        } else if child.is("failOnMultipleWinDir") {
            out.fail_on_multiple = match child.text.trim() {
                "1" => true,
                "0" | "" => false,
                v => {
                    return Err(format!(
                        "<failOnMultipleWinDir> is \"{v}\"; it must be 0 or 1"
                    ))
                }
            };
        } else if child.is("mappings") {
            for p in paths(child) {
                out.mappings.push(parse_mapping(p, cwd)?);
            }
        }
    }
    if out.windirs.is_empty() {
        return Err(
            "no <winDir><path> entries: Offline.xml must list at least one Windows folder".into(),
        );
    }
    Ok(out)
}

/// The trimmed text of each `<path>` child.
fn paths(el: &Element) -> impl Iterator<Item = &str> {
    el.children
        .iter()
        .filter(|c| c.is("path"))
        .map(|c| c.text.trim())
}

/// Relative paths are taken from the working folder, as ScanState does.
fn resolve(value: &str, cwd: &Path) -> PathBuf {
    let p = PathBuf::from(value);
    let drive_rooted = value.len() >= 2 && value.as_bytes()[1] == b':';
    if p.is_absolute() || drive_rooted || value.starts_with('\\') {
        p
    } else {
        cwd.join(p)
    }
}

/// `C:\, D:\`: the offline system's C: is now D:\ (on Linux the right side is a folder).
fn parse_mapping(value: &str, cwd: &Path) -> Result<(char, PathBuf), String> {
    let (from, to) = value.split_once(',').ok_or_else(|| {
        format!("mapping \"{value}\" must be two locations separated by a comma, e.g. C:\\, D:\\")
    })?;
    let (from, to) = (from.trim(), to.trim());
    let letter = crate::winpath::split_drive(from)
        .filter(|(_, rest)| rest.is_empty())
        .map(|(l, _)| l)
        .ok_or_else(|| format!("mapping \"{value}\": \"{from}\" is not a drive such as C:\\"))?;
    if to.is_empty() {
        return Err(format!("mapping \"{value}\" has no destination"));
    }
    Ok((letter, resolve(to, cwd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example() {
        let x = br"<offline>
  <winDir>
    <path>C:\Windows</path>
    <path> D:\Windows </path>
    <path>E:\</path>
  </winDir>
  <failOnMultipleWinDir>1</failOnMultipleWinDir>
  <mappings><path>C:\, D:\</path></mappings>
</offline>";
        let o = parse(x, Path::new("/work")).unwrap();
        assert_eq!(o.windirs.len(), 3);
        assert_eq!(o.windirs[1], PathBuf::from(r"D:\Windows"));
        assert!(o.fail_on_multiple);
        assert_eq!(o.mappings, vec![('C', PathBuf::from(r"D:\"))]);
    }

    #[test]
    fn relative_paths_use_working_folder() {
        let o = parse(
            b"<offline><winDir><path>vol/Windows</path></winDir></offline>",
            Path::new("/w"),
        )
        .unwrap();
        assert_eq!(o.windirs, vec![PathBuf::from("/w/vol/Windows")]);
        assert!(!o.fail_on_multiple);
    }

    #[test]
    fn hostile_and_broken_inputs_are_errors() {
        let cwd = Path::new("/");
        for bad in [
            &b""[..],
            b"<offline>",
            b"<offline></offline>",
            b"<offline><winDir><path>C:\\W</path></winDir></offline>s",
            b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><offline><winDir><path>&a;</path></winDir></offline>",
            b"<offline><winDir><path>&xx;</path></winDir></offline>",
            b"<other/>",
            b"<offline><winDir><path>C:\\W</path></winDir><failOnMultipleWinDir>yes</failOnMultipleWinDir></offline>",
            b"<offline><winDir><path>C:\\W</path></winDir><mappings><path>C:\\</path></mappings></offline>",
            b"\xff\xfe<\x00",
        ] {
            assert!(parse(bad, cwd).is_err(), "accepted {:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn deep_nesting_is_refused_by_the_tree_reader() {
        // 80k levels took 35 s in a parser of its own (a path rebuilt at every closing tag).
        let deep = format!(
            "<offline><winDir><path>C:\\W</path></winDir>{}{}</offline>",
            "<x>".repeat(80_000),
            "</x>".repeat(80_000)
        );
        let e = parse(deep.as_bytes(), Path::new("/")).unwrap_err();
        assert!(e.contains("line 1") && e.contains("nested"), "{e}");
        let wide = format!(
            "<offline><winDir><path>C:\\W</path></winDir><a {}/></offline>",
            (0..100)
                .map(|i| format!("a{i}='x'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(parse(wide.as_bytes(), Path::new("/"))
            .unwrap_err()
            .contains("attributes"));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(dir.path(), dir.path()).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
