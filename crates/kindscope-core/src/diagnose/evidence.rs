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
/// Whether a diagnosis reads the same of `a` as of `b`. It reads an event's subject, reason,
/// message and when its series began ([`when`]); a repeat (the recorder bumping `count` and
/// `lastTimestamp`, or a new-style event's `series`) changes none of them, so a cluster whose
/// broken pods keep retrying brings nothing to re-judge.
pub fn same_evidence(a: &Event, b: &Event) -> bool {
    a.involved_object == b.involved_object
        && a.reason == b.reason
        && a.message == b.message
        && a.metadata.namespace == b.metadata.namespace
        && when(a) == when(b)
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

/// When an event's series began: its first occurrence, which a repeat (the recorder bumping
/// `count` and `lastTimestamp`) does not move, so repeats never reorder the evidence.
fn when(e: &Event) -> Option<Timestamp> {
    e.first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
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

    /// The kubelet's words for a subject, each distinct line once: the failing pods' waiting
    /// messages, read so that every phase of a back-off loop says the same thing; the pods'
    /// events only when no status carries a message.
    ///
    /// A finding must read the same on every run over an unchanged cluster. Events cannot
    /// promise that: they age out after the apiserver's event TTL, the kubelet's recorder
    /// folds similar ones into a `(combined from similar events)` one, and their last
    /// timestamps reorder them at every retry. The pod's status holds the same evidence.
    pub fn lines(&self, subject: &Subject<'_>) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let push = |lines: &mut Vec<String>, s: &str| {
            let s = s.trim();
            if !s.is_empty() && lines.len() < MAX_LINES && !lines.iter().any(|l| l == s) {
                lines.push(s.to_string());
            }
        };
        for f in &subject.failing {
            if let Some(m) = f.message.and_then(|m| status_line(f.reason, m)) {
                push(&mut lines, m);
            } else if f.predicted {
                push(&mut lines, &predicted_line(subject, f));
            }
        }
        if !lines.is_empty() {
            return lines;
        }
        let field_path = format!(
            "spec.{}{{{}}}",
            if subject.init {
                "initContainers"
            } else {
                "containers"
            },
            subject.container
        );
        for f in &subject.failing {
            let events = self.by_pod.get(&(subject.namespace, f.name));
            for e in events.map(Vec::as_slice).unwrap_or(&[]) {
                if e.involved_object.field_path.as_deref() == Some(field_path.as_str())
                    && let Some(m) = e.message.as_deref().and_then(event_line)
                {
                    push(&mut lines, m);
                }
            }
        }
        lines
    }
}

/// A waiting message as evidence, the same in every phase of a back-off loop. The kubelet's
/// image manager words `ImagePullBackOff` as `Back-off pulling image "X": ErrImagePull: <the
/// pull's error>`, and `ErrImagePull` as the error alone: both give the error. A bare
/// `Back-off pulling image "X"` (older kubelets) says nothing the reason does not.
fn status_line<'m>(reason: &str, message: &'m str) -> Option<&'m str> {
    if reason != "ImagePullBackOff" {
        return Some(message);
    }
    let Some(rest) = message.strip_prefix("Back-off pulling image \"") else {
        return Some(message);
    };
    let (_, wrapped) = rest.split_once("\": ")?;
    match wrapped.split_once(": ") {
        Some((cause, error)) if !cause.is_empty() && !cause.contains(' ') => Some(error),
        _ => Some(wrapped),
    }
}

/// An event's message as evidence: without the recorder's aggregation prefix, and none for the
/// lines that only name the phase (`Error: ImagePullBackOff`, `Back-off pulling image "X"`).
fn event_line(message: &str) -> Option<&str> {
    let m = message
        .strip_prefix("(combined from similar events): ")
        .unwrap_or(message);
    let phase_only = m.strip_prefix("Error: ").is_some_and(|r| !r.contains(' '))
        || (m.starts_with("Back-off pulling image \"") && m.ends_with('"'));
    (!phase_only).then_some(m)
}
