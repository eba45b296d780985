//! Naming user profiles: every kind of account on a generated offline Windows, through
//! `lifeboat::detect::detect`; and the real SAM hives parsed by Lifeboat compared with
//! what Debian's `hivexsh` reads from them independently.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fixtures::realdata;
use fixtures::volume::{UserSpec, WindowsSpec, MACHINE_SID};
use lifeboat::detect::{self, DetectOptions, User, UserKind};
use lifeboat::hive::LoadedHive;

fn users_of(spec: &WindowsSpec) -> Vec<User> {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("vol");
    spec.write_volume(&vol);
    let r = detect::detect(&DetectOptions {
        roots: vec![vol],
        ..Default::default()
    })
    .expect("detect")
    .report;
    assert_eq!(r.installations.len(), 1);
    r.installations[0].users.clone()
}

fn user<'a>(users: &'a [User], sid: &str) -> &'a User {
    users
        .iter()
        .find(|u| u.sid == sid)
        .unwrap_or_else(|| panic!("{sid} not listed: {users:#?}"))
}

fn check(u: &User, name: &str, kind: UserKind, source: &str, guess: bool) {
    assert_eq!(
        (
            u.name.as_str(),
            u.kind,
            serde_json::to_value(u.name_source)
                .unwrap()
                .as_str()
                .unwrap(),
            u.name_is_guess
        ),
        (name, kind, source, guess),
        "{u:#?}"
    );
}

const ENTRA: &str = "S-1-12-1-1111111111-1222222222-1333333333-1444444444";
const ENTRA2: &str = "S-1-12-1-2111111111-2222222222-2333333333-2444444444";
const ENTRA3: &str = "S-1-12-1-3111111111-3222222222-3333333333-3444444444";
const CORP: &str = "S-1-5-21-5000000001-5000000002-5000000003";

