//! The sim's HTTP API driven by a real kube-rs client over real HTTP.

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
    }
}

async fn start_with(store: Arc<Store>, faults: Faults) -> (RunningServer, Client) {
    let server = spawn(store, opts(faults), 0).await.expect("server starts");
    let cfg = kube::Config::new(server.url().parse().expect("url"));
    let client = Client::try_from(cfg).expect("client");
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
async fn watch_from_a_version_replays_then_streams_in_order() {
    let store = populated(1000, 3);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let list = pods.list(&ListParams::default()).await.expect("list");
    let rv = list.metadata.resource_version.expect("rv");

    // Changes after the list, before the watch: replayed from the log.
    store
        .create(&PODS, pod("new", "web", "w1", "Pending"))
        .expect("create");
    store
        .modify(&PODS, "default", "new", None, |p| {
            p["status"]["phase"] = json!("Running");
            Ok(())
        })
        .expect("modify");
    store.delete(&PODS, "default", "p0000").expect("delete");

    let mut stream = pods
        .watch(&WatchParams::default().disable_bookmarks(), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut next = async || {
        tokio::time::timeout(WAIT, stream.try_next())
            .await
            .expect("event in time")
            .expect("no error")
            .expect("stream open")
    };
    let describe = |e: WatchEvent<Pod>| match e {
        WatchEvent::Added(p) => format!("ADDED {}", p.metadata.name.unwrap_or_default()),
        WatchEvent::Modified(p) => format!(
            "MODIFIED {} {}",
            p.metadata.name.unwrap_or_default(),
            p.status.and_then(|s| s.phase).unwrap_or_default()
        ),
        WatchEvent::Deleted(p) => format!("DELETED {}", p.metadata.name.unwrap_or_default()),
        other => format!("{other:?}"),
    };
    assert_eq!(describe(next().await), "ADDED new");
    assert_eq!(describe(next().await), "MODIFIED new Running");
    assert_eq!(describe(next().await), "DELETED p0000");

    // A live change reaches the client quickly.
    let t0 = Instant::now();
    store
        .create(&PODS, pod("live", "web", "w1", "Pending"))
        .expect("create");
    assert_eq!(describe(next().await), "ADDED live");
    let latency = t0.elapsed();
    assert!(
        latency < Duration::from_millis(500),
        "watch latency {latency:?}"
    );
    // Other namespaces do not leak into a namespaced watch.
    store
        .create(
            &PODS,
            json!({"metadata": {"name": "elsewhere", "namespace": "other"}, "spec": {}}),
        )
        .expect("create");
    store.delete(&PODS, "default", "live").expect("delete");
    assert_eq!(describe(next().await), "DELETED live");
}

#[tokio::test]
async fn watch_with_selector_and_bookmarks() {
    let store = populated(1000, 3);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    // resourceVersion "0": every matching object as ADDED first.
    let mut stream = pods
        .watch(&WatchParams::default().labels("app=web"), "0")
        .await
        .expect("watch")
        .boxed();
    let mut events = Vec::new();
    let mut bookmark_rv = None;
    store
        .modify(&PODS, "default", "p0001", None, |p| {
            p["metadata"]["labels"]["app"] = json!("web");
            Ok(())
        })
        .expect("enter selection");
    store
        .modify(&PODS, "default", "p0000", None, |p| {
            p["metadata"]["labels"]["app"] = json!("gone");
            Ok(())
        })
        .expect("leave selection");
    let end_rv = store.resource_version().to_string();
    while bookmark_rv.as_deref() != Some(end_rv.as_str()) {
        let e = tokio::time::timeout(WAIT, stream.try_next())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open");
        match e {
            WatchEvent::Added(p) => {
                events.push(format!("ADDED {}", p.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Modified(p) => {
                events.push(format!("MODIFIED {}", p.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Deleted(p) => {
                events.push(format!("DELETED {}", p.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Bookmark(b) => bookmark_rv = Some(b.metadata.resource_version),
            WatchEvent::Error(s) => panic!("error event {s:?}"),
        }
    }
    assert_eq!(events, vec!["ADDED p0000", "ADDED p0001", "DELETED p0000"]);
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_410_and_a_relist_recovers() {
    let store = populated(3, 1);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let rv = pods
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    for i in 0..10 {
        store
            .create(&PODS, pod(&format!("n{i}"), "web", "w1", "Running"))
            .expect("create");
    }
    let mut stream = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(WAIT, stream.try_next())
        .await
        .expect("in time")
    {
        Ok(Some(WatchEvent::Error(s))) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
            assert!(
                s.message.starts_with("too old resource version"),
                "{}",
                s.message
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    // Relist, then watch from the fresh version.
    let list = pods.list(&ListParams::default()).await.expect("relist");
    assert_eq!(list.items.len(), 11);
    let rv = list.metadata.resource_version.expect("rv");
    let mut stream = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    store
        .create(&PODS, pod("after", "web", "w1", "Running"))
        .expect("create");
    loop {
        match tokio::time::timeout(WAIT, stream.try_next())
            .await
            .expect("in time")
        {
            Ok(Some(WatchEvent::Added(p))) => {
                assert_eq!(p.metadata.name.as_deref(), Some("after"));
                break;
            }
            Ok(Some(WatchEvent::Bookmark(_))) => continue,
            other => panic!("expected ADDED after, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn guarded_json_patch_applies_or_changes_nothing() {
    let store = populated(1000, 0);
    store
        .create(
            &DEPLOYMENTS,
            deployment("gw", &[("gw", "kubernaut/gateway:debug")]),
        )
        .expect("deployment");
    let (_server, client) = start(store.clone()).await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let before = store.get(&DEPLOYMENTS, "default", "gw").expect("stored");

    let guarded = |expected: &str, new: &str| -> json_patch::Patch {
        serde_json::from_value(json!([
            {"op": "test", "path": "/spec/template/spec/containers/0/image", "value": expected},
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": new},
        ]))
        .expect("patch")
    };
    let err = deploys
        .patch(
            "gw",
            &PatchParams::default(),
            &Patch::Json::<()>(guarded("someone/else:1", "x:1")),
        )
        .await
        .expect_err("guard fails");
    let s = api_error(err);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let after = store.get(&DEPLOYMENTS, "default", "gw").expect("stored");
    assert_eq!(before, after, "a failed test op changes nothing");

    let patched = deploys
        .patch(
            "gw",
            &PatchParams::default(),
            &Patch::Json::<()>(guarded(
                "kubernaut/gateway:debug",
                "localhost/kubernaut/gateway:debug",
            )),
        )
        .await
        .expect("guard holds");
    let spec = patched.spec.expect("spec").template.spec.expect("pod spec");
    assert_eq!(
        spec.containers[0].image.as_deref(),
        Some("localhost/kubernaut/gateway:debug")
    );
    assert_eq!(patched.metadata.generation, Some(2));
    let stored = store.get(&DEPLOYMENTS, "default", "gw").expect("stored");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["image"],
        "localhost/kubernaut/gateway:debug"
    );
}

#[tokio::test]
async fn merge_and_strategic_patches() {
    let store = populated(1000, 0);
    store
        .create(
            &DEPLOYMENTS,
            deployment("app", &[("main", "app:1"), ("side", "side:1")]),
        )
        .expect("deployment");
    let (_server, client) = start(store.clone()).await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");

    // What `kubectl set image deployment/app side=side:2` sends.
    let set_image = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "main"}, {"name": "side"}],
        "containers": [{"image": "side:2", "name": "side"}]}}}});
    let d = deploys
        .patch("app", &PatchParams::default(), &Patch::Strategic(set_image))
        .await
        .expect("strategic");
    let cs = d
        .spec
        .expect("spec")
        .template
        .spec
        .expect("pod spec")
        .containers;
    assert_eq!(
        cs.iter()
            .map(|c| (c.name.as_str(), c.image.as_deref().unwrap_or("")))
            .collect::<Vec<_>>(),
        vec![("main", "app:1"), ("side", "side:2")]
    );

    let merge = json!({"metadata": {"labels": {"team": "gw"}}, "spec": {"replicas": 3}});
    let d = deploys
        .patch("app", &PatchParams::default(), &Patch::Merge(merge))
        .await
        .expect("merge");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(d.metadata.labels.expect("labels")["team"], "gw");
    // A status change through the main resource is ignored, as the apiserver does.
    let d = deploys
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}})),
        )
        .await
        .expect("merge status");
    assert_eq!(d.status.and_then(|s| s.replicas), None);
    let d = deploys
        .patch_status(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}})),
        )
        .await
        .expect("status subresource");
    assert_eq!(d.status.and_then(|s| s.replicas), Some(7));
}

