//! Kind awareness against stand-in `docker`/`podman`/`kind` programs (tests/fixtures/bin) that
//! answer from crictl JSON fixtures (tests/fixtures/crictl), as the real ones would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::cli::NO_HANG;
use k8s_openapi::api::core::v1::Node;
use kindscope::cli::RuntimeChoice;
use kindscope::cluster::import::{local_image_id, renamed_on_import};
use kindscope::cluster::node_images::{merge, runtime_note};
use kindscope::cluster::runtime::{
    Programs, Runtime, RuntimeKind, choose, list_node_images, list_one_node,
};
use kindscope::model::{NodeImage, RuntimeListing, Snapshot};

const GATEWAY: &str = "localhost/kubernaut/gateway:debug";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn bin(name: &str) -> PathBuf {
    fixtures().join("bin").join(name)
}

fn standin(kind: RuntimeKind) -> Runtime {
    Runtime::with_program(kind, bin(kind.as_str()))
}

fn programs() -> Programs {
    Programs {
        docker: bin("docker"),
        podman: bin("podman"),
    }
}

// Generous: the stand-ins are python scripts and the machine may be loaded. Tests of a timeout
// pass their own short bound with a stand-in that sleeps far past it.
const PROBE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn selection_follows_kind_rules() {
    // Nothing asked: a docker that answers wins.
    let s = choose(None, None, None, &programs(), PROBE).await;
    assert_eq!(
        s.runtime.map(|r| r.kind),
        Some(RuntimeKind::Docker),
        "{}",
        s.why
    );

    // KIND_EXPERIMENTAL_PROVIDER beats the probe, the flag beats everything.
    let s = choose(None, None, Some("podman"), &programs(), PROBE).await;
    assert_eq!(s.runtime.map(|r| r.kind), Some(RuntimeKind::Podman));
    assert!(s.why.contains("KIND_EXPERIMENTAL_PROVIDER"), "{}", s.why);
    let s = choose(
        Some(RuntimeChoice::Docker),
        None,
        Some("podman"),
        &programs(),
        PROBE,
    )
    .await;
    assert_eq!(s.runtime.map(|r| r.kind), Some(RuntimeKind::Docker));
    let s = choose(
        Some(RuntimeChoice::None),
        None,
        Some("podman"),
        &programs(),
        PROBE,
    )
    .await;
    assert!(
        s.runtime.is_none() && s.why.contains("--runtime"),
        "{}",
        s.why
    );
    let s = choose(
        None,
        Some(RuntimeChoice::Podman),
        Some("docker"),
        &programs(),
        PROBE,
    )
    .await;
    assert_eq!(s.runtime.map(|r| r.kind), Some(RuntimeKind::Podman));

    // No docker at all: podman.
    let none = Programs {
        docker: PathBuf::from("/nonexistent/docker"),
        podman: bin("podman"),
    };
    let s = choose(None, None, None, &none, PROBE).await;
    assert_eq!(
        s.runtime.map(|r| r.kind),
        Some(RuntimeKind::Podman),
        "{}",
        s.why
    );
}

#[tokio::test]
async fn a_docker_that_hangs_is_abandoned_quickly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hang = dir.path().join("docker");
    // Sleeps far past the give-up bound below: only abandoning it (and killing it) passes.
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 300\n").expect("write script");
    make_executable(&hang);
    let progs = Programs {
        docker: hang,
        podman: bin("podman"),
    };
    let start = Instant::now();
    let s = choose(None, None, None, &progs, Duration::from_millis(300)).await;
    assert_eq!(s.runtime.map(|r| r.kind), Some(RuntimeKind::Podman));
    assert!(start.elapsed() < NO_HANG, "{:?}", start.elapsed());
    // Same with a daemon that is down (the stand-in reads a `docker-down` marker).
    let fx = copy_fixtures();
    std::fs::write(fx.path().join("docker-down"), "").expect("marker");
    assert!(
        !kindscope::cluster::runtime::answers(&standin_in(RuntimeKind::Docker, fx.path()), PROBE)
            .await
    );
}

