//! The real [`Backend`]: the dashboard's requests carried out on the cluster edge.
//!
//! Every request is handled on a spawned task that reports over the event sink, so the UI loop
//! never waits on the network. A fix is: write guard (again, defensively) → `apply::apply` →
//! journal → `rollout::follow_plan` with progress → `RolloutDone`. A guarded patch refused with
//! 422 (someone changed the workload) is reported as it is and never retried: retrying blindly
//! would overwrite their change.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::cluster::apply::{self, describe_target};
use crate::cluster::connect::Connection;
use crate::cluster::journal::{self, JournalEntry};
use crate::cluster::rollout::{self, RolloutProgress};
use crate::cluster::runtime::Runtime;
use crate::cluster::session::{self, Events, Feed, FeedOptions, RuntimeSource};
use crate::fix::FixPlan;
use crate::tui::backend::{Backend, BackendEvent, EventSink, Request, RolloutOutcome};

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

/// Settings of a [`ClusterBackend`].
#[derive(Debug, Clone)]
pub struct BackendOptions {
    /// `Err(sentence)` when the write guard refuses writes on this context.
    pub write: Result<(), String>,
    /// How long to follow a rollout after a patch.
    pub rollout_timeout: Duration,
    /// Record applied patches in the journal (`kindscope fix` can then undo them too).
    pub journal: bool,
}

/// The dashboard's backend on a real (or simulated) cluster.
pub struct ClusterBackend {
    conn: Connection,
    /// Shared with rollout tasks, so a namespace switch does not cut a rollout being followed:
    /// the old feed lives until the last task using it ends.
    feed: Arc<Feed>,
    source: FeedSource,
    opts: BackendOptions,
    /// Journal entries of the fixes applied in this session, for the undo's bookkeeping.
    fixes: Arc<Mutex<Vec<JournalEntry>>>,
}

impl ClusterBackend {
    pub fn new(conn: Connection, feed: Feed, source: FeedSource, opts: BackendOptions) -> Self {
        ClusterBackend {
            conn,
            feed: Arc::new(feed),
            source,
            opts,
            fixes: Arc::default(),
        }
    }

    /// The current feed's snapshots (what the dashboard starts with).
    pub fn snapshots(&self) -> tokio::sync::watch::Receiver<Arc<crate::model::Snapshot>> {
        self.feed.snapshots()
    }

    fn write(&self, plan: &FixPlan, undo: bool, events: &EventSink) {
        let target = plan.target.clone();
        if let Err(why) = &self.opts.write {
            let _ = events.send(BackendEvent::ApplyFailed {
                target,
                undo,
                message: why.clone(),
            });
            return;
        }
        let task = WriteTask {
            conn: self.conn.clone(),
            feed: self.feed.clone(),
            plan: plan.clone(),
            undo,
            timeout: self.opts.rollout_timeout,
            journal: self.opts.journal,
            fixes: self.fixes.clone(),
            events: events.clone(),
        };
        tokio::spawn(task.run());
    }

    fn switch_namespace(&mut self, namespace: Option<String>, events: &EventSink) {
        if self.conn.namespace == namespace {
            let _ = events.send(BackendEvent::Feed(self.feed.snapshots()));
            return;
        }
        self.conn.namespace = namespace;
        tracing::info!(namespace = ?self.conn.namespace, "switching the watch to another namespace");
        // Starting a feed only spawns watch tasks; the old one stops when its last user drops it.
        self.feed = Arc::new(self.source.start(&self.conn));
        let _ = events.send(BackendEvent::Feed(self.feed.snapshots()));
    }
}

impl Backend for ClusterBackend {
    fn submit(&mut self, request: Request, events: &EventSink) {
        match request {
            Request::Apply(plan) => self.write(&plan, false, events),
            Request::Undo(plan) => self.write(&plan, true, events),
            Request::SwitchNamespace(ns) => self.switch_namespace(ns, events),
            Request::RefreshNodeImages => {
                let text = match self.source.runtime_name() {
                    Some(rt) if self.feed.refresh_node_images() => {
                        format!("Reading every node's images from {rt} again.")
                    }
                    _ => "Node images come from the API (Node.status.images), which the kubelet \
                          updates by itself; there is no container runtime to ask."
                        .to_string(),
                };
                let _ = events.send(BackendEvent::Notice(text));
            }
        }
    }
}

/// One patch and the rollout after it, on its own task.
struct WriteTask {
    conn: Connection,
    feed: Arc<Feed>,
    plan: FixPlan,
    undo: bool,
    timeout: Duration,
    journal: bool,
    fixes: Arc<Mutex<Vec<JournalEntry>>>,
    events: EventSink,
}

