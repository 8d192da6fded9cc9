//! Not started yet: neither healthy nor a finding, except where the outcome is already certain.

use k8s_openapi::api::core::v1::PodCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::{CP, W, cluster, only};
use crate::diagnose::testkit::{Cluster, Deploy, Fate};
use crate::diagnose::{FindingKind, Pending, Report, diagnose, report};

const CART: &str = "localhost/shop/cart:1.2.0";

fn one_pending(r: &Report) -> &Pending {
    assert!(
        r.findings.is_empty(),
        "no finding expected: {:#?}",
        r.findings
    );
    assert_eq!(r.pending.len(), 1, "one pending expected: {:#?}", r.pending);
    assert!(!r.healthy, "pending is never healthy");
    &r.pending[0]
}

/// A cluster with one bare pod `shop/NAME` (one container), not started yet.
fn bare_pod(name: &str, image: &str, policy: &str, node: Option<&str>) -> crate::model::Snapshot {
    cluster(&[])
        .other_pod("shop", name, None, &[("c", image, Some(policy))], node, &[])
        .build()
}

fn cart(policy: &str) -> Deploy {
    Deploy::new("shop", "cart").container_policy("cart", CART, policy)
}

#[test]
fn a_pod_without_status_is_pending_with_what_its_node_holds() {
    let mut c = cluster(&[
        CART,
        "localhost/shop/cart:1.1.0",
        "docker.io/library/redis:7.4",
    ])
    .deploy(cart("IfNotPresent"))
    .pod("cart", W, &[("cart", Fate::Pending)]);
    let created: Timestamp = "2026-12-01T21:30:00Z".parse().expect("time");
    if let Some(p) = c.snapshot_mut().pods.first_mut() {
        std::sync::Arc::make_mut(p).metadata.creation_timestamp = Some(Time(created));
    }
    let snap = c.build();
    let r = report(&snap);
    let p = one_pending(&r);
    assert_eq!(p.workload, "Deployment/cart");
    assert_eq!(
        p.pod.as_deref(),
        Some(
            snap.pods
                .nth(0)
                .expect("a pod")
                .metadata
                .name
                .as_deref()
                .unwrap_or("")
        )
    );
    assert_eq!(p.container, "cart");
    assert_eq!(p.image, CART);
    assert_eq!(p.node.as_deref(), Some(W));
    assert_eq!(p.reason, "Scheduled");
    assert_eq!(p.since.as_deref(), Some("2026-12-01T21:30:00Z"));
    // Exact name first, then the same repository; unrelated images are not "similar".
    assert_eq!(p.similar_on_node, vec![CART, "localhost/shop/cart:1.1.0"]);
    assert_eq!(diagnose(&snap), vec![], "pending is not a finding");
}

#[test]
fn kubelet_start_states_are_pending_and_running_is_healthy() {
    for reason in ["ContainerCreating", "PodInitializing"] {
        let snap = cluster(&[CART])
            .deploy(cart("IfNotPresent"))
            .pod("cart", W, &[("cart", Fate::waiting(reason, ""))])
            .build();
        assert_eq!(one_pending(&report(&snap)).reason, reason);
    }
    let snap = cluster(&[CART])
        .deploy(cart("IfNotPresent"))
        .pod("cart", W, &[("cart", Fate::Running)])
        .build();
    let r = report(&snap);
    assert!(
        r.healthy && r.pending.is_empty() && r.findings.is_empty(),
        "{r:#?}"
    );
}

#[test]
fn past_the_image_step_is_not_pending() {
    // The kubelet sets these only after EnsureImageExists succeeded: the image is there.
    for reason in [
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    ] {
        let snap = cluster(&[CART])
            .deploy(cart("IfNotPresent"))
            .pod(
                "cart",
                W,
                &[("cart", Fate::waiting(reason, "secret \"x\" not found"))],
            )
            .build();
        let r = report(&snap);
        assert!(r.healthy, "{reason}: {r:#?}");
    }
}

