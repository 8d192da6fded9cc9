//! Diagnose again only when a change can alter the diagnosis.
//!
//! Most changes of a busy cluster touch nothing a diagnosis reads: a label or annotation set by
//! an operator or a controller, a new resourceVersion, a routine event (Scheduled, Pulled,
//! Started), the repeat of an image event (a broken pod's kubelet retrying: only `count` and
//! `lastTimestamp` move). Comparing the new snapshot with the last diagnosed one walks the lists by pointer
//! (unchanged objects are the same `Arc`s, see `view_cache::diff`) and looks only at the
//! objects that differ; when none of them differs in a field the diagnosis reads, the last
//! report is reused (property-tested against a fresh diagnosis).

use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::diagnose::{Report, is_evidence, same_evidence};
use crate::model::{ObjectList, Snapshot};
use crate::tui::app::DiagnoseFn;

/// `inner`, reusing its last report while no change can alter it.
pub fn memoized(inner: fn(&Snapshot) -> Report) -> DiagnoseFn {
    let last: Mutex<Option<(Snapshot, Report)>> = Mutex::new(None);
    Arc::new(move |snap: &Snapshot| {
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((old, report)) = last.as_ref()
            && same_for_diagnosis(old, snap)
        {
            return report.clone();
        }
        let report = inner(snap);
        *last = Some((snap.clone(), report.clone()));
        report
    })
}

/// Would a diagnosis of `new` be the one of `old`? Conservative: any doubt says no.
pub(crate) fn same_for_diagnosis(old: &Snapshot, new: &Snapshot) -> bool {
    old.context == new.context
        && old.namespace == new.namespace
        && unchanged(&old.nodes, &new.nodes, |a, b| a == b)
        && (Arc::ptr_eq(&old.node_images, &new.node_images) || old.node_images == new.node_images)
        && unchanged(&old.pods, &new.pods, |a, b| {
            a.spec == b.spec && a.status == b.status && meta(&a.metadata, &b.metadata, false)
        })
        && unchanged(&old.deployments, &new.deployments, |a: &Deployment, b| {
            a.spec == b.spec && a.status == b.status && meta(&a.metadata, &b.metadata, false)
        })
        && unchanged(&old.replicasets, &new.replicasets, |a: &ReplicaSet, b| {
            a.spec == b.spec && a.status == b.status && meta(&a.metadata, &b.metadata, true)
        })
        && old
            .events
            .changes(&new.events)
            .all(|c| match (&c.old, &c.new) {
                (Some(a), Some(b)) if is_evidence(a) || is_evidence(b) => same_evidence(a, b),
                (a, b) => !a.iter().chain(b).any(|e| is_evidence(e)),
            })
}

/// Every object that differs between the lists is the same for the diagnosis (`same`).
fn unchanged<K>(old: &ObjectList<K>, new: &ObjectList<K>, same: impl Fn(&K, &K) -> bool) -> bool {
    old.changes(new).all(|c| match (&c.old, &c.new) {
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    })
}

/// Metadata equal but for what the diagnosis never reads: resourceVersion, managedFields, and
/// (unless `all_labels`) labels other than the template hash and annotations.
fn meta(a: &ObjectMeta, b: &ObjectMeta, all_labels: bool) -> bool {
    // The template hash ties a pod to its ReplicaSet when the owner reference is missing: the
    // only label of a pod or Deployment the diagnosis reads.
    let hash = crate::k8s::template_hash;
    let trimmed = |m: &ObjectMeta| ObjectMeta {
        resource_version: None,
        managed_fields: None,
        labels: if all_labels { m.labels.clone() } else { None },
        annotations: if all_labels {
            m.annotations.clone()
        } else {
            None
        },
        ..m.clone()
    };
    hash(a) == hash(b) && trimmed(a) == trimmed(b)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::tui::view_cache::tests::{Op, World, op};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Reusing a report gives exactly what a fresh diagnosis gives, whatever changed.
        #[test]
        fn a_reused_report_equals_a_fresh_diagnosis(steps in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![
                3 => op(),
                2 => (0usize..3, 0u8..8, 0u8..3).prop_map(|(ns, name, v)| Op::Label { ns, name, value: v }),
            ], 1..4), 1..30)) {
            let mut world = World::default();
            let cached = memoized(crate::diagnose::report);
            for ops in steps {
                for op in ops {
                    world.apply(op);
                }
                let snap = world.snapshot();
                prop_assert_eq!(cached(&snap), crate::diagnose::report(&snap));
            }
        }
    }

    #[test]
    fn a_repeated_image_event_reuses_the_report_and_a_new_message_does_not() {
        let mut world = World::default();
        let event = |time| Op::Event {
            ns: 0,
            name: 3,
            pod: 1,
            about_pod: true,
            time,
        };
        // An even time gives the event a firstTimestamp, as the kubelet's recorder does.
        world.apply(event(2));
        let a = world.snapshot();
        world.apply(Op::Repeat { ns: 0, name: 3 });
        let b = world.snapshot();
        assert!(!a.events.ptr_eq(&b.events), "the event changed");
        assert!(same_for_diagnosis(&a, &b), "count and lastTimestamp only");
        world.apply(event(4));
        let c = world.snapshot();
        assert!(!same_for_diagnosis(&b, &c), "a new message is new evidence");
        // Without firstTimestamp the last one orders the evidence: a repeat may reorder it.
        world.apply(event(3));
        let d = world.snapshot();
        world.apply(Op::Repeat { ns: 0, name: 3 });
        let e = world.snapshot();
        assert!(!same_for_diagnosis(&d, &e));
    }

    #[test]
    fn a_label_change_reuses_the_report_and_a_status_change_does_not() {
        let mut world = World::default();
        world.apply(Op::Pod {
            ns: 0,
            name: 1,
            rs: None,
            reason: 1,
            restarts: 0,
        });
        let a = world.snapshot();
        world.apply(Op::Label {
            ns: 0,
            name: 1,
            value: 2,
        });
        let b = world.snapshot();
        assert!(
            !Arc::ptr_eq(
                a.pods.first().expect("a pod"),
                b.pods.first().expect("a pod")
            ),
            "a new object"
        );
        assert!(same_for_diagnosis(&a, &b));
        world.apply(Op::Pod {
            ns: 0,
            name: 1,
            rs: None,
            reason: 0,
            restarts: 0,
        });
        let c = world.snapshot();
        assert!(!same_for_diagnosis(&b, &c));
    }
}
