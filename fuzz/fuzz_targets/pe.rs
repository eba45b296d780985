//! The PE images the agent reads: the head of `ntoskrnl.exe` and the agent itself (machine
//! type), and the version resources MigXML asks about (`DoesFileVersionMatch`, …).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat::pe::{machine_of, version, Arch};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = machine_of(data) {
        let _ = Arch::from_machine(m).bits();
    }
    let _ = version::version_info(&mut &data[..]);
});
