//! `kubectl create …`: kubectl's generators send protobuf bodies (docs/sim.md, "Protobuf").

use super::support::Sim;

#[test]
fn create_deployment_runs_its_pods() {
    let sim = Sim::start(None);
    let out = sim.ok(&[
        "create",
        "deployment",
        "web",
        "--image=postgres:16",
        "--replicas=2",
        "--port=5432",
    ]);
    assert_eq!(out.trim(), "deployment.apps/web created");
    // postgres:16 is in the embedded scenario's registry: the pods pull it and run.
    let d = sim.wait_json(&["get", "deployment", "web"], "2 available replicas", |d| {
        d["status"]["availableReplicas"] == 2
    });
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "postgres");
    assert_eq!(c["ports"][0]["containerPort"], 5432);
    // Defaulted as the apiserver does.
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    let pods = sim.json(&["get", "pods", "-l", "app=web"]);
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(2));
}

#[test]
fn create_deployment_with_zero_replicas_keeps_zero() {
    let sim = Sim::start(None);
    sim.ok(&[
        "create",
        "deployment",
        "idle",
        "--image=busybox",
        "--replicas=0",
        "--",
        "sleep",
        "100",
    ]);
    let d = sim.json(&["get", "deployment", "idle"]);
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["command"],
        serde_json::json!(["sleep", "100"])
    );
}

#[test]
fn create_configmap_and_secret() {
    let sim = Sim::start(None);
    let out = sim.ok(&[
        "create",
        "configmap",
        "settings",
        "--from-literal=mode=debug",
        "--from-literal=level=3",
    ]);
    assert_eq!(out.trim(), "configmap/settings created");
    let cm = sim.json(&["get", "configmap", "settings"]);
    assert_eq!(
        cm["data"],
        serde_json::json!({"mode": "debug", "level": "3"})
    );
    let out = sim.ok(&[
        "create",
        "secret",
        "generic",
        "creds",
        "--from-literal=password=s3cr3t",
    ]);
    assert_eq!(out.trim(), "secret/creds created");
    let s = sim.json(&["get", "secret", "creds"]);
    // base64 of "s3cr3t", and the type the apiserver defaults.
    assert_eq!(s["data"]["password"], "czNjcjN0");
    assert_eq!(s["type"], "Opaque");
    let again = sim.fails(&["create", "configmap", "settings"]);
    assert!(
        again.contains("configmaps \"settings\" already exists"),
        "{again}"
    );
}

#[test]
fn create_namespace_and_service() {
    let sim = Sim::start(None);
    assert_eq!(
        sim.ok(&["create", "namespace", "team-a"]).trim(),
        "namespace/team-a created"
    );
    let out = sim.ok(&[
        "-n",
        "team-a",
        "create",
        "service",
        "clusterip",
        "web",
        "--tcp=80:8080",
    ]);
    assert_eq!(out.trim(), "service/web created");
    let svc = sim.json(&["-n", "team-a", "get", "service", "web"]);
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(svc["spec"]["selector"]["app"], "web");
    let ip = svc["spec"]["clusterIP"].as_str().unwrap_or("");
    assert!(ip.starts_with("10.96."), "cluster IP {ip}");
}
