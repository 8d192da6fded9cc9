//! The commands that worked before protobuf: reads, describe, label, patches, client-side
//! apply, diff, dry runs, wait and cordon, each with the answer a real cluster gives.

use super::support::Sim;

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
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

#[test]
fn get_describe_and_events() {
    let sim = Sim::start(None);
    let nodes = sim.ok(&["get", "nodes"]);
    assert!(nodes.starts_with("NAME "), "{nodes}");
    assert!(nodes.contains("gateway-debug-control-plane"), "{nodes}");
    let pods = sim.ok(&["get", "pods", "-A", "-o", "wide"]);
    assert!(pods.contains("kube-system"), "{pods}");
    assert!(pods.contains("NOMINATED NODE"), "{pods}");
    let d = sim.ok(&["describe", "deployment", "postgres"]);
    assert!(d.contains("Name:                   postgres"), "{d}");
    assert!(d.contains("StrategyType:           RollingUpdate"), "{d}");
    sim.wait_json(&["get", "events"], "a Scheduled event", |l| {
        l["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|e| e["reason"] == "Scheduled"))
    });
    let events = sim.ok(&["events"]);
    assert!(events.contains("Scheduled"), "{events}");
    let svc = sim.ok(&["get", "svc", "-n", "kube-system"]);
    assert!(
        svc.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == [
                "kube-dns",
                "ClusterIP",
                "10.96.0.10",
                "<none>",
                "53/UDP,53/TCP,9153/TCP",
                l.split_whitespace().last().unwrap_or("")
            ]),
        "{svc}"
    );
}

#[test]
fn label_annotate_and_the_three_patches() {
    let sim = Sim::start(None);
    assert_eq!(
        sim.ok(&["label", "deployment", "postgres", "tier=db"])
            .trim(),
        "deployment.apps/postgres labeled"
    );
    sim.ok(&["annotate", "deployment", "postgres", "owner=team-a"]);
    sim.ok(&[
        "patch",
        "deployment",
        "postgres",
        "--type=merge",
        "-p",
        r#"{"spec":{"minReadySeconds":2}}"#,
    ]);
    sim.ok(&[
        "patch",
        "deployment",
        "postgres",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]"#,
    ]);
    sim.ok(&[
        "patch",
        "deployment",
        "postgres",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"postgres","env":[{"name":"A","value":"1"}]}]}}}}"#,
    ]);
    let d = sim.json(&["get", "deployment", "postgres"]);
    assert_eq!(d["metadata"]["labels"]["tier"], "db");
    assert_eq!(d["metadata"]["annotations"]["owner"], "team-a");
    assert_eq!(d["spec"]["minReadySeconds"], 2);
    assert_eq!(d["spec"]["revisionHistoryLimit"], 3);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "postgres:16", "strategic merge keeps the image");
    let a = c["env"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["name"] == "A"));
    assert_eq!(a.map(|v| v["value"].clone()), Some(serde_json::json!("1")));
    assert!(
        c["env"].as_array().is_some_and(|e| e.len() > 1),
        "the other variables stay"
    );
    let bad = sim.fails(&[
        "patch",
        "deployment",
        "postgres",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":7}]"#,
    ]);
    assert!(bad.contains("the server rejected our request"), "{bad}");
}

#[test]
fn apply_diff_dry_run_and_wait() {
    let sim = Sim::start(None);
    let dry = sim.run_with_stdin(&["apply", "-f", "-", "--dry-run=server"], Some(WEB));
    assert!(dry.status.success());
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout).trim(),
        "deployment.apps/web created (server dry run)"
    );
    sim.fails(&["get", "deployment", "web"]);
    let out = sim.run_with_stdin(&["apply", "-f", "-"], Some(WEB));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "deployment.apps/web created"
    );
    let same = sim.run_with_stdin(&["diff", "-f", "-"], Some(WEB));
    assert_eq!(same.status.code(), Some(0), "no difference");
    let changed = WEB.replace("replicas: 1", "replicas: 2");
    let diff = sim.run_with_stdin(&["diff", "-f", "-"], Some(&changed));
    assert_eq!(diff.status.code(), Some(1), "a difference");
    assert!(String::from_utf8_lossy(&diff.stdout).contains("+  replicas: 2"));
    let again = sim.run_with_stdin(&["apply", "-f", "-"], Some(&changed));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "deployment.apps/web configured"
    );
    let waited = sim.ok(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "--timeout=60s",
    ]);
    assert_eq!(waited.trim(), "deployment.apps/web condition met");
}

#[test]
fn cordon_and_uncordon() {
    let sim = Sim::start(None);
    let node = "gateway-debug-worker";
    assert_eq!(
        sim.ok(&["cordon", node]).trim(),
        format!("node/{node} cordoned")
    );
    let n = sim.json(&["get", "node", node]);
    assert_eq!(n["spec"]["unschedulable"], true);
    let get = sim.ok(&["get", "node", node]);
    assert!(get.contains("Ready,SchedulingDisabled"), "{get}");
    sim.ok(&["uncordon", node]);
    let n = sim.json(&["get", "node", node]);
    assert!(n["spec"]["unschedulable"].is_null());
}
