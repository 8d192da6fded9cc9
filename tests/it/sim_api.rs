//! The sim's HTTP API driven by a real kube-rs client over real HTTP. Watches, writes and
//! faults are in `sim_api/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event as KubeEvent, Namespace, Pod};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use kube::{Client, Error};
use serde_json::{Value, json};

use kindscope::sim::faults::Faults;
use kindscope::sim::server::{RunningServer, ServerOptions, spawn};
use kindscope::sim::store::{DEPLOYMENTS, EVENTS, NAMESPACES, PODS, Store};

const WAIT: Duration = Duration::from_secs(10);

fn opts(faults: Faults) -> ServerOptions {
    ServerOptions {
        cluster_name: "test".into(),
        kubernetes_version: "v1.33.1".into(),
        faults,
        bookmark_interval: Duration::from_millis(50),
        ..ServerOptions::default()
    }
}

/// A client built from the kubeconfig the server writes (HTTPS with its client certificate).
async fn client_for(server: &RunningServer) -> Client {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml("test")).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

async fn start_with(store: Arc<Store>, faults: Faults) -> (RunningServer, Client) {
    let server = spawn(store, opts(faults), 0).await.expect("server starts");
    let client = client_for(&server).await;
    (server, client)
}

async fn start(store: Arc<Store>) -> (RunningServer, Client) {
    start_with(store, Faults::default()).await
}

fn pod(name: &str, app: &str, node: &str, phase: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "nginx:1.27"}]},
        "status": {"phase": phase},
    })
}

fn deployment(name: &str, images: &[(&str, &str)]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .map(|(n, i)| json!({"name": n, "image": i}))
        .collect();
    json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": containers}}},
    })
}

/// A store with namespaces `default` and `other`, and `pods` pods in `default`.
fn populated(log_capacity: usize, pods: usize) -> Arc<Store> {
    let store = Store::with_log_capacity(1000, log_capacity);
    for ns in ["default", "other"] {
        store
            .create(&NAMESPACES, json!({"metadata": {"name": ns}}))
            .expect("namespace");
    }
    for i in 0..pods {
        let (app, node, phase) = match i % 3 {
            0 => ("web", "w1", "Running"),
            1 => ("api", "w2", "Pending"),
            _ => ("db", "w1", "Running"),
        };
        store
            .create(&PODS, pod(&format!("p{i:04}"), app, node, phase))
            .expect("pod");
    }
    store
}

fn api_error(e: Error) -> Box<kube::core::Status> {
    match e {
        Error::Api(s) => s,
        other => panic!("expected an API error Status, got {other:?}"),
    }
}

