//! The kubelet's own words for a failing container: the waiting message, and the pod's events
//! about that container (`Failed`, `BackOff`, `ErrImageNeverPull`, `InspectFailed`).

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::index::FastMap;
use super::workloads::{FailingPod, Subject};
use crate::model::Snapshot;

const EVENT_REASONS: [&str; 4] = ["Failed", "BackOff", "ErrImageNeverPull", "InspectFailed"];

/// Is this an event [`EventIndex`] reads (a pod's image event)? A feed that serves only
/// reports can drop every other event as it arrives.
pub fn is_evidence(e: &Event) -> bool {
    e.involved_object.kind.as_deref() == Some("Pod")
        && e.reason
            .as_deref()
            .is_some_and(|r| EVENT_REASONS.contains(&r))
}
/// The line for a failure the kubelet has not reported yet but will (workloads.rs, `Certain`).
fn predicted_line(s: &Subject<'_>, f: &FailingPod<'_>) -> String {
    let node = f.node.unwrap_or("its node");
    if f.reason == "InvalidImageName" {
        format!(
            "pod {} has not started; the kubelet on {node} will reject {:?} (InvalidImageName)",
            f.name, s.image
        )
    } else {
        format!(
            "pod {} is scheduled to {node}, which does not hold {} (imagePullPolicy Never): the kubelet will report ErrImageNeverPull",
            f.name, s.image
        )
    }
}

/// Distinct kubelet lines kept per finding; 5,000 identical pods say the same thing.
const MAX_LINES: usize = 8;

/// Image events of pods, by (namespace, pod name), oldest first.
#[derive(Default)]
pub(crate) struct EventIndex<'a> {
    by_pod: FastMap<(&'a str, &'a str), Vec<&'a Event>>,
}

fn when(e: &Event) -> Option<Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

impl<'a> EventIndex<'a> {
    pub fn build(snap: &'a Snapshot) -> Self {
        let mut by_pod: FastMap<(&str, &str), Vec<&Event>> = FastMap::default();
        for e in &snap.events {
            let o = &e.involved_object;
            if !is_evidence(e) {
                continue;
            }
            let (Some(name), namespace) = (o.name.as_deref(), o.namespace.as_deref()) else {
                continue;
            };
            let namespace = namespace
                .or(e.metadata.namespace.as_deref())
                .unwrap_or("default");
            by_pod.entry((namespace, name)).or_default().push(e);
        }
        for list in by_pod.values_mut() {
            // Stable: events without any time keep their listing order.
            list.sort_by_key(|e| when(e));
        }
        EventIndex { by_pod }
    }

    /// Waiting messages first, then the matching events; each distinct line once.
    pub fn lines(&self, subject: &Subject<'_>) -> Vec<String> {
        let field_path = format!(
            "spec.{}{{{}}}",
            if subject.init {
                "initContainers"
            } else {
                "containers"
            },
            subject.container
        );
        let mut lines: Vec<String> = Vec::new();
        let mut push = |s: &str| {
            let s = s.trim();
            if !s.is_empty() && lines.len() < MAX_LINES && !lines.iter().any(|l| l == s) {
                lines.push(s.to_string());
            }
        };
        for f in &subject.failing {
            if let Some(m) = f.message {
                push(m);
            } else if f.predicted {
                push(&predicted_line(subject, f));
            }
        }
        for f in &subject.failing {
            let events = self.by_pod.get(&(subject.namespace, f.name));
            for e in events.map(Vec::as_slice).unwrap_or(&[]) {
                if e.involved_object.field_path.as_deref() == Some(field_path.as_str())
                    && let Some(m) = e.message.as_deref()
                {
                    push(m);
                }
            }
        }
        lines
    }
}
