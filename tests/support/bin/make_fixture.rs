//! `make-fixture demo DIR`: writes the built-in demo machine (see README);
//! `make-fixture winpe DIR`: a WinPE-shaped copype base;
//! `make-fixture bench DIR SIZE_MB`: the capture benchmark's sample machine.

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
        _ => {
            eprintln!("usage: make-fixture demo DIR | make-fixture winpe DIR [PAD_MIB] | make-fixture bench DIR SIZE_MB");
            std::process::exit(2);
        }
    }
}
