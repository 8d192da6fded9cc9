use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::store::Store;
use kindscope_core::model::{ImageSources, NodeImage, NodeImages};

const IMAGE_ID: &str = "sha256:46dfa7b54c5ed3f1f9d7f4ac2e9f1c1d3a3b0f5f8e6a3c2d1b0a9f8e7d6c5b4a";

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture matches the k8s schema")
}

fn owner(kind: &str, name: &str) -> Value {
    json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": format!("uid-{name}"), "controller": true}])
}

/// What `kindscope snapshot` writes for a podman Kind cluster `dev` with one broken Deployment,
/// one bare pod in a namespace of its own, and Kind's own system pods.
fn bundle() -> Bundle {
    let node_images = |node: &str, images: Vec<NodeImage>| NodeImages {
        node: node.into(),
        images,
        api_capped: false,
        runtime: RuntimeListing::Ok {
            runtime: "podman".into(),
        },
    };
    let image = |names: &[&str], id: Option<&str>, size: u64| NodeImage {
        names: names.iter().map(|n| n.to_string()).collect(),
        id: id.map(str::to_string),
        size_bytes: size,
        sources: ImageSources {
            api: true,
            runtime: true,
        },
    };
    Bundle {
        format: kindscope_core::bundle::FORMAT.into(),
        format_version: kindscope_core::bundle::FORMAT_VERSION,
        created: jiff::Timestamp::from_second(1_766_563_200).expect("valid time"),
        kindscope_version: "0.1.0".into(),
        context: "kind-dev".into(),
        server: "https://127.0.0.1:40000".into(),
        namespace: None,
        kubernetes_version: Some("v1.32.2".into()),
        nodes: vec![
            obj(
                json!({"metadata": {"name": "dev-control-plane", "uid": "n1",
                "labels": {"kubernetes.io/hostname": "dev-control-plane", CONTROL_PLANE_LABEL: ""}},
                "spec": {"providerID": "kind://podman/dev/dev-control-plane",
                         "taints": [{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}]}}),
            ),
            obj(json!({"metadata": {"name": "dev-worker", "uid": "n2",
                "labels": {"kubernetes.io/hostname": "dev-worker", "tier": "backend"}},
                "spec": {"providerID": "kind://podman/dev/dev-worker",
                         "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                                    {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]}})),
        ],
        node_images: BTreeMap::from([
            (
                "dev-control-plane".to_string(),
                node_images(
                    "dev-control-plane",
                    vec![image(&["registry.k8s.io/pause:3.10"], None, 320_368)],
                ),
            ),
            (
                "dev-worker".to_string(),
                node_images(
                    "dev-worker",
                    vec![
                        image(
                            &["localhost/kubernaut/gateway:debug"],
                            Some(IMAGE_ID),
                            151_000_000,
                        ),
                        image(
                            &[
                                "docker.io/library/postgres:16",
                                "docker.io/library/postgres@sha256:4f2a7e3c9b1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f",
                            ],
                            Some("not-an-id"),
                            0,
                        ),
                        image(&["Not A Reference"], None, 5),
                    ],
                ),
            ),
        ]),
        pods: vec![
            obj(
                json!({"metadata": {"name": "gateway-5d4-abcde", "namespace": "default", "uid": "p1",
                "ownerReferences": owner("ReplicaSet", "gateway-5d4")},
                "spec": {"nodeName": "dev-worker", "containers": [{"name": "gateway", "image": "kubernaut/gateway:debug"}]},
                "status": {"phase": "Pending", "containerStatuses": [{"name": "gateway", "image": "kubernaut/gateway:debug",
                    "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ErrImageNeverPull"}}}]}}),
            ),
            obj(
                json!({"metadata": {"name": "debug", "namespace": "tools", "uid": "p2", "resourceVersion": "77",
                "creationTimestamp": "2025-12-24T07:55:00Z"},
                "spec": {"nodeName": "dev-worker", "containers": [{"name": "sh", "image": "kubernaut/tools:debug", "imagePullPolicy": "Never"}]},
                "status": {"phase": "Pending"}}),
            ),
            obj(
                json!({"metadata": {"name": "kube-proxy-x1", "namespace": "kube-system",
                "ownerReferences": owner("DaemonSet", "kube-proxy")},
                "spec": {"containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.32.2"}]},
                "status": {"containerStatuses": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.32.2",
                    "imageID": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                    "ready": true, "restartCount": 0, "state": {"running": {}}}]}}),
            ),
            obj(
                json!({"metadata": {"name": "coredns-7945b79d8d-c5754", "namespace": "kube-system",
                "ownerReferences": owner("ReplicaSet", "coredns-7945b79d8d")},
                "spec": {"containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0"}]}}),
            ),
            obj(
                json!({"metadata": {"name": "etcd-dev-control-plane", "namespace": "kube-system",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "dev-control-plane", "uid": "n1"}]},
                "spec": {"containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.21-0"}]}}),
            ),
        ],
        deployments: vec![
            obj(
                json!({"metadata": {"name": "gateway", "namespace": "default", "uid": "uid-gateway",
                "resourceVersion": "12", "generation": 3,
                "annotations": {"deployment.kubernetes.io/revision": "3", "team": "gw"}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "gateway"}},
                    "template": {"metadata": {"labels": {"app": "gateway"}}, "spec": {"containers": [
                        {"name": "gateway", "image": "kubernaut/gateway:debug", "imagePullPolicy": "Never",
                         "env": [{"name": "TOKEN", "value": "<redacted>"}]}]}}},
                "status": {"replicas": 1, "readyReplicas": 0}}),
            ),
            obj(
                json!({"metadata": {"name": "coredns", "namespace": "kube-system"},
                "spec": {"selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                                 "spec": {"containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0"}]}}}}),
            ),
        ],
        replicasets: vec![
            obj(
                json!({"metadata": {"name": "gateway-5d4", "namespace": "default",
                "ownerReferences": owner("Deployment", "gateway")}}),
            ),
            obj(
                json!({"metadata": {"name": "coredns-7945b79d8d", "namespace": "kube-system",
                "ownerReferences": owner("Deployment", "coredns")}}),
            ),
        ],
        events: Vec::new(),
        findings: Vec::new(),
    }
}

