//! Rollouts: `set image`, `rollout status/history/undo`, as the deployment controller does them.

use super::support::Sim;

fn postgres_replicasets(sim: &Sim) -> serde_json::Value {
    sim.json(&["get", "rs", "-l", "app=postgres"])
}

#[test]
fn rollout_undo_reuses_the_old_replicaset() {
    let sim = Sim::start(None);
    sim.wait_json(
        &["get", "deployment", "postgres"],
        "postgres available",
        |d| d["status"]["availableReplicas"] == 1,
    );
    let first = postgres_replicasets(&sim)["items"][0]["metadata"]["name"]
        .as_str()
        .expect("the first ReplicaSet")
        .to_string();
    // An image the registry does not have: the new ReplicaSet's pod cannot start.
    sim.ok(&[
        "set",
        "image",
        "deployment/postgres",
        "postgres=postgres:99",
    ]);
    sim.wait_json(
        &["get", "rs", "-l", "app=postgres"],
        "a second ReplicaSet",
        |l| l["items"].as_array().map(Vec::len) == Some(2),
    );
    let out = sim.ok(&["rollout", "undo", "deployment/postgres"]);
    assert_eq!(out.trim(), "deployment.apps/postgres rolled back");
    // The old ReplicaSet is scaled back up and becomes revision 3; no third one appears.
    let rs = sim.wait_json(&["get", "rs", "-l", "app=postgres"], "the rollback", |l| {
        l["items"].as_array().is_some_and(|items| {
            items.iter().any(|r| {
                r["metadata"]["name"] == first.as_str()
                    && r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
                    && r["status"]["readyReplicas"] == 1
            }) && items
                .iter()
                .all(|r| r["metadata"]["name"] == first.as_str() || r["spec"]["replicas"] == 0)
        })
    });
    assert_eq!(rs["items"].as_array().map(Vec::len), Some(2), "{rs}");
    let status = sim.ok(&["rollout", "status", "deployment/postgres", "--timeout=60s"]);
    assert!(status.contains("successfully rolled out"), "{status}");
    let history = sim.ok(&["rollout", "history", "deployment/postgres"]);
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["2", "3"], "{history}");
}

#[test]
fn rollout_undo_to_revision_and_status_of_a_stuck_rollout() {
    let sim = Sim::start(None);
    sim.ok(&[
        "set",
        "image",
        "deployment/postgres",
        "postgres=postgres:99",
    ]);
    let stuck = sim.run(&["rollout", "status", "deployment/postgres", "--timeout=1s"]);
    assert!(!stuck.status.success(), "a rollout that cannot finish");
    assert!(
        String::from_utf8_lossy(&stuck.stdout)
            .contains("Waiting for deployment \"postgres\" rollout to finish"),
        "{}",
        String::from_utf8_lossy(&stuck.stdout)
    );
    sim.ok(&["rollout", "undo", "deployment/postgres", "--to-revision=1"]);
    let d = sim.wait_json(&["get", "deployment", "postgres"], "the rollback", |d| {
        d["status"]["observedGeneration"] == d["metadata"]["generation"]
            && d["status"]["updatedReplicas"] == 1
            && d["status"]["availableReplicas"] == 1
            && d["status"]["replicas"] == 1
    });
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "postgres:16"
    );
}
