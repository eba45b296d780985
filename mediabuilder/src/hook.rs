//! How WinPE starts the agent: a block in `startnet.cmd` right after `wpeinit` (which must
//! stay first: it brings up devices and the network), or entries in `winpeshl.ini` when the
//! base has one (then startnet.cmd never runs). Both are idempotent: building twice
//! replaces the block instead of adding a second one. The technician's own lines are kept.

/// The media's own startnet.cmd when the base has none (kept in `winpe-scripts/`).
pub const DEFAULT_STARTNET: &str = include_str!("../../winpe-scripts/startnet.cmd");
/// The technician's menu, carried beside the agent.
pub const MENU_CMD: &str = include_str!("../../winpe-scripts/lifeboat-menu.cmd");

pub const BEGIN: &str = "REM >>> lifeboat (added by lifeboat-media; a rebuild replaces this block)";
pub const END: &str = "REM <<< lifeboat";

pub use lifeboat_common::media_layout::AGENT_DIR;
use lifeboat_common::media_layout::{boot_path, AGENT_EXE, CONFIG_FILE, DRIVERS_DIR};

/// The commands run at boot: drivers first, then the agent.
pub fn startnet_block() -> Vec<String> {
    vec![
        BEGIN.to_string(),
        format!(
            "if exist {d}\\ for /r {d} %%d in (*.inf) do drvload \"%%d\"",
            d = boot_path("%SystemDrive%", DRIVERS_DIR)
        ),
        format!(
            "{} auto --config {}",
            boot_path("%SystemDrive%", AGENT_EXE),
            boot_path("%SystemDrive%", CONFIG_FILE)
        ),
        END.to_string(),
    ]
}

