//! `kubectl scale` through the `scale` subresource (autoscaling/v1 Scale).

use super::support::Sim;

#[test]
fn scale_deployment_up_and_down() {
    let sim = Sim::start(None);
    let out = sim.ok(&["scale", "deployment", "postgres", "--replicas=3"]);
    assert_eq!(out.trim(), "deployment.apps/postgres scaled");
    sim.wait_json(
        &["get", "deployment", "postgres"],
        "3 ready replicas",
        |d| d["spec"]["replicas"] == 3 && d["status"]["readyReplicas"] == 3,
    );
    let scale = sim.ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/default/deployments/postgres/scale",
    ]);
    let scale: serde_json::Value = serde_json::from_str(&scale).expect("Scale JSON");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["selector"], "app=postgres");
    sim.ok(&["scale", "deployment/postgres", "--replicas=1"]);
    sim.wait_json(
        &["get", "pods", "-l", "app=postgres"],
        "one pod left",
        |l| l["items"].as_array().map(Vec::len) == Some(1),
    );
}

#[test]
fn scale_preconditions_are_checked() {
    let sim = Sim::start(None);
    let err = sim.fails(&[
        "scale",
        "deployment",
        "postgres",
        "--replicas=2",
        "--current-replicas=5",
    ]);
    assert!(err.contains("Expected replicas to be 5, was 1"), "{err}");
    let err = sim.fails(&[
        "scale",
        "deployment",
        "postgres",
        "--replicas=2",
        "--resource-version=1",
    ]);
    assert!(err.contains("Expected resource version to be 1"), "{err}");
    let err = sim.fails(&["scale", "deployment", "missing", "--replicas=2"]);
    assert!(
        err.contains("deployments.apps \"missing\" not found"),
        "{err}"
    );
}

#[test]
fn scale_statefulset_and_replicaset_subresources_exist() {
    let sim = Sim::start(None);
    let rs = sim.json(&["get", "rs", "-l", "app=postgres"]);
    let name = rs["items"][0]["metadata"]["name"]
        .as_str()
        .expect("postgres ReplicaSet")
        .to_string();
    let s = sim.ok(&[
        "get",
        "--raw",
        &format!("/apis/apps/v1/namespaces/default/replicasets/{name}/scale"),
    ]);
    assert!(s.contains("\"kind\":\"Scale\""), "{s}");
    let resources = sim.ok(&["get", "--raw", "/apis/apps/v1"]);
    for sub in [
        "deployments/scale",
        "replicasets/scale",
        "statefulsets/scale",
    ] {
        assert!(resources.contains(sub), "{sub} not in discovery");
    }
}