#[tokio::test]
async fn dry_run_answers_without_storing() {
    let store = populated(1000, 1);
    store
        .create(&DEPLOYMENTS, deployment("app", &[("main", "app:1")]))
        .expect("deployment");
    let (_server, client) = start(store.clone()).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let rv = store.resource_version();
    let before = store.get(&DEPLOYMENTS, "default", "app").expect("stored");

    let dry = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let d = deploys
        .patch("app", &dry, &Patch::Merge(json!({"spec": {"replicas": 5}})))
        .await
        .expect("dry patch");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(5));

    let new: Deployment =
        serde_json::from_value(deployment("fresh", &[("main", "app:1")])).expect("typed");
    let created = deploys
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &new,
        )
        .await
        .expect("dry create");
    assert_eq!(created.metadata.name.as_deref(), Some("fresh"));
    assert!(created.metadata.uid.is_some());

    let mut replaced: Deployment = serde_json::from_value((*before).clone()).expect("typed");
    replaced.spec.as_mut().expect("spec").replicas = Some(9);
    deploys
        .replace(
            "app",
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &replaced,
        )
        .await
        .expect("dry replace");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    pods.delete("p0000", &DeleteParams::default().dry_run())
        .await
        .expect("dry delete");

    assert_eq!(store.resource_version(), rv, "nothing was written");
    assert_eq!(
        store.get(&DEPLOYMENTS, "default", "app").expect("stored"),
        before
    );
    assert!(store.get(&DEPLOYMENTS, "default", "fresh").is_none());
    assert!(store.get(&PODS, "default", "p0000").is_some());
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
    eprintln!("listing 5000 pods (incl. client decoding) took {took:?}");
    // Generous for unoptimised test builds on a busy machine; see the benchmark for figures.
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn runtime_watcher_sees_initial_state_and_changes() {
    let store = populated(1000, 3);
    // Watches are dropped every 300ms: the watcher must reconnect without losing changes.
    let faults = Faults::parse(&["drop-watch=300ms"]).expect("faults");
    let (_server, client) = start_with(store.clone(), faults).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut stream = watcher(pods, watcher::Config::default()).boxed();
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
        {
            Some(Ok(watcher::Event::InitApply(p))) => {
                initial.push(p.metadata.name.unwrap_or_default())
            }
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, vec!["p0000", "p0001", "p0002"]);
    let store2 = store.clone();
    let writer = tokio::spawn(async move {
        for i in 0..4 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            store2
                .create(&PODS, pod(&format!("w{i}"), "web", "w1", "Running"))
                .expect("create");
        }
        store2.delete(&PODS, "default", "p0000").expect("delete");
    });
    let mut applied = Vec::new();
    let mut deleted = false;
    while !(deleted && applied.len() == 4) {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
        {
            Some(Ok(watcher::Event::Apply(p))) => {
                let name = p.metadata.name.unwrap_or_default();
                if !applied.contains(&name) {
                    applied.push(name);
                }
            }
            Some(Ok(watcher::Event::Delete(p))) => {
                assert_eq!(p.metadata.name.as_deref(), Some("p0000"));
                deleted = true;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("watcher error {e}"),
            None => panic!("watcher ended"),
        }
    }
    assert_eq!(applied, vec!["w0", "w1", "w2", "w3"]);
    writer.await.expect("writer");
}

