//! One test per recorded situation. Each says what the facts predict and why; the facts and
//! their sources are in docs/findings.md ("Facts about real Kind nodes").

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Served;
use super::describe;
use super::server::{Fixture, fixture_path, load};

const KINDNETD: &str = "docker.io/kindest/kindnetd:v20230330-48f316cd@sha256:c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af";
const KINDNETD_BY_DIGEST: &str = "docker.io/kindest/kindnetd@sha256:c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af";

fn objects(name: &str) -> Vec<Value> {
    load(&fixture_path(name))
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).expect("fixture text")
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings array")
}

fn only(report: &Value) -> &Value {
    let f = findings(report);
    assert_eq!(f.len(), 1, "expected one finding: {report:#}");
    &f[0]
}

/// The kind v0.18 cluster of the autoscaler fixture: import names beside every kube-* tag,
/// kind's tag+digest preloads, digest names a pull added. With kind's own local-path-provisioner
/// Deployment on it (pinned tag+digest, IfNotPresent, no pod recorded), nothing is wrong: the
/// healthy control (no finding; its pod, absent from the recording, is pending). The import names are not unnamed imports, and a Deployment with no failing
/// pod and a policy other than Never is never a finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_control_real_kind_v1_26_nodes() {
    let fx = Fixture::new("v1.26.3")
        .objects(objects("autoscaler-kind-v1.26-control-plane.yaml"))
        .objects(objects("autoscaler-kind-v1.26-worker.yaml"))
        .objects(objects("kind-v0.18-local-path-provisioner.yaml"));
    let served = Served::start("kind", fx).await;
    // Reached as a Kind cluster is: HTTPS, its CA, a client certificate, context kind-NAME.
    let kc = std::fs::read_to_string(served.kubeconfig()).expect("kubeconfig");
    for field in [
        "certificate-authority-data:",
        "client-certificate-data:",
        "client-key-data:",
        "server: https://127.0.0.1:",
        "current-context: kind-kind",
    ] {
        assert!(kc.contains(field), "{field} missing from {kc}");
    }
    let (code, report) = served.diagnose().await;
    assert_eq!(findings(&report), &Vec::<Value>::new(), "{report:#}");
    // The recording has the Deployment but not its pod, so kindscope cannot know the pod
    // started: it is pending (`PodNotCreated`, exit 4), never a finding, and never "healthy"
    // (docs/findings.md, "Not started yet").
    let pending = report["pending"].as_array().expect("pending");
    assert_eq!(pending.len(), 1, "{report:#}");
    assert_eq!(pending[0]["workload"], "Deployment/local-path-provisioner");
    assert_eq!(pending[0]["reason"], "PodNotCreated");
    // What the nodes hold that looks like it: the pinned image, under its digest name.
    assert!(
        pending[0]["similar_on_node"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{report:#}"
    );
    assert_eq!(report["healthy"], false, "{report:#}");
    assert_eq!(report["context"], "kind-kind");
    assert_eq!(code, Some(4));
    dry_run_sends_no_patch(&served, 4).await;
}

/// `fix --dry-run` exits with `code` and sends no patch at all (not even a dry-run one): there
/// is nothing the nodes resolve to patch in.
async fn dry_run_sends_no_patch(served: &Served, code: i32) {
    let out = served.run(&["fix", "--dry-run", "--json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    let requests = served.server.requests();
    assert!(
        !requests.iter().any(|r| r.starts_with("PATCH")),
        "no patch may be sent: {requests:?}"
    );
}

/// kind #3173: the kindnet pod asks `kindnetd:TAG@sha256:c19d…` with IfNotPresent and sits in
/// ErrImagePull; the node lists that image only as `kindnetd:TAG@sha256:c19d…` (crictl: TAG
/// `<none>`). containerd looks the request up as `kindnetd@sha256:c19d…` (ParseDockerRef drops
/// the tag), which no name on the node equals, so the kubelet pulls, and the pull fails. Not
/// healthy; no name on the node resolves, so no patch: the command gives the node the name the
/// kubelet looks up, as `kind load` itself re-tags (`ctr … images tag --force`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kind_3173_a_tag_and_digest_preload_does_not_resolve() {
    // The reconstructed node must say what the recorded crictl listing says: a repo-digest name
    // only (TAG <none>), whose repository part is the IMAGE column.
    let objs = objects("kind-3173-objects.yaml");
    let node = objs.iter().find(|o| o["kind"] == "Node").expect("node");
    let listed: Vec<&str> = node["status"]["images"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|i| i["names"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    for row in text("kind-3173-crictl-images.txt").lines().skip(1) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[1], "<none>", "{row}");
        assert!(
            listed
                .iter()
                .any(|n| n.split('@').next() == Some(cols[0]) && n.contains("@sha256:")),
            "{row} vs {listed:?}"
        );
    }

    let served = Served::start("kind", Fixture::new("v1.26.3").objects(objs)).await;
    let (code, report) = served.diagnose().await;
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["healthy"], false);
    let f = only(&report);
    assert_eq!(f["kind"], "unresolvable-name", "{f:#}");
    assert_eq!(f["image"], KINDNETD);
    assert_eq!(f["workload"], "DaemonSet/kindnet");
    assert_eq!(f["container"], "kindnet-cni");
    assert_eq!(f["pods"], serde_json::json!(["kindnet-kd9gx"]));
    assert_eq!(f["nodes"], serde_json::json!(["kind-control-plane"]));
    assert_eq!(f["suggested_image"], Value::Null);
    assert_eq!(f["patch"], Value::Null);
    assert_eq!(
        f["command"],
        format!(
            "docker exec kind-control-plane ctr --namespace=k8s.io images tag --force {KINDNETD} {KINDNETD_BY_DIGEST}"
        )
    );
    assert!(
        f["summary"]
            .as_str()
            .is_some_and(|s| s.contains(KINDNETD_BY_DIGEST)),
        "{f:#}"
    );

    dry_run_sends_no_patch(&served, 1).await;
}

/// kne, recorded with `kubectl get pods -A -o json --watch`: `otg-controller`'s `ixia-c`
/// container (a licensed image, `ghcr.io/…/licensed/ixia-c-controller:0.0.1-3807`) goes
/// ErrImagePull → ImagePullBackOff; its `gnmi` container runs. With IfNotPresent a pull is
/// attempted only when the runtime does not resolve the name, and the pull failed: the image is
/// neither on the node nor pullable (`not-loaded`); the command loads it into cluster `kne`.
/// The running container is the control: no finding for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kne_watch_stream_final_states() {
    let stream = objects("kne-rawstream-2023-03-22.json");
    // Lists answer the objects as the stream leaves them (the last version of each).
    let mut last: Vec<Value> = Vec::new();
    for o in stream {
        last.retain(|p| p["metadata"]["uid"] != o["metadata"]["uid"]);
        last.push(o);
    }
    let served = Served::start("kne", Fixture::new("v1.26.3").objects(last)).await;
    let (code, report) = served.diagnose().await;
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["healthy"], false);
    let f = only(&report);
    assert_ixia_not_loaded(f);
}

