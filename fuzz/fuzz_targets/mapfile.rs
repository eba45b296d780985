//! GNU ddrescue mapfiles (`lifeboat image --map`): parsed and fitted to a source; a map that
//! is accepted must come back the same through Lifeboat's own rendering of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat_volume::rescue::mapfile::{self, Header};

fuzz_target!(|data: &[u8]| {
    let Ok((Some(position), blocks)) = mapfile::parse(data) else {
        return;
    };
    let size = 1 << 20;
    let Ok(map) = mapfile::fit(&blocks, size, 512) else {
        return;
    };
    let header = Header {
        program: "fuzz".into(),
        command_line: "fuzz".into(),
        start: std::time::SystemTime::UNIX_EPOCH,
    };
    let text = mapfile::render(&position, &map, &header, std::time::SystemTime::UNIX_EPOCH);
    let (again, blocks) = mapfile::parse(text.as_bytes()).expect("Lifeboat reads its own map");
    assert_eq!(again, Some(position));
    assert_eq!(mapfile::fit(&blocks, size, 512), Ok(map));
});
