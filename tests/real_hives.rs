//! The agent's readings of real hives from Windows XP to 11 (`../shared/realdata/hives`)
//! against Debian's hivex, an independent reader.

use std::process::Command;

use fixtures::{realdata, run};
use lifeboat::detect::system_info;
use lifeboat::hive::{LoadedHive, Recovery, Visit};

/// Keys in a clean hive as hivex counts them (`hivexml`'s `<node>` elements); `None` for a
/// dirty hive, whose logs hivex does not replay.
fn hivex_key_count(h: &LoadedHive) -> Option<usize> {
    if *h.recovery() != Recovery::Clean {
        return None;
    }
    let (code, out, err) = run(Command::new("hivexml").arg(h.path()));
    assert_eq!(code, 0, "hivexml {}: {err}", h.path());
    Some(out.matches("<node ").count())
}

fn hivexget(file: &std::path::Path, key: &str, value: &str) -> Option<String> {
    let (code, out, err) = run(Command::new("hivexget").arg(file).arg(key).arg(value));
    assert!(
        code == 0 || err.contains("not found") || out.is_empty(),
        "hivexget failed (is libhivex-bin installed?): {err}"
    );
    (code == 0).then(|| out.trim_end_matches('\n').to_string())
}

#[test]
fn system_hives_computer_name_and_architecture_match_hivex() {
    let Some(dir) = realdata("hives/SYSTEM") else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.to_lowercase().contains(".log") {
            continue;
        }
        let hive = LoadedHive::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let current = hivexget(&path, r"\Select", "Current").expect("Select\\Current");
        let ccs = format!("ControlSet{:03}", current.parse::<u32>().unwrap());
        assert_eq!(system_info::current_control_set(&hive), ccs, "{name}");
        let want_name = hivexget(
            &path,
            &format!(r"\{ccs}\Control\ComputerName\ComputerName"),
            "ComputerName",
        );
        assert_eq!(
            system_info::computer_name(&hive),
            want_name,
            "{name}: computer name"
        );
        let want_arch = hivexget(
            &path,
            &format!(r"\{ccs}\Control\Session Manager\Environment"),
            "PROCESSOR_ARCHITECTURE",
        );
        let got_arch = system_info::registry_arch(&hive);
        assert_eq!(
            got_arch.map(|a| a.as_str().to_string()),
            want_arch.map(|a| lifeboat::pe::Arch::from_processor_architecture(&a)
                .as_str()
                .to_string()),
            "{name}: architecture"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} SYSTEM hives found");
}

#[test]
fn corrupt_real_hive_is_an_error_naming_the_file() {
    let Some(path) = realdata("hives/corrupt/regipy__corrupted_system_hive") else {
        return;
    };
    match LoadedHive::open(&path) {
        Err(e) => assert!(
            e.to_string().contains("regipy__corrupted_system_hive"),
            "{e}"
        ),
        // If the header survives, reading must still not panic and must say what it can.
        Ok(h) => {
            let _ = system_info::computer_name(&h);
            let mut keys = 0;
            if let Ok(root) = h.root() {
                let mut budget = usize::MAX;
                root.walk(&mut budget, &mut |_, _| {
                    keys += 1;
                    Visit::Continue
                });
            }
            assert!(keys > 0);
        }
    }
}

#[test]
fn every_real_hive_opens_and_walks_without_panic() {
    let Some(hives) = realdata("hives") else {
        return;
    };
    for sub in ["SYSTEM", "SAM", "NTUSER", "UsrClass", "corrupt"] {
        for entry in std::fs::read_dir(hives.join(sub)).unwrap().flatten() {
            let path = entry.path();
            if path.to_string_lossy().to_lowercase().contains(".log") {
                continue;
            }
            if let Ok(h) = LoadedHive::open(&path) {
                if let Ok(root) = h.root() {
                    let mut n = 0u64;
                    let mut budget = usize::MAX;
                    let report = root.walk(&mut budget, &mut |_, vals| {
                        n += 1 + vals.len() as u64;
                        Visit::Continue
                    });
                    assert!(n > 0, "{}", path.display());
                    // Real hives have no loops: every key cell is met once.
                    if sub != "corrupt" {
                        assert_eq!(report.problems, vec![], "{}", path.display());
                        if let Some(n) = hivex_key_count(&h) {
                            assert_eq!(report.keys, n, "{}", path.display());
                        }
                    }
                }
            }
        }
    }
}
