//! `check`, `diagnose --source` and `wait`: the real binary against the sim (reached through
//! the kubeconfig it writes) and the fixture repository in tests/fixtures/preflight/.
//!
//! The fixture repository holds the story's pieces: a manifests folder (deploy/), Helm values
//! (chart/values.yaml), a kustomization (kustomize/), and the Go file whose
//! `strings.TrimPrefix(gatewayImageName, "localhost/")` wrote the wrong name. `helm-template.yaml`
//! is what `helm template` prints for such a chart (fed on stdin).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::cli::{NO_HANG, command, output_fed};
use crate::support::sim::TestSim;
use crate::support::text;
use serde_json::Value;

const GO_FILE: &str = "test/infrastructure/gateway_e2e.go";
const GO_LINE: u64 = 16;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/preflight")
}

/// `check --json -f DIR`, which must find something (exit 1); its report.
async fn check_findings(c: &TestSim, dir: &Path) -> Value {
    let out = c
        .run(&["check", "--json", "-f", dir.to_str().expect("utf8")])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    json(&out)
}

/// The binary without a cluster, `stdin` (if any) as its input.
async fn offline(args: &[&str], stdin: Option<&str>) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    output_fed(command(args, dir.path()), stdin).await
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

fn finding<'a>(report: &'a Value, workload: &str, container: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["workload"] == workload && f["container"] == container)
        .unwrap_or_else(|| panic!("no finding for {workload}/{container}: {report:#}"))
}

