//! USMT's Offline.xml (`scanstate /offline:FILE`): candidate Windows folders in order,
//! `failOnMultipleWinDir`, and `<mappings>` of drive letters as the system saw them onto
//! where those volumes are now.

use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::Reader;

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

/// Offline.xml files are a few hundred bytes; anything this large is not one.
const MAX_LEN: u64 = 1 << 20;

pub fn load(path: &Path, cwd: &Path) -> Result<OfflineXml, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.len() > MAX_LEN {
        return Err(format!(
            "it is {} bytes; an Offline.xml is a few hundred",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    parse(&bytes, cwd)
}

fn line_of(bytes: &[u8], pos: u64) -> usize {
    let pos = (pos as usize).min(bytes.len());
    bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1
}

pub fn parse(bytes: &[u8], cwd: &Path) -> Result<OfflineXml, String> {
    let text = decode(bytes)?;
    let bytes = text.as_bytes();
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut out = OfflineXml::default();
    let mut stack: Vec<String> = Vec::new();
    let mut root_closed = false;
    let mut text_buf = String::new();
    loop {
        let pos = reader.buffer_position();
        let ev = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at line {}: {e}",
                line_of(bytes, reader.error_position())
            )
        })?;
        match ev {
            Event::DocType(_) => return Err("a DOCTYPE is not allowed in Offline.xml".into()),
            Event::Start(e) => {
                if root_closed {
                    return Err(format!(
                        "not well-formed XML at line {}: a second root element",
                        line_of(bytes, pos)
                    ));
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                if stack.is_empty() && !name.eq_ignore_ascii_case("offline") {
                    return Err(format!("the root element is <{name}>, expected <offline>"));
                }
                if name != "offline" && name != "winDir" && name.eq_ignore_ascii_case("windir") {
                    out.warnings.push(format!(
                        "<{name}> read as <winDir> (USMT documents the name as winDir)"
                    ));
                }
                stack.push(name.to_ascii_lowercase());
                text_buf.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                if stack.is_empty() {
                    return Err(format!(
                        "the root element is <{name}/>, expected <offline> with a <winDir>"
                    ));
                }
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| format!("bad text at line {}: {e}", line_of(bytes, pos)))?;
                if stack.is_empty() {
                    if root_closed && !s.trim().is_empty() {
                        return Err(format!(
                            "not well-formed XML at line {}: text \"{}\" after </offline>",
                            line_of(bytes, pos),
                            s.trim()
                        ));
                    }
                } else {
                    text_buf.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                // Only the five predefined entities and character references.
                let name = String::from_utf8_lossy(&r).to_string();
                let ch = match name.as_str() {
                    "amp" => "&".to_string(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    _ => match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => {
                            return Err(format!(
                                "unknown entity &{name}; at line {}",
                                line_of(bytes, pos)
                            ))
                        }
                    },
                };
                text_buf.push_str(&ch);
            }
            Event::End(_) => {
                let path = stack.join("/");
                let value = text_buf.trim().to_string();
                match path.as_str() {
                    "offline/windir/path" => out.windirs.push(resolve(&value, cwd)),
                    "offline/failonmultiplewindir" => {
                        out.fail_on_multiple = match value.as_str() {
                            "1" => true,
                            "0" | "" => false,
                            v => {
                                return Err(format!(
                                    "<failOnMultipleWinDir> is \"{v}\"; it must be 0 or 1"
                                ))
                            }
                        }
                    }
                    "offline/mappings/path" => out.mappings.push(parse_mapping(&value, cwd)?),
                    _ => {}
                }
                text_buf.clear();
                stack.pop();
                if stack.is_empty() {
                    root_closed = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_closed {
        return Err("no complete <offline> element".into());
    }
    if out.windirs.is_empty() {
        return Err(
            "no <winDir><path> entries: Offline.xml must list at least one Windows folder".into(),
        );
    }
    Ok(out)
}

/// UTF-8 (with or without BOM) or UTF-16 with a BOM, as Notepad writes them: the same
/// decoding the MigXML reader uses.
fn decode(bytes: &[u8]) -> Result<String, String> {
    crate::xml::decode(bytes).map_err(|(line, msg)| format!("line {line}: {msg}"))
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
}
