//! The XML data that `wiminfo` and DISM show (`xml.c`): for the WIM its TOTALBYTES (the
//! offset at which the XML begins), for each image its counts, sizes, name, description
//! and times. UTF-16LE with a byte-order mark, as WIMGAPI requires.

use super::ImageSummary;

/// One image's element, as wimlib writes it for a new image.
fn image(out: &mut String, index: usize, s: &ImageSummary) {
    out.push_str(&format!(
        "<IMAGE INDEX=\"{index}\"><DIRCOUNT>{}</DIRCOUNT><FILECOUNT>{}</FILECOUNT>\
         <TOTALBYTES>{}</TOTALBYTES><HARDLINKBYTES>{}</HARDLINKBYTES>",
        s.folders, s.files, s.bytes, s.hard_link_bytes
    ));
    time(out, "CREATIONTIME", s.created);
    time(out, "LASTMODIFICATIONTIME", s.modified);
    out.push_str("<NAME>");
    escape(out, &s.name);
    out.push_str("</NAME>");
    if !s.description.is_empty() {
        out.push_str("<DESCRIPTION>");
        escape(out, &s.description);
        out.push_str("</DESCRIPTION>");
    }
    out.push_str("</IMAGE>");
}

fn time(out: &mut String, tag: &str, t: u64) {
    out.push_str(&format!(
        "<{tag}><HIGHPART>0x{:08X}</HIGHPART><LOWPART>0x{:08X}</LOWPART></{tag}>",
        t >> 32,
        t & 0xFFFF_FFFF
    ));
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// Whether `s` can stand in the XML: no control characters but tab, newline and return
/// (XML 1.0 has no way to write them).
pub fn legal(s: &str) -> bool {
    s.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// The document, `total_bytes` being where it starts in the file.
pub fn document(images: &[ImageSummary], total_bytes: u64) -> Vec<u8> {
    let mut x = format!("<WIM><TOTALBYTES>{total_bytes}</TOTALBYTES>");
    for (i, s) in images.iter().enumerate() {
        image(&mut x, i + 1, s);
    }
    x.push_str("</WIM>");
    let mut b = vec![0xff, 0xfe];
    b.extend(x.encode_utf16().flat_map(|c| c.to_le_bytes()));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_control_characters_refused() {
        let mut s = String::new();
        escape(&mut s, "a<b>&\"c'");
        assert_eq!(s, "a&lt;b&gt;&amp;&quot;c&apos;");
        assert!(legal("ann (S-1-5-21)\tü"));
        assert!(!legal("bad\u{1}"));
    }
}
