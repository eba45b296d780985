//! ScanState's command line read into [`ScanStateArgs`]: every documented option in USMT's
//! spelling (`usmt_args`), then the documented incompatibilities, each refused with
//! ScanState's code and a message naming both options, then what Lifeboat cannot do
//! offline, refused plainly with what to use instead. No key given with `/key` is kept.

use std::collections::HashSet;
use std::path::PathBuf;

use super::exit;
use super::usmt_args::{tokenize, Token};

/// Why the command line cannot run: ScanState's exit code and the message.
pub type Refusal = (i32, String);

pub const HELP: &str = "SCANSTATE StorePath (/offlineWinDir:DIR | /OfflineWinOld:DIR | /offline:Offline.xml)\n\
  [/i:File]... [/config:Config.xml] [/genconfig:File] [/o] [/c] [/v:N] [/l:File] [/progress:File]\n\
  [/listfiles:File] [/p[:File.xml]] [/ui:Domain\\User]... [/ue:Domain\\User]... [/uel:Days|YYYY/MM/DD]\n\
  [/all] [/auto[:Dir]] [/nocompress] [/localonly] [/efs:abort|skip] [/vsc] [/r:N] [/w:N] [/targetWindows10]\n\
  [/bitlockerKeys:File] [/bitlockerStartupKey:File.BEK]...   (Lifeboat's own: keys for a BitLocker-locked volume)\n\
Lifeboat captures an offline Windows into its own verified store (files.wim, registry\\, manifest.yaml)\n\
written in StorePath itself; restore it with `loadstate StorePath` or `lifeboat restore`.\n\
Same engine as `lifeboat capture`; see `lifeboat capture --help`.\n\
Reference: docs/commands/scanstate.md; the switches: docs/usmt.md";

/// `/offline:`, `/offlineWinDir:`, `/OfflineWinOld:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offline {
    Xml(PathBuf),
    WinDir(PathBuf),
    WinOld(PathBuf),
}

/// `/p` or `/p:FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Estimate {
    Print,
    Xml(PathBuf),
}

/// `/efs:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Efs {
    /// ScanState's default: stop when an EFS file is found.
    #[default]
    Abort,
    Skip,
    DecryptCopy,
    CopyRaw,
    HardLink,
}

/// `/uel:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastUse {
    Days(u64),
    /// `YYYY/MM/DD` as Unix seconds (midnight UTC).
    Since(i64),
    /// `/uel:0`: only users logged on now.
    LoggedOn,
}

/// `/targetWindows7|8|10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Windows7,
    Windows8,
    Windows10,
}

/// What the ScanState command line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStateArgs {
    pub store: Option<PathBuf>,
    pub offline: Option<Offline>,
    /// `/i:` files, in order.
    pub rules: Vec<String>,
    /// `/auto[:DIR]`: `Some(None)` = the program's own folder.
    pub auto: Option<Option<PathBuf>>,
    pub config: Option<PathBuf>,
    pub genconfig: Option<PathBuf>,
    pub overwrite: bool,
    pub continue_on_error: bool,
    pub verbosity: Option<u32>,
    pub log: Option<PathBuf>,
    pub progress: Option<PathBuf>,
    pub listfiles: Option<PathBuf>,
    pub estimate: Option<Estimate>,
    pub nocompress: bool,
    pub localonly: bool,
    pub efs: Option<Efs>,
    pub all: bool,
    pub include_users: Vec<String>,
    pub exclude_users: Vec<String>,
    pub last_use: Option<LastUse>,
    pub vsc: bool,
    pub hardlink: bool,
    pub encrypt: bool,
    /// `/key:` was given (the key itself is never kept).
    pub key: bool,
    pub keyfile: bool,
    pub retries: Option<u32>,
    pub wait: Option<u32>,
    /// `/bitlockerKeys:FILE` (Lifeboat's own): recovery passwords, one a line.
    pub bitlocker_keys: Option<PathBuf>,
    /// `/bitlockerStartupKey:FILE.BEK` (Lifeboat's own), repeatable.
    pub startup_keys: Vec<PathBuf>,
    pub target: Option<Target>,
}

