use lifeboat_volume::bitlocker::*;
use lifeboat_volume::block::FileSource;
fn main() {
    for a in std::env::args().skip(1) {
        let src = FileSource::open(std::path::Path::new(&a)).unwrap();
        match probe(&src) {
            Ok(Some(i)) => {
                println!(
                    "{}: {:?}{}, {}, {:?}{}{}",
                    a.rsplit('/').next().unwrap(),
                    i.version,
                    if i.to_go { " To Go" } else { "" },
                    i.method,
                    i.state,
                    if i.used_space_only {
                        ", used space only (EOW)"
                    } else {
                        ""
                    },
                    if i.suspended() { ", suspended" } else { "" }
                );
                for p in &i.protectors {
                    println!(
                        "    {} — ID {} ({}){}",
                        p.kind,
                        p.id.short_id(),
                        p.id,
                        p.name
                            .as_ref()
                            .map(|n| format!(", name {n}"))
                            .unwrap_or_default()
                    );
                }
            }
            r => println!("{a}: {r:?}"),
        }
    }
}
