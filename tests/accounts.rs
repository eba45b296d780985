//! Account names from real SAM hives against Debian's hivexsh (an independent reader), and
//! the kinds and names detect gives generated profiles.

use std::process::Command;

use fixtures::realdata;
use fixtures::volume::{UserSpec, WindowsSpec, MACHINE_SID};
use lifeboat::detect::sam::read_sam;
use lifeboat::detect::{self, DetectOptions, UserKind};
use lifeboat::hive::LoadedHive;

fn hivexsh(hive: &std::path::Path, script: &str) -> String {
    let mut child = Command::new("hivexsh")
        .arg(hive)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("hivexsh (libhivex-bin) must be installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn real_sam_account_names_and_rids_match_hivexsh() {
    let mut checked = 0;
    for entry in std::fs::read_dir(realdata("hives/SAM")).unwrap().flatten() {
        let path = entry.path();
        if path.to_string_lossy().to_lowercase().contains(".log") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let hive = LoadedHive::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let sam = read_sam(&hive).unwrap_or_else(|e| panic!("{name}: {e}"));
        let listed = hivexsh(&path, "cd \\SAM\\Domains\\Account\\Users\\Names\nls\n");
        let mut want: Vec<(String, u32)> = Vec::new();
        for n in listed.lines().filter(|l| !l.is_empty()) {
            let val = hivexsh(
                &path,
                &format!("cd \\SAM\\Domains\\Account\\Users\\Names\\{n}\nlsval\n"),
            );
            // "@"=hex(500): — the value's type is the RID.
            let rid = val
                .split("hex(")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .and_then(|r| r.parse().ok())
                .unwrap_or_else(|| panic!("{name}: {val}"));
            want.push((n.to_string(), rid));
        }
        let mut got: Vec<(String, u32)> = sam
            .accounts
            .iter()
            .map(|a| (a.name.clone(), a.rid))
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}");
        assert!(
            sam.machine_sid
                .as_deref()
                .is_some_and(|s| s.starts_with("S-1-5-21-")),
            "{name}: {:?}",
            sam.machine_sid
        );
        assert!(
            got.iter().any(|(n, r)| *r == 500 && !n.is_empty()),
            "{name}: built-in Administrator"
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked} SAM hives");
}

#[test]
fn kinds_and_names_of_generated_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    std::fs::create_dir_all(&v).unwrap();
    let mut spec = WindowsSpec::win11("NAME-PC");
    let mut domain = UserSpec::other("S-1-5-21-9-9-9-1104", r"%SystemDrive%\Users\jdoe");
    domain.ntuser = true;
    let entra = UserSpec::other(
        "S-1-12-1-111-222-333-444",
        r"%SystemDrive%\Users\AzureAD_Bob",
    );
    let ms = UserSpec::other("S-1-5-21-8-8-8-1001", r"%SystemDrive%\Users\carol");
    let mut temp = UserSpec::other(&format!("{MACHINE_SID}-1010"), r"%SystemDrive%\Users\TEMP");
    temp.state = 0x0800; // PROFILE_TEMP_ASSIGNED
    spec.users.extend([domain, entra, ms, temp]);
    spec.software_extra = vec![
        (r"Microsoft\Windows\CurrentVersion\Group Policy\DataStore\S-1-5-21-9-9-9-1104\0".into(), "szName".into(), "jdoe".into()),
        (r"Microsoft\Windows\CurrentVersion\Group Policy\DataStore\S-1-5-21-9-9-9-1104\0".into(), "DomainName".into(), "CONTOSO".into()),
        (r"Microsoft\IdentityStore\Cache\S-1-12-1-111-222-333-444\IdentityCache\S-1-12-1-111-222-333-444".into(), "UserName".into(), "bob@contoso.com".into()),
        (r"Microsoft\IdentityStore\Cache\S-1-12-1-111-222-333-444\IdentityCache\S-1-12-1-111-222-333-444".into(), "ProviderName".into(), "AzureAD".into()),
        (r"Microsoft\IdentityStore\Cache\S-1-5-21-8-8-8-1001\IdentityCache\S-1-5-21-8-8-8-1001".into(), "UserName".into(), "carol@outlook.com".into()),
        (r"Microsoft\IdentityStore\Cache\S-1-5-21-8-8-8-1001\IdentityCache\S-1-5-21-8-8-8-1001".into(), "ProviderName".into(), "MicrosoftAccount".into()),
    ];
    spec.write(&v.join("Windows"), &[('C', v.clone())]);
    let r = detect::detect(&DetectOptions {
        roots: vec![v],
        ..Default::default()
    })
    .unwrap()
    .report;
    let users = &r.installations[0].users;
    let by = |sid: &str| {
        users
            .iter()
            .find(|u| u.sid == sid)
            .unwrap_or_else(|| panic!("{sid}: {users:?}"))
    };
    let ann = by(&format!("{MACHINE_SID}-1001"));
    assert_eq!(
        (ann.name.as_str(), ann.name_source.as_str(), ann.kind),
        (r"NAME-PC\ann", "sam", UserKind::Local)
    );
    assert_eq!(ann.display_name.as_deref(), Some("ann Fixture"));
    let jdoe = by("S-1-5-21-9-9-9-1104");
    assert_eq!(
        (jdoe.name.as_str(), jdoe.kind, jdoe.name_is_guess),
        (r"CONTOSO\jdoe", UserKind::Domain, false)
    );
    let bob = by("S-1-12-1-111-222-333-444");
    assert_eq!(
        (bob.name.as_str(), bob.kind),
        (r"AzureAD\bob@contoso.com", UserKind::Entra)
    );
    let carol = by("S-1-5-21-8-8-8-1001");
    assert_eq!(
        (carol.name.as_str(), carol.kind),
        (r"MicrosoftAccount\carol@outlook.com", UserKind::Microsoft)
    );
    let temp = by(&format!("{MACHINE_SID}-1010"));
    assert_eq!(temp.kind, UserKind::Temporary);
    assert!(temp.name_is_guess);
    assert_eq!(by("S-1-5-18").kind, UserKind::System);
}
