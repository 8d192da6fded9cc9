//! What the dashboard asks of the cluster, and what comes back.
//!
//! The event loop sends [`Request`]s to a [`ClusterPort`]; the port does the IO (on its own
//! tasks) and reports [`PortEvent`]s on a channel, which the loop turns into actions. The real
//! port (`cluster_service::ClusterService`) wraps the cluster edge (`cluster::apply`, `undo`,
//! `rollout::follow`); tests use a scripted fake (`tests/it/support/fake_port.rs`).

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

/// How a followed rollout ended, as the dashboard shows it: `cluster::rollout::RolloutOutcome`
/// with a timeout told as a failure's sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowOutcome {
    /// The new pods are Running and ready.
    Running,
    /// It did not get there: a new waiting reason, a timeout, a deleted object (one sentence).
    Failed(String),
}

/// What the backend reports back.
#[derive(Debug, Clone)]
pub enum PortEvent {
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
        outcome: FollowOutcome,
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
pub type EventSink = mpsc::UnboundedSender<PortEvent>;

/// The cluster side of the dashboard. `submit` must return at once (spawn the work) and report
/// progress and results through `events`.
pub trait ClusterPort: Send + 'static {
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