#[test]
fn between_back_off_retries_is_a_finding_not_pending() {
    let snap = cluster(&[])
        .deploy(Deploy::new("shop", "cart").container("cart", "localhost/shop/cart:9"))
        .pod("cart", W, &[("cart", Fate::pull_backoff())])
        .pod("cart", W, &[("cart", Fate::err_pull())])
        .build();
    let r = report(&snap);
    assert_eq!(r.findings.len(), 1, "{r:#?}");
    assert!(r.pending.is_empty() && !r.healthy, "{r:#?}");
}

#[test]
fn never_and_absent_on_the_scheduled_node_is_a_finding_before_the_kubelet_says_so() {
    let snap = cluster(&["docker.io/shop/cart:1.2.0"])
        .deploy(cart("Never"))
        .pod("cart", W, &[("cart", Fate::Pending)])
        .build();
    let r = report(&snap);
    let f = only(&r.findings);
    assert_eq!(f.kind, FindingKind::RegistryPrefix);
    assert_eq!(
        f.suggested_image.as_deref(),
        Some("docker.io/shop/cart:1.2.0")
    );
    assert_eq!(
        f.pods,
        vec![
            snap.pods
                .nth(0)
                .expect("a pod")
                .metadata
                .name
                .clone()
                .unwrap_or_default()
        ]
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("will report ErrImageNeverPull")),
        "{:?}",
        f.evidence
    );
    assert!(r.pending.is_empty(), "{r:#?}");
}

#[test]
fn never_is_not_certain_on_an_incomplete_list_or_when_the_node_holds_it() {
    // A capped Node.status.images may hide the image: not certain, so pending.
    let snap = cluster(&["docker.io/library/big-0:1"])
        .capped(W)
        .deploy(cart("Never"))
        .pod("cart", W, &[("cart", Fate::Pending)])
        .build();
    assert_eq!(one_pending(&report(&snap)).reason, "Scheduled");
    // The runtime was asked and failed: the API's list may lag behind a fresh `kind load`.
    let mut c = cluster(&["docker.io/shop/cart:1.2.0"])
        .deploy(cart("Never"))
        .pod("cart", W, &[("cart", Fate::Pending)]);
    if let Some(ni) = std::sync::Arc::make_mut(&mut c.snapshot_mut().node_images).get_mut(W) {
        ni.runtime = crate::model::RuntimeListing::Failed {
            runtime: "docker".into(),
            reason: "docker is not running".into(),
        };
    }
    assert_eq!(one_pending(&report(&c.build())).reason, "Scheduled");
    // The exact name is there: it will start.
    let snap = cluster(&[CART])
        .deploy(cart("Never"))
        .pod(
            "cart",
            W,
            &[("cart", Fate::waiting("ContainerCreating", ""))],
        )
        .build();
    assert_eq!(one_pending(&report(&snap)).reason, "ContainerCreating");
}

#[test]
fn a_bare_pod_scheduled_with_never_and_no_image_is_a_finding() {
    let snap = bare_pod("catalog", "localhost/shop/catalog:3.1", "Never", Some(W));
    let r = report(&snap);
    let f = only(&r.findings);
    assert_eq!(
        (f.kind, f.workload.as_str()),
        (FindingKind::NotLoaded, "Pod/catalog")
    );
    assert!(r.pending.is_empty());
}

#[test]
fn an_unscheduled_pod_is_pending_with_what_eligible_nodes_hold() {
    let mut c = cluster(&[CART])
        .deploy(cart("IfNotPresent"))
        .pod_on("cart", None, &[]);
    if let Some(p) = c.snapshot_mut().pods.first_mut() {
        let status = std::sync::Arc::make_mut(p).status.get_or_insert_default();
        status.conditions = Some(vec![PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            reason: Some("Unschedulable".into()),
            ..Default::default()
        }]);
    }
    let r = report(&c.build());
    let p = one_pending(&r);
    assert_eq!(
        (p.reason.as_str(), p.node.as_deref()),
        ("Unschedulable", None)
    );
    // The control plane is tainted NoSchedule: only the worker is eligible, and it holds it.
    assert_eq!(p.similar_on_node, vec![CART]);
}

