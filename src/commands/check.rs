//! `kindscope check -f PATH|- ... [--offline] [--json] [--fix [--yes]]`: the findings a set of
//! manifests would cause on the cluster's nodes, before anything is applied, each at the
//! file:line:column of its image field with the edit that fixes it.
//!
//! Exit codes as `diagnose`: 0 nothing found, 1 findings (after `--fix --yes`: findings that no
//! edit fixed), 2 unreadable input, 3 cluster unreachable.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{CheckArgs, Cli};
use crate::config::Config;
use crate::diagnose::Finding;
use crate::diagnose::preflight::{PlannedWorkload, offline, preflight};
use crate::error::{CliError, CmdResult, exit};
use crate::manifest::edit::{Edit, apply, edits_for, unified_diff};
use crate::manifest::{self, ImageField};
use crate::source::{Source, Why};

use super::check_input::{Input, read_inputs};
use super::diagnose::{read_once, to_json};
use super::output::{Style, emit, render_findings};

/// One edit as `check --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct EditOut {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub old: String,
    pub new: String,
}

/// A file that is read but never rewritten, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub why: String,
}

/// What `check --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The kubeconfig context compared with, or null with `--offline`.
    pub context: Option<String>,
    pub offline: bool,
    pub healthy: bool,
    pub files: usize,
    pub workloads: usize,
    /// Each finding's `sources` are the image fields it comes from.
    pub findings: Vec<Finding>,
    pub edits: Vec<EditOut>,
    /// Files that cannot be edited safely (templates, stdin) or not checked (templates that do
    /// not parse as YAML).
    pub skipped: Vec<Skipped>,
    /// With `--fix --yes`: the files rewritten.
    pub written: Vec<String>,
}

