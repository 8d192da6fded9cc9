//! `kindscope diagnose`: connect, wait for the first full lists, diagnose, print, stop.
//! Exit 0 healthy, 1 findings, 4 pods still starting (docs/cli.md); `--json` prints the
//! `Report`. `--wait` follows the feed until everything has started or has a finding.

use std::sync::Arc;

use crate::cli::{Cli, DiagnoseArgs};
use crate::cluster::connect::Connection;
use crate::cluster::runtime::list_node_images;
use crate::cluster::runtime_feed::{RuntimeLists, node_names, select_for};
use crate::cluster::watch;
use crate::config::Config;
use crate::diagnose::report;
use crate::error::{CliError, CmdResult};
use crate::model::Snapshot;
use crate::progress::{self, Progress};

use super::output::{Style, emit, render_report};
use super::starting;

pub async fn run(cli: &Cli, args: &DiagnoseArgs) -> CmdResult {
    let wait = args.wait.as_deref().map(starting::parse_wait).transpose()?;
    let config = Config::load(cli.config.as_deref())?;
    let source_root = super::sources::root(&args.source)?;
    let progress = Progress::stderr();
    let conn = super::connect(&progress, &cli.conn).await?;
    // A report reads only image events; keeping the rest would triple peak memory.
    let feed = watch::start_keeping(&conn, watch::Events::Evidence);
    let snap = progress
        .bounded(
            progress::listing(&conn.context),
            feed.ready(config.timeouts.connect()),
        )
        .await?;
    let lists = runtime_lists(cli, &config, &conn, &snap).await;
    let (snap, mut report) = match wait {
        Some(wait) => {
            let (snap, report) = starting::until_started(&feed, lists.as_ref(), wait).await?;
            if !report.pending.is_empty() {
                super::output::eprint_safe(&format!(
                    "kindscope: {} container{} still not started after --wait {}.\n",
                    report.pending.len(),
                    if report.pending.len() == 1 { "" } else { "s" },
                    args.wait.as_deref().unwrap_or_default().trim()
                ));
            }
            (snap, report)
        }
        None => {
            let snap = with_runtime(&snap, lists.as_ref());
            let report = report(&snap);
            (snap, report)
        }
    };
    drop(feed);
    if let Some(note) = super::sources::attach(&mut report.findings, source_root.as_deref()).await {
        super::output::eprint_safe(&format!("kindscope: {note}\n"));
    }
    if args.json {
        emit(&format!("{}\n", to_json(&report)?))?;
        // Keep stdout pure JSON; what qualifies the result (a capped node list, a forbidden
        // resource) still reaches the reader.
        super::output::eprint_safe(
            super::output::render_notes(&snap, Style::stderr()).trim_start(),
        );
    } else {
        emit(&render_report(&report, &snap, Style::stdout()))?;
    }
    Ok(starting::exit_code(&report))
}

/// The cluster as the feed first lists it, with the runtime's node image lists merged in.
/// A report reads only image events; keeping the rest would triple peak memory.
pub(crate) async fn read_once(
    cli: &Cli,
    config: &Config,
    conn: &Connection,
) -> Result<Arc<Snapshot>, CliError> {
    let feed = watch::start_keeping(conn, watch::Events::Evidence);
    let snap = feed.ready(config.timeouts.connect()).await?;
    drop(feed);
    let lists = runtime_lists(cli, config, conn, &snap).await;
    Ok(with_runtime(&snap, lists.as_ref()))
}

/// List every node's images through the container runtime once, when the context is a Kind
/// cluster (or `--runtime`/config asks for it); `None` when no runtime is to be asked.
pub(crate) async fn runtime_lists(
    cli: &Cli,
    config: &Config,
    conn: &Connection,
    snap: &Snapshot,
) -> Option<Arc<RuntimeLists>> {
    let selection = select_for(&conn.context, &conn.server, cli.conn.runtime, config).await?;
    let rt = selection.runtime?;
    let nodes = node_names(snap);
    let listings = Progress::stderr()
        .during(
            progress::reading_images(nodes.len(), rt.name()),
            list_node_images(&rt, &nodes, config.timeouts.runtime_exec()),
        )
        .await;
    Some(Arc::new(RuntimeLists {
        runtime: rt.name().to_string(),
        listings,
    }))
}

/// The snapshot with runtime listings merged into its node images (nodes do not change while
/// a command runs, so one listing serves every snapshot of the run).
pub(crate) fn with_runtime(
    snap: &Arc<Snapshot>,
    lists: Option<&Arc<RuntimeLists>>,
) -> Arc<Snapshot> {
    match lists {
        Some(lists) => {
            let mut merged = Snapshot::clone(snap);
            merged.node_images = watch::assemble_node_images(&merged.nodes, Some(lists));
            Arc::new(merged)
        }
        None => snap.clone(),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(crate::sanitize::json)
        .map_err(|e| CliError::usage(format!("cannot print the result as JSON: {e}")))
}
