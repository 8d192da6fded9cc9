//! `kindscope wait [KIND/NAME]... [--timeout 120s] [--bundle-on-failure PATH]`: the E2E step
//! after a deploy. Exit 0 as soon as every target is ready; exit 1 as soon as an image finding
//! certainly blocks one (printed as `diagnose` prints it, with the source line of the name), or
//! at the timeout with everything known. Driven by the watch feed: each new snapshot is judged
//! once, nothing is polled.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Cli, WaitArgs};
use crate::cluster::connect;
use crate::config::Config;
use crate::diagnose::{Finding, diagnose};
use crate::error::{CliError, CmdResult, exit};
use crate::model::Snapshot;

use super::diagnose::open_feed;
use super::output::{Progress, Style, emit, render_finding};
use super::wait_state::{
    Target, all_targets, blocking, parse_duration, pods_of, progress, waiting_reasons,
};
use crate::cluster::session::Events;

/// How many of the targets' latest events a timeout report shows.
const LAST_EVENTS: usize = 10;

pub async fn run(cli: &Cli, args: &WaitArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    if args.condition != "ready" {
        return Err(CliError::usage(format!(
            "--for {} is not supported; kindscope wait knows --for ready",
            args.condition
        )));
    }
    let timeout = parse_duration(&args.timeout).ok_or_else(|| {
        CliError::usage(format!(
            "--timeout {} is not a duration; write e.g. 120s, 2m or 90",
            args.timeout
        ))
    })?;
    let ns = cli.conn.namespace.as_deref();
    let named = args
        .workloads
        .iter()
        .map(|w| super::wait_state::parse_target(w, ns.or(Some("default"))))
        .collect::<Result<Vec<Target>, String>>()
        .map_err(CliError::usage)?;
    let source_root = super::sources::root(&args.source)?;
    let started = tokio::time::Instant::now();
    let deadline = started + timeout;

    let conn = super::connect(&Progress::stderr(), &cli.conn).await?;
    let (feed, first) = open_feed(
        cli,
        &config,
        &conn,
        Events::All,
        &crate::progress::Progress::stderr(),
        config
            .timeouts
            .connect()
            .min(timeout.max(Duration::from_secs(1))),
    )
    .await?;
    let targets = if named.is_empty() {
        all_targets(&first)
    } else {
        named
    };
    if targets.is_empty() {
        emit("nothing to wait for: no workloads in scope.\n")?;
        return Ok(exit::OK);
    }
    let live = Live::new();
    let mut rx = feed.snapshots();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        let snap = rx.borrow_and_update().clone();
        let states: Vec<_> = targets.iter().map(|t| progress(&snap, t)).collect();
        if states.iter().all(|s| s.ready) {
            live.finish();
            let mut out = String::new();
            for s in &states {
                let _ = writeln!(out, "ready: {} ({})", s.target.label(), s.message);
            }
            emit(&out)?;
            return Ok(exit::OK);
        }
        let findings = diagnose(&snap);
        let certain: Vec<Finding> = blocking(&snap, &targets, &findings)
            .into_iter()
            .cloned()
            .collect();
        if !certain.is_empty() {
            live.finish();
            let mut certain = certain;
            if let Some(note) = super::sources::attach(&mut certain, source_root.as_deref()).await {
                super::output::eprint_safe(&format!("kindscope: {note}\n"));
            }
            emit(&render_blocked(&certain, started.elapsed()))?;
            bundle(&conn, &snap, &findings, args.bundle_on_failure.as_deref()).await;
            return Ok(exit::FINDINGS);
        }
        let waiting: Vec<String> = states
            .iter()
            .filter(|s| !s.ready)
            .map(|s| format!("{} {}", s.target.label(), s.message))
            .collect();
        live.say(&format!(
            "waiting for {} of {} ({} s): {}",
            waiting.len(),
            states.len(),
            started.elapsed().as_secs(),
            waiting.join("; ")
        ));
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    live.finish();
                    return Err(CliError::cluster("the cluster watch stopped unexpectedly; check that the API server is still up"));
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                live.finish();
                let snap = feed.current();
                let report = crate::diagnose::report(&snap);
                let findings = report.findings;
                let mut shown = render_timeout(&snap, &targets, &findings, timeout);
                // The report's own account of what has not started (docs/findings.md).
                shown.push_str(&super::starting::render_pending(
                    &report.pending,
                    k8s_openapi::jiff::Timestamp::now(),
                    Style::stdout(),
                ));
                emit(&shown)?;
                bundle(&conn, &snap, &findings, args.bundle_on_failure.as_deref()).await;
                return Ok(exit::FINDINGS);
            }
            _ = tick.tick(), if live.terminal => live.spin(),
        }
    }
}

