//! Secrets planted in every field that can carry one; none may reach the bundle.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use serde_json::json;

use super::Options;
use crate::bundle::Bundle;
use crate::diagnose::{Finding, FindingKind};
use crate::model::Snapshot;

/// One distinct secret per field, so a failure names the field that leaked.
const FIELDS: [&str; 17] = [
    "s3cr3t-command",
    "s3cr3t-arg-eq",
    "s3cr3t-arg-alone",
    "s3cr3t-arg-short",
    "s3cr3t-env",
    "s3cr3t-init-arg",
    "s3cr3t-ephemeral-cmd",
    "s3cr3t-liveness-exec",
    "s3cr3t-readiness-header",
    "s3cr3t-startup-query",
    "s3cr3t-poststart-exec",
    "s3cr3t-prestop-header",
    "s3cr3t-pod-annotation",
    "s3cr3t-template-annotation",
    "s3cr3t-deployment-annotation",
    "s3cr3t-node-annotation",
    "s3cr3t-event-annotation",
];

fn container(name: &str) -> serde_json::Value {
    json!({
        "name": name, "image": "kubernaut/gateway:debug",
        "command": ["/bin/sh", "-c", "login s3cr3t-command"],
        "args": ["--password=s3cr3t-arg-eq", "--token", "s3cr3t-arg-alone", "-ps3cr3t-arg-short", "--verbose"],
        "env": [{"name": "TOKEN", "value": "s3cr3t-env"},
                {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
        "livenessProbe": {"exec": {"command": ["check", "s3cr3t-liveness-exec"]}},
        "readinessProbe": {"httpGet": {"port": 80, "path": "/ready",
            "httpHeaders": [{"name": "Authorization", "value": "Bearer s3cr3t-readiness-header"}]}},
        "startupProbe": {"httpGet": {"port": 80, "path": "/healthz?token=s3cr3t-startup-query"}},
        "lifecycle": {
            "postStart": {"exec": {"command": ["notify", "s3cr3t-poststart-exec"]}},
            "preStop": {"httpGet": {"port": 80, "path": "/stop",
                "httpHeaders": [{"name": "X-Api-Key", "value": "s3cr3t-prestop-header"}]}}
        }
    })
}

fn pod_spec() -> serde_json::Value {
    json!({
        "containers": [container("gateway")],
        "initContainers": [{"name": "init", "image": "busybox", "args": ["s3cr3t-init-arg"]}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox", "command": ["s3cr3t-ephemeral-cmd"]}]
    })
}

fn snapshot() -> Snapshot {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "gateway-1", "namespace": "default",
            "annotations": {"vault.example/token": "s3cr3t-pod-annotation"}},
        "spec": pod_spec()
    }))
    .expect("pod");
    let template = json!({"metadata": {"annotations": {"t": "s3cr3t-template-annotation"}}, "spec": pod_spec()});
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "gateway", "namespace": "default",
            "annotations": {"d": "s3cr3t-deployment-annotation"}},
        "spec": {"selector": {}, "template": template}
    }))
    .expect("deployment");
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "gateway-6d4", "namespace": "default"},
        "spec": {"selector": {}, "template": template}
    }))
    .expect("replicaset");
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": "w", "annotations": {"n": "s3cr3t-node-annotation"}}
    }))
    .expect("node");
    let event = |reason: &str, message: &str| -> Arc<Event> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": format!("e-{reason}"), "namespace": "default",
                    "annotations": {"e": "s3cr3t-event-annotation"}},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "gateway-1"},
                "reason": reason, "message": message
            }))
            .expect("event"),
        )
    };
    Snapshot {
        context: "kind-dev".into(),
        pods: vec![Arc::new(pod)].into(),
        deployments: vec![Arc::new(deployment)].into(),
        replicasets: vec![Arc::new(rs)].into(),
        nodes: vec![Arc::new(node)].into(),
        events: vec![
            // The kubelet's wording (pkg/kubelet/lifecycle/handlers.go) quotes the command.
            event(
                "FailedPostStartHook",
                "Exec lifecycle hook ([notify hunter-hook-output]) for Container \"gateway\" in Pod \"gateway-1\" failed - error: exit 1, message: \"hunter-hook-output\"",
            ),
            event("Unhealthy", "Liveness probe failed: hunter-probe-output"),
            event(
                "Failed",
                "Error: failed to start: exec: \"--password=s3cr3t-arg-eq\": not found",
            ),
            event(
                "Pulled",
                "Container image \"kubernaut/gateway:debug\" already present on machine",
            ),
        ].into(),
        ..Snapshot::default()
    }
}

fn finding() -> Finding {
    Finding {
        kind: FindingKind::NotOnNode,
        namespace: "default".into(),
        workload: "Deployment/gateway".into(),
        container: "gateway".into(),
        init_container: false,
        image: "kubernaut/gateway:debug".into(),
        suggested_image: None,
        suggested_pull_policy: None,
        candidates: vec![],
        nodes: vec!["w".into()],
        pods: vec!["gateway-1".into()],
        evidence: vec!["exec: \"s3cr3t-command\" failed".into()],
        sources: vec![],
        summary: "s3cr3t-arg-alone".into(),
        command: None,
        patch: None,
        plan: None,
    }
}

fn bundle_text(options: Options) -> String {
    let b = Bundle::from_snapshot_with(
        &snapshot(),
        &[finding()],
        None,
        jiff::Timestamp::now(),
        options,
    );
    String::from_utf8(b.to_bytes(false).expect("serialise")).expect("utf8")
}

#[test]
fn no_planted_secret_reaches_the_bundle_by_default() {
    let text = bundle_text(Options::default());
    for secret in FIELDS
        .iter()
        .chain(&["hunter-hook-output", "hunter-probe-output"])
    {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    // Keys, flag names, lengths and references stay readable.
    for kept in [
        "\"--password=<redacted: 13 chars>\"",
        "\"--token\"",
        "\"--verbose\"",
        "\"vault.example/token\": \"<redacted: 21 chars>\"",
        "\"name\": \"Authorization\"",
        "/healthz?<redacted: 26 chars>",
        "secretKeyRef",
        "already present on machine",
    ] {
        assert!(text.contains(kept), "{kept} missing:\n{text}");
    }
}

#[test]
fn opt_ins_keep_args_and_annotations_but_never_headers_or_env() {
    let text = bundle_text(Options {
        include_args: true,
        include_annotations: true,
    });
    for kept in [
        "s3cr3t-arg-eq",
        "s3cr3t-command",
        "s3cr3t-pod-annotation",
        "hunter-hook-output",
    ] {
        assert!(text.contains(kept), "{kept} should be kept:\n{text}");
    }
    for secret in [
        "s3cr3t-env",
        "s3cr3t-readiness-header",
        "s3cr3t-prestop-header",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}
