//! The dashboard's real backend against the full sim over HTTP: a fix is applied, journalled
//! and followed to Running with progress; an undo goes back; a stale plan is refused (422) and
//! reported, never retried; a namespace switch hands over a new feed.

use std::sync::Arc;
use std::time::Duration;

use kindscope::cluster::journal::{self, Action};
use kindscope::diagnose::diagnose;
use kindscope::model::{ResourceState, Snapshot};
use kindscope::sim::SimOptions;
use kindscope::tui::cluster_service::{FeedSource, ServiceOptions};
use kindscope::tui::{ClusterPort, FollowOutcome, PortEvent, Request};
use tokio::sync::mpsc;

use crate::support::feed::until_within;
use crate::support::sim::{TestSim, connect_to, service};

const WAIT: Duration = Duration::from_secs(60);

async fn next(rx: &mut mpsc::UnboundedReceiver<PortEvent>) -> PortEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("the backend reports in time")
        .expect("the backend's sink is open")
}

/// Events until the rollout of this request ends: (progress lines, outcome).
async fn until_done(rx: &mut mpsc::UnboundedReceiver<PortEvent>) -> (Vec<String>, FollowOutcome) {
    let mut progress = Vec::new();
    loop {
        match next(rx).await {
            PortEvent::Rollout { message, .. } => progress.push(message),
            PortEvent::RolloutDone { outcome, .. } => return (progress, outcome),
            PortEvent::ApplyFailed { message, .. } => panic!("refused: {message}"),
            PortEvent::Notice(n) => panic!("unexpected notice: {n}"),
            // Acceptance, feeds, journal reads and views: not about the rollout.
            _ => {}
        }
    }
}

async fn wait_for(
    rx: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    what: &str,
    ok: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    until_within(rx, WAIT, what, ok).await
}

// The journal's directory is passed in, never set in the environment the tests share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_undo_conflict_and_namespace_switch() {
    let TestSim {
        sim,
        dir,
        kubeconfig,
    } = TestSim::start(
        &kindscope::sim::scenario::embedded_default(),
        SimOptions {
            // Slow enough that a rollout (its sandbox alone takes 0.5 s simulated) outlasts any
            // stall of the backend between the patch and its first look at the feed: at speed
            // 20 the whole rollout took ~50 ms, and one that is over before the first look
            // reports no progress at all.
            speed: 2.0,
            ..SimOptions::default()
        },
    )
    .await;
    let journal = journal::Journal::at(dir.path());
    let conn = connect_to(&kubeconfig).await;
    let mut backend = service(
        conn,
        FeedSource::api_only(),
        ServiceOptions {
            write: Ok(()),
            rollout_timeout: Duration::from_secs(30),
            journal: Some(journal.clone()),
            contexts: None,
        },
    );
    let mut snaps = backend.snapshots();
    let snap = wait_for(&mut snaps, "the datastorage finding", |s| {
        diagnose(s)
            .iter()
            .any(|f| f.workload == "Deployment/datastorage")
    })
    .await;
    let finding = diagnose(&snap)
        .into_iter()
        .find(|f| f.workload == "Deployment/datastorage")
        .expect("finding");
    let plan = kindscope::diagnose::plan(&finding, &snap).expect("a plan");
    let (tx, mut rx) = mpsc::unbounded_channel();

    // Fix: accepted, journalled, followed with progress to Running.
    backend.submit(Request::Apply(plan.clone()), &tx);
    assert!(matches!(
        next(&mut rx).await,
        PortEvent::Applied { undo: false, .. }
    ));
    let (progress, outcome) = until_done(&mut rx).await;
    assert_eq!(outcome, FollowOutcome::Running, "progress: {progress:?}");
    assert!(!progress.is_empty(), "the rollout reports progress");
    let entries = journal.entries().expect("journal");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, Action::Fix);
    assert_eq!(entries[0].plan, plan);

    // The same plan again is stale: its guard fails (422), reported once, nothing retried.
    backend.submit(Request::Apply(plan.clone()), &tx);
    match next(&mut rx).await {
        PortEvent::ApplyFailed { message, undo, .. } => {
            assert!(!undo);
            assert!(message.contains("changed since this plan"), "{message}");
            assert!(message.contains("nothing was changed"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "nothing follows a refusal"
    );
    assert_eq!(journal.entries().expect("journal").len(), 1);

    // Undo: the old image is back, and so is the kubelet's refusal to run it.
    backend.submit(Request::Undo(plan.clone()), &tx);
    assert!(matches!(
        next(&mut rx).await,
        PortEvent::Applied { undo: true, .. }
    ));
    let (_, outcome) = until_done(&mut rx).await;
    match outcome {
        FollowOutcome::Failed(reason) => assert!(reason.contains("ErrImageNeverPull"), "{reason}"),
        FollowOutcome::Running => panic!("the old image cannot run"),
    }
    let entries = journal.entries().expect("journal");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].action, Action::Undo);
    assert_eq!(entries[1].undoes.as_ref(), Some(&entries[0].id));

    // A namespace switch hands over a feed of that namespace only.
    backend.submit(Request::SwitchNamespace(Some("kube-system".into())), &tx);
    let PortEvent::Feed(mut narrowed) = next(&mut rx).await else {
        panic!("a namespace switch answers with a feed");
    };
    // Each resource has its own watch: wait until pods and nodes have both finished their
    // first list, or an empty node list could be a list still in flight.
    let snap = wait_for(&mut narrowed, "kube-system pods and nodes listed", |s| {
        let live = |r: &str| s.resources.get(r) == Some(&ResourceState::Live);
        live("pods") && live("nodes") && !s.pods.is_empty()
    })
    .await;
    assert_eq!(snap.namespace.as_deref(), Some("kube-system"));
    assert!(
        snap.pods
            .iter()
            .all(|p| p.metadata.namespace.as_deref() == Some("kube-system"))
    );
    assert!(!snap.nodes.is_empty(), "nodes stay cluster-wide");

    drop(backend);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_guard_never_sends() {
    let TestSim {
        sim,
        dir: _dir,
        kubeconfig,
    } = TestSim::gateway_debug().await;
    let mut backend = service(
        connect_to(&kubeconfig).await,
        FeedSource::api_only(),
        ServiceOptions {
            write: Err("writes are disabled by --read-only".into()),
            rollout_timeout: Duration::from_secs(5),
            journal: None,
            contexts: None,
        },
    );
    let before = sim
        .store
        .get(&kindscope::sim::store::DEPLOYMENTS, "default", "gateway")
        .expect("deployment");
    let plan = kindscope::fix::FixPlan {
        target: kindscope::fix::Target {
            kind: "Deployment".into(),
            namespace: "default".into(),
            name: "gateway".into(),
        },
        container: "gateway".into(),
        patch: serde_json::json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]),
        undo: serde_json::json!([]),
        image_before: String::new(),
        image_after: String::new(),
        pull_policy_before: None,
        pull_policy_after: None,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    backend.submit(Request::Apply(plan), &tx);
    match next(&mut rx).await {
        PortEvent::ApplyFailed { message, .. } => assert!(message.contains("--read-only")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let after = sim
        .store
        .get(&kindscope::sim::store::DEPLOYMENTS, "default", "gateway")
        .expect("deployment");
    assert_eq!(
        before["metadata"]["resourceVersion"],
        after["metadata"]["resourceVersion"]
    );
    drop(backend);
    sim.shutdown().await;
}
