//! The BitLocker reader's measurement for `scripts/bench-bitlocker.sh`: it unlocks a volume
//! (timing the key stretch and metadata checks) and reads the plain volume from start to
//! end in 4 MiB reads into OUT (a file, sparse where the volume reads as zeros, or
//! /dev/null), the way `lifeboat image` can: one thread reads and decrypts (the reader
//! decrypts a large read on every core) while another writes the chunk before.
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
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(u64, Vec<u8>)>(2);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    for _ in 0..3 {
        empty_tx.send(vec![0u8; 4 << 20])?;
    }
    let size = u.size();
    let u = &u;
    let read = std::thread::scope(|scope| -> Result<(), String> {
        let reader = scope.spawn(move || -> Result<(), String> {
            let mut at = 0u64;
            while at < size {
                let mut buf = empty_rx.recv().map_err(|e| e.to_string())?;
                let n = (size - at).min(buf.len() as u64) as usize;
                buf.truncate(n);
                u.read_at(at, &mut buf).map_err(|e| e.to_string())?;
                full_tx.send((at, buf)).map_err(|e| e.to_string())?;
                at += n as u64;
            }
            Ok(())
        });
        for (_, mut buf) in full_rx {
            if sparse && buf.iter().all(|&b| b == 0) {
                f.seek(SeekFrom::Current(buf.len() as i64))
                    .map_err(|e| e.to_string())?;
            } else {
                f.write_all(&buf).map_err(|e| e.to_string())?;
            }
            buf.resize(4 << 20, 0);
            let _ = empty_tx.send(buf);
        }
        reader
            .join()
            .map_err(|_| "the reading thread panicked".to_string())?
    });
    read?;
    if sparse {
        f.set_len(u.size())?;
    }
    eprintln!("read {} {:.3}", size, t.elapsed().as_secs_f64());
    Ok(())
}
