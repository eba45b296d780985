//! `restore-mutants [--inputs N] [--seed S]`: the mutation campaign of issue 16, run again.
//! Genuine stores captured from generated old machines are mutated (their manifests, `.reg`
//! files and WIM entry names; some sealed again with `fixtures::forge` so they verify, some
//! left broken) and USMT argument vectors are generated; each is run through `lifeboat
//! restore` (offline targets in temporary folders, with and without `--dry-run`,
//! `--other-files-to`, `--continue`, each conflict policy) and the `loadstate` and
//! `scanstate` front ends. Every run is held to what no store or command line may cause,
//! checked here independently of the restore's own code:
//!
//! - no panic (exit 101), no signal, no hang (60 s);
//! - nothing written outside the target profile and `--other-files-to`; nothing at all by a
//!   dry run or from a store that does not verify ("refused before a byte is written");
//! - no hive, no name of Lifeboat's own, no name Windows cannot use, no control character
//!   written; the settings file holds only HKCU keys outside the never-travel list;
//! - no raw control character in any human-readable output; no secret echoed.
//!
//! Prints the counts (inputs, runs, findings) and each finding; exits 1 if there are any.
//! Set LIFEBOAT_BIN to a release build to go faster. Nothing it makes is kept.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fixtures::forge::{copy_dir, Forge};
use fixtures::migration::{new_machine, old_machine_store, walk};
use fixtures::{noise, tree_fingerprint};
use lifeboat::store::schema::RestoreKind;

type Fingerprint = Vec<(PathBuf, Vec<u8>, Option<std::time::SystemTime>)>;

/// xorshift64*: reproducible from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Names a hostile store gives its files (appended to a folder of the old profile).
const NAMES: &[&str] = &[
    "NTUSER.DAT",
    "ntuser.dat.LOG1",
    "NtUser.Dat.log2",
    "ntuser.man",
    "UsrClass.dat",
    "usrclass.dat.LOG1",
    "NTUSER.DAT{016888bd-6c6f-11de-8d1d-001e0bcde3ec}.TM.blf",
    "NTUSER.DAT{016888bd-6c6f-11de-8d1d-001e0bcde3ec}.TMContainer00000000000000000001.regtrans-ms",
    "NTUSER~1.LOG",
    "Lifeboat settings.reg",
    "LIFEBOAT SETTINGS - READ ME.TXT",
    ".lifeboat-restore-1",
    "CON",
    "nul.txt",
    "Com1",
    "LPT9.log",
    "COM¹.txt",
    "AUX",
    "CONOUT$",
    "trailing.",
    "...",
    ".. ",
    "space ",
    "..",
    ".",
    "a:b",
    "a/b",
    "x\x1b[2J\x1b[31mred",
    "x\r\nRESTORE COMPLETE\r\n",
    "gpj.\u{202E}exe",
    "bell\x07\u{85}",
    "ünïcödé €",
    "same.txt",
    "SAME.TXT",
];

const FOLDERS: &[&str] = &[
    r"C\Users\ann",
    r"C\Users\ann\Desktop",
    r"C\Users\ann\AppData\Local\Microsoft\Windows",
    r"C\Users\ann\AppData\Roaming",
    r"D\Docs\ann",
    r"C\Windows\System32",
    r"C\Users\Public",
    r"C\Users\other",
];

/// Old folders a hostile manifest records.
const OLD_FOLDERS: &[&str] = &[
    "",
    " ",
    r"\",
    r"C:\",
    "C:",
    r"\\",
    r"\\srv\share",
    r"C:\Users\ann",
    r"c:\users\ANN\",
    r"D:\Docs\ann",
    r"C:\Windows",
    r"C:\Users",
    r"C:\Users\bob",
    "C:\\Users\\ann\x1b",
    r"C:\..\..",
];

