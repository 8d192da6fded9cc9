//! Hand-made snapshots of the gateway-debug story for the dashboard tests: the worker holds
//! `localhost/kubernaut/…:debug`, the Deployments ask for `kubernaut/…:debug` with policy Never,
//! and their pods sit in ErrImageNeverPull with the kubelet's events.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use kindscope::diagnose::{Finding, FindingKind};
use kindscope::model::{
    ImageSources, NodeImage, NodeImages, ResourceState, RuntimeListing, Snapshot,
};
use kindscope::tui::{App, Options, WriteAccess};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

/// 2025-12-24T08:00:00Z, the clock of every test.
pub const NOW: i64 = 1_766_563_200;
pub const WORKER: &str = "gateway-debug-worker";

pub fn fixed_clock() -> i64 {
    NOW
}

fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Arc<T> {
    Arc::new(serde_json::from_value(v).expect("fixture object matches the k8s schema"))
}

fn image(name: &str, size: u64) -> NodeImage {
    NodeImage {
        names: vec![name.to_string()],
        id: None,
        size_bytes: size,
        sources: ImageSources {
            api: true,
            runtime: true,
        },
    }
}

fn deployment(
    name: &str,
    image: &str,
    policy: Option<&str>,
    ready: i32,
    init: Option<(&str, &str)>,
) -> serde_json::Value {
    let mut container = json!({"name": name, "image": image});
    if let Some(p) = policy {
        container["imagePullPolicy"] = json!(p);
    }
    let mut spec = json!({"containers": [container]});
    if let Some((n, i)) = init {
        spec["initContainers"] =
            json!([{"name": n, "image": i, "imagePullPolicy": "IfNotPresent"}]);
    }
    json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
        "status": {"replicas": 1, "updatedReplicas": 1, "readyReplicas": ready, "availableReplicas": ready}
    })
}

fn replicaset(name: &str, deploy: &str) -> serde_json::Value {
    json!({"metadata": {"name": name, "namespace": "default",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy, "uid": format!("uid-{deploy}"), "controller": true}]}})
}

fn pod(name: &str, rs: &str, image: &str, waiting: Option<(&str, &str)>) -> serde_json::Value {
    let container = name.split('-').next().unwrap_or(name);
    let state = match waiting {
        Some((reason, message)) => json!({"waiting": {"reason": reason, "message": message}}),
        None => json!({"running": {"startedAt": "2025-12-24T07:56:00Z"}}),
    };
    json!({
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": "2025-12-24T07:55:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": format!("uid-{rs}"), "controller": true}]},
        "spec": {"nodeName": WORKER, "containers": [{"name": container, "image": image}]},
        "status": {"phase": if waiting.is_some() { "Pending" } else { "Running" },
            "containerStatuses": [{"name": container, "image": image, "imageID": "", "ready": waiting.is_none(),
                "restartCount": 0, "state": state}]}
    })
}

fn event(
    pod: &str,
    type_: &str,
    reason: &str,
    count: i32,
    last: &str,
    message: &str,
) -> serde_json::Value {
    json!({
        "metadata": {"name": format!("{pod}.{reason}"), "namespace": "default"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod},
        "type": type_, "reason": reason, "count": count, "lastTimestamp": last, "message": message
    })
}

pub const DS_POD: &str = "datastorage-6d4c9b7f8-abcde";
pub const GW_POD: &str = "gateway-7f9c8d5b6-x2v9q";

