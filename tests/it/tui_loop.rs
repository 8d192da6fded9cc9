//! The event loop end to end, in process: a TestBackend terminal, scripted input events, a
//! snapshot watch channel and the fake backend. The loop runs on tokio timers, so the tests
//! without a real cluster run on paused time (every wait below is the loop's own time, not the
//! machine's).

use crate::support::tui_fixtures;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::support::fake_port::FakePort;
use crossterm::event::{Event, KeyCode, KeyEvent};
use kindscope::model::Snapshot;
use kindscope::tui::{Pane, Request, run_with};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream_shim::ReceiverStream;
use tui_fixtures::*;

/// A tiny Stream over an mpsc receiver (avoids a tokio-stream dependency).
mod tokio_stream_shim {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct ReceiverStream<T>(pub tokio::sync::mpsc::UnboundedReceiver<T>);

    impl<T> futures::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}

fn key(c: char) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::from(KeyCode::Char(c))))
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

struct Harness {
    keys: mpsc::UnboundedSender<io::Result<Event>>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    backend: FakePort,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<kindscope::tui::App>>,
}

fn start(first: Snapshot, width: u16, height: u16) -> Harness {
    let (keys, key_rx) = mpsc::unbounded_channel();
    let (snapshots, snap_rx) = watch::channel(Arc::new(first));
    let backend = FakePort::default();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let b = backend.clone();
    let task = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        let shutdown = async {
            let _ = stop_rx.await;
        };
        run_with(
            &mut terminal,
            ReceiverStream(key_rx),
            snap_rx,
            b,
            options(kind_write()),
            shutdown,
        )
        .await
    });
    Harness {
        keys,
        snapshots,
        backend,
        stop: Some(stop),
        task,
    }
}

#[tokio::test(start_paused = true)]
async fn fix_flow_through_the_loop() {
    let h = start(gateway_debug(), 120, 30);
    h.keys.send(key('f')).expect("loop alive");
    h.keys.send(key('y')).expect("loop alive");
    let requests = h.backend.requests.clone();
    wait_for("the apply request", || {
        requests.lock().map(|r| !r.is_empty()).unwrap_or(false)
    })
    .await;
    // The cluster follows: datastorage now asks for the node's name.
    let mut fixed = gateway_debug();
    let text = serde_json::to_string(&**fixed.deployments.first().expect("a deployment"))
        .expect("serialise");
    let text = text.replace(
        "\"kubernaut/datastorage:debug\"",
        "\"localhost/kubernaut/datastorage:debug\"",
    );
    // Same name: replaces the old one.
    fixed
        .deployments
        .insert(Arc::new(serde_json::from_str(&text).expect("deserialise")));
    h.snapshots.send(Arc::new(fixed)).expect("loop alive");
    h.keys.send(key('q')).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    let requests = requests.lock().expect("lock").clone();
    let [Request::Apply(plan)] = requests.as_slice() else {
        panic!("exactly one apply: {requests:?}");
    };
    assert_eq!(plan.image_after, "localhost/kubernaut/datastorage:debug");
    assert_eq!(app.last_fix.as_ref(), Some(plan));
    assert!(app.quit);
    // The rollout ended in Running: the selection moved on to the next finding, and the fixed
    // snapshot no longer has the datastorage finding.
    assert_eq!(app.focus, Pane::Workloads);
    let (key, _) = app.selected_workload().expect("selection");
    assert_eq!(key.name, "gateway");
    assert_eq!(app.view.findings.len(), 1);
    drop(h.stop);
}

#[tokio::test(start_paused = true)]
async fn shutdown_signal_ends_the_loop() {
    let mut h = start(gateway_debug(), 80, 24);
    h.stop.take().expect("stop").send(()).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    assert!(!app.quit, "ended by the signal, not by q");
    assert!(app.loaded);
}

#[tokio::test(start_paused = true)]
async fn a_closed_feed_keeps_the_last_data() {
    let h = start(gateway_debug(), 80, 24);
    drop(h.snapshots);
    // Ask for help so that we know the loop went round after the feed closed.
    h.keys.send(key('?')).expect("loop alive");
    h.keys.send(key('q')).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    assert!(app.feed_closed);
    assert!(app.banner().is_some());
    assert_eq!(app.view.pods.len(), 3, "the last data stays");
    drop(h.stop);
}

#[tokio::test(start_paused = true)]
async fn an_empty_placeholder_is_not_shown_as_data() {
    let h = start(Snapshot::default(), 80, 24);
    h.keys.send(key('q')).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    assert!(!app.loaded);
    drop((h.stop, h.snapshots));
}

