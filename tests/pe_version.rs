//! PE version resources (`VS_VERSIONINFO`) read by the agent, checked against pefile (PyPI
//! `pefile`, an independent reader) on Wine's own DLLs and EXEs (real images built by a
//! real toolchain, 64- and 32-bit) and on the fixture writer's images.
//!
//! Needs python3 with pefile (`python3 -m pip install pefile==2024.8.26`) and Wine's
//! Windows-side libraries (Debian's `wine64`/`wine`): `scripts/test.sh` installs both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fixtures::pe::{pe_with_version, VersionSpec, AMD64, I386};
use lifeboat::pe::version::{version_of_file, VersionInfo};

/// What pefile says about each file, as JSON: fixed versions, tables, translations.
const PEFILE: &str = r#"
import json, sys, pefile
out = {}
for path in sys.argv[1:]:
    try:
        pe = pefile.PE(path, fast_load=True)
        pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY['IMAGE_DIRECTORY_ENTRY_RESOURCE']])
    except Exception as e:
        out[path] = {"error": str(e)}
        continue
    # One entry per language of the RT_VERSION resource, in the directory's order; pefile
    # parses each into the same position of FileInfo and VS_FIXEDFILEINFO.
    langs = []
    for t in getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None).entries if hasattr(pe, "DIRECTORY_ENTRY_RESOURCE") else []:
        if t.id == 16:
            for name in t.directory.entries:
                langs.extend(l.id for l in name.directory.entries)
            break
    res = []
    fixed = getattr(pe, "VS_FIXEDFILEINFO", []) or []
    infos = getattr(pe, "FileInfo", []) or []
    for i, lang in enumerate(langs):
        r = {"lang": lang, "fixed": None, "tables": [], "translations": []}
        if i < len(fixed):
            f = fixed[i]
            r["fixed"] = [f.FileVersionMS >> 16, f.FileVersionMS & 0xffff, f.FileVersionLS >> 16, f.FileVersionLS & 0xffff,
                          f.ProductVersionMS >> 16, f.ProductVersionMS & 0xffff, f.ProductVersionLS >> 16, f.ProductVersionLS & 0xffff]
        for entry in (infos[i] if i < len(infos) else []):
            for t in getattr(entry, "StringTable", []) or []:
                r["tables"].append([t.LangID.decode().lower(), {k.decode(): v.decode() for k, v in t.entries.items()}])
            for v in getattr(entry, "Var", []) or []:
                for k, val in v.entry.items():
                    if k.decode() == "Translation":
                        toks = val.split()
                        for a, b in zip(toks[0::2], toks[1::2]):
                            r["translations"].append([int(a, 16), int(b, 16)])
        res.append(r)
    out[path] = res
print(json.dumps(out))
"#;

fn pefile(paths: &[PathBuf]) -> serde_json::Value {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c").arg(PEFILE).args(paths);
    let (code, out, err) = fixtures::run(&mut cmd);
    assert_eq!(
        code, 0,
        "pefile (python3 -m pip install pefile==2024.8.26): {err}"
    );
    serde_json::from_str(&out).expect("pefile's JSON")
}

/// Our reading in pefile's shape.
fn ours(info: &Option<VersionInfo>) -> serde_json::Value {
    let Some(info) = info else {
        return serde_json::Value::Null;
    };
    let fixed = info.fixed.map(|f| {
        let mut v: Vec<u16> = f.file_version.0.to_vec();
        v.extend_from_slice(&f.product_version.0);
        v
    });
    let tables: Vec<serde_json::Value> = info
        .tables
        .iter()
        .map(|t| {
            let map: BTreeMap<&str, &str> = t
                .strings
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            serde_json::json!([format!("{:04x}{:04x}", t.language, t.codepage), map])
        })
        .collect();
    serde_json::json!({"lang": info.resource_language, "fixed": fixed, "tables": tables, "translations": info.translations})
}

/// pefile's reading of the resource language the agent chose (neutral, US English, first).
fn chosen(theirs: &serde_json::Value) -> serde_json::Value {
    let Some(list) = theirs.as_array() else {
        return theirs.clone();
    };
    let by = |l: u64| list.iter().find(|r| r["lang"].as_u64() == Some(l));
    by(0)
        .or_else(|| by(0x0409))
        .or_else(|| list.first())
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// pefile keeps a value up to the end of its entry; the resource says the value ends at
/// its NUL. Compare what both agree a string is.
fn normalise(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(tables) = v.get_mut("tables").and_then(|t| t.as_array_mut()) {
        for t in tables {
            if let Some(map) = t.get_mut(1).and_then(|m| m.as_object_mut()) {
                for (_, s) in map.iter_mut() {
                    if let Some(text) = s.as_str() {
                        *s = serde_json::Value::String(
                            text.split('\0').next().unwrap_or("").to_string(),
                        );
                    }
                }
            }
        }
    }
    v
}

fn wine_images() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows",
        "/usr/lib/i386-linux-gnu/wine/i386-windows",
        "/usr/lib/wine/i386-windows",
    ] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("dll") || e.eq_ignore_ascii_case("exe"))
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

#[test]
fn wine_images_read_the_same_as_pefile_reads_them() {
    let images = wine_images();
    assert!(
        images.len() > 100,
        "Wine's Windows-side libraries are missing (apt-get install wine64): found {}",
        images.len()
    );
    let theirs = pefile(&images);
    let mut with_strings = 0;
    for p in &images {
        let want = &theirs[p.display().to_string()];
        assert!(
            want.get("error").is_none(),
            "pefile cannot read {}: {want}",
            p.display()
        );
        let got = version_of_file(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if got.as_ref().is_some_and(|i| !i.tables.is_empty()) {
            with_strings += 1;
        }
        assert_eq!(
            normalise(ours(&got)),
            normalise(chosen(want)),
            "{}",
            p.display()
        );
    }
    assert!(
        with_strings > 100,
        "only {with_strings} images with version strings"
    );
}

#[test]
fn fixture_images_read_back_by_pefile_and_by_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (AMD64, VersionSpec::new("9.64.10487.0")),
        (
            I386,
            VersionSpec::new("5.1.2600.5512").with_string("ProductVersion", "QuickTime 7.6"),
        ),
        (
            AMD64,
            VersionSpec {
                language: 0x0407,
                ..VersionSpec::new("14.0.7015.1000")
            },
        ),
    ];
    let mut paths = Vec::new();
    for (i, (machine, spec)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("app{i}.exe"));
        std::fs::write(&p, pe_with_version(*machine, spec)).unwrap();
        paths.push(p);
    }
    let theirs = pefile(&paths);
    for (p, (_, spec)) in paths.iter().zip(&cases) {
        let got = version_of_file(p).unwrap().expect("a version resource");
        assert_eq!(
            ours(&Some(got.clone())),
            chosen(&theirs[p.display().to_string()]),
            "{}",
            p.display()
        );
        assert_eq!(got.fixed.unwrap().file_version.0, spec.file_version);
        for (k, v) in &spec.strings {
            assert_eq!(got.string(k), Some(v.as_str()));
        }
    }
    // A PE without resources and a file that is no PE at all.
    let bare = dir.path().join("bare.exe");
    std::fs::write(&bare, fixtures::pe::pe_stub(AMD64)).unwrap();
    assert_eq!(version_of_file(&bare), Ok(None));
    let text = dir.path().join("readme.exe");
    std::fs::write(&text, b"not an executable").unwrap();
    assert!(version_of_file(&text).is_err());
    assert!(version_of_file(Path::new("/nonexistent/x.exe")).is_err());
}
