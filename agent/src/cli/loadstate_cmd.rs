//! `lifeboat loadstate ARGS…` and the same binary named `loadstate.exe`: LoadState's command
//! line (`STORE /i: /mu: /md: /ui: /ue: /lac /lae /c /v: /l: /progress:`) over the restore
//! engine, so task sequences written for USMT keep working.

use super::exit;
use super::restore_cmd::{self, RestoreArgs};
use super::usmt_args::{tokenize, Token};

const HELP: &str = "LOADSTATE StorePath [/i:File] [/mu:OldDomain\\OldUser:[NewDomain\\]NewUser] [/md:OldDomain:NewDomain]\n\
  [/ui:Domain\\User] [/ue:Domain\\User] [/all] [/lac] [/lae] [/c] [/v:N] [/l:File] [/progress:File]\n\
Lifeboat restores its own stores (lifeboat capture, scanstate). The rules recorded in the store are used;\n\
/i: and /config: files are accepted and not needed. /lac asks the password at the console (never on the command line).\n\
Same engine as `lifeboat restore`; see `lifeboat restore --help`.\n\
Reference: docs/commands/loadstate.md; the switches: docs/usmt.md";

type Refusal = (i32, String);

fn bad(m: String) -> Refusal {
    (exit::INVALID_PARAMETERS, m)
}

/// What the switches say that is checked only once all of them are read.
#[derive(Default)]
struct Seen {
    store: Option<String>,
    all: bool,
    lae: bool,
}

/// What the LoadState command line says, or the exit code to stop with.
pub fn parse(args: &[String]) -> Result<RestoreArgs, Refusal> {
    let mut out = RestoreArgs {
        on_conflict: "rename".into(),
        ..Default::default()
    };
    let mut seen = Seen::default();
    for token in tokenize(args, takes_value, known) {
        match token {
            Token::Positional(a) => {
                if seen.store.replace(a.clone()).is_some() {
                    return Err(bad(format!("\"{a}\": only one store path")));
                }
            }
            Token::Switch { name, value } => switch(&mut out, &mut seen, &name, value)?,
            Token::Secret { name, given } => secret(&mut out, &name, given)?,
        }
    }
    finish(out, seen)
}

/// Every switch LoadState has (a word after `/lac` that is one of them is not a password).
fn known(name: &str) -> bool {
    takes_value(name)
        || matches!(
            name,
            "?" | "help"
                | "all"
                | "lac"
                | "lae"
                | "c"
                | "decrypt"
                | "nocompress"
                | "hardlink"
                | "auto"
        )
}

/// `/lac` and `/key`, whose values the tokenizer dropped unread.
fn secret(out: &mut RestoreArgs, name: &str, given: bool) -> Result<(), Refusal> {
    match (name, given) {
        ("lac", false) => {
            out.create_local = true;
            Ok(())
        }
        ("lac", true) => Err(bad(
            "/lac with a password (/lac:Password or /lac Password): Lifeboat never takes a password on the command line (it would be in logs and task sequences), and the one given was not kept; give /lac alone, after the store path, and type the password at the console".into(),
        )),
        _ => Err(bad(format!(
            "/{name}: not supported by Lifeboat's stores (they are not encrypted); the key given was not kept"
        ))),
    }
}

/// The switches whose argument may follow them as the next word.
fn takes_value(name: &str) -> bool {
    matches!(
        name,
        "i" | "config"
            | "mu"
            | "md"
            | "ui"
            | "ue"
            | "uel"
            | "v"
            | "l"
            | "progress"
            | "r"
            | "w"
            | "keyfile"
    )
}

/// One switch, into `out` (or `seen`).
fn switch(
    out: &mut RestoreArgs,
    seen: &mut Seen,
    name: &str,
    value: Option<String>,
) -> Result<(), Refusal> {
    let need = |v: Option<String>| {
        v.filter(|v| !v.is_empty())
            .ok_or_else(|| bad(format!("/{name}: an option argument is missing")))
    };
    match name {
        "?" | "help" => return Err((exit::HELP, HELP.into())),
        "i" | "config" => {
            need(value)?;
        }
        "mu" => out.users.push(user_mapping(&need(value)?)?),
        "md" => out.domains.push(domain_mapping(&need(value)?)?),
        "ui" => out.users.push(need(value)?),
        "ue" => out.skip_users.push(need(value)?),
        "all" => seen.all = true,
        "lae" => seen.lae = true,
        "c" => out.continue_on_error = true,
        "v" => out.verbose = verbose(&need(value)?)?,
        "l" => out.log = Some(need(value)?.into()),
        "progress" => out.progress = Some(need(value)?.into()),
        "r" | "w" => {
            need(value)?
                .parse::<u32>()
                .map_err(|_| bad(format!("/{name}: the argument must be an integer")))?;
        }
        "decrypt" | "keyfile" | "nocompress" | "hardlink" | "uel" | "auto" => {
            return Err(bad(format!("/{name}: not supported by Lifeboat's stores")));
        }
        _ => return Err(bad(format!("/{name}: command line option is not valid"))),
    }
    Ok(())
}

