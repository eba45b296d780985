//! MigXML `<content>` functions: the file or folder named inside an object's content (a
//! registry value such as `C:\Program Files\App\app.exe,0` or a recent-file list entry),
//! as XEL's "content functions" describe them. Pure string work: whether a candidate
//! exists is asked of the caller.

use std::collections::HashMap;

use super::expand::expand_text;
use super::model::Call;

/// What a content function found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// A file: its folder and name (the encoded location `dir [name]`).
    File { dir: String, name: String },
    /// A folder (ExtractDirectory), with the pattern suffix when one was given.
    Dir {
        path: String,
        suffix: Option<String>,
    },
}

impl Extracted {
    /// The location as a plain path (a variable's value).
    pub fn path(&self) -> String {
        match self {
            Extracted::File { dir, name } => format!(r"{}\{name}", dir.trim_end_matches('\\')),
            Extracted::Dir { path, .. } => path.clone(),
        }
    }

    /// The location as USMT's encoded pattern text (`C:\Dir [file.pst]`, `C:\Dir\* [*]`).
    pub fn pattern_text(&self) -> String {
        match self {
            Extracted::File { dir, name } => format!("{dir} [{}]", escape(name)),
            Extracted::Dir { path, suffix } => match suffix {
                Some(s) => format!(
                    r"{}\{}",
                    path.trim_end_matches('\\'),
                    s.trim_start_matches('\\')
                ),
                None => path.clone(),
            },
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('^', "^^").replace('[', "^[").replace(']', "^]")
}

/// The content functions Lifeboat follows (MigSys's binary variants take the decoded text).
pub fn is_known(name: &str) -> bool {
    matches!(
        name,
        "ExtractSingleFile"
            | "ExtractMultipleFiles"
            | "ExtractDirectory"
            | "ExtractSingleFileAnsiBin"
            | "ExtractSingleFileUnicodeBin"
    )
}

/// `NULL`, `'NULL'` and empty arguments are absent.
fn arg(args: &[String], i: usize) -> Option<&str> {
    args.get(i)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("null"))
}

/// The text up to the first of `separators` (any of its characters), without quotes and
/// blanks around it, variables of the offline system expanded where known.
fn clean(text: &str, separators: Option<&str>, vars: &HashMap<String, String>) -> String {
    let cut = match separators {
        Some(seps) => text.split(|c| seps.contains(c)).next().unwrap_or(""),
        None => text,
    };
    let t = cut.trim().trim_matches('"').trim();
    expand_text(t, vars).unwrap_or_else(|_| t.to_string())
}

fn is_absolute(p: &str) -> bool {
    crate::winpath::split_drive(p).is_some() || p.starts_with(r"\\")
}

fn split_file(path: &str) -> Option<(String, String)> {
    let (dir, name) = path.trim_end_matches('\\').rsplit_once('\\')?;
    let dir = if dir.len() == 2 && dir.ends_with(':') {
        format!(r"{dir}\")
    } else {
        dir.to_string()
    };
    (!name.is_empty()).then(|| (dir, name.to_string()))
}

/// One file named by `text`, looked up in the path hints when it is a bare name.
fn single(
    text: &str,
    separators: Option<&str>,
    hints: Option<&str>,
    vars: &HashMap<String, String>,
    exists: &dyn Fn(&str) -> Option<bool>,
) -> Option<Extracted> {
    let path = clean(text, separators, vars);
    if path.is_empty() {
        return None;
    }
    let candidates: Vec<String> = if is_absolute(&path) {
        vec![path]
    } else {
        hints
            .unwrap_or("")
            .split(';')
            .map(|h| clean(h, None, vars))
            .filter(|h| !h.is_empty())
            .map(|h| format!(r"{}\{path}", h.trim_end_matches('\\')))
            .collect()
    };
    candidates
        .into_iter()
        .find(|c| exists(c) != Some(false))
        .and_then(|c| split_file(&c))
        .map(|(dir, name)| Extracted::File { dir, name })
}

/// What `filter` finds in one object's `content`. Segments of a REG_MULTI_SZ arrive
/// separated by NUL characters.
pub fn extract(
    filter: &Call,
    content: &str,
    vars: &HashMap<String, String>,
    exists: &dyn Fn(&str) -> Option<bool>,
) -> Vec<Extracted> {
    let a = &filter.args;
    let first = content.split('\0').next().unwrap_or("");
    match filter.name.as_str() {
        "ExtractSingleFile" => single(first, arg(a, 0), arg(a, 1), vars, exists)
            .into_iter()
            .collect(),
        "ExtractSingleFileAnsiBin" | "ExtractSingleFileUnicodeBin" => {
            single(first, None, None, vars, exists)
                .into_iter()
                .collect()
        }
        "ExtractMultipleFiles" => {
            let seps = arg(a, 0).unwrap_or("");
            content
                .split(|c| c == '\0' || seps.contains(c))
                .filter_map(|piece| single(piece, None, arg(a, 1), vars, exists))
                .collect()
        }
        "ExtractDirectory" => {
            let path = clean(first, arg(a, 0), vars);
            let levels: usize = arg(a, 1).and_then(|l| l.parse().ok()).unwrap_or(0);
            let mut parts: Vec<&str> = path.trim_end_matches('\\').split('\\').collect();
            // A drive root stays: "C:" is never trimmed away.
            let keep = parts.len().saturating_sub(levels).max(1);
            parts.truncate(keep);
            let mut dir = parts.join("\\");
            if dir.len() == 2 && dir.ends_with(':') {
                dir.push('\\');
            }
            if dir.is_empty() || !is_absolute(&dir) || exists(&dir) == Some(false) {
                return Vec::new();
            }
            vec![Extracted::Dir {
                path: dir,
                suffix: arg(a, 2).map(str::to_string),
            }]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> Call {
        Call {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn functions_as_xel_describes_them() {
        let vars: HashMap<String, String> =
            [("SYSTEM".to_string(), r"C:\Windows\System32".to_string())].into();
        let there = |p: &str| Some(!p.contains("missing"));
        let got = extract(
            &call("ExtractSingleFile", &[",", "%system%"]),
            r#""C:\Windows\Notepad.exe",-2"#,
            &vars,
            &there,
        );
        assert_eq!(got[0].pattern_text(), r"C:\Windows [Notepad.exe]");
        let got = extract(
            &call("ExtractSingleFile", &["NULL", "%system%"]),
            "calc.exe",
            &vars,
            &there,
        );
        assert_eq!(got[0].path(), r"C:\Windows\System32\calc.exe");
        assert!(extract(
            &call("ExtractSingleFile", &["NULL", "NULL"]),
            r"C:\missing\a.pst",
            &vars,
            &there
        )
        .is_empty());
        let got = extract(
            &call("ExtractDirectory", &[",", "1"]),
            r"C:\PROGRA~1\Lavasoft\Ad-aware 6\Ad-aware.exe,0",
            &vars,
            &there,
        );
        assert_eq!(got[0].path(), r"C:\PROGRA~1\Lavasoft\Ad-aware 6");
        let got = extract(
            &call("ExtractDirectory", &["NULL", "9", "* [*]"]),
            r"D:\a\b",
            &vars,
            &there,
        );
        assert_eq!(got[0].pattern_text(), r"D:\* [*]");
        let got = extract(
            &call("ExtractMultipleFiles", &["NULL", "NULL"]),
            "C:\\a\\x.dic\0C:\\missing\\y.dic\0C:\\b\\z.dic",
            &vars,
            &there,
        );
        assert_eq!(got.len(), 2);
    }
}