fn bad(m: impl Into<String>) -> Refusal {
    (exit::INVALID_PARAMETERS, m.into())
}

fn takes_value(name: &str) -> bool {
    matches!(
        name,
        "offline"
            | "offlinewindir"
            | "offlinewinold"
            | "i"
            | "config"
            | "genconfig"
            | "v"
            | "l"
            | "progress"
            | "listfiles"
            | "efs"
            | "ui"
            | "ue"
            | "uel"
            | "keyfile"
            | "r"
            | "w"
            | "bitlockerkeys"
            | "bitlockerstartupkey"
    )
}

/// Every switch ScanState has (a word after a secret switch that is one of them is not its
/// value).
pub fn known(name: &str) -> bool {
    takes_value(name)
        || matches!(
            name,
            "?" | "help"
                | "auto"
                | "o"
                | "c"
                | "p"
                | "nocompress"
                | "localonly"
                | "all"
                | "vsc"
                | "hardlink"
                | "encrypt"
                | "key"
                | "targetwindows7"
                | "targetwindows8"
                | "targetwindows10"
                | "apps"
                | "ppkg"
                | "genmigxml"
        )
}

/// Options that may be given more than once.
fn repeatable(name: &str) -> bool {
    matches!(name, "i" | "ui" | "ue" | "bitlockerstartupkey")
}

/// Reads the command line and checks it as ScanState does.
pub fn parse(args: &[String]) -> Result<ScanStateArgs, Refusal> {
    if args.is_empty() {
        return Err(bad(
            "Command line arguments are required. Specify /? for options.",
        ));
    }
    let mut out = ScanStateArgs::default();
    let mut seen = HashSet::new();
    for token in tokenize(args, takes_value, known) {
        match token {
            Token::Positional(p) => {
                if out.store.replace(PathBuf::from(&p)).is_some() {
                    return Err(bad(format!(
                        "\"{p}\": a command was already specified (only one StorePath)"
                    )));
                }
            }
            Token::Secret { name, given } => {
                if !seen.insert(name.clone()) {
                    return Err(bad(format!(
                        "/{name}: an option is specified more than once and is ambiguous"
                    )));
                }
                match name.as_str() {
                    // The key is checked for presence only: the tokenizer never kept it.
                    "key" => out.key = given,
                    _ => {
                        return Err(bad(format!(
                            "/{name}: command line option is not valid (/? lists the options); the value given with it was not kept"
                        )))
                    }
                }
            }
            Token::Switch { name, value } => {
                if !repeatable(&name) && !seen.insert(name.clone()) {
                    return Err(bad(format!(
                        "/{name}: an option is specified more than once and is ambiguous"
                    )));
                }
                switch(&mut out, &name, value)?;
            }
        }
    }
    check(&out)?;
    refuse_offline(&out)?;
    Ok(out)
}

fn need(name: &str, value: Option<String>) -> Result<String, Refusal> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad(format!("/{name}: an option argument is missing")))
}

fn set_offline(out: &mut ScanStateArgs, name: &str, o: Offline) -> Result<(), Refusal> {
    if let Some(prev) = &out.offline {
        let prev = match prev {
            Offline::Xml(_) => "/offline",
            Offline::WinDir(_) => "/offlineWinDir",
            Offline::WinOld(_) => "/OfflineWinOld",
        };
        return Err(bad(format!(
            "{prev} and /{name}: only one of /offline, /offlineWinDir and /OfflineWinOld may be given"
        )));
    }
    out.offline = Some(o);
    Ok(())
}

fn number(name: &str, v: Option<String>, what: &str) -> Result<u32, Refusal> {
    need(name, v)?
        .parse()
        .map_err(|_| bad(format!("/{name}: {what}")))
}

