//! Waiting on a snapshot feed.

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
    let (conn, dir) = connect_to(&sim).await;
    (sim, conn, dir)
}

/// A connection to a running sim (the temp dir holds its kubeconfig).
pub async fn connect_to(
    sim: &kindscope::sim::RunningSim,
) -> (kindscope::cluster::connect::Connection, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let conn = kindscope::cluster::connect::connect(&kindscope::cli::ConnectArgs {
        kubeconfig: Some(kubeconfig),
        ..kindscope::cli::ConnectArgs::default()
    })
    .await
    .expect("connects");
    (conn, dir)
}
