//! The real [`ClusterPort`]: the dashboard's requests carried out on the cluster edge.
//!
//! Every request is handled on a spawned task that reports over the event sink, so the UI loop
//! never waits on the network. A fix is `session::apply_and_follow` (write guard again,
//! defensively → guarded patch → journal → rollout), its steps reported as events. A guarded patch refused with
//! 422 (someone changed the workload) is reported as it is and never retried: retrying blindly
//! would overwrite their change.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::cluster::apply::{self, describe_target};
use crate::cluster::connect::Connection;
use crate::cluster::inspect;
use crate::cluster::journal::Journal;
use crate::cluster::rollout::{self, RolloutProgress};
use crate::cluster::runtime::Runtime;
use crate::cluster::session::{
    self, Direction, Events, Feed, FeedOptions, RuntimeSource, Step, WriteOptions,
};
use crate::fix::FixPlan;
use crate::tui::contexts::{Attached, Switcher};
use crate::tui::port::{
    ClusterPort, EventSink, FollowOutcome, LogRequest, ObjectKind, ObjectRef, PortEvent, Request,
};
use crate::tui::textview::ViewUpdate;
use tokio::sync::mpsc;

/// How to start a snapshot feed for a connection: API only, or with the container runtime's
/// image lists merged in (Kind contexts).
#[derive(Clone)]
pub struct FeedSource {
    runtime: Option<RuntimeSource>,
}

impl FeedSource {
    /// Node images from `Node.status.images` only (the sim, non-Kind contexts, `--runtime none`).
    pub fn api_only() -> Self {
        FeedSource { runtime: None }
    }

    /// Node images also listed through `runtime` (each node bounded by `per_node`).
    pub fn with_runtime(runtime: Runtime, per_node: Duration) -> Self {
        FeedSource {
            runtime: Some(RuntimeSource { runtime, per_node }),
        }
    }

    /// The runtime asked for node images, if any (`podman`, `docker`).
    pub fn runtime_name(&self) -> Option<&'static str> {
        self.runtime.as_ref().map(|r| r.runtime.name())
    }

    pub fn start(&self, conn: &Connection) -> Feed {
        session::feed(
            conn,
            FeedOptions {
                events: Events::All,
                runtime: self.runtime.clone(),
            },
        )
    }
}

/// Settings of a [`ClusterService`].
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// `Err(sentence)` when the write guard refuses writes on this context.
    pub write: Result<(), String>,
    /// How long to follow a rollout after a patch.
    pub rollout_timeout: Duration,
    /// The journal applied patches are recorded in (`kindscope fix` and `undo` read it too);
    /// None: not recorded.
    pub journal: Option<Journal>,
    /// How to attach to another context (`:ctx`); None: this dashboard cannot switch.
    pub contexts: Option<Arc<Switcher>>,
}

/// The dashboard's backend on a real (or simulated) cluster.
pub struct ClusterService {
    conn: Connection,
    /// Shared with rollout tasks, so a namespace switch does not cut a rollout being followed:
    /// the old feed lives until the last task using it ends.
    feed: Arc<Feed>,
    source: FeedSource,
    opts: ServiceOptions,
    /// The log stream of the open logs view.
    log_task: Option<tokio::task::JoinHandle<()>>,
    /// Connections made by `:ctx`, installed before the next request is handled.
    attached: (
        mpsc::UnboundedSender<Attached>,
        mpsc::UnboundedReceiver<Attached>,
    ),
}

impl Drop for ClusterService {
    fn drop(&mut self) {
        self.stop_logs();
    }
}

impl ClusterService {
    pub fn new(conn: Connection, feed: Feed, source: FeedSource, opts: ServiceOptions) -> Self {
        ClusterService {
            conn,
            feed: Arc::new(feed),
            source,
            opts,
            log_task: None,
            attached: mpsc::unbounded_channel(),
        }
    }

    /// The current feed's snapshots (what the dashboard starts with).
    pub fn snapshots(&self) -> tokio::sync::watch::Receiver<Arc<crate::model::Snapshot>> {
        self.feed.snapshots()
    }