/// `/mu:OldDomain\OldUser:[NewDomain\]NewUser` as `--user OLD=NEW`: the split is at the
/// last colon.
fn user_mapping(v: &str) -> Result<String, Refusal> {
    let (old, new) = v.rsplit_once(':').ok_or_else(|| {
        bad(format!(
            "/mu:{v}: the source-to-target user account mapping is invalid"
        ))
    })?;
    Ok(format!("{old}={new}"))
}

/// `/md:OldDomain:NewDomain` as `--domain OLD=NEW`.
fn domain_mapping(v: &str) -> Result<String, Refusal> {
    let (old, new) = v.split_once(':').ok_or_else(|| {
        bad(format!(
            "/md:{v}: the source-to-target domain mapping is invalid"
        ))
    })?;
    Ok(format!("{old}={new}"))
}

/// `/v:N`: a sum of log options, of which Lifeboat follows Verbose (1).
fn verbose(v: &str) -> Result<bool, Refusal> {
    let n: u32 = v.parse().map_err(|_| {
        bad("Verbosity level must be specified as a sum of the desired log options: Verbose (0x01), Record Objects (0x04), Echo to debug port (0x08)".into())
    })?;
    Ok(n & 1 != 0)
}

/// The checks across switches, and the store path LoadState requires.
fn finish(mut out: RestoreArgs, seen: Seen) -> Result<RestoreArgs, Refusal> {
    if seen.all && (!out.users.iter().all(|u| u.contains('=')) || !out.skip_users.is_empty()) {
        return Err(bad("/all conflicts with /ui, /ue or /uel".into()));
    }
    if seen.lae && !out.create_local {
        return Err(bad("/lae is only used with /lac".into()));
    }
    out.enable_local = seen.lae;
    out.store = seen
        .store
        .ok_or_else(|| bad("The store parameter is required but not specified".into()))?
        .into();
    Ok(out)
}

pub fn run(args: &[String]) -> i32 {
    match parse(args) {
        Ok(a) => restore_cmd::run(a),
        Err((exit::HELP, help)) => super::output::finish(exit::HELP, &format!("{help}\n")),
        Err((code, message)) => {
            // It quotes the command line, which may hold anything.
            let message = crate::shown::shown(&message);
            if code == exit::INVALID_PARAMETERS {
                crate::console::say(&format!("error: {message}\n\n{HELP}"));
            } else {
                return super::output::finish(code, &format!("{message}\n"));
            }
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> Result<RestoreArgs, (i32, String)> {
        parse(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn loadstate_syntax() {
        let a = p(&[
            r"\\srv\mig\PC1",
            "/i:MigUser.xml",
            r"/mu:OLDPC\ann:NEWPC\bob",
            "/md:CONTOSO:FABRIKAM",
            "/ue:*\\guest",
            "/lac",
            "/lae",
            "/c",
            "/v:5",
            "/l:ls.log",
        ])
        .unwrap();
        assert_eq!(a.store, std::path::PathBuf::from(r"\\srv\mig\PC1"));
        assert_eq!(a.users, vec![r"OLDPC\ann=NEWPC\bob".to_string()]);
        assert_eq!(a.domains, vec!["CONTOSO=FABRIKAM".to_string()]);
        assert_eq!(a.skip_users, vec![r"*\guest".to_string()]);
        assert!(a.create_local && a.enable_local && a.continue_on_error && a.verbose);
        for bad in [
            &["/lac:secret", "S"][..],
            &["/lae", "S"],
            &["/ui:x", "/all", "S"],
            &["/v:x", "S"],
            &["/bogus", "S"],
            &["/mu:nocolon", "S"],
            &["/md:nocolon", "S"],
            &["/v", "S"],
            &["/r:x", "S"],
            &["/key:k", "S"],
            &["S", "T"],
            &["/i:x.xml"],
        ] {
            assert_eq!(
                p(bad).err().map(|e| e.0),
                Some(exit::INVALID_PARAMETERS),
                "{bad:?}"
            );
        }
        assert_eq!(p(&["/?"]).err().map(|e| e.0), Some(1));
        // Verbose is bit 1 of /v's sum; /all goes with /mu mappings, not with /ui.
        assert!(!p(&["/v:4", "S"]).unwrap().verbose);
        assert!(p(&["/v:13", "S"]).unwrap().verbose);
        let a = p(&["/all", r"/mu:A\x:B\y", "S"]).unwrap();
        assert_eq!(a.users, vec![r"A\x=B\y".to_string()]);
        assert!(!a.enable_local && !a.create_local);
    }

    #[test]
    fn a_password_is_refused_however_given_and_never_quoted() {
        for args in [
            &["S", "/lac", "Pa55"][..],
            &["/lac", "Pa55", "S"],
            &["S", "/lac:", "Pa55"],
            &["S", "/LAC", "-Pa55"],
            &["S", "/lac", "/Pa55", "/lae"],
            &["S", "/key", "Pa55"],
            &["S", "/key:", "/Pa55"],
        ] {
            let (code, msg) = p(args).err().unwrap_or_else(|| panic!("{args:?} accepted"));
            assert_eq!(code, exit::INVALID_PARAMETERS, "{args:?}");
            assert!(!msg.contains("Pa55"), "{args:?}: {msg}");
        }
        // `/lac` alone, before `/lae`, still asks at the console.
        let a = p(&["S", "/lac", "/lae"]).unwrap();
        assert!(a.create_local && a.enable_local);
    }
}
