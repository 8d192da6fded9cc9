//! `kindscope fix`: diagnose, show each planned patch, apply with `--yes` (or after a y/N
//! prompt on a terminal), follow every rollout, and report per workload: Running, or why not.
//!
//! Exit 0 when everything fixable now runs and no findings remain; 1 otherwise (including a
//! guarded patch that failed because the workload changed); 2 when the write guard refuses;
//! 3 when the cluster cannot be reached or forbids the patch.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::cli::{Cli, FixArgs};
use futures::StreamExt;

use crate::cluster::apply::ApplyError;
use crate::cluster::journal::Journal;
use crate::cluster::rollout::RolloutOutcome;
use crate::cluster::session::{self, Direction, Step, WriteOptions};
use crate::cluster::{connect, guard, watch};
use crate::config::Config;
use crate::diagnose::{Finding, Pending, Report};
use crate::error::{CliError, CmdResult, exit};
use crate::fix::FixPlan;
use crate::model::Snapshot;

use super::diagnose::{open_feed, to_json};
use crate::cluster::session::Events;
mod settle;
use settle::{caught_up, current_image, diagnosed_or_available, settle_workloads, wait_until};

use super::output::{Progress, Style, emit, findings_table, render_finding, render_plan};
use super::starting::render_pending;
use k8s_openapi::jiff::Timestamp;

/// After the rollouts, how long to wait for the diagnosis to catch up (old pods leaving).
const SETTLE: Duration = Duration::from_secs(10);

/// What happened to one planned patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Shown, not applied (no --yes, or the prompt was declined).
    Planned,
    /// Sent with dryRun=All and accepted; nothing stored.
    DryRun,
    /// Applied and the rollout reached Running.
    Running,
    /// Applied; the rollout fails (reason says why).
    Failed,
    /// Applied; still rolling out at the deadline.
    TimedOut,
    /// The guard `test` failed: the workload changed since the plan; nothing changed.
    Conflict,
    /// The server refused the patch (403, validation) or could not be reached.
    Error,
}

/// One row of `fix --json` `results`.
#[derive(Debug, Clone, Serialize)]
pub struct FixResult {
    pub kind: String,
    pub namespace: String,
    pub workload: String,
    pub container: String,
    pub image_before: String,
    pub image_after: String,
    pub pull_policy_before: Option<String>,
    pub pull_policy_after: Option<String>,
    pub patch: serde_json::Value,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the old name is written in the repository (`--source`): the durable edit.
    pub sources: Vec<crate::source::Source>,
}

/// What `fix --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    pub context: String,
    pub dry_run: bool,
    /// True when patches were sent (for real or as a dry run).
    pub applied: bool,
    pub results: Vec<FixResult>,
    /// Findings without a safe patch: what to run instead. Never patched.
    pub unpatched: Vec<Finding>,
    /// Findings still present at the end.
    pub remaining: Vec<Finding>,
    /// Containers not started yet at the end, with no finding (as in `diagnose --json`).
    pub pending: Vec<Pending>,
    /// No finding remains and nothing is still starting.
    pub healthy: bool,
}

