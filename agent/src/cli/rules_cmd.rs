//! `lifeboat rules explain`: MigXML and profiles evaluated against an offline installation,
//! component by component — detected or not and why, the variables defined, the final
//! patterns. The tool to debug a custom XML with.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::detect_cmd::SourceArgs;
use super::{exit, output};
use crate::console::{self, say};
use crate::job::{self, Choose, Dest, ExplainSpec};
use crate::plan::{users::UserPattern, PassExplanation};
use crate::rules::{Action, ComponentReport};

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Evaluate rules files against an offline installation and say, per component,
    /// whether it was detected and why, its variables and its final patterns.
    Explain(ExplainArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "FILE: a built-in profile (documents, user, full), a YAML profile or a USMT MigXML file (MigDocs.xml, MigUser.xml, MigApp.xml, custom), as many as ScanState's /i:.\n\
--json: {\"components\": [{\"name\", \"source\", \"user\" (null: the machine pass), \"sid\", \"detected\" (true|false|null: cannot tell), \"why\", \"variables\", \"patterns\": {\"include\", \"exclude\", \"unconditional_exclude\"}, \"restore\", \"notes\"}], \"switched_off_by_config\", \"warnings\"}.\n\
Exit codes: 0, 11 bad options, 26 no installation chosen, 28 a rules file cannot be used, 39 the Config.xml cannot be used, 72 the output cannot be written.\n\
Reference: docs/commands/rules-explain.md"
)]
pub struct ExplainArgs {
    /// Rules files or built-in profiles.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,
    /// Volumes or folders to scan (as ROOT for detect). Repeatable.
    #[arg(long = "root", value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Which installation, when several are found (its number in `lifeboat detect`).
    #[arg(long, value_name = "N")]
    pub select: Option<usize>,
    /// Only these users' passes (name, DOMAIN\name, SID patterns); the machine pass is
    /// always shown. Repeatable.
    #[arg(long = "user", value_name = "NAME")]
    pub users: Vec<String>,
    /// A USMT Config.xml: components it switches off (migrate="no") are left out.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: RulesCommand) -> i32 {
    match cmd {
        RulesCommand::Explain(a) => explain(a),
    }
}

fn explain(args: ExplainArgs) -> i32 {
    let users: Vec<UserPattern> = match args.users.iter().map(|u| UserPattern::parse(u)).collect() {
        Ok(p) => p,
        Err(e) => {
            say(&format!("error: --user: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    let detect = match args.source.options(&args.roots) {
        Ok(d) => d,
        Err(e) => {
            say(&format!("error: {e}"));
            return exit::INVALID_PARAMETERS;
        }
    };
    let spec = ExplainSpec {
        detect,
        profiles: args.files,
        config: args.config,
        users,
    };
    let mut choose = Choose {
        select: args.select,
        ask: console::interactive(),
        pick_users: false,
        how_to_choose: "choose one with --select N",
        dest: Dest::None,
    };
    let explained = match job::explain(&spec, &mut choose) {
        Ok(x) => x,
        Err(e) => {
            say(&format!("error: {e}"));
            return exit::job(&e);
        }
    };
    for p in &explained.problems {
        say(&format!("warning: {}: {}", p.path, p.error));
    }
    let (passes, dropped) = (&explained.passes, &explained.switched_off);
    let text = if args.json {
        output::json(&to_json(passes, dropped))
    } else {
        to_text(passes, dropped)
    };
    output::finish(exit::OK, &text)
}

fn patterns(r: &ComponentReport, action: Action) -> Vec<String> {
    r.rules
        .iter()
        .filter(|x| x.action == action)
        .map(|x| x.pattern.to_string())
        .collect()
}

fn to_json(passes: &[PassExplanation], dropped: &[String]) -> serde_json::Value {
    let mut components = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for p in passes {
        warnings.extend(p.evaluation.warnings.iter().cloned());
        for r in &p.evaluation.reports {
            let vars: serde_json::Map<String, serde_json::Value> = r
                .variables
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        serde_json::json!({"value": v.value, "note": v.note}),
                    )
                })
                .collect();
            let restore: Vec<serde_json::Value> = r
                .restore
                .iter()
                .map(|x| {
                    serde_json::json!({
                        "kind": x.kind,
                        "script": x.script.as_ref().map(ToString::to_string),
                        "patterns": x.patterns.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    })
                })
                .collect();
            components.push(serde_json::json!({
                "name": r.name,
                "source": r.source,
                "user": p.user,
                "sid": p.sid,
                "detected": r.detected,
                "why": r.why,
                "variables": vars,
                "patterns": {
                    "include": patterns(r, Action::Include),
                    "exclude": patterns(r, Action::Exclude),
                    "unconditional_exclude": patterns(r, Action::UnconditionalExclude),
                },
                "restore": restore,
                "notes": r.notes,
            }));
        }
    }
    warnings.sort();
    warnings.dedup();
    serde_json::json!({
        "components": components,
        "switched_off_by_config": dropped,
        "warnings": warnings,
    })
}

fn to_text(passes: &[PassExplanation], dropped: &[String]) -> String {
    let mut s = String::new();
    for p in passes {
        let who = match (&p.user, &p.sid) {
            (Some(u), Some(sid)) => format!("user {u} ({sid})"),
            _ => "the machine".to_string(),
        };
        s.push_str(&format!("== {who} ==\n"));
        for r in &p.evaluation.reports {
            let state = match r.detected {
                Some(true) => "DETECTED",
                Some(false) => "not detected",
                None => "cannot tell (taken)",
            };
            s.push_str(&format!(
                "[{state}] {}  ({})\n    why: {}\n",
                r.name, r.source, r.why
            ));
            for v in &r.variables {
                match &v.value {
                    Some(val) => s.push_str(&format!("    %{}% = {val}\n", v.name)),
                    None => s.push_str(&format!("    %{}% undefined: {}\n", v.name, v.note)),
                }
            }
            if r.detected == Some(false) {
                continue;
            }
            for (label, action) in [
                ("include", Action::Include),
                ("exclude", Action::Exclude),
                ("unconditional exclude", Action::UnconditionalExclude),
            ] {
                for pat in patterns(r, action) {
                    s.push_str(&format!("    {label:<8} {pat}\n"));
                }
            }
            for x in &r.restore {
                let script = x
                    .script
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                s.push_str(&format!("    restore  {:?} {script}\n", x.kind));
            }
            for n in &r.notes {
                s.push_str(&format!("    note: {n}\n"));
            }
        }
    }
    for d in dropped {
        s.push_str(&format!("switched off by Config.xml: {d}\n"));
    }
    let mut warnings: Vec<&String> = passes.iter().flat_map(|p| &p.evaluation.warnings).collect();
    warnings.sort();
    warnings.dedup();
    for w in warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}
