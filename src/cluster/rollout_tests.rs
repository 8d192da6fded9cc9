//! Unit tests of `cluster::rollout`.

use super::*;
use serde_json::json;

fn target() -> Target {
    Target {
        kind: "Deployment".into(),
        namespace: "default".into(),
        name: "gw".into(),
    }
}

fn dep(image: &str, generation: i64, observed: i64, counts: (i32, i32, i32)) -> Arc<Deployment> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": "gw", "namespace": "default", "uid": "d1", "generation": generation},
            "spec": {"replicas": 1, "selector": {}, "template": {"spec": {"containers": [
                {"name": "gw", "image": image, "imagePullPolicy": "IfNotPresent"}]}}},
            "status": {"observedGeneration": observed, "updatedReplicas": counts.0,
                       "readyReplicas": counts.1, "replicas": counts.2}
        }))
        .expect("deployment json"),
    )
}

fn rs(name: &str, image: &str) -> Arc<ReplicaSet> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("u-{name}"),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "gw", "uid": "d1"}]},
            "spec": {"selector": {}, "template": {"spec": {"containers": [
                {"name": "gw", "image": image, "imagePullPolicy": "IfNotPresent"}]}}}
        }))
        .expect("rs json"),
    )
}

fn pod(name: &str, rs: &str, state: serde_json::Value) -> Arc<Pod> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": format!("u-{rs}")}]},
            "spec": {"containers": [{"name": "gw", "image": "x"}]},
            "status": {"containerStatuses": [{"name": "gw", "image": "x", "imageID": "", "ready": state.get("running").is_some(),
                        "restartCount": 0, "state": state}]}
        }))
        .expect("pod json"),
    )
}

fn snap(d: Arc<Deployment>, rss: Vec<Arc<ReplicaSet>>, pods: Vec<Arc<Pod>>) -> Snapshot {
    Snapshot {
        deployments: vec![d].into(),
        replicasets: rss.into(),
        pods: pods.into(),
        ..Snapshot::default()
    }
}

fn expect(generation: i64) -> Expect {
    Expect {
        image: Some("localhost/gw:debug".into()),
        generation: Some(generation),
    }
}

const NEVER: &str = "ErrImageNeverPull";

fn waiting(reason: &str) -> serde_json::Value {
    json!({"waiting": {"reason": reason, "message": "Container image \"gw:debug\" is not present"}})
}

#[test]
fn old_failing_pods_are_not_blamed_before_the_patch_shows() {
    // The snapshot still shows generation 1 with the old, failing pod.
    let s = snap(
        dep("gw:debug", 1, 1, (1, 0, 1)),
        vec![rs("old", "gw:debug")],
        vec![pod("old-1", "old", waiting(NEVER))],
    );
    assert!(matches!(
        evaluate(&s, &target(), "gw", &expect(2), "l"),
        Step::Wait(_)
    ));
}

#[test]
fn new_pod_with_image_error_fails_early_with_the_reason() {
    let s = snap(
        dep("localhost/gw:debug", 2, 2, (1, 0, 2)),
        vec![rs("old", "gw:debug"), rs("new", "localhost/gw:debug")],
        vec![
            pod("old-1", "old", waiting(NEVER)),
            pod("new-1", "new", waiting(NEVER)),
        ],
    );
    match evaluate(&s, &target(), "gw", &expect(2), "l") {
        Step::Fail(reason) => {
            assert!(
                reason.contains("new-1") && reason.contains(NEVER),
                "{reason}"
            )
        }
        _ => panic!("expected a failure"),
    }
}

#[test]
fn err_image_pull_waits_for_the_back_off() {
    let s = snap(
        dep("localhost/gw:debug", 2, 2, (1, 0, 1)),
        vec![rs("new", "localhost/gw:debug")],
        vec![pod("new-1", "new", waiting("ErrImagePull"))],
    );
    assert!(matches!(
        evaluate(&s, &target(), "gw", &expect(2), "l"),
        Step::Wait(_)
    ));
    let s = snap(
        dep("localhost/gw:debug", 2, 2, (1, 0, 1)),
        vec![rs("new", "localhost/gw:debug")],
        vec![pod("new-1", "new", waiting("ImagePullBackOff"))],
    );
    assert!(matches!(
        evaluate(&s, &target(), "gw", &expect(2), "l"),
        Step::Fail(_)
    ));
}

#[test]
fn done_only_when_counts_match_and_the_new_pod_runs() {
    let running = json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}});
    // Old pod still counted in status.replicas: not done yet.
    let s = snap(
        dep("localhost/gw:debug", 2, 2, (1, 1, 2)),
        vec![rs("new", "localhost/gw:debug")],
        vec![pod("new-1", "new", running.clone())],
    );
    assert!(matches!(
        evaluate(&s, &target(), "gw", &expect(2), "l"),
        Step::Wait(_)
    ));
    let s = snap(
        dep("localhost/gw:debug", 2, 2, (1, 1, 1)),
        vec![rs("new", "localhost/gw:debug")],
        vec![pod("new-1", "new", running)],
    );
    assert!(matches!(
        evaluate(&s, &target(), "gw", &expect(2), "l"),
        Step::Done
    ));
}

#[test]
fn someone_else_changing_the_image_is_a_failure() {
    let s = snap(dep("other:1", 3, 3, (1, 1, 1)), vec![], vec![]);
    assert!(matches!(
        evaluate(&s, &target(), "gw", &expect(2), "l"),
        Step::Fail(_)
    ));
}

#[tokio::test]
async fn follow_reacts_to_snapshot_changes_and_times_out() {
    let first = snap(dep("localhost/gw:debug", 2, 1, (0, 0, 1)), vec![], vec![]);
    let (tx, rx) = watch::channel(Arc::new(first));
    let plan = FixPlan {
        target: target(),
        container: "gw".into(),
        patch: json!([]),
        undo: json!([]),
        image_before: "gw:debug".into(),
        image_after: "localhost/gw:debug".into(),
        pull_policy_before: None,
        pull_policy_after: None,
    };
    let mut seen = Vec::new();
    let handle = tokio::spawn(async move {
        let running = json!({"running": {}});
        tx.send_replace(Arc::new(snap(
            dep("localhost/gw:debug", 2, 2, (1, 1, 1)),
            vec![rs("new", "localhost/gw:debug")],
            vec![pod("new-1", "new", running)],
        )));
        tx
    });
    let outcome = follow_plan(rx.clone(), &plan, Some(2), Duration::from_secs(5), |p| {
        seen.push(p.message.clone())
    })
    .await;
    assert_eq!(outcome, RolloutOutcome::Running);
    let _tx = handle.await.expect("sender task");
    // Nothing changes any more: a second follow on an impossible generation times out.
    let outcome = follow_plan(rx, &plan, Some(9), Duration::from_millis(50), |_| {}).await;
    assert!(
        matches!(outcome, RolloutOutcome::TimedOut { .. }),
        "{outcome:?}"
    );
}
