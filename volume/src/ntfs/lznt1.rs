//! LZNT1, the compression of NTFS compressed files: a compression unit (16 clusters) is a
//! series of chunks, each a two-byte header (size − 3 in the low 12 bits, bit 15 set when
//! compressed) and up to 4 KiB of output. A compressed chunk is groups of a flag byte and
//! eight tokens: a literal byte, or a back reference whose split between offset and length
//! bits depends on how far into the chunk it is. Every reference is checked to stay inside
//! its chunk's output, and the output never grows past the unit.

use crate::le::u16_at;

const CHUNK: usize = 4096;

/// Decompresses `src` into `dst` (one compression unit, zeroed by the caller past what the
/// data fills). Each chunk fills exactly 4 KiB of `dst`, a short one padded with zeros.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let mut pos = 0usize;
    let mut out = 0usize;
    while out < dst.len() {
        let Some(header) = u16_at(src, pos) else {
            break;
        };
        if header == 0 {
            break;
        }
        let len = usize::from(header & 0x0FFF) + 1;
        let data = src
            .get(pos + 2..pos + 2 + len)
            .ok_or_else(|| format!("chunk at byte {pos} runs past the compressed data"))?;
        let end = (out + CHUNK).min(dst.len());
        let chunk = &mut dst[out..end];
        if header & 0x8000 == 0 {
            let n = data.len().min(chunk.len());
            chunk[..n].copy_from_slice(&data[..n]);
        } else {
            chunk.fill(0);
            decompress_chunk(data, chunk).map_err(|why| format!("chunk at byte {pos}: {why}"))?;
        }
        out = end;
        pos += 2 + len;
    }
    Ok(())
}

/// One compressed chunk into `out` (at most 4 KiB).
fn decompress_chunk(data: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut i = 0usize;
    let mut o = 0usize;
    while i < data.len() {
        let flags = data[i];
        i += 1;
        for bit in 0..8 {
            if i >= data.len() {
                break;
            }
            if flags & (1 << bit) == 0 {
                let slot = out
                    .get_mut(o)
                    .ok_or("a literal past the end of the chunk")?;
                *slot = data[i];
                o += 1;
                i += 1;
                continue;
            }
            let token = u16_at(data, i).ok_or("a back reference cut short")?;
            i += 2;
            if o == 0 {
                return Err("a back reference before any output".into());
            }
            // The more output the chunk has, the more bits the offset takes.
            let mut shift = 0u32;
            let mut n = o - 1;
            while n >= 0x10 {
                n >>= 1;
                shift += 1;
            }
            let back = usize::from(token >> (12 - shift)) + 1;
            let len = usize::from(token & (0x0FFF >> shift)) + 3;
            if back > o {
                return Err(format!("a back reference {back} bytes back at output {o}"));
            }
            if o + len > out.len() {
                return Err(format!("a copy of {len} bytes past the end of the chunk"));
            }
            let from = o - back;
            if back >= len {
                out.copy_within(from..from + len, o);
            } else {
                for k in 0..len {
                    out[o + k] = out[from + k];
                }
            }
            o += len;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk header for `data`.
    fn chunk(compressed: bool, data: &[u8]) -> Vec<u8> {
        let h = (data.len() as u16 - 1) | 0x3000 | if compressed { 0x8000 } else { 0 };
        let mut v = h.to_le_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn literals_and_an_overlapping_back_reference() {
        // "abc" then a reference 3 back, 9 long: "abcabcabcabc".
        // At output 3 the offset takes 4 bits: token = (back-1) << 12 | (len-3).
        let token: u16 = (2 << 12) | 6;
        let mut data = vec![0b0000_1000, b'a', b'b', b'c'];
        data.extend_from_slice(&token.to_le_bytes());
        let src = chunk(true, &data);
        let mut dst = vec![0xEE; 8192];
        decompress(&src, &mut dst).unwrap();
        assert_eq!(&dst[..12], b"abcabcabcabc");
        assert!(
            dst[12..4096].iter().all(|&b| b == 0),
            "the chunk's rest is zeros"
        );
        assert!(
            dst[4096..].iter().all(|&b| b == 0xEE),
            "no chunk, no output"
        );
    }

    #[test]
    fn an_uncompressed_chunk_is_copied_and_the_next_starts_at_4k() {
        let mut src = chunk(false, &[7u8; 4096]);
        src.extend(chunk(true, &[0, b'x']));
        let mut dst = vec![0u8; 8192];
        decompress(&src, &mut dst).unwrap();
        assert!(dst[..4096].iter().all(|&b| b == 7));
        assert_eq!(dst[4096], b'x');
    }

    #[test]
    fn offset_bits_grow_with_the_output() {
        // 17 literals, then at output 17 the offset takes 5 bits and the length 11.
        let mut data = Vec::new();
        let lit: Vec<u8> = (b'A'..b'A' + 17).collect();
        data.push(0);
        data.extend_from_slice(&lit[..8]);
        data.push(0);
        data.extend_from_slice(&lit[8..16]);
        data.push(0b10);
        data.push(lit[16]);
        let token: u16 = (16 << 11) | (4 - 3); // 17 back, 4 long
        data.extend_from_slice(&token.to_le_bytes());
        let mut dst = vec![0u8; 4096];
        decompress(&chunk(true, &data), &mut dst).unwrap();
        assert_eq!(&dst[..21], b"ABCDEFGHIJKLMNOPQABCD");
    }

    #[test]
    fn hostile_data_is_refused_without_panic() {
        let mut dst = vec![0u8; 4096];
        // A reference before any output.
        assert!(decompress(&chunk(true, &[1, 0, 0]), &mut dst).is_err());
        // A reference further back than the output.
        let token: u16 = 5 << 12;
        let mut d = vec![0b10, b'a'];
        d.extend_from_slice(&token.to_le_bytes());
        assert!(decompress(&chunk(true, &d), &mut dst).is_err());
        // A chunk longer than the data.
        assert!(decompress(&[0xFF, 0xBF, 1, 2], &mut dst).is_err());
        // A copy running past the chunk: 4095 literals would be long; use a long length.
        let token: u16 = 0x0FFF; // 1 back, 4098 long
        let mut d = vec![0b10, b'a'];
        d.extend_from_slice(&token.to_le_bytes());
        assert!(decompress(&chunk(true, &d), &mut dst).is_err());
    }
}