#[tokio::test]
async fn crictl_listing_is_parsed() {
    let imgs = list_one_node(&standin(RuntimeKind::Podman), "dev-worker", PROBE)
        .await
        .expect("the stand-in answers for dev-worker");
    // 10 kind base images + 60 large + gateway + one digest-only import.
    assert_eq!(imgs.len(), 72);
    let gw = find(&imgs, GATEWAY).expect("the gateway image is listed");
    assert_eq!(gw.size_bytes, 15_728_640, "crictl's size is a string");
    assert!(gw.id.as_deref().is_some_and(|i| i.starts_with("sha256:")));
    assert!(
        gw.names
            .iter()
            .any(|n| n.starts_with("localhost/kubernaut/gateway@sha256:"))
    );
    let imported = imgs
        .iter()
        .find(|i| {
            i.names
                .iter()
                .any(|n| n.contains("/import-2025-12-24@sha256:"))
        })
        .expect("a digest-only image is listed by its digest name");
    assert_eq!(imported.names.len(), 1);
    assert!(imgs.iter().all(|i| i.sources.runtime && !i.sources.api));
}

#[tokio::test]
async fn failures_read_as_one_sentence_each() {
    let nodes: Vec<String> = ["dev-worker", "no-such-node", "slow-node", "denied-node"]
        .into_iter()
        .map(String::from)
        .collect();
    let start = Instant::now();
    let res = list_node_images(
        &standin(RuntimeKind::Podman),
        &nodes,
        // Generous enough for a python stand-in on a loaded machine (over 1.5 s each seen with
        // the CPUs busy); the slow node sleeps 300 s.
        Duration::from_secs(10),
    )
    .await;
    // The slow node's timeout bounds the whole listing: its 300 s sleep is not waited out
    // (a give-up bound, far from the 10 s the listing takes).
    assert!(start.elapsed() < NO_HANG, "{:?}", start.elapsed());
    assert!(res["dev-worker"].is_ok(), "{:?}", res["dev-worker"]);
    let err = |n: &str| res[n].clone().expect_err("this node fails");
    assert!(err("no-such-node").contains("podman has no container named no-such-node"));
    assert!(
        err("slow-node").contains("did not answer within 10s"),
        "{}",
        err("slow-node")
    );
    assert!(err("denied-node").contains("permission denied"));

    let docker = list_one_node(&standin(RuntimeKind::Docker), "no-such-node", PROBE).await;
    assert!(docker.expect_err("unknown").contains("--runtime podman"));

    let missing = Runtime::with_program(RuntimeKind::Podman, "/nonexistent/podman");
    let e = list_one_node(&missing, "dev-worker", PROBE)
        .await
        .expect_err("no program");
    assert!(e.contains("podman is not installed or not on PATH"), "{e}");
}

/// The kubelet's view of a node: the 50 largest images, at most 5 names each, no IDs.
fn kubelet_view(node: &str, images: &[NodeImage]) -> Node {
    let mut sorted = images.to_vec();
    sorted.sort_by_key(|i| std::cmp::Reverse(i.size_bytes));
    let status_images: Vec<serde_json::Value> = sorted
        .iter()
        .take(kindscope::NODE_STATUS_MAX_IMAGES)
        .map(|i| {
            let names: Vec<&String> = i
                .names
                .iter()
                .take(kindscope::NODE_STATUS_MAX_NAMES_PER_IMAGE)
                .collect();
            serde_json::json!({"names": names, "sizeBytes": i.size_bytes})
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": node},
        "status": {"images": status_images}
    }))
    .expect("valid node")
}

#[tokio::test]
async fn merge_finds_the_small_image_the_api_hides() {
    let rt = standin(RuntimeKind::Podman);
    let listing = list_one_node(&rt, "dev-worker", PROBE)
        .await
        .expect("listing");
    let api = Snapshot::api_node_images(&kubelet_view("dev-worker", &listing));
    assert!(api.api_capped);
    assert!(
        find(&api.images, GATEWAY).is_none(),
        "the API view must hide the small image"
    );

    let merged = merge(api.clone(), Ok(listing.clone()), "podman");
    assert!(!merged.maybe_incomplete());
    assert_eq!(merged.images.len(), listing.len());
    let gw = find(&merged.images, GATEWAY).expect("merged list has the gateway");
    assert!(gw.sources.runtime && !gw.sources.api);
    let both = merged
        .images
        .iter()
        .filter(|i| i.sources.api && i.sources.runtime)
        .count();
    assert_eq!(both, kindscope::NODE_STATUS_MAX_IMAGES);

    // Without a runtime the API view stays, with the cap note.
    let failed = merge(
        api,
        Err("podman is not installed or not on PATH".into()),
        "podman",
    );
    assert!(failed.maybe_incomplete());
    assert!(matches!(failed.runtime, RuntimeListing::Failed { .. }));
    let note = runtime_note(&BTreeMap::from([("dev-worker".to_string(), failed)])).expect("note");
    assert!(note.starts_with("node images from the API only"), "{note}");
    assert!(note.contains("capped at 50"));
}

