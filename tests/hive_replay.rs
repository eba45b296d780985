//! Transaction-log replay against the real dirty hives in `../shared/realdata/hives`, checked
//! three ways: nt-hive's own validation and a strict walk of every key and value, the expected
//! log entries (as listed by the logs' base blocks and entry headers), and an independent
//! replay by regipy (PyPI `regipy`) compared through `hivexml` dumps of both results.
//!
//! Needs python3 with regipy (`python3 -m pip install regipy==6.5.0`) and hivexml
//! (Debian `libhivex-bin`); fails when they are missing.
use std::path::Path;
use std::process::Command;

use lifeboat::hive::{find_logs, is_dirty, LoadedHive, LogFormat, Recovery};
use nt_hive::{Hive, KeyNode, KeyValueData};

/// A dirty real hive whose logs replay: (path under hives/, logs applied in order, entries).
/// The entry counts come from the logs themselves: each log's first entry carries its base
/// block's sequence number and later ones follow as N + 1 (see the notes per hive).
const REPLAYED: &[(&str, &[&str], usize)] = &[
    // Hive 195/194. LOG1 229-231, LOG2 232: LOG1 first, LOG2 continues at 232.
    (
        "NTUSER/DFIRArtifactMuseum__Win10-RathbunVM__NTUSER.DAT",
        &[
            "DFIRArtifactMuseum__Win10-RathbunVM__ntuser.dat.LOG1",
            "DFIRArtifactMuseum__Win10-RathbunVM__ntuser.dat.LOG2",
        ],
        4,
    ),
    // Hive 214/213. LOG2 238-240 holds the earlier entries, LOG1 241-242 continues.
    (
        "NTUSER/DFIRArtifactMuseum__Win11-RathbunVM__NTUSER.DAT",
        &[
            "DFIRArtifactMuseum__Win11-RathbunVM__ntuser.dat.LOG2",
            "DFIRArtifactMuseum__Win11-RathbunVM__ntuser.dat.LOG1",
        ],
        5,
    ),
    // Hive 567/566. log1 566-588; log2 (562) is older than the hive and is not used.
    // Entries 567 and 568 grow the hive bins from 778240 to 925696 bytes.
    (
        "NTUSER/regipy__transactions_NTUSER.DAT",
        &["regipy__transactions_ntuser.dat.log1"],
        23,
    ),
    // Hive 1622/1621. LOG1 2107-2110, LOG2 2111-2130 (2118 and 2121 grow the hive).
    (
        "SYSTEM/regipy__SYSTEM_B",
        &["regipy__SYSTEM_B.LOG1", "regipy__SYSTEM_B.LOG2"],
        24,
    ),
    // Hive 118/117. LOG1 146-148, LOG2 149-151.
    (
        "UsrClass/DFIRArtifactMuseum__Win10-RathbunVM__UsrClass.dat",
        &[
            "DFIRArtifactMuseum__Win10-RathbunVM__UsrClass.dat.LOG1",
            "DFIRArtifactMuseum__Win10-RathbunVM__UsrClass.dat.LOG2",
        ],
        6,
    ),
    // Hive 129/128. LOG2 139-145, LOG1 146.
    (
        "UsrClass/DFIRArtifactMuseum__Win11-RathbunVM__UsrClass.dat",
        &[
            "DFIRArtifactMuseum__Win11-RathbunVM__UsrClass.dat.LOG2",
            "DFIRArtifactMuseum__Win11-RathbunVM__UsrClass.dat.LOG1",
        ],
        8,
    ),
    // Hive 256/255. LOG1 287-290, LOG2 291-300.
    (
        "UsrClass/regipy__UsrClass.dat",
        &["regipy__UsrClass.dat.LOG1", "regipy__UsrClass.dat.LOG2"],
        14,
    ),
];

/// Dirty real hives that were published without their logs: nothing can bring them up to
/// date, so the stale primary is read.
const WITHOUT_LOGS: &[&str] = &[
    "NTUSER/DFIRArtifactMuseum__Win11-RathbunVM__LocalService__NTUSER.DAT",
    "NTUSER/DFIRArtifactMuseum__Win11-RathbunVM__NetworkService__NTUSER.DAT",
    "NTUSER/regipy__NTUSER_BAGMRU.DAT",
    "SYSTEM/regipy__SYSTEM_2",
    "SYSTEM/regipy__SYSTEM_WIN_10_1709",
    "UsrClass/velociraptor__UsrClass.dat",
];