/// One switch into `out`.
fn switch(out: &mut ScanStateArgs, name: &str, value: Option<String>) -> Result<(), Refusal> {
    let path = |v: Option<String>| need(name, v).map(PathBuf::from);
    match name {
        "?" | "help" => return Err((exit::HELP, HELP.into())),
        "offline" => set_offline(out, name, Offline::Xml(path(value)?))?,
        "offlinewindir" => set_offline(out, name, Offline::WinDir(path(value)?))?,
        "offlinewinold" => set_offline(out, name, Offline::WinOld(path(value)?))?,
        "i" => out.rules.push(need(name, value)?),
        // Lifeboat's own, for a BitLocker-locked volume: files, never a key on the command
        // line (a task sequence logs its command lines).
        "bitlockerkeys" => out.bitlocker_keys = Some(path(value)?),
        "bitlockerstartupkey" => out.startup_keys.push(path(value)?),
        "auto" => out.auto = Some(value.filter(|v| !v.is_empty()).map(PathBuf::from)),
        "config" => out.config = Some(path(value)?),
        "genconfig" => out.genconfig = Some(path(value).map_err(|_| bad("File argument is invalid for /genconfig"))?),
        "o" => out.overwrite = true,
        "c" => out.continue_on_error = true,
        "v" => {
            let n = number(name, value, "Verbosity level must be specified as a sum of the desired log options: Verbose (0x01), Record Objects (0x04), Echo to debug port (0x08)")?;
            if n > 15 {
                return Err(bad(format!("/v:{n}: verbosity is 0 to 13 (a sum of 1, 4 and 8)")));
            }
            out.verbosity = Some(n);
        }
        "l" => out.log = Some(path(value)?),
        "progress" => out.progress = Some(path(value)?),
        "listfiles" => {
            out.listfiles = Some(path(value).map_err(|_| bad("List file path argument is invalid for /listfiles"))?)
        }
        "p" => {
            out.estimate = Some(match value.filter(|v| !v.is_empty()) {
                Some(v) => Estimate::Xml(v.into()),
                None => Estimate::Print,
            })
        }
        "nocompress" => out.nocompress = true,
        "localonly" => out.localonly = true,
        "efs" => out.efs = Some(efs(value)?),
        "all" => out.all = true,
        "ui" => out.include_users.push(need(name, value)?),
        "ue" => out.exclude_users.push(need(name, value)?),
        "uel" => out.last_use = Some(last_use(&need(name, value)?)?),
        "vsc" => out.vsc = true,
        "hardlink" => out.hardlink = true,
        "encrypt" => out.encrypt = true,
        "keyfile" => out.keyfile = need(name, value).is_ok(),
        "r" => out.retries = Some(number(name, value, "Retry argument must be an integer")?),
        "w" => out.wait = Some(number(name, value, "Wait delay argument must be an integer")?),
        "targetwindows7" => out.target = Some(Target::Windows7),
        "targetwindows8" => out.target = Some(Target::Windows8),
        "targetwindows10" => out.target = Some(Target::Windows10),
        "apps" => return Err(bad("/apps: Lifeboat takes applications' settings by MigApp.xml's rules, evaluated against the offline system: give /i:MigApp.xml instead")),
        "ppkg" => return Err(bad("/ppkg: Lifeboat writes no provisioning package; it writes its own store in StorePath (restore with loadstate or lifeboat restore)")),
        "genmigxml" => return Err(bad("/genmigxml: not offered; `lifeboat rules explain FILE…` shows, per component, what your MigXML takes from this system")),
        _ => return Err(bad(format!("/{name}: command line option is not valid (/? lists the options)"))),
    }
    Ok(())
}

fn efs(value: Option<String>) -> Result<Efs, Refusal> {
    let v = need("efs", value)?;
    Ok(match v.to_ascii_lowercase().as_str() {
        "abort" => Efs::Abort,
        "skip" => Efs::Skip,
        "decryptcopy" => Efs::DecryptCopy,
        "copyraw" => Efs::CopyRaw,
        "hardlink" => Efs::HardLink,
        _ => return Err(bad(format!("/efs:{v}: EFS parameter specified is not valid for /efs (abort, skip, decryptcopy, copyraw, hardlink)"))),
    })
}