impl WriteTask {
    async fn run(self) {
        let target = self.plan.target.clone();
        let what = describe_target(&target);
        let sent = if self.undo {
            apply::undo(&self.conn.client, &self.plan, false).await
        } else {
            apply::apply(&self.conn.client, &self.plan, false).await
        };
        let applied = match sent {
            Ok(applied) => applied,
            Err(e) => {
                tracing::warn!(target = %what, undo = self.undo, error = %e, "patch refused");
                // The CLI's wording says "re-run diagnose"; here the dashboard is the diagnosis.
                let message = match &e {
                    apply::ApplyError::Conflict { target, detail } => format!(
                        "{target}: the workload changed since this plan, so the guarded patch \
                         was refused and nothing was changed ({detail})"
                    ),
                    other => other.to_string(),
                };
                let _ = self.events.send(BackendEvent::ApplyFailed {
                    target,
                    undo: self.undo,
                    message,
                });
                return;
            }
        };
        tracing::info!(
            target = %what,
            undo = self.undo,
            generation = ?applied.generation,
            "patch accepted"
        );
        if self.journal
            && let Err(e) = self.record()
        {
            let _ = self.events.send(BackendEvent::Notice(format!(
                "{what} was patched but not recorded in the journal: {e}"
            )));
        }
        let _ = self.events.send(BackendEvent::Applied {
            target: target.clone(),
            undo: self.undo,
        });
        // An undo rolls back to the plan's old image: follow that one.
        let expected = if self.undo {
            reversed(&self.plan)
        } else {
            self.plan.clone()
        };
        let events = self.events.clone();
        let progress_target = target.clone();
        let outcome = rollout::follow_plan(
            self.feed.snapshots(),
            &expected,
            applied.generation,
            self.timeout,
            move |p| {
                let _ = events.send(BackendEvent::Rollout {
                    target: progress_target.clone(),
                    message: progress_line(p),
                });
            },
        )
        .await;
        let outcome = match outcome {
            rollout::RolloutOutcome::Running => RolloutOutcome::Running,
            rollout::RolloutOutcome::Failed { reason } => RolloutOutcome::Failed(reason),
            rollout::RolloutOutcome::TimedOut { last } => RolloutOutcome::Failed(format!(
                "still rolling out after {} s: {}",
                self.timeout.as_secs(),
                last.message
            )),
        };
        tracing::info!(target = %what, ?outcome, "rollout followed");
        let _ = self
            .events
            .send(BackendEvent::RolloutDone { target, outcome });
    }

    /// Journal the write; an undo points at the fix it reverts when this session made it.
    fn record(&self) -> Result<(), journal::JournalError> {
        let mut fixes = self.fixes.lock().unwrap_or_else(PoisonError::into_inner);
        if self.undo {
            let made_here = fixes
                .iter()
                .rposition(|e| e.plan == self.plan)
                .map(|i| fixes.remove(i));
            match made_here {
                Some(fix) => journal::append_undo(&fix).map(|_| ()),
                None => {
                    let entry = JournalEntry::new(
                        journal::Action::Undo,
                        &self.conn.context,
                        &self.conn.server,
                        &self.plan,
                    );
                    journal::append(&entry).map(|_| ())
                }
            }
        } else {
            let entry = JournalEntry::new(
                journal::Action::Fix,
                &self.conn.context,
                &self.conn.server,
                &self.plan,
            );
            journal::append(&entry)?;
            fixes.push(entry);
            Ok(())
        }
    }
}

/// The plan an undo carries out: from the fixed values back to the old ones.
fn reversed(plan: &FixPlan) -> FixPlan {
    FixPlan {
        patch: plan.undo.clone(),
        undo: plan.patch.clone(),
        image_before: plan.image_after.clone(),
        image_after: plan.image_before.clone(),
        pull_policy_before: plan.pull_policy_after.clone(),
        pull_policy_after: plan.pull_policy_before.clone(),
        ..plan.clone()
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
    use crate::fix::Target;
    use serde_json::json;

    fn plan() -> FixPlan {
        FixPlan {
            target: Target {
                kind: "Deployment".into(),
                namespace: "default".into(),
                name: "gateway".into(),
            },
            container: "gateway".into(),
            patch: json!([{"op": "replace", "path": "/x", "value": "new"}]),
            undo: json!([{"op": "replace", "path": "/x", "value": "old"}]),
            image_before: "kubernaut/gateway:debug".into(),
            image_after: "localhost/kubernaut/gateway:debug".into(),
            pull_policy_before: Some("Always".into()),
            pull_policy_after: Some("IfNotPresent".into()),
        }
    }

    #[test]
    fn an_undo_expects_the_old_image_back() {
        let r = reversed(&plan());
        assert_eq!(r.image_after, "kubernaut/gateway:debug");
        assert_eq!(r.pull_policy_after.as_deref(), Some("Always"));
        assert_eq!(r.patch, plan().undo);
        assert_eq!(reversed(&r), plan());
    }

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
