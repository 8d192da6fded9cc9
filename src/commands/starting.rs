//! Containers that have not started yet, at the command edge: `diagnose --wait DURATION`
//! (driven by the watch feed, never polling), the exit code of a report, and the human table
//! of what is still starting. The core's side is `diagnose::Pending` (docs/findings.md).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::output::{Progress, Style, table};
use crate::cluster::watch::Feed;
use crate::diagnose::{Pending, Report, report};
use crate::error::{CliError, exit};
use crate::model::Snapshot;

/// The longest `--wait` accepted; anything longer is surely a typo.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// Rows of the human table; `--json` lists every one.
const MAX_ROWS: usize = 20;

/// 0 healthy, 1 findings, 4 nothing wrong yet but something has not started.
pub fn exit_code(r: &Report) -> u8 {
    if !r.findings.is_empty() {
        exit::FINDINGS
    } else if !r.pending.is_empty() {
        exit::PENDING
    } else {
        exit::OK
    }
}

/// A Go-style duration for `--wait`: `30s`, `2m`, `1m30s`, `500ms`, `1h`.
pub fn parse_wait(s: &str) -> Result<Duration, CliError> {
    let bad = || {
        CliError::usage(format!(
            "--wait takes a duration such as 30s, 2m or 1m30s (units ms, s, m, h), not {s:?}."
        ))
    };
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (num, tail) = rest.split_at(digits);
        let value: f64 = num.parse().map_err(|_| bad())?;
        let (unit, after) = if let Some(t) = tail.strip_prefix("ms") {
            (0.001, t)
        } else if let Some(t) = tail.strip_prefix('s') {
            (1.0, t)
        } else if let Some(t) = tail.strip_prefix('m') {
            (60.0, t)
        } else if let Some(t) = tail.strip_prefix('h') {
            (3600.0, t)
        } else {
            return Err(bad());
        };
        total += value * unit;
        rest = after;
    }
    if !total.is_finite() || total > MAX_WAIT.as_secs_f64() {
        return Err(CliError::usage(format!(
            "--wait {s} is longer than the 24h kindscope accepts; give a shorter duration."
        )));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Follow the feed until every container in scope has started or has a finding, or `wait`
/// has passed; return the last snapshot and its report. Progress goes to stderr: one line
/// redrawn in place on a terminal, plain lines (when the set changes) otherwise.
pub async fn until_started(
    feed: &Feed,
    wait: Duration,
) -> Result<(Arc<Snapshot>, Report), CliError> {
    let started = tokio::time::Instant::now();
    let deadline = started + wait;
    let terminal = std::io::stderr().is_terminal();
    let progress = Progress::stderr();
    let mut rx = feed.snapshots();
    // Redraws the elapsed time on a terminal only; the cluster is never polled.
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    loop {
        let snap = rx.borrow_and_update().clone();
        let r = report(&snap);
        if r.pending.is_empty() {
            progress.finish();
            return Ok((snap, r));
        }
        loop {
            let line = progress_line(&r.pending, terminal.then(|| (started.elapsed(), wait)));
            progress.update("waiting", &line);
            tokio::select! {
                changed = rx.changed() => match changed {
                    Ok(()) => break,
                    Err(_) => {
                        progress.finish();
                        return Err(CliError::cluster("the cluster watch stopped unexpectedly"));
                    }
                },
                _ = clock.tick(), if terminal => progress.tick(),
                () = tokio::time::sleep_until(deadline) => {
                    progress.finish();
                    return Ok((snap, r));
                }
            }
        }
    }
}

/// `3 containers not started yet: shop/cart-7d9 cart (ContainerCreating), … (4s of 30s)`.
fn progress_line(pending: &[Pending], clock: Option<(Duration, Duration)>) -> String {
    let n = pending.len();
    let mut line = format!(
        "{n} container{} not started yet:",
        if n == 1 { "" } else { "s" }
    );
    for p in pending.iter().take(3) {
        let _ = write!(
            line,
            " {}/{} {} ({}),",
            p.namespace,
            p.pod.as_deref().unwrap_or(&p.workload),
            p.container,
            p.reason
        );
    }
    line.pop();
    if n > 3 {
        line.push_str(", …");
    }
    if let Some((elapsed, wait)) = clock {
        let _ = write!(line, " ({}s of {}s)", elapsed.as_secs(), wait.as_secs());
    }
    line
}

/// The human table of containers not started yet, with how long each has waited.
pub fn render_pending(pending: &[Pending], now: Timestamp, style: Style) -> String {
    if pending.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = pending
        .iter()
        .take(MAX_ROWS)
        .map(|p| {
            let age = p
                .since
                .as_deref()
                .and_then(|s| s.parse::<Timestamp>().ok())
                .map_or_else(|| "-".to_string(), |t| age(now, t));
            let similar = match p.similar_on_node.as_slice() {
                [] => "nothing similar".to_string(),
                [one] => one.clone(),
                [one, rest @ ..] => format!("{one} (+{})", rest.len()),
            };
            vec![
                p.namespace.clone(),
                p.pod.clone().unwrap_or_else(|| format!("({})", p.workload)),
                if p.init_container {
                    format!("{} (init)", p.container)
                } else {
                    p.container.clone()
                },
                p.image.clone(),
                p.reason.clone(),
                age,
                similar,
            ]
        })
        .collect();
    let mut out = format!(
        "{}\n",
        style.bold(&format!("Not started yet ({}):", pending.len()))
    );
    out.push_str(&table(
        &[
            "NAMESPACE",
            "POD",
            "CONTAINER",
            "IMAGE",
            "WAITING",
            "FOR",
            "NODE HOLDS",
        ],
        &rows,
        style,
        |col, s| {
            if col == 4 {
                style.yellow(s)
            } else {
                s.to_string()
            }
        },
    ));
    if pending.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "… and {} more (`diagnose --json` lists them all).",
            pending.len() - MAX_ROWS
        );
    }
    out
}

