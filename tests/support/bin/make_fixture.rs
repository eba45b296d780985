//! `make-fixture demo DIR`: writes the built-in demo machine (see README);
//! `make-fixture winpe DIR`: a WinPE-shaped copype base;
//! `make-fixture bench DIR SIZE_MB`: the capture benchmark's sample machine;
//! `make-fixture newpc DIR USER`: a freshly imaged Windows 11 with one user, empty folders
//! (the restore benchmark's target);
//! `make-fixture small-files DIR COUNT`: a machine whose user has COUNT tiny files;
//! `make-fixture big-hive DIR MB`: a machine with a dirty SOFTWARE hive of about MB;
//! `make-fixture bench-rules DIR FILES`: the rule-evaluation benchmark's machine.

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
        [cmd, dir, mb] if cmd == "bench" => {
            let mb: usize = mb.parse().unwrap_or(1000);
            fixtures::bench::write_bench(std::path::Path::new(dir), mb);
            println!("benchmark machine written to {dir} (about {mb} MB)");
        }
        [cmd, dir, user] if cmd == "newpc" => {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).expect("create the folder");
            let mut u = fixtures::volume::UserSpec::local(1001, user);
            u.files = Vec::new();
            let mut spec = fixtures::volume::WindowsSpec::win11("NEWPC");
            spec.users = vec![u];
            spec.write(&dir.join("Windows"), &[('C', dir.to_path_buf())]);
            println!("new Windows written to {} with user {user}", dir.display());
        }
        [cmd, dir, n] if cmd == "small-files" => {
            let n: usize = n.parse().unwrap_or(1_000_000);
            fixtures::bench::write_small_files(std::path::Path::new(dir), n);
            println!("small-files machine written to {dir} ({n} files)");
        }
        [cmd, dir, mb] if cmd == "big-hive" => {
            let mb: usize = mb.parse().unwrap_or(100);
            fixtures::bench::write_big_hive(std::path::Path::new(dir), mb);
            println!("machine with a dirty SOFTWARE hive of about {mb} MB written to {dir}");
        }
        [cmd, dir, n] if cmd == "bench-rules" => {
            let n: usize = n.parse().unwrap_or(200_000);
            fixtures::bench::write_rules_bench(std::path::Path::new(dir), n);
            println!("rule benchmark machine written to {dir} ({n} files)");
        }
        _ => {
            eprintln!("usage: make-fixture demo DIR | make-fixture winpe DIR [PAD_MIB] | make-fixture bench DIR SIZE_MB | make-fixture newpc DIR USER | make-fixture small-files DIR COUNT | make-fixture big-hive DIR MB | make-fixture bench-rules DIR FILES");
            std::process::exit(2);
        }
    }
}
