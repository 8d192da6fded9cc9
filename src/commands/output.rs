//! Human output of `diagnose` and `fix`: compact tables, per-finding detail, progress lines.
//!
//! Colour follows `--color`, `NO_COLOR`, `CLICOLOR_FORCE` and whether the stream is a terminal
//! (`crate::shell::color`). Rendering returns strings so tests can compare them.

use std::fmt::Write as _;
use std::io::Write;

use anstyle::{AnsiColor, Effects};

use crate::cluster::node_images::{capped_note, runtime_note};
use crate::diagnose::{Finding, Report};
use crate::fix::FixPlan;
use crate::model::{ResourceState, Snapshot};
use crate::sanitize::term;
use crate::shell::color;

pub use crate::progress::Progress;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };

    /// Colour for stdout when `--color` and the environment allow it.
    pub fn stdout() -> Self {
        Style {
            color: color::stdout(),
        }
    }

    /// Colour for stderr when `--color` and the environment allow it.
    pub fn stderr() -> Self {
        Style {
            color: color::stderr(),
        }
    }

    fn paint(self, style: anstyle::Style, s: &str) -> String {
        color::paint(self.color, style, s)
    }
    fn fg(self, c: AnsiColor, s: &str) -> String {
        self.paint(anstyle::Style::new().fg_color(Some(c.into())), s)
    }
    pub fn bold(self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::BOLD), s)
    }
    pub fn red(self, s: &str) -> String {
        self.fg(AnsiColor::Red, s)
    }
    pub fn green(self, s: &str) -> String {
        self.fg(AnsiColor::Green, s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.fg(AnsiColor::Yellow, s)
    }
    pub fn dim(self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::DIMMED), s)
    }
}

/// A left-aligned table; `paint` styles a padded cell (column, text) so colour codes never
/// disturb the alignment. Cells are outside data: they are escaped for the terminal here, and
/// padded by hand (`format!` width arguments panic past 65,535).
pub fn table(
    header: &[&str],
    rows: &[Vec<String>],
    style: Style,
    paint: impl Fn(usize, &str) -> String,
) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| term(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let last = header.len().saturating_sub(1);
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        let mut l = cells.join("  ");
        l.truncate(l.trim_end().len());
        l
    };
    let pad = |i: usize, s: &str| {
        if i == last {
            s.to_string()
        } else {
            let mut cell = s.to_string();
            let fill = widths[i].saturating_sub(s.chars().count());
            cell.extend(std::iter::repeat_n(' ', fill));
            cell
        }
    };
    let head = header
        .iter()
        .enumerate()
        .map(|(i, h)| style.bold(&pad(i, h)))
        .collect();
    out.push_str(&line(head));
    out.push('\n');
    for row in &rows {
        let cells = row
            .iter()
            .enumerate()
            .map(|(i, c)| paint(i, &pad(i, c)))
            .collect();
        out.push_str(&line(cells));
        out.push('\n');
    }
    out
}

/// `diagnose` in human form: a summary line, a table, then each finding's evidence and fix.
pub fn render_report(report: &Report, snap: &Snapshot, style: Style) -> String {
    let mut out = String::new();
    let pods = snap.pods.len();
    let nodes = snap.nodes.len();
    let scope = match &snap.namespace {
        Some(ns) => format!("namespace {}", term(ns)),
        None => "all namespaces".to_string(),
    };
    let pending = || {
        super::starting::render_pending(&report.pending, k8s_openapi::jiff::Timestamp::now(), style)
    };
    if report.findings.is_empty() && report.pending.is_empty() {
        let _ = writeln!(
            out,
            "{} context {}: no image mismatches ({pods} pods on {nodes} nodes, {scope}).",
            style.green("healthy:"),
            term(&report.context)
        );
        out.push_str(&render_notes(snap, style));
        return out;
    }
    if report.findings.is_empty() {
        let n = report.pending.len();
        let _ = writeln!(
            out,
            "{} context {}: no image mismatch so far, but {n} container{} not started yet ({pods} pods on {nodes} nodes, {scope}); `diagnose --wait 2m` waits for them.\n",
            style.yellow("starting:"),
            report.context,
            if n == 1 { " has" } else { "s have" }
        );
        out.push_str(&pending());
        out.push_str(&render_notes(snap, style));
        return out;
    }
    let n = report.findings.len();
    let _ = writeln!(
        out,
        "context {}: {} ({pods} pods on {nodes} nodes, {scope})\n",
        term(&report.context),
        style.red(&format!(
            "{n} image mismatch{}",
            if n == 1 { "" } else { "es" }
        ))
    );
    out.push_str(&render_findings(&report.findings, style, |_| String::new()));
    if !report.pending.is_empty() {
        out.push('\n');
        out.push_str(&pending());
    }
    out.push_str(&render_notes(snap, style));
    out
}

