//! The sim's Kubernetes HTTP API on 127.0.0.1: discovery, list/watch/get/create/update/patch/
//! delete over the object store, Status errors, Table output and injected faults.
//!
//! Routing is done by hand from the path (one fallback handler) because the apiserver's URL
//! space (`/api/v1/namespaces/NS/pods/NAME/status`, `/apis/G/V/…`, legacy `/watch/` prefixes)
//! does not fit a static route table well.

mod apply;
mod auth;
mod deletion;
mod fields;
mod handlers;
mod listener;
mod logs;
mod openapi;
mod protobuf;
mod reviews;
mod scale;
mod services;
mod validate;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use tokio::sync::watch as signal;

use super::discovery;
use super::faults::{FaultHandle, Faults, forbidden};
use super::identity::Identity;
use super::kubeconfig::{self, Credentials};
use super::resources::{NODES, ResourceType, resource};
use super::status::ApiError;
use super::store::Store;

/// What the server reports about the cluster, and which faults it starts with.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub cluster_name: String,
    /// What `/version` reports, e.g. `v1.33.1`.
    pub kubernetes_version: String,
    pub faults: Faults,
    /// How often a watch with `allowWatchBookmarks` gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// CA, certificates and token; None makes new ones. Pass a stopped server's identity to
    /// restart "the same cluster" that its clients still trust.
    pub identity: Option<Arc<Identity>>,
    /// Serve plain HTTP (bearer token only) instead of HTTPS with client certificates.
    pub plain_http: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            cluster_name: "kind".into(),
            kubernetes_version: "v1.33.1".into(),
            faults: Faults::default(),
            bookmark_interval: Duration::from_secs(5),
            identity: None,
            plain_http: false,
        }
    }
}

/// A server running in the background; dropping it stops it (without waiting).
pub struct RunningServer {
    addr: SocketAddr,
    identity: Arc<Identity>,
    tls: bool,
    faults: FaultHandle,
    stop: signal::Sender<bool>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `https://127.0.0.1:PORT` (`http://` with `plain_http`).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
    /// The CA, certificates and token this server trusts (to restart it with the same ones).
    pub fn identity(&self) -> Arc<Identity> {
        self.identity.clone()
    }
    /// What a kubeconfig for this server carries (CA and client certificate, or the token).
    pub fn credentials(&self) -> Credentials {
        self.identity.credentials(self.tls)
    }
    /// A kubeconfig (YAML) for this server whose context is `kind-CLUSTER_NAME`.
    pub fn kubeconfig_yaml(&self, cluster_name: &str) -> String {
        kubeconfig::kubeconfig_yaml(cluster_name, &self.url(), &self.credentials())
    }
    /// The live faults; change them while the server runs.
    pub fn faults(&self) -> FaultHandle {
        self.faults.clone()
    }
    /// Stop accepting, end open watches, and wait for in-flight requests to finish.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        match self.task.take() {
            Some(t) => t.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub opts: ServerOptions,
    pub faults: FaultHandle,
    pub stop: signal::Receiver<bool>,
    pub addr: SocketAddr,
    pub identity: Arc<Identity>,
}

/// Serve `store` on 127.0.0.1:`port` (0 picks a free port), over HTTPS unless
/// `opts.plain_http`.
pub async fn spawn(
    store: Arc<Store>,
    opts: ServerOptions,
    port: u16,
) -> std::io::Result<RunningServer> {
    let identity = match &opts.identity {
        Some(id) => id.clone(),
        None => Identity::generate(&opts.cluster_name).map_err(std::io::Error::other)?,
    };
    let tls = !opts.plain_http;
    let server_config = if tls {
        Some(identity.server_config().map_err(std::io::Error::other)?)
    } else {
        None
    };
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = tcp.local_addr()?;
    let (stop_tx, stop_rx) = signal::channel(false);
    let faults = FaultHandle::new(opts.faults.clone());
    let state = Arc::new(AppState {
        store,
        opts,
        faults: faults.clone(),
        stop: stop_rx.clone(),
        addr,
        identity: identity.clone(),
    });
    let app = Router::new()
        .fallback(dispatch)
        .with_state(state)
        .into_make_service_with_connect_info::<listener::Peer>();
    let listener =
        listener::SimListener::new(tcp, server_config.map(|cfg| (cfg, identity.clone())));
    let mut stop = stop_rx;
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        identity,
        tls,
        faults,
        stop: stop_tx,
        task: Some(task),
    })
}

/// A JSON response with the given status.
pub(crate) fn json_bytes(code: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Append a value as compact JSON. Goes through `Value`'s Display impl, which is compiled
/// inside serde_json (optimised even in dev builds) rather than instantiated here: about
/// 3-4x faster for big lists in test builds, with identical bytes.
pub(crate) fn write_json(out: &mut Vec<u8>, v: &Value) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v}");
}