    fn write(&self, plan: &FixPlan, undo: bool, events: &EventSink) {
        let journal = self.opts.journal.clone();
        // An undo names the journalled fix it reverts (the newest open one with this plan),
        // whether this session or an earlier `kindscope fix` made it.
        let direction = if undo {
            let of = journal.as_ref().and_then(|j| {
                j.open_fixes(&self.conn.context, &self.conn.server)
                    .ok()?
                    .into_iter()
                    .find(|e| e.plan == *plan)
                    .map(Box::new)
            });
            Direction::Undo { of }
        } else {
            Direction::Fix
        };
        let steps = session::apply_and_follow(
            &self.conn,
            self.feed.snapshots(),
            plan,
            direction,
            WriteOptions {
                guard: self.opts.write.clone(),
                dry_run: false,
                journal,
                rollout_timeout: self.opts.rollout_timeout,
            },
        );
        // The old feed lives until the rollout following it ends (a namespace switch meanwhile).
        let feed = self.feed.clone();
        tokio::spawn(report(
            steps,
            plan.target.clone(),
            undo,
            self.opts.rollout_timeout,
            events.clone(),
            feed,
        ));
    }

    /// Stream a container's log into a view (one stream at a time).
    fn logs(&mut self, req: LogRequest, events: &EventSink) {
        self.stop_logs();
        let (id, follow) = (req.id, req.query.follow);
        let stream = inspect::log_lines(&self.conn.client, req.query);
        let events = events.clone();
        self.log_task = Some(tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            let mut any = false;
            while let Some(batch) = stream.next().await {
                let (update, last) = match batch {
                    Ok(lines) => {
                        any = true;
                        (ViewUpdate::Lines(lines), false)
                    }
                    // The server's refusal is the whole story: no "stream ended" after it.
                    Err(e) => (ViewUpdate::Failed(e), true),
                };
                if events.send(PortEvent::View { id, update }).is_err() || last {
                    return;
                }
            }
            let end = if follow {
                ViewUpdate::Ended(
                    "The log stream ended (the container stopped, or the server closed it).".into(),
                )
            } else if any {
                return;
            } else {
                ViewUpdate::Lines(Vec::new())
            };
            let _ = events.send(PortEvent::View { id, update: end });
        }));
    }

    /// `:ctx NAME`: connect on a task; the loop gets `Context` and the new feed, and this
    /// backend takes the new connection before its next request.
    fn switch_context(&mut self, context: String, events: &EventSink) {
        let Some(switcher) = self.opts.contexts.clone() else {
            let _ = events.send(PortEvent::Context(Err(
                "this dashboard cannot switch contexts (the demo runs one simulated cluster)"
                    .into(),
            )));
            return;
        };
        let namespace = self.conn.namespace.clone();
        let install = self.attached.0.clone();
        let events = events.clone();
        tokio::spawn(async move {
            match switcher.attach(&context, namespace).await {
                Ok(attached) => {
                    let info = attached.info.clone();
                    let snapshots = attached.feed.snapshots();
                    tracing::info!(context = %info.context, server = %info.server, "switched context");
                    let _ = install.send(attached);
                    let _ = events.send(PortEvent::Context(Ok(Box::new(info))));
                    let _ = events.send(PortEvent::Feed(snapshots));
                }
                Err(e) => {
                    let _ = events.send(PortEvent::Context(Err(format!(
                        "still on the old context: {e}"
                    ))));
                }
            }
        });
    }

    fn install(&mut self, next: Attached) {
        self.stop_logs();
        self.conn = next.conn;
        self.source = next.source;
        self.feed = Arc::new(next.feed);
        self.opts.write = next.guard;
    }

    fn stop_logs(&mut self) {
        if let Some(task) = self.log_task.take() {
            task.abort();
        }
    }

    fn yaml(&self, id: u64, object: ObjectRef, events: &EventSink) {
        let client = self.conn.client.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let kind = match object.kind {
                ObjectKind::Pod => inspect::Kind::Pod,
                ObjectKind::Deployment => inspect::Kind::Deployment,
                ObjectKind::Node => inspect::Kind::Node,
            };
            let update = match inspect::yaml(&client, kind, &object.namespace, &object.name).await {
                Ok(text) => ViewUpdate::Replace(text.lines().map(str::to_string).collect()),
                Err(e) => ViewUpdate::Failed(format!("cannot read {}: {e}", object.label())),
            };
            let _ = events.send(PortEvent::View { id, update });
        });
    }

    /// The open fixes of this cluster in the journal, newest first (what `u` walks back).
    fn history(&self, events: &EventSink) {
        let found = match &self.opts.journal {
            Some(journal) => journal
                .open_fixes(&self.conn.context, &self.conn.server)
                .map_err(|e| e.to_string()),
            None => Ok(Vec::new()),
        };
        let _ = events.send(PortEvent::History(found));
    }

    fn switch_namespace(&mut self, namespace: Option<String>, events: &EventSink) {
        if self.conn.namespace == namespace {
            let _ = events.send(PortEvent::Feed(self.feed.snapshots()));
            return;
        }
        self.conn.namespace = namespace;
        tracing::info!(namespace = ?self.conn.namespace, "switching the watch to another namespace");
        // Starting a feed only spawns watch tasks; the old one stops when its last user drops it.
        self.feed = Arc::new(self.source.start(&self.conn));
        let _ = events.send(PortEvent::Feed(self.feed.snapshots()));
    }
}