/// kubectl's AGE style (`45s`, `3m`, `5h`, `2d`), as the dashboard shows it.
fn age(now: Timestamp, since: Timestamp) -> String {
    crate::tui::format::age(now.as_second().saturating_sub(since.as_second()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(pod: Option<&str>, reason: &str, since: &str) -> Pending {
        Pending {
            namespace: "shop".into(),
            workload: "Deployment/cart".into(),
            pod: pod.map(String::from),
            container: "cart".into(),
            init_container: false,
            image: "localhost/shop/cart:1.2.0".into(),
            node: Some("healthy-worker".into()),
            reason: reason.into(),
            since: Some(since.into()),
            similar_on_node: vec!["localhost/shop/cart:1.2.0".into(), "x:1".into()],
        }
    }

    #[test]
    fn wait_durations_parse_like_go_and_bad_ones_name_the_flag() {
        let ok = [
            ("30s", 30.0),
            ("2m", 120.0),
            ("1m30s", 90.0),
            ("500ms", 0.5),
            ("1h", 3600.0),
            ("0s", 0.0),
            ("1.5s", 1.5),
        ];
        for (s, secs) in ok {
            assert_eq!(parse_wait(s).map(|d| d.as_secs_f64()), Ok(secs), "{s}");
        }
        for s in ["", "30", "abc", "3x", "s", "-1s", "1..2s", "25h"] {
            let e = parse_wait(s).expect_err(s);
            assert_eq!(e.code, exit::USAGE, "{s}");
            assert!(e.message.starts_with("--wait"), "{s}: {}", e.message);
            assert_eq!(
                e.message.matches(". ").count(),
                0,
                "one sentence: {}",
                e.message
            );
        }
    }

    #[test]
    fn exit_codes_order_findings_over_pending_over_healthy() {
        let mut r = Report {
            context: "kind-x".into(),
            healthy: true,
            findings: vec![],
            pending: vec![],
        };
        assert_eq!(exit_code(&r), exit::OK);
        r.pending.push(pending(
            Some("cart-1"),
            "ContainerCreating",
            "2026-12-01T22:00:00Z",
        ));
        assert_eq!(exit_code(&r), exit::PENDING);
    }

    #[test]
    fn pending_table_shows_reason_age_and_what_the_node_holds() {
        let now: Timestamp = "2026-12-01T22:02:05Z".parse().expect("time");
        let text = render_pending(
            &[
                pending(Some("cart-1"), "ContainerCreating", "2026-12-01T22:01:53Z"),
                pending(None, "PodNotCreated", "2026-12-01T21:00:00Z"),
            ],
            now,
            Style::PLAIN,
        );
        assert!(text.starts_with("Not started yet (2):\n"), "{text}");
        let row = text.lines().find(|l| l.contains("cart-1")).expect("row");
        assert!(
            row.contains("ContainerCreating  12s  localhost/shop/cart:1.2.0 (+1)"),
            "{row}"
        );
        let row = text
            .lines()
            .find(|l| l.contains("PodNotCreated"))
            .expect("row");
        assert!(
            row.contains("(Deployment/cart)") && row.contains(" 62m "),
            "{row}"
        );
    }

    #[test]
    fn progress_line_names_the_first_pods() {
        let p: Vec<Pending> = (0..5)
            .map(|i| pending(Some(&format!("cart-{i}")), "ContainerCreating", "x"))
            .collect();
        let line = progress_line(&p, Some((Duration::from_secs(4), Duration::from_secs(30))));
        assert!(
            line.starts_with("5 containers not started yet: shop/cart-0 cart (ContainerCreating),"),
            "{line}"
        );
        assert!(line.ends_with(", … (4s of 30s)"), "{line}");
        assert!(
            !progress_line(&p[..1], None).contains("of"),
            "plain lines carry no clock"
        );
    }
}
