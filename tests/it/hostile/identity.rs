//! Guarded identity and the write guard: a Deployment recreated between plan and apply is not
//! patched (the uid `test`), a conflict is followed by a fresh diagnosis, `--read-only` stops
//! `load`, and a refused context is never contacted.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kindscope::sim::resources::DEPLOYMENTS;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::{Value, json};

use super::support::{Sim, isolated, kindscope, one_sentence, start_sim, text};
use crate::support::cli::output;

const SCENARIO: &str = r#"kind: Scenario
name: ident
provider: podman
nodes:
  - {name: ident-control-plane, role: control-plane}
  - {name: ident-worker, role: worker, images: ["localhost/team/api:1.4.2"]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: default, labels: {app: api}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - {name: api, image: "team/api:1.4.2"}
"#;

/// `kindscope fix` on a terminal: waits for the y/N prompt, runs `between` (the plan is made,
/// nothing applied yet), answers `y`, and returns (exit code, everything printed).
async fn fix_with_prompt(sim: &Sim, between: impl FnOnce()) -> (u32, String) {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_kindscope"));
    cmd.args([
        "fix",
        "--kubeconfig",
        sim.kubeconfig.to_str().expect("utf8"),
        "--runtime",
        "none",
    ]);
    cmd.env("NO_COLOR", "1");
    cmd.env("KINDSCOPE_STATE_DIR", sim.dir.path().join("state"));
    cmd.env("XDG_CONFIG_HOME", sim.dir.path().join("config"));
    cmd.env_remove("KUBECONFIG");
    cmd.env_remove("KINDSCOPE_LOG");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn");
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let mut writer = pty.master.take_writer().expect("writer");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let pump = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                return;
            }
            sink.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
    let printed = || text(&seen.lock().expect("lock"));
    let start = Instant::now();
    while !printed().contains("[y/N]") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no prompt: {}",
            printed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    between();
    writer.write_all(b"y\r").expect("answer");
    let status = tokio::task::spawn_blocking(move || child.wait().expect("wait"))
        .await
        .expect("join");
    drop(pty.master);
    let _ = pump.join();
    (status.exit_code(), printed())
}

/// The Deployment as a new client would create it again (no uid, no status).
fn recreated(old: &Value, image: &str) -> Value {
    let mut spec = old["spec"].clone();
    spec["template"]["spec"]["containers"][0]["image"] = json!(image);
    json!({
        "metadata": {"name": "api", "namespace": "default", "labels": {"app": "api"}},
        "spec": spec,
    })
}

async fn settled(sim: &Sim) {
    let start = Instant::now();
    loop {
        let out = sim.run(&["diagnose", "--json"]).await;
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if report["findings"].as_array().is_some_and(|f| !f.is_empty()) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no finding");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_recreated_between_plan_and_apply_is_not_patched() {
    let sim = start_sim(SCENARIO).await;
    settled(&sim).await;
    let store = sim.sim.store.clone();
    let old_uid = store
        .get(&DEPLOYMENTS, "default", "api")
        .expect("deployment")["metadata"]["uid"]
        .clone();
    let (code, printed) = fix_with_prompt(&sim, || {
        let old = store
            .get(&DEPLOYMENTS, "default", "api")
            .expect("deployment");
        store
            .delete(&DEPLOYMENTS, "default", "api")
            .expect("delete");
        store
            .create(&DEPLOYMENTS, recreated(&old, "team/api:1.4.2"))
            .expect("create again");
    })
    .await;
    let now = store
        .get(&DEPLOYMENTS, "default", "api")
        .expect("deployment");
    assert_ne!(now["metadata"]["uid"], old_uid, "a new object");
    assert_eq!(
        now["spec"]["template"]["spec"]["containers"][0]["image"], "team/api:1.4.2",
        "the recreated Deployment was not patched:\n{printed}"
    );
    assert_eq!(code, 1, "{printed}");
    assert!(
        printed.contains("deleted and created again"),
        "says why: {printed}"
    );
    // Diagnosed again: the new object still asks for the wrong name, and the output says so.
    assert!(printed.contains("1 finding remains"), "{printed}");
    sim.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loser_of_two_fixes_reports_the_healthy_cluster_it_sees() {
    let sim = start_sim(SCENARIO).await;
    settled(&sim).await;
    let store = sim.sim.store.clone();
    let (code, printed) = fix_with_prompt(&sim, || {
        // Another fix wins the race: the image is corrected before our patch arrives.
        store
            .modify(&DEPLOYMENTS, "default", "api", None, |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("localhost/team/api:1.4.2");
                Ok(())
            })
            .expect("the other fix");
    })
    .await;
    assert!(printed.contains("changed since the plan"), "{printed}");
    assert!(
        printed.contains("no findings remain"),
        "the fresh diagnosis tells the truth: {printed}"
    );
    assert!(!printed.contains("remain;"), "{printed}");
    // A conflict is still not a success of this run.
    assert_eq!(code, 1, "{printed}");
    sim.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_load_before_anything_runs() {
    let dir = tempfile::tempdir().expect("dir");
    // `docker` would be asked first; with PATH empty, reaching it would be another sentence.
    let mut cmd = isolated(
        &["--read-only", "load", "team/api:1", "--cluster", "dev"],
        dir.path(),
    );
    cmd.env("PATH", "");
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    let sentence = one_sentence(&out);
    assert!(
        sentence.contains("--read-only") && sentence.contains("\"dev\""),
        "{sentence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_context_is_never_contacted() {
    // A listening socket stands in for the server: a connection attempt would be accepted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    // `prod` is no Kind context; `kind-remote` names a host only DNS could resolve.
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n\
             - name: local\n  cluster: {{server: \"https://{addr}\"}}\n\
             - name: remote\n  cluster: {{server: \"https://kindscope-guard-test.invalid:6443\"}}\n\
             users:\n- name: u\n  user: {{token: t}}\ncontexts:\n\
             - name: prod\n  context: {{cluster: local, user: u}}\n\
             - name: kind-remote\n  context: {{cluster: remote, user: u}}\n\
             current-context: prod\n"
        ),
    )
    .expect("kubeconfig");
    let kc = kubeconfig.to_str().expect("utf8");
    for context in ["prod", "kind-remote"] {
        let out = kindscope(
            &["fix", "--yes", "--kubeconfig", kc, "--context", context],
            dir.path(),
        )
        .await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let sentence = one_sentence(&out);
        assert!(
            sentence.contains(context) && sentence.contains("--allow-write"),
            "{sentence}"
        );
        // The guard refused before any connection: not even one to the server.
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{context}: the server was contacted: {other:?}"),
        }
        // And no name was looked up: the sentence names the server as written.
        assert!(
            !sentence.contains("dns") && !sentence.contains("resolve"),
            "{sentence}"
        );
    }
}
