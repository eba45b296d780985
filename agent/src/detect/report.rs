//! The readable form of a [`DetectReport`], for a technician at a console. Every string
//! read from the offline system (names, paths, versions) is escaped ([`Shown`]): a hive is
//! hostile input.

use std::fmt::Write;

use crate::shown::Shown;

use super::model::{DetectReport, HiveStatus, Installation, ScannedRoot};

/// Where a volume lies on its disk, what encrypts it, and whether it is dirty.
fn render_details(out: &mut String, s: &ScannedRoot) {
    if let Some(p) = &s.partition {
        let _ = writeln!(
            out,
            "      partition {} at byte {} ({} bytes){}{}",
            p.number,
            p.offset,
            p.size,
            p.kind
                .as_deref()
                .map(|k| format!(", {k}"))
                .unwrap_or_default(),
            s.filesystem
                .as_deref()
                .map(|f| format!(", {f}"))
                .unwrap_or_default(),
        );
    }
    if let Some(e) = &s.encryption {
        let state = if e.unlocked { "unlocked" } else { "locked" };
        let _ = writeln!(out, "      BitLocker, {}, {state}", e.method);
        for p in &e.protectors {
            let id = if p.is_recovery_password() {
                format!("Recovery key ID: {} ({})", p.short_id, p.id)
            } else {
                format!("ID {}", p.id)
            };
            let _ = writeln!(out, "        protector: {}, {id}", p.kind);
        }
    }
    if let Some(d) = &s.dirty {
        let _ = writeln!(out, "      dirty: {d}; read as it is");
    }
}

pub fn render(report: &DetectReport) -> String {
    let mut out = String::new();
    if report.installations.is_empty() {
        out.push_str("No offline Windows installation found.\n");
    }
    for ins in &report.installations {
        render_installation(&mut out, ins);
    }
    if !report.scanned.is_empty() {
        out.push_str("Volumes scanned:\n");
        for s in &report.scanned {
            let _ = writeln!(
                out,
                "  {:<30} {:<12} {} installation(s)",
                Shown(&s.root).to_string(),
                s.state,
                s.installations
            );
            render_details(&mut out, s);
        }
    }
    if !report.problems.is_empty() {
        out.push_str("Problems:\n");
        for p in &report.problems {
            let _ = writeln!(
                out,
                "  ! {}: {}",
                Shown(&p.path),
                Shown(&p.error.to_string())
            );
            if let Some(h) = &p.hint {
                let _ = writeln!(out, "    -> {h}");
            }
        }
    }
    out
}

fn opt(s: &Option<String>) -> String {
    Shown(s.as_deref().unwrap_or("?")).to_string()
}

fn render_installation(out: &mut String, i: &Installation) {
    let kind = match i.kind {
        super::model::InstallKind::Installed => "",
        super::model::InstallKind::WindowsOld => "  [Windows.old: previous installation]",
    };
    let _ = writeln!(out, "[{}] {}{}", i.index, Shown(&i.windir), kind);
    let build = match (i.build, i.ubr) {
        (Some(b), Some(u)) => format!("{b}.{u}"),
        (Some(b), None) => b.to_string(),
        _ => "?".into(),
    };
    let _ = writeln!(
        out,
        "    {} ({}) {} {}, build {}, {}",
        opt(&i.family),
        opt(&i.product_name),
        opt(&i.edition),
        opt(&i.display_version),
        build,
        i.arch.map(|a| a.as_str()).unwrap_or("arch ?")
    );
    let _ = writeln!(
        out,
        "    computer {}   installed {}   owner {}",
        opt(&i.computer_name),
        opt(&i.install_date),
        opt(&i.registered_owner)
    );
    for h in i.hives.iter().filter(|h| h.state != HiveStatus::Clean) {
        let _ = writeln!(
            out,
            "    hive {} {}: {}",
            h.name,
            h.state,
            Shown(h.detail.as_deref().unwrap_or(""))
        );
    }
    for w in &i.warnings {
        let _ = writeln!(out, "    note: {}", Shown(&w.to_string()));
    }
    if !i.drive_letters.is_empty() {
        let letters: Vec<String> = i
            .drive_letters
            .iter()
            .map(|d| {
                format!(
                    "{} -> {}",
                    d.letter,
                    Shown(d.now_at.as_deref().unwrap_or("(not found)"))
                )
            })
            .collect();
        let _ = writeln!(out, "    drives: {}", letters.join(", "));
    }
    let _ = writeln!(out, "    users:");
    let _ = writeln!(
        out,
        "      {:<28} {:<10} {:<22} {:<5} PROFILE",
        "NAME", "KIND", "LAST USED", "HIVE"
    );
    for u in &i.users {
        let name = if u.name_is_guess {
            format!("{}?", Shown(&u.name))
        } else {
            Shown(&u.name).to_string()
        };
        let _ = writeln!(
            out,
            "      {:<28} {:<10} {:<22} {:<5} {}{}",
            name,
            u.kind.label(),
            u.last_used.as_deref().unwrap_or("-"),
            if u.has_ntuser { "yes" } else { "no" },
            Shown(&u.profile_path_original),
            if u.profile_path.is_none() {
                "  (folder not found)"
            } else {
                ""
            }
        );
    }
    if !i.applications.is_empty() {
        let _ = writeln!(out, "    applications ({}):", i.applications.len());
        for a in &i.applications {
            let _ = writeln!(
                out,
                "      {} {} [{}]{}",
                Shown(&a.name),
                Shown(a.version.as_deref().unwrap_or("")),
                a.view,
                a.publisher
                    .as_deref()
                    .map(|p| format!(" - {}", Shown(p)))
                    .unwrap_or_default()
            );
        }
    }
    out.push('\n');
}
