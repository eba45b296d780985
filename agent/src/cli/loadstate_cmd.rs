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
Same engine as `lifeboat restore`; see `lifeboat restore --help`.";

/// What the LoadState command line says, or the exit code to stop with.
pub fn parse(args: &[String]) -> Result<RestoreArgs, (i32, String)> {
    let bad = |m: String| (exit::INVALID_PARAMETERS, m);
    let mut out = RestoreArgs {
        on_conflict: "rename".into(),
        ..Default::default()
    };
    let mut store = None;
    let mut all = false;
    let mut lae = false;
    let takes_value = |n: &str| {
        matches!(
            n,
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
                | "key"
                | "keyfile"
        )
    };
    for token in tokenize(args, takes_value) {
        let (name, value) = match token {
            Token::Positional(a) => {
                if store.replace(a.clone()).is_some() {
                    return Err(bad(format!("\"{a}\": only one store path")));
                }
                continue;
            }
            Token::Switch { name, value } => (name, value),
        };
        let need = |v: Option<String>| {
            v.filter(|v| !v.is_empty())
                .ok_or_else(|| bad(format!("/{name}: an option argument is missing")))
        };
        match name.as_str() {
            "?" | "help" => return Err((1, HELP.into())),
            "i" | "config" => {
                need(value)?;
            }
            "mu" => {
                let v = need(value)?;
                // OldDomain\OldUser:[NewDomain\]NewUser — the split is at the last colon.
                let (old, new) = v.rsplit_once(':').ok_or_else(|| {
                    bad(format!(
                        "/mu:{v}: the source-to-target user account mapping is invalid"
                    ))
                })?;
                out.users.push(format!("{old}={new}"));
            }
            "md" => {
                let v = need(value)?;
                let (old, new) = v.split_once(':').ok_or_else(|| {
                    bad(format!(
                        "/md:{v}: the source-to-target domain mapping is invalid"
                    ))
                })?;
                out.domains.push(format!("{old}={new}"));
            }
            "ui" => out.users.push(need(value)?),
            "ue" => out.skip_users.push(need(value)?),
            "all" => all = true,
            "lac" => {
                if value.is_some() {
                    return Err(bad(
                        "/lac:Password: Lifeboat never takes a password on the command line (it would be in logs and task sequences); give /lac and type it at the console".into(),
                    ));
                }
                out.create_local = true;
            }
            "lae" => lae = true,
            "c" => out.continue_on_error = true,
            "v" => {
                let v = need(value)?;
                let n: u32 = v.parse().map_err(|_| {
                    bad("Verbosity level must be specified as a sum of the desired log options: Verbose (0x01), Record Objects (0x04), Echo to debug port (0x08)".into())
                })?;
                out.verbose = n & 1 != 0;
            }
            "l" => out.log = Some(need(value)?.into()),
            "progress" => out.progress = Some(need(value)?.into()),
            "r" | "w" => {
                need(value)?
                    .parse::<u32>()
                    .map_err(|_| bad(format!("/{name}: the argument must be an integer")))?;
            }
            "decrypt" | "key" | "keyfile" | "nocompress" | "hardlink" | "uel" | "auto" => {
                return Err(bad(format!("/{name}: not supported by Lifeboat's stores")));
            }
            _ => return Err(bad(format!("/{name}: command line option is not valid"))),
        }
    }
    if all && (!out.users.iter().all(|u| u.contains('=')) || !out.skip_users.is_empty()) {
        return Err(bad("/all conflicts with /ui, /ue or /uel".into()));
    }
    if lae && !out.create_local {
        return Err(bad("/lae is only used with /lac".into()));
    }
    out.enable_local = lae;
    out.store = store
        .ok_or_else(|| bad("The store parameter is required but not specified".into()))?
        .into();
    Ok(out)
}

pub fn run(args: &[String]) -> i32 {
    match parse(args) {
        Ok(a) => restore_cmd::run(a),
        Err((code, message)) => {
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
            &["/i:x.xml"],
        ] {
            assert_eq!(
                p(bad).err().map(|e| e.0),
                Some(exit::INVALID_PARAMETERS),
                "{bad:?}"
            );
        }
        assert_eq!(p(&["/?"]).err().map(|e| e.0), Some(1));
    }
}
