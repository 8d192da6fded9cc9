//! Waiting on a snapshot feed, and telling when its pods have settled.

use std::sync::Arc;
use std::time::Duration;

use kindscope::model::Snapshot;

/// Wait (on snapshot changes, up to `bound`: a failure bound only) for a snapshot that
/// satisfies `pred`.
pub async fn until_within(
    rx: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    bound: Duration,
    what: &str,
    pred: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        let snap = rx.borrow_and_update().clone();
        if pred(&snap) {
            return snap;
        }
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; last: {:?}", snap.resources))
            .expect("feed alive");
    }
}

/// Every live pod's containers run or wait for a reason that will not change by itself (not
/// still being created). True of a snapshot without pods.
pub fn pods_settled(s: &Snapshot) -> bool {
    s.pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .all(|p| {
            let want = p.spec.as_ref().map_or(0, |s| s.containers.len());
            let statuses = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref());
            statuses.is_some_and(|cs| {
                cs.len() == want
                    && cs.iter().all(|c| {
                        c.state.as_ref().is_some_and(|st| {
                            st.running.is_some()
                                || st.waiting.as_ref().is_some_and(|w| {
                                    !matches!(
                                        w.reason.as_deref(),
                                        None | Some("ContainerCreating" | "PodInitializing")
                                    )
                                })
                        })
                    })
            })
        })
}
