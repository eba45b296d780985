//! An old machine for restore tests: a user whose Documents are redirected to D:, unicode
//! names, a path past 260 characters, settings that hold the old profile path, every file
//! dated 2 January 2020; captured by the Linux agent into a store.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::volume::{UserSpec, WindowsSpec};
use crate::{lifeboat_bin, run};

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// 2 January 2020, the source files' last write time.
pub fn old_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_923_200)
}

pub fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

pub fn long_rel() -> String {
    (0..12)
        .map(|i| format!("folder-with-a-long-name-{i:02}"))
        .collect::<Vec<_>>()
        .join("\\")
}

/// The old machine (`OLDPC`, user `ann`) in `dir` and the store captured from it.
pub fn old_machine_store(dir: &Path) -> PathBuf {
    let data = dir.join("old-d");
    std::fs::create_dir_all(data.join("Docs/ann/sub")).unwrap();
    std::fs::write(data.join("Docs/ann/thesis.odt"), b"odt thesis").unwrap();
    std::fs::write(
        data.join("Docs/ann/sub/Ünïcödé €.txt"),
        "ünïcödé".as_bytes(),
    )
    .unwrap();
    let long = data.join("Docs/ann").join(long_rel().replace('\\', "/"));
    std::fs::create_dir_all(&long).unwrap();
    std::fs::write(long.join("deep.txt"), b"deep").unwrap();
    let mut ann = UserSpec::local(1001, "ann");
    ann.files = vec![
        (r"Desktop\todo.txt".into(), b"todo".to_vec()),
        (
            r"Desktop\ünïcödé.txt".into(),
            b"from the old desktop".to_vec(),
        ),
        (r"Pictures\cat.jpg".into(), vec![0xFF; 50_000]),
        (
            r"AppData\Roaming\Microsoft\Signatures\sig.htm".into(),
            b"<p>Ann</p>".to_vec(),
        ),
    ];
    ann.shell_folders = vec![("Personal".into(), r"D:\Docs\ann".into())];
    let mut multi = utf16z(r"D:\Docs\ann\sub");
    multi.extend(utf16z(r"C:\Other"));
    multi.extend_from_slice(&[0, 0]);
    ann.ntuser_values = vec![
        (
            r"Software\LifeboatTest".into(),
            "LastFile".into(),
            1,
            utf16z(r"C:\Users\ann\Desktop\todo.txt"),
        ),
        (r"Software\LifeboatTest".into(), "Dirs".into(), 7, multi),
        (
            r"Software\LifeboatTest".into(),
            "Relative".into(),
            2,
            utf16z(r"%USERPROFILE%\x"),
        ),
    ];
    let mut spec = WindowsSpec::win10("OLDPC");
    spec.users = vec![ann];
    let c = dir.join("old-c");
    std::fs::create_dir_all(&c).unwrap();
    spec.write(&c.join("Windows"), &[('C', c.clone())]);
    for f in walk(&c.join("Users/ann")).into_iter().chain(walk(&data)) {
        let file = std::fs::File::options().write(true).open(&f).unwrap();
        file.set_modified(old_time()).unwrap();
    }
    let xml = dir.join("Offline.xml");
    std::fs::write(
        &xml,
        format!(
            "<offline><winDir><path>{}</path></winDir><mappings><path>D:\\, {}</path></mappings></offline>",
            c.join("Windows").display(),
            data.display()
        ),
    )
    .unwrap();
    let profile = dir.join("test.yaml");
    std::fs::write(
        &profile,
        "name: test\ncomponents:\n  - name: test settings\n    scope: user\n    include:\n      - 'HKCU\\Software\\LifeboatTest\\* [*]'\n      - 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders\\* [*]'\n      - '%APPDATA%\\Microsoft\\Signatures\\* [*]'\n",
    )
    .unwrap();
    let dest = dir.join("stores");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = run(Command::new(lifeboat_bin()).args([
        "capture",
        "--offline-xml",
        s(&xml),
        "--dest",
        s(&dest),
        "--profile",
        "user",
        "--profile",
        s(&profile),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    crate::store_in(&dest)
}

/// A freshly imaged new Windows (`NEWPC`) in `dir/name` with one user, bob, whose Documents
/// are in OneDrive and whose Desktop holds a file of his own.
pub fn new_machine(dir: &Path, name: &str) -> PathBuf {
    let t = dir.join(name);
    std::fs::create_dir_all(&t).unwrap();
    let mut bob = UserSpec::local(1001, "bob");
    bob.files = vec![(r"Desktop\bob.txt".into(), b"bob's own".to_vec())];
    bob.shell_folders = vec![(
        "Personal".into(),
        r"%USERPROFILE%\OneDrive\Documents".into(),
    )];
    let mut spec = WindowsSpec::win11("NEWPC");
    spec.users = vec![bob];
    spec.write_volume(&t);
    t
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out
}
