//! Unit tests of `cluster::watch`.

use super::*;
use crate::cluster::runtime_feed::assemble_node_images;
use crate::model::{ImageSources, NodeImage, RuntimeListing};
use crate::model::{ObjectList, ResourceState};
use k8s_openapi::api::core::v1::{ContainerImage, NodeStatus};
use std::collections::BTreeSet;

fn node(name: &str, images: &[&[&str]]) -> Arc<Node> {
    let mut n = Node::default();
    n.metadata.name = Some(name.into());
    n.status = Some(NodeStatus {
        images: Some(
            images
                .iter()
                .map(|names| ContainerImage {
                    names: Some(names.iter().map(|s| s.to_string()).collect()),
                    size_bytes: Some(100),
                })
                .collect(),
        ),
        ..NodeStatus::default()
    });
    Arc::new(n)
}

fn lists() -> Arc<RuntimeLists> {
    let image = |name: &str, id: &str, size| NodeImage {
        names: vec![name.into()],
        id: Some(id.into()),
        size_bytes: size,
        sources: ImageSources::default(),
    };
    let mut listings = crate::cluster::runtime_feed::Listings::new();
    listings.insert(
        "w1".into(),
        Ok(vec![
            image("docker.io/library/nginx:1.27", "sha256:aa", 100),
            image("localhost/kubernaut/gateway:debug", "sha256:bb", 5),
        ]),
    );
    Arc::new(RuntimeLists {
        runtime: "podman".into(),
        listings,
    })
}

#[test]
fn node_images_start_from_the_api_and_merge_the_runtime() {
    let nodes: ObjectList<Node> = vec![
        node("w1", &[&["docker.io/library/nginx:1.27"]]),
        node("w2", &[]),
    ]
    .into();
    let api_only = assemble_node_images(&nodes, None);
    assert_eq!(api_only["w1"].images.len(), 1);
    assert_eq!(api_only["w1"].runtime, RuntimeListing::NotTried);

    let lists = lists();
    let all = assemble_node_images(&nodes, Some(&lists));
    assert_eq!(all.len(), 2);
    let w1 = &all["w1"];
    assert_eq!(w1.images.len(), 2);
    assert_eq!(w1.images[0].id.as_deref(), Some("sha256:aa"));
    assert!(w1.images[0].sources.api && w1.images[0].sources.runtime);
    assert!(!w1.images[1].sources.api && w1.images[1].sources.runtime);
    assert!(matches!(w1.runtime, RuntimeListing::Ok { .. }));
    assert_eq!(all["w2"].runtime, RuntimeListing::NotTried);
    assert!(all["w2"].images.is_empty());
}

#[test]
fn node_images_cache_follows_nodes_and_runtime_lists() {
    let mut cache = NodeImagesCache::default();
    let nodes: ObjectList<Node> = vec![node("w1", &[&["a:1"]])].into();
    assert_eq!(cache.get(&nodes, None)["w1"].images.len(), 1);
    let lists = lists();
    // A new runtime list is merged even though the nodes did not change.
    assert_eq!(cache.get(&nodes, Some(&lists))["w1"].images.len(), 3);
    // A changed node (new resourceVersion) is re-read.
    let mut changed = (*node("w1", &[&["a:1"], &["b:1"]])).clone();
    changed.metadata.resource_version = Some("2".into());
    let nodes: ObjectList<Node> = vec![Arc::new(changed)].into();
    assert_eq!(cache.get(&nodes, Some(&lists))["w1"].images.len(), 4);
}

#[test]
fn readiness_needs_required_resources_and_tolerates_forbidden_events() {
    let none = BTreeSet::new();
    let mut snap = Snapshot::default();
    for n in RESOURCES {
        snap.resources.insert(n, ResourceState::Live);
    }
    assert!(matches!(readiness(&snap, &none), Readiness::Ready));
    snap.resources.insert(
        Watched::Events,
        ResourceState::Forbidden {
            reason: "no".into(),
        },
    );
    assert!(matches!(readiness(&snap, &none), Readiness::Ready));
    snap.resources.insert(Watched::Pods, ResourceState::Loading);
    assert!(matches!(readiness(&snap, &none), Readiness::Waiting));
    snap.resources.insert(
        Watched::Nodes,
        ResourceState::Forbidden {
            reason: "403".into(),
        },
    );
    assert!(matches!(
        readiness(&snap, &none),
        Readiness::Forbidden(Watched::Nodes, _)
    ));
}

#[test]
fn a_stale_resource_is_ready_only_when_it_listed_before() {
    let mut snap = Snapshot::default();
    for n in RESOURCES {
        snap.resources.insert(n, ResourceState::Live);
    }
    let stale = ResourceState::Stale {
        reason: "HTTP 410".into(),
        since: None,
    };
    snap.resources.insert(Watched::Pods, stale);
    // Failing before its first list: nothing to report on yet.
    assert!(matches!(
        readiness(&snap, &BTreeSet::new()),
        Readiness::Waiting
    ));
    // Failing after a complete list (e.g. every watch ends in 410): the list is usable.
    let listed: BTreeSet<Watched> = [Watched::Pods].into();
    assert!(matches!(readiness(&snap, &listed), Readiness::Ready));
}

#[test]
fn the_evidence_selector_leaves_routine_events_on_the_server() {
    use crate::sim::query::FieldSelector;
    use crate::sim::resources::EVENTS;
    let sel = FieldSelector::parse(&EVENTS, &not_evidence_selector()).expect("a valid selector");
    let event = |kind: &str, reason: &str| serde_json::json!({"involvedObject": {"kind": kind, "name": "p"}, "reason": reason});
    for reason in ["Failed", "BackOff", "ErrImageNeverPull", "InspectFailed"] {
        assert!(sel.matches(&event("Pod", reason)), "{reason} is evidence");
    }
    for reason in ROUTINE_REASONS {
        assert!(
            !sel.matches(&event("Pod", reason)),
            "{reason} stays on the server"
        );
    }
    assert!(!sel.matches(&event("Deployment", "Failed")));
}

#[test]
fn the_runtime_is_asked_again_when_a_node_reports_other_images() {
    use crate::cluster::runtime_feed::api_fingerprint;
    let before = node("w1", &[&["a:1"]]);
    let same = node("w1", &[&["a:1"]]);
    let loaded = node("w1", &[&["a:1"], &["localhost/new:dev"]]);
    assert_eq!(api_fingerprint(&before), api_fingerprint(&same));
    assert_ne!(api_fingerprint(&before), api_fingerprint(&loaded));
}