#[tokio::test]
async fn renamed_on_import_by_image_id() {
    let rt = standin(RuntimeKind::Podman);
    let listing = list_one_node(&rt, "dev-worker", PROBE)
        .await
        .expect("listing");
    let node = merge(
        Snapshot::api_node_images(&kubelet_view("dev-worker", &listing)),
        Ok(listing),
        "podman",
    );
    // podman resolves the short name to localhost/kubernaut/tools:debug.
    let id = local_image_id(&rt, "kubernaut/tools:debug", PROBE)
        .await
        .expect("inspect works");
    assert!(
        id.as_deref().is_some_and(|i| i.starts_with("sha256:")),
        "{id:?}"
    );
    let renamed =
        renamed_on_import("kubernaut/tools:debug", id.as_deref(), &node).expect("found by ID");
    assert!(
        renamed.starts_with("docker.io/library/import-2025-12-24@sha256:"),
        "{renamed}"
    );

    // The gateway is on the node under its real name: no rename.
    let gw = local_image_id(&rt, GATEWAY, PROBE)
        .await
        .expect("inspect works");
    assert_eq!(renamed_on_import(GATEWAY, gw.as_deref(), &node), None);
    assert_eq!(
        local_image_id(&rt, "nope:1", PROBE)
            .await
            .expect("unknown is not an error"),
        None
    );
}

// ---- `kindscope load` through the binary, with the stand-ins first on PATH ----

fn copy_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(fixtures().join("crictl")).expect("fixtures") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy fixture");
    }
    dir
}

fn standin_in(kind: RuntimeKind, fixture_dir: &Path) -> Runtime {
    // The fixture dir reaches the stand-in through KINDSCOPE_STANDIN_DIR; a test that cannot
    // set it per child uses a wrapper script instead.
    let wrapper = fixture_dir.join(format!("{}-wrapper", kind.as_str()));
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nKINDSCOPE_STANDIN_DIR='{}' exec '{}' \"$@\"\n",
            fixture_dir.display(),
            bin(kind.as_str()).display()
        ),
    )
    .expect("write wrapper");
    make_executable(&wrapper);
    Runtime::with_program(kind, wrapper)
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn kindscope(path_env: &str, fixture_dir: &Path, args: &[&str]) -> Output {
    let empty = fixture_dir.join("xdg");
    std::process::Command::new(env!("CARGO_BIN_EXE_kindscope"))
        .args(args)
        .env("PATH", path_env)
        .env("KINDSCOPE_STANDIN_DIR", fixture_dir)
        .env("XDG_CONFIG_HOME", &empty)
        .env("KUBECONFIG", fixture_dir.join("no-kubeconfig"))
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .output()
        .expect("run kindscope")
}