fn assert_ixia_not_loaded(f: &Value) {
    let image = "ghcr.io/open-traffic-generator/licensed/ixia-c-controller:0.0.1-3807";
    assert_eq!(f["kind"], "not-loaded", "{f:#}");
    assert_eq!(f["workload"], "Pod/otg-controller");
    assert_eq!(f["container"], "ixia-c");
    assert_eq!(f["image"], image);
    assert_eq!(f["nodes"], serde_json::json!(["kne-control-plane"]));
    assert_eq!(f["patch"], Value::Null);
    assert_eq!(
        f["command"],
        format!("kind load docker-image {image} --name kne")
    );
}

/// The same recorded stream replayed as watch events (lists start empty): the real library's
/// feed, through the kubeconfig, ends with the recorded final states, and its snapshot
/// diagnoses the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kne_watch_stream_replayed_through_the_library_feed() {
    let mut fx = Fixture::new("v1.26.3");
    for o in objects("kne-rawstream-2023-03-22.json") {
        fx = fx.streamed(o);
    }
    let served = Served::start("kne", fx).await;
    let conn = kindscope::cluster::connect::connect(&kindscope::cli::ConnectArgs {
        kubeconfig: Some(served.kubeconfig().to_path_buf()),
        ..Default::default()
    })
    .await
    .expect("connects through the kind-style kubeconfig");
    let feed = kindscope::cluster::watch::start(&conn);
    let deadline = Instant::now() + Duration::from_secs(20);
    let findings = loop {
        let snap = feed.current();
        let found = kindscope::diagnose::diagnose(&snap);
        let backoff = snap.pods.iter().any(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten()
                .any(|c| {
                    c.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("ImagePullBackOff")
                })
        });
        if backoff && snap.pods.len() == 3 {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the replayed stream never arrived: {} pods",
            snap.pods.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = serde_json::to_value(&findings[0]).expect("finding JSON");
    assert_ixia_not_loaded(&f);
    assert!(
        served
            .server
            .requests()
            .iter()
            .any(|r| r.contains("watch=true")),
        "the feed watched: {:?}",
        served.server.requests()
    );
}