pub async fn run(cli: &Cli, args: &CheckArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    let default_ns = cli.conn.namespace.as_deref().unwrap_or("default");
    let inputs = read_inputs(&args.files)?;
    let mut skipped = Vec::new();
    let mut parsed: Vec<(usize, manifest::Parsed)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match manifest::parse(&input.text, default_ns) {
            Ok(p) => parsed.push((i, p)),
            Err(e) if input.templated => skipped.push(Skipped {
                path: input.name.clone(),
                why: format!(
                    "a template that is not YAML until rendered (line {}: {}); check its output instead: `helm template … | kindscope check -f -`",
                    e.line, e.message
                ),
            }),
            Err(e) => {
                return Err(CliError::usage(format!(
                    "{}:{}:{}: not valid YAML ({}); fix the file or leave it out",
                    input.name, e.line, e.column, e.message
                )));
            }
        }
    }
    let planned: Vec<PlannedWorkload> = parsed
        .iter()
        .flat_map(|(_, p)| p.workloads.iter().cloned())
        .collect();

    let (context, mut findings) = if args.offline {
        (None, offline(&planned))
    } else {
        let conn = super::connect(&super::output::Progress::stderr(), &cli.conn).await?;
        let snap = read_once(cli, &config, &conn).await?;
        super::output::eprint_safe(
            super::output::render_notes(&snap, Style::stderr()).trim_start(),
        );
        (Some(conn.context.clone()), preflight(&snap, &planned))
    };

    let mut edits: Vec<(usize, Edit)> = Vec::new();
    for f in &mut findings {
        locate(f, &inputs, &parsed, &mut edits, &mut skipped);
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path).then(a.why.cmp(&b.why)));
    skipped.dedup_by(|a, b| a.path == b.path && a.why == b.why);

    let edits_out: Vec<EditOut> = edits
        .iter()
        .map(|(i, e)| EditOut {
            path: inputs[*i].name.clone(),
            line: e.line,
            column: e.column,
            old: inputs[*i].text[e.start..e.end].to_string(),
            new: e.new.clone(),
        })
        .collect();
    let mut report = CheckReport {
        context,
        offline: args.offline,
        healthy: findings.is_empty(),
        files: inputs.len(),
        workloads: planned.len(),
        findings,
        edits: edits_out,
        skipped,
        written: Vec::new(),
    };
    let style = Style::stdout();
    if !args.json {
        emit(&render(&report, style))?;
    }
    if args.fix {
        let out = fix_files(&inputs, &edits, args.yes, &mut report.written)?;
        if !args.json {
            emit(&out)?;
        }
    }
    if args.json {
        emit(&format!("{}\n", to_json(&report)?))?;
    }
    let fixed_all = args.fix
        && args.yes
        && report
            .findings
            .iter()
            .all(|f| f.sources.iter().any(|s| written_edit(&report, s)));
    Ok(if report.healthy || fixed_all {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

/// A finding's source line was rewritten by an edit.
fn written_edit(report: &CheckReport, s: &Source) -> bool {
    report.written.contains(&s.path)
        && report
            .edits
            .iter()
            .any(|e| e.path == s.path && e.line as u64 == s.line)
}

/// Point the finding at its image fields (as `sources`) and plan their edits.
fn locate(
    f: &mut Finding,
    inputs: &[Input],
    parsed: &[(usize, manifest::Parsed)],
    edits: &mut Vec<(usize, Edit)>,
    skipped: &mut Vec<Skipped>,
) {
    let wants_change = f.suggested_image.is_some() || f.suggested_pull_policy.is_some();
    let mut sources = Vec::new();
    for (i, p) in parsed {
        let input = &inputs[*i];
        for field in p.fields.iter().filter(|x| same_container(x, f)) {
            let (line, column) = field
                .image_pos
                .map_or((0, 0), |pos| (pos.line as u64, pos.column as u64));
            sources.push(Source {
                path: input.name.clone(),
                line,
                column,
                text: line_text(&input.text, line),
                why: Why::ManifestField.phrase().to_string(),
            });
            if !wants_change {
                continue;
            }
            if let Some(why) = input.not_editable() {
                skipped.push(Skipped {
                    path: input.name.clone(),
                    why: why.to_string(),
                });
                continue;
            }
            match edits_for(
                field,
                &input.text,
                f.suggested_image.as_deref(),
                f.suggested_pull_policy.as_deref(),
            ) {
                Ok(list) => edits.extend(list.into_iter().map(|e| (*i, e))),
                Err(why) => skipped.push(Skipped {
                    path: input.name.clone(),
                    why,
                }),
            }
        }
    }
    if wants_change && !sources.is_empty() {
        // The edit replaces the kubectl command a live finding would carry.
        f.command = None;
    }
    f.sources = sources;
}

fn same_container(x: &ImageField, f: &Finding) -> bool {
    x.namespace == f.namespace
        && x.workload == f.workload
        && x.container == f.container
        && x.init == f.init_container
}

fn line_text(text: &str, line: u64) -> String {
    let line = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
    text.lines()
        .nth(line)
        .map(|l| crate::source::printable(l.trim()))
        .unwrap_or_default()
}

fn render(report: &CheckReport, style: Style) -> String {
    let mut out = String::new();
    let against = match &report.context {
        Some(c) => format!("against context {c}"),
        None => "offline (no cluster)".to_string(),
    };
    let what = format!(
        "{} workload{} in {} file{}",
        report.workloads,
        if report.workloads == 1 { "" } else { "s" },
        report.files,
        if report.files == 1 { "" } else { "s" }
    );
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "{} {what}, checked {against}: no image mismatches.",
            style.green("healthy:")
        );
    } else {
        let n = report.findings.len();
        let _ = writeln!(
            out,
            "{what}, checked {against}: {}\n",
            style.red(&format!(
                "{n} image mismatch{}",
                if n == 1 { "" } else { "es" }
            ))
        );
        out.push_str(&render_findings(&report.findings, style, |f| {
            let mut lines = String::new();
            for e in report.edits.iter().filter(|e| {
                f.sources
                    .iter()
                    .any(|s| s.path == e.path && s.line == e.line as u64)
            }) {
                let _ = writeln!(
                    lines,
                    "   {} {}:{}:{}: {} → {}",
                    style.green("edit:"),
                    e.path,
                    e.line,
                    e.column,
                    if e.old.is_empty() {
                        "(new line)"
                    } else {
                        &e.old
                    },
                    e.new.trim()
                );
            }
            lines
        }));
    }
    for s in &report.skipped {
        let _ = writeln!(out, "{} {}: {}", style.yellow("not edited:"), s.path, s.why);
    }
    out
}

/// Print the diff of every editable file; with `yes`, write them (each through a temporary
/// file renamed over the original, so a crash never leaves half a manifest).
fn fix_files(
    inputs: &[Input],
    edits: &[(usize, Edit)],
    yes: bool,
    written: &mut Vec<String>,
) -> Result<String, CliError> {
    let mut out = String::new();
    let mut files: Vec<usize> = edits.iter().map(|(i, _)| *i).collect();
    files.sort_unstable();
    files.dedup();
    if files.is_empty() {
        out.push_str("\nnothing to rewrite.\n");
        return Ok(out);
    }
    out.push('\n');
    for i in &files {
        let input = &inputs[*i];
        let mine: Vec<Edit> = edits
            .iter()
            .filter(|(j, _)| j == i)
            .map(|(_, e)| e.clone())
            .collect();
        let new = apply(&input.text, &mine);
        out.push_str(&unified_diff(&input.name, &input.text, &new));
        if yes && let Some(path) = &input.path {
            write_atomic(path, &new)?;
            written.push(input.name.clone());
        }
    }
    if yes {
        let _ = writeln!(
            out,
            "\nwrote {} file{}.",
            written.len(),
            if written.len() == 1 { "" } else { "s" }
        );
    } else {
        out.push_str("\nnothing written; run again with --fix --yes to apply these edits.\n");
    }
    Ok(out)
}

fn write_atomic(path: &Path, text: &str) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        CliError::usage(format!(
            "cannot write {}: {e}; check its permissions",
            path.display()
        ))
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kindscope-tmp"));
    std::fs::write(&tmp, text).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}