pub async fn run(cli: &Cli, args: &FixArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    let source_root = super::sources::root(&args.source)?;
    // The guard comes before anything else, even the first connection: a refused context is
    // never contacted, and the user learns about --allow-write before reading a plan they
    // cannot apply.
    let progress = crate::progress::Progress::stderr();
    let conn = progress
        .bounded(
            crate::progress::connecting(cli.conn.context.as_deref()),
            connect::connect_checked(&cli.conn, |context, server| {
                if args.dry_run {
                    return Ok(());
                }
                guard::check_target(context, server, &cli.write, &config.allowed_write_contexts)
                    .map(|_| ())
                    .map_err(CliError::usage)
            }),
        )
        .await?;
    let (feed, snap) = open_feed(
        cli,
        &config,
        &conn,
        Events::All,
        &progress,
        config.timeouts.connect(),
    )
    .await?;
    let Report {
        mut findings,
        pending,
        ..
    } = crate::diagnose::report(&snap);
    if let Some(note) = super::sources::attach(&mut findings, source_root.as_deref()).await {
        super::output::eprint_safe(&format!("kindscope: {note}\n"));
    }
    let (plans, unpatched) = split(&findings);
    let style = Style::stdout();
    let mut report = FixReport {
        context: conn.context.clone(),
        dry_run: args.dry_run,
        applied: false,
        results: plans.iter().map(|(f, p)| planned(f, p)).collect(),
        unpatched: unpatched.clone(),
        remaining: findings.clone(),
        healthy: findings.is_empty() && pending.is_empty(),
        pending,
    };
    if !args.json {
        emit(&render_intro(
            &report,
            &plans,
            &unpatched,
            source_root.as_deref(),
            style,
        ))?;
    }
    if plans.is_empty() {
        return finish(&report, args.json);
    }
    if !confirmed(args, plans.len(), &conn.context).await? {
        return finish(&report, args.json);
    }
    report.applied = true;

    // Apply one by one; a conflict or error on one does not stop the others.
    let timeout = args
        .timeout
        .map_or(config.timeouts.rollout(), Duration::from_secs);
    let write = WriteOptions {
        // Checked before connecting already; the session checks again before each write.
        guard: if args.dry_run {
            Ok(())
        } else {
            guard::check_write(&conn, &cli.write, &config.allowed_write_contexts).map(|_| ())
        },
        dry_run: args.dry_run,
        journal: Some(Journal::default_location()),
        rollout_timeout: timeout,
    };
    let mut followed = Vec::new();
    let mut worst = exit::OK;
    for (i, (_, plan)) in plans.iter().enumerate() {
        let mut steps =
            session::apply_and_follow(&conn, feed.snapshots(), plan, Direction::Fix, write.clone());
        match steps.next().await {
            Some(Step::Applied(applied)) if args.dry_run => {
                report.results[i].status = Status::DryRun;
                tracing::debug!(?applied, "dry run accepted");
            }
            Some(Step::Applied(_)) => {
                // Journalled (or not) before its rollout is followed.
                if let Some(Step::NotJournaled(e)) = steps.next().await {
                    super::output::eprint_safe(&format!(
                        "kindscope: the fix was applied but not recorded for undo: {e}\n"
                    ));
                }
                followed.push((i, steps));
            }
            Some(Step::Failed(e)) => {
                if matches!(
                    e,
                    ApplyError::Forbidden { .. } | ApplyError::Transport { .. }
                ) {
                    worst = exit::CLUSTER;
                }
                report.results[i].status = if e.is_conflict() {
                    Status::Conflict
                } else {
                    Status::Error
                };
                report.results[i].reason = Some(e.to_string());
            }
            Some(Step::Refused(why)) => return Err(CliError::usage(why)),
            _ => {
                report.results[i].status = Status::Error;
                report.results[i].reason =
                    Some("the write ended before the API server answered".into());
            }
        }
    }

    let fixed_at: Vec<usize> = followed.iter().map(|(i, _)| *i).collect();
    let outcomes = follow_all(followed).await;
    for (i, outcome) in fixed_at.iter().zip(outcomes) {
        let r = &mut report.results[*i];
        match outcome {
            RolloutOutcome::Running => r.status = Status::Running,
            RolloutOutcome::Failed { reason } => {
                r.status = Status::Failed;
                r.reason = Some(reason);
            }
            RolloutOutcome::TimedOut { last } => {
                r.status = Status::TimedOut;
                r.reason = Some(session::timed_out_reason(timeout, &last));
            }
        }
    }

    // A conflict means the cluster moved on since the plan: diagnose again so the result
    // tells the truth (another fix may have healed it, or a recreated object kept the fault).
    let conflicts: Vec<&FixPlan> = report
        .results
        .iter()
        .zip(&plans)
        .filter(|(r, _)| r.status == Status::Conflict)
        .map(|(_, (_, p))| p)
        .collect();
    if !args.dry_run && (!fixed_at.is_empty() || !conflicts.is_empty()) {
        let fixed: Vec<&FixPlan> = fixed_at.iter().map(|i| &plans[*i].1).collect();
        let mut latest = settle(&feed, &fixed, &report).await;
        if !conflicts.is_empty() {
            latest = caught_up(&feed, &conflicts).await;
            // A target whose image someone else changed is rolling out too: let it settle
            // like our own. A recreated one with the old image keeps its finding.
            let moved: Vec<&FixPlan> = conflicts
                .iter()
                .copied()
                .filter(|p| current_image(p, &latest).as_deref() != Some(p.image_before.as_str()))
                .collect();
            if !moved.is_empty() {
                latest = settle_workloads(&feed, &moved).await;
            }
            let kept: Vec<&FixPlan> = conflicts
                .iter()
                .copied()
                .filter(|p| !moved.contains(p))
                .collect();
            if !kept.is_empty() {
                latest = wait_until(&feed, |snap| {
                    kept.iter().all(|p| diagnosed_or_available(p, snap))
                })
                .await;
            }
        }
        let end = crate::diagnose::report(&latest);
        report.remaining = end.findings;
        report.pending = end.pending;
    }
    report.healthy = report.remaining.is_empty() && report.pending.is_empty();
    if !args.json {
        emit(&render_results(&report, style))?;
    }
    let code = finish(&report, args.json)?;
    Ok(worst.max(code))
}