pub(crate) fn json_value(code: StatusCode, v: &Value) -> Response {
    json_bytes(code, v.to_string().into_bytes())
}

pub(crate) fn error_response(e: &ApiError) -> Response {
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_value(code, &e.to_status())
}

fn not_found_path() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// A request for objects of one type.
pub(crate) struct Target {
    pub rt: &'static ResourceType,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// Legacy `/watch/` path prefix.
    pub watch_prefix: bool,
}

enum Route {
    Version,
    Health,
    CoreVersions,
    Groups,
    Group(String),
    ResourceList(String, String),
    OpenApiRoot,
    OpenApiGv(String),
    NodeLease(String),
    /// A container's log: namespace, pod (`server/logs.rs`).
    PodLog(String, String),
    Review(&'static str),
    Objects(Target),
}

fn route(path: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    Ok(match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "readyz" | "livez"] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["openapi", "v3"] => Route::OpenApiRoot,
        ["openapi", "v3", gv @ ..] => Route::OpenApiGv(gv.join("/")),
        ["apis"] => Route::Groups,
        ["apis", g] => Route::Group(g.to_string()),
        ["api", v] => Route::ResourceList(String::new(), v.to_string()),
        ["apis", g, v] => Route::ResourceList(g.to_string(), v.to_string()),
        [
            "apis",
            "coordination.k8s.io",
            "v1",
            "namespaces",
            "kube-node-lease",
            "leases",
            node,
        ] => Route::NodeLease(node.to_string()),
        ["api", "v1", "namespaces", ns, "pods", name, "log"] => {
            Route::PodLog(ns.to_string(), name.to_string())
        }
        ["apis", g, v, plural] if reviews::review_kind(g, v, plural).is_some() => {
            Route::Review(reviews::review_kind(g, v, plural).unwrap_or_default())
        }
        ["api", v, rest @ ..] => Route::Objects(target("", v, rest)?),
        ["apis", g, v, rest @ ..] => Route::Objects(target(g, v, rest)?),
        _ => return Err(not_found_path()),
    })
}

fn target(group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let (watch_prefix, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let lookup = |plural: &str| {
        resource(group, plural)
            .filter(|rt| rt.version == version)
            .ok_or_else(not_found_path)
    };
    let owned = |s: &&str| s.to_string();
    let t = |rt, ns: Option<&&str>, name: Option<&&str>, sub: Option<&&str>| Target {
        rt,
        ns: ns.map(owned),
        name: name.map(owned),
        sub: sub.map(owned),
        watch_prefix,
    };
    let tgt = match rest {
        // The namespace object's own subresources: /api/v1/namespaces/NAME/status.
        ["namespaces", name, sub @ ("status" | "finalize")] if group.is_empty() => {
            t(lookup("namespaces")?, None, Some(name), Some(sub))
        }
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 2 => {
            let rt = lookup(plural)?;
            if !rt.namespaced {
                return Err(not_found_path());
            }
            t(rt, Some(ns), tail.first(), tail.get(1))
        }
        [plural, tail @ ..] if tail.len() <= 2 => {
            let rt = lookup(plural)?;
            if rt.namespaced && !tail.is_empty() {
                return Err(not_found_path());
            }
            t(rt, None, tail.first(), tail.get(1))
        }
        _ => return Err(not_found_path()),
    };
    let scale = tgt.sub.as_deref() == Some("scale") && scale::has_scale(tgt.rt);
    if tgt.sub.as_deref().is_some_and(|s| s != "status") && !scale {
        return Err(not_found_path());
    }
    Ok(tgt)
}

/// Query parameters, keeping the first value of each.
pub(crate) struct Params(Vec<(String, String)>);

fn params(req: &Request) -> Params {
    Params(
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(req.uri())
            .map(|q| q.0)
            .unwrap_or_default(),
    )
}

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// As Go's `strconv.ParseBool` reads it (the Python client sends `watch=True`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.get(key),
            Some("true" | "1" | "t" | "T" | "TRUE" | "True")
        )
    }
    pub fn dry_run(&self) -> bool {
        self.0.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }
}

fn verb(method: &Method, t: &Target, params: &Params) -> &'static str {
    let watching = t.watch_prefix || params.flag("watch");
    match *method {
        Method::GET if watching => "watch",
        Method::GET if t.name.is_some() => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "get",
    }
}

