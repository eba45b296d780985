//! The NTFS reader and the partition tables over a small volume in memory. The input is a
//! packed image, so mutations land on structures rather than on megabytes of zeros:
//! `[u8 size in 256 KiB units]` then chunks `[u32 offset][u16 length][bytes]`, pasted onto a
//! zeroed image (fuzz-seeds packs real mkntfs volumes this way). The volume is opened,
//! walked (bounded), its streams, descriptors and a scan read.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use lifeboat_volume::block::{MemSource, Source};
use lifeboat_volume::ntfs::Ntfs;
use lifeboat_volume::partition::PartitionTable;

fn unpack(data: &[u8]) -> Option<Vec<u8>> {
    let (&units, mut rest) = data.split_first()?;
    let mut img = vec![0u8; (usize::from(units).clamp(4, 32)) << 18];
    while rest.len() >= 6 {
        let at = u32::from_le_bytes(rest[..4].try_into().ok()?) as usize;
        let len = usize::from(u16::from_le_bytes([rest[4], rest[5]]));
        let bytes = rest.get(6..6 + len).unwrap_or(&rest[6..]);
        if let Some(dst) = img.get_mut(at..at.saturating_add(bytes.len())) {
            dst.copy_from_slice(bytes);
        }
        rest = &rest[(6 + len).min(rest.len())..];
    }
    Some(img)
}

fn walk(vol: &Ntfs) {
    let mut buf = vec![0u8; 64 << 10];
    let mut stack = vec![(vol.root(), 0)];
    let mut budget = 2000;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(listing) = vol.read_dir(dir) else { continue };
        for e in listing.entries {
            budget -= 1;
            if budget == 0 {
                return;
            }
            let _ = vol.lookup(dir, e.name());
            let Ok(file) = vol.file(e.file_ref) else { continue };
            let _ = vol.file_security(&file);
            for s in file.info().streams.clone() {
                let Ok(st) = file.stream(&s.name) else { continue };
                let _ = st.extents();
                let mut at = 0;
                while at < st.len().min(1 << 20) {
                    match st.read_at(at, &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => at += n as u64,
                    }
                }
            }
            if e.is_dir() && depth < 16 {
                stack.push((e.file_ref, depth + 1));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(img) = unpack(data) else { return };
    let src: Source = Arc::new(MemSource::new("fuzz.img", img));
    let _ = PartitionTable::read(&src);
    let Ok(vol) = Ntfs::open(src) else { return };
    walk(&vol);
    let _ = vol.resolve(r"Windows\System32\config\SYSTEM");
    for f in vol.scan().take(5000) {
        let _ = f;
    }
});
