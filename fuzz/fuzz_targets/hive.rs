//! A hive file as found on a source disk: opened (base block checked, a dirty one read as
//! it is), walked whole within a key budget, and every value decoded every way.
#![no_main]


use libfuzzer_sys::fuzz_target;
use lifeboat::hive::{LoadedHive, Value, Visit};

fn decode(v: &Value) {
    let _ = (
        v.as_string(),
        v.as_dword(),
        v.as_qword(),
        v.as_multi_string(),
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(hive) = LoadedHive::from_bytes("fuzz.hive", data.to_vec(), &[]) else {
        return;
    };
    let Ok(root) = hive.root() else {
        panic!("a hive that opened has no root");
    };
    let mut keys_left = 20_000;
    let report = root.walk(&mut keys_left, &mut |_, values| {
        values.iter().for_each(decode);
        Visit::Continue
    });
    assert!(report.keys <= 20_000);
    // The lookups detection makes: by name, case-insensitively, re-walked from the root.
    for key in root.subkeys().iter().take(32) {
        let _ = key.name();
        key.values().iter().for_each(decode);
        let _ = key.value_type_code("");
        for sub in key.subkeys().iter().take(8) {
            let _ = sub.string("");
        }
    }
    let _ = hive.key(r"Microsoft\Windows NT\CurrentVersion");
    let _ = hive.header_timestamp();
});
