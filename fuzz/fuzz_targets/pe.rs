//! The head of a PE image (`ntoskrnl.exe`, the agent itself): its machine type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat::pe::{machine_of, Arch};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = machine_of(data) {
        let _ = Arch::from_machine(m).bits();
    }
});
