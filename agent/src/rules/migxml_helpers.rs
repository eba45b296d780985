//! MigXML `<script>` calls: splitting `MigXmlHelper.Name("a", 'b', NULL)` and the pattern
//! generators (GenerateDrivePatterns, GenerateUserPatterns, GenerateDocPatterns).

use super::expand::FIXED_DRIVES;
use super::model::{Action, ObjectKind, Pattern, Scope};
use super::pattern;

/// (function name without its `Prefix.`, arguments unquoted). `None` if it is no call.
pub fn parse_call(text: &str) -> Option<(String, Vec<String>)> {
    let text = text.trim();
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let full = text[..open].trim();
    let name = full.rsplit('.').next().unwrap_or(full).trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in text[open + 1..close].chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, ',') => {
                args.push(std::mem::take(&mut cur).trim().to_string());
                any = false;
            }
            (None, c) => {
                cur.push(c);
                if !c.is_whitespace() {
                    any = true;
                }
            }
        }
    }
    if any || !args.is_empty() {
        args.push(cur.trim().to_string());
    }
    Some((name, args))
}

/// `GenerateDrivePatterns("* [*.doc]", "Fixed")` → `%LIFEBOAT_FIXED_DRIVES%\* [*.doc]`;
/// a segment may start with `\` (`"\Program Files\* [*]"`). Only fixed drives exist offline.
pub fn drive_pattern(args: &[String]) -> Result<Pattern, String> {
    let seg = args.first().map(|s| s.trim()).unwrap_or("");
    let kind = args.get(1).map(|s| s.trim()).unwrap_or("Fixed");
    if !kind.eq_ignore_ascii_case("fixed") {
        return Err(format!(
            "GenerateDrivePatterns(…, \"{kind}\"): only fixed drives are captured offline"
        ));
    }
    let sep = if seg.starts_with('\\') { "" } else { "\\" };
    pattern::parse(ObjectKind::File, &format!("{FIXED_DRIVES}{sep}{seg}"))
        .map_err(|e| format!("GenerateDrivePatterns(\"{seg}\"): {e}"))
}

/// `GenerateUserPatterns("File", "%USERPROFILE%\* [*.doc]", "TRUE")`: the pattern for every
/// user, i.e. a rule of the user pass.
pub fn user_pattern(args: &[String]) -> Result<Pattern, String> {
    let kind = match args
        .first()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("file") => ObjectKind::File,
        Some("registry") => ObjectKind::Registry,
        other => return Err(format!("GenerateUserPatterns: unknown type {other:?}")),
    };
    let text = args.get(1).map(String::as_str).unwrap_or("");
    pattern::parse(kind, text).map_err(|e| format!("GenerateUserPatterns(\"{text}\"): {e}"))
}

fn flag(args: &[String], i: usize, default: bool) -> bool {
    match args
        .get(i)
        .map(|s| s.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("TRUE" | "YES" | "1") => true,
        Some("FALSE" | "NO" | "0") => false,
        _ => default,
    }
}

