//! The event loop end to end, in process: a TestBackend terminal, scripted input events, a
//! snapshot watch channel and the fake backend.

mod tui_fixtures;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent};
use kindscope::model::Snapshot;
use kindscope::tui::{FakeBackend, Pane, Request, run_with};
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
    backend: FakeBackend,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<kindscope::tui::App>>,
}

fn start(first: Snapshot, width: u16, height: u16) -> Harness {
    let (keys, key_rx) = mpsc::unbounded_channel();
    let (snapshots, snap_rx) = watch::channel(Arc::new(first));
    let backend = FakeBackend::default();
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

#[tokio::test]
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
    let text = serde_json::to_string(&*fixed.deployments[0]).expect("serialise");
    let text = text.replace(
        "\"kubernaut/datastorage:debug\"",
        "\"localhost/kubernaut/datastorage:debug\"",
    );
    fixed.deployments[0] = Arc::new(serde_json::from_str(&text).expect("deserialise"));
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

#[tokio::test]
async fn shutdown_signal_ends_the_loop() {
    let mut h = start(gateway_debug(), 80, 24);
    h.stop.take().expect("stop").send(()).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    assert!(!app.quit, "ended by the signal, not by q");
    assert!(app.loaded);
}

#[tokio::test]
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

#[tokio::test]
async fn an_empty_placeholder_is_not_shown_as_data() {
    let h = start(Snapshot::default(), 80, 24);
    h.keys.send(key('q')).expect("loop alive");
    let app = h.task.await.expect("no panic").expect("loop ok");
    assert!(!app.loaded);
    drop((h.stop, h.snapshots));
}