fn names<K: kube::Resource>(items: &[K]) -> Vec<String> {
    items
        .iter()
        .map(|o| o.meta().name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn list_paginates_consistently_and_filters_by_selectors() {
    let store = populated(1000, 25);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut rvs = Vec::new();
    loop {
        let mut lp = ListParams::default().limit(10);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = pods.list(&lp).await.expect("page");
        assert!(page.items.len() <= 10);
        rvs.push(page.metadata.resource_version.clone().expect("rv"));
        seen.extend(names(&page.items));
        // A change between pages must not disturb the pagination.
        store
            .create(
                &PODS,
                pod(&format!("zz{}", rvs.len()), "late", "w3", "Pending"),
            )
            .expect("create between pages");
        match page.metadata.continue_ {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    assert_eq!(rvs.len(), 3);
    assert!(
        rvs.iter().all(|rv| rv == &rvs[0]),
        "pages keep the first page's rv: {rvs:?}"
    );
    assert_eq!(
        &seen[..25],
        &(0..25).map(|i| format!("p{i:04}")).collect::<Vec<_>>()[..]
    );

    let count = |lp: ListParams| {
        let pods = pods.clone();
        async move { pods.list(&lp).await.expect("list").items.len() }
    };
    assert_eq!(count(ListParams::default().labels("app=web")).await, 9);
    assert_eq!(
        count(ListParams::default().labels("app in (web,db)")).await,
        17
    );
    assert_eq!(
        count(ListParams::default().labels("app notin (web,db),app!=late")).await,
        8
    );
    assert_eq!(
        count(ListParams::default().labels("app,!missing")).await,
        28
    );
    assert_eq!(
        count(ListParams::default().fields("spec.nodeName=w1")).await,
        17
    );
    assert_eq!(
        count(ListParams::default().fields("status.phase!=Running,spec.nodeName=w2")).await,
        8
    );
    assert_eq!(
        count(ListParams::default().fields("metadata.name=p0003")).await,
        1
    );
    let all: Api<Pod> = Api::all(client.clone());
    assert_eq!(
        all.list(&ListParams::default())
            .await
            .expect("all")
            .items
            .len(),
        28
    );
    let other: Api<Pod> = Api::namespaced(client.clone(), "other");
    assert!(
        other
            .list(&ListParams::default())
            .await
            .expect("other")
            .items
            .is_empty()
    );

    let bad = pods
        .list(&ListParams::default().fields("spec.foo=1"))
        .await
        .expect_err("unknown field");
    let s = api_error(bad);
    assert_eq!(
        (s.code, s.message.as_str()),
        (400, "field label not supported: spec.foo")
    );

    // Events by involved object, as `kubectl describe` asks for them.
    for (i, target) in ["p0000", "p0001", "p0000"].iter().enumerate() {
        store
            .create(
                &EVENTS,
                json!({"metadata": {"name": format!("{target}.{i}"), "namespace": "default"},
                       "involvedObject": {"kind": "Pod", "name": target, "namespace": "default"},
                       "reason": "Failed", "type": "Warning", "message": "Error: ErrImageNeverPull"}),
            )
            .expect("event");
    }
    let events: Api<KubeEvent> = Api::namespaced(client, "default");
    let evs = events
        .list(&ListParams::default().fields(
            "involvedObject.name=p0000,involvedObject.namespace=default,involvedObject.kind=Pod",
        ))
        .await
        .expect("events");
    assert_eq!(names(&evs.items), vec!["p0000.0", "p0000.2"]);
}

#[tokio::test]
async fn errors_are_status_objects_with_real_codes() {
    let store = populated(1000, 1);
    store
        .create(&DEPLOYMENTS, deployment("app", &[("main", "app:1")]))
        .expect("deployment");
    let (server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");

    let s = api_error(pods.get("missing").await.expect_err("404"));
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "pods \"missing\" not found");

    let existing: Pod =
        serde_json::from_value(pod("p0000", "web", "w1", "Running")).expect("typed");
    let s = api_error(
        pods.create(&PostParams::default(), &existing)
            .await
            .expect_err("409"),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));

    let mut stale: Deployment =
        serde_json::from_value((*store.get(&DEPLOYMENTS, "default", "app").expect("d")).clone())
            .expect("typed");
    store
        .modify(&DEPLOYMENTS, "default", "app", None, |d| {
            d["spec"]["replicas"] = json!(2);
            Ok(())
        })
        .expect("concurrent edit");
    stale.spec.as_mut().expect("spec").replicas = Some(4);
    let s = api_error(
        deploys
            .replace("app", &PostParams::default(), &stale)
            .await
            .expect_err("409"),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));

    let req = http::Request::patch(format!(
        "{}/api/v1/namespaces/default/pods/p0000",
        server.url()
    ))
    .header("Content-Type", "application/yaml")
    .body(b"metadata: {}".to_vec())
    .expect("request");
    let s = api_error(client.request_text(req).await.expect_err("415"));
    assert_eq!((s.code, s.reason.as_str()), (415, "UnsupportedMediaType"));

    let req = http::Request::get(format!("{}/api/v1/widgets", server.url()))
        .body(Vec::new())
        .expect("request");
    let s = api_error(client.request_text(req).await.expect_err("404"));
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));

    let no_image: Deployment =
        serde_json::from_value(deployment("broken", &[("main", "")])).expect("typed");
    let s = api_error(
        deploys
            .create(&PostParams::default(), &no_image)
            .await
            .expect_err("422"),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        s.message,
        "Deployment.apps \"broken\" is invalid: spec.template.spec.containers[0].image: Required value"
    );

    // generateName, and a namespace that does not exist.
    let mut gen_pod = pod("", "web", "w1", "Pending");
    gen_pod["metadata"] = json!({"generateName": "gen-"});
    let created = pods
        .create(
            &PostParams::default(),
            &serde_json::from_value(gen_pod).expect("typed"),
        )
        .await
        .expect("generateName");
    assert!(created.metadata.name.expect("name").starts_with("gen-"));
    let nowhere: Api<Pod> = Api::namespaced(client.clone(), "nowhere");
    let mut elsewhere = existing.clone();
    elsewhere.metadata.namespace = None;
    let s = api_error(
        nowhere
            .create(&PostParams::default(), &elsewhere)
            .await
            .expect_err("404"),
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "namespaces \"nowhere\" not found")
    );
    let s = api_error(
        nowhere
            .create(&PostParams::default(), &existing)
            .await
            .expect_err("400"),
    );
    assert_eq!(
        s.code, 400,
        "a body namespace that differs from the URL's is refused"
    );

    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.git_version, "v1.33.1");
    let nss: Api<Namespace> = Api::all(client);
    assert_eq!(
        nss.list(&ListParams::default())
            .await
            .expect("ns")
            .items
            .len(),
        2
    );
}

#[tokio::test]
async fn get_answers_tables_for_kubectl() {
    let store = populated(1000, 2);
    let (server, client) = start(store).await;
    let req = http::Request::get(format!("{}/api/v1/pods", server.url()))
        .header(
            "Accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        )
        .body(Vec::new())
        .expect("request");
    let table: Value = client.request(req).await.expect("table");
    assert_eq!(table["kind"], "Table");
    let cols: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .filter(|c| c["priority"] == 0)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(cols, vec!["Name", "Ready", "Status", "Restarts", "Age"]);
    assert_eq!(table["rows"][1]["cells"][0], "p0001");
    assert_eq!(table["rows"][1]["cells"][2], "Pending");
    assert_eq!(
        table["rows"][1]["object"]["metadata"]["namespace"],
        "default"
    );
}

#[tokio::test]
async fn listing_five_thousand_pods_is_fast() {
    let store = populated(1000, 5000);
    let (_server, client) = start(store).await;
    let pods: Api<Pod> = Api::all(client);
    let t0 = Instant::now();
    let list = pods.list(&ListParams::default()).await.expect("list");
    let took = t0.elapsed();
    assert_eq!(list.items.len(), 5000);
    // Printed, not bounded (a busy machine would fail a bound, not the code); the figures of
    // record come from bench/run.sh (docs/performance.md).
    eprintln!("listing 5000 pods (incl. client decoding) took {took:?}");
}

#[path = "sim_api/faults.rs"]
mod faults;
#[path = "sim_api/paging.rs"]
mod paging;
#[path = "sim_api/watch.rs"]
mod watch;
#[path = "sim_api/writes.rs"]
mod writes;