#[test]
fn a_bundle_becomes_the_same_cluster() {
    let s = scenario_from_bundle(&bundle(), "dev.json.gz");
    assert_eq!(s.name, "dev");
    assert_eq!(s.origin, "dev.json.gz");
    assert_eq!(s.provider, Provider::Podman);
    assert_eq!(s.kubernetes_version, "v1.32.2");
    // What ran could be had then; what never ran (no image ID) still cannot.
    assert_eq!(
        s.registry,
        [ImageSpec::named("registry.k8s.io/kube-proxy:v1.32.2")]
    );

    let roles: Vec<(&str, Role)> = s.nodes.iter().map(|n| (n.name.as_str(), n.role)).collect();
    assert_eq!(
        roles,
        [
            ("dev-control-plane", Role::ControlPlane),
            ("dev-worker", Role::Worker)
        ]
    );
    let worker = &s.nodes[1];
    assert_eq!(
        worker.labels,
        BTreeMap::from([("tier".to_string(), "backend".to_string())])
    );
    assert_eq!(
        worker.taints,
        [Taint {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: "NoSchedule".into()
        }]
    );
    assert!(
        s.nodes[0].taints.is_empty(),
        "Kind's own taint comes back by itself"
    );
    // Every valid name, the id when it is one, the size when known; garbage names dropped.
    assert_eq!(
        worker.images,
        [
            ImageSpec {
                names: vec!["localhost/kubernaut/gateway:debug".into()],
                id: Some(IMAGE_ID.into()),
                size: Some(151_000_000),
                digest: None,
            },
            ImageSpec {
                names: vec![
                    "docker.io/library/postgres:16".into(),
                    "docker.io/library/postgres@sha256:4f2a7e3c9b1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f".into()
                ],
                id: None,
                size: None,
                digest: None,
            },
        ]
    );
}

#[test]
fn workloads_are_replayed_without_what_the_server_owns() {
    let s = scenario_from_bundle(&bundle(), "b");
    let listed: Vec<(&str, &str, &str)> = s
        .manifests
        .iter()
        .map(|m| (m.resource.kind, m.namespace(), m.name()))
        .collect();
    // The RS-owned pod comes back through its Deployment; Kind's system objects from the sim.
    assert_eq!(
        listed,
        [
            ("Namespace", "", "tools"),
            ("Deployment", "default", "gateway"),
            ("Pod", "tools", "debug"),
        ]
    );
    let d = &s.manifests[1].object;
    for key in SERVER_METADATA {
        assert!(d["metadata"].get(key).is_none(), "{key} left in {d}");
    }
    assert!(d.get("status").is_none());
    assert_eq!(d["metadata"]["annotations"], json!({"team": "gw"}));
    assert_eq!(d["apiVersion"], "apps/v1");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "kubernaut/gateway:debug"
    );
    let p = &s.manifests[2].object;
    assert_eq!(p["spec"]["nodeName"], "dev-worker");
    assert!(p.get("status").is_none() && p["metadata"].get("uid").is_none());
}

#[test]
fn the_sim_accepts_the_replay() {
    let s = scenario_from_bundle(&bundle(), "b");
    let store = Store::new(1);
    let sim = crate::cluster::populate(&store, &s).expect("the replay populates a sim");
    assert_eq!(sim.name, "dev");
    let worker = store
        .get(&crate::resources::NODES, "", "dev-worker")
        .expect("worker");
    let names: Vec<&str> = worker["status"]["images"]
        .as_array()
        .expect("images")
        .iter()
        .flat_map(|i| i["names"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert!(
        names.contains(&"localhost/kubernaut/gateway:debug"),
        "{names:?}"
    );
    assert!(store.get(&DEPLOYMENTS, "default", "gateway").is_some());
    assert!(store.get(&PODS, "tools", "debug").is_some());
}

#[test]
fn odd_contexts_still_make_a_valid_cluster() {
    assert_eq!(cluster_name("kind-gateway-debug"), "gateway-debug");
    assert_eq!(cluster_name("arn:aws:eks:eu/Prod"), "arn-aws-eks-eu-prod");
    assert_eq!(cluster_name("kind-"), "replay");
    let mut b = bundle();
    b.context = "minikube".into();
    b.nodes.remove(0);
    b.kubernetes_version = Some("v1.33.1-eks-1234".into());
    let s = scenario_from_bundle(&b, "b");
    assert_eq!(s.nodes[0].name, "minikube-control-plane");
    assert_eq!(s.nodes[0].role, Role::ControlPlane);
    assert_eq!(s.kubernetes_version, "v1.33.1-eks-1234");
    b.kubernetes_version = Some("1.33".into());
    assert_eq!(
        scenario_from_bundle(&b, "b").kubernetes_version,
        DEFAULT_KUBERNETES_VERSION
    );
}
