//! `kubectl apply --server-side`: field ownership (managedFields) and conflicts.

use super::support::Sim;

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: postgres:16
";

fn apply(sim: &Sim, extra: &[&str], manifest: &str) -> std::process::Output {
    let mut args = vec!["apply", "--server-side", "-f", "-"];
    args.extend(extra);
    sim.run_with_stdin(&args, Some(manifest))
}

#[test]
fn server_side_apply_creates_and_owns_fields() {
    let sim = Sim::start(None);
    let out = apply(&sim, &[], WEB);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "deployment.apps/web serverside-applied"
    );
    let d = sim.json(&["get", "deployment", "web", "--show-managed-fields"]);
    let mf = &d["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "kubectl");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(mf["fieldsType"], "FieldsV1");
    assert!(mf["fieldsV1"]["f:spec"]["f:replicas"].is_object(), "{mf}");
    assert!(
        mf["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]
            ["f:image"]
            .is_object(),
        "{mf}"
    );
    // Applying again changes nothing; dropping a field from the manifest removes it. First let
    // the controllers finish the rollout, whose status writes would change the resourceVersion.
    let d = sim.wait_json(
        &["get", "deployment", "web"],
        "the rollout to finish",
        |d| {
            d["status"]["availableReplicas"] == 2
                && d["status"]["observedGeneration"] == d["metadata"]["generation"]
                && d["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c["type"] == "Progressing" && c["reason"] == "NewReplicaSetAvailable"
                    })
                })
        },
    );
    let rv = d["metadata"]["resourceVersion"].clone();
    apply(&sim, &[], WEB);
    let again = sim.json(&["get", "deployment", "web"]);
    assert_eq!(again["metadata"]["resourceVersion"], rv, "a no-op apply");
    apply(
        &sim,
        &[],
        &WEB.replace("  labels: {app: web}\nspec:", "spec:"),
    );
    let d = sim.json(&["get", "deployment", "web"]);
    assert!(d["metadata"]["labels"].get("app").is_none(), "{d}");
}

#[test]
fn server_side_apply_conflicts_with_another_manager_unless_forced() {
    let sim = Sim::start(None);
    apply(&sim, &[], WEB);
    sim.ok(&["scale", "deployment", "web", "--replicas=4"]);
    let out = apply(&sim, &[], WEB);
    assert!(!out.status.success(), "a conflict");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1: .spec.replicas"
        ),
        "{err}"
    );
    assert_eq!(
        sim.json(&["get", "deployment", "web"])["spec"]["replicas"],
        4
    );
    // Another field manager that agrees on the value co-owns it: no conflict.
    let agree = apply(
        &sim,
        &["--field-manager=ops"],
        &WEB.replace("replicas: 2", "replicas: 4"),
    );
    assert!(
        agree.status.success(),
        "{}",
        String::from_utf8_lossy(&agree.stderr)
    );
    let forced = apply(&sim, &["--force-conflicts"], WEB);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(
        sim.json(&["get", "deployment", "web"])["spec"]["replicas"],
        2
    );
}
