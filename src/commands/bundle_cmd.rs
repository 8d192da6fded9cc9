//! `kindscope snapshot -o FILE`: write a triage bundle (crate::bundle) of the cluster as it is
//! now — node images from the API and, on a Kind cluster, from the node containers' runtime.
//!
//! The cluster is read through the same watch feed as every other command, up to its first
//! complete lists (a bundle is one moment).

use std::path::Path;

use crate::bundle::Bundle;
use crate::cli::{Cli, SnapshotArgs};
use crate::cluster::connect::Connection;
use crate::cluster::node_images::{capped_note, runtime_note};
use crate::config::Config;
use crate::diagnose::{Finding, diagnose};
use crate::error::{CliError, CmdResult, exit};
use crate::model::Snapshot;

pub async fn run(cli: &Cli, args: &SnapshotArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    let progress = crate::progress::Progress::stderr();
    let conn = super::connect(&progress, &cli.conn).await?;
    // Every event (a bundle keeps the whole history), node images through the runtime too.
    let (feed, snap) = super::diagnose::open_feed(
        cli,
        &config,
        &conn,
        crate::cluster::session::Events::All,
        &progress,
        config.timeouts.connect(),
    )
    .await?;
    drop(feed);
    let version = server_version(&conn).await;
    if let Some(note) = runtime_note(&snap.node_images).or_else(|| capped_note(&snap.node_images)) {
        super::output::eprint_safe(&format!("kindscope: {}\n", crate::sanitize::term(&note)));
    }
    let findings = diagnose(&snap);
    let options = crate::bundle::redact::Options {
        include_args: args.include_args,
        include_annotations: args.include_annotations,
    };
    let bytes = write_bundle(&snap, &findings, version, &args.output, options).await?;
    super::output::emit(&format!(
        "wrote {} ({} nodes, {} pods, {} findings, {bytes} bytes)\n",
        crate::sanitize::term(&args.output.display().to_string()),
        snap.nodes.len(),
        snap.pods.len(),
        findings.len()
    ))?;
    Ok(exit::OK)
}

/// Build the redacted bundle for `snapshot` and write it to `path` (gzip when it ends in `.gz`).
/// Returns the number of bytes written.
pub async fn write_bundle(
    snapshot: &Snapshot,
    findings: &[Finding],
    kubernetes_version: Option<String>,
    path: &Path,
    options: crate::bundle::redact::Options,
) -> Result<u64, CliError> {
    let bundle = Bundle::from_snapshot_with(
        snapshot,
        findings,
        kubernetes_version,
        jiff::Timestamp::now(),
        options,
    );
    let path = path.to_path_buf();
    // Serialising and compressing thousands of objects is CPU work; keep it off the reactor.
    tokio::task::spawn_blocking(move || bundle.write(&path))
        .await
        .map_err(|e| CliError::usage(format!("writing the bundle was interrupted: {e}")))?
        .map_err(|e| CliError::usage(e.0))
}

/// The API server's version for a bundle. The connection was probed a moment ago; a version
/// that cannot be read now is only left out.
pub(crate) async fn server_version(conn: &Connection) -> Option<String> {
    conn.client
        .apiserver_version()
        .await
        .ok()
        .map(|v| v.git_version)
}