/// A live line on a terminal; timestamped plain lines (only when something changed) otherwise.
struct Live {
    terminal: bool,
    progress: Progress,
    last: std::sync::Mutex<String>,
}

impl Live {
    fn new() -> Self {
        Live {
            terminal: std::io::stderr().is_terminal(),
            progress: Progress::stderr(),
            last: std::sync::Mutex::new(String::new()),
        }
    }

    fn say(&self, message: &str) {
        if self.terminal {
            self.progress.update("wait", message);
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // The elapsed seconds change every line; compare what is waited for.
        let key = message.split_once("): ").map_or(message, |(_, rest)| rest);
        if *last != key {
            *last = key.to_string();
            super::output::eprint_safe(&format!(
                "{} {message}\n",
                jiff::Timestamp::now().strftime("%H:%M:%SZ")
            ));
        }
    }

    fn spin(&self) {
        self.progress.tick();
    }

    fn finish(&self) {
        self.progress.finish();
    }
}

/// `Deployment/gateway cannot start: it asks for X, the node holds Y (set in FILE:LINE)`, then
/// each finding as `diagnose` prints it.
fn render_blocked(findings: &[Finding], elapsed: Duration) -> String {
    let style = Style::stdout();
    let mut out = String::new();
    for f in findings {
        let held = match &f.suggested_image {
            Some(s) => format!(", the node holds {s}"),
            None if !f.candidates.is_empty() => {
                format!(", the nodes hold {}", f.candidates.join(", "))
            }
            None => String::new(),
        };
        let at = f
            .sources
            .first()
            .map(|s| format!(" (set in {}:{})", s.path, s.line))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} cannot start: it asks for {}{held}{at}",
            f.workload, f.image
        );
    }
    let _ = writeln!(
        out,
        "(stopped after {:.1} s: this will not fix itself)\n",
        elapsed.as_secs_f64()
    );
    for (i, f) in findings.iter().enumerate() {
        out.push_str(&render_finding(i + 1, f, style));
        out.push('\n');
    }
    out
}

/// Everything known at the deadline: what is not ready, its pods and their last events, and
/// any finding that was not certain yet.
fn render_timeout(
    snap: &Snapshot,
    targets: &[Target],
    findings: &[Finding],
    timeout: Duration,
) -> String {
    let style = Style::stdout();
    let mut out = String::new();
    let _ = writeln!(out, "timed out after {} s:", timeout.as_secs());
    let mut pod_names: Vec<(String, String)> = Vec::new();
    for t in targets {
        let p = progress(snap, t);
        if p.ready {
            continue;
        }
        let _ = writeln!(out, "  {} not ready: {}", t.label(), p.message);
        for pod in pods_of(snap, t) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or("Unknown");
            let reasons: Vec<&str> = waiting_reasons(pod).collect();
            let _ = writeln!(
                out,
                "    pod {name}: {phase}{}",
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", reasons.join(", "))
                }
            );
            pod_names.push((ns, name));
        }
    }
    let mut events: Vec<_> = snap
        .events
        .iter()
        .filter(|e| {
            pod_names.iter().any(|(ns, n)| {
                e.involved_object.name.as_deref() == Some(n.as_str())
                    && e.involved_object.namespace.as_deref() == Some(ns.as_str())
            })
        })
        .collect();
    events.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    if !events.is_empty() {
        let _ = writeln!(out, "last events:");
    }
    for e in events.iter().rev().take(LAST_EVENTS).rev() {
        let _ = writeln!(
            out,
            "  {} {} {}: {}",
            e.type_.as_deref().unwrap_or(""),
            e.reason.as_deref().unwrap_or(""),
            e.involved_object.name.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("").trim()
        );
    }
    let related: Vec<&Finding> = findings
        .iter()
        .filter(|f| targets.iter().any(|t| t.label() == f.workload))
        .collect();
    for (i, f) in related.iter().enumerate() {
        out.push('\n');
        out.push_str(&render_finding(i + 1, f, style));
    }
    out
}

/// Write the triage bundle when asked; a failure to write is said, never hides the result.
async fn bundle(
    conn: &connect::Connection,
    snap: &Arc<Snapshot>,
    findings: &[Finding],
    path: Option<&Path>,
) {
    let Some(path) = path else {
        return;
    };
    let version = super::bundle_cmd::server_version(conn).await;
    // A bundle written for a CI artifact is redacted as `snapshot` redacts by default.
    let options = crate::bundle::redact::Options::default();
    match super::bundle_cmd::write_bundle(snap, findings, version, path, options).await {
        Ok(bytes) => super::output::eprint_safe(&format!(
            "kindscope: wrote the triage bundle {} ({bytes} bytes)\n",
            path.display()
        )),
        Err(e) => super::output::eprint_safe(&format!(
            "kindscope: could not write the triage bundle: {}\n",
            crate::sanitize::term(&e.to_string())
        )),
    }
}