/// The table, then each finding in full followed by `extra(finding)` (what a command adds).
pub fn render_findings(
    findings: &[Finding],
    style: Style,
    extra: impl Fn(&Finding) -> String,
) -> String {
    let mut out = findings_table(findings, style);
    for (i, f) in findings.iter().enumerate() {
        out.push('\n');
        out.push_str(&render_finding(i + 1, f, style));
        out.push_str(&extra(f));
    }
    out
}

/// The compact table of findings.
pub fn findings_table(findings: &[Finding], style: Style) -> String {
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            vec![
                f.kind.as_str().to_string(),
                f.namespace.clone(),
                f.workload.to_string(),
                container_label(f),
                f.image.clone(),
                f.suggested_image.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(
        &[
            "KIND",
            "NAMESPACE",
            "WORKLOAD",
            "CONTAINER",
            "IMAGE",
            "SUGGESTED",
        ],
        &rows,
        style,
        |col, s| match col {
            0 => style.yellow(s),
            5 if s.trim() != "-" => style.green(s),
            _ => s.to_string(),
        },
    )
}

fn container_label(f: &Finding) -> String {
    if f.init_container {
        format!("{} (init)", f.container)
    } else {
        f.container.clone()
    }
}

/// One finding: summary, where, evidence, then the patch or the command that fixes it.
pub fn render_finding(index: usize, f: &Finding, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {} {}/{} container {}",
        style.bold(&format!("{index}.")),
        style.yellow(f.kind.as_str()),
        style.dim("·"),
        term(&f.namespace),
        term(f.workload.as_str()),
        term(&container_label(f))
    );
    if !f.summary.is_empty() {
        let _ = writeln!(out, "   {}", term(&f.summary));
    }
    if !f.nodes.is_empty() {
        let _ = writeln!(out, "   nodes: {}", term(&f.nodes.join(", ")));
    }
    if !f.pods.is_empty() {
        let _ = writeln!(out, "   pods:  {}", term(&f.pods.join(", ")));
    }
    if let Some(policy) = &f.suggested_pull_policy {
        let _ = writeln!(
            out,
            "   pull policy: set imagePullPolicy to {}",
            term(policy)
        );
    }
    if !f.candidates.is_empty() {
        let _ = writeln!(out, "   candidates: {}", term(&f.candidates.join(", ")));
    }
    for e in &f.evidence {
        let _ = writeln!(out, "   {} {}", style.dim("evidence:"), term(e));
    }
    if let Some(patch) = &f.patch {
        let _ = writeln!(out, "   patch: {}", compact(patch));
    }
    if let Some(cmd) = &f.command {
        let _ = writeln!(out, "   run:   {}", term(cmd));
    }
    out.push_str(&super::sources::render(f, style));
    out
}

/// A planned patch for `fix`: target, before → after, the JSON patch.
pub fn render_plan(plan: &FixPlan, style: Style) -> String {
    let t = &plan.target;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {}/{} container {}",
        style.bold("patch"),
        term(t.kind.as_str()),
        term(&t.namespace),
        term(&t.name),
        term(&plan.container)
    );
    let _ = writeln!(
        out,
        "   image:       {} → {}",
        term(&plan.image_before),
        style.green(&term(&plan.image_after))
    );
    if plan.pull_policy_before != plan.pull_policy_after {
        let _ = writeln!(
            out,
            "   pull policy: {} → {}",
            term(plan.pull_policy_before.as_deref().unwrap_or("(default)")),
            style.green(&term(
                plan.pull_policy_after.as_deref().unwrap_or("(default)")
            ))
        );
    }
    let _ = writeln!(out, "   JSON patch:  {}", compact(&plan.patch));
    out
}

/// Notes that qualify the result: resources not watched, node lists that may be incomplete.
pub fn render_notes(snap: &Snapshot, style: Style) -> String {
    let mut out = String::new();
    for (name, state) in &snap.resources {
        let note = match state {
            ResourceState::Forbidden { reason } => format!("{name} could not be read ({reason})"),
            ResourceState::Stale { reason, .. } => format!("{name} may be out of date ({reason})"),
            ResourceState::Loading => format!("{name} were not listed in time"),
            ResourceState::Live => continue,
        };
        let _ = writeln!(out, "{} {}", style.yellow("note:"), term(&note));
    }
    let image_note = runtime_note(&snap.node_images).or_else(|| capped_note(&snap.node_images));
    if let Some(note) = image_note {
        let _ = writeln!(out, "{} {}", style.yellow("note:"), term(&note));
    }
    if !out.is_empty() {
        out.insert(0, '\n');
    }
    out
}

