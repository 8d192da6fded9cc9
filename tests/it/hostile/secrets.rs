//! Triage bundles are handed to others: credentials planted in every field that can carry one
//! stay out of what `kindscope snapshot` writes, and the file is private to the user.

use std::io::Read;
use std::time::{Duration, Instant};

use kindscope::sim::resources::{EVENTS, PODS};
use serde_json::json;

use super::support::{start_sim, text};

const SECRETS: [&str; 9] = [
    "hunter2-command",
    "hunter2-arg",
    "hunter2-env",
    "hunter2-probe-exec",
    "hunter2-probe-header",
    "hunter2-hook-exec",
    "hunter2-pod-annotation",
    "hunter2-template-annotation",
    "hunter2-event",
];

const SCENARIO: &str = r#"kind: Scenario
name: creds
nodes:
  - {name: creds-control-plane, role: control-plane}
  - {name: creds-worker, role: worker, images: ["localhost/team/api:1"]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
  labels: {app: api}
  annotations: {vault.example/token: hunter2-pod-annotation}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
      annotations: {vault.example/role: hunter2-template-annotation}
    spec:
      containers:
        - name: api
          image: localhost/team/api:1
          imagePullPolicy: Never
          command: ["/bin/sh", "-c", "login hunter2-command"]
          args: ["--password=hunter2-arg"]
          env: [{name: TOKEN, value: hunter2-env}]
          livenessProbe:
            exec: {command: [check, hunter2-probe-exec]}
          readinessProbe:
            httpGet:
              port: 80
              path: /ready
              httpHeaders: [{name: Authorization, value: "Bearer hunter2-probe-header"}]
          lifecycle:
            postStart: {exec: {command: [notify, hunter2-hook-exec]}}
"#;

fn read_bundle(path: &std::path::Path) -> String {
    let raw = std::fs::read(path).expect("bundle");
    let mut json = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut json)
        .expect("gzip bundle");
    json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_secrets_stay_out_of_the_bundle_and_the_file_is_0600() {
    let sim = start_sim(SCENARIO).await;
    // The pod (its spec carries everything but the event) and a hook failure quoting it.
    let start = Instant::now();
    let pod = loop {
        let (pods, _) = sim.sim.store.list(&PODS, Some("default"));
        if let Some(p) = pods.first() {
            break p["metadata"]["name"].as_str().expect("name").to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no pod");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    sim.sim
        .store
        .create(
            &EVENTS,
            json!({
                "metadata": {"name": "hook", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod},
                "reason": "FailedPostStartHook", "type": "Warning", "count": 1,
                "message": "Exec lifecycle hook ([notify hunter2-event]) for Container \"api\" in Pod \"api\" failed - error: exit 1, message: \"hunter2-event\"",
            }),
        )
        .expect("event");

    let plain = sim.dir.path().join("b.json.gz");
    let out = sim
        .run(&["snapshot", "-o", plain.to_str().expect("utf8")])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bundle = read_bundle(&plain);
    assert!(bundle.contains(&pod), "the bundle holds the pod");
    for secret in SECRETS {
        assert!(!bundle.contains(secret), "{secret} leaked into the bundle");
    }
    assert!(
        bundle.contains("--password=<redacted: 11 chars>"),
        "flag names stay"
    );
    assert!(
        bundle.contains("vault.example/token"),
        "annotation keys stay"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plain)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "the bundle is private");
    }

    // Explicit opt-ins keep what they name, and only that.
    let opted = sim.dir.path().join("opted.json.gz");
    let out = sim
        .run(&[
            "snapshot",
            "-o",
            opted.to_str().expect("utf8"),
            "--include-args",
            "--include-annotations",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bundle = read_bundle(&opted);
    for kept in ["hunter2-arg", "hunter2-command", "hunter2-pod-annotation"] {
        assert!(bundle.contains(kept), "{kept} kept on request");
    }
    for secret in ["hunter2-env", "hunter2-probe-header"] {
        assert!(!bundle.contains(secret), "{secret} is never kept");
    }
    sim.sim.shutdown().await;
}
