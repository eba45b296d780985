//! `bench-ntfs`: the NTFS reader against an ntfs-3g mount of the same volume, for
//! `scripts/bench-ntfs.sh`. Each reader lists every folder, looks at every file and reads
//! all its data, and prints one line: `files bytes seconds`.
//!
//!   bench-ntfs make IMAGE FILES      a volume (mkntfs, filled through ntfs-3g) of FILES files
//!   bench-ntfs walk IMAGE            Lifeboat: folder by folder, as the plan's walk reads
//!   bench-ntfs scan IMAGE [THREADS]  Lifeboat: the MFT in order, data read by THREADS
//!   bench-ntfs mount DIR             ntfs-3g: the same through its mount

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use fixtures::ntfs::{mkntfs, Mount};
use lifeboat_volume::block::{FileSource, Source};
use lifeboat_volume::ntfs::{File, Ntfs};

/// Files of a user's profile: mostly small (a third resident in their MFT records), some
/// of tens of KB, one in a hundred of a few hundred KB; 1,000 to a folder, two levels deep.
fn make(img: &Path, files: usize) {
    let big = (files as u64 * 40_000).max(256 << 20);
    mkntfs(img, big, 4096, 512, "Bench");
    let m = Mount::new(img, &img.with_extension("fill"), "");
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..files {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let size = match x % 100 {
            0 => 100_000 + (x >> 8) % 400_000,
            1..=30 => (x >> 8) % 600,
            31..=80 => 1_000 + (x >> 8) % 9_000,
            _ => 10_000 + (x >> 8) % 40_000,
        } as usize;
        let dir = m.path().join(format!(
            "Users/ann/Folder {:03}/Sub {}",
            i / 1000,
            i / 1000 % 7
        ));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let data = fixtures::noise(size, x);
        std::fs::write(
            dir.join(format!("document {i:07} {}.dat", "x".repeat(i % 17))),
            data,
        )
        .unwrap();
    }
}

fn open(img: &Path) -> Ntfs {
    let src: Source = Arc::new(FileSource::open(img).unwrap());
    Ntfs::open(src).unwrap()
}

/// Reads a file's content; returns its length.
fn read_all(file: &File, buf: &mut [u8]) -> u64 {
    let s = file.stream("").unwrap();
    let mut at = 0;
    loop {
        let n = s.read_at(at, buf).unwrap();
        if n == 0 {
            return at;
        }
        at += n as u64;
    }
}

fn walk(img: &Path) -> (u64, u64) {
    let vol = open(img);
    let (mut files, mut bytes) = (0, 0);
    let mut buf = vec![0u8; 1 << 20];
    let mut stack = vec![(vol.root(), true)];
    while let Some((dir, root)) = stack.pop() {
        for e in vol.read_dir(dir).unwrap().entries {
            if root && e.file_ref.is_metadata() {
                continue;
            }
            let file = vol.file(e.file_ref).unwrap();
            files += 1;
            if file.info().is_dir {
                stack.push((e.file_ref, false));
            } else {
                bytes += read_all(&file, &mut buf);
            }
        }
    }
    (files, bytes)
}

/// The MFT read in order; files handed to `threads` readers.
fn scan(img: &Path, threads: usize) -> (u64, u64) {
    let vol = open(img);
    let (tx, rx) = std::sync::mpsc::sync_channel::<File>(4096);
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let readers: Vec<_> = (0..threads)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 20];
                let mut bytes = 0;
                loop {
                    let file = rx.lock().unwrap().recv();
                    let Ok(file) = file else { return bytes };
                    bytes += read_all(&file, &mut buf);
                }
            })
        })
        .collect();
    let mut files = 0;
    for f in vol.scan() {
        let f = f.unwrap();
        // The volume's own files and $Extend's are not the user's.
        let info = f.info();
        if info.file_ref.is_metadata() || info.names.iter().all(|n| n.parent.record == 11) {
            continue;
        }
        files += 1;
        if !info.is_dir {
            tx.send(f).unwrap();
        }
    }
    drop(tx);
    let bytes = readers.into_iter().map(|r| r.join().unwrap()).sum();
    (files, bytes)
}

fn mount(root: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    let mut buf = vec![0u8; 1 << 20];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            files += 1;
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let mut f = std::fs::File::open(&path).unwrap();
            loop {
                let n = f.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                bytes += n as u64;
            }
        }
    }
    (files, bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i).map(String::as_str).unwrap_or_else(|| {
        eprintln!("usage: bench-ntfs make IMAGE FILES | walk IMAGE | scan IMAGE [THREADS] | mount DIR");
        std::process::exit(2)
    })
    };
    let t = Instant::now();
    let (files, bytes) = match arg(1) {
        "make" => {
            make(Path::new(arg(2)), arg(3).parse().unwrap());
            return;
        }
        "walk" => walk(Path::new(arg(2))),
        "scan" => scan(
            Path::new(arg(2)),
            args.get(3).map_or(2, |n| n.parse().unwrap()),
        ),
        "mount" => mount(Path::new(arg(2))),
        _ => {
            arg(usize::MAX);
            return;
        }
    };
    println!("{files} {bytes} {:.3}", t.elapsed().as_secs_f64());
}
