//! `make-fixture demo DIR`: writes the built-in demo machine (see README).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..).unwrap_or_default() {
        [cmd, dir] if cmd == "demo" => {
            let dir = std::path::Path::new(dir);
            fixtures::demo::write_demo(dir);
            println!("demo machine written to {}: volumes C and D", dir.display());
        }
        _ => {
            eprintln!("usage: make-fixture demo DIR");
            std::process::exit(2);
        }
    }
}