/// A JSON value on one line, with C1 and bidi controls escaped as `\uXXXX` (serde escapes C0).
fn compact(v: &serde_json::Value) -> String {
    crate::sanitize::json(serde_json::to_string(v).unwrap_or_else(|_| v.to_string()))
}

/// Write `text` to standard output. A reader that went away (`kindscope diagnose | head`) ends
/// the output quietly: SIGPIPE is ignored process-wide (see main.rs), so this is where a closed
/// pipe is handled, without a panic or an error message.
///
/// Every byte passes [`crate::sanitize::output`] first: values are escaped where they are
/// rendered, and this catches any that were not.
pub fn emit(text: &str) -> Result<(), crate::error::CliError> {
    let text = crate::sanitize::output(text, Style::stdout().color);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(crate::error::CliError::usage(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// Write `text` to standard error through [`crate::sanitize::output`] (warnings, notes,
/// prompts; they may quote cluster or kubeconfig data).
pub fn eprint_safe(text: &str) {
    let text = crate::sanitize::output(text, Style::stderr().color);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// A writer that passes everything through [`crate::sanitize::output`]: for output written
/// piece by piece (`kindscope load`, log lines). `write!` hands it whole `str` pieces.
pub struct SafeWriter<W: Write> {
    inner: W,
    colour: bool,
}

impl<W: Write> SafeWriter<W> {
    /// `colour`: let kindscope's own colour codes through (the stream is a colour terminal).
    pub fn new(inner: W, colour: bool) -> Self {
        SafeWriter { inner, colour }
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner
            .write_all(crate::sanitize::output(&text, self.colour).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::FindingKind;
    use serde_json::json;

    fn finding() -> Finding {
        Finding {
            kind: FindingKind::RegistryPrefix,
            namespace: "default".into(),
            workload: "Deployment/datastorage".into(),
            container: "datastorage".into(),
            init_container: false,
            image: "kubernaut/datastorage:debug".into(),
            suggested_image: Some("localhost/kubernaut/datastorage:debug".into()),
            suggested_pull_policy: None,
            candidates: vec![],
            nodes: vec!["gateway-debug-worker".into()],
            pods: vec!["datastorage-6d4c9b7f8-abcde".into()],
            evidence: vec!["Container image \"kubernaut/datastorage:debug\" is not present with pull policy of Never".into()],
            summary: "The node holds this image under localhost/.".into(),
            command: None,
            patch: Some(json!([{"op":"test","path":"/spec/template/spec/containers/0/image","value":"kubernaut/datastorage:debug"}])),
            plan: None,

            sources: vec![],
        }
    }

    #[test]
    fn table_aligns_columns_and_plain_style_has_no_escapes() {
        let report = Report {
            context: "kind-gateway-debug".into(),
            healthy: false,
            findings: vec![finding()],
            pending: vec![],
        };
        let text = render_report(&report, &Snapshot::default(), Style::PLAIN);
        assert!(!text.contains('\x1b'), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let header = lines
            .iter()
            .find(|l| l.starts_with("KIND"))
            .expect("header");
        let row = lines
            .iter()
            .find(|l| l.starts_with("registry-prefix"))
            .expect("row");
        // Columns line up: WORKLOAD starts where the row's workload starts.
        assert_eq!(header.find("WORKLOAD"), row.find("Deployment/"));
        assert!(text.contains("evidence: Container image"), "{text}");
        assert!(text.contains("patch: [{\"op\":\"test\""), "{text}");
    }

    #[test]
    fn colour_wraps_cells_after_padding() {
        let colored = findings_table(&[finding()], Style { color: true });
        assert!(colored.contains("\x1b[33mregistry-prefix"), "{colored}");
        let plain = findings_table(&[finding()], Style::PLAIN);
        let strip = colored
            .replace("\x1b[0m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[33m", "");
        assert_eq!(strip, plain);
    }

    #[test]
    fn healthy_report_says_so() {
        let report = Report {
            context: "kind-x".into(),
            healthy: true,
            findings: vec![],
            pending: vec![],
        };
        let text = render_report(&report, &Snapshot::default(), Style::PLAIN);
        assert!(
            text.starts_with("healthy: context kind-x: no image mismatches"),
            "{text}"
        );
    }
}
