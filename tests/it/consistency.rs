//! Same cluster, same answer: `kindscope diagnose --json` run again and again over a settled
//! synthetic cluster gives identical findings, while the simulated kubelet keeps retrying the
//! failing pulls, and while unrelated objects are created and deleted as the lists are paged.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use kindscope::sim::store::{EVENTS, NAMESPACES, PODS, Store};
use kindscope::sim::{RunningSim, SimOptions};

/// Enough pods and events that every list takes more than one page of 1,000.
const SPEC: &str = "nodes=4,deployments=240,replicas=5,images-per-node=20,events=2500";
/// Back-off cycles (10 s doubling to 300 s) pass 40 times faster: many retries per run.
const SPEED: f64 = 40.0;
const RUNS: usize = 12;

async fn settled_sim() -> (RunningSim, tempfile::TempDir, std::path::PathBuf) {
    let scenario = kindscope::sim::synthetic::generate(&SPEC.parse().expect("spec"));
    let opts = SimOptions {
        speed: SPEED,
        ..SimOptions::default()
    };
    let sim = kindscope::sim::start(&scenario, opts).await.expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    // Settled: every container has been decided (runs, or waits for an image reason).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (pods, _) = sim.store.list(&PODS, None);
        let workload_pods = pods
            .iter()
            .filter(|p| {
                p["metadata"]["namespace"] != "kube-system"
                    && p["metadata"]["namespace"] != "local-path-storage"
            })
            .count();
        let undecided = pods
            .iter()
            .filter(|p| {
                p["status"]["containerStatuses"].as_array().is_none_or(|l| {
                    l.iter()
                        .any(|c| c["state"]["waiting"]["reason"] == "ContainerCreating")
                })
            })
            .count();
        if undecided == 0 && workload_pods >= 240 * 5 {
            break;
        }
        assert!(Instant::now() < deadline, "{undecided} pods never settled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (sim, dir, kubeconfig)
}

fn diagnose(kubeconfig: &std::path::Path) -> Value {
    // --no-source: run from this repository, diagnose would search it for the synthetic image
    // names (its docs mention some) within a time budget, and a run cut short on a loaded
    // machine would differ from the others in what it found there, not in what the cluster says.
    let out = Command::new(env!("CARGO_BIN_EXE_kindscope"))
        .args(["diagnose", "--json", "--runtime", "none", "--no-source"])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .output()
        .expect("run kindscope");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings expected: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"].clone()
}

async fn diagnose_runs(kubeconfig: std::path::PathBuf) -> Vec<Value> {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let k = kubeconfig.clone();
        runs.push(
            tokio::task::spawn_blocking(move || diagnose(&k))
                .await
                .expect("run"),
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    runs
}

fn assert_identical(runs: &[Value]) {
    let first = &runs[0];
    let count = first.as_array().map_or(0, Vec::len);
    assert!(
        count >= 30,
        "the synthetic cluster has failing workloads: {count}"
    );
    for (i, run) in runs.iter().enumerate().skip(1) {
        assert_eq!(
            run.as_array().map(Vec::len),
            Some(count),
            "run {i} found a different number of findings"
        );
        assert_eq!(run, first, "run {i} differs from run 0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_identical_while_the_kubelet_retries_pulls() {
    let (sim, _dir, kubeconfig) = settled_sim().await;
    let before = sim.store.resource_version();
    let runs = diagnose_runs(kubeconfig).await;
    assert!(
        sim.store.resource_version() > before + 100,
        "the kubelet kept retrying while the diagnoses ran"
    );
    assert_identical(&runs);
    sim.shutdown().await;
}

/// Create and delete pods and events of an unrelated namespace as fast as possible: every
/// paged list of the diagnoses sees objects come and go between its pages.
fn churn(store: Arc<Store>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let _ = store.create(&NAMESPACES, json!({"metadata": {"name": "aaa-churn"}}));
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let name = format!("c{}", n % 50);
            let _ = store.delete(&PODS, "aaa-churn", &name);
            let _ = store.delete(&EVENTS, "aaa-churn", &name);
            let _ = store.create(
                &PODS,
                // Bound to a node that is gone and finished: no controller or kubelet touches it.
                json!({"metadata": {"name": name, "namespace": "aaa-churn"},
                       "spec": {"nodeName": "gone", "containers": [{"name": "c", "image": "busybox:1"}]},
                       "status": {"phase": "Succeeded"}}),
            );
            let _ = store.create(
                &EVENTS,
                json!({"metadata": {"name": name, "namespace": "aaa-churn"},
                       "involvedObject": {"kind": "Pod", "name": name, "namespace": "aaa-churn"},
                       "reason": "Failed", "message": "churn", "type": "Warning"}),
            );
            n += 1;
            std::thread::sleep(Duration::from_micros(500));
        }
        n
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_identical_while_unrelated_objects_come_and_go() {
    let (sim, _dir, kubeconfig) = settled_sim().await;
    let stop = Arc::new(AtomicBool::new(false));
    let churner = churn(sim.store.clone(), stop.clone());
    let runs = diagnose_runs(kubeconfig).await;
    stop.store(true, Ordering::Relaxed);
    let churned = churner.join().expect("churn thread");
    assert!(churned > 100, "objects came and went: {churned}");
    assert_identical(&runs);
    sim.shutdown().await;
}
