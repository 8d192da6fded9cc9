//! A pod being deleted gracefully, on its node: the kubelet stops its containers (`Killing`
//! events), then deletes the pod for good (a delete with grace period 0), which is when it
//! leaves the API. Containers stop at once here (no process ignores SIGTERM), so that takes
//! the simulated stop time, or the grace period when it is shorter.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::super::engine::{Engine, Work, key_of, uid_of};
use super::super::store::PODS;

/// How long stopping a pod's containers takes.
const STOP_TIME: Duration = Duration::from_secs(1);

/// One kubelet sync of a pod that has a deletion timestamp.
pub(crate) fn sync_terminating(e: &mut Engine, pod: &Value) {
    let uid = uid_of(pod).to_string();
    let now = Instant::now();
    let deadline = match e.kubelet.terminating.get(&uid) {
        Some(at) => *at,
        None => {
            super::pod_deleted(e, pod);
            let grace = pod["metadata"]["deletionGracePeriodSeconds"]
                .as_u64()
                .unwrap_or(0);
            let at = e.clock.after(STOP_TIME.min(Duration::from_secs(grace)));
            e.kubelet.terminating.insert(uid.clone(), at);
            at
        }
    };
    if now < deadline {
        e.at(deadline, Work::SyncPod(key_of(pod)));
        return;
    }
    e.kubelet.terminating.remove(&uid);
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    e.delete(&PODS, ns, name);
}
