//! After a conflict, waiting until the feed shows the cluster as it is now, so `fix`'s final
//! diagnosis tells the truth (docs/security.md, "Guarded identity").

use std::sync::Arc;

use crate::cluster::watch;
use crate::diagnose::diagnose;
use crate::fix::FixPlan;
use crate::k8s::container;
use crate::model::Snapshot;

use super::SETTLE;

/// Wait (briefly, on snapshot changes) until no finding remains for the workloads of `running`.
pub(super) async fn settle_workloads(feed: &watch::Feed, running: &[&FixPlan]) -> Arc<Snapshot> {
    wait_until(feed, |snap| {
        !diagnose(snap).iter().any(|f| {
            running.iter().any(|p| {
                f.namespace == p.target.namespace
                    && f.container == p.container
                    && f.workload == p.target.workload()
            })
        })
    })
    .await
}

/// Wait (briefly) until the feed shows every conflicting target as it is now rather than as it
/// was planned: the watch event of the other writer's change may trail its 422.
pub(super) async fn caught_up(feed: &watch::Feed, conflicts: &[&FixPlan]) -> Arc<Snapshot> {
    let as_planned = |p: &FixPlan, snap: &Snapshot| {
        let change = crate::fix::Change {
            target: p.target.clone(),
            container: p.container.clone(),
            image_before: p.image_before.clone(),
            image_after: Some(p.image_after.clone()),
            pull_policy_after: p.pull_policy_after.clone(),
        };
        crate::fix::plan_change(&change, snap).as_ref() == Some(p)
    };
    wait_until(feed, |snap| !conflicts.iter().any(|p| as_planned(p, snap))).await
}

/// A recreated workload with the old image has no pods at first, and a diagnosis then would
/// call it healthy: settled means its finding is back, or it really is available.
pub(super) fn diagnosed_or_available(p: &FixPlan, snap: &Snapshot) -> bool {
    let workload = p.target.workload();
    if diagnose(snap)
        .iter()
        .any(|f| f.namespace == p.target.namespace && f.workload == workload)
    {
        return true;
    }
    let Some(d) = snap.deployments.iter().find(|d| {
        d.metadata.name.as_deref() == Some(p.target.name.as_str())
            && d.metadata.namespace.as_deref() == Some(p.target.namespace.as_str())
    }) else {
        return true;
    };
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    d.status.as_ref().is_some_and(|s| {
        s.observed_generation >= d.metadata.generation
            && s.updated_replicas.unwrap_or(0) == want
            && s.available_replicas.unwrap_or(0) == want
    })
}

/// Wait (up to the settle time, on snapshot changes) until `done` holds.
pub(super) async fn wait_until(
    feed: &watch::Feed,
    done: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let mut rx = feed.snapshots();
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let snap = rx.borrow_and_update().clone();
        if done(&snap) {
            return snap;
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            _ => return snap,
        }
    }
}

/// The image the plan's container has in `snap` now (None when the target or container is gone).
pub(super) fn current_image(p: &FixPlan, snap: &Snapshot) -> Option<String> {
    let spec = crate::fix::patchable(snap, &p.target)?.spec;
    container(spec, &p.container).and_then(|c| c.image.clone())
}
