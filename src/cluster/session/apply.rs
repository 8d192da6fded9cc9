//! One write, start to end: write guard → guarded patch → journal → rollout, as a stream of
//! [`Step`]s. `kindscope fix`, `kindscope undo` and the dashboard all write through
//! [`apply_and_follow`], so the order (nothing journalled that was not applied, no rollout
//! followed that was not patched) and the wording live in one place.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::channel::mpsc;
use tokio::sync::watch;

use crate::cluster::apply::{self, Applied, ApplyError};
use crate::cluster::connect::Connection;
use crate::cluster::journal::{self, Journal, JournalEntry, JournalError};
use crate::cluster::rollout::{self, RolloutOutcome, RolloutProgress};
use crate::fix::FixPlan;
use crate::model::Snapshot;

/// Which way a plan is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Direction {
    /// `plan.patch`: the fix.
    Fix,
    /// `plan.undo`; `of` is the journal entry of the fix it reverts, when known.
    Undo { of: Option<Box<JournalEntry>> },
}

impl Direction {
    pub fn is_undo(&self) -> bool {
        matches!(self, Direction::Undo { .. })
    }
}

/// How a write is carried out.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// The write guard's verdict for this connection (`Err` = the refusal sentence). Checked
    /// again here, whatever the caller checked before.
    pub guard: Result<(), String>,
    /// Send with `dryRun=All`: nothing stored, nothing journalled, no rollout.
    pub dry_run: bool,
    /// Where to record the write; None records nothing.
    pub journal: Option<Journal>,
    /// How long to follow the rollout.
    pub rollout_timeout: Duration,
}

/// One step of a write, in order: `Refused` or `Failed` end it; else `Applied`, then (when
/// journalling) `Journaled` or `NotJournaled`, then `Progress`… and `Done` (not for dry runs).
#[derive(Debug, Clone)]
pub enum Step {
    /// The write guard refused; nothing was sent.
    Refused(String),
    /// The API server refused the patch or could not be reached; nothing changed.
    Failed(ApplyError),
    /// The patch was accepted (`applied.dry_run` for a dry run, which ends here).
    Applied(Applied),
    /// Recorded in the journal (the entry written).
    Journaled(Box<JournalEntry>),
    /// Applied but not recorded; the write stands.
    NotJournaled(JournalError),
    /// Rollout progress (only when it changed).
    Progress(RolloutProgress),
    /// The rollout ended.
    Done(RolloutOutcome),
}

/// The steps of one write; dropping it stops following the rollout.
pub struct Steps {
    rx: mpsc::UnboundedReceiver<Step>,
    task: tokio::task::JoinHandle<()>,
}

impl Stream for Steps {
    type Item = Step;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Step>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Write `plan` in `direction` through `conn`, following the rollout on `snapshots`. Starts at
/// once (on its own task); read the steps from the returned stream.
pub fn apply_and_follow(
    conn: &Connection,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    plan: &FixPlan,
    direction: Direction,
    opts: WriteOptions,
) -> Steps {
    let (tx, rx) = mpsc::unbounded();
    let conn = conn.clone();
    let plan = plan.clone();
    let task = tokio::spawn(async move {
        // A closed receiver means nobody listens any more; the write itself still completes.
        let send = |step: Step| {
            let _ = tx.unbounded_send(step);
        };
        if let Err(why) = &opts.guard {
            send(Step::Refused(why.clone()));
            return;
        }
        let sent = if direction.is_undo() {
            apply::undo(&conn.client, &plan, opts.dry_run).await
        } else {
            apply::apply(&conn.client, &plan, opts.dry_run).await
        };
        let applied = match sent {
            Ok(a) => a,
            Err(e) => {
                send(Step::Failed(e));
                return;
            }
        };
        let generation = applied.generation;
        send(Step::Applied(applied));
        if opts.dry_run {
            return;
        }
        if let Some(j) = &opts.journal {
            match record(j, &conn, &plan, &direction) {
                Ok(entry) => send(Step::Journaled(Box::new(entry))),
                Err(e) => send(Step::NotJournaled(e)),
            }
        }
        // An undo rolls back to the plan's old image: follow that one.
        let expected = match direction {
            Direction::Fix => plan.clone(),
            Direction::Undo { .. } => reversed(&plan),
        };
        let outcome = rollout::follow_plan(
            snapshots,
            &expected,
            generation,
            opts.rollout_timeout,
            |p| send(Step::Progress(p.clone())),
        )
        .await;
        send(Step::Done(outcome));
    });
    Steps { rx, task }
}

/// Journal the write; an undo points at the fix it reverts when that is known.
fn record(
    journal: &Journal,
    conn: &Connection,
    plan: &FixPlan,
    direction: &Direction,
) -> Result<JournalEntry, JournalError> {
    let mut entry = match direction {
        Direction::Fix => {
            JournalEntry::new(journal::Action::Fix, &conn.context, &conn.server, plan)
        }
        Direction::Undo { .. } => {
            JournalEntry::new(journal::Action::Undo, &conn.context, &conn.server, plan)
        }
    };
    if let Direction::Undo { of: Some(fix) } = direction {
        entry.undoes = Some(fix.id.clone());
    }
    journal.append(&entry)?;
    Ok(entry)
}

/// The plan an undo carries out: from the fixed values back to the old ones.
pub fn reversed(plan: &FixPlan) -> FixPlan {
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

/// "still rolling out after N s: …" for a rollout that timed out.
pub fn timed_out_reason(timeout: Duration, last: &RolloutProgress) -> String {
    format!(
        "still rolling out after {} s: {}",
        timeout.as_secs(),
        last.message
    )
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
}
