//! The event loop: input, snapshots, backend results, signals and (only while something
//! animates) a timer. Redraws only after something changed; idle costs nothing. Input comes
//! first; snapshots are diagnosed off this task and applied at most once per frame.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior, interval};

use crate::diagnose::Report;
use crate::model::Snapshot;
use crate::tui::action::{Action, Effect};
use crate::tui::app::{App, DiagnoseFn, Handled, Options};
use crate::tui::port::{ClusterPort, PortEvent, Request};
use crate::tui::readiness::all_listed;
use crate::tui::{keymap, ui};

const ANIMATION: Duration = Duration::from_millis(100);
/// Ages and waiting times are shown in seconds: the clock is read this often while any is on
/// screen, and the screen redrawn only if one of them changed (`App::clock_face`).
const CLOCK: Duration = Duration::from_secs(1);
/// While the log pane is open it is redrawn this often to show new lines.
const LOG_REFRESH: Duration = Duration::from_millis(500);

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Whether the feed's current value is worth showing (the initial value of a fresh feed is an
/// empty placeholder).
fn has_data(s: &Snapshot) -> bool {
    !s.context.is_empty() || !s.resources.is_empty() || !s.nodes.is_empty()
}

/// SIGTERM (kill, systemd), SIGINT (`kill -INT`; Ctrl-C itself arrives as a key in raw mode)
/// and SIGHUP (the terminal went away), listened to from the moment this is made: install
/// before the terminal is set up, so that a signal arriving at any point after that ends the
/// loop and the terminal is restored, instead of killing the process with the terminal raw on
/// the alternate screen. A signal is kept until the loop looks.
pub struct Signals {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Needs a tokio runtime. A signal whose handler cannot be installed keeps its default.
    pub fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                SignalKind::terminate(),
                SignalKind::interrupt(),
                SignalKind::hangup(),
            ];
            Signals {
                streams: kinds.into_iter().filter_map(|k| signal(k).ok()).collect(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Until any of the signals arrives (or was received since [`Signals::install`]).
    async fn any(self) {
        #[cfg(unix)]
        {
            let waits = self.streams.into_iter().map(|mut s| {
                Box::pin(async move {
                    s.recv().await;
                })
            });
            let waits: Vec<_> = waits.collect();
            if waits.is_empty() {
                std::future::pending::<()>().await;
            }
            futures::future::select_all(waits).await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}

/// Run the dashboard on a real terminal until `q`, Ctrl-C or a signal of [`Signals`] (installed
/// by the caller before it set up the terminal).
pub async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    backend: impl ClusterPort,
    opts: Options,
    signals: Signals,
) -> io::Result<()> {
    let input = crossterm::event::EventStream::new();
    run_with(terminal, input, snapshots, backend, opts, signals.any())
        .await
        .map(|_| ())
}

/// At most one rebuild per frame while the cluster changes (≤ 60 Hz); none while it is quiet.
pub const FRAME: Duration = Duration::from_millis(16);

/// While the cluster churns, its changes reach the screen at most this often: well inside the
/// 100 ms change-to-screen budget, and a third of the drawing a 60 Hz rate would cost
/// (measured on the 5,107-pod bench cluster, ~100 changes/s: docs/performance.md). Keys are
/// never held by it.
const ROWS_EVERY: Duration = Duration::from_millis(50);

/// A diagnosis that took `t` waits until `t × DIAGNOSE_SHARE` has passed before the next.
const DIAGNOSE_SHARE: u32 = 4;

/// What the deriving task hands the loop: a snapshot to show, a snapshot with its diagnosis,
/// or the feed's end.
enum Derived {
    Rows(Arc<Snapshot>),
    Ready(Arc<Snapshot>, Report),
    Closed,
}

/// Follow the feed off the UI task. Each new snapshot is handed on at once as rows (at most one
/// per [`ROWS_EVERY`]; older ones are skipped), so a change reaches the screen within that time
/// whatever the cluster's size. Diagnoses run on the blocking pool, one at a time, of the
/// newest snapshot; a diagnosis slower than a frame (a very big cluster) spaces the next one
/// out so that diagnosing takes at most a quarter of a core while the cluster churns — except
/// the first of a fully listed snapshot. Results are tagged with the feed's number (namespace
/// switches).
fn spawn_deriver(
    mut rx: watch::Receiver<Arc<Snapshot>>,
    diagnose: DiagnoseFn,
    feed: u64,
    out: mpsc::UnboundedSender<(u64, Derived)>,
) -> JoinHandle<()> {
    use tokio::time::{Instant, sleep_until};
    type Job = JoinHandle<(Arc<Snapshot>, Report, Duration)>;
    tokio::spawn(async move {
        // The newest snapshot not diagnosed yet, the diagnosis running, when the next may start,
        // and whether the last diagnosed snapshot was complete.
        let mut wanted: Option<Arc<Snapshot>> = None;
        let mut job: Option<Job> = None;
        let mut next_at = Instant::now();
        let mut judged_complete = false;
        let mut rows_at = Instant::now();
        loop {
            let due = match &wanted {
                Some(s) if job.is_none() => Some(if all_listed(s) != judged_complete {
                    Instant::now()
                } else {
                    next_at
                }),
                _ => None,
            };
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        // What is still running or wanted is not worth waiting for.
                        let _ = out.send((feed, Derived::Closed));
                        return;
                    }
                    // The frame budget: changes arriving meanwhile wait, only the newest counts.
                    sleep_until(rows_at).await;
                    let snap = rx.borrow_and_update().clone();
                    if !has_data(&snap) {
                        continue;
                    }
                    rows_at = Instant::now() + ROWS_EVERY;
                    if out.send((feed, Derived::Rows(snap.clone()))).is_err() {
                        return;
                    }
                    wanted = Some(snap);
                }
                done = async { job.as_mut().expect("guarded").await }, if job.is_some() => {
                    job = None;
                    let Ok((snap, report, took)) = done else { return };
                    judged_complete = all_listed(&snap);
                    next_at = Instant::now() + FRAME.max(took * (DIAGNOSE_SHARE - 1));
                    if out.send((feed, Derived::Ready(snap, report))).is_err() {
                        return;
                    }
                }
                () = async { sleep_until(due.expect("guarded")).await }, if due.is_some() => {
                    let Some(snap) = wanted.take() else { continue };
                    let d = diagnose.clone();
                    job = Some(tokio::task::spawn_blocking(move || {
                        let started = std::time::Instant::now();
                        let report = d(&snap);
                        (snap, report, started.elapsed())
                    }));
                }
            }
        }
    })
}

