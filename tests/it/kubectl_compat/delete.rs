//! Graceful deletion of pods and the namespace cascade, as the apiserver and kubelet do them.

use super::support::Sim;

fn running_postgres(sim: &Sim) -> String {
    let pods = sim.wait_json(
        &["get", "pods", "-l", "app=postgres"],
        "postgres running",
        |l| l["items"][0]["status"]["phase"] == "Running",
    );
    pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("pod name")
        .to_string()
}

#[test]
fn delete_pod_is_graceful_then_gone() {
    let sim = Sim::start(None);
    let pod = running_postgres(&sim);
    // The DELETE answers with the pod, now carrying its deletion timestamp and grace period
    // (spec.terminationGracePeriodSeconds, defaulted to 30).
    let answer = sim.ok(&[
        "delete",
        "--raw",
        &format!("/api/v1/namespaces/default/pods/{pod}"),
    ]);
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("pod JSON");
    assert_eq!(answer["kind"], "Pod");
    assert_eq!(answer["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(answer["metadata"]["deletionTimestamp"].is_string());
    // The kubelet stops the containers, then removes the pod.
    sim.wait_gone(&["get", "pod", &pod]);
    let killing = sim.json(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={pod},reason=Killing"),
    ]);
    assert_eq!(
        killing["items"][0]["message"], "Stopping container postgres",
        "{killing}"
    );
    // The ReplicaSet replaced it.
    let next = running_postgres(&sim);
    assert_ne!(next, pod);
    // `kubectl delete` waits until the pod is gone.
    assert_eq!(
        sim.ok(&["delete", "pod", &next]).trim(),
        format!("pod \"{next}\" deleted")
    );
    let err = sim.fails(&["get", "pod", &next]);
    assert!(err.contains("NotFound"), "{err}");
}

#[test]
fn force_delete_is_immediate() {
    let sim = Sim::start(None);
    let pod = running_postgres(&sim);
    let out = sim.run(&["delete", "pod", &pod, "--grace-period=0", "--force"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Immediate deletion does not wait"),
        "kubectl warns"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("pod \"{pod}\" force deleted")
    );
    let err = sim.fails(&["get", "pod", &pod]);
    assert!(err.contains("NotFound"), "{err}");
}

#[test]
fn deleting_a_namespace_deletes_its_objects_then_itself() {
    let sim = Sim::start(None);
    sim.ok(&["create", "namespace", "team-a"]);
    sim.ok(&[
        "-n",
        "team-a",
        "create",
        "deployment",
        "web",
        "--image=postgres:16",
        "--replicas=2",
    ]);
    sim.ok(&["-n", "team-a", "create", "configmap", "settings"]);
    sim.wait_json(
        &["-n", "team-a", "get", "deployment", "web"],
        "2 ready",
        |d| d["status"]["readyReplicas"] == 2,
    );
    let answer = sim.ok(&["delete", "--raw", "/api/v1/namespaces/team-a"]);
    let ns: serde_json::Value = serde_json::from_str(&answer).expect("namespace JSON");
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert_eq!(ns["spec"]["finalizers"], serde_json::json!(["kubernetes"]));
    assert!(ns["metadata"]["deletionTimestamp"].is_string());
    sim.wait_gone(&["get", "namespace", "team-a"]);
    for kind in ["pods", "deployments", "replicasets", "configmaps"] {
        let left = sim.json(&["-n", "team-a", "get", kind]);
        assert_eq!(left["items"], serde_json::json!([]), "{kind} left");
    }
}