/// kne (2023-11 data): `ceos` asks `ceos:latest` (IfNotPresent) and containerd's own message
/// says it pulled `docker.io/library/ceos:latest` and was denied: not on the node, not
/// pullable. Its init container (spec `networkop/init-wait:latest`, status
/// `docker.io/networkop/init-wait:latest`, completed) and three running pods are the controls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kne_ceos_err_image_pull() {
    let served = Served::start(
        "kne",
        Fixture::new("v1.26.3").objects(objects("kne-pods-2023-11.json")),
    )
    .await;
    let (code, report) = served.diagnose().await;
    assert_eq!(code, Some(1), "{report:#}");
    let f = only(&report);
    assert_eq!(f["kind"], "not-loaded", "{f:#}");
    assert_eq!(f["workload"], "CEosLabDevice/ceos");
    assert_eq!(f["container"], "ceos");
    assert_eq!(f["image"], "ceos:latest");
    assert_eq!(f["patch"], Value::Null);
    assert_eq!(
        f["command"],
        "kind load docker-image ceos:latest --name kne"
    );
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains("docker.io/library/ceos:latest"),
        "{evidence}"
    );
}

/// Serve a `kubectl describe` fixture as the Pod and Events it records.
async fn served_describe(name: &str, cluster: &str) -> (Served, describe::Described) {
    let d = describe::parse(&text(name));
    let fx = Fixture::new("v1.30.0")
        .object(d.pod.clone())
        .objects(d.events.clone());
    (Served::start(cluster, fx).await, d)
}

/// tetragon #2731 on kind cluster `tetragon-dev`: the operator pulls
/// `cilium/tetragon-operator:latest`, which containerd normalises to
/// `docker.io/cilium/tetragon-operator:latest` and the registry does not have (`kind load`
/// failed beforehand). Not loaded; the command loads it into `tetragon-dev`; no patch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tetragon_2731_image_never_loaded() {
    let (served, d) = served_describe("tetragon-2731-describe.txt", "tetragon-dev").await;
    assert_eq!(d.node.as_deref(), Some("tetragon-dev-control-plane"));
    let (code, report) = served.diagnose().await;
    assert_eq!(code, Some(1), "{report:#}");
    let f = only(&report);
    assert_eq!(f["kind"], "not-loaded", "{f:#}");
    assert_eq!(f["image"], "cilium/tetragon-operator:latest");
    assert_eq!(
        f["nodes"],
        serde_json::json!(["tetragon-dev-control-plane"])
    );
    assert_eq!(
        f["pods"],
        serde_json::json!(["tetragon-operator-86dbcc5f8c-rwvtj"])
    );
    assert_eq!(f["patch"], Value::Null);
    assert_eq!(
        f["command"],
        "kind load docker-image cilium/tetragon-operator:latest --name tetragon-dev"
    );
    // The kubelet's recorded words are the evidence.
    assert!(
        f["evidence"]
            .to_string()
            .contains("docker.io/cilium/tetragon-operator:latest: not found")
    );
}

/// llm-d #251 on kind cluster `llm-d-inference-scheduler-dev`: a locally built `:dev` image on
/// ghcr.io in ImagePullBackOff. Not on the node, not pullable: load it; no patch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_d_251_dev_image_not_loaded() {
    let (served, _) =
        served_describe("llm-d-251-describe.txt", "llm-d-inference-scheduler-dev").await;
    let (code, report) = served.diagnose().await;
    assert_eq!(code, Some(1), "{report:#}");
    let f = only(&report);
    assert_eq!(f["kind"], "not-loaded", "{f:#}");
    assert_eq!(f["image"], "ghcr.io/llm-d/llm-d-inference-scheduler:dev");
    assert_eq!(
        f["nodes"],
        serde_json::json!(["llm-d-inference-scheduler-dev-control-plane"])
    );
    assert_eq!(f["patch"], Value::Null);
    assert_eq!(
        f["command"],
        "kind load docker-image ghcr.io/llm-d/llm-d-inference-scheduler:dev --name llm-d-inference-scheduler-dev"
    );
}