/// The loop itself, with input, terminal and shutdown injected (tests use `TestBackend` and a
/// channel of events). Returns the final state, with the newest snapshot and backend results
/// applied (so what a caller inspects is what the cluster said last).
///
/// Order of work: a signal, then input, then backend results, then cluster updates. Keys never
/// wait behind a rebuild: snapshots are diagnosed on another task ([`spawn_deriver`]) and only
/// the cheap view update runs here, at most once per [`FRAME`].
pub async fn run_with<B, S>(
    terminal: &mut Terminal<B>,
    mut input: S,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    mut backend: impl ClusterPort,
    opts: Options,
    shutdown: impl Future<Output = ()>,
) -> io::Result<App>
where
    B: ratatui::backend::Backend,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let clock = opts.clock;
    let diagnose = opts.diagnose.clone();
    let clipboard = opts.clipboard;
    let mut app = App::new(opts);
    let size = terminal.size().map_err(io_err)?;
    app.update(Action::Resize {
        width: size.width,
        height: size.height,
    });
    let first = snapshots.borrow_and_update().clone();
    if has_data(&first) {
        app.update(Action::Snapshot(first));
    }
    let (tx, mut results) = mpsc::unbounded_channel::<PortEvent>();
    let (derived_tx, mut derived) = mpsc::unbounded_channel::<(u64, Derived)>();
    let mut feed_no = 0u64;
    let mut deriver = Deriver(spawn_deriver(
        snapshots.clone(),
        diagnose.clone(),
        feed_no,
        derived_tx.clone(),
    ));
    let mut dirty = true;
    // The time-dependent strings of the last frame drawn.
    let mut face = 0u64;
    let mut timer: Option<(Duration, Interval)> = None;
    tokio::pin!(shutdown);

    loop {
        if dirty {
            app.now = clock();
            crate::tui::terminal::move_log_records();
            terminal.draw(|f| ui::draw(f, &app)).map_err(io_err)?;
            face = app.clock_face(app.now);
            dirty = false;
        }
        let period = if app.animating() {
            Some(ANIMATION)
        } else if app.show_log || app.stale_since_shown() {
            Some(LOG_REFRESH)
        } else if app.shows_time() {
            Some(CLOCK)
        } else {
            None
        };
        if timer.as_ref().map(|(d, _)| *d) != period {
            timer = period.map(|d| {
                let mut i = interval(d);
                i.set_missed_tick_behavior(MissedTickBehavior::Skip);
                i.reset();
                (d, i)
            });
        }
        let tick = async {
            match timer.as_mut() {
                Some((_, i)) => {
                    i.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };

        let mut effect = None;
        // Biased: a signal first, then keys (what the user does never waits behind the
        // cluster), then what the backend reports, then cluster updates.
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            event = input.next() => match event {
                Some(Ok(event)) => {
                    // Mouse motion and unbound keys change nothing: no redraw.
                    if let Some(action) = keymap::map_event(&app, &event) {
                        app.stats.handled(Handled::Input);
                        effect = app.update(action);
                        dirty = true;
                    }
                }
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some(event) = results.recv() => {
                match event {
                    PortEvent::Feed(feed) => {
                        snapshots = feed;
                        feed_no += 1;
                        app.feed_closed = false;
                        // The new feed's current snapshot is shown as soon as it is diagnosed.
                        let mut rx = snapshots.clone();
                        rx.mark_changed();
                        deriver = Deriver(spawn_deriver(rx, diagnose.clone(), feed_no, derived_tx.clone()));
                    }
                    other => {
                        app.update(Action::Port(other));
                    }
                }
                dirty = true;
            },
            Some((no, result)) = derived.recv() => {
                if no == feed_no {
                    match result {
                        Derived::Rows(snap) => {
                            app.stats.handled(Handled::Snapshot);
                            app.update(Action::Rows(snap));
                        }
                        Derived::Ready(snap, report) => {
                            app.update(Action::Derived(snap, report));
                        }
                        Derived::Closed => {
                            app.update(Action::FeedClosed);
                        }
                    }
                    dirty = true;
                }
            },
            () = tick => {
                if period == Some(CLOCK) {
                    // Nothing animates: redraw only if a visible age or waiting time changed.
                    dirty = app.clock_face(clock()) != face;
                } else {
                    app.update(Action::Tick);
                    dirty = true;
                }
            },
        }
        match effect {
            None => {}
            Some(Effect::Quit) => break,
            Some(Effect::Apply(plan)) => backend.submit(Request::Apply(plan), &tx),
            Some(Effect::Undo(plan)) => backend.submit(Request::Undo(plan), &tx),
            Some(Effect::SwitchNamespace(ns)) => backend.submit(Request::SwitchNamespace(ns), &tx),
            Some(Effect::Port(request)) => backend.submit(request, &tx),
            Some(Effect::RefreshNodeImages) => backend.submit(Request::RefreshNodeImages, &tx),
            Some(Effect::Copy(text)) => {
                if let Err(e) = clipboard(&text) {
                    app.status = Some(crate::tui::app::StatusLine {
                        text: format!("Could not write to the terminal's clipboard: {e}"),
                        error: true,
                    });
                }
            }
        }
    }
    drop(deriver);
    catch_up(&mut app, &mut results, &snapshots);
    Ok(app)
}

/// Stops the deriving task when replaced or when the loop ends.
struct Deriver(JoinHandle<()>);

impl Drop for Deriver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// On the way out: what the backend already reported and the newest snapshot, applied.
fn catch_up(
    app: &mut App,
    results: &mut mpsc::UnboundedReceiver<PortEvent>,
    snapshots: &watch::Receiver<Arc<Snapshot>>,
) {
    while let Ok(event) = results.try_recv() {
        if !matches!(event, PortEvent::Feed(_)) {
            app.update(Action::Port(event));
        }
    }
    if snapshots.has_changed().is_err() {
        app.update(Action::FeedClosed);
    }
    let newest = snapshots.borrow().clone();
    if has_data(&newest) && !Arc::ptr_eq(&newest, &app.snapshot) {
        app.stats.handled(Handled::Snapshot);
        app.update(Action::Snapshot(newest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceState;

    fn loaded(context: &str) -> Arc<Snapshot> {
        let mut s = Snapshot {
            context: context.into(),
            ..Snapshot::default()
        };
        for r in crate::cluster::watch::REQUIRED {
            s.resources.insert(r, ResourceState::Live);
        }
        Arc::new(s)
    }

    /// A deriver whose every diagnosis waits for one `()` on `gate`.
    struct Gated {
        gate: std::sync::mpsc::Sender<()>,
        snaps: watch::Sender<Arc<Snapshot>>,
        derived: mpsc::UnboundedReceiver<(u64, Derived)>,
        task: JoinHandle<()>,
    }

    /// A [`Gated`] deriver for feed number `feed`.
    fn gated_deriver(feed: u64) -> Gated {
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let gate = std::sync::Mutex::new(gate_rx);
        let diagnose: DiagnoseFn = Arc::new(move |s: &Snapshot| {
            let _ = gate.lock().map(|g| g.recv());
            crate::diagnose::report(s)
        });
        let (snaps, rx) = watch::channel(Arc::new(Snapshot::default()));
        let (out, derived) = mpsc::unbounded_channel();
        let task = spawn_deriver(rx, diagnose, feed, out);
        Gated {
            gate: gate_tx,
            snaps,
            derived,
            task,
        }
    }

    /// A snapshot's rows are handed on while its diagnosis is still running; the diagnosis
    /// follows, of the same snapshot.
    #[tokio::test]
    async fn rows_go_out_before_the_diagnosis_is_done() {
        let Gated {
            gate: gate_tx,
            snaps,
            mut derived,
            task,
        } = gated_deriver(7);
        let first = loaded("kind-a");
        snaps.send(first.clone()).expect("deriver alive");
        let Some((7, Derived::Rows(rows))) = derived.recv().await else {
            panic!("rows first");
        };
        assert!(Arc::ptr_eq(&rows, &first));
        // The diagnosis is held at the gate: nothing else may have come.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            derived.try_recv().is_err(),
            "nothing before the diagnosis ends"
        );
        gate_tx.send(()).expect("diagnosis waiting");
        let Some((7, Derived::Ready(judged, _))) = derived.recv().await else {
            panic!("then its diagnosis");
        };
        assert!(Arc::ptr_eq(&judged, &first));
        task.abort();
    }

    /// While a diagnosis runs, newer snapshots still reach the screen as rows, and the next
    /// diagnosis is of the newest one.
    #[tokio::test]
    async fn rows_keep_coming_while_a_diagnosis_runs() {
        let Gated {
            gate: gate_tx,
            snaps,
            mut derived,
            task,
        } = gated_deriver(0);
        let (a, b) = (loaded("kind-a"), loaded("kind-b"));
        snaps.send(a.clone()).expect("deriver alive");
        assert!(matches!(derived.recv().await, Some((0, Derived::Rows(s))) if Arc::ptr_eq(&s, &a)));
        snaps.send(b.clone()).expect("deriver alive");
        assert!(matches!(derived.recv().await, Some((0, Derived::Rows(s))) if Arc::ptr_eq(&s, &b)));
        // The diagnosis of `a` may or may not have started before `b` came; whichever ran,
        // the last one is of the newest snapshot.
        gate_tx.send(()).expect("diagnosis waiting");
        gate_tx.send(()).expect("diagnosis waiting");
        loop {
            match derived.recv().await {
                Some((0, Derived::Ready(s, _))) if Arc::ptr_eq(&s, &b) => break,
                Some((0, Derived::Ready(s, _))) if Arc::ptr_eq(&s, &a) => continue,
                _ => panic!("only diagnoses of a, then of b"),
            }
        }
        task.abort();
    }
}