/// Is this line the call of wpeinit (with or without `@`, a path, `.exe` or arguments)?
fn is_wpeinit(line: &str) -> bool {
    let t = line.trim().trim_start_matches('@').trim_start();
    let first = t
        .split([' ', '\t'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let name = first.rsplit(['\\', '/']).next().unwrap_or("");
    name == "wpeinit" || name == "wpeinit.exe"
}

/// `startnet.cmd` with the Lifeboat block after the first `wpeinit` (or, when there is
/// none, `wpeinit` and the block at the top); line endings and everything else kept.
pub fn hook_startnet(original: &str) -> String {
    let crlf = original.contains("\r\n") || !original.contains('\n');
    let nl = if crlf { "\r\n" } else { "\n" };
    // Drop an earlier block (idempotence).
    let mut lines: Vec<&str> = Vec::new();
    let mut inside = false;
    for l in original.lines() {
        let t = l.trim_end_matches('\r');
        if t.starts_with("REM >>> lifeboat") {
            inside = true;
            continue;
        }
        if inside {
            if t.starts_with(END) {
                inside = false;
            }
            continue;
        }
        lines.push(t);
    }
    let block = startnet_block();
    let mut out: Vec<String> = Vec::new();
    match lines.iter().position(|l| is_wpeinit(l)) {
        Some(i) => {
            out.extend(lines[..=i].iter().map(|s| s.to_string()));
            out.extend(block);
            out.extend(lines[i + 1..].iter().map(|s| s.to_string()));
        }
        None => {
            out.push("wpeinit".into());
            out.extend(block);
            out.extend(lines.iter().map(|s| s.to_string()));
        }
    }
    let mut text = out.join(nl);
    text.push_str(nl);
    text
}

fn launch_agent() -> String {
    format!(
        "{}, auto --config {}",
        boot_path("%SYSTEMDRIVE%", AGENT_EXE),
        boot_path("%SYSTEMDRIVE%", CONFIG_FILE)
    )
}
const LAUNCH_WPEINIT: &str = "%SYSTEMROOT%\\System32\\wpeinit.exe";

/// `winpeshl.ini` with wpeinit and the agent first in `[LaunchApps]` (created if missing),
/// everything else kept; a second run changes nothing.
pub fn hook_winpeshl(original: &str) -> String {
    let crlf = original.contains("\r\n") || !original.contains('\n');
    let nl = if crlf { "\r\n" } else { "\n" };
    let lines: Vec<&str> = original
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.to_ascii_lowercase().contains("\\lifeboat\\lifeboat.exe"))
        .collect();
    let section = lines
        .iter()
        .position(|l| l.trim().eq_ignore_ascii_case("[LaunchApps]"));
    let has_wpeinit = |from: usize| {
        lines[from..]
            .iter()
            .take_while(|l| {
                !l.trim().starts_with('[') || l.trim().eq_ignore_ascii_case("[LaunchApps]")
            })
            .any(|l| l.to_ascii_lowercase().contains("wpeinit"))
    };
    let mut out: Vec<String> = Vec::new();
    match section {
        Some(i) => {
            out.extend(lines[..=i].iter().map(|s| s.to_string()));
            let wpe = has_wpeinit(i);
            // The agent goes right after wpeinit when the list has one, else first with wpeinit.
            let rest: Vec<&str> = lines[i + 1..].to_vec();
            match rest
                .iter()
                .position(|l| l.to_ascii_lowercase().contains("wpeinit"))
            {
                Some(w) if wpe => {
                    out.extend(rest[..=w].iter().map(|s| s.to_string()));
                    out.push(launch_agent());
                    out.extend(rest[w + 1..].iter().map(|s| s.to_string()));
                }
                _ => {
                    out.push(LAUNCH_WPEINIT.into());
                    out.push(launch_agent());
                    out.extend(rest.iter().map(|s| s.to_string()));
                }
            }
        }
        None => {
            out.push("[LaunchApps]".into());
            out.push(LAUNCH_WPEINIT.into());
            out.push(launch_agent());
            if !lines.is_empty() {
                out.push(String::new());
            }
            out.extend(lines.iter().map(|s| s.to_string()));
        }
    }
    let mut text = out.join(nl);
    text.push_str(nl);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_follows_wpeinit_and_is_idempotent() {
        let src =
            "@echo off\r\npowercfg /s x\r\n  @wpeinit -unattend:\"x:\\u.xml\"\r\ncmd /k menu.cmd";
        let once = hook_startnet(src);
        let lines: Vec<&str> = once.split("\r\n").collect();
        assert_eq!(lines[0], "@echo off");
        assert_eq!(lines[1], "powercfg /s x");
        assert!(is_wpeinit(lines[2]));
        assert_eq!(lines[3], BEGIN);
        assert!(lines[5].contains("lifeboat.exe auto"));
        assert_eq!(lines[6], END);
        assert_eq!(lines[7], "cmd /k menu.cmd");
        assert_eq!(hook_startnet(&once), once);
        assert_eq!(once.matches(BEGIN).count(), 1);
    }

    #[test]
    fn reference_scripts_match_what_the_builder_writes() {
        assert_eq!(hook_startnet("wpeinit\r\n"), DEFAULT_STARTNET);
        assert_eq!(
            hook_winpeshl(""),
            include_str!("../../winpe-scripts/winpeshl.ini")
        );
    }

    #[test]
    fn no_wpeinit_gets_one_first() {
        let out = hook_startnet("echo hi\n");
        assert!(out.starts_with("wpeinit\n"));
        assert!(out.ends_with("echo hi\n"));
    }

    #[test]
    fn winpeshl_keeps_the_order_and_is_idempotent() {
        let src = "[LaunchApps]\r\n%SYSTEMROOT%\\System32\\wpeinit.exe\r\n%SYSTEMDRIVE%\\tool.exe, /s\r\n";
        let once = hook_winpeshl(src);
        let lines: Vec<&str> = once.lines().collect();
        assert!(lines[1].contains("wpeinit"));
        assert!(lines[2].contains("lifeboat.exe, auto"));
        assert!(lines[3].contains("tool.exe"));
        assert_eq!(hook_winpeshl(&once), once);
        let created = hook_winpeshl("[LaunchApp]\nAppPath = x:\\shell.exe\n");
        assert!(created.starts_with("[LaunchApps]\n%SYSTEMROOT%\\System32\\wpeinit.exe\n"));
        assert!(created.contains("AppPath = x:\\shell.exe"));
    }
}