/// The cluster of the seed story.
pub fn gateway_debug() -> Snapshot {
    let never =
        |img: &str| format!("Container image \"{img}\" is not present with pull policy of Never");
    let mut node_images = BTreeMap::new();
    node_images.insert(
        "gateway-debug-control-plane".to_string(),
        NodeImages {
            node: "gateway-debug-control-plane".into(),
            images: vec![
                image("registry.k8s.io/kube-apiserver:v1.33.1", 102_000_000),
                image("registry.k8s.io/etcd:3.5.21-0", 153_000_000),
                image("docker.io/kindest/kindnetd:v20250512-df8de77b", 44_000_000),
            ],
            api_capped: false,
            runtime: RuntimeListing::Ok {
                runtime: "podman".into(),
            },
        },
    );
    node_images.insert(
        WORKER.to_string(),
        NodeImages {
            node: WORKER.into(),
            images: vec![
                image("localhost/kubernaut/datastorage:debug", 138_000_000),
                image("localhost/kubernaut/gateway:debug", 151_000_000),
                image("docker.io/library/postgres:16", 438_000_000),
                image("docker.io/kindest/kindnetd:v20250512-df8de77b", 44_000_000),
                image("registry.k8s.io/pause:3.10", 320_000),
            ],
            api_capped: false,
            runtime: RuntimeListing::Ok {
                runtime: "podman".into(),
            },
        },
    );
    let mut resources = BTreeMap::new();
    for r in kindscope::model::Resource::ALL {
        resources.insert(r, ResourceState::Live);
    }
    Snapshot {
        context: "kind-gateway-debug".into(),
        server: "https://127.0.0.1:41234".into(),
        namespace: None,
        nodes: vec![
            obj(json!({"metadata": {"name": "gateway-debug-control-plane"}})),
            obj(json!({"metadata": {"name": WORKER}})),
        ]
        .into(),
        node_images: Arc::new(node_images),
        pods: vec![
            obj(pod(
                DS_POD,
                "datastorage-6d4c9b7f8",
                "kubernaut/datastorage:debug",
                Some(("ErrImageNeverPull", &never("kubernaut/datastorage:debug"))),
            )),
            obj(pod(
                GW_POD,
                "gateway-7f9c8d5b6",
                "kubernaut/gateway:debug",
                Some(("ErrImageNeverPull", &never("kubernaut/gateway:debug"))),
            )),
            obj(pod(
                "postgres-5c7d9f8b4-kq7lm",
                "postgres-5c7d9f8b4",
                "docker.io/library/postgres:16",
                None,
            )),
        ]
        .into(),
        deployments: vec![
            obj(deployment(
                "datastorage",
                "kubernaut/datastorage:debug",
                Some("Never"),
                0,
                None,
            )),
            obj(deployment(
                "gateway",
                "kubernaut/gateway:debug",
                Some("Never"),
                0,
                Some(("wait-for-db", "docker.io/library/postgres:16")),
            )),
            obj(deployment(
                "postgres",
                "docker.io/library/postgres:16",
                Some("IfNotPresent"),
                1,
                None,
            )),
        ]
        .into(),
        replicasets: vec![
            obj(replicaset("datastorage-6d4c9b7f8", "datastorage")),
            obj(replicaset("gateway-7f9c8d5b6", "gateway")),
            obj(replicaset("postgres-5c7d9f8b4", "postgres")),
        ]
        .into(),
        events: vec![
            obj(event(
                DS_POD,
                "Normal",
                "Scheduled",
                1,
                "2025-12-24T07:55:00Z",
                &format!("Successfully assigned default/{DS_POD} to {WORKER}"),
            )),
            obj(event(
                DS_POD,
                "Warning",
                "ErrImageNeverPull",
                7,
                "2025-12-24T07:59:10Z",
                &never("kubernaut/datastorage:debug"),
            )),
            obj(event(
                DS_POD,
                "Warning",
                "Failed",
                7,
                "2025-12-24T07:59:10Z",
                "Error: ErrImageNeverPull",
            )),
            obj(event(
                GW_POD,
                "Warning",
                "ErrImageNeverPull",
                6,
                "2025-12-24T07:59:00Z",
                &never("kubernaut/gateway:debug"),
            )),
        ]
        .into(),
        resources,
    }
}

fn finding(name: &str, pod: &str) -> Finding {
    let image = format!("kubernaut/{name}:debug");
    let suggested = format!("localhost/kubernaut/{name}:debug");
    let path = "/spec/template/spec/containers/0/image";
    Finding {
        kind: FindingKind::RegistryPrefix,
        namespace: "default".into(),
        workload: format!("Deployment/{name}").into(),
        container: name.into(),
        init_container: false,
        image: image.clone(),
        suggested_image: Some(suggested.clone()),
        suggested_pull_policy: None,
        candidates: vec![],
        nodes: vec![WORKER.into()],
        pods: vec![pod.into()],
        evidence: vec![format!(
            "Container image \"{image}\" is not present with pull policy of Never"
        )],
        summary: String::new(),
        command: None,
        patch: Some(json!([
            {"op": "test", "path": path, "value": image},
            {"op": "replace", "path": path, "value": suggested}
        ])),
        plan: None,
        sources: vec![],
    }
}

/// What the core's diagnose says about [`gateway_debug`]: two registry-prefix findings.
pub fn gateway_findings(snap: &Snapshot) -> Vec<Finding> {
    let asks = |name: &str| {
        snap.deployments.iter().any(|d| {
            d.metadata.name.as_deref() == Some(name)
                && d.spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .is_some_and(|s| {
                        s.containers[0].image.as_deref() == Some(&format!("kubernaut/{name}:debug"))
                    })
        })
    };
    let mut out = Vec::new();
    if asks("datastorage") {
        out.push(finding("datastorage", DS_POD));
    }
    if asks("gateway") {
        out.push(finding("gateway", GW_POD));
    }
    out
}

pub fn kind_write() -> WriteAccess {
    WriteAccess::Allowed {
        label: "kind".into(),
    }
}

pub fn read_only() -> WriteAccess {
    WriteAccess::Refused {
        label: "read-only".into(),
        why: "kindscope was started with --read-only.".into(),
        how: "Restart without --read-only to let `f` patch the cluster.".into(),
    }
}

pub fn options(write: WriteAccess) -> Options {
    let mut o = Options::new(write);
    o.diagnose = kindscope::tui::app::findings_only(gateway_findings);
    o.clock = fixed_clock;
    o
}

/// An app at `width`×`height` that received the story's snapshot.
pub fn app_with(snap: Snapshot, write: WriteAccess, width: u16, height: u16) -> App {
    let mut app = App::new(options(write));
    app.now = NOW;
    app.update(kindscope::tui::Action::Resize { width, height });
    app.update(kindscope::tui::Action::Snapshot(Arc::new(snap)));
    app
}

pub fn app(width: u16, height: u16) -> App {
    app_with(gateway_debug(), kind_write(), width, height)
}

/// Render the app into a `TestBackend` and return the screen as text (trailing spaces cut).
pub fn render(app: &App) -> String {
    let area = app.viewport;
    let mut terminal =
        Terminal::new(TestBackend::new(area.width, area.height)).expect("test terminal");
    terminal
        .draw(|f| kindscope::tui::ui::draw(f, app))
        .expect("draw");
    screen(terminal.backend().buffer())
}

pub fn screen(buf: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
