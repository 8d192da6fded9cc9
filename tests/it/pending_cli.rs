//! Known before claimed: right after `kindscope sim serve` starts, `diagnose` and `fix` never
//! call the cluster healthy while pods are starting (exit 4, or 1 with findings), and
//! `diagnose --wait` reports once every pod has started or has a finding. The real binaries,
//! reached through the kubeconfig the sim writes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::support::cli::{ready, sim_serve};
use crate::support::text;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kindscope");

/// `kindscope sim serve` in the background (embedded gateway-debug, or a scenario file);
/// killed on drop.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

impl Served {
    fn start(scenario: Option<&Path>) -> Served {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut cmd = sim_serve(&kubeconfig);
        if let Some(s) = scenario {
            cmd.arg("--scenario").arg(s);
        }
        let (child, line) = ready(cmd);
        assert!(line.contains("kindscope sim: serving"), "{line}");
        Served {
            child,
            kubeconfig,
            dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--runtime", "none"])
            .env("KINDSCOPE_STATE_DIR", self.dir.path().join("state"))
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .env_remove("KINDSCOPE_LOG")
            .stdin(Stdio::null())
            .output()
            .expect("run kindscope")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", text(&out.stdout)))
}

/// `kindscope ARGS` (JSON output) exits `code`; its document.
fn json_exit(sim: &Served, args: &[&str], code: i32) -> Value {
    let out = sim.run(args);
    let doc = json(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {doc:#} {}",
        text(&out.stderr)
    );
    doc
}

fn kinds(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("workload"))
        })
        .collect()
}

fn slow_pull() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/slow-pull.yaml")
}

#[test]
fn gateway_debug_is_never_healthy_at_start_and_wait_reports_its_findings() {
    let sim = Served::start(None);
    let out = sim.run(&["diagnose", "--json"]);
    let report = json(&out);
    let code = out.status.code();
    assert!(
        code == Some(1) || code == Some(4),
        "right after start: exit 1 or 4, got {code:?}: {report:#}"
    );
    assert_eq!(report["healthy"], false, "{report:#}");
    if code == Some(4) {
        assert!(!report["pending"].as_array().expect("pending").is_empty());
    }

    let report = json_exit(&sim, &["diagnose", "--wait", "30s", "--json"], 1);
    assert_eq!(
        kinds(&report),
        [
            ("registry-prefix".into(), "Deployment/datastorage".into()),
            ("registry-prefix".into(), "Deployment/gateway".into()),
        ]
    );
    assert_eq!(report["pending"], Value::Array(vec![]), "{report:#}");
    assert_eq!(report["healthy"], false);
}

#[test]
fn a_slow_pull_is_pending_until_it_runs_then_healthy() {
    let sim = Served::start(Some(&slow_pull()));
    // The pull takes ~15 s: now it is still starting, and nothing is wrong.
    let report = json_exit(&sim, &["diagnose", "--json"], 4);
    assert_eq!(report["healthy"], false);
    assert_eq!(kinds(&report), vec![]);
    let pending = report["pending"].as_array().expect("pending");
    let big = pending
        .iter()
        .find(|p| p["container"] == "bigdata")
        .unwrap_or_else(|| panic!("bigdata is pending: {report:#}"));
    assert_eq!(big["image"], "bigdata:2.0");
    assert_eq!(big["workload"], "Deployment/bigdata");
    assert!(big["since"].is_string(), "{big:#}");
    assert_eq!(
        big["similar_on_node"],
        Value::Array(vec![]),
        "nothing like it is held"
    );

    // fix does not call it healthy either, and says what is pending.
    let fixed = json_exit(&sim, &["fix", "--json"], 4);
    assert_eq!(fixed["healthy"], false);
    assert!(
        fixed["pending"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["container"] == "bigdata")),
        "{fixed:#}"
    );
    let out = sim.run(&["fix"]);
    let human = text(&out.stdout);
    assert!(
        human.starts_with("starting: context kind-slow-pull: no image mismatch so far"),
        "{human}"
    );
    assert!(human.contains("bigdata:2.0"), "{human}");

    // Human diagnose: the pending table, not the all-clear.
    let out = sim.run(&["diagnose"]);
    let human = text(&out.stdout);
    assert!(!human.contains("healthy:"), "{human}");
    assert!(human.contains("Not started yet ("), "{human}");

    let out = sim.run(&["diagnose", "--wait", "30s", "--json"]);
    let report = json(&out);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{report:#} {stderr}");
    assert_eq!(report["healthy"], true);
    assert_eq!(report["pending"], Value::Array(vec![]));
    // Not a terminal: plain progress lines on stderr (after an `HH:MM:SS ` time stamp), naming
    // what it waited for.
    assert!(
        stderr.lines().any(
            |l| l.get(9..).is_some_and(|r| r.starts_with("waiting: ")) && l.contains("bigdata")
        ),
        "{stderr}"
    );
}

