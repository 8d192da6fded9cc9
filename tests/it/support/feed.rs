//! Waiting on a snapshot feed.

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
