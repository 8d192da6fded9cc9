//! `kindscope snapshot -o FILE`: write a triage bundle (crate::bundle) of the cluster as it is
//! now — node images from the API and, on a Kind cluster, from the node containers' runtime.
//!
//! The cluster is read with one list per resource (a bundle is one moment; no watch needed).

use std::path::Path;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::bundle::Bundle;
use crate::cli::{Cli, SnapshotArgs};
use crate::cluster::node_images::{capped_note, runtime_note};
use crate::cluster::runtime_feed::{refresh_snapshot, select_for};
use crate::config::Config;
use crate::diagnose::{Finding, diagnose};
use crate::error::{CliError, CmdResult, exit};
use crate::model::{ResourceState, Snapshot};

pub async fn run(cli: &Cli, args: &SnapshotArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    let (client, context, server) = connect(cli).await?;
    let namespace = cli.conn.namespace.clone();
    let (mut snap, version) = read_cluster(&client, &context, &server, namespace).await?;
    if let Some(sel) = select_for(&context, &server, cli.conn.runtime, &config).await
        && let Some(rt) = &sel.runtime
    {
        refresh_snapshot(&mut snap, rt, config.timeouts.runtime_exec()).await;
    }
    if let Some(note) = runtime_note(&snap.node_images).or_else(|| capped_note(&snap.node_images)) {
        eprintln!("kindscope: {note}");
    }
    let findings = diagnose(&snap);
    let bytes = write_bundle(&snap, &findings, version, &args.output).await?;
    println!(
        "wrote {} ({} nodes, {} pods, {} findings, {bytes} bytes)",
        args.output.display(),
        snap.nodes.len(),
        snap.pods.len(),
        findings.len()
    );
    Ok(exit::OK)
}

/// Build the redacted bundle for `snapshot` and write it to `path` (gzip when it ends in `.gz`).
/// Returns the number of bytes written.
pub async fn write_bundle(
    snapshot: &Snapshot,
    findings: &[Finding],
    kubernetes_version: Option<String>,
    path: &Path,
) -> Result<u64, CliError> {
    let bundle = Bundle::from_snapshot(snapshot, findings, kubernetes_version, chrono::Utc::now());
    let path = path.to_path_buf();
    // Serialising and compressing thousands of objects is CPU work; keep it off the reactor.
    tokio::task::spawn_blocking(move || bundle.write(&path))
        .await
        .map_err(|e| CliError::usage(format!("writing the bundle was interrupted: {e}")))?
        .map_err(|e| CliError::usage(e.0))
}

/// A client for the chosen kubeconfig context.
// Interim: replaced by `crate::cluster::connect::connect` once the cluster edge lands.
async fn connect(cli: &Cli) -> Result<(kube::Client, String, String), CliError> {
    let kc = match &cli.conn.kubeconfig {
        Some(p) => Kubeconfig::read_from(p).map_err(|e| {
            CliError::usage(format!(
                "cannot read the kubeconfig {}: {e}; check --kubeconfig",
                p.display()
            ))
        })?,
        None => Kubeconfig::read().map_err(|e| {
            CliError::usage(format!(
                "cannot read a kubeconfig ($KUBECONFIG or ~/.kube/config): {e}; pass --kubeconfig"
            ))
        })?,
    };
    let context = cli
        .conn
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .ok_or_else(|| {
            CliError::usage("the kubeconfig names no current context; pass --context NAME")
        })?;
    let opts = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| {
            CliError::usage(format!(
                "cannot use context {context} from the kubeconfig: {e}"
            ))
        })?;
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config)
        .map_err(|e| CliError::cluster(format!("cannot build a client for {context}: {e}")))?;
    Ok((client, context, server))
}

async fn list<K>(api: Api<K>, what: &str, context: &str) -> Result<Vec<Arc<K>>, CliError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list(&ListParams::default())
        .await
        .map(|l| l.items.into_iter().map(Arc::new).collect())
        .map_err(|e| CliError::cluster(format!("cannot list {what} on {context}: {e}")))
}

/// One list of each resource; node images from the API view.
async fn read_cluster(
    client: &kube::Client,
    context: &str,
    server: &str,
    namespace: Option<String>,
) -> Result<(Snapshot, Option<String>), CliError> {
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| {
            CliError::cluster(format!(
                "cannot reach the API server of {context} at {server}: {e}"
            ))
        })?
        .git_version;
    let ns = |c: &kube::Client| -> (Api<Pod>, Api<Deployment>, Api<ReplicaSet>, Api<Event>) {
        match &namespace {
            Some(n) => (
                Api::namespaced(c.clone(), n),
                Api::namespaced(c.clone(), n),
                Api::namespaced(c.clone(), n),
                Api::namespaced(c.clone(), n),
            ),
            None => (
                Api::all(c.clone()),
                Api::all(c.clone()),
                Api::all(c.clone()),
                Api::all(c.clone()),
            ),
        }
    };
    let (pods, deps, rss, evs) = ns(client);
    let nodes = list(Api::<Node>::all(client.clone()), "nodes", context).await?;
    let pods = list(pods, "pods", context).await?;
    let deployments = list(deps, "deployments", context).await?;
    let replicasets = list(rss, "replicasets", context).await?;
    // Events only add evidence; a forbidden or failing list leaves them out.
    let (events, events_state) = match list(evs, "events", context).await {
        Ok(e) => (e, ResourceState::Live),
        Err(e) => (Vec::new(), ResourceState::Forbidden { reason: e.message }),
    };
    let node_images = nodes
        .iter()
        .map(|n| {
            let imgs = Snapshot::api_node_images(n);
            (imgs.node.clone(), imgs)
        })
        .collect();
    let mut resources: std::collections::BTreeMap<String, ResourceState> =
        ["nodes", "pods", "deployments", "replicasets"]
            .into_iter()
            .map(|r| (r.to_string(), ResourceState::Live))
            .collect();
    resources.insert("events".into(), events_state);
    let snap = Snapshot {
        context: context.to_string(),
        server: server.to_string(),
        namespace,
        nodes,
        node_images,
        pods,
        deployments,
        replicasets,
        events,
        resources,
    };
    Ok((snap, Some(version)))
}