#[test]
fn a_wait_that_runs_out_reports_what_is_still_starting() {
    let sim = Served::start(Some(&slow_pull()));
    let out = sim.run(&["diagnose", "--wait", "1s"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("still not started after --wait 1s."),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("bigdata"));
}

#[test]
fn a_bad_wait_duration_is_one_sentence_and_exit_2() {
    // Checked before connecting: the kubeconfig does not even exist.
    for bad in ["30", "3x", "soon"] {
        let out = Command::new(BIN)
            .args([
                "diagnose",
                "--wait",
                bad,
                "--kubeconfig",
                "/nonexistent/kubeconfig",
            ])
            .env_remove("KINDSCOPE_LOG")
            .output()
            .expect("run");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(
            stderr.starts_with("kindscope: --wait takes a duration"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("{bad:?}")), "{stderr}");
    }
}

/// A scheduled pod whose outcome is certain from its node is a finding before the kubelet says
/// anything: an API-only sim (no kubelet, no events), a pod bound to a node that lacks the exact
/// name, with policy Never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certain_failure_is_reported_before_the_kubelet_speaks() {
    use kindscope::sim::server::{ServerOptions, spawn};
    use kindscope::sim::store::{NAMESPACES, NODES, PODS, Store};
    use serde_json::json;

    let store = Store::new(100);
    store
        .create(&NAMESPACES, json!({"metadata": {"name": "default"}}))
        .expect("namespace");
    store
        .create(
            &NODES,
            json!({"metadata": {"name": "t-worker"},
                   "status": {"images": [{"names": ["localhost/kubernaut/gw:debug"], "sizeBytes": 10}]}}),
        )
        .expect("node");
    store
        .create(
            &PODS,
            json!({"metadata": {"name": "gw", "namespace": "default"},
                   "spec": {"nodeName": "t-worker",
                            "containers": [{"name": "gw", "image": "kubernaut/gw:debug", "imagePullPolicy": "Never"}]},
                   "status": {"phase": "Pending"}}),
        )
        .expect("pod");
    let server = spawn(store, ServerOptions::default(), 0)
        .await
        .expect("sim API starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("t")).expect("write kubeconfig");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["diagnose", "--json", "--runtime", "none", "--kubeconfig"])
            .arg(&kubeconfig)
            .env("KINDSCOPE_STATE_DIR", dir.path().join("state"))
            .env_remove("KUBECONFIG")
            .env_remove("KINDSCOPE_LOG")
            .output()
            .expect("run diagnose")
    })
    .await
    .expect("join");
    let report = json(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{report:#} {}",
        text(&out.stderr)
    );
    assert_eq!(
        kinds(&report),
        [("registry-prefix".to_string(), "Pod/gw".to_string())]
    );
    let f = &report["findings"][0];
    assert_eq!(f["suggested_image"], "localhost/kubernaut/gw:debug");
    assert!(
        f["evidence"].as_array().is_some_and(|e| e.iter().any(|l| l
            .as_str()
            .is_some_and(|l| l.contains("will report ErrImageNeverPull")))),
        "{f:#}"
    );
    assert_eq!(report["pending"], Value::Array(vec![]));
}
