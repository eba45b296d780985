//! Windows' answers about a file, parsed: the list of its data streams
//! (`FILE_STREAM_INFO`, as `GetFileInformationByHandleEx(FileStreamInfo)` fills it). Pure
//! functions over the bytes Windows gave, bounded and checked like any input, so they are
//! tested on every platform.

use crate::le::{u32_at, u64_at};

/// Offset of `StreamName` in a `FILE_STREAM_INFO` entry.
const NAME_AT: usize = 24;

/// The named data streams in a `FILE_STREAM_INFO` list: their names without the `:` before
/// and the `:$DATA` after (`:Zone.Identifier:$DATA` → `Zone.Identifier`) and their sizes.
/// The unnamed stream (`::$DATA`), streams of other types and entries that do not fit the
/// buffer are left out; a name that is not UTF-16 or holds a character no stream name can
/// hold (`:`, `\`, `/`, NUL) is left out too: it is never made into a path.
pub fn named_data_streams(buf: &[u8]) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let (Some(next), Some(name_len), Some(size)) =
        (u32_at(buf, at), u32_at(buf, at + 4), u64_at(buf, at + 8))
    {
        let name = at
            .checked_add(NAME_AT)
            .and_then(|start| buf.get(start..start.checked_add(name_len as usize)?));
        if let Some(name) = name.and_then(data_stream_name) {
            out.push((name, size));
        }
        // Entries only go forward; 0 ends the list.
        match (next as usize, at.checked_add(next as usize)) {
            (0, _) | (_, None) => break,
            (_, Some(n)) => at = n,
        }
    }
    out
}

/// `:NAME:$DATA` (UTF-16LE) → `NAME`, for a non-empty name of a data stream.
fn data_stream_name(raw: &[u8]) -> Option<String> {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).ok()?;
    let name = text.strip_prefix(':')?.strip_suffix(":$DATA")?;
    let usable = !name.is_empty() && !name.contains([':', '\\', '/', '\0']);
    usable.then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FILE_STREAM_INFO list as Windows lays it out: entries 8-byte aligned, each
    /// pointing to the next.
    fn stream_info(entries: &[(&str, u64)]) -> Vec<u8> {
        let mut buf = Vec::new();
        for (i, (name, size)) in entries.iter().enumerate() {
            let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let len = (NAME_AT + name.len()).next_multiple_of(8);
            let next = if i + 1 == entries.len() { 0 } else { len };
            let start = buf.len();
            buf.extend((next as u32).to_le_bytes());
            buf.extend((name.len() as u32).to_le_bytes());
            buf.extend(size.to_le_bytes());
            buf.extend(size.next_multiple_of(4096).to_le_bytes());
            buf.extend(&name);
            buf.resize(start + len, 0);
        }
        buf
    }

    #[test]
    fn names_come_without_their_decoration_and_the_unnamed_stream_is_left_out() {
        let buf = stream_info(&[
            ("::$DATA", 1234),
            (":Zone.Identifier:$DATA", 26),
            (":ünïcödé thumb:$DATA", 100_000),
            (":Empty:$DATA", 0),
        ]);
        assert_eq!(
            named_data_streams(&buf),
            vec![
                ("Zone.Identifier".to_string(), 26),
                ("ünïcödé thumb".to_string(), 100_000),
                ("Empty".to_string(), 0),
            ]
        );
    }

    #[test]
    fn other_types_and_unusable_names_are_left_out() {
        let buf = stream_info(&[
            (":$EFS:$LOGGED_UTILITY_STREAM", 300),
            (":a/b:$DATA", 1),
            ("::$DATA", 5),
            (":kept:$DATA", 7),
        ]);
        assert_eq!(named_data_streams(&buf), vec![("kept".to_string(), 7)]);
    }

    #[test]
    fn a_hostile_list_ends_without_a_panic() {
        assert!(named_data_streams(&[]).is_empty());
        let mut buf = stream_info(&[(":a:$DATA", 1), (":b:$DATA", 2)]);
        // A name longer than the buffer, an offset past its end, a list cut short.
        let mut long = buf.clone();
        long[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(named_data_streams(&long), vec![("b".to_string(), 2)]);
        let mut past = buf.clone();
        past[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(named_data_streams(&past), vec![("a".to_string(), 1)]);
        buf.truncate(buf.len() - 3);
        assert_eq!(named_data_streams(&buf), vec![("a".to_string(), 1)]);
    }
}