impl ClusterPort for ClusterService {
    fn submit(&mut self, request: Request, events: &EventSink) {
        while let Ok(next) = self.attached.1.try_recv() {
            self.install(next);
        }
        match request {
            Request::Apply(plan) => self.write(&plan, false, events),
            Request::Undo(plan) => self.write(&plan, true, events),
            Request::SwitchNamespace(ns) => self.switch_namespace(ns, events),
            Request::UndoHistory => self.history(events),
            Request::Logs(req) => self.logs(req, events),
            Request::Yaml { id, object } => self.yaml(id, object, events),
            Request::CloseView => self.stop_logs(),
            Request::SwitchContext(context) => self.switch_context(context, events),
            Request::RefreshNodeImages => {
                let text = match self.source.runtime_name() {
                    Some(rt) if self.feed.refresh_node_images() => {
                        format!("Reading every node's images from {rt} again.")
                    }
                    _ => "Node images come from the API (Node.status.images), which the kubelet \
                          updates by itself; there is no container runtime to ask."
                        .to_string(),
                };
                let _ = events.send(PortEvent::Notice(text));
            }
        }
    }
}

/// Turn a write's steps into the dashboard's events.
async fn report(
    mut steps: session::Steps,
    target: crate::fix::Target,
    undo: bool,
    timeout: Duration,
    events: EventSink,
    _feed: Arc<Feed>,
) {
    let what = describe_target(&target);
    while let Some(step) = steps.next().await {
        let event = match step {
            Step::Refused(message) => PortEvent::ApplyFailed {
                target: target.clone(),
                undo,
                message,
            },
            Step::Failed(e) => {
                tracing::warn!(target = %what, undo, error = %e, "patch refused");
                // The CLI's wording says "re-run diagnose"; here the dashboard is the diagnosis.
                let message = match &e {
                    apply::ApplyError::Conflict { target, detail } => format!(
                        "{target}: the workload changed since this plan, so the guarded patch \
                         was refused and nothing was changed ({detail})"
                    ),
                    other => other.to_string(),
                };
                PortEvent::ApplyFailed {
                    target: target.clone(),
                    undo,
                    message,
                }
            }
            Step::Applied(applied) => {
                tracing::info!(target = %what, undo, generation = ?applied.generation, "patch accepted");
                PortEvent::Applied {
                    target: target.clone(),
                    undo,
                }
            }
            Step::Journaled(_) => continue,
            Step::NotJournaled(e) => PortEvent::Notice(format!(
                "{what} was patched but not recorded in the journal: {e}"
            )),
            Step::Progress(p) => PortEvent::Rollout {
                target: target.clone(),
                message: progress_line(&p),
            },
            Step::Done(outcome) => {
                let outcome = match outcome {
                    rollout::RolloutOutcome::Running => FollowOutcome::Running,
                    rollout::RolloutOutcome::Failed { reason } => FollowOutcome::Failed(reason),
                    rollout::RolloutOutcome::TimedOut { last } => {
                        FollowOutcome::Failed(session::timed_out_reason(timeout, &last))
                    }
                };
                tracing::info!(target = %what, ?outcome, "rollout followed");
                PortEvent::RolloutDone {
                    target: target.clone(),
                    outcome,
                }
            }
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

/// One short progress line: counts first (when known), then what the rollout waits for.
fn progress_line(p: &RolloutProgress) -> String {
    if p.desired > 0 && !p.message.contains("ready") {
        format!("{}/{} ready · {}", p.ready, p.desired, p.message)
    } else {
        p.message.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_lead_with_counts_once() {
        let p = RolloutProgress {
            desired: 2,
            ready: 1,
            message: "pod gw-1: ContainerCreating".into(),
            ..RolloutProgress::default()
        };
        assert_eq!(progress_line(&p), "1/2 ready · pod gw-1: ContainerCreating");
        let counted = RolloutProgress {
            message: "2/2 updated, 1/2 ready".into(),
            ..p
        };
        assert_eq!(progress_line(&counted), "2/2 updated, 1/2 ready");
        let unknown = RolloutProgress {
            message: "waiting for the deployment controller".into(),
            ..RolloutProgress::default()
        };
        assert_eq!(progress_line(&unknown), unknown.message);
    }
}
