//! Issue 5 acceptance: a node whose 60 large images push the small dev image out of
//! `Node.status.images` (the kubelet's 50-image cap). Through the container runtime (a stand-in
//! `podman` answering `exec NODE crictl images -o json` from the sim's own runtime lists),
//! `diagnose` finds the registry-prefix mismatch; with the API list only, it says the list may
//! be capped.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use kindscope::sim::{RunningSim, SimOptions};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(60);

struct Fixture {
    sim: RunningSim,
    dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Fixture {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/capped-node-images.yaml");
        let scenario = kindscope::sim::scenario::load_file(&path).expect("scenario loads");
        let sim = kindscope::sim::start(
            &scenario,
            SimOptions {
                speed: 20.0,
                ..SimOptions::default()
            },
        )
        .await
        .expect("sim starts");
        let dir = tempfile::tempdir().expect("temp dir");
        sim.write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("kubeconfig");
        // What the stand-in podman answers for each node: the sim's full runtime list.
        let standin = dir.path().join("standin");
        std::fs::create_dir_all(&standin).expect("standin dir");
        for node in sim.sim.node_names() {
            let json = sim.sim.crictl_images_json(&node).expect("runtime list");
            std::fs::write(standin.join(format!("{node}.json")), json.to_string())
                .expect("fixture");
        }
        Fixture { sim, dir }
    }

    async fn diagnose(&self, runtime: Option<&str>) -> Output {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bin");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kindscope"));
        cmd.args(["diagnose", "--json", "--kubeconfig"])
            .arg(self.dir.path().join("kubeconfig"))
            .env("PATH", path)
            .env("KINDSCOPE_STANDIN_DIR", self.dir.path().join("standin"))
            .env("KINDSCOPE_STATE_DIR", self.dir.path().join("state"))
            .env_remove("KUBECONFIG");
        match runtime {
            Some(rt) => cmd.env("KIND_EXPERIMENTAL_PROVIDER", rt),
            None => cmd
                .env_remove("KIND_EXPERIMENTAL_PROVIDER")
                .args(["--runtime", "none"]),
        };
        cmd.output().await.expect("kindscope runs")
    }

    /// Run diagnose until the gateway pod has failed (the kubelet needs a moment), then return
    /// the report and stderr.
    async fn settled(&self, runtime: Option<&str>) -> (Value, String) {
        let start = Instant::now();
        loop {
            let out = self.diagnose(runtime).await;
            let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            let findings = report["findings"].as_array().map_or(0, Vec::len);
            if findings > 0 {
                assert_eq!(out.status.code(), Some(1), "findings exit 1");
                return (report, String::from_utf8_lossy(&out.stderr).into_owned());
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no finding within {DEADLINE:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn api_images(sim: &RunningSim, node: &str) -> Vec<String> {
    let n = sim
        .store
        .get(&kindscope::sim::store::NODES, "", node)
        .expect("node");
    n["status"]["images"]
        .as_array()
        .expect("images")
        .iter()
        .flat_map(|i| i["names"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_list_finds_what_the_capped_api_list_hides() {
    let fx = Fixture::start().await;
    // The premise: the API view is capped and does not show the gateway image.
    let node = fx
        .sim
        .store
        .get(&kindscope::sim::store::NODES, "", "dev-worker")
        .expect("node");
    assert_eq!(node["status"]["images"].as_array().map(Vec::len), Some(50));
    assert!(
        !api_images(&fx.sim, "dev-worker")
            .iter()
            .any(|n| n.contains("kubernaut/gateway")),
        "the small image must be hidden by the 50-image cap"
    );

    let (report, stderr) = fx.settled(Some("podman")).await;
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report:#}");
    let f = &findings[0];
    assert_eq!(f["kind"], "registry-prefix");
    assert_eq!(f["workload"], "Deployment/gateway");
    assert_eq!(f["suggested_image"], "localhost/kubernaut/gateway:debug");
    assert_eq!(
        f["patch"][2]["value"], "localhost/kubernaut/gateway:debug",
        "the patch uses the node's exact name"
    );
    assert!(
        !stderr.contains("capped"),
        "with a runtime list there is no cap note: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_runtime_diagnose_says_the_node_list_is_capped() {
    let fx = Fixture::start().await;
    let (report, stderr) = fx.settled(None).await;
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report:#}");
    // The API list cannot show the image, so no registry-prefix can be claimed...
    assert_ne!(findings[0]["kind"], "registry-prefix", "{report:#}");
    assert!(
        findings[0]["patch"].is_null(),
        "no patch without evidence: {report:#}"
    );
    // ...and the user is told why the answer may be incomplete.
    assert!(
        stderr.contains("50"),
        "stderr names the 50-image cap: {stderr}"
    );
}
