//! The edge in-process against the sim's API server alone (no controllers): the test plays the
//! controllers by writing to the store.

use super::*;
use crate::support::cli::NO_HANG;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_lists_every_resource_and_follows_changes() {
    let sim = Sim::start().await;
    let conn = sim.connect().await;
    assert_eq!(conn.context, "kind-t");
    let feed = watch::start(&conn);
    let snap = feed.ready(WAIT).await.expect("ready");
    assert_eq!(snap.nodes.len(), 1);
    assert_eq!(snap.deployments.len(), 1);
    assert!(
        snap.resources.values().all(|s| *s == ResourceState::Live),
        "{:?}",
        snap.resources
    );
    assert_eq!(
        snap.node_images["t-worker"].images[0].names[0],
        "localhost/kubernaut/gw:debug"
    );

    // A created pod shows up, a deleted one goes away: driven by watch events.
    let mut rx = feed.snapshots();
    sim.store
        .create(
            &PODS,
            json!({"metadata": {"name": "p1", "namespace": "default"},
                              "spec": {"containers": [{"name": "c", "image": "x"}]}}),
        )
        .expect("pod");
    until(&mut rx, "the new pod", |s| s.pods.len() == 1).await;
    sim.store.delete(&PODS, "default", "p1").expect("delete");
    until(&mut rx, "the pod to go", |s| s.pods.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relist_after_expired_watch_leaves_no_ghosts() {
    let sim = Sim::start().await;
    sim.store
        .create(
            &PODS,
            json!({"metadata": {"name": "ghost", "namespace": "default"},
                              "spec": {"containers": [{"name": "c", "image": "x"}]}}),
        )
        .expect("pod");
    let conn = sim.connect().await;
    let feed = watch::start(&conn);
    feed.ready(WAIT).await.expect("ready");
    let mut rx = feed.snapshots();
    // Every watch now ends in 410 Expired: only a relist can tell the feed about the delete.
    sim.faults(|f| f.watch_410 = true);
    sim.store.delete(&PODS, "default", "ghost").expect("delete");
    until(&mut rx, "the relist without the pod", |s| s.pods.is_empty()).await;
    sim.faults(|_| {});
    let snap = until(&mut rx, "pods live again", |s| {
        s.resources.get("pods") == Some(&ResourceState::Live)
    })
    .await;
    assert!(snap.pods.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_required_resource_fails_ready_but_events_are_optional() {
    let sim = Sim::start().await;
    let conn = sim.connect().await;
    sim.faults(|f| {
        f.forbid.insert("pods".into());
    });
    let feed = watch::start(&conn);
    let err = feed.ready(WAIT).await.expect_err("pods are forbidden");
    assert_eq!(err.code, 3, "{}", err.message);
    assert!(err.message.contains("may not list pods"), "{}", err.message);
    drop(feed);

    sim.faults(|f| {
        f.forbid.insert("events".into());
    });
    let feed = watch::start(&conn);
    let snap = feed.ready(WAIT).await.expect("events are optional");
    assert!(
        matches!(snap.resources["events"], ResourceState::Forbidden { .. }),
        "{:?}",
        snap.resources
    );
    assert_eq!(snap.resources["pods"], ResourceState::Live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing_and_a_stale_guard_is_a_conflict() {
    let sim = Sim::start().await;
    let conn = sim.connect().await;

    let applied = apply::apply(&conn.client, &plan(), true)
        .await
        .expect("dry run");
    assert!(applied.dry_run);
    assert_eq!(sim.image(), "kubernaut/gw:debug", "dry run must not store");

    // Someone else edits the image between plan and apply: the guard fails, nothing changes.
    sim.store
        .modify(&DEPLOYMENTS, "default", "gw", None, |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("kubernaut/gw:v2");
            Ok(())
        })
        .expect("concurrent edit");
    let err = apply::apply(&conn.client, &plan(), false)
        .await
        .expect_err("guard fails");
    assert!(matches!(err, ApplyError::Conflict { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(sim.image(), "kubernaut/gw:v2", "their change survives");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_then_undo_round_trips_and_undo_is_guarded_too() {
    let sim = Sim::start().await;
    let conn = sim.connect().await;
    let applied = apply::apply(&conn.client, &plan(), false)
        .await
        .expect("apply");
    assert!(applied.generation.is_some());
    assert_eq!(sim.image(), "localhost/kubernaut/gw:debug");
    apply::undo(&conn.client, &plan(), false)
        .await
        .expect("undo");
    assert_eq!(sim.image(), "kubernaut/gw:debug");
    // A second undo finds the old value, not the fixed one: refused, unchanged.
    let err = apply::undo(&conn.client, &plan(), false)
        .await
        .expect_err("undo guard");
    assert!(err.is_conflict(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_plan_waits_for_the_new_replicaset_and_its_running_pod() {
    let sim = Sim::start().await;
    let conn = sim.connect().await;
    let feed = watch::start(&conn);
    feed.ready(WAIT).await.expect("ready");
    let applied = apply::apply(&conn.client, &plan(), false)
        .await
        .expect("apply");
    let follow = tokio::spawn({
        let rx = feed.snapshots();
        async move { rollout::follow_plan(rx, &plan(), applied.generation, WAIT, |_| {}).await }
    });
    // Play the deployment controller and the kubelet.
    let d = sim.store.get(&DEPLOYMENTS, "default", "gw").expect("gw");
    let rs = sim
        .store
        .create(
            &REPLICASETS,
            json!({"metadata": {"name": "gw-2", "namespace": "default",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "gw",
                                 "uid": d["metadata"]["uid"], "controller": true}]},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "gw"}},
                     "template": d["spec"]["template"].clone()}}),
        )
        .expect("replicaset");
    let pod = |state: Value| {
        json!({"metadata": {"name": "gw-2-a", "namespace": "default",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "gw-2",
                                 "uid": rs["metadata"]["uid"], "controller": true}]},
            "spec": {"containers": [{"name": "gw", "image": "localhost/kubernaut/gw:debug"}]},
            "status": {"containerStatuses": [{"name": "gw", "image": "localhost/kubernaut/gw:debug",
                "imageID": "", "ready": state.get("running").is_some(), "restartCount": 0, "state": state}]}})
    };
    sim.store
        .create(
            &PODS,
            pod(json!({"waiting": {"reason": "ContainerCreating"}})),
        )
        .expect("pod");
    sim.store
        .modify(&DEPLOYMENTS, "default", "gw", None, |d| {
            d["status"] = json!({"observedGeneration": d["metadata"]["generation"],
                                 "replicas": 1, "updatedReplicas": 1, "readyReplicas": 0});
            Ok(())
        })
        .expect("status");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !follow.is_finished(),
        "not done while the pod is still creating"
    );
    sim.store
        .modify(&PODS, "default", "gw-2-a", None, |p| {
            *p = pod(json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}));
            Ok(())
        })
        .expect("pod runs");
    sim.store
        .modify(&DEPLOYMENTS, "default", "gw", None, |d| {
            d["status"]["readyReplicas"] = json!(1);
            Ok(())
        })
        .expect("ready");
    let outcome = follow.await.expect("join");
    assert_eq!(outcome, rollout::RolloutOutcome::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_is_quick_and_names_the_problem() {
    let sim = Sim::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing.yaml");
    let out = kindscope(
        &["diagnose", "--kubeconfig", missing.to_str().expect("utf8")],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("missing.yaml"),
        "{}",
        text(&out.stderr)
    );

    let kc = sim.kubeconfig("kind-t");
    let kc = kc.to_str().expect("utf8");
    let out = kindscope(
        &["diagnose", "--kubeconfig", kc, "--context", "nope"],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("kind-t"),
        "lists the contexts: {}",
        text(&out.stderr)
    );

    let unreachable = dir.path().join("down.yaml");
    std::fs::write(
        &unreachable,
        kubeconfig_yaml("t", "https://127.0.0.1:1", &Credentials::default()),
    )
    .expect("write");
    let started = Instant::now();
    let out = kindscope(
        &[
            "diagnose",
            "--kubeconfig",
            unreachable.to_str().expect("utf8"),
        ],
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // No hang (its 10 s promise is checked on paused time in `cluster::connect`'s tests).
    assert!(started.elapsed() < NO_HANG);
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "one sentence: {}",
        text(&out.stderr)
    );

    sim.faults(|f| {
        f.forbid.insert("deployments".into());
    });
    let out = kindscope(&["diagnose", "--kubeconfig", kc], dir.path()).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("deployments"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_refuses_a_non_kind_context_before_writing() {
    let sim = Sim::start().await;
    let kc = sim.kubeconfig("prod");
    let kc = kc.to_str().expect("utf8");
    let out = kindscope(&["fix", "--yes", "--kubeconfig", kc], sim.dir.path()).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("--allow-write") && err.contains("\"prod\""),
        "{err}"
    );
    assert_eq!(sim.image(), "kubernaut/gw:debug");
    // --read-only refuses even on Kind.
    let kind = sim.kubeconfig("kind-t");
    let out = kindscope(
        &[
            "fix",
            "--yes",
            "--read-only",
            "--kubeconfig",
            kind.to_str().expect("utf8"),
        ],
        sim.dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_requests_mark_resources_stale_and_the_watchers_retry() {
    let sim = Sim::start().await;
    let conn = sim.connect().await;
    // Every list fails with 500: each resource is stale (with the reason), not an error exit.
    sim.faults(|f| f.error_rate = Some(1.0));
    let feed = watch::start(&conn);
    let mut rx = feed.snapshots();
    let snap = until(&mut rx, "every resource stale", |s| {
        s.resources
            .values()
            .all(|r| matches!(r, ResourceState::Stale { .. }))
    })
    .await;
    match &snap.resources["pods"] {
        ResourceState::Stale { reason, .. } => assert!(reason.contains("500"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let err = feed
        .ready(Duration::from_millis(300))
        .await
        .expect_err("not ready while failing");
    assert_eq!(err.code, 3);
    assert!(err.message.contains("did not list"), "{}", err.message);
    // The server recovers: the watchers' back-off retries bring everything live.
    sim.faults(|_| {});
    let snap = feed.ready(WAIT).await.expect("recovers");
    assert_eq!(snap.deployments.len(), 1);
}