/// (path relative to the fixtures, line, column) of a finding's first source.
fn at(f: &Value) -> (String, u64, u64) {
    let s = &f["sources"][0];
    let path = s["path"].as_str().expect("path");
    let rel = path
        .split_once("tests/fixtures/preflight/")
        .map_or(path, |(_, r)| r)
        .to_string();
    (
        rel,
        s["line"].as_u64().expect("line"),
        s["column"].as_u64().expect("column"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_file_line_and_column_for_a_manifests_folder() {
    let c = TestSim::gateway_debug().await;
    let dir = fixtures().join("repo/deploy");
    let r = check_findings(&c, &dir).await;
    assert_eq!(r["context"], "kind-gateway-debug");
    assert_eq!(r["findings"].as_array().map(Vec::len), Some(2), "{r:#}");
    let gw = finding(&r, "Deployment/gateway", "gateway");
    assert_eq!(gw["kind"], "registry-prefix");
    assert_eq!(gw["suggested_image"], "localhost/kubernaut/gateway:debug");
    assert_eq!(at(gw), ("repo/deploy/gateway.yaml".into(), 18, 18));
    let ds = finding(&r, "Deployment/datastorage", "datastorage");
    assert_eq!(at(ds), ("repo/deploy/datastorage.yaml".into(), 17, 18));
    // The edit keeps the quotes the file used.
    let edits = r["edits"].as_array().expect("edits");
    assert!(
        edits
            .iter()
            .any(|e| e["old"] == "\"kubernaut/datastorage:debug\""
                && e["new"] == "\"localhost/kubernaut/datastorage:debug\""),
        "{edits:#?}"
    );
    c.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reads_helm_template_output_on_stdin() {
    let rendered = std::fs::read_to_string(fixtures().join("helm-template.yaml")).expect("fixture");
    let c = TestSim::gateway_debug().await;
    let out = c
        .run_fed(&["check", "--json", "-f", "-"], Some(&rendered))
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r = json(&out);
    let init = finding(&r, "Deployment/gateway", "migrate");
    assert_eq!(init["init_container"], true);
    assert_eq!(at(init), ("<stdin>".into(), 29, 18));
    let main = finding(&r, "Deployment/gateway", "gateway");
    assert_eq!(at(main), ("<stdin>".into(), 33, 18));
    // localhost/ and untagged: the pull policy defaults to Always and the pull can never work.
    let smoke = finding(&r, "Job/smoke", "smoke");
    assert_eq!(at(smoke), ("<stdin>".into(), 47, 18));
    assert!(
        r["skipped"]
            .as_array()
            .expect("skipped")
            .iter()
            .any(|s| s["path"] == "<stdin>")
    );
    c.sim.shutdown().await;

    // Offline, only the checks that need no cluster remain.
    let out = offline(
        &["check", "--offline", "--json", "-f", "-"],
        Some(&rendered),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r = json(&out);
    assert_eq!(r["findings"].as_array().map(Vec::len), Some(1), "{r:#}");
    assert_eq!(finding(&r, "Job/smoke", "smoke")["kind"], "pull-policy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reads_a_kustomization_tree() {
    let c = TestSim::gateway_debug().await;
    let dir = fixtures().join("repo/kustomize");
    let r = check_findings(&c, &dir).await;
    assert_eq!(r["files"], 3);
    let gw = finding(&r, "Deployment/gateway", "gateway");
    assert_eq!(
        at(gw),
        ("repo/kustomize/base/deployment.yaml".into(), 14, 18)
    );
    c.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fix_yes_changes_exactly_the_image_scalars() {
    let work = tempfile::tempdir().expect("temp dir");
    let mut before = Vec::new();
    for name in ["gateway.yaml", "datastorage.yaml"] {
        let text =
            std::fs::read_to_string(fixtures().join("repo/deploy").join(name)).expect("fixture");
        std::fs::write(work.path().join(name), &text).expect("copy");
        before.push((name, text));
    }
    let c = TestSim::gateway_debug().await;
    let dir = work.path().to_str().expect("utf8").to_string();
    let out = c.run_fed(&["check", "--fix", "-f", &dir], None).await;
    let shown = text(&out.stdout);
    assert!(shown.contains("+          image: localhost/kubernaut/gateway:debug   # the loaded image keeps localhost/"), "{shown}");
    assert!(shown.contains("nothing written"), "{shown}");
    for (name, old) in &before {
        assert_eq!(
            &std::fs::read_to_string(work.path().join(name)).expect("read"),
            old,
            "--fix alone wrote {name}"
        );
    }
    let out = c
        .run_fed(&["check", "--fix", "--yes", "-f", &dir], None)
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for (name, old) in &before {
        let new = std::fs::read_to_string(work.path().join(name)).expect("read");
        let expected = old
            .replace(
                "image: kubernaut/gateway:debug",
                "image: localhost/kubernaut/gateway:debug",
            )
            .replace(
                "image: \"kubernaut/datastorage:debug\"",
                "image: \"localhost/kubernaut/datastorage:debug\"",
            );
        assert_eq!(new, expected, "{name} changed beyond its image scalar");
        assert_ne!(&new, old);
    }
    let out = c.run_fed(&["check", "-f", &dir], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    c.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_refuses_bad_input_with_exit_2() {
    let out = offline(
        &["check", "--offline", "-f", "/nonexistent/manifests"],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/nonexistent/manifests"),
        "{}",
        text(&out.stderr)
    );
    let out = offline(
        &["check", "--offline", "-f", "-"],
        Some("kind: Pod\nspec: [unclosed\n"),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("<stdin>:"),
        "{}",
        text(&out.stderr)
    );
    let out = offline(&["check", "--offline", "--yes", "-f", "-"], Some("")).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "--yes without --fix is a usage error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_names_the_go_line_that_strips_the_prefix() {
    let c = TestSim::gateway_debug().await;
    let repo = fixtures().join("repo");
    // Let the kubelet reach ErrImageNeverPull first.
    let deadline = Instant::now() + Duration::from_secs(30);
    let r = loop {
        let out = c
            .run_fed(
                &[
                    "diagnose",
                    "--json",
                    "--source",
                    repo.to_str().expect("utf8"),
                ],
                None,
            )
            .await;
        let r = json(&out);
        if r["findings"].as_array().is_some_and(|f| f.len() == 2) || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let gw = finding(&r, "Deployment/gateway", "gateway");
    let first = &gw["sources"][0];
    assert_eq!(first["path"], GO_FILE);
    assert_eq!(first["line"], GO_LINE);
    assert_eq!(first["why"], "this rewrites the image name");
    assert!(
        first["text"]
            .as_str()
            .expect("text")
            .contains("strings.TrimPrefix(gatewayImageName, \"localhost/\")")
    );
    let whys: Vec<&str> = gw["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["why"].as_str())
        .collect();
    for why in [
        "manifest image field",
        "kustomize images: entry",
        "Helm values",
    ] {
        assert!(whys.contains(&why), "{why} missing: {whys:?}");
    }
    c.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_stops_early_with_the_diagnosis_and_the_bundle_then_passes_after_fix() {
    let c = TestSim::gateway_debug().await;
    let repo = fixtures().join("repo");
    let bundle = c.dir.path().join("triage.json.gz");
    let started = Instant::now();
    let out = c
        .run_fed(
            &[
                "-n",
                "default",
                "wait",
                "deployment/gateway",
                "--timeout",
                "120s",
                "--source",
                repo.to_str().expect("utf8"),
                "--bundle-on-failure",
                bundle.to_str().expect("utf8"),
            ],
            None,
        )
        .await;
    let elapsed = started.elapsed();
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}\n{}", text(&out.stderr));
    // A give-up bound, not a benchmark: the 120 s timeout was not waited out.
    assert!(elapsed < NO_HANG, "took {elapsed:?}");
    assert!(
        shown.contains(&format!(
            "Deployment/gateway cannot start: it asks for kubernaut/gateway:debug, the node holds localhost/kubernaut/gateway:debug (set in {GO_FILE}:{GO_LINE})"
        )),
        "{shown}"
    );
    assert!(shown.contains("1. registry-prefix"), "{shown}");
    let loaded = kindscope::sim::replay::load(&bundle).expect("the bundle replays");
    assert!(!loaded.nodes.is_empty());

    let out = c.run_fed(&["fix", "--yes", "--no-source"], None).await;
    // 4: every patch applied and running, but postgres may still be pulling (docs/cli.md).
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        text(&out.stdout)
    );
    let out = c
        .run_fed(
            &[
                "-n",
                "default",
                "wait",
                "deployment/gateway",
                "deploy/datastorage",
                "--timeout",
                "60s",
            ],
            None,
        )
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("ready: Deployment/gateway"));
    c.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_times_out_with_what_it_knows() {
    let c = TestSim::gateway_debug().await;
    let out = c
        .run_fed(
            &[
                "-n",
                "default",
                "wait",
                "pod/never-created",
                "--timeout",
                "1s",
            ],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout);
    assert!(shown.contains("timed out after 1 s"), "{shown}");
    assert!(
        shown.contains("Pod/never-created not ready: no pods yet"),
        "{shown}"
    );
    let out = c.run_fed(&["wait", "cronjob/x"], None).await;
    assert_eq!(out.status.code(), Some(2));
    c.sim.shutdown().await;
}
