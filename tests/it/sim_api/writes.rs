//! Patches (JSON with a guard, merge, strategic) and dryRun.

use super::*;

#[tokio::test]
async fn guarded_json_patch_applies_or_changes_nothing() {
    let store = populated(1000, 0);
    store
        .create(
            &DEPLOYMENTS,
            deployment("gw", &[("gw", "kubernaut/gateway:debug")]),
        )
        .expect("deployment");
    let (_server, client) = start(store.clone()).await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let before = store.get(&DEPLOYMENTS, "default", "gw").expect("stored");

    let guarded = |expected: &str, new: &str| -> json_patch::Patch {
        serde_json::from_value(json!([
            {"op": "test", "path": "/spec/template/spec/containers/0/image", "value": expected},
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": new},
        ]))
        .expect("patch")
    };
    let err = deploys
        .patch(
            "gw",
            &PatchParams::default(),
            &Patch::Json::<()>(guarded("someone/else:1", "x:1")),
        )
        .await
        .expect_err("guard fails");
    let s = api_error(err);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let after = store.get(&DEPLOYMENTS, "default", "gw").expect("stored");
    assert_eq!(before, after, "a failed test op changes nothing");

    let patched = deploys
        .patch(
            "gw",
            &PatchParams::default(),
            &Patch::Json::<()>(guarded(
                "kubernaut/gateway:debug",
                "localhost/kubernaut/gateway:debug",
            )),
        )
        .await
        .expect("guard holds");
    let spec = patched.spec.expect("spec").template.spec.expect("pod spec");
    assert_eq!(
        spec.containers[0].image.as_deref(),
        Some("localhost/kubernaut/gateway:debug")
    );
    assert_eq!(patched.metadata.generation, Some(2));
    let stored = store.get(&DEPLOYMENTS, "default", "gw").expect("stored");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["image"],
        "localhost/kubernaut/gateway:debug"
    );
}

#[tokio::test]
async fn merge_and_strategic_patches() {
    let store = populated(1000, 0);
    store
        .create(
            &DEPLOYMENTS,
            deployment("app", &[("main", "app:1"), ("side", "side:1")]),
        )
        .expect("deployment");
    let (_server, client) = start(store.clone()).await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");

    // What `kubectl set image deployment/app side=side:2` sends.
    let set_image = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "main"}, {"name": "side"}],
        "containers": [{"image": "side:2", "name": "side"}]}}}});
    let d = deploys
        .patch("app", &PatchParams::default(), &Patch::Strategic(set_image))
        .await
        .expect("strategic");
    let cs = d
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers;
    assert_eq!(
        cs.iter()
            .map(|c| (c.name.as_str(), c.image.as_deref().unwrap_or("")))
            .collect::<Vec<_>>(),
        vec![("main", "app:1"), ("side", "side:2")]
    );

    let merge = json!({"metadata": {"labels": {"team": "gw"}}, "spec": {"replicas": 3}});
    let d = deploys
        .patch("app", &PatchParams::default(), &Patch::Merge(merge))
        .await
        .expect("merge");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(d.metadata.labels.expect("labels")["team"], "gw");
    // A status change through the main resource is ignored, as the apiserver does.
    let d = deploys
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}})),
        )
        .await
        .expect("merge status");
    assert_eq!(d.status.and_then(|s| s.replicas), None);
    let d = deploys
        .patch_status(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}})),
        )
        .await
        .expect("status subresource");
    assert_eq!(d.status.and_then(|s| s.replicas), Some(7));
}

#[tokio::test]
async fn dry_run_answers_without_storing() {
    let store = populated(1000, 1);
    store
        .create(&DEPLOYMENTS, deployment("app", &[("main", "app:1")]))
        .expect("deployment");
    let (_server, client) = start(store.clone()).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let rv = store.resource_version();
    let before = store.get(&DEPLOYMENTS, "default", "app").expect("stored");

    let dry = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let d = deploys
        .patch("app", &dry, &Patch::Merge(json!({"spec": {"replicas": 5}})))
        .await
        .expect("dry patch");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(5));

    let new: Deployment =
        serde_json::from_value(deployment("fresh", &[("main", "app:1")])).expect("typed");
    let created = deploys
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &new,
        )
        .await
        .expect("dry create");
    assert_eq!(created.metadata.name.as_deref(), Some("fresh"));
    assert!(created.metadata.uid.is_some());

    let mut replaced: Deployment = serde_json::from_value((*before).clone()).expect("typed");
    replaced.spec.as_mut().expect("spec").replicas = Some(9);
    deploys
        .replace(
            "app",
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &replaced,
        )
        .await
        .expect("dry replace");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.delete("p0000", &DeleteParams::default().dry_run())
        .await
        .expect("dry delete");

    assert_eq!(store.resource_version(), rv, "nothing was written");
    assert_eq!(
        store.get(&DEPLOYMENTS, "default", "app").expect("stored"),
        before
    );
    assert!(store.get(&DEPLOYMENTS, "default", "fresh").is_none());
    assert!(store.get(&PODS, "default", "p0000").is_some());
}
