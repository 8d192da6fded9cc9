//! Plans applied for real with json-patch to the objects' JSON: the patch does what it says,
//! the undo restores the object exactly, and a concurrent edit makes the patch fail.

use serde_json::{Value, json};

use super::{Change, Target, plan_change};
use crate::diagnose::plan;
use crate::diagnose::testkit::{Cluster, Deploy, Fate};
use crate::diagnose::{FindingKind, diagnose};
use crate::model::Snapshot;

fn apply(doc: &Value, ops: &Value) -> Result<Value, String> {
    let patch: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(|e| e.to_string())?;
    let mut out = doc.clone();
    json_patch::patch(&mut out, &patch).map_err(|e| e.to_string())?;
    Ok(out)
}

fn deployment_json(snap: &Snapshot) -> Value {
    serde_json::to_value(&**snap.deployments.first().expect("a deployment"))
        .expect("deployment to JSON")
}

fn change(
    kind: &str,
    name: &str,
    container: &str,
    before: &str,
    image: Option<&str>,
    policy: Option<&str>,
) -> Change {
    Change {
        target: Target {
            kind: kind.into(),
            namespace: "default".into(),
            name: name.into(),
        },
        container: container.into(),
        image_before: before.into(),
        image_after: image.map(String::from),
        pull_policy_after: policy.map(String::from),
    }
}

#[test]
fn patch_then_undo_restores_the_deployment() {
    let snap = Cluster::kind("k")
        .worker("k-worker", &["localhost/kubernaut/gateway:latest"])
        .deploy(
            Deploy::new("default", "gw")
                .init_container("init", "busybox:1.36", None)
                .container("side", "nginx:1.27")
                .container("gw", "kubernaut/gateway"),
        )
        .pod(
            "gw",
            "k-worker",
            &[
                ("gw", Fate::pull_backoff()),
                ("side", Fate::Running),
                ("init", Fate::Running),
            ],
        )
        .build();
    let findings = diagnose(&snap);
    assert_eq!(findings.len(), 1);
    let p = plan(&findings[0], &snap).expect("a plan");
    assert_eq!(p.target.kind, "Deployment");
    assert_eq!(
        (p.image_before.as_str(), p.image_after.as_str()),
        ("kubernaut/gateway", "localhost/kubernaut/gateway:latest")
    );
    assert_eq!(
        (
            p.pull_policy_before.as_deref(),
            p.pull_policy_after.as_deref()
        ),
        (Some("Always"), Some("IfNotPresent"))
    );
    assert_eq!(findings[0].patch.as_ref(), Some(&p.patch));

    let before = deployment_json(&snap);
    let after = apply(&before, &p.patch).expect("patch applies");
    let c = &after["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(c["name"], "gw");
    assert_eq!(c["image"], "localhost/kubernaut/gateway:latest");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0],
        before["spec"]["template"]["spec"]["containers"][0]
    );
    assert_eq!(apply(&after, &p.undo).expect("undo applies"), before);
    // Applying twice fails on the guard instead of doing something else.
    assert!(apply(&after, &p.patch).is_err());
    assert!(apply(&before, &p.undo).is_err());
}

