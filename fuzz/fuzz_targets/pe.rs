//! The PE images the agent reads: the head of `ntoskrnl.exe` and the agent itself (machine
//! type), the headers both programs read (data directories, sections: the media builder
//! finds an agent's imports through them), and the version resources MigXML asks about
//! (`DoesFileVersionMatch`, …).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat::pe::{machine_of, version, Arch, Headers};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = machine_of(data) {
        let _ = Arch::from_machine(m).bits();
    }
    if let Ok(h) = Headers::parse(data) {
        for (rva, _) in &h.directories {
            let _ = h.file_offset(*rva);
        }
    }
    let _ = version::version_info(&mut &data[..]);
});