#[test]
fn every_kind_of_account_is_named() {
    let mut spec = WindowsSpec::win11("PC-ACC");
    let mut mia = UserSpec::local(1002, "mia");
    mia.microsoft_account = Some(("mia@outlook.example".into(), "Mia".into(), "Muster".into()));
    let mut temp = UserSpec::local(1003, "tina");
    temp.profile_path = r"%SystemDrive%\Users\TEMP".into();
    let mut state_temp = UserSpec::local(1007, "tom");
    state_temp.state = 0x0800; // PROFILE_TEMP_ASSIGNED
    let mut state_bak = UserSpec::local(1008, "ute");
    state_bak.state = 0x8000; // PROFILE_THIS_IS_BAK
    let oobe = UserSpec::other(
        &format!("{MACHINE_SID}-1004"),
        r"%SystemDrive%\Users\defaultuser0",
    );
    let mut bak = UserSpec::local(1005, "bea");
    bak.bak = true;
    let deleted = UserSpec::other(&format!("{MACHINE_SID}-1006"), r"C:\Users\olga");
    let jsmith = format!("{CORP}-1105");
    let lastdom = format!("{CORP}-1106");
    let sessdom = format!("{CORP}-1107");
    let nodata = format!("{CORP}-1108");
    let carol = "S-1-5-21-8-8-8-1001";
    spec.users.extend([
        mia,
        temp,
        state_temp,
        state_bak,
        oobe,
        bak,
        deleted,
        UserSpec::other(ENTRA, r"C:\Users\EvaEntra"),
        UserSpec::other(ENTRA2, r"C:\Users\FinnEntra"),
        UserSpec::other(ENTRA3, r"C:\Users\GretaEntra"),
        UserSpec::other(&jsmith, r"C:\Users\jsmith"),
        UserSpec::other(&lastdom, r"C:\Users\kim"),
        UserSpec::other(&sessdom, r"C:\Users\lou"),
        UserSpec::other(&nodata, r"C:\Users\max.CORP"),
        UserSpec::other(carol, r"C:\Users\carol"),
        UserSpec::other(
            "S-1-5-80-1-2-3-4-5",
            r"C:\Windows\ServiceProfiles\MSSQLSERVER",
        ),
    ]);
    spec.identity_cache(ENTRA, "eva@contoso.example", "Eva Entra", "EvaEntra");
    spec.identity_cache(carol, "carol@outlook.example", "Carol", "carol");
    spec.software_extra.push((
        format!(r"Microsoft\IdentityStore\Cache\{carol}\IdentityCache\{carol}"),
        "ProviderName".into(),
        "MicrosoftAccount".into(),
    ));
    spec.logon_cache(ENTRA2, "finn@contoso.example", "Finn Entra");
    spec.logon_ui(
        Some(1),
        ENTRA3,
        r"AzureAD\GretaEntra",
        r"AzureAD\GretaEntra",
        "Greta",
    );
    spec.group_policy(
        &jsmith,
        "jsmith",
        "corp.example.com",
        r"CN=Smith\, John,OU=Staff,DC=corp,DC=example,DC=com",
    );
    spec.logon_ui(None, &lastdom, r"CORP\kim", r"CORP\kim", "Kim Last");
    spec.logon_ui(Some(2), &sessdom, r"CORP\lou", r"CORP\lou", "Lou Session");
    let users = users_of(&spec);

    let ann = user(&users, &format!("{MACHINE_SID}-1001"));
    check(ann, r"PC-ACC\ann", UserKind::Local, "sam", false);
    assert_eq!(ann.display_name.as_deref(), Some("ann Fixture"));
    let mia = user(&users, &format!("{MACHINE_SID}-1002"));
    check(
        mia,
        r"MicrosoftAccount\mia@outlook.example",
        UserKind::Microsoft,
        "sam-microsoft-account",
        false,
    );
    assert_eq!(mia.display_name.as_deref(), Some("Mia Muster"));
    // Temporary and backup profiles keep their account's name but not their kind.
    check(
        user(&users, &format!("{MACHINE_SID}-1003")),
        r"PC-ACC\tina",
        UserKind::Temporary,
        "sam",
        false,
    );
    assert_eq!(
        user(&users, &format!("{MACHINE_SID}-1007")).kind,
        UserKind::Temporary
    );
    assert_eq!(
        user(&users, &format!("{MACHINE_SID}-1008")).kind,
        UserKind::Backup
    );
    check(
        user(&users, &format!("{MACHINE_SID}-1004")),
        "defaultuser0",
        UserKind::Temporary,
        "folder-name",
        true,
    );
    check(
        user(&users, &format!("{MACHINE_SID}-1005")),
        r"PC-ACC\bea",
        UserKind::Backup,
        "sam",
        false,
    );
    // A local account deleted from the SAM: the folder name, but surely local.
    check(
        user(&users, &format!("{MACHINE_SID}-1006")),
        "olga",
        UserKind::Local,
        "folder-name",
        true,
    );
    let eva = user(&users, ENTRA);
    check(
        eva,
        r"AzureAD\eva@contoso.example",
        UserKind::Entra,
        "identity-cache",
        false,
    );
    assert_eq!(eva.display_name.as_deref(), Some("Eva Entra"));
    check(
        user(&users, ENTRA2),
        r"AzureAD\finn@contoso.example",
        UserKind::Entra,
        "logon-cache",
        false,
    );
    check(
        user(&users, ENTRA3),
        r"AzureAD\GretaEntra",
        UserKind::Entra,
        "logon-ui",
        false,
    );
    check(
        user(&users, carol),
        r"MicrosoftAccount\carol@outlook.example",
        UserKind::Microsoft,
        "identity-cache",
        false,
    );
    // The domain's NetBIOS name comes from a remembered logon of the same domain.
    let js = user(&users, &jsmith);
    check(js, r"CORP\jsmith", UserKind::Domain, "group-policy", false);
    assert_eq!(js.display_name.as_deref(), Some("Smith, John"));
    check(
        user(&users, &lastdom),
        r"CORP\kim",
        UserKind::Domain,
        "logon-ui",
        false,
    );
    check(
        user(&users, &sessdom),
        r"CORP\lou",
        UserKind::Domain,
        "logon-ui",
        false,
    );
    check(
        user(&users, &nodata),
        "max.CORP",
        UserKind::Domain,
        "folder-name",
        true,
    );
    check(
        user(&users, "S-1-5-80-1-2-3-4-5"),
        "MSSQLSERVER",
        UserKind::Service,
        "folder-name",
        true,
    );
    check(
        user(&users, "S-1-5-18"),
        r"NT AUTHORITY\SYSTEM",
        UserKind::System,
        "well-known-sid",
        false,
    );
}

