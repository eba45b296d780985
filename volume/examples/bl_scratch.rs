use lifeboat_volume::bitlocker::*;
use lifeboat_volume::block::{BlockSource, FileSource};
use std::sync::Arc;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let src = Arc::new(FileSource::open(std::path::Path::new(&a[1])).unwrap());
    println!("{:#?}", probe(&*src));
    let mut keys = Keys::new();
    for k in &a[2..] {
        if let Some(p) = k.strip_prefix("pw:") {
            keys.add_password(p)
        } else if let Some(p) = k.strip_prefix("rp:") {
            keys.add_recovery_password(p).unwrap()
        } else if let Some(p) = k.strip_prefix("bek:") {
            keys.add_startup_key_file(std::path::Path::new(p)).unwrap()
        }
    }
    let t = std::time::Instant::now();
    match unlock(src, &keys) {
        Ok(u) => {
            let mut b = [0u8; 64];
            u.read_at(0x2000, &mut b).unwrap();
            println!("{:02x?}", b);
            println!("unlocked in {:?}: {:?}", t.elapsed(), u);
            if let Ok(out) = std::env::var("OUT") {
                let mut f = std::fs::File::create(out).unwrap();
                let mut buf = vec![0u8; 1 << 20];
                let mut at = 0;
                use std::io::Write;
                while at < u.size() {
                    let n = (u.size() - at).min(buf.len() as u64) as usize;
                    u.read_at(at, &mut buf[..n]).unwrap();
                    f.write_all(&buf[..n]).unwrap();
                    at += n as u64;
                }
            }
        }
        Err(e) => println!("error: {e}"),
    }
}
