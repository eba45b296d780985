//! `make-fixture demo DIR`: writes the built-in demo machine (see README);
//! `make-fixture winpe DIR`: a WinPE-shaped copype base;
//! `make-fixture bench DIR SIZE_MB`: the capture benchmark's sample machine;
//! `make-fixture newpc DIR USER...`: a freshly imaged Windows 11 with these users, each
//! signed in once (a profile, nothing in it yet): the demo's and the restore benchmark's
//! target;
//! `make-fixture small-files DIR COUNT`: a machine whose user has COUNT tiny files;
//! `make-fixture ntfs-small-files IMAGE COUNT`: the same as an NTFS image (mkntfs, filled
//! through ntfs-3g);
//! `make-fixture big-hive DIR MB`: a machine with a dirty SOFTWARE hive of about MB;
//! `make-fixture bench-rules DIR FILES`: the rule-evaluation benchmark's machine;
//! `make-fixture store-v1 DIR`: the old machine `tests/fixtures/store-v1/` was captured from;
//! `make-fixture bitlocker PLAIN OUT METHOD SECTOR KEY`: PLAIN encrypted into OUT as
//! BitLocker (METHOD: cbc128d cbc256d cbc128 cbc256 xts128 xts256; KEY: password:TEXT,
//! recovery:SEED or bek:SEED:FILE.BEK, clear); prints the key to give.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..).unwrap_or_default() {
        [cmd, dir] if cmd == "demo" => {
            let dir = std::path::Path::new(dir);
            fixtures::demo::write_demo(dir);
            println!(
                "demo machine written to {}: volumes C and D, Offline.xml",
                dir.display()
            );
        }
        [cmd, dir, rest @ ..] if cmd == "winpe" && rest.len() <= 1 => {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).expect("create the folder");
            let mut spec = fixtures::winpe::WinPeSpec::amd64();
            spec.padding_mib = rest.first().and_then(|m| m.parse().ok()).unwrap_or(0);
            let base = fixtures::winpe::copype(dir, &spec);
            println!(
                "WinPE-shaped base (generated, not Microsoft's) written to {}",
                base.display()
            );
        }
        [cmd, dir] if cmd == "store-v1" => {
            let m = fixtures::store_v1::write_machine(std::path::Path::new(dir));
            println!(
                "old machine written to {dir}: /offline:{} /i:{} /config:{}",
                m.offline_xml.display(),
                m.rules.display(),
                m.config.display()
            );
        }
        [cmd, dir, mb] if cmd == "bench" => {
            let mb: usize = mb.parse().unwrap_or(1000);
            fixtures::bench::write_bench(std::path::Path::new(dir), mb);
            println!("benchmark machine written to {dir} (about {mb} MB)");
        }
        [cmd, dir, users @ ..] if cmd == "newpc" && !users.is_empty() => {
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            fixtures::demo::write_new_pc(std::path::Path::new(dir), &users);
            println!(
                "new Windows written to {dir} with user(s) {}",
                users.join(", ")
            );
        }
        [cmd, dir, n] if cmd == "small-files" => {
            let n: usize = n.parse().unwrap_or(1_000_000);
            fixtures::bench::write_small_files(std::path::Path::new(dir), n);
            println!("small-files machine written to {dir} ({n} files)");
        }
        [cmd, img, n] if cmd == "ntfs-small-files" => {
            let n: usize = n.parse().unwrap_or(100_000);
            fixtures::bench::write_ntfs_small_files(std::path::Path::new(img), n);
            println!("NTFS image {img} written: a Windows machine whose user has {n} files");
        }
        [cmd, dir, mb] if cmd == "big-hive" => {
            let mb: usize = mb.parse().unwrap_or(100);
            fixtures::bench::write_big_hive(std::path::Path::new(dir), mb);
            println!("machine with a dirty SOFTWARE hive of about {mb} MB written to {dir}");
        }
        [cmd, plain, out, method, sector, key] if cmd == "bitlocker" => {
            bitlocker(plain, out, method, sector, key)
        }
        [cmd, dir, n] if cmd == "bench-rules" => {
            let n: usize = n.parse().unwrap_or(200_000);
            fixtures::bench::write_rules_bench(std::path::Path::new(dir), n);
            println!("rule benchmark machine written to {dir} ({n} files)");
        }
        _ => {
            eprintln!("usage: make-fixture demo DIR | make-fixture bitlocker PLAIN OUT METHOD SECTOR KEY | make-fixture winpe DIR [PAD_MIB] | make-fixture bench DIR SIZE_MB | make-fixture newpc DIR USER... | make-fixture store-v1 DIR | make-fixture small-files DIR COUNT | make-fixture ntfs-small-files IMAGE COUNT | make-fixture big-hive DIR MB | make-fixture bench-rules DIR FILES");
            std::process::exit(2);
        }
    }
}

fn bitlocker(plain: &str, out: &str, method: &str, sector: &str, key: &str) {
    use fixtures::bitlocker::{bek_file, encrypt_file, Method, Protector, Spec};
    let method = match method {
        "cbc128d" => Method::AesCbc128Diffuser,
        "cbc256d" => Method::AesCbc256Diffuser,
        "cbc128" => Method::AesCbc128,
        "cbc256" => Method::AesCbc256,
        "xts128" => Method::XtsAes128,
        _ => Method::XtsAes256,
    };
    let seed = |s: &str| s.parse::<u64>().unwrap_or(1);
    let parts: Vec<&str> = key.split(':').collect();
    let p = match parts[..] {
        ["password", text] => Protector::Password(text.into()),
        ["recovery", s] => Protector::recovery_password(seed(s)),
        ["bek", s, _] => Protector::startup_key(seed(s)),
        _ => Protector::ClearKey,
    };
    let spec = Spec::new(method, sector.parse().unwrap_or(512)).protect(p.clone());
    let plain = std::path::Path::new(plain);
    encrypt_file(plain, std::path::Path::new(out), &spec).expect("encrypt the image");
    match (p, &parts[..]) {
        (Protector::RecoveryPassword(rp), _) => println!("{rp}"),
        (Protector::StartupKey { id, key }, [_, _, file]) => {
            std::fs::write(file, bek_file(&id, &key, false)).expect("write the key file");
            println!("{file}");
        }
        (Protector::Password(pw), _) => println!("{pw}"),
        _ => println!("clear key"),
    }
}