#[test]
fn without_a_sam_the_logon_screen_still_names_local_users() {
    let mut spec = WindowsSpec::win10("PC-NOSAM");
    spec.write_sam = false;
    let bob = format!("{MACHINE_SID}-1010");
    spec.users.push(UserSpec::other(&bob, r"C:\Users\bob"));
    spec.logon_ui(None, &bob, r".\bob", r".\bob", "Bob");
    let users = users_of(&spec);
    check(
        user(&users, &bob),
        r"PC-NOSAM\bob",
        UserKind::Local,
        "logon-ui",
        false,
    );
    // No SAM, no other evidence: it cannot be told whether ann is local or a domain's.
    check(
        user(&users, &format!("{MACHINE_SID}-1001")),
        "ann",
        UserKind::Unknown,
        "folder-name",
        true,
    );
}

/// Runs a hivexsh script on `hive` and returns its output; fails when hivexsh is missing.
fn hivexsh(hive: &Path, script: &str) -> String {
    let mut child = Command::new("hivexsh")
        .arg(hive)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hivexsh is needed for this test (Debian package libhivex-bin)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "hivexsh failed on {}: {}",
        hive.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Account name → RID as hivexsh reads them: `Users\Names` subkeys and the type of each
/// one's default value (printed as `"@"=hex(<type in decimal>):…`).
fn hivex_accounts(hive: &Path) -> BTreeMap<String, u32> {
    let names_key = r"\SAM\Domains\Account\Users\Names";
    let listing = hivexsh(hive, &format!("cd {names_key}\nls\n"));
    let mut out = BTreeMap::new();
    for name in listing.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let vals = hivexsh(hive, &format!("cd {names_key}\\{name}\nlsval\n"));
        let ty = vals
            .lines()
            .find_map(|l| l.strip_prefix("\"@\"=hex("))
            .and_then(|r| r.split(')').next())
            .unwrap_or_else(|| panic!("no default value for {name} in {}: {vals}", hive.display()));
        // hivexsh prints the type number in decimal: `hex(1001)` for RID 1001.
        let rid: u32 = ty.parse().expect("decimal type number");
        out.insert(name.to_string(), rid);
    }
    out
}

fn real_sams(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_ascii_uppercase();
            !n.contains(".LOG")
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 8,
        "expected the eight real SAM hives, found {v:?}"
    );
    v
}

#[test]
fn real_sam_hives_agree_with_hivexsh() {
    let Some(dir) = realdata("hives/SAM") else {
        return;
    };
    for path in real_sams(&dir) {
        let hive = LoadedHive::open(&path).unwrap();
        let info = detect::sam::read_sam(&hive).unwrap();
        let ours: BTreeMap<String, u32> =
            info.users.iter().map(|u| (u.name.clone(), u.rid)).collect();
        assert_eq!(ours, hivex_accounts(&path), "{}", path.display());

        let machine = info.machine_sid.as_deref().unwrap_or_else(|| {
            panic!("no machine SID in {}", path.display());
        });
        assert_eq!(machine.split('-').count(), 7, "{machine}");
        // The built-in Administrator (RID 500) and Guest (501) exist everywhere, and every
        // user's `F` and `V` agree with its key: the RID in F, the name in V.
        for rid in [500, 501] {
            assert!(info.by_rid(rid).is_some(), "{}: RID {rid}", path.display());
        }
        for u in &info.users {
            let key = hive
                .key(&format!(r"SAM\Domains\Account\Users\{:08X}", u.rid))
                .unwrap();
            let f = detect::sam::parse_user_f(&key.value("F").unwrap().data).unwrap();
            assert_eq!(f.rid, u.rid, "{}", path.display());
            assert_eq!(Some(f.flags), u.flags);
            let v = detect::sam::parse_user_v(&key.value("V").unwrap().data);
            assert_eq!(
                v.name.as_deref(),
                Some(u.name.as_str()),
                "{}",
                path.display()
            );
            // Guest is disabled out of the box.
            if u.rid == 501 {
                assert!(u.disabled(), "{}: Guest enabled?", path.display());
            }
        }
        let summary: Vec<String> = info
            .users
            .iter()
            .map(|u| {
                format!(
                    "{}={}{}{}",
                    u.rid,
                    u.name,
                    if u.disabled() { " (disabled)" } else { "" },
                    u.full_name
                        .as_deref()
                        .map(|f| format!(" \"{f}\""))
                        .unwrap_or_default()
                )
            })
            .collect();
        eprintln!(
            "{}: {machine}: {}",
            path.file_name().unwrap().to_string_lossy(),
            summary.join(", ")
        );
    }
}
