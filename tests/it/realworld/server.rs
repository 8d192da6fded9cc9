//! A static fixture API server: an independent, minimal Kubernetes API over HTTPS (client
//! certificates, as a Kind cluster's apiserver) that serves
//! exactly the recorded objects. No controllers, no kubelet: list and get answer the objects as
//! recorded, a watch replays the recorded stream (ADDED for an object's first appearance,
//! MODIFIED after) and then stays open, and a `dryRun=All` JSON patch is applied to a copy and
//! returned without storing it. Anything else is refused. It shares no code with the sim, so
//! the sim's idea of the API cannot hide a mistake in kindscope's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::query::{field_selector_matches, url_pairs};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kindscope::sim::identity::{ClientCert, Identity};
use kindscope::sim::kubeconfig::kubeconfig_yaml;
use serde_json::{Value, json};

/// Where a resource lives in the API.
struct Resource {
    plural: &'static str,
    kind: &'static str,
    group_version: &'static str,
    namespaced: bool,
}

const RESOURCES: [Resource; 6] = [
    Resource {
        plural: "nodes",
        kind: "Node",
        group_version: "v1",
        namespaced: false,
    },
    Resource {
        plural: "pods",
        kind: "Pod",
        group_version: "v1",
        namespaced: true,
    },
    Resource {
        plural: "events",
        kind: "Event",
        group_version: "v1",
        namespaced: true,
    },
    Resource {
        plural: "namespaces",
        kind: "Namespace",
        group_version: "v1",
        namespaced: false,
    },
    Resource {
        plural: "deployments",
        kind: "Deployment",
        group_version: "apps/v1",
        namespaced: true,
    },
    Resource {
        plural: "replicasets",
        kind: "ReplicaSet",
        group_version: "apps/v1",
        namespaced: true,
    },
];

fn resource_of_kind(kind: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.kind == kind)
}

/// What the server serves.
#[derive(Default, Clone)]
pub struct Fixture {
    /// `gitVersion` for `/version` (the recorded node's kubelet version).
    pub version: String,
    /// Objects answered by list and get, by plural.
    objects: BTreeMap<&'static str, Vec<Value>>,
    /// The recorded watch stream: (plural, object), in order.
    stream: Vec<(&'static str, Value)>,
}

impl Fixture {
    pub fn new(version: &str) -> Self {
        Fixture {
            version: version.into(),
            ..Default::default()
        }
    }

    /// Serve `obj` (its `kind` says where) from list and get.
    pub fn object(mut self, obj: Value) -> Self {
        let plural = plural_of(&obj);
        self.objects
            .entry(plural)
            .or_default()
            .push(with_defaults(obj));
        self
    }

    pub fn objects(self, objs: impl IntoIterator<Item = Value>) -> Self {
        objs.into_iter().fold(self, Fixture::object)
    }

    /// Replay `obj` on watches, after everything before it.
    pub fn streamed(mut self, obj: Value) -> Self {
        let plural = plural_of(&obj);
        self.stream.push((plural, with_defaults(obj)));
        self
    }
}

fn plural_of(obj: &Value) -> &'static str {
    let kind = obj["kind"].as_str().unwrap_or_default();
    resource_of_kind(kind)
        .unwrap_or_else(|| panic!("fixture object of unknown kind {kind:?}"))
        .plural
}

/// Recorded objects keep their fields; a missing namespace is the apiserver's `default`.
fn with_defaults(mut obj: Value) -> Value {
    let namespaced =
        resource_of_kind(obj["kind"].as_str().unwrap_or_default()).is_some_and(|r| r.namespaced);
    if namespaced && obj["metadata"]["namespace"].is_null() {
        obj["metadata"]["namespace"] = json!("default");
    }
    obj
}

/// Parse a fixture file: JSON (an object or an array of objects) or YAML (one or more documents).
pub fn load(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "json") {
        match serde_json::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        {
            Value::Array(items) => items,
            one => vec![one],
        }
    } else {
        let mut docs = vec![String::new()];
        for line in text.lines() {
            if line == "---" {
                docs.push(String::new());
            } else if let Some(d) = docs.last_mut() {
                d.push_str(line);
                d.push('\n');
            }
        }
        docs.iter()
            .filter(|d| {
                d.lines()
                    .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            })
            .map(|d| {
                serde_saphyr::from_str::<Value>(d)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            })
            .collect()
    }
}

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/realworld")
        .join(name)
}