/// Findings with a plan, and findings that need a command instead.
fn split(findings: &[Finding]) -> (Vec<(Finding, FixPlan)>, Vec<Finding>) {
    let mut plans = Vec::new();
    let mut rest = Vec::new();
    for f in findings {
        match plan_for(f) {
            Some(p) => plans.push((f.clone(), p)),
            None => rest.push(f.clone()),
        }
    }
    (plans, rest)
}

/// The plan for a finding: the core's guarded patch and its undo, built by the diagnosis of
/// this very snapshot; `None` when there is no safe patch.
fn plan_for(f: &Finding) -> Option<FixPlan> {
    f.plan.as_deref().cloned()
}

fn planned(f: &Finding, p: &FixPlan) -> FixResult {
    FixResult {
        kind: f.kind.as_str().to_string(),
        namespace: p.target.namespace.clone(),
        workload: f.workload.to_string(),
        container: p.container.clone(),
        image_before: p.image_before.clone(),
        image_after: p.image_after.clone(),
        pull_policy_before: p.pull_policy_before.clone(),
        pull_policy_after: p.pull_policy_after.clone(),
        patch: p.patch.clone(),
        status: Status::Planned,
        reason: None,
        sources: f.sources.clone(),
    }
}

/// `--yes`, or a y/N answer on a terminal. Without either, say how to apply and decline.
async fn confirmed(args: &FixArgs, count: usize, context: &str) -> Result<bool, CliError> {
    // A dry run stores nothing, so it needs no confirmation.
    let patches = if count == 1 { "patch" } else { "patches" };
    let yes = super::confirm::confirm(
        args.yes || args.dry_run,
        &format!(
            "Apply {count} {patches} on context \"{}\"?",
            crate::sanitize::term(context)
        ),
        &format!(
            "nothing applied: pass --yes to apply {count} {patches} (stdin is not a terminal, so \
             kindscope cannot ask)"
        ),
    )
    .await?;
    if !yes && std::io::stdin().is_terminal() {
        super::output::eprint_safe("kindscope: nothing applied.\n");
    }
    Ok(yes)
}

/// Follow every applied rollout at once, with one progress line on stderr.
pub(super) async fn follow_all(followed: Vec<(usize, session::Steps)>) -> Vec<RolloutOutcome> {
    if followed.is_empty() {
        return Vec::new();
    }
    let progress = Progress::stderr();
    let all = futures::future::join_all(followed.into_iter().map(|(_, mut steps)| {
        let progress = &progress;
        async move {
            while let Some(step) = steps.next().await {
                match step {
                    Step::Progress(p) => progress.update(&p.target, &p.message),
                    Step::Done(outcome) => return outcome,
                    _ => {}
                }
            }
            RolloutOutcome::Failed {
                reason: "the rollout could not be followed to its end".into(),
            }
        }
    }));
    let mut all = std::pin::pin!(all);
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    let outcomes = loop {
        tokio::select! {
            outcomes = &mut all => break outcomes,
            _ = tick.tick() => progress.tick(),
        }
    };
    progress.finish();
    outcomes
}

/// Wait (briefly, on snapshot changes) until no finding remains for a workload that now
/// runs: old pods take a moment to leave after the rollout is complete.
async fn settle(feed: &watch::Feed, fixed: &[&FixPlan], report: &FixReport) -> Arc<Snapshot> {
    let running: Vec<&FixPlan> = fixed
        .iter()
        .copied()
        .filter(|p| {
            report.results.iter().any(|r| {
                r.status == Status::Running
                    && r.namespace == p.target.namespace
                    && r.container == p.container
                    && r.workload == p.target.workload()
            })
        })
        .collect();
    settle_workloads(feed, &running).await
}