/// GenerateDocPatterns(ScanProgramFiles, IncludePatterns, SystemDrive) as the USMT article
/// "Understanding migration XML files" describes it, written as patterns:
/// * system pass: every file and root folder of each fixed drive (or only the system drive),
///   and the public folders;
/// * user pass: every file and folder at the root of the profile, and the user's known
///   folders wherever they were redirected;
/// * never (in both modes, since USMT's include mode simply generates nothing there):
///   Windows, Program Files, ProgramData, the profiles folder (system pass), the user's
///   AppData and hive files (user pass), pagefile/hiberfil/swapfile, recycle bins.
///
/// `IncludePatterns` FALSE yields only those excludes. Returns (rules, warning).
pub fn doc_patterns(scope: Scope, args: &[String]) -> (Vec<(Action, Pattern)>, Option<String>) {
    let scan_pf = flag(args, 0, false);
    let include = flag(args, 1, true);
    let system_drive = flag(args, 2, false);
    let warning = scan_pf.then(|| {
        "GenerateDocPatterns(ScanProgramFiles=TRUE): the scan of Program Files for registered \
         extensions is not done offline; Program Files stays excluded"
            .to_string()
    });
    let drive = if system_drive {
        "%SYSTEMDRIVE%"
    } else {
        FIXED_DRIVES
    };
    let (incl, excl): (Vec<String>, Vec<String>) = match scope {
        Scope::System => {
            let mut inc = vec![format!(r"{drive}\* [*]")];
            inc.extend(
                [
                    "CSIDL_COMMON_DESKTOPDIRECTORY",
                    "CSIDL_COMMON_FAVORITES",
                    "CSIDL_COMMON_DOCUMENTS",
                    "CSIDL_COMMON_MUSIC",
                    "CSIDL_COMMON_PICTURES",
                    "CSIDL_COMMON_VIDEO",
                    "FOLDERID_PUBLICDOWNLOADS",
                ]
                .iter()
                .map(|v| format!(r"%{v}%\* [*]")),
            );
            let mut exc: Vec<String> = [
                "CSIDL_WINDOWS",
                "CSIDL_PROGRAM_FILES",
                "CSIDL_COMMON_APPDATA",
                "PROFILESFOLDER",
            ]
            .iter()
            .map(|v| format!(r"%{v}%\* [*]"))
            .collect();
            exc.extend(
                [
                    r"\Windows\* [*]",
                    r"\Winnt\* [*]",
                    r"\Program Files\* [*]",
                    r"\Program Files (x86)\* [*]",
                    r"\ProgramData\* [*]",
                    r"\Users\* [*]",
                    r"\$Recycle.Bin\* [*]",
                    r"\System Volume Information\* [*]",
                    r"\ [pagefile.sys]",
                    r"\ [hiberfil.sys]",
                    r"\ [swapfile.sys]",
                ]
                .iter()
                .map(|s| format!("{drive}{s}")),
            );
            (inc, exc)
        }
        Scope::User => {
            let mut inc = vec![r"%USERPROFILE%\* [*]".to_string()];
            inc.extend(
                [
                    "CSIDL_MYDOCUMENTS",
                    "CSIDL_MYPICTURES",
                    "FOLDERID_ORIGINALIMAGES",
                    "CSIDL_MYMUSIC",
                    "CSIDL_MYVIDEO",
                    "CSIDL_FAVORITES",
                    "CSIDL_DESKTOP",
                    "CSIDL_QUICKLAUNCH",
                    "FOLDERID_CONTACTS",
                    "FOLDERID_LIBRARIES",
                    "FOLDERID_DOWNLOADS",
                    "FOLDERID_SAVEDGAMES",
                    "FOLDERID_RECORDEDTV",
                ]
                .iter()
                .map(|v| format!(r"%{v}%\* [*]")),
            );
            let exc = vec![
                r"%USERPROFILE%\AppData\* [*]".to_string(),
                r"%USERPROFILE%\ [ntuser.*]".to_string(),
            ];
            (inc, exc)
        }
    };
    let mut out = Vec::new();
    if include {
        for t in &incl {
            if let Ok(p) = pattern::parse(ObjectKind::File, t) {
                out.push((Action::Include, p));
            }
        }
    }
    for t in &excl {
        if let Ok(p) = pattern::parse(ObjectKind::File, t) {
            out.push((Action::Exclude, p));
        }
    }
    (out, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls() {
        let (n, a) =
            parse_call(r#"MigXmlHelper.GenerateDrivePatterns ("* [*.doc]", "Fixed")"#).unwrap();
        assert_eq!(
            (n.as_str(), a),
            (
                "GenerateDrivePatterns",
                vec!["* [*.doc]".to_string(), "Fixed".into()]
            )
        );
        let (n, a) = parse_call("MigXmlHelper.IsNative64Bit()").unwrap();
        assert_eq!((n.as_str(), a.len()), ("IsNative64Bit", 0));
        let (_, a) = parse_call("MigXmlHelper.ExtractSingleFile(NULL, 'a,b')").unwrap();
        assert_eq!(a, ["NULL", "a,b"]);
        assert!(parse_call("not a call").is_none());
    }

    #[test]
    fn drive_patterns() {
        let p = drive_pattern(&["* [*.doc]".into(), "Fixed".into()]).unwrap();
        assert_eq!(p.to_string(), r"%LIFEBOAT_FIXED_DRIVES%\* [*.doc]");
        let p = drive_pattern(&[r"\Program Files\* [*]".into(), "Fixed".into()]).unwrap();
        assert_eq!(
            p.to_string(),
            r"%LIFEBOAT_FIXED_DRIVES%\Program Files\* [*]"
        );
        let p = drive_pattern(&[
            r"*\AppData\Roaming\Microsoft\Signatures\* [*] ".into(),
            "Fixed".into(),
        ])
        .unwrap();
        assert_eq!(
            p.node,
            r"%LIFEBOAT_FIXED_DRIVES%\*\AppData\Roaming\Microsoft\Signatures"
        );
        assert!(drive_pattern(&["* [*]".into(), "Removable".into()]).is_err());
    }

    #[test]
    fn doc_patterns_modes() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (inc, w) = doc_patterns(Scope::User, &args(&["FALSE", "TRUE", "FALSE"]));
        assert!(w.is_none());
        assert!(inc
            .iter()
            .any(|(a, p)| *a == Action::Include && p.node == "%CSIDL_MYDOCUMENTS%"));
        let (exc, _) = doc_patterns(Scope::System, &args(&["TRUE", "FALSE", "TRUE"]));
        assert!(exc.iter().all(|(a, _)| *a == Action::Exclude));
        assert!(exc.iter().any(|(_, p)| p.node == r"%SYSTEMDRIVE%\Windows"));
    }
}
