//! USMT's Offline.xml (`--offline-xml`): Windows folders, `failOnMultipleWinDir`, mappings.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use lifeboat::detect::offline_xml;

fuzz_target!(|data: &[u8]| {
    if let Ok(o) = offline_xml::parse(data, Path::new("/fuzz")) {
        assert!(!o.windirs.is_empty());
    }
});