fn last_use(v: &str) -> Result<LastUse, Refusal> {
    if let Ok(days) = v.parse::<u64>() {
        return Ok(if days == 0 {
            LastUse::LoggedOn
        } else {
            LastUse::Days(days)
        });
    }
    let parts: Option<Vec<u32>> = v.split('/').map(|x| x.parse().ok()).collect();
    let date = match parts.as_deref() {
        Some(&[y, m, d]) if (1..=12).contains(&m) && (1..=31).contains(&d) && y <= 9999 => {
            crate::time::rfc3339_to_unix(&format!("{y:04}-{m:02}-{d:02}T00:00:00Z"))
        }
        _ => None,
    };
    date.map(LastUse::Since).ok_or_else(|| {
        bad(format!(
            "/uel:{v}: user exclusion argument is invalid (a number of days or YYYY/MM/DD)"
        ))
    })
}

/// The first pair of options `a` that the documented matrix forbids together.
fn both(a: &ScanStateArgs) -> Option<String> {
    let users: Vec<&str> = [
        (!a.include_users.is_empty(), "/ui"),
        (!a.exclude_users.is_empty(), "/ue"),
        (a.last_use.is_some(), "/uel"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| *n)
    .collect();
    if let Some(u) = users.first().filter(|_| a.all) {
        return Some(format!(
            "/all conflicts with /ui, /ue or /uel: /all and {u} given"
        ));
    }
    if a.auto.is_some() {
        let with = users
            .first()
            .copied()
            .or(a.all.then_some("/all"))
            .or(a.verbosity.map(|_| "/v"));
        if let Some(o) = with {
            return Some(format!("/auto and {o}: by default /auto selects all users and uses the highest log verbosity level. Switches like /all, /ui, /ue, /v are not allowed."));
        }
    }
    let pairs: [(bool, &str); 7] = [
        (
            a.encrypt && a.nocompress,
            "/encrypt can't be used with /nocompress",
        ),
        (
            a.encrypt && !a.key && !a.keyfile,
            "/encrypt requires /key or /keyfile",
        ),
        (a.key && a.keyfile, "/key and /keyfile both specified"),
        (
            (a.key || a.keyfile) && !a.encrypt,
            "/key or /keyfile used without enabling encryption (/encrypt)",
        ),
        (
            a.hardlink && !a.nocompress,
            "/hardlink requires /nocompress",
        ),
        (
            a.vsc && a.hardlink,
            "/vsc and /hardlink: Volume shadow copy feature is not supported with a hardlink store",
        ),
        (
            a.efs == Some(Efs::HardLink) && !a.hardlink,
            "The /efs:hardlink requires /hardlink",
        ),
    ];
    if let Some((_, m)) = pairs.iter().find(|(on, _)| *on) {
        return Some(m.to_string());
    }
    if a.listfiles.is_some() && a.estimate.is_some() {
        return Some("/listfiles cannot be used with /p".into());
    }
    if a.estimate == Some(Estimate::Print) && !a.nocompress {
        return Some("/p without a file and without /nocompress: Use /nocompress, or provide an XML file path with /p:\"pathtoafile\" to get a compressed store size estimate".into());
    }
    None
}

/// Options `/genconfig` cannot be combined with (ScanState's matrix).
fn with_genconfig(a: &ScanStateArgs) -> Option<&'static str> {
    [
        (a.store.is_some(), "StorePath"),
        (a.localonly, "/localonly"),
        (a.key, "/key"),
        (a.encrypt, "/encrypt"),
        (a.keyfile, "/keyfile"),
        (a.listfiles.is_some(), "/listfiles"),
        (a.progress.is_some(), "/progress"),
        (a.retries.is_some(), "/r"),
        (a.wait.is_some(), "/w"),
        (a.continue_on_error, "/c"),
        (a.estimate.is_some(), "/p"),
        (a.all, "/all"),
        (!a.include_users.is_empty(), "/ui"),
        (!a.exclude_users.is_empty(), "/ue"),
        (a.last_use.is_some(), "/uel"),
        (a.efs.is_some(), "/efs"),
        (a.config.is_some(), "/config"),
    ]
    .into_iter()
    .find(|(on, _)| *on)
    .map(|(_, n)| n)
}

