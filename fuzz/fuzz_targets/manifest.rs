//! A store's manifest.yaml as `lifeboat verify` meets it on a stick from elsewhere: parsed,
//! then the store it describes verified (an empty store here: every file it names is
//! missing or refused, never followed outside).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lifeboat::store::manifest::Manifest;
use lifeboat::store::read::StoreReader;
use lifeboat::store::verify;

fn store() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(d.path().join("registry")).expect("registry folder");
        std::fs::write(d.path().join("registry/ann.reg"), b"\xff\xfeW\0").expect("a .reg");
        d
    })
    .path()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = Manifest::from_yaml(text) {
        let _ = verify::verify_contents(
            &StoreReader::with_manifest(store(), m),
            verify::ReadBack::Everything,
        );
    }
});