async fn dispatch(State(st): State<Arc<AppState>>, req: Request) -> Response {
    if let Some(refused) = auth::refusal(&st, &req) {
        return refused;
    }
    let faults = st.faults.get();
    if let Some(lat) = faults.latency {
        tokio::time::sleep(lat).await;
    }
    let path = req.uri().path().to_string();
    let r = match route(&path) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    let t = match r {
        Route::Version => {
            return json_value(
                StatusCode::OK,
                &discovery::version(&st.opts.kubernetes_version),
            );
        }
        Route::Health => {
            let mut r = Response::new(Body::from("ok"));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return r;
        }
        Route::CoreVersions => {
            return json_value(
                StatusCode::OK,
                &discovery::core_versions(&st.addr.to_string()),
            );
        }
        Route::Groups => return json_value(StatusCode::OK, &discovery::group_list()),
        Route::Group(g) => {
            return match discovery::group(&g) {
                Some(doc) => json_value(StatusCode::OK, &doc),
                None => error_response(&not_found_path()),
            };
        }
        Route::ResourceList(g, v) => {
            return match discovery::resource_list(&g, &v) {
                Some(doc) => json_value(StatusCode::OK, &doc),
                None => error_response(&not_found_path()),
            };
        }
        Route::OpenApiRoot => return openapi::root(),
        Route::OpenApiGv(gv) => return openapi::group_version(&gv, &params(&req), req.headers()),
        Route::NodeLease(node) => return node_lease(&st.store, &node),
        Route::PodLog(ns, name) => {
            return logs::serve(&st, &ns, &name, &params(&req));
        }
        Route::Review(kind) => return review(&faults, kind, req).await,
        Route::Objects(t) => t,
    };
    let params = params(&req);
    let method = req.method().clone();
    if faults.is_forbidden(t.rt) {
        let v = verb(&method, &t, &params);
        return error_response(&forbidden(t.rt, v, t.ns.as_deref(), t.name.as_deref()));
    }
    if let Some(rate) = faults.error_rate
        && st.faults.roll_error(rate)
    {
        return error_response(&ApiError::internal(
            "Internal error occurred: injected fault (error-rate)",
        ));
    }
    handlers::handle(&st, &faults, t, params, req).await
}

/// POST to a review endpoint (`kubectl auth can-i`, `auth whoami`).
async fn review(faults: &Faults, kind: &'static str, req: Request) -> Response {
    if req.method() != Method::POST {
        return error_response(&ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(e) => {
            return error_response(&ApiError::bad_request(format!(
                "could not read the request body: {e}"
            )));
        }
    };
    reviews::create(kind, faults, &content_type, &body).unwrap_or_else(|e| error_response(&e))
}

/// The kubelet's heartbeat Lease for a node, which `kubectl describe node` shows. Leases are
/// not stored (nor listed in discovery): each node's is made up from the node, renewed now.
fn node_lease(store: &Store, node: &str) -> Response {
    let lease = ResourceType {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        namespaced: true,
        short_names: &[],
        stored: false,
    };
    let Some(n) = store.get(&NODES, "", node) else {
        return error_response(&ApiError::not_found(&lease, node));
    };
    let now = kindscope_core::time::rfc3339(
        jiff::Timestamp::now(),
        kindscope_core::time::Precision::Micros,
    );
    json_value(
        StatusCode::OK,
        &serde_json::json!({
            "kind": "Lease",
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": {
                "name": node,
                "namespace": "kube-node-lease",
                "creationTimestamp": n["metadata"]["creationTimestamp"],
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node,
                                     "uid": n["metadata"]["uid"]}],
            },
            "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now},
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_resource_paths() {
        let obj = |p: &str| match route(p) {
            Ok(Route::Objects(t)) => (
                t.rt.plural,
                t.ns.unwrap_or_default(),
                t.name.unwrap_or_default(),
                t.sub.unwrap_or_default(),
                t.watch_prefix,
            ),
            _ => panic!("{p} is not an object route"),
        };
        assert_eq!(obj("/api/v1/pods").0, "pods");
        assert_eq!(
            obj("/api/v1/namespaces/d/pods/p/status"),
            ("pods", "d".into(), "p".into(), "status".into(), false)
        );
        assert_eq!(
            obj("/api/v1/namespaces/d"),
            ("namespaces", "".into(), "d".into(), "".into(), false)
        );
        assert_eq!(
            obj("/api/v1/namespaces/d/status"),
            ("namespaces", "".into(), "d".into(), "status".into(), false)
        );
        assert_eq!(
            obj("/apis/apps/v1/watch/namespaces/d/deployments"),
            ("deployments", "d".into(), "".into(), "".into(), true)
        );
        assert_eq!(obj("/api/v1/nodes/n1").2, "n1");
        assert!(matches!(
            route("/api/v1/namespaces/d/pods/p/log"),
            Ok(Route::PodLog(ns, p)) if ns == "d" && p == "p"
        ));
        assert!(matches!(
            route("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"),
            Ok(Route::NodeLease(n)) if n == "n1"
        ));
        assert!(
            matches!(route("/openapi/v3/apis/apps/v1"), Ok(Route::OpenApiGv(gv)) if gv == "apis/apps/v1")
        );
        for bad in [
            "/api/v1/widgets",
            "/api/v1/pods/p",
            "/api/v1/namespaces/d/nodes",
            "/apis/apps/v2/deployments",
            "/api/v1/namespaces/d/pods/p/exec",
            "/nope",
        ] {
            assert!(route(bad).is_err(), "{bad}");
        }
    }
}
