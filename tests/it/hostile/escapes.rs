//! Terminal escape injection (CVE-2021-25743's class): escape sequences planted in images,
//! annotations and events must reach no stream of any command raw.

use std::time::{Duration, Instant};

use kindscope::sim::resources::{EVENTS, PODS};
use serde_json::{Value, json};

use super::support::{Sim, assert_terminal_safe, kindscope, start_sim, text};

/// OSC 52 (clipboard), a window title, clear-screen, C1 CSI, bidi override and isolate, NUL,
/// CR and DEL, in YAML double-quoted escapes.
const EVIL_YAML: &str = r#"\e]52;c;ZXZpbA==\a\e]0;pwned\a\e[2J\e[H\x9b31m\u202Etxt\u2066\0\r\x7f"#;
/// The same in Rust.
const EVIL: &str =
    "\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1b[2J\x1b[H\u{9b}31m\u{202e}txt\u{2066}\0\r\x7f";

fn scenario() -> String {
    format!(
        r#"kind: Scenario
name: evil
provider: podman
nodes:
  - {{name: evil-control-plane, role: control-plane}}
  - name: evil-worker
    role: worker
    images: ["localhost/team/api:1.4.2"]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
  labels: {{app: api}}
  annotations: {{note: "{EVIL_YAML}"}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}, annotations: {{note: "{EVIL_YAML}"}}}}
    spec:
      containers:
        - name: api
          image: team/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default, labels: {{app: web}}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: "team/web:1{EVIL_YAML}"
"#
    )
}

/// Findings of `diagnose --json` once both workloads are diagnosed.
async fn settled(sim: &Sim) -> Value {
    let start = Instant::now();
    loop {
        let out = sim.run(&["diagnose", "--json"]).await;
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let workloads: Vec<&str> = report["findings"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["workload"].as_str()).collect())
            .unwrap_or_default();
        if workloads.contains(&"Deployment/api") && workloads.contains(&"Deployment/web") {
            return report;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the scenario did not settle: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_escapes_reach_no_stream_of_any_command() {
    let sim = start_sim(&scenario()).await;
    let report = settled(&sim).await;
    // The hostile text really is in the data (JSON carries it escaped, but equal once parsed).
    assert!(report.to_string().contains("txt"), "{report}");
    let web = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["workload"] == "Deployment/web"))
        .expect("web finding");
    assert!(
        web["image"].as_str().is_some_and(|i| i.contains(EVIL)),
        "{web}"
    );

    // An event about the api pod whose message carries the sequences too.
    let (pods, _) = sim.sim.store.list(&PODS, Some("default"));
    let pod = pods
        .iter()
        .find(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("api-"))
        })
        .expect("api pod");
    let pod_name = pod["metadata"]["name"].as_str().expect("name").to_string();
    sim.sim
        .store
        .create(
            &EVENTS,
            json!({
                "metadata": {"name": "evil-event", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod_name,
                    "fieldPath": "spec.containers{api}"},
                "reason": "Failed", "type": "Warning", "count": 1,
                "message": format!("Failed to pull image \"team/api:1.4.2\": {EVIL}"),
            }),
        )
        .expect("event");

    let bundle = sim
        .dir
        .path()
        .join(format!("bundle{EVIL}.json").replace(['\0', '/'], ""));
    let bundle_arg = bundle.to_str().expect("utf8").to_string();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("diagnose", vec!["diagnose"]),
        ("diagnose --json", vec!["diagnose", "--json"]),
        ("fix --dry-run", vec!["fix", "--dry-run"]),
        ("fix --dry-run --json", vec!["fix", "--dry-run", "--json"]),
        ("snapshot", vec!["snapshot", "-o", &bundle_arg]),
    ];
    let mut saw_event = false;
    for (what, args) in runs {
        let out = sim.run(&args).await;
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{what}: {:?}\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_terminal_safe(what, &out);
        let stdout = text(&out.stdout);
        saw_event |= what == "diagnose" && stdout.contains("\\x1b]52;c;ZXZpbA==\\x07");
        if what == "diagnose" {
            // The visible form of the sequences is printed, so the user sees what is there.
            assert!(stdout.contains("\\u{202e}txt\\u{2066}"), "{stdout}");
        }
    }
    assert!(saw_event, "diagnose shows the escaped sequences");

    // What the user typed (or pasted from a manifest) is quoted back escaped too.
    let dir = sim.dir.path();
    let evil_ref = format!("team/x:1{EVIL}");
    for (what, args) in [
        ("ref", vec!["ref", evil_ref.as_str()]),
        ("ref --json", vec!["ref", "--json", evil_ref.as_str()]),
        (
            "load --read-only",
            vec!["--read-only", "load", "img", "--cluster", EVIL],
        ),
        ("load", vec!["load", evil_ref.as_str(), "--runtime", "none"]),
    ] {
        // A command line cannot carry NUL; every other planted character stays.
        let args: Vec<String> = args.iter().map(|a| a.replace('\0', "")).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = kindscope(&args, dir).await;
        assert!(!text(&out.stderr).contains("panicked"), "{what}");
        assert_terminal_safe(what, &out);
    }
    sim.sim.shutdown().await;
}