#[test]
fn a_deployment_without_its_pods_yet_is_pending() {
    let snap = cluster(&[CART])
        .deploy(cart("IfNotPresent").replicas(2))
        .build();
    let r = report(&snap);
    let p = one_pending(&r);
    assert_eq!(
        (p.pod.as_deref(), p.reason.as_str()),
        (None, "PodNotCreated")
    );
    let snap = cluster(&[CART])
        .deploy(cart("IfNotPresent").replicas(2))
        .pod("cart", W, &[("cart", Fate::Running)])
        .pod("cart", W, &[("cart", Fate::Running)])
        .build();
    assert!(report(&snap).healthy);
    let snap = cluster(&[CART])
        .deploy(cart("IfNotPresent").replicas(0))
        .build();
    assert!(report(&snap).healthy, "zero replicas expect no pod");
}

#[test]
fn a_starting_sibling_of_a_failing_pod_is_covered_by_the_finding() {
    let snap = cluster(&[])
        .deploy(cart("IfNotPresent").replicas(2))
        .pod("cart", W, &[("cart", Fate::err_pull())])
        .pod(
            "cart",
            W,
            &[("cart", Fate::waiting("ContainerCreating", ""))],
        )
        .build();
    let r = report(&snap);
    assert_eq!(r.findings.len(), 1, "{r:#?}");
    assert!(r.pending.is_empty(), "{r:#?}");
}

#[test]
fn init_containers_and_finished_pods() {
    let snap = cluster(&[CART])
        .deploy(cart("IfNotPresent").init_container("migrate", CART, Some("IfNotPresent")))
        .pod(
            "cart",
            W,
            &[
                ("migrate", Fate::Running),
                ("cart", Fate::waiting("PodInitializing", "")),
            ],
        )
        .build();
    let r = report(&snap);
    let p = one_pending(&r);
    assert_eq!((p.container.as_str(), p.init_container), ("cart", false));
    // A finished pod (a Job's) is not starting.
    let mut c: Cluster = cluster(&[]).other_pod(
        "shop",
        "job-x",
        Some(("Job", "x")),
        &[("x", "busybox:1.36", None)],
        Some(CP),
        &[],
    );
    if let Some(p) = c.snapshot_mut().pods.first_mut()
        && let Some(s) = std::sync::Arc::make_mut(p).status.as_mut()
    {
        s.phase = Some("Succeeded".into());
    }
    assert!(report(&c.build()).healthy);
}

#[test]
fn an_unparsable_image_on_a_scheduled_pod_is_a_finding_at_once() {
    let snap = bare_pod("typo", "Shop/Web:1", "IfNotPresent", Some(W));
    let r = report(&snap);
    let f = only(&r.findings);
    assert_eq!(f.kind, FindingKind::InvalidReference);
    assert!(
        f.evidence.iter().any(|e| e.contains("will reject")),
        "{:?}",
        f.evidence
    );
    assert!(r.pending.is_empty());
    // Not scheduled yet: the kubelet has not judged it, and no node will until it is bound.
    let snap = bare_pod("typo", "Shop/Web:1", "IfNotPresent", None);
    let r = report(&snap);
    assert!(r.findings.is_empty(), "{r:#?}");
    assert_eq!(one_pending(&r).reason, "Scheduling");
}

#[test]
fn a_deployment_whose_new_spec_the_controller_has_not_seen_is_pending() {
    let mut c =
        cluster(&[CART])
            .deploy(cart("IfNotPresent"))
            .pod("cart", W, &[("cart", Fate::Running)]);
    let set = |c: &mut Cluster, generation: i64, observed: Option<i64>| {
        if let Some(d) = c.snapshot_mut().deployments.first_mut() {
            let d = std::sync::Arc::make_mut(d);
            d.metadata.generation = Some(generation);
            d.status = Some(k8s_openapi::api::apps::v1::DeploymentStatus {
                observed_generation: observed,
                ..Default::default()
            });
        }
    };
    set(&mut c, 2, Some(1));
    let r = report(&c.snapshot_mut().clone());
    let p = one_pending(&r);
    assert_eq!(
        (p.pod.as_deref(), p.reason.as_str()),
        (None, "RolloutNotStarted")
    );
    set(&mut c, 2, None);
    assert!(!report(&c.snapshot_mut().clone()).healthy, "never synced");
    set(&mut c, 2, Some(2));
    assert!(report(&c.build()).healthy, "observed, and its pod runs");
}