struct AppState {
    fixture: Fixture,
    /// Every request, as `METHOD path?query`, for assertions (e.g. that no patch was sent).
    requests: Mutex<Vec<String>>,
}

/// A running fixture server; stops when dropped.
pub struct FixtureServer {
    pub addr: SocketAddr,
    state: Arc<AppState>,
    task: tokio::task::JoinHandle<()>,
    /// The CA, serving certificate and client credentials, as `kind create cluster` makes them.
    identity: Arc<Identity>,
}

/// TLS as a Kind cluster's apiserver speaks it: the server certificate of `identity`, and only
/// connections presenting a client certificate signed by its CA are served (an untrusted or
/// missing one is closed after the handshake; the sim's own listener answers 401 instead).
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    identity: Arc<Identity>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let handshake = tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(tcp));
            if let Ok(Ok(tls)) = handshake.await
                && self.identity.judge(tls.get_ref().1.peer_certificates()) == ClientCert::Trusted
            {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

impl FixtureServer {
    /// Serve `fixture` over HTTPS with its own CA and client-certificate authentication.
    pub async fn start(fixture: Fixture) -> FixtureServer {
        let state = Arc::new(AppState {
            fixture,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(dispatch).with_state(state.clone());
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = tcp.local_addr().expect("local addr");
        let identity = Identity::generate("fixture").expect("certificates");
        let acceptor =
            tokio_rustls::TlsAcceptor::from(identity.server_config().expect("TLS config"));
        let listener = TlsListener {
            tcp,
            acceptor,
            identity: identity.clone(),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FixtureServer {
            addr,
            state,
            task,
            identity,
        }
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// A kubeconfig laid out as `kind` writes it: context, cluster and user `kind-NAME`,
    /// `certificate-authority-data`, `client-certificate-data`, `client-key-data`.
    pub fn write_kubeconfig(&self, dir: &Path, cluster: &str) -> std::path::PathBuf {
        let server = format!("https://{}", self.addr);
        let text = kubeconfig_yaml(cluster, &server, &self.identity.credentials(true));
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok_json(v: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// The resource version lists answer: the highest recorded one, so a watch from it replays
/// nothing that the list already holds.
fn list_version(fx: &Fixture) -> u64 {
    fx.objects
        .values()
        .flatten()
        .filter_map(|o| o["metadata"]["resourceVersion"].as_str()?.parse().ok())
        .max()
        .unwrap_or(1)
}

async fn dispatch(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query: Vec<(String, String)> = parts.uri.query().map(url_pairs).unwrap_or_default();
    if let Ok(mut r) = st.requests.lock() {
        r.push(format!("{} {}", parts.method, parts.uri));
    }
    let q = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let fx = &st.fixture;
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => return ok_json(&version_doc(&fx.version)),
        ["api"] => {
            return ok_json(
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            );
        }
        ["apis"] => {
            return ok_json(
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]}),
            );
        }
        ["api", "v1"] => return ok_json(&resource_list("v1")),
        ["apis", "apps", "v1"] => return ok_json(&resource_list("apps/v1")),
        _ => {}
    }
    let (gv, rest): (&str, &[&str]) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("v1", rest),
        ["apis", "apps", "v1", rest @ ..] => ("apps/v1", rest),
        _ => {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
    };
    let (ns, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
    };
    let Some(res) = RESOURCES
        .iter()
        .find(|r| r.plural == plural && r.group_version == gv)
    else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    let in_scope = |o: &&Value| {
        ns.is_none_or(|n| o["metadata"]["namespace"].as_str() == Some(n))
            && q("fieldSelector").is_none_or(|sel| field_selector_matches(sel, o))
    };
    let named = |o: &&Value| name.is_some_and(|n| o["metadata"]["name"].as_str() == Some(n));
    let listed: Vec<&Value> = fx
        .objects
        .get(res.plural)
        .map(|v| v.iter().filter(in_scope).collect())
        .unwrap_or_default();
    match (parts.method, name) {
        (Method::GET, None) if q("watch").is_some_and(|w| w == "true" || w == "1") => {
            let from: u64 = q("resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let timeout = q("timeoutSeconds")
                .and_then(|v| v.parse().ok())
                .unwrap_or(300u64)
                .min(300);
            watch_response(
                fx,
                res,
                from,
                timeout,
                ns,
                q("fieldSelector").map(String::from),
            )
        }
        (Method::GET, None) => {
            let list_kind = format!("{}List", res.kind);
            ok_json(&json!({"kind": list_kind, "apiVersion": res.group_version,
                "metadata": {"resourceVersion": list_version(fx).to_string()},
                "items": listed.iter().map(|o| item(o, res)).collect::<Vec<_>>()}))
        }
        (Method::GET, Some(n)) => match listed.iter().copied().find(named) {
            Some(o) => ok_json(&item(o, res)),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("{} \"{n}\" not found", res.plural),
            ),
        },
        (Method::PATCH, Some(n)) if q("dryRun") == Some("All") => {
            let Some(o) = listed.iter().copied().find(named) else {
                return status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("{} \"{n}\" not found", res.plural),
                );
            };
            let bytes: Bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            dry_run_patch(o, res, &parts.headers, &bytes)
        }
        _ => status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this fixture server serves recorded objects only; it accepts reads and dry-run patches",
        ),
    }
}

fn item(o: &Value, res: &Resource) -> Value {
    let mut o = o.clone();
    o["apiVersion"] = json!(res.group_version);
    o["kind"] = json!(res.kind);
    o
}

fn version_doc(git_version: &str) -> Value {
    let v = git_version.trim_start_matches('v');
    let mut parts = v.split('.');
    json!({"major": parts.next().unwrap_or("1"), "minor": parts.next().unwrap_or("0"),
        "gitVersion": git_version, "gitCommit": "", "gitTreeState": "clean", "buildDate": "",
        "goVersion": "", "compiler": "gc", "platform": "linux/amd64"})
}

fn resource_list(gv: &str) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group_version == gv)
        .map(|r| {
            json!({"name": r.plural, "singularName": "", "namespaced": r.namespaced, "kind": r.kind,
            "verbs": ["get", "list", "watch"]})
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

/// The recorded stream for `res` after `from`, one JSON event per line, then the connection
/// stays open (as an apiserver's watch does) until `timeout` seconds or the client leaves.
fn watch_response(
    fx: &Fixture,
    res: &Resource,
    from: u64,
    timeout: u64,
    ns: Option<&str>,
    sel: Option<String>,
) -> Response {
    let base = list_version(fx);
    let mut seen: std::collections::BTreeSet<(String, String)> = fx
        .objects
        .get(res.plural)
        .into_iter()
        .flatten()
        .map(key)
        .collect();
    let mut lines: Vec<Bytes> = Vec::new();
    for (i, (plural, obj)) in fx.stream.iter().enumerate() {
        let rv = base + 1 + i as u64;
        if *plural != res.plural || rv <= from {
            continue;
        }
        if ns.is_some_and(|n| obj["metadata"]["namespace"].as_str() != Some(n))
            || sel
                .as_deref()
                .is_some_and(|s| !field_selector_matches(s, obj))
        {
            continue;
        }
        let kind = if seen.insert(key(obj)) {
            "ADDED"
        } else {
            "MODIFIED"
        };
        let mut o = item(obj, res);
        o["metadata"]["resourceVersion"] = json!(rv.to_string());
        lines.push(Bytes::from(format!(
            "{}\n",
            json!({"type": kind, "object": o})
        )));
    }
    let stream = async_stream::stream! {
        for l in lines {
            yield Ok::<Bytes, std::io::Error>(l);
        }
        tokio::time::sleep(Duration::from_secs(timeout)).await;
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| {
            status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "response",
            )
        })
}

fn key(o: &Value) -> (String, String) {
    (
        o["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// A JSON patch applied to a copy of the recorded object and returned, nothing stored: what a
/// `dryRun=All` request gets from a real apiserver, minus admission.
fn dry_run_patch(
    o: &Value,
    res: &Resource,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct != "application/json-patch+json" {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!("the fixture server applies JSON patches only, not {ct}"),
        );
    }
    let patch: json_patch::Patch = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => return status(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string()),
    };
    let mut doc = item(o, res);
    match json_patch::patch(&mut doc, &patch) {
        Ok(()) => ok_json(&doc),
        Err(e) => status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &e.to_string()),
    }
}
