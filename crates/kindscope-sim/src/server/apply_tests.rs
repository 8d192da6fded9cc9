use super::*;

fn deployment(replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "labels": {"app": "web"}},
           "spec": {"replicas": replicas, "template": {"spec": {"containers": [
               {"name": "web", "image": image}]}}}})
}

#[test]
fn fieldsets_use_fieldsv1_paths() {
    let set = fieldset(&deployment(2, "nginx"));
    let v1 = to_fields_v1(&set);
    assert_eq!(
        v1,
        json!({"f:metadata": {"f:labels": {"f:app": {}}},
               "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                   "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    assert_eq!(from_fields_v1(&v1), set);
}

#[test]
fn an_update_owns_what_it_changed_and_an_apply_conflicts_on_it() {
    let rt = &super::super::super::resources::DEPLOYMENTS;
    let config = deployment(2, "nginx");
    let created = apply(rt, "web", "kubectl", false, None, &config).expect("created");
    // kubectl scale (an Update by another manager) changes replicas.
    let mut scaled = created.clone();
    scaled["spec"]["replicas"] = json!(5);
    record_update("kubectl-scale", "scale", Some(&created), &mut scaled);
    let err = apply(rt, "web", "kubectl", false, Some(&scaled), &config).expect_err("conflict");
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
    // The same value is no conflict; --force-conflicts takes the field over.
    assert!(
        apply(
            rt,
            "web",
            "kubectl",
            false,
            Some(&scaled),
            &deployment(5, "nginx")
        )
        .is_ok()
    );
    let forced = apply(rt, "web", "kubectl", true, Some(&scaled), &config).expect("forced");
    assert_eq!(forced["spec"]["replicas"], 2);
    let managers: Vec<&str> = forced["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert_eq!(managers, ["kubectl"], "kubectl-scale owned nothing else");
}

#[test]
fn fields_no_longer_applied_are_removed() {
    let rt = &super::super::super::resources::DEPLOYMENTS;
    let created = apply(rt, "web", "kubectl", false, None, &deployment(2, "nginx")).expect("ok");
    let mut smaller = deployment(2, "nginx");
    if let Some(m) = smaller["metadata"].as_object_mut() {
        m.remove("labels");
    }
    let out = apply(rt, "web", "kubectl", false, Some(&created), &smaller).expect("applied");
    assert!(out["metadata"]["labels"]["app"].is_null(), "{out}");
}

#[test]
fn an_apply_that_changes_nothing_keeps_the_old_timestamps() {
    let rt = &super::super::super::resources::DEPLOYMENTS;
    let config = deployment(2, "nginx");
    let mut live = apply(rt, "web", "kubectl", false, None, &config).expect("created");
    live["metadata"]["managedFields"][0]["time"] = json!("2020-01-01T00:00:00Z");
    let again = apply(rt, "web", "kubectl", false, Some(&live), &config).expect("applied");
    assert_eq!(again, live, "a no-op apply is a no-op");
    // A real change is recorded with a new time.
    let changed = apply(
        rt,
        "web",
        "kubectl",
        false,
        Some(&live),
        &deployment(3, "nginx"),
    )
    .expect("applied");
    assert_eq!(changed["spec"]["replicas"], 3);
    assert_ne!(
        changed["metadata"]["managedFields"][0]["time"],
        "2020-01-01T00:00:00Z"
    );
}
