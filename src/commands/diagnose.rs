//! `kindscope diagnose`: connect, wait for the first full lists, diagnose, print, stop.
//! Exit 0 healthy, 1 findings, 4 pods still starting (docs/cli.md); `--json` prints the
//! `Report`. `--wait` follows the feed until everything has started or has a finding.

use std::sync::Arc;

use crate::cli::{Cli, DiagnoseArgs};
use crate::cluster::connect::Connection;
use crate::cluster::oneshot;
use crate::cluster::runtime::list_node_images;
use crate::cluster::runtime_feed::{RuntimeLists, node_names, select_for};
use crate::cluster::session::{self, Events, Feed, FeedOptions, RuntimeSource};
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
    let (snap, mut report) = match wait {
        Some(wait) => {
            // A report reads only image events; keeping the rest would triple peak memory.
            let (feed, _) = open_feed(
                cli,
                &config,
                &conn,
                Events::Evidence,
                &progress,
                config.timeouts.connect(),
            )
            .await?;
            let (snap, report) = starting::until_started(&feed, wait).await?;
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
            let snap = read_once(cli, &config, &conn).await?;
            let report = report(&snap);
            (snap, report)
        }
    };
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
    let code = starting::exit_code(&report);
    // The process ends next: freeing 5,000 pods object by object took longer than the
    // diagnosis (docs/performance.md); the exit gives the memory back at once.
    std::mem::forget((snap, report));
    Ok(code)
}

/// The cluster as the feed first lists it, with the runtime's node image lists merged in,
/// read once without watches ([`oneshot`]). A report reads only image events; keeping the
/// rest would triple peak memory.
pub(crate) async fn read_once(
    cli: &Cli,
    config: &Config,
    conn: &Connection,
) -> Result<Arc<Snapshot>, CliError> {
    let progress = Progress::stderr();
    let runtime = runtime_source(cli, config, conn).await;
    let snap = progress
        .bounded(
            progress::listing(&conn.context),
            oneshot::read(conn, Events::Evidence, config.timeouts.connect()),
        )
        .await?;
    let Some(source) = runtime else {
        return Ok(snap);
    };
    let names = node_names(&snap);
    let bound = images_bound(config, names.len());
    let listed = progress
        .during(
            progress::reading_images(names.len(), source.runtime.name()),
            tokio::time::timeout(
                bound,
                list_node_images(&source.runtime, &names, source.per_node),
            ),
        )
        .await;
    // Past the bound (a wedged runtime) the API's images stay, as the feed leaves them.
    Ok(match listed {
        Ok(listings) => oneshot::with_runtime_images(
            &snap,
            &RuntimeLists {
                runtime: source.runtime.name().to_string(),
                listings,
            },
        ),
        Err(_) => snap,
    })
}

/// The container runtime to read node images from: on a Kind context, or when `--runtime` or
/// the config asks.
async fn runtime_source(cli: &Cli, config: &Config, conn: &Connection) -> Option<RuntimeSource> {
    select_for(&conn.context, &conn.server, cli.conn.runtime, config)
        .await
        .and_then(|s| s.runtime)
        .map(|runtime| RuntimeSource {
            runtime,
            per_node: config.timeouts.runtime_exec(),
        })
}

/// How long every node's runtime listing may take: they run a few at a time, each bounded by
/// the exec timeout.
fn images_bound(config: &Config, nodes: usize) -> std::time::Duration {
    config.timeouts.runtime_exec() * (nodes as u32 + 2)
}

/// Start the one feed for a command: node images also from the container runtime on a Kind
/// context (or when `--runtime`/config asks), and wait until every required list is in and
/// every node's runtime listing is merged. Returns the feed (commands that follow the cluster
/// keep reading it) and that first complete snapshot.
pub(crate) async fn open_feed(
    cli: &Cli,
    config: &Config,
    conn: &Connection,
    events: Events,
    progress: &Progress,
    ready: std::time::Duration,
) -> Result<(Feed, Arc<Snapshot>), CliError> {
    let runtime = runtime_source(cli, config, conn).await;
    let name = runtime.as_ref().map(|r| r.runtime.name());
    let feed = session::feed(conn, FeedOptions { events, runtime });
    let snap = progress
        .bounded(progress::listing(&conn.context), feed.ready(ready))
        .await?;
    let Some(name) = name else {
        return Ok((feed, snap));
    };
    let nodes = snap.nodes.len();
    let bound = images_bound(config, nodes);
    let snap = progress
        .during(
            progress::reading_images(nodes, name),
            feed.node_images_ready(bound),
        )
        .await;
    Ok((feed, snap))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(crate::sanitize::json)
        .map_err(|e| CliError::usage(format!("cannot print the result as JSON: {e}")))
}
