//! `kindscope diagnose`: connect, wait for the first full lists, diagnose, print, stop.
//! Exit 0 healthy, 1 findings (DESIGN §3.1); `--json` prints the `Report` of DESIGN §3.2.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::{Cli, DiagnoseArgs};
use crate::cluster::{connect, watch};
use crate::diagnose::{Report, diagnose};
use crate::error::{CliError, CmdResult, exit};
use crate::model::Snapshot;

use super::output::{Style, render_report};

/// How long the first lists of every resource may take.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(cli: &Cli, args: &DiagnoseArgs) -> CmdResult {
    let conn = connect::connect(&cli.conn).await?;
    let feed = watch::start(&conn);
    let snap = feed.ready(READY_TIMEOUT).await?;
    drop(feed);
    let report = report(&snap);
    if args.json {
        println!("{}", to_json(&report)?);
    } else {
        print!("{}", render_report(&report, &snap, Style::stdout()));
    }
    Ok(if report.healthy {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

/// The report of one snapshot.
pub fn report(snap: &Arc<Snapshot>) -> Report {
    let findings = diagnose(snap);
    Report {
        context: snap.context.clone(),
        healthy: findings.is_empty(),
        findings,
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|e| CliError::usage(format!("cannot print the result as JSON: {e}")))
}