fn finish(report: &FixReport, json: bool) -> CmdResult {
    if json {
        emit(&format!("{}\n", to_json(report)?))?;
    }
    let all_running = report.results.iter().all(|r| r.status == Status::Running);
    Ok(if report.healthy && all_running {
        exit::OK
    } else if report.remaining.is_empty() && !report.pending.is_empty() && all_running {
        exit::PENDING
    } else {
        exit::FINDINGS
    })
}

fn render_intro(
    report: &FixReport,
    plans: &[(Finding, FixPlan)],
    unpatched: &[Finding],
    searched: Option<&std::path::Path>,
    style: Style,
) -> String {
    let mut out = String::new();
    if report.remaining.is_empty() && report.pending.is_empty() {
        out.push_str(&format!(
            "{} context {}: no image mismatches, nothing to fix.\n",
            style.green("healthy:"),
            crate::sanitize::term(&report.context)
        ));
        return out;
    }
    if report.remaining.is_empty() {
        out.push_str(&format!(
            "{} context {}: no image mismatch so far and nothing to fix yet, but {}; `kindscope diagnose --wait 2m` waits for them.\n\n",
            style.yellow("starting:"),
            crate::sanitize::term(&report.context),
            not_started(report.pending.len())
        ));
        out.push_str(&render_pending(&report.pending, Timestamp::now(), style));
        return out;
    }
    out.push_str(&format!(
        "context {}:\n\n",
        crate::sanitize::term(&report.context)
    ));
    out.push_str(&findings_table(&report.remaining, style));
    for (f, plan) in plans {
        out.push('\n');
        out.push_str(&render_plan(plan, style));
        out.push_str(&super::sources::render(f, style));
        for line in crate::source::hotfix_lines(f, searched, "pass --source DIR to find the line") {
            out.push_str(&format!("   {line}\n"));
        }
    }
    if !unpatched.is_empty() {
        out.push('\n');
        out.push_str(&style.bold("Not patched (no safe patch; run the command shown):"));
        out.push('\n');
    }
    for (i, f) in unpatched.iter().enumerate() {
        out.push_str(&render_finding(i + 1, f, style));
    }
    if !report.pending.is_empty() {
        out.push('\n');
        out.push_str(&render_pending(&report.pending, Timestamp::now(), style));
    }
    out
}

/// `1 container has not started yet` / `3 containers have not started yet`.
fn not_started(n: usize) -> String {
    if n == 1 {
        "1 container has not started yet".to_string()
    } else {
        format!("{n} containers have not started yet")
    }
}

fn render_results(report: &FixReport, style: Style) -> String {
    let mut out = String::from("\n");
    for r in &report.results {
        let what = crate::sanitize::term(&format!(
            "{}/{} container {}",
            r.namespace, r.workload, r.container
        ))
        .into_owned();
        let line = match r.status {
            Status::Running => format!(
                "{} {what}: Running {}",
                style.green("✓"),
                crate::sanitize::term(&r.image_after)
            ),
            Status::DryRun => format!(
                "{} {what}: dry run accepted by the server; nothing was changed",
                style.green("✓")
            ),
            Status::Planned => format!("{} {what}: not applied", style.dim("·")),
            Status::Failed => format!("{} {what}: not running: {}", style.red("✗"), reason(r)),
            Status::TimedOut => format!("{} {what}: {}", style.yellow("…"), reason(r)),
            Status::Conflict | Status::Error => {
                format!("{} {what}: {}", style.red("✗"), reason(r))
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    if report.healthy {
        out.push_str(&format!(
            "{} no findings remain.\n",
            style.green("healthy:")
        ));
    } else if report.remaining.is_empty() && !report.dry_run {
        out.push_str(&format!(
            "{} no findings remain, but {}: {}.\n",
            style.yellow("starting:"),
            not_started(report.pending.len()),
            report
                .pending
                .iter()
                .take(3)
                .map(|p| format!(
                    "{}/{} {} ({})",
                    p.namespace,
                    p.pod.as_deref().unwrap_or(&p.workload),
                    p.container,
                    p.reason
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if !report.dry_run {
        let n = report.remaining.len();
        out.push_str(&format!(
            "{n} finding{} remain{}; run `kindscope diagnose` for details.\n",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        ));
    }
    out
}

fn reason(r: &FixResult) -> std::borrow::Cow<'_, str> {
    crate::sanitize::term(r.reason.as_deref().unwrap_or("no reason given"))
}
