//! What the dashboard asks of the cluster, and what comes back.
//!
//! The event loop sends [`Request`]s to a [`Backend`]; the backend does the IO (on its own tasks)
//! and reports [`BackendEvent`]s on a channel, which the loop turns into actions. The real
//! backend wraps the cluster edge (`cluster::apply`, `undo`, `rollout::follow`); tests use
//! [`FakeBackend`].

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::cluster::journal::JournalEntry;
use crate::fix::{FixPlan, Target};
use crate::model::Snapshot;

/// Work the dashboard hands to the backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Apply a fix plan's patch, then follow the rollout.
    Apply(FixPlan),
    /// Apply a plan's undo patch, then follow the rollout.
    Undo(FixPlan),
    /// Look at another namespace (None = all). The backend may answer with a new feed.
    SwitchNamespace(Option<String>),
    /// Read the journal: the fixes on this cluster not undone yet (answered with `History`).
    UndoHistory,
    /// Stream a container's log into view `id` (replaces any log stream running).
    Logs(LogRequest),
    /// Fetch an object's YAML into view `id`.
    Yaml { id: u64, object: ObjectRef },
    /// The view closed: stop its log stream.
    CloseView,
    /// Attach to another context of the kubeconfig (answered with `Context`, then `Feed`).
    SwitchContext(String),
    /// Read every node's images from the container runtime again.
    RefreshNodeImages,
}

/// The context the backend switched to.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextInfo {
    pub context: String,
    pub server: String,
    pub write: WriteAccess,
    /// A note to show (a Kind cluster whose runtime does not answer).
    pub notice: Option<String>,
}

/// The kinds of object the views show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Pod,
    Deployment,
    Node,
}

/// One object of the cluster (`namespace` is empty for nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    /// `Pod default/gateway-…`, `Node kind-worker`.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            ObjectKind::Pod => "Pod",
            ObjectKind::Deployment => "Deployment",
            ObjectKind::Node => "Node",
        };
        if self.namespace.is_empty() {
            format!("{kind} {}", self.name)
        } else {
            format!("{kind} {}/{}", self.namespace, self.name)
        }
    }
}

/// A log for view `id`: `GET …/pods/NAME/log` with these (bounded) parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub id: u64,
    pub query: crate::cluster::inspect::LogQuery,
}

/// How a followed rollout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutOutcome {
    /// The new pods are Running and ready.
    Running,
    /// It did not get there: a new waiting reason, a timeout, a deleted object (one sentence).
    Failed(String),
}

/// What the backend reports back.
#[derive(Debug, Clone)]
pub enum BackendEvent {
    /// The patch was accepted by the API server (`undo` = it was an undo patch).
    Applied { target: Target, undo: bool },
    /// The patch was refused or could not be sent (422 guard failure, 403, connection…).
    ApplyFailed {
        target: Target,
        undo: bool,
        message: String,
    },
    /// Rollout progress, one short line (`1/1 updated, 0 ready: ContainerCreating`).
    Rollout { target: Target, message: String },
    /// The rollout ended.
    RolloutDone {
        target: Target,
        outcome: RolloutOutcome,
    },
    /// A new snapshot feed replaces the old one (after a namespace switch).
    Feed(watch::Receiver<Arc<Snapshot>>),
    /// Something the user should read in the status line.
    Notice(String),
    /// The fixes on this cluster not undone yet, newest first (or why the journal could not
    /// be read).
    History(Result<Vec<JournalEntry>, String>),
    /// The context switch succeeded (the new feed follows) or why it did not.
    Context(Result<Box<ContextInfo>, String>),
    /// Content for the text view `id` (logs, YAML).
    View {
        id: u64,
        update: crate::tui::textview::ViewUpdate,
    },
}

/// Channel on which a backend reports.
pub type EventSink = mpsc::UnboundedSender<BackendEvent>;

/// The cluster side of the dashboard. `submit` must return at once (spawn the work) and report
/// progress and results through `events`.
pub trait Backend: Send + 'static {
    fn submit(&mut self, request: Request, events: &EventSink);
}

/// Whether the dashboard may write to the cluster (from the cluster edge's write guard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteAccess {
    /// Writes allowed; `label` names why in the status bar (`kind`, `allow-write`).
    Allowed { label: String },
    /// Writes refused: `why` in one sentence, `how` to allow them.
    Refused {
        label: String,
        why: String,
        how: String,
    },
}

impl WriteAccess {
    pub fn label(&self) -> &str {
        match self {
            WriteAccess::Allowed { label } | WriteAccess::Refused { label, .. } => label,
        }
    }
}

/// A backend for tests and demos without a cluster: records requests and answers with a
/// scripted outcome.
#[derive(Debug, Default, Clone)]
pub struct FakeBackend {
    pub requests: Arc<std::sync::Mutex<Vec<Request>>>,
    /// When set, every apply/undo fails with this message.
    pub fail_with: Option<String>,
    /// What `UndoHistory` answers (an empty journal by default).
    pub history: Vec<JournalEntry>,
}

impl Backend for FakeBackend {
    fn submit(&mut self, request: Request, events: &EventSink) {
        // Recorded after answering, so a test that sees the request also finds the answers queued.
        let record = request.clone();
        let (plan, undo) = match request {
            Request::Apply(plan) => (plan, false),
            Request::Undo(plan) => (plan, true),
            Request::SwitchContext(context) => {
                let _ = events.send(BackendEvent::Context(Err(format!(
                    "cannot switch to {context}: this dashboard has no kubeconfig"
                ))));
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
            Request::Logs(_) | Request::Yaml { .. } | Request::CloseView => {
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
            Request::UndoHistory => {
                let _ = events.send(BackendEvent::History(Ok(self.history.clone())));
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
            Request::SwitchNamespace(_) | Request::RefreshNodeImages => {
                if let Ok(mut log) = self.requests.lock() {
                    log.push(record);
                }
                return;
            }
        };
        let target = plan.target.clone();
        // A closed receiver means the loop is gone; nothing left to report to.
        let _ = match &self.fail_with {
            Some(message) => events.send(BackendEvent::ApplyFailed {
                target,
                undo,
                message: message.clone(),
            }),
            None => events
                .send(BackendEvent::Applied {
                    target: target.clone(),
                    undo,
                })
                .and_then(|()| {
                    events.send(BackendEvent::RolloutDone {
                        target,
                        outcome: RolloutOutcome::Running,
                    })
                }),
        };
        if let Ok(mut log) = self.requests.lock() {
            log.push(record);
        }
    }
}