/// helm-charts #3447: containerd's own message shows how it resolves a tag+digest reference:
/// the pod asks `…kube-webhook-certgen:v1.0@sha256:f3b6…` and containerd pulls
/// `…kube-webhook-certgen@sha256:f3b6…`, the tag dropped (ParseDockerRef). kindscope must name
/// the same lookup: its summary's resolved name starts with what containerd printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_charts_3447_tag_dropped_beside_a_digest() {
    let (served, d) = served_describe("helm-charts-3447-describe.txt", "kind").await;
    let recorded = d
        .events
        .iter()
        .find(|e| e["reason"] == "Failed")
        .expect("Failed event");
    let msg = recorded["message"].as_str().unwrap_or_default();
    let containerd_says = msg
        .split("failed to pull and unpack image \"")
        .nth(1)
        .expect("containerd's wording");
    let (code, report) = served.diagnose().await;
    assert_eq!(code, Some(1), "{report:#}");
    let f = only(&report);
    assert_eq!(f["kind"], "not-loaded", "{f:#}");
    assert_eq!(f["patch"], Value::Null);
    let summary = f["summary"].as_str().unwrap_or_default();
    let resolved = summary
        .split("which the kubelet resolves to ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .expect("the summary names the resolved reference");
    assert!(!resolved.contains(":v1.0"), "{resolved}");
    assert!(
        resolved.starts_with(containerd_says),
        "{resolved} vs containerd's {containerd_says}"
    );
}

/// kueue #7344 on kind cluster `bms4`: images imported onto the node on 2025-11-18 (kind's
/// version not recorded) run, and the kubelet reports their image ID as the import name
/// `ctr images import --digests` added beside the real tag
/// (`docker.io/library/import-2025-11-18@sha256:…`): an import name next to a proper name. One
/// pod runs, the other is in CrashLoopBackOff — not an image problem. Healthy control: no
/// finding, nothing renamed on import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kueue_7344_kind_loaded_images_with_import_names_are_healthy() {
    let (pods, events) = describe::parse_pods(&text("kueue-7344-describe.txt"));
    assert_eq!(pods.len(), 2);
    for p in &pods {
        let id = p["status"]["containerStatuses"][0]["imageID"]
            .as_str()
            .unwrap_or_default();
        assert!(
            id.starts_with("docker.io/library/import-2025-11-18@sha256:"),
            "{p:#}"
        );
    }
    let fx = Fixture::new("v1.34.0").objects(pods).objects(events);
    let served = Served::start("bms4", fx).await;
    let (code, report) = served.diagnose().await;
    assert_eq!(findings(&report), &Vec::<Value>::new(), "{report:#}");
    assert_eq!(code, Some(0), "{report:#}");
}

/// The sim's nodes look like real Kind nodes of the scenario's Kubernetes version: a v1.26.3
/// cluster named `kind` serves Node objects whose image names are those of the real kind v0.18
/// nodes of the autoscaler fixture, name for name (import digests, which are per build, aside),
/// with their sizes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_v1_26_nodes_match_the_real_kind_v0_18_nodes() {
    let scenario = kindscope::sim::scenario::parse(
        "kind: Scenario\nname: kind\nprovider: docker\nkubernetesVersion: v1.26.3\nnodes:\n- name: kind-control-plane\n  role: control-plane\n- name: kind-worker\n  role: worker\n",
        "test",
    )
    .expect("scenario");
    let sim = kindscope::sim::start(&scenario, kindscope::sim::SimOptions::default())
        .await
        .expect("sim starts");
    let (conn, _dir) = crate::support::feed::connect_sim(&sim).await;
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(conn.client.clone());
    // Import names carry a per-build digest; everything else must match exactly.
    let mask = |n: &str| match n.split_once("import-2023-03-30@") {
        Some((pre, _)) => format!("{pre}import-2023-03-30@…"),
        None => n.to_string(),
    };
    let names_sizes = |v: &Value| -> Vec<(Vec<String>, i64)> {
        let mut out: Vec<(Vec<String>, i64)> = v["status"]["images"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                let mut names: Vec<String> = i["names"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(mask)
                    .collect();
                names.sort();
                (names, i["sizeBytes"].as_i64().unwrap_or(0))
            })
            .collect();
        out.sort();
        out
    };
    for (name, fixture) in [
        (
            "kind-control-plane",
            "autoscaler-kind-v1.26-control-plane.yaml",
        ),
        ("kind-worker", "autoscaler-kind-v1.26-worker.yaml"),
    ] {
        let served = nodes.get(name).await.expect("sim node");
        let served = serde_json::to_value(&served).expect("node JSON");
        let real = objects(fixture).remove(0);
        assert_eq!(names_sizes(&served), names_sizes(&real), "{name}");
    }
}