/// Registry key paths a hostile `.reg` holds.
const KEYS: &[&str] = &[
    r"HKEY_CURRENT_USER\Software\LifeboatTest",
    r"HKEY_CURRENT_USER\Software\\Policies\Microsoft\Windows\System",
    r"hkcu\software\policies\x\",
    r"\HKEY_CURRENT_USER\\Software\Microsoft\Windows\CurrentVersion\Explorer\\User Shell Folders",
    r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders\",
    r"HKEY_CURRENT_USER\Software\Microsoft\Protect\S-1-5-21-1",
    r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Policies\Explorer",
    r"HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Run",
    r"HKLM\SYSTEM\CurrentControlSet",
    r"HKEY_USERS\S-1-5-18\Software",
    r"HKEY_CLASSES_ROOT\exefile\shell",
    r"HKEY_CURRENT_USERX\a",
    r"HKEY_CURRENT_USER/Software/Policies",
    r"HKEY_CURRENT_USER\Software\Classes\.txt",
    r"HKEY_CURRENT_USER\MIME\text/html",
    r"HKEY_CURRENT_USER\Volatile Environment",
    r"HKEY_CURRENT_USER\Software\Innocent",
    "HKEY_CURRENT_USER\\Software\\\u{17F}oftware",
    "HKEY_CURRENT_USER\\Software\\Policies\u{0}\\X",
];

/// Never-travel key prefixes below HKCU, lower case, written out here apart from the
/// restore's own list.
const NEVER: &[&str] = &[
    r"software\microsoft\windows\currentversion\explorer\user shell folders",
    r"software\microsoft\windows\currentversion\explorer\shell folders",
    r"software\microsoft\protect",
    r"software\microsoft\cryptography",
    r"software\microsoft\systemcertificates",
    r"software\microsoft\identitycrl",
    r"software\microsoft\onedrive",
    r"software\microsoft\windows\currentversion\aad",
    r"software\microsoft\office\16.0\common\identity",
    r"software\policies",
    r"software\microsoft\windows\currentversion\policies",
    r"software\microsoft\windows\currentversion\group policy",
    r"software\microsoft\windows\currentversion\explorer\mountpoints2",
    r"software\microsoft\windows\currentversion\explorer\sessioninfo",
    r"software\microsoft\windows\currentversion\cloudstore",
    r"volatile environment",
];

/// Helpers a hostile manifest records: (kind, call, args, patterns).
fn helper(rng: &mut Rng) -> (RestoreKind, &'static str, Vec<String>, Vec<String>) {
    let file_pats = [
        r"C:\Users\ann\* [*]",
        r"C:\Users\ann\ [NTUSER.DAT]",
        r"C:\Users\ann\Desktop [todo.txt]",
        r"D:\Docs\ann\* [*]",
        r"C:\* [*]",
    ];
    let reg_pats = [
        r"HKCU\Software\LifeboatTest\* [*]",
        r"HKCU\Software\Innocent\* [*]",
        r"HKCU\* [*]",
    ];
    let places = [
        r"%USERPROFILE% [NTUSER.DAT]",
        r"%USERPROFILE%\AppData\Local\Microsoft\Windows [UsrClass.dat]",
        r"%USERPROFILE% [Lifeboat settings.reg]",
        r"%USERPROFILE%\Desktop [CON]",
        r"C:\Windows\System32 [evil.dll]",
        r"C:\Users\Public [x]",
        r"%USERPROFILE%\..\other [x]",
        r"HKCU\Software\\Policies\X [v]",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run [evil]",
        r"HKCU\\Software\Microsoft\Windows\CurrentVersion\Explorer\\User Shell Folders [Personal]",
    ];
    let roots = [
        r"%USERPROFILE%",
        r"%CSIDL_APPDATA%\New",
        r"C:\Windows",
        r"HKCU\Software\\Policies",
        r"HKLM\Software",
        "",
    ];
    let pats = |rng: &mut Rng| -> Vec<String> {
        let mut p = vec![rng.pick(&file_pats).to_string()];
        if rng.chance(50) {
            p.push(rng.pick(&reg_pats).to_string());
        }
        p
    };
    match rng.below(6) {
        0 => (RestoreKind::Merge, "SourcePriority", vec![], pats(rng)),
        1 => (RestoreKind::Merge, "DestinationPriority", vec![], pats(rng)),
        2 => (
            RestoreKind::LocationModify,
            "ExactMove",
            vec![rng.pick(&places).to_string()],
            pats(rng),
        ),
        3 => (
            RestoreKind::LocationModify,
            "RelativeMove",
            vec![
                rng.pick(&[
                    r"%USERPROFILE%",
                    r"HKCU\Software\Innocent",
                    r"C:\Users\ann\Desktop",
                    "",
                ])
                .to_string(),
                rng.pick(&roots).to_string(),
            ],
            pats(rng),
        ),
        4 => (
            RestoreKind::LocationModify,
            "Move",
            vec![rng.pick(&roots).to_string()],
            pats(rng),
        ),
        _ => (RestoreKind::DestinationCleanup, "", vec![], pats(rng)),
    }
}