#[test]
fn the_dirty_real_hives_are_the_ones_listed_here() {
    let Some(hives) = fixtures::realdata("hives") else {
        return;
    };
    let mut dirty = Vec::new();
    for dir in ["NTUSER", "SAM", "SYSTEM", "UsrClass", "corrupt"] {
        for e in std::fs::read_dir(hives.join(dir))
            .expect("real hives present")
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.to_lowercase().contains(".log") {
                continue;
            }
            let bytes = std::fs::read(e.path()).expect("readable hive");
            if is_dirty(&bytes) {
                dirty.push(format!("{dir}/{name}"));
            }
        }
    }
    dirty.sort();
    let mut listed: Vec<String> = REPLAYED
        .iter()
        .map(|(p, _, _)| p.to_string())
        .chain(WITHOUT_LOGS.iter().map(|p| p.to_string()))
        .collect();
    listed.sort();
    assert_eq!(dirty, listed);
}

#[test]
fn every_dirty_real_hive_with_logs_replays_and_walks() {
    let Some(hives) = fixtures::realdata("hives") else {
        return;
    };
    for &(rel, logs, entries) in REPLAYED {
        let path = hives.join(rel);
        let hive = LoadedHive::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let used: Vec<String> = match hive.recovery() {
            Recovery::Replayed {
                logs,
                format,
                applied,
            } => {
                assert_eq!(*format, LogFormat::New, "{rel}");
                assert_eq!(*applied, entries, "{rel}: entries applied");
                logs.iter()
                    .map(|p| {
                        std::path::Path::new(p)
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .into_owned()
                    })
                    .collect()
            }
            other => panic!("{rel}: not replayed: {other:?}"),
        };
        assert_eq!(used, logs, "{rel}: logs used, in order");
        let bytes = hive.bytes();
        assert!(!is_dirty(bytes), "{rel}: still dirty");
        let (keys, values) = strict_walk(bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(
            keys > 10 && values > 10,
            "{rel}: only {keys} keys, {values} values"
        );
        eprintln!("{rel}: {entries} entries from {used:?}, {keys} keys, {values} values");
    }
}

#[test]
fn dirty_real_hives_without_logs_are_read_stale_and_say_why() {
    let Some(hives) = fixtures::realdata("hives") else {
        return;
    };
    for rel in WITHOUT_LOGS {
        let path = hives.join(rel);
        assert!(find_logs(&path).is_empty(), "{rel} has logs after all");
        let hive = LoadedHive::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        match hive.recovery() {
            Recovery::NotRecovered { reason } => {
                assert_eq!(reason, "no transaction log beside the hive")
            }
            other => panic!("{rel}: {other:?}"),
        }
        strict_walk(hive.bytes()).unwrap_or_else(|e| panic!("{rel}: {e}"));
    }
}

/// regipy replays the same logs independently (its own parser and page writer); the key and
/// value dumps of both results must be identical, and must differ from the stale primary's.
///
/// regipy checks neither hashes nor sequence numbers: it applies every `HvLE` entry of its
/// "secondary" log, then of its "primary" one. So it is given exactly the logs the
/// specification selects, the one with earlier entries as "secondary". Left to its usual call
/// (`.LOG1` primary, `.LOG2` secondary, both always) it applies older entries over newer ones
/// whenever `.LOG1` holds the earlier entries, and applies `regipy__transactions`' stale log2
/// (sequence 562, older than the hive's 566): its dumps then differ from ours for 5 of the 7
/// hives (e.g. UserAssist counters of Win10 NTUSER.DAT roll back to LOG1's values), and the
/// transactions hive even becomes unreadable for hivexml ("Bad address").
#[test]
fn regipy_recovers_the_same_keys_and_values() {
    let Some(hives) = fixtures::realdata("hives") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    for &(rel, logs, _) in REPLAYED {
        let path = hives.join(rel);
        let hive = LoadedHive::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let stem = rel.replace('/', "_");
        let ours = tmp.path().join(format!("{stem}.ours"));
        std::fs::write(&ours, hive.bytes()).expect("write ours");
        let theirs = tmp.path().join(format!("{stem}.regipy"));
        let dir = path.parent().expect("hive dir");
        let (primary, secondary) = match logs {
            [only] => (dir.join(only), None),
            [first, second] => (dir.join(second), Some(dir.join(first))),
            _ => panic!("{rel}: unexpected log list"),
        };
        regipy_recover(&path, &primary, secondary.as_deref(), &theirs);
        fix_header_checksum(&theirs);
        let (a, b) = (hivexml(&ours), hivexml(&theirs));
        assert!(a.len() > 1000, "{rel}: hivexml output too short");
        assert_ne!(
            a,
            hivexml(&path),
            "{rel}: the replay changed no key or value"
        );
        if a != b {
            let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
            panic!("{rel}: our replay and regipy's differ (first differing line {line:?})");
        }
        eprintln!("{rel}: regipy agrees ({} bytes of hivexml)", a.len());
    }
}

fn regipy_recover(hive: &Path, primary: &Path, secondary: Option<&Path>, out: &Path) {
    let script = "import sys\nfrom regipy.recovery import apply_transaction_logs\n\
                  h, p, s, o = sys.argv[1:5]\n\
                  apply_transaction_logs(h, p, secondary_log_path=s or None, restored_hive_path=o)\n";
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(hive)
        .arg(primary)
        .arg(secondary.map(|s| s.as_os_str()).unwrap_or_default())
        .arg(out)
        .status()
        .expect("python3 must be installed (with regipy: python3 -m pip install regipy==6.5.0)");
    assert!(
        status.success(),
        "regipy failed on {} (is it installed? python3 -m pip install regipy==6.5.0)",
        hive.display()
    );
}

/// regipy rewrites sequence numbers and the hive-bins size but not the header checksum, which
/// hivexml then refuses ("Invalid argument"): recompute just that field of its output.
fn fix_header_checksum(path: &Path) {
    let mut bytes = std::fs::read(path).expect("regipy output");
    let sum = lifeboat::hive::header_checksum(&bytes);
    bytes[508..512].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(path, bytes).expect("rewrite regipy output");
}

fn hivexml(path: &Path) -> String {
    let out = Command::new("hivexml")
        .arg(path)
        .output()
        .expect("hivexml must be installed (Debian package libhivex-bin)");
    assert!(
        out.status.success(),
        "hivexml failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("hivexml writes UTF-8")
}

/// Opens with full nt-hive validation (sequence numbers, checksum, sizes) and walks every key,
/// value and value data, failing on the first error. Returns (keys, values).
///
/// One exception: hives of format 1.3 (Windows XP-era format, still used for UsrClass.dat)
/// keep values larger than 16344 bytes in one plain cell, while nt-hive 0.3 always expects a
/// big-data (`db`) record there. Such values are checked by hivexml in the regipy comparison
/// instead (hivexget reads them from these very files).
fn strict_walk(bytes: &[u8]) -> Result<(usize, usize), String> {
    let hive = Hive::new(bytes).map_err(|e| format!("nt-hive rejects the hive: {e}"))?;
    let root = hive.root_key_node().map_err(|e| format!("root key: {e}"))?;
    let mut walk = Walk {
        single_cell_big_data: hive.minor_version() < 4,
        keys: 0,
        values: 0,
    };
    walk.key(&root, "", 0)?;
    Ok((walk.keys, walk.values))
}

struct Walk {
    single_cell_big_data: bool,
    keys: usize,
    values: usize,
}

impl Walk {
    fn key(&mut self, node: &KeyNode<&[u8]>, path: &str, depth: usize) -> Result<(), String> {
        if depth > 512 {
            return Err(format!("{path}: keys nest too deep"));
        }
        self.keys += 1;
        if let Some(values) = node.values() {
            for v in values.map_err(|e| format!("{path}: values list: {e}"))? {
                let v = v.map_err(|e| format!("{path}: value: {e}"))?;
                let name = v.name().map_err(|e| format!("{path}: value name: {e}"))?;
                let data = match v.data() {
                    Err(_) if self.single_cell_big_data && v.data_size() > 16344 => None,
                    other => Some(other.map_err(|e| format!("{path}\\{name}: data: {e}"))?),
                };
                if let Some(big @ KeyValueData::Big(_)) = data {
                    big.into_vec()
                        .map_err(|e| format!("{path}\\{name}: big data: {e}"))?;
                }
                self.values += 1;
            }
        }
        if let Some(subkeys) = node.subkeys() {
            for k in subkeys.map_err(|e| format!("{path}: subkeys list: {e}"))? {
                let k = k.map_err(|e| format!("{path}: subkey: {e}"))?;
                let name = k.name().map_err(|e| format!("{path}: key name: {e}"))?;
                self.key(&k, &format!("{path}\\{name}"), depth + 1)?;
            }
        }
        Ok(())
    }
}
