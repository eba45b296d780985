//! The built-in demo: a generated machine with two volumes, a current Windows 11 and the
//! Windows 10 it replaced (Windows.old), so that `lifeboat detect` has something real-looking
//! to find without any Microsoft media.

use std::path::Path;

use crate::regf::LogFormat;
use crate::volume::{filetime, AppSpec, UserSpec, WindowsSpec};

/// Writes the demo machine under `dir`: `dir/C` (system volume) and `dir/D` (data volume).
pub fn write_demo(dir: &Path) {
    let c = dir.join("C");
    let d = dir.join("D");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::create_dir_all(&d).unwrap();
    let volumes = [('C', c.clone()), ('D', d.clone())];

    let mut win11 = WindowsSpec::win11("DEMO-PC");
    let mut bob = UserSpec::local(1002, "bob");
    bob.profile_path = r"D:\Profiles\bob".into();
    bob.files
        .push((r"Desktop\todo.txt".into(), b"call the bank\n".to_vec()));
    win11.users = vec![UserSpec::local(1001, "ann"), bob];
    win11.apps.push(AppSpec {
        key: "{90160000-0011-0000-1000-0000000FF1CE}".into(),
        name: "Microsoft Office Professional Plus 2016".into(),
        version: "16.0.4266.1001".into(),
        publisher: "Microsoft Corporation".into(),
        wow64: true,
    });
    // Fast Startup left SOFTWARE dirty: its newest data is only in the logs.
    win11.dirty_software = Some(LogFormat::New);
    win11.write(&c.join("Windows"), &volumes);
    std::fs::write(c.join("hiberfil.sys"), vec![0u8; 4096]).unwrap();

    let mut win10 = WindowsSpec::win10("DEMO-PC");
    win10.users = vec![UserSpec::local(1001, "ann")];
    win10.users[0].last_used = Some(filetime(1_600_000_000));
    let old = c.join("Windows.old");
    win10.write(&old.join("Windows"), &[('C', old.clone())]);
}
