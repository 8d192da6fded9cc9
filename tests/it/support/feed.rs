//! Waiting on a snapshot feed, and telling when its pods have settled.

use std::sync::Arc;
use std::time::Duration;

use kindscope::model::Snapshot;

/// Wait (on snapshot changes, up to `bound`: a failure bound only) for a snapshot that
/// satisfies `pred`.
pub async fn until_within(
    rx: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    bound: Duration,
    what: &str,
    pred: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        let snap = rx.borrow_and_update().clone();
        if pred(&snap) {
            return snap;
        }
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; last: {:?}", snap.resources))
            .expect("feed alive");
    }
}

/// Every live pod's containers run or wait for a reason that will not change by itself (not
/// still being created). True of a snapshot without pods.
pub fn pods_settled(s: &Snapshot) -> bool {
    s.pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .all(|p| {
            let want = p.spec.as_ref().map_or(0, |s| s.containers.len());
            let statuses = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref());
            statuses.is_some_and(|cs| {
                cs.len() == want
                    && cs.iter().all(|c| {
                        c.state.as_ref().is_some_and(|st| {
                            st.running.is_some()
                                || st.waiting.as_ref().is_some_and(|w| {
                                    !matches!(
                                        w.reason.as_deref(),
                                        None | Some("ContainerCreating" | "PodInitializing")
                                    )
                                })
                        })
                    })
            })
        })
}

/// A scenario file run by the sim at 50× speed, with a connection to it (the temp dir holds
/// its kubeconfig).
pub async fn scenario_sim(
    path: &std::path::Path,
) -> (
    kindscope::sim::RunningSim,
    kindscope::cluster::connect::Connection,
    tempfile::TempDir,
) {
    let scenario = kindscope::sim::scenario::load_file(path).expect("scenario loads");
    let sim = kindscope::sim::start(
        &scenario,
        kindscope::sim::SimOptions {
            speed: 50.0,
            ..kindscope::sim::SimOptions::default()
        },
    )
    .await
    .expect("sim starts");
    let (conn, dir) = connect_sim(&sim).await;
    (sim, conn, dir)
}

/// A connection to a running sim (the temp dir holds its kubeconfig).
pub async fn connect_sim(
    sim: &kindscope::sim::RunningSim,
) -> (kindscope::cluster::connect::Connection, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    (super::sim::connect_to(&kubeconfig).await, dir)
}