/// The documented incompatibilities, each with ScanState's message.
fn check(a: &ScanStateArgs) -> Result<(), Refusal> {
    if let Some(m) = both(a) {
        return Err(bad(m));
    }
    if a.genconfig.is_some() {
        if let Some(o) = with_genconfig(a) {
            return Err(bad(format!(
                "/genconfig and {o}: /genconfig can't be used with most other options (only /i, /o, /v, /l and the offline switches)"
            )));
        }
        return Ok(());
    }
    if a.store.is_none() {
        return Err(bad("The store parameter is required but not specified"));
    }
    Ok(())
}

/// What has no offline meaning for Lifeboat's WIM store: refused plainly, with what to
/// use instead.
fn refuse_offline(a: &ScanStateArgs) -> Result<(), Refusal> {
    if a.hardlink {
        return Err(bad("/hardlink: Lifeboat's store is a WIM, never a hard-link store (which cannot leave the disk it is on, and offline that disk is the one being replaced); leave out /hardlink and /nocompress, or use /nocompress alone for an uncompressed WIM"));
    }
    if a.encrypt || a.key || a.keyfile {
        return Err(bad("/encrypt, /key, /keyfile: Lifeboat's WIM stores are not encrypted; write the store to an encrypted volume (BitLocker To Go) or a share with access control instead. The key was not used or recorded anywhere."));
    }
    match a.efs {
        Some(Efs::DecryptCopy) => return Err(bad("/efs:decryptcopy: offline, EFS files cannot be decrypted (their keys are protected by the user's password, which is not there); use /efs:skip: each EFS file is listed in the manifest so the user can copy it while signed in")),
        Some(Efs::CopyRaw) => return Err(bad("/efs:copyraw: Lifeboat cannot copy EFS files in their raw encrypted form; use /efs:skip: each EFS file is listed in the manifest")),
        _ => {}
    }
    if a.last_use == Some(LastUse::LoggedOn) {
        return Err(bad("/uel:0 takes only users logged on now, and an offline Windows has none; give a number of days (/uel:30) or a date (/uel:2024/01/31)"));
    }
    Ok(())
}