#[tokio::test]
async fn faults_forbid_delay_fail_and_break_watches() {
    let store = populated(1000, 2);
    let (server, client) = start(store.clone()).await;
    let faults = server.faults();
    let events: Api<KubeEvent> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    faults.set(Faults::parse(&["forbid=events"]).expect("spec"));
    let s = api_error(events.list(&ListParams::default()).await.expect_err("403"));
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "events is forbidden: User \"kind-user\" cannot list resource \"events\" in API group \"\" at the cluster scope"
    );
    assert_eq!(
        pods.list(&ListParams::default())
            .await
            .expect("pods unaffected")
            .items
            .len(),
        2
    );

    faults.set(Faults::parse(&["latency=200ms"]).expect("spec"));
    let t0 = Instant::now();
    pods.get("p0000").await.expect("get");
    assert!(t0.elapsed() >= Duration::from_millis(200));

    faults.set(Faults::parse(&["error-rate=1"]).expect("spec"));
    let s = api_error(pods.get("p0000").await.expect_err("500"));
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    faults.set(Faults::parse(&["error-rate=0.5"]).expect("spec"));
    let mut failures = 0;
    for _ in 0..40 {
        if pods.get("p0000").await.is_err() {
            failures += 1;
        }
    }
    assert!((5..35).contains(&failures), "{failures} of 40 failed");

    faults.set(Faults::parse(&["watch-410"]).expect("spec"));
    let mut stream = pods
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(WAIT, stream.try_next())
        .await
        .expect("in time")
    {
        Ok(Some(WatchEvent::Error(s))) => assert_eq!(s.code, 410),
        other => panic!("expected 410, got {other:?}"),
    }

    faults.set(Faults::parse(&["drop-watch=200ms"]).expect("spec"));
    let t0 = Instant::now();
    let mut stream = pods
        .watch(&WatchParams::default().disable_bookmarks(), "0")
        .await
        .expect("watch")
        .boxed();
    let mut added = 0;
    while let Some(e) = tokio::time::timeout(WAIT, stream.try_next())
        .await
        .expect("ends in time")
        .expect("no error")
    {
        assert!(matches!(e, WatchEvent::Added(_)));
        added += 1;
    }
    assert_eq!(added, 2);
    assert!(t0.elapsed() < Duration::from_secs(5));

    faults.set(Faults::default());
    assert!(events.list(&ListParams::default()).await.is_ok());
    server.shutdown().await.expect("clean shutdown");
}