/// A hostile `.reg`: keys from [`KEYS`] (sometimes bent further) with string values that
/// hold old folders.
fn hostile_reg(rng: &mut Rng) -> String {
    let mut s = String::from("Windows Registry Editor Version 5.00\r\n");
    for _ in 0..1 + rng.below(8) {
        let mut k = rng.pick(KEYS).to_string();
        if rng.chance(30) {
            k = k.replace('\\', r"\\");
        }
        if rng.chance(20) {
            k = k.to_uppercase();
        }
        s.push_str(&format!("\r\n[{k}]\r\n"));
        for i in 0..1 + rng.below(4) {
            let v = rng.pick(&[
                r"C:\\Users\\ann\\Desktop\\todo.txt",
                r"\\\\evil\\share",
                r"C:\\Users\\ann",
                "x",
                r"D:\\Docs\\ann;C:\\Users\\ann;C:\\Users\\ann",
            ]);
            s.push_str(&format!("\"v{i}\"=\"{v}\"\r\n"));
        }
    }
    s
}

fn flip_bytes(rng: &mut Rng, data: &mut [u8]) {
    if data.is_empty() {
        return;
    }
    for _ in 0..1 + rng.below(8) {
        let i = rng.below(data.len());
        data[i] ^= 1 << rng.below(8);
    }
}

struct Campaign {
    bin: PathBuf,
    dir: PathBuf,
    rng: Rng,
    inputs: u64,
    runs: u64,
    findings: Vec<String>,
    template: PathBuf,
}

/// What a run printed and wrote for people to read.
struct Said {
    code: Option<i32>,
    texts: Vec<(String, String)>,
}

