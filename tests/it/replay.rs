//! A triage bundle replayed in the sim reproduces the cluster's failures: take a bundle of the
//! gateway-debug sim with the real `kindscope snapshot`, stop that sim, serve the bundle with the
//! real `kindscope sim serve --from`, and `kindscope diagnose` names the same findings.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::sync::Arc;
use std::time::Duration;

use crate::support::cli::{command, kindscope, ready, sim_serve, text};
use crate::support::feed::{pods_settled, until_within};
use kindscope::cli::ConnectArgs;
use kindscope::cluster::{connect, watch};
use kindscope::diagnose::diagnose;
use kindscope::model::Snapshot;
use kindscope::sim::SimOptions;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// What must be the same in both diagnoses (pod names differ: the replay makes new pods).
type Key = (String, String, String, String, String, String);

fn keys(findings: &Value) -> BTreeSet<Key> {
    findings
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (
                s("kind"),
                s("namespace"),
                s("workload"),
                s("container"),
                s("image"),
                s("suggested_image"),
            )
        })
        .collect()
}

/// Wait (on snapshot changes) until the cluster behind `kubeconfig` has settled with
/// `findings` findings, as a user would look a few seconds after start.
async fn settle(kubeconfig: &Path, findings: usize) -> Arc<Snapshot> {
    let conn = connect::connect(&ConnectArgs {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        ..ConnectArgs::default()
    })
    .await
    .expect("connects");
    let feed = watch::start(&conn);
    let mut rx = feed.snapshots();
    until_within(&mut rx, WAIT, &format!("{findings} findings"), |s| {
        !s.pods.is_empty() && pods_settled(s) && diagnose(s).len() == findings
    })
    .await
}

/// The binary with `args` against the cluster of `kubeconfig` (no container runtime), its
/// journal in `state`.
async fn against(kubeconfig: &str, args: &[&str], state: &Path) -> Output {
    let mut all = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig, "--runtime", "none"]);
    kindscope(&all, state).await
}

/// `kindscope sim serve --from BUNDLE`, up once it printed its ready line.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
}

impl Served {
    fn start(bundle: &Path, dir: &Path) -> Served {
        let kubeconfig = dir.join("replay-kubeconfig");
        let mut cmd = sim_serve(&kubeconfig);
        cmd.args(["--speed", "20", "--from"]).arg(bundle);
        let (child, line) = ready(cmd);
        assert!(
            line.starts_with("kindscope sim: serving gateway-debug at https://127.0.0.1:"),
            "{line}"
        );
        Served { child, kubeconfig }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_bundle_diagnoses_the_same_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let bundle = dir.path().join("gateway.json.gz");

    // The original: the seed's story, settled with its two findings.
    let scenario = kindscope::sim::scenario::embedded_default();
    let sim = kindscope::sim::start(
        &scenario,
        SimOptions {
            speed: 20.0,
            ..SimOptions::default()
        },
    )
    .await
    .expect("sim starts");
    let original_kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&original_kc).expect("kubeconfig");
    settle(&original_kc, 2).await;
    let kc = original_kc.to_str().expect("utf8 path");
    let out = against(kc, &["diagnose", "--json"], &state).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let before: Value = serde_json::from_slice(&out.stdout).expect("diagnose JSON");
    let bundle_arg = bundle.to_str().expect("utf8 path");
    let out = against(kc, &["snapshot", "-o", bundle_arg], &state).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 findings"),
        "{}",
        text(&out.stdout)
    );
    // The replay must not need the original.
    sim.shutdown().await;

    let served = Served::start(&bundle, dir.path());
    settle(&served.kubeconfig, 2).await;
    let kc = served.kubeconfig.to_str().expect("utf8 path");
    let out = against(kc, &["diagnose", "--json"], &state).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let after: Value = serde_json::from_slice(&out.stdout).expect("diagnose JSON");
    assert_eq!(after["context"], before["context"]);
    let want = keys(&before["findings"]);
    assert_eq!(want.len(), 2, "{before:#}");
    assert_eq!(keys(&after["findings"]), want);
    // The same failure, reproduced by the replay's kubelet.
    let evidence = after["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains("is not present with pull policy of Never"),
        "{evidence}"
    );
}

#[test]
fn a_file_that_is_not_a_bundle_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notes.json");
    std::fs::write(&path, "{\"hello\": 1}").expect("write");
    for args in [vec!["demo", "--from"], vec!["sim", "serve", "--from"]] {
        let out = command(&args, dir.path())
            .arg(&path)
            .output()
            .expect("run kindscope");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("notes.json") && err.contains("is not a kindscope bundle"),
            "{args:?}: {err}"
        );
        // Refused before the terminal was touched: nothing but the sentence.
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
