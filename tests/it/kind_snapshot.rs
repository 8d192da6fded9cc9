//! `kindscope snapshot` end to end: a minimal Kubernetes API (lists and /version) on loopback,
//! a `kind-dev` kubeconfig, and the stand-in podman on PATH. The bundle must hold the small image
//! that only the runtime lists, and no environment values.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::routing::get;
use kindscope::bundle::Bundle;
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items})
}

/// The kubelet's top 50 of the dev-worker fixture, as `Node.status.images`.
fn worker_node() -> Value {
    let raw = std::fs::read_to_string(fixtures().join("crictl/dev-worker.json")).expect("fixture");
    let doc: Value = serde_json::from_str(&raw).expect("fixture json");
    let mut imgs: Vec<(u64, Vec<String>)> = doc["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| {
            let size = i["size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut names: Vec<String> =
                serde_json::from_value(i["repoTags"].clone()).unwrap_or_default();
            names.extend(
                serde_json::from_value::<Vec<String>>(i["repoDigests"].clone()).unwrap_or_default(),
            );
            (size, names)
        })
        .collect();
    imgs.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let status: Vec<Value> = imgs
        .into_iter()
        .take(50)
        .map(|(s, n)| json!({"names": n, "sizeBytes": s}))
        .collect();
    json!({"metadata": {"name": "dev-worker"}, "status": {"images": status}})
}

fn pod() -> Value {
    json!({"metadata": {"name": "gateway-1", "namespace": "default"},
        "spec": {"nodeName": "dev-worker", "containers": [{"name": "gateway", "image": "kubernaut/gateway:debug",
            "imagePullPolicy": "Never", "env": [{"name": "API_TOKEN", "value": "hunter2"}]}]},
        "status": {"phase": "Pending"}})
}

/// A list endpoint that also accepts a watch: `kindscope snapshot` reads through the watch
/// feed, which opens a watch after the list; this API has no changes to report, so the watch
/// stays open and silent.
fn list_or_watch(list: Value) -> axum::routing::MethodRouter {
    get(
        move |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
            use axum::response::IntoResponse;
            if q.contains_key("watch") {
                let silent = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
                axum::body::Body::from_stream(silent).into_response()
            } else {
                axum::Json(list).into_response()
            }
        },
    )
}

async fn serve() -> String {
    let app = Router::new()
        .route(
            "/version",
            get(|| async {
                axum::Json(json!({"major": "1", "minor": "33", "gitVersion": "v1.33.1",
                    "gitCommit": "x", "gitTreeState": "clean", "buildDate": "2025-05-15T00:00:00Z",
                    "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"}))
            }),
        )
        .route(
            "/api/v1/nodes",
            list_or_watch(list("NodeList", "v1", vec![worker_node()])),
        )
        .route(
            "/api/v1/pods",
            list_or_watch(list("PodList", "v1", vec![pod()])),
        )
        .route(
            "/apis/apps/v1/deployments",
            list_or_watch(list("DeploymentList", "apps/v1", vec![])),
        )
        .route(
            "/apis/apps/v1/replicasets",
            list_or_watch(list("ReplicaSetList", "apps/v1", vec![])),
        )
        .route(
            "/api/v1/events",
            list_or_watch(list("EventList", "v1", vec![])),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\nclusters:\n- name: kind-dev\n  cluster: {{server: \"{server}\"}}\ncontexts:\n- name: kind-dev\n  context: {{cluster: kind-dev, user: kind-dev}}\nusers:\n- name: kind-dev\n  user: {{token: t}}\n"
        ),
    )
    .expect("write kubeconfig");
    path
}

async fn snapshot(
    dir: &Path,
    server: &str,
    provider: Option<&str>,
    out: &Path,
) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kindscope"));
    cmd.args(["snapshot", "-o"])
        .arg(out)
        .arg("--kubeconfig")
        .arg(kubeconfig(dir, server))
        .env(
            "PATH",
            format!(
                "{}:{}",
                fixtures().join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env_remove("KINDSCOPE_STANDIN_DIR");
    match provider {
        Some(p) => cmd.env("KIND_EXPERIMENTAL_PROVIDER", p),
        None => cmd.env_remove("KIND_EXPERIMENTAL_PROVIDER"),
    };
    cmd.output().await.expect("run kindscope snapshot")
}

#[tokio::test]
async fn bundle_holds_runtime_images_and_no_env_values() {
    let server = serve().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("triage.json.gz");
    let o = snapshot(dir.path(), &server, Some("podman"), &out).await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stderr: {stderr}");

    let bundle = Bundle::read(&out).expect("a readable gzip bundle");
    assert_eq!(bundle.context, "kind-dev");
    assert_eq!(bundle.kubernetes_version.as_deref(), Some("v1.33.1"));
    let worker = &bundle.node_images["dev-worker"];
    assert!(
        worker.api_capped && !worker.maybe_incomplete(),
        "{:?}",
        worker.runtime
    );
    let gw = worker
        .images
        .iter()
        .find(|i| {
            i.names
                .iter()
                .any(|n| n == "localhost/kubernaut/gateway:debug")
        })
        .expect("the runtime-only image is in the bundle");
    assert!(gw.sources.runtime && !gw.sources.api);
    let raw = std::fs::read(&out).expect("bundle bytes");
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .expect("gunzip");
        s
    };
    assert!(!text.contains("hunter2"));
    assert!(text.contains("API_TOKEN"));
}

#[tokio::test]
async fn without_a_runtime_the_cap_is_reported() {
    let server = serve().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // --runtime podman, but the stand-in's fixture dir has no such node: the listing fails, once.
    let out = dir.path().join("triage.json");
    let o = {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kindscope"));
        cmd.args(["snapshot", "--runtime", "podman", "-o"])
            .arg(&out)
            .arg("--kubeconfig")
            .arg(kubeconfig(dir.path(), &server))
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    fixtures().join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .env("KINDSCOPE_STANDIN_DIR", dir.path());
        cmd.output().await.expect("run kindscope snapshot")
    };
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(
        stderr.matches("node images from the API only").count(),
        1,
        "said once: {stderr}"
    );
    assert!(
        stderr.contains("no container named dev-worker") && stderr.contains("capped at 50"),
        "{stderr}"
    );
    let bundle = Bundle::read(&out).expect("plain bundle");
    assert!(bundle.node_images["dev-worker"].maybe_incomplete());
}