/// Let the loop (on this single-threaded runtime) run until it waits for something.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn keys_go_before_pending_updates_and_a_burst_is_one_rebuild() {
    use kindscope::tui::app::Handled;
    let h = start(gateway_debug(), 120, 30);
    settle().await;
    // A burst of 200 snapshots with 20 keys among them, all queued before the loop runs again.
    let mut last = Arc::new(gateway_debug());
    for i in 0..200 {
        last = Arc::new(gateway_debug());
        h.snapshots.send(last.clone()).expect("loop alive");
        if i % 10 == 0 {
            h.keys.send(key('j')).expect("loop alive");
        }
    }
    h.keys.send(key('q')).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    assert_eq!(app.stats.inputs, 21, "every key was handled");
    // Every key came first: the cluster's burst waited until the input was drained.
    let first_snapshot = app.stats.trail.iter().position(|h| *h == Handled::Snapshot);
    let last_input = app.stats.trail.iter().rposition(|h| *h == Handled::Input);
    assert_eq!(last_input, Some(20));
    assert!(
        first_snapshot.is_some_and(|s| s > 20),
        "keys before updates: {:?}",
        app.stats.trail
    );
    // 200 snapshots coalesced into at most two rebuilds (one diagnosed off the loop, and the
    // newest applied on the way out), and the state is the newest one.
    assert!(
        (1..=2).contains(&app.stats.snapshots),
        "{} rebuilds for a burst of 200",
        app.stats.snapshots
    );
    assert!(Arc::ptr_eq(&app.snapshot, &last));
    drop((h.stop, h.snapshots));
}

/// The real loop on the real feed of a churning sim: every key is handled, updates are
/// coalesced (never more rebuilds than snapshots published), and the end state is the
/// cluster's last word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_keeps_up_with_a_churning_cluster() {
    use crate::support::sim::TestSim;
    use k8s_openapi::api::apps::v1::Deployment;
    use kindscope::cluster::watch as feed_watch;
    use kindscope::model::ResourceState;
    use kube::api::{Api, Patch, PatchParams};

    const CHANGES: usize = 60;
    let sim = TestSim::gateway_debug().await;
    let conn = sim.connect().await;
    let feed = feed_watch::start(&conn);
    // Everything the test reads is live before the churn starts.
    let mut source = feed.snapshots();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !feed_watch::RESOURCES.iter().all(|r| {
        matches!(
            source.borrow_and_update().resources.get(r),
            Some(ResourceState::Live)
        )
    }) {
        tokio::time::timeout_at(deadline, source.changed())
            .await
            .expect("lists in time")
            .expect("feed alive");
    }
    // Count what the feed publishes on the way to the loop.
    let (fwd_tx, fwd_rx) = watch::channel(source.borrow_and_update().clone());
    // What the loop is given, as the loop sees it.
    let mut rx = fwd_rx.clone();
    let published = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = published.clone();
    let forward = tokio::spawn(async move {
        while source.changed().await.is_ok() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if fwd_tx.send(source.borrow_and_update().clone()).is_err() {
                return;
            }
        }
    });
    let (keys, key_rx) = mpsc::unbounded_channel();
    let mut opts = kindscope::tui::Options::new(kind_write());
    opts.clock = fixed_clock;
    let lp = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(160, 45)).expect("terminal");
        run_with(
            &mut terminal,
            ReceiverStream(key_rx),
            fwd_rx,
            FakePort::default(),
            opts,
            std::future::pending::<()>(),
        )
        .await
    });
    let api: Api<Deployment> = Api::namespaced(conn.client.clone(), "default");
    let mut sent = 0;
    for i in 0..CHANGES {
        let patch = serde_json::json!({"metadata": {"annotations": {"churn": i.to_string()}}});
        api.patch("gateway", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch");
        keys.send(key(if i % 2 == 0 { 'j' } else { 'k' }))
            .expect("loop alive");
        sent += 1;
    }
    // The loop's feed has the last change before the loop is told to stop.
    let last = (CHANGES - 1).to_string();
    let churned = |s: &Snapshot| {
        s.deployments.iter().any(|d| {
            d.metadata.name.as_deref() == Some("gateway")
                && d.metadata.annotations.as_ref().and_then(|a| a.get("churn")) == Some(&last)
        })
    };
    while !churned(&rx.borrow_and_update()) {
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .expect("the last change arrives in time")
            .expect("feed alive");
    }
    keys.send(key('q')).expect("loop alive");
    let app = lp.await.expect("no panic").expect("loop ok");
    forward.abort();
    assert_eq!(app.stats.inputs, sent as u64 + 1, "every key was handled");
    let published = published.load(std::sync::atomic::Ordering::SeqCst);
    assert!(app.stats.snapshots >= 1);
    assert!(
        app.stats.snapshots <= published,
        "{} rebuilds for {published} snapshots",
        app.stats.snapshots
    );
    assert!(
        churned(&app.snapshot),
        "the loop ends on the cluster's last word"
    );
    drop(feed);
    sim.sim.shutdown().await;
}