#[test]
fn a_concurrent_edit_makes_the_patch_fail() {
    let snap = Cluster::kind("k")
        .worker("k-worker", &["localhost/a:1"])
        .deploy(Deploy::new("default", "a").container("a", "a:1"))
        .build();
    let p = plan_change(
        &change("Deployment", "a", "a", "a:1", Some("localhost/a:1"), None),
        &snap,
    )
    .expect("plan");
    let mut edited = deployment_json(&snap);
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("someone/else:2");
    assert!(apply(&edited, &p.patch).is_err());
    // Another container inserted before ours moves the index: the guard catches that too.
    let mut moved = deployment_json(&snap);
    let list = moved["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("list");
    list.insert(0, json!({"name": "new", "image": "x:1"}));
    assert!(apply(&moved, &p.patch).is_err());
}

#[test]
fn absent_pull_policy_is_added_and_removed_again() {
    let snap = Cluster::kind("k")
        .worker("k-worker", &["localhost/t:latest"])
        .deploy(
            Deploy::new("default", "t")
                .without_defaulting()
                .container("t", "localhost/t"),
        )
        .build();
    let p = plan_change(
        &change(
            "Deployment",
            "t",
            "t",
            "localhost/t",
            None,
            Some("IfNotPresent"),
        ),
        &snap,
    )
    .expect("plan");
    assert_eq!(p.pull_policy_before, None);
    assert_eq!(
        p.patch,
        json!([
            {"op":"test","path":"/metadata/uid","value":"uid-deploy-default-t"},
            {"op":"test","path":"/spec/template/spec/containers/0/image","value":"localhost/t"},
            {"op":"add","path":"/spec/template/spec/containers/0/imagePullPolicy","value":"IfNotPresent"}
        ])
    );
    let before = deployment_json(&snap);
    let after = apply(&before, &p.patch).expect("patch");
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert_eq!(apply(&after, &p.undo).expect("undo"), before);
}

#[test]
fn refuses_stale_unknown_no_op_and_immutable_changes() {
    let snap = Cluster::kind("k")
        .worker("k-worker", &[])
        .deploy(Deploy::new("default", "a").container("a", "a:1"))
        .other_pod(
            "default",
            "bare",
            None,
            &[("c", "c:1", None)],
            Some("k-worker"),
            &[("c", Fate::err_pull())],
        )
        .build();
    let none = |c: Change| assert_eq!(plan_change(&c, &snap), None, "{c:?}");
    none(change("Deployment", "a", "a", "a:0", Some("b:1"), None)); // stale image
    none(change("Deployment", "nope", "a", "a:1", Some("b:1"), None)); // no such workload
    none(change("Deployment", "a", "zz", "a:1", Some("b:1"), None)); // no such container
    none(change(
        "Deployment",
        "a",
        "a",
        "a:1",
        Some("a:1"),
        Some("IfNotPresent"),
    )); // nothing changes
    none(change("StatefulSet", "a", "a", "a:1", Some("b:1"), None)); // not patched by kindscope
    none(change(
        "Pod",
        "bare",
        "c",
        "c:1",
        Some("localhost/c:1"),
        Some("Always"),
    )); // immutable
    let p = plan_change(
        &change("Pod", "bare", "c", "c:1", Some("localhost/c:1"), None),
        &snap,
    )
    .expect("pod image");
    assert_eq!(p.patch[1]["path"], "/spec/containers/0/image");
}

#[test]
fn findings_without_a_safe_patch_have_no_plan() {
    let snap = Cluster::kind("k")
        .worker("k-worker", &[])
        .deploy(Deploy::new("default", "x").container_policy("x", "kubernaut/x:debug", "Never"))
        .pod("x", "k-worker", &[("x", Fate::never_pull())])
        .build();
    let f = &diagnose(&snap)[0];
    assert_eq!(f.kind, FindingKind::NotLoaded);
    assert_eq!(plan(f, &snap), None);
    let mut forged = f.clone();
    forged.suggested_image = Some("anything:1".into());
    assert_eq!(plan(&forged, &snap), None, "not-loaded is never patched");
}

#[test]
fn a_recreated_object_fails_the_uid_test_of_patch_and_undo() {
    let snap = Cluster::kind("k")
        .worker("k-worker", &["localhost/t:latest"])
        .deploy(Deploy::new("default", "t").container("t", "t"))
        .build();
    let p = plan_change(
        &change(
            "Deployment",
            "t",
            "t",
            "t",
            Some("localhost/t:latest"),
            None,
        ),
        &snap,
    )
    .expect("plan");
    assert_eq!(
        p.patch[0],
        json!({"op":"test","path":"/metadata/uid","value":"uid-deploy-default-t"})
    );
    assert_eq!(p.undo[0], p.patch[0]);
    let before = deployment_json(&snap);
    let after = apply(&before, &p.patch).expect("the planned object takes the patch");
    // Deleted and recreated under the same name with the same image: another uid.
    let mut recreated = before.clone();
    recreated["metadata"]["uid"] = json!("uid-of-the-new-object");
    assert!(
        apply(&recreated, &p.patch).is_err(),
        "the patch must refuse"
    );
    let mut recreated_after = after.clone();
    recreated_after["metadata"]["uid"] = json!("uid-of-the-new-object");
    assert!(
        apply(&recreated_after, &p.undo).is_err(),
        "the undo must refuse"
    );
}

/// The plan never patches in a suggested image the nodes do not resolve as written, even when a
/// finding (from an older kindscope, or edited by hand) names one: the real kind v0.18 worker
/// lists `local-path-provisioner:…@sha256:…` only, which containerd looks up by its digest name.
#[test]
fn no_patch_to_a_name_the_nodes_do_not_resolve() {
    let worker: k8s_openapi::api::core::v1::Node = serde_saphyr::from_str(include_str!(
        "../../../../tests/fixtures/realworld/autoscaler-kind-v1.26-worker.yaml"
    ))
    .expect("fixture Node");
    let held = "docker.io/kindest/local-path-provisioner:v0.0.23-kind.0@sha256:f2d0a02831ff3a03cf51343226670d5060623b43a4cfc4808bd0875b2c4b9501";
    let snap = Cluster::kind("kind")
        .real_node(worker)
        .deploy(Deploy::new("default", "lpp").container(
            "lpp",
            "localhost/kindest/local-path-provisioner:v0.0.23-kind.0",
        ))
        .build();
    let mut finding = crate::diagnose::Finding {
        kind: FindingKind::RegistryPrefix,
        namespace: "default".into(),
        workload: "Deployment/lpp".into(),
        container: "lpp".into(),
        init_container: false,
        image: "localhost/kindest/local-path-provisioner:v0.0.23-kind.0".into(),
        suggested_image: Some(held.into()),
        suggested_pull_policy: None,
        candidates: vec![],
        nodes: vec!["kind-worker".into()],
        pods: vec![],
        evidence: vec![],
        summary: String::new(),
        command: None,
        patch: None,
        plan: None,
        sources: vec![],
    };
    assert!(
        plan(&finding, &snap).is_none(),
        "{held} does not resolve on kind-worker"
    );
    // Control: a name the node resolves as written is planned.
    finding.suggested_image = Some("registry.k8s.io/kube-apiserver:v1.26.3".into());
    assert!(plan(&finding, &snap).is_some());
}
