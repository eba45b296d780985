//! BitLocker volumes and key files: the volume header, the three metadata copies and their
//! entries, EOW bitmaps, the plain-volume map and reads through it (`probe`, and `unlock`
//! with the clear key a suspended volume carries, so that no key stretch slows a run), a
//! `.BEK` file, and recovery-password text as it is typed. The first byte picks which.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use lifeboat_volume::bitlocker::{self, Keys, RecoveryPassword, StartupKey};
use lifeboat_volume::block::{BlockSource, MemSource};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => {
            let _ = StartupKey::parse("fuzz.bek", rest);
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            let _ = RecoveryPassword::check_typed(&text);
            let _ = RecoveryPassword::parse(&text);
        }
        _ => volume(rest),
    }
});

fn volume(bytes: &[u8]) {
    let src = Arc::new(MemSource::new("fuzz.img", bytes.to_vec()));
    let _ = bitlocker::probe(&*src);
    let Ok(u) = bitlocker::unlock(src, &Keys::new()) else {
        return;
    };
    let mut buf = vec![0u8; 96 << 10];
    let size = u.size();
    for at in [0, 511, size / 3, size.saturating_sub(buf.len() as u64)] {
        let n = buf.len().min(size.saturating_sub(at) as usize);
        let _ = u.read_at(at, &mut buf[..n]);
    }
}
