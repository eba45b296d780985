//! The BitLocker reader's measurement for `scripts/bench-bitlocker.sh`: it unlocks a volume
//! (timing the key stretch and metadata checks) and reads the plain volume from start to
//! end in 4 MiB reads, as `lifeboat image` will, into OUT (a file, sparse where the volume
//! reads as zeros, or /dev/null).
//!
//!   bench-bitlocker VOLUME (password:TEXT | recovery:DIGITS | bek:FILE | clear) OUT
//!
//! Prints `unlock SECONDS` and `read BYTES SECONDS` on standard error (no key).

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use lifeboat_volume::bitlocker::{self, Keys};
use lifeboat_volume::block::{BlockSource, FileSource};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [volume, key, out] = args.as_slice() else {
        eprintln!("usage: bench-bitlocker VOLUME KEY OUT");
        return std::process::ExitCode::from(2);
    };
    match run(Path::new(volume), key, Path::new(out)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-bitlocker: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(volume: &Path, key: &str, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut keys = Keys::new();
    match key.split_once(':') {
        Some(("password", t)) => keys.add_password(t),
        Some(("recovery", t)) => keys.add_recovery_password(t)?,
        Some(("bek", f)) => keys.add_startup_key_file(Path::new(f))?,
        _ => {}
    }
    let src = Arc::new(FileSource::open(volume)?);
    let t = Instant::now();
    let u = bitlocker::unlock(src, &keys)?;
    eprintln!("unlock {:.3}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)?;
    let sparse = f.metadata()?.is_file();
    let mut buf = vec![0u8; 4 << 20];
    let mut at = 0u64;
    while at < u.size() {
        let n = (u.size() - at).min(buf.len() as u64) as usize;
        u.read_at(at, &mut buf[..n])?;
        if sparse && buf[..n].iter().all(|&b| b == 0) {
            f.seek(SeekFrom::Current(n as i64))?;
        } else {
            f.write_all(&buf[..n])?;
        }
        at += n as u64;
    }
    if sparse {
        f.set_len(u.size())?;
    }
    eprintln!("read {} {:.3}", u.size(), t.elapsed().as_secs_f64());
    Ok(())
}
