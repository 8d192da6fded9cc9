//! Outages and a hung apiserver, with `kindscope sim serve` as the cluster: the feed is live
//! again soon after the server answers, without a ghost of the old cluster, and a stopped
//! server reads as stale with the time of its last word, not as live.
//!
//! The retry policy after a 120 s outage is checked on a virtual clock by its own tests
//! (`cluster::retry`); here a short real outage with a rebuilt cluster drives the same code
//! end to end, and `tests/it/tui_e2e/outage.rs` stops the server for the whole 120 s under the
//! real dashboard.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kindscope::cli::ConnectArgs;
use kindscope::cluster::{connect, watch};
use kindscope::model::{ResourceState, Snapshot};
use kindscope::sim::SimOptions;

use crate::support::cli::{ready, sim_serve};

const SPEC: &str = "nodes=2,deployments=6,replicas=2,events=20";

/// A `kindscope sim serve` child; killed when dropped.
struct Served {
    child: Child,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(kubeconfig: &Path) -> Served {
    let mut cmd = sim_serve(kubeconfig);
    cmd.args(["--synthetic", "nodes=2,deployments=6,replicas=2,events=20"]);
    let (child, _) = ready(cmd);
    Served { child }
}

async fn feed(kubeconfig: PathBuf) -> watch::Feed {
    let conn = connect::connect(&ConnectArgs {
        kubeconfig: Some(kubeconfig),
        ..ConnectArgs::default()
    })
    .await
    .expect("connects");
    watch::start(&conn)
}

fn uids<T: kube::Resource>(items: &kindscope::model::ObjectList<T>) -> BTreeSet<String> {
    items.iter().filter_map(|o| o.meta().uid.clone()).collect()
}

fn all_live(s: &Snapshot) -> bool {
    watch::RESOURCES
        .iter()
        .all(|n| s.resources.get(n) == Some(&ResourceState::Live))
}

/// Wait (up to `bound`, a failure bound only) for a snapshot that passes `ok`.
async fn wait_for(
    feed: &watch::Feed,
    bound: Duration,
    what: &str,
    ok: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    crate::support::feed::until_within(&mut feed.snapshots(), bound, what, ok).await
}

// A rebuilt cluster at the same address: new uids, versions from another run. The sim is
// restarted in-process with the first one's TLS identity, so that the kubeconfig the feed
// connected with still fits (after a real `kind create cluster` the kubeconfig is rewritten).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_outage_the_new_cluster_is_live_soon_and_nothing_of_the_old_one_stays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let scenario = kindscope::sim::synthetic::generate(&SPEC.parse().expect("spec"));
    // Not port 0: during the outage an ephemeral port can be taken by an outgoing connection of
    // a test running beside this one, and the restart would find it in use.
    let first = kindscope::sim::start(
        &scenario,
        SimOptions {
            port: crate::support::ports::outside_ephemeral_range(),
            ..SimOptions::default()
        },
    )
    .await
    .expect("sim");
    first.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let port = first.addr().port();
    let feed = feed(kubeconfig.clone()).await;
    let before = wait_for(&feed, Duration::from_secs(30), "live", all_live).await;
    let (old_nodes, old_pods) = (uids(&before.nodes), uids(&before.pods));
    assert!(!old_pods.is_empty());

    let identity_holder = first.identity();
    first.shutdown().await;
    // Long enough for every watcher's back-off to reach its cap.
    tokio::time::sleep(Duration::from_secs(6)).await;
    // Every resource is stale, with the time of the last word (waited for: on a loaded machine
    // a watcher may only now be noticing the outage).
    wait_for(
        &feed,
        Duration::from_secs(30),
        "every resource stale, with the time of the last word",
        |s| {
            watch::RESOURCES.iter().all(|n| {
                matches!(
                    s.resources.get(n),
                    Some(ResourceState::Stale { since: Some(_), .. })
                )
            })
        },
    )
    .await;

    let second = kindscope::sim::start(
        &scenario,
        SimOptions {
            port,
            identity: Some(identity_holder),
            start_resource_version: kindscope::sim::restart::version_base(),
            ..SimOptions::default()
        },
    )
    .await
    .expect("the sim starts again on the same port");
    let back = Instant::now();
    let after = wait_for(
        &feed,
        Duration::from_secs(20),
        "live on the new cluster",
        |s| {
            all_live(s)
                && !s.nodes.is_empty()
                && uids(&s.nodes).is_disjoint(&old_nodes)
                && !s.pods.is_empty()
                && uids(&s.pods).is_disjoint(&old_pods)
        },
    )
    .await;
    let took = back.elapsed();
    eprintln!("live on the new cluster {took:?} after it answered");
    // No ghost: every object comes from the new cluster.
    assert!(uids(&after.pods).is_disjoint(&old_pods));
    assert_eq!(after.nodes.len(), before.nodes.len());
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_reads_as_stale_since_its_last_word_then_live_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let served = serve(&kubeconfig);
    let feed = feed(kubeconfig).await;
    wait_for(&feed, Duration::from_secs(30), "live", all_live).await;

    let pid = served.child.id().to_string();
    let stopped = Command::new("kill").args(["-STOP", &pid]).status();
    assert!(stopped.is_ok_and(|s| s.success()), "SIGSTOP");
    let silent = wait_for(&feed, Duration::from_secs(30), "stale while stopped", |s| {
        watch::RESOURCES.iter().all(|n| {
            matches!(s.resources.get(n), Some(ResourceState::Stale { reason, since: Some(_) })
                if reason.contains("no answer"))
        })
    })
    .await;
    let since = match silent.resources.get("pods") {
        Some(ResourceState::Stale { since: Some(t), .. }) => t.clone(),
        other => panic!("{other:?}"),
    };
    assert!(since.ends_with('Z'), "an RFC 3339 time: {since}");

    let resumed = Command::new("kill").args(["-CONT", &pid]).status();
    assert!(resumed.is_ok_and(|s| s.success()), "SIGCONT");
    wait_for(&feed, Duration::from_secs(30), "live again", all_live).await;
}
