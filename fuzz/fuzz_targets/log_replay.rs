//! A dirty hive and its transaction logs. Input: `[u32 hive_len][u32 log1_len][hive][LOG1]
//! [LOG2 = the rest]` (little-endian lengths, taken modulo what is there). The replay runs
//! in memory; whatever it makes must then open or be refused, never panic.
#![no_main]


use libfuzzer_sys::fuzz_target;
use lifeboat::hive::{replay_logs, LoadedHive, Visit};
use lifeboat::le::u32_at;

fn split(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let len = |at: usize| u32_at(data, at).map(|n| n as usize);
    let (h, l1) = (len(0)?, len(4)?);
    let rest = data.get(8..)?;
    let h = h % (rest.len() + 1);
    let (hive, rest) = rest.split_at(h);
    let l1 = l1 % (rest.len() + 1);
    let (log1, log2) = rest.split_at(l1);
    Some((hive, log1, log2))
}

fuzz_target!(|data: &[u8]| {
    let Some((hive, log1, log2)) = split(data) else {
        return;
    };
    let mut bytes = hive.to_vec();
    let logs = vec![
        ("fuzz.hive.LOG1".to_string(), log1.to_vec()),
        ("fuzz.hive.LOG2".to_string(), log2.to_vec()),
    ];
    let before = bytes.clone();
    match replay_logs(&mut bytes, &logs) {
        Ok(_) => {
            if let Ok(h) = LoadedHive::from_bytes("fuzz.hive", bytes, &[]) {
                let mut keys_left = 20_000;
                if let Ok(root) = h.root() {
                    root.walk(&mut keys_left, &mut |_, _| Visit::Continue);
                }
            }
        }
        // "On `Err` the hive is untouched".
        Err(_) => assert!(bytes == before, "a failed replay changed the hive"),
    }
});
