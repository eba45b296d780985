//! A small element tree read with quick-xml, for MigXML and Offline.xml files from anywhere: no
//! DOCTYPE, no entities beyond XML's five and character references, size, depth, element
//! and attribute counts capped ([`crate::limits`]), and every error with its line.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::limits::{XML_MAX_ATTRIBUTES, XML_MAX_BYTES, XML_MAX_DEPTH, XML_MAX_ELEMENTS};

/// The largest XML file read, in bytes ([`XML_MAX_BYTES`]).
pub const MAX_BYTES: usize = XML_MAX_BYTES as usize;

#[derive(Debug, Clone)]
pub struct Element {
    /// Local name as written (MigXML is read case-insensitively: see [`Element::is`]).
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Text directly inside, pieces joined.
    pub text: String,
    pub line: usize,
}

impl Element {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }
}

/// (line, message) on failure.
pub fn decode(bytes: &[u8]) -> Result<String, (usize, String)> {
    if bytes.len() > MAX_BYTES {
        return Err((
            0,
            format!(
                "it is {} bytes; the XML files Lifeboat reads stay below {MAX_BYTES}",
                bytes.len()
            ),
        ));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest);
    }
    for (bom, le) in [([0xFF, 0xFE], true), ([0xFE, 0xFF], false)] {
        if let Some(rest) = bytes.strip_prefix(&bom) {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| {
                    if le {
                        u16::from_le_bytes([c[0], c[1]])
                    } else {
                        u16::from_be_bytes([c[0], c[1]])
                    }
                })
                .collect();
            let s = String::from_utf16(&units).map_err(|_| (0, "not valid UTF-16".to_string()))?;
            // The declaration still says UTF-16; the text is UTF-8 now.
            return Ok(s.replacen("encoding=\"UTF-16\"", "", 1).replacen(
                "encoding=\"utf-16\"",
                "",
                1,
            ));
        }
    }
    utf8(bytes)
}

fn utf8(bytes: &[u8]) -> Result<String, (usize, String)> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        (
            line_of(bytes, at),
            format!(
                "byte 0x{:02X} is not UTF-8 (Windows-1252 \u{201c}curly quotes\u{201d} from a word processor? \
                 save the file as UTF-8 with plain \" quotes)",
                bytes[at]
            ),
        )
    })
}

fn line_of(bytes: &[u8], pos: usize) -> usize {
    let pos = pos.min(bytes.len());
    bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The root element, or (line, message).
pub fn parse(text: &str) -> Result<Element, (usize, String)> {
    let bytes = text.as_bytes();
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    // Lines counted incrementally: recounting from the start per event is quadratic.
    let (mut line, mut counted) = (1usize, 0usize);
    loop {
        let pos = (reader.buffer_position() as usize).min(bytes.len());
        if pos > counted {
            line += bytes[counted..pos].iter().filter(|&&b| b == b'\n').count();
            counted = pos;
        }
        // The element starts after the whitespace before it.
        let line = line + leading_newlines(&bytes[pos..]);
        let ev = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            (line_of(bytes, at), format!("not well-formed XML: {e}"))
        })?;
        match ev {
            Event::DocType(_) => {
                return Err((line, "a DOCTYPE is not allowed (no entities)".into()))
            }
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err((
                    line,
                    "a second root element after the first one closed".into(),
                ));
            }
            Event::Start(e) => {
                count += 1;
                if stack.len() >= XML_MAX_DEPTH {
                    return Err((
                        line,
                        format!("elements nested more than {XML_MAX_DEPTH} deep"),
                    ));
                }
                if count > XML_MAX_ELEMENTS {
                    return Err((line, format!("more than {XML_MAX_ELEMENTS} elements")));
                }
                stack.push(element(&e, line)?);
            }
            Event::Empty(e) => {
                count += 1;
                if count > XML_MAX_ELEMENTS {
                    return Err((line, format!("more than {XML_MAX_ELEMENTS} elements")));
                }
                let el = element(&e, line)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err((line, "a closing tag without an opening one".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| (line, format!("bad text: {e}")))?;
                push_text(&mut stack, &s, line)?;
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| (line, format!("bad CDATA: {e}")))?;
                push_text(&mut stack, &s, line)?;
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).to_string();
                let s: Cow<str> = match name.as_str() {
                    "amp" => "&".into(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    _ => match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string().into(),
                        _ => {
                            return Err((
                                line,
                                format!("unknown entity &{name}; (entities are not allowed)"),
                            ))
                        }
                    },
                };
                push_text(&mut stack, &s, line)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err((
            line_of(bytes, bytes.len()),
            format!(
                "the file ends before <{}> (line {}) is closed",
                open.name, open.line
            ),
        ));
    }
    root.ok_or((1, "no root element".into()))
}

fn leading_newlines(rest: &[u8]) -> usize {
    rest.iter()
        .take_while(|b| b.is_ascii_whitespace())
        .filter(|&&b| b == b'\n')
        .count()
}

fn push_text(stack: &mut [Element], s: &str, line: usize) -> Result<(), (usize, String)> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err((
            line,
            format!(
                "text \"{}\" outside the root element",
                s.trim().chars().take(20).collect::<String>()
            ),
        )),
    }
}

fn element(e: &BytesStart, line: usize) -> Result<Element, (usize, String)> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
    let mut attrs = Vec::new();
    // Each attribute's name is checked against the earlier ones: keep their number small.
    for (i, a) in e.attributes().enumerate() {
        if i >= XML_MAX_ATTRIBUTES {
            return Err((
                line,
                format!("<{name}> has more than {XML_MAX_ATTRIBUTES} attributes"),
            ));
        }
        let a = a.map_err(|err| (line, format!("bad attribute in <{name}>: {err}")))?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_string();
        let value = a
            .unescape_value()
            .map_err(|err| (line, format!("bad value of {key}= in <{name}>: {err}")))?;
        attrs.push((key, value.to_string()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_hostile_and_broken_xml() {
        let doctype = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><migration>&a;</migration>";
        assert!(parse(doctype).unwrap_err().1.contains("DOCTYPE"));
        assert!(parse("<migration>&a;</migration>")
            .unwrap_err()
            .1
            .contains("entity"));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
        assert_eq!(parse("<a>\n<b></c></a>").unwrap_err().0, 2);
        assert!(parse("<a><b></b>")
            .unwrap_err()
            .1
            .contains("ends before <a>"));
        assert!(parse("\\<a/>").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert!(decode(b"<a x=\x93y\x94/>").unwrap_err().1.contains("0x93"));
    }

    #[test]
    fn reads_text_attributes_and_lines() {
        let r = parse(
            "<?xml version='1.0'?>\n<m u=\"a&amp;b\">\n <p t='File'>C:\\x &#91;y]</p><e/></m>",
        )
        .unwrap();
        assert_eq!(r.attr("U"), Some("a&b"));
        assert_eq!(r.children[0].text, "C:\\x [y]");
        assert_eq!(r.children[0].line, 3);
        assert!(r.child("E").is_some());
    }
}
