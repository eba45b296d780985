//! Windows shortcuts (`.lnk`) whose targets MigXML's `DoesShortcutRefer` asks about.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lifeboat::lnk::parse(data);
});