impl Campaign {
    fn run(&mut self, what: &str, args: &[String], files: &[&Path]) -> Said {
        for f in files {
            let _ = std::fs::remove_file(f);
        }
        self.runs += 1;
        let start = Instant::now();
        let out = Command::new("timeout")
            .arg("60")
            .arg(&self.bin)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("run lifeboat");
        let code = out.status.code();
        if start.elapsed() > Duration::from_secs(59) || code == Some(124) {
            self.find(what, "did not finish in 60 s");
        }
        match code {
            Some(101) => self.find(what, "panicked (exit 101)"),
            None => self.find(what, "killed by a signal"),
            _ => {}
        }
        let mut texts = vec![
            (
                "stdout".into(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            ),
            (
                "stderr".into(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ),
        ];
        for f in files {
            if let Ok(t) = std::fs::read(f) {
                texts.push((
                    f.display().to_string(),
                    String::from_utf8_lossy(&t).into_owned(),
                ));
            }
        }
        for (name, t) in &texts {
            let raw: Vec<char> = t
                .replace("\r\n", "\n")
                .chars()
                .filter(|&c| {
                    (c.is_control() && c != '\n')
                        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
                })
                .collect();
            if !raw.is_empty() {
                self.find(what, &format!("raw control characters {raw:?} in {name}"));
            }
        }
        Said { code, texts }
    }

    fn find(&mut self, what: &str, finding: &str) {
        let line = format!("{what}: {finding}");
        eprintln!("FINDING {line}");
        self.findings.push(line);
    }

    /// One mutated store through `verify` and a few restores.
    fn store_input(&mut self, base: &Path, n: u64) {
        self.inputs += 1;
        let store = self.dir.join(format!("m{n}"));
        let mut f = Forge::copy(base, &store);
        let Some(kind) = self.mutate(&mut f) else {
            // A name wimlib itself will not add: not an input.
            self.inputs -= 1;
            let _ = std::fs::remove_dir_all(&store);
            return;
        };
        let (code, _, _) = fixtures::run(Command::new(&self.bin).arg("verify").arg(&store));
        self.runs += 1;
        let verifies = code == 0;
        for r in 0..1 + self.rng.below(3) {
            self.restore(
                &store,
                verifies,
                &format!("input {n} ({kind}), restore {r}"),
            );
        }
        let _ = std::fs::remove_dir_all(&store);
    }

    /// Applies one mutation; the name says which (None: wimlib would not take it).
    fn mutate(&mut self, f: &mut Forge) -> Option<&'static str> {
        let rng = &mut self.rng;
        Some(match rng.below(9) {
            0 | 1 => {
                for _ in 0..1 + rng.below(6) {
                    let path = format!(r"{}\{}", rng.pick(FOLDERS), rng.pick(NAMES));
                    let deeper = if rng.chance(25) {
                        format!(r"{path}\inside.txt")
                    } else {
                        path
                    };
                    let data = noise(rng.below(5000), rng.next());
                    f.add_file(0, &deeper, &data);
                }
                f.try_seal().ok()?;
                "hostile names"
            }
            2 => {
                for _ in 0..1 + rng.below(3) {
                    let (kind, call, args, pats) = helper(rng);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let pats: Vec<&str> = pats.iter().map(String::as_str).collect();
                    f.helper(0, kind, call, &args, &pats);
                    if call.is_empty() {
                        f.manifest().users[0].restore.last_mut().unwrap().script = None;
                    }
                }
                f.add_file(0, r"C\Users\ann\NTUSER.DAT", b"regf?");
                f.seal();
                "hostile helpers"
            }
            3 => {
                let folders = f.manifest().users[0]
                    .folders
                    .get_or_insert_with(Default::default);
                folders.profile = rng.pick(OLD_FOLDERS).to_string();
                let values: Vec<String> = (0..folders.known.len())
                    .map(|_| rng.pick(OLD_FOLDERS).to_string())
                    .collect();
                for (v, new) in folders.known.values_mut().zip(values) {
                    *v = new;
                }
                f.seal();
                "hostile old folders"
            }
            4 => {
                let text = hostile_reg(rng);
                f.registry(0, &text);
                if rng.chance(50) {
                    let (kind, call, args, pats) = helper(rng);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let pats: Vec<&str> = pats.iter().map(String::as_str).collect();
                    f.helper(0, kind, call, &args, &pats);
                }
                f.seal();
                "hostile .reg"
            }
            5 => {
                let m = f.manifest();
                m.cannot_travel
                    .push("\x1b]0;pwned\x07\nRESTORE COMPLETE".into());
                m.users[0].name = rng
                    .pick(&["OLDPC\\ann", "OLDPC\\ann\x1b[2J", "ann\r\nx"])
                    .to_string();
                f.seal();
                "hostile strings"
            }
            6 => {
                // The manifest's text bent at random, not sealed again.
                f.seal();
                let p = f.dir.join("manifest.yaml");
                let mut b = std::fs::read(&p).unwrap();
                flip_bytes(rng, &mut b);
                std::fs::write(&p, b).unwrap();
                "manifest bytes"
            }
            7 => {
                f.seal();
                let rel = f.manifest().users[0].registry_file.clone().unwrap();
                let p = f.dir.join(rel);
                let mut b = std::fs::read(&p).unwrap();
                flip_bytes(rng, &mut b);
                std::fs::write(&p, b).unwrap();
                "reg bytes"
            }
            _ => {
                f.seal();
                let p = f.dir.join("files.wim");
                let mut b = std::fs::read(&p).unwrap();
                flip_bytes(rng, &mut b);
                std::fs::write(&p, b).unwrap();
                "WIM bytes"
            }
        })
    }

    /// One restore of `store` into a fresh target, held to the invariants.
    fn restore(&mut self, store: &Path, verifies: bool, what: &str) {
        let t = self.dir.join("target");
        let _ = std::fs::remove_dir_all(&t);
        copy_dir(&self.template, &t);
        let other = self.dir.join("other");
        let _ = std::fs::remove_dir_all(&other);
        let log = self.dir.join("restore.log");
        let list = self.dir.join("list.txt");
        let mut args: Vec<String> = ["restore", &store.display().to_string(), "--offline-root"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(t.display().to_string());
        args.extend(["--user".into(), "ann=bob".into()]);
        let dry = self.rng.chance(25);
        if dry {
            args.push("--dry-run".into());
        }
        let with_other = self.rng.chance(40);
        if with_other {
            args.extend(["--other-files-to".into(), other.display().to_string()]);
        }
        if self.rng.chance(40) {
            args.push("--continue".into());
        }
        let policy = *self.rng.pick(&["rename", "keep", "overwrite", "newer"]);
        args.extend(["--on-conflict".into(), policy.into()]);
        match self.rng.below(3) {
            0 => args.push("--json".into()),
            1 => args.push("-v".into()),
            _ => {}
        }
        args.extend(["--log".into(), log.display().to_string()]);
        args.extend(["--list-files".into(), list.display().to_string()]);
        let before = tree_fingerprint(&t);
        let what = format!("{what} [{}]", args[4..].join(" "));
        let said = self.run(&what, &args, &[&log, &list]);
        let after = tree_fingerprint(&t);
        let changed: Vec<&PathBuf> = changed(&before, &after);
        let other_files = walk(&other);
        if (!verifies || dry) && (!changed.is_empty() || !other_files.is_empty()) {
            let first = changed.first().copied().or(other_files.first());
            self.find(
                &what,
                &format!(
                    "{} wrote {:?}",
                    if dry {
                        "a dry run"
                    } else {
                        "a store that does not verify"
                    },
                    first
                ),
            );
        }
        if !verifies && said.code == Some(0) {
            self.find(&what, "a store that does not verify was restored (exit 0)");
        }
        let bob = t.join("Users").join("bob");
        for p in &changed {
            if !p.starts_with(&bob) {
                self.find(
                    &what,
                    &format!("wrote outside the profile: {}", p.display()),
                );
                continue;
            }
            self.check_written(&what, &bob, p);
        }
        for p in &other_files {
            if let Some(bad) = bad_name(p.strip_prefix(&other).unwrap_or(p)) {
                self.find(&what, &format!("{bad}: {}", p.display()));
            }
        }
    }

    /// A file the restore created or changed in the profile.
    fn check_written(&mut self, what: &str, bob: &Path, p: &Path) {
        let rel = p.strip_prefix(bob).unwrap_or(p);
        let name = rel.to_string_lossy();
        if name == "Lifeboat settings.reg" {
            if let Some(bad) = bad_settings(p) {
                self.find(what, &format!("Lifeboat settings.reg: {bad}"));
            }
            return;
        }
        if name == "Lifeboat settings - READ ME.txt" {
            return;
        }
        if let Some(bad) = bad_name(rel) {
            self.find(what, &format!("{bad}: {}", p.display()));
        }
    }

    /// A USMT command line with secrets in every spelling.
    fn usmt_input(&mut self, n: u64) {
        self.inputs += 1;
        let secret = format!("Pa55w0rd{n}");
        let log = self.dir.join("usmt.log");
        let tool = *self.rng.pick(&["loadstate", "scanstate"]);
        let mut args = vec![tool.to_string()];
        let pool: Vec<String> = vec![
            self.dir.join("nostore").display().to_string(),
            "/lac".into(),
            "/lae".into(),
            "/key".into(),
            "/key:".into(),
            format!("/key:{secret}"),
            format!("/lac:{secret}"),
            "/keyfile:k.txt".into(),
            "/decrypt".into(),
            "/encrypt".into(),
            "/c".into(),
            "/all".into(),
            "/v:13".into(),
            "/ui:ann".into(),
            "/mu:OLD\\ann:bob".into(),
            "/offlineWinDir:/nonexistent".into(),
            "/genconfig:g.xml".into(),
            format!("/l:{}", log.display()),
            "/o".into(),
            "-KEY".into(),
            "/LAC".into(),
            "/bogus\x1b[2J".into(),
            "store\r\nRESTORE COMPLETE".into(),
        ];
        for _ in 0..1 + self.rng.below(7) {
            let a = self.rng.pick(&pool).clone();
            let secret_next = matches!(
                a.to_lowercase().as_str(),
                "/lac" | "/key" | "/key:" | "-key"
            );
            args.push(a);
            if secret_next && self.rng.chance(70) {
                let spelt = self.rng.pick(&["", "-", "/"]).to_string() + &secret;
                args.push(spelt);
            }
        }
        let said = self.run(&format!("usmt {n} {args:?}"), &args, &[&log]);
        for (name, t) in &said.texts {
            if t.contains(&secret) {
                self.find(
                    &format!("usmt {n} {args:?}"),
                    &format!("the secret is in {name}"),
                );
            }
        }
    }
}

/// Files added or changed between two fingerprints (the restore never deletes).
fn changed<'a>(before: &'a Fingerprint, after: &'a Fingerprint) -> Vec<&'a PathBuf> {
    after
        .iter()
        .filter(|a| !before.iter().any(|b| b == *a))
        .map(|a| &a.0)
        .collect()
}

/// Why a written file's path must not be, checked apart from the restore's own code.
fn bad_name(rel: &Path) -> Option<String> {
    for c in rel.components() {
        let n = c.as_os_str().to_string_lossy();
        let lower = n.to_lowercase();
        let stem = lower.split('.').next().unwrap_or("").trim_end();
        let hive = ["ntuser.dat", "ntuser.man", "usrclass.dat"]
            .iter()
            .any(|h| {
                lower.strip_prefix(h).is_some_and(|rest| {
                    rest.is_empty()
                        || rest
                            .strip_prefix(".log")
                            .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
                        || rest.ends_with(".blf")
                        || rest.ends_with(".regtrans-ms")
                })
            });
        let device = ["con", "prn", "aux", "nul", "conin$", "conout$"].contains(&stem)
            || ((stem.starts_with("com") || stem.starts_with("lpt"))
                && stem.chars().count() == 4
                && stem
                    .chars()
                    .nth(3)
                    .is_some_and(|d| d.is_ascii_digit() || "¹²³".contains(d)));
        let why = if hive {
            "a hive's name"
        } else if lower.starts_with("lifeboat settings") || lower.starts_with(".lifeboat-restore") {
            "a name of Lifeboat's own"
        } else if device {
            "a device name"
        } else if n.ends_with('.') || n.ends_with(' ') {
            "a name ending in a dot or space"
        } else if n.chars().any(|c| c.is_control() || "<>:\"|?*".contains(c)) {
            "a character Windows names cannot hold"
        } else {
            continue;
        };
        return Some(format!("{why} ({n:?})"));
    }
    None
}

/// What is wrong with the settings file a restore left, read without Lifeboat.
fn bad_settings(p: &Path) -> Option<String> {
    let b = std::fs::read(p).ok()?;
    let units: Vec<u16> = b
        .get(2..)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16_lossy(&units);
    for l in text.lines() {
        let Some(k) = l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            continue;
        };
        let k = k
            .split('\\')
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join("\\")
            .to_lowercase();
        let Some(below) = k.strip_prefix(r"hkey_current_user\") else {
            return Some(format!("a key outside HKCU: {k}"));
        };
        if NEVER
            .iter()
            .any(|n| below == *n || below.starts_with(&format!(r"{n}\")))
        {
            return Some(format!("a never-travel key: {k}"));
        }
        if k.chars().any(char::is_control) {
            return Some(format!("a control character in {k:?}"));
        }
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let inputs = opt("--inputs", 300);
    let seed = opt("--seed", 16);
    let work = tempfile::tempdir().expect("temporary folder");
    let bin = std::env::var_os("LIFEBOAT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(fixtures::lifeboat_bin);
    let base = old_machine_store(&work.path().join("base"));
    let template = new_machine(work.path(), "template");
    let mut c = Campaign {
        bin,
        dir: work.path().to_path_buf(),
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        inputs: 0,
        runs: 0,
        findings: Vec::new(),
        template,
    };
    let started = Instant::now();
    for n in 0..inputs {
        if c.rng.chance(25) {
            c.usmt_input(n);
        } else {
            c.store_input(&base, n);
        }
        if n % 50 == 49 {
            eprintln!(
                "{} inputs, {} runs, {} findings ({:.0} s)",
                c.inputs,
                c.runs,
                c.findings.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "restore-mutants: {} inputs, {} runs, {} findings in {:.0} s (seed {seed})",
        c.inputs,
        c.runs,
        c.findings.len(),
        started.elapsed().as_secs_f64()
    );
    for f in &c.findings {
        println!("  {f}");
    }
    let found = !c.findings.is_empty();
    // The temporary folder goes before the exit code is given (exit runs no destructors).
    drop(c);
    drop(work);
    if found {
        std::process::exit(1);
    }
}
