use k8s_openapi::api::core::v1::{Container, PodSpec, Toleration};

use super::*;
use crate::diagnose::testkit::Cluster;

const W: &str = "gateway-debug-worker";
const CP: &str = "gateway-debug-control-plane";

fn planned(kind: &str, name: &str, image: &str, policy: Option<&str>) -> PlannedWorkload {
    PlannedWorkload {
        namespace: "default".into(),
        kind: kind.into(),
        name: name.into(),
        spec: PodSpec {
            containers: vec![Container {
                name: name.into(),
                image: Some(image.into()),
                image_pull_policy: policy.map(str::to_string),
                ..Container::default()
            }],
            ..PodSpec::default()
        },
    }
}

fn cluster(images: &[&str]) -> Snapshot {
    Cluster::kind("gateway-debug")
        .control_plane(CP, &["registry.k8s.io/pause:3.10"])
        .worker(W, images)
        .build()
}

#[test]
fn seed_manifest_is_a_registry_prefix_before_it_is_applied() {
    let snap = cluster(&["localhost/kubernaut/gateway:debug"]);
    let w = planned(
        "Deployment",
        "gateway",
        "kubernaut/gateway:debug",
        Some("Never"),
    );
    let f = preflight(&snap, &[w]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::RegistryPrefix);
    assert_eq!(f[0].workload, "Deployment/gateway");
    assert_eq!(
        f[0].suggested_image.as_deref(),
        Some("localhost/kubernaut/gateway:debug")
    );
    // Only the worker: the control plane is tainted and the pod does not tolerate it.
    assert_eq!(f[0].nodes, vec![W.to_string()]);
    assert!(f[0].pods.is_empty());
}

#[test]
fn present_images_and_pullable_names_are_fine() {
    let snap = cluster(&[
        "localhost/kubernaut/gateway:debug",
        "docker.io/library/postgres:16",
    ]);
    let ok = [
        planned(
            "Deployment",
            "a",
            "localhost/kubernaut/gateway:debug",
            Some("Never"),
        ),
        planned("StatefulSet", "db", "postgres:16", None),
        // Not on the node, nothing like it: a registry may serve it.
        planned("Job", "migrate", "ghcr.io/acme/migrate:1.2", None),
    ];
    assert!(preflight(&snap, &ok).is_empty());
}

#[test]
fn tolerating_the_control_plane_taint_makes_it_a_target() {
    let snap = cluster(&["localhost/kubernaut/gateway:debug"]);
    let mut w = planned(
        "DaemonSet",
        "agent",
        "localhost/kubernaut/gateway:debug",
        Some("Never"),
    );
    w.spec.tolerations = Some(vec![Toleration {
        operator: Some("Exists".into()),
        ..Toleration::default()
    }]);
    let f = preflight(&snap, &[w]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::NotOnNode);
    assert_eq!(f[0].nodes, vec![CP.to_string()]);
}

#[test]
fn a_node_selector_pins_the_workload() {
    let snap = cluster(&[]);
    let mut w = planned(
        "Deployment",
        "gw",
        "localhost/kubernaut/gateway:debug",
        Some("Never"),
    );
    w.spec.node_selector = Some([("tier".to_string(), "nowhere".to_string())].into());
    // No node accepts it: nothing to say about images.
    assert!(preflight(&snap, &[w]).is_empty());
}

#[test]
fn defaulted_always_on_latest_ignores_the_loaded_copy() {
    let snap = cluster(&["localhost/app:latest"]);
    let f = preflight(&snap, &[planned("Pod", "app", "localhost/app", None)]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::PullPolicy);
    assert_eq!(f[0].workload, "Pod/app");
    assert_eq!(f[0].suggested_pull_policy.as_deref(), Some("IfNotPresent"));
}

#[test]
fn offline_checks_need_no_nodes() {
    let ws = [
        planned("Deployment", "bad", "Kubernaut/Gateway:debug", None),
        planned("Deployment", "latest", "nginx", None),
        planned("Deployment", "local", "localhost/gw:debug", Some("Always")),
        planned("Deployment", "fine", "localhost/gw:debug", None),
        planned("Deployment", "pinned", "nginx:1.27", Some("Always")),
    ];
    let f = offline(&ws);
    let got: Vec<(&str, FindingKind)> = f.iter().map(|f| (f.workload.as_str(), f.kind)).collect();
    assert_eq!(
        got,
        vec![
            ("Deployment/bad", FindingKind::InvalidReference),
            ("Deployment/latest", FindingKind::PullPolicy),
            ("Deployment/local", FindingKind::PullPolicy),
        ]
    );
    assert!(f[2].summary.contains("never from a pull"));
}