/// What ScanState does with these options that means nothing offline, said in words
/// (printed and logged; never silently ignored).
pub fn notes(a: &ScanStateArgs) -> Vec<String> {
    let mut n = Vec::new();
    if a.vsc {
        n.push("/vsc: offline nothing holds a file open, so no shadow copy is needed; files are read directly".into());
    }
    if a.localonly {
        n.push("/localonly: offline only the machine's own volumes are read; no removable or network drive is captured".into());
    }
    if a.retries.is_some() || a.wait.is_some() {
        n.push("/r, /w: reads are not retried offline (nothing else holds the files); an unreadable file is skipped with /c or stops the capture".into());
    }
    if let Some(t) = a.target {
        n.push(format!("/targetWindows{}: the store is the same for every target Windows; LoadState (lifeboat restore) adapts it on the new machine", match t {
            Target::Windows7 => "7",
            Target::Windows8 => "8",
            Target::Windows10 => "10",
        }));
    }
    if a.rules.is_empty() && a.auto.is_none() && a.genconfig.is_none() {
        n.push("no /i: Lifeboat's built-in `user` profile is used (documents and user settings; ScanState would take only Windows settings)".into());
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> Result<ScanStateArgs, Refusal> {
        parse(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())
    }

    /// The code and message for a refused command line.
    fn refused(s: &[&str]) -> (i32, String) {
        p(s).expect_err(&format!("{s:?} should be refused"))
    }

    #[test]
    fn every_spelling_form() {
        let forms: [&[&str]; 4] = [
            &[
                r"\\srv\mig\PC1",
                "/offlineWinDir:D:\\Windows",
                "/i:MigDocs.xml",
                "/o",
                "/c",
                "/v:13",
                "/l:C:\\My Logs\\scan.log",
            ],
            &[
                "-OFFLINEWINDIR",
                "D:\\Windows",
                "-I",
                "MigDocs.xml",
                r"\\srv\mig\PC1",
                "-O",
                "-C",
                "-V:13",
                "-L",
                "C:\\My Logs\\scan.log",
            ],
            &[
                "/offlinewindir:\"D:\\Windows\"",
                "/c",
                "/O",
                "/I:MigDocs.xml",
                "/v",
                "13",
                "/l:\"C:\\My Logs\\scan.log\"",
                "\"\\\\srv\\mig\\PC1\"",
            ],
            &[
                "/L:C:\\My Logs\\scan.log",
                "/V:13",
                "/C",
                "/O",
                "/I:MigDocs.xml",
                "/OfflineWinDir:D:\\Windows",
                r"\\srv\mig\PC1",
            ],
        ];
        for f in forms {
            let a = p(f).unwrap_or_else(|e| panic!("{f:?}: {e:?}"));
            assert_eq!(a.store, Some(PathBuf::from(r"\\srv\mig\PC1")), "{f:?}");
            assert_eq!(
                a.offline,
                Some(Offline::WinDir(r"D:\Windows".into())),
                "{f:?}"
            );
            assert_eq!(a.rules, vec!["MigDocs.xml".to_string()], "{f:?}");
            assert!(a.overwrite && a.continue_on_error, "{f:?}");
            assert_eq!(a.verbosity, Some(13), "{f:?}");
            assert_eq!(a.log, Some(PathBuf::from(r"C:\My Logs\scan.log")), "{f:?}");
        }
        let a = p(&[
            "S",
            "/offline:o.xml",
            "/i:a.xml",
            "/i:b.xml",
            "/ui:CONTOSO\\*",
            "/ue:*\\guest",
            "/uel:30",
            "/p:est.xml",
            "/efs:SKIP",
            "/nocompress",
        ])
        .unwrap();
        assert_eq!(a.rules, vec!["a.xml".to_string(), "b.xml".to_string()]);
        assert_eq!(a.last_use, Some(LastUse::Days(30)));
        assert_eq!(a.estimate, Some(Estimate::Xml("est.xml".into())));
        assert_eq!(a.efs, Some(Efs::Skip));
        assert!(
            matches!(p(&["S", "/offline:o.xml", "/uel:2024/01/31"]).unwrap().last_use, Some(LastUse::Since(t)) if t == 1_706_659_200)
        );
        let g = p(&[
            "/genconfig:cfg.xml",
            "/offlineWinDir:D:\\Windows",
            "/i:MigApp.xml",
            "/v:5",
            "/l:x.log",
            "/o",
        ])
        .unwrap();
        assert_eq!(g.genconfig, Some(PathBuf::from("cfg.xml")));
    }

    /// Every documented incompatibility: ScanState's code and both options named.
    #[test]
    fn incompatibilities_name_both_options() {
        let base = ["S", "/offlineWinDir:D:\\Windows"];
        let cases: &[(&[&str], &str, &str)] = &[
            (&["/all", "/ui:a"], "/all", "/ui"),
            (&["/all", "/ue:a"], "/all", "/ue"),
            (&["/all", "/uel:3"], "/all", "/uel"),
            (&["/auto", "/v:5"], "/auto", "/v"),
            (&["/auto", "/ui:x"], "/auto", "/ui"),
            (&["/auto", "/all"], "/auto", "/all"),
            (
                &["/encrypt", "/key:secret1", "/nocompress"],
                "/encrypt",
                "/nocompress",
            ),
            (&["/encrypt"], "/encrypt", "/key"),
            (
                &["/encrypt", "/key:secret1", "/keyfile:k.txt"],
                "/key",
                "/keyfile",
            ),
            (&["/key:secret1"], "/key", "/encrypt"),
            (&["/hardlink"], "/hardlink", "/nocompress"),
            (&["/hardlink", "/nocompress", "/vsc"], "/vsc", "/hardlink"),
            (&["/efs:hardlink"], "/efs:hardlink", "/hardlink"),
            (&["/listfiles:l.txt", "/p:e.xml"], "/listfiles", "/p"),
            (&["/p"], "/p", "/nocompress"),
            (&["/offline:o.xml"], "/offlineWinDir", "/offline"),
            (
                &["/OfflineWinOld:C:\\Windows.old"],
                "/offlineWinDir",
                "/OfflineWinOld",
            ),
        ];
        for (extra, a, b) in cases {
            let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
            let (code, msg) = refused(&args);
            assert_eq!(code, exit::INVALID_PARAMETERS, "{args:?}: {msg}");
            let low = msg.to_lowercase();
            assert!(
                low.contains(&a.to_lowercase()) && low.contains(&b.to_lowercase()),
                "{args:?}: {msg}"
            );
            assert!(
                !msg.contains("secret1"),
                "a key must never be echoed: {msg}"
            );
        }
        for other in [
            "S",
            "/c",
            "/p:e.xml",
            "/progress:p.log",
            "/listfiles:l",
            "/config:c.xml",
            "/ui:x",
            "/efs:skip",
            "/localonly",
            "/all",
            "/r:3",
        ] {
            let (code, msg) = refused(&["/genconfig:g.xml", "/offlineWinDir:D:\\Windows", other]);
            assert_eq!(code, exit::INVALID_PARAMETERS, "{other}: {msg}");
            let name = if other == "S" {
                "StorePath"
            } else {
                other.split(':').next().unwrap()
            };
            assert!(
                msg.contains("/genconfig") && msg.contains(name),
                "{other}: {msg}"
            );
        }
    }

    #[test]
    fn other_refusals() {
        let base = ["S", "/offlineWinDir:D:\\Windows"];
        let with = |extra: &[&str]| -> (i32, String) {
            refused(&base.iter().chain(extra.iter()).copied().collect::<Vec<_>>())
        };
        for extra in [
            &["/o", "/O"][..],
            &["/bogus"],
            &["/v:x"],
            &["/v:99"],
            &["/r:x"],
            &["/efs:maybe"],
            &["/uel:yesterday"],
            &["/uel:0"],
            &["/hardlink", "/nocompress"],
            &["/encrypt", "/key:secret1"],
            &["/key:", "secret1"],
            &["/key", "-secret1"],
            &["/encrypt:AES", "/key", "/secret1"],
            &["/lac", "secret1"],
            &["/efs:decryptcopy"],
            &["/efs:copyraw"],
            &["/apps"],
            &["/i"],
            &["T"],
        ] {
            let (code, msg) = with(extra);
            assert_eq!(code, exit::INVALID_PARAMETERS, "{extra:?}: {msg}");
            assert!(!msg.contains("secret1"), "{msg}");
        }
        assert_eq!(
            refused(&["/offlineWinDir:D:\\Windows", "/o"]).0,
            exit::INVALID_PARAMETERS
        );
        assert!(refused(&["/o"]).1.contains("store parameter is required"));
        assert_eq!(refused(&[]).0, exit::INVALID_PARAMETERS);
        assert_eq!(refused(&["/?"]).0, exit::HELP);
    }

    #[test]
    fn notes_say_what_has_no_offline_meaning() {
        let a = p(&[
            "S",
            "/offlineWinDir:D:\\Windows",
            "/vsc",
            "/localonly",
            "/r:3",
            "/w:1",
            "/targetWindows10",
            "/i:x.xml",
        ])
        .unwrap();
        let n = notes(&a).join("\n");
        for o in ["/vsc", "/localonly", "/r, /w", "/targetWindows10"] {
            assert!(n.contains(o), "{o}: {n}");
        }
    }
}