fn path_with_standins() -> String {
    format!(
        "{}:{}",
        fixtures().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn load_reports_the_name_the_manifest_must_use() {
    let fx = copy_fixtures();
    let o = kindscope(
        &path_with_standins(),
        fx.path(),
        &[
            "load",
            "kubernaut/api:dev",
            "--cluster",
            "dev",
            "--runtime",
            "podman",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
    for step in ["[1/4]", "[2/4]", "[3/4]", "[4/4]"] {
        assert!(out.contains(step), "progress line {step} missing: {out}");
    }
    assert!(
        out.contains("every node (2) holds the image as localhost/kubernaut/api:dev"),
        "{out}"
    );
    assert!(
        out.contains("use `localhost/kubernaut/api:dev` in your manifest, not `kubernaut/api:dev`"),
        "{out}"
    );
    // The node fixture really changed: kind's stand-in imported it.
    let worker = std::fs::read_to_string(fx.path().join("dev-worker.json")).expect("fixture");
    assert!(worker.contains("localhost/kubernaut/api:dev"));
}

#[test]
fn load_names_a_renamed_import() {
    let fx = copy_fixtures();
    let o = kindscope(
        &path_with_standins(),
        fx.path(),
        &[
            "load",
            "kubernaut/tools:debug",
            "--cluster",
            "dev",
            "--runtime",
            "podman",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout: {out}\nstderr: {err}");
    assert!(out.contains("renamed-on-import"), "{out}");
    assert!(
        out.contains("ctr -n k8s.io images tag docker.io/library/import-"),
        "{out}"
    );
}

#[test]
fn load_errors_are_one_sentence() {
    let fx = copy_fixtures();
    // Unknown local image.
    let o = kindscope(
        &path_with_standins(),
        fx.path(),
        &["load", "nope:1", "--cluster", "dev", "--runtime", "podman"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("podman has no image named nope:1"),
        "{}",
        text(&o).1
    );
    // Unknown cluster.
    let o = kindscope(
        &path_with_standins(),
        fx.path(),
        &[
            "load",
            "kubernaut/api:dev",
            "--cluster",
            "ghost",
            "--runtime",
            "podman",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("no cluster named ghost"),
        "{}",
        text(&o).1
    );

    // kind missing, then podman missing: a PATH holding only what each case allows.
    let only = tempfile::tempdir().expect("temp dir");
    let python = python3();
    std::os::unix::fs::symlink(&python, only.path().join("python3")).expect("link python3");
    std::os::unix::fs::symlink(bin("podman"), only.path().join("podman")).expect("link podman");
    let path = only.path().display().to_string();
    let o = kindscope(
        &path,
        fx.path(),
        &[
            "load",
            "kubernaut/api:dev",
            "--cluster",
            "dev",
            "--runtime",
            "podman",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("kind is not installed or not on PATH"),
        "{}",
        text(&o).1
    );

    std::fs::remove_file(only.path().join("podman")).expect("unlink podman");
    std::os::unix::fs::symlink(bin("kind"), only.path().join("kind")).expect("link kind");
    let o = kindscope(
        &path,
        fx.path(),
        &[
            "load",
            "kubernaut/api:dev",
            "--cluster",
            "dev",
            "--runtime",
            "podman",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o)
            .1
            .contains("podman is not installed or not on PATH"),
        "{}",
        text(&o).1
    );
}

fn python3() -> PathBuf {
    let o = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs the stand-ins");
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

fn find<'a>(images: &'a [NodeImage], name: &str) -> Option<&'a NodeImage> {
    images.iter().find(|i| i.names.iter().any(|n| n == name))
}

// ---- the one feed: runtime listings merged in, and a refresh that really re-reads ----

/// The dashboard's `r` (Request::RefreshNodeImages) makes the feed ask the runtime again: an
/// image loaded onto the node after the first listing appears without restarting anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rereads_node_images_through_the_runtime() {
    use crate::support::feed::until_within;
    use crate::support::sim::{TestSim, service};
    use kindscope::tui::cluster_service::{FeedSource, ServiceOptions};
    use kindscope::tui::{ClusterPort, PortEvent, Request};

    const LOADED: &str = "localhost/kubernaut/freshly-loaded:dev";
    const WAIT: Duration = Duration::from_secs(60);
    let fixture_dir = copy_fixtures();
    let sim = TestSim::gateway_debug().await;
    let mut backend = service(
        sim.connect().await,
        FeedSource::with_runtime(standin_in(RuntimeKind::Podman, fixture_dir.path()), PROBE),
        ServiceOptions {
            write: Err("read-only test".into()),
            rollout_timeout: Duration::from_secs(1),
            journal: None,
            contexts: None,
        },
    );
    let worker = "gateway-debug-worker";
    let has = |snap: &Snapshot, name: &str| {
        snap.node_images.get(worker).is_some_and(|n| {
            matches!(n.runtime, RuntimeListing::Ok { .. })
                && n.images.iter().any(|i| i.names.iter().any(|x| x == name))
        })
    };
    let mut rx = backend.snapshots();
    // The first listing is merged: the worker's runtime list is in, without the new image.
    let first = until_within(&mut rx, WAIT, "the runtime listing", |snap| {
        snap.node_images
            .get(worker)
            .is_some_and(|n| matches!(n.runtime, RuntimeListing::Ok { .. }))
    })
    .await;
    assert!(
        has(&first, GATEWAY),
        "the fixture's gateway image is listed"
    );
    assert!(!has(&first, LOADED));

    // `kind load` puts a new image on the node (the stand-in reads the fixture on every call).
    let path = fixture_dir.path().join(format!("{worker}.json"));
    let mut listing: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    listing["images"]
        .as_array_mut()
        .expect("images array")
        .push(serde_json::json!({
            "id": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "repoTags": [LOADED], "repoDigests": [], "size": "1000",
            "uid": null, "username": "", "spec": null, "pinned": false
        }));
    std::fs::write(&path, listing.to_string()).expect("write fixture");

    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    backend.submit(Request::RefreshNodeImages, &tx);
    match tokio::time::timeout(WAIT, events.recv()).await {
        Ok(Some(PortEvent::Notice(text))) => {
            assert!(
                text.contains("podman"),
                "the notice names the runtime: {text}"
            )
        }
        other => panic!("expected a notice, got {other:?}"),
    }
    until_within(&mut rx, WAIT, "the refreshed listing", |snap| {
        has(snap, LOADED)
    })
    .await;
    drop(backend);
    sim.sim.shutdown().await;
}
