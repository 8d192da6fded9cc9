//! The one-shot read behind `kindscope diagnose` and `check` (`cluster::oneshot`) against the
//! feed's first complete snapshot, over real HTTP to the sim, with paging forced by small
//! pages: the same snapshot (every list, node images, per-resource states) and the same
//! report, on several scenarios, with a namespace filter, and with a forbidden resource.
//!
//! Both read a frozen copy of a settled sim (its objects served without controllers), so the
//! two reads see the same cluster whatever the timing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kindscope::cli::ConnectArgs;
use kindscope::cluster::connect::{self, Connection};
use kindscope::cluster::oneshot;
use kindscope::cluster::watch::{self, Events};
use kindscope::model::{ResourceState, Snapshot};
use kindscope::sim::faults::Faults;
use kindscope::sim::resources::{DEPLOYMENTS, EVENTS, NAMESPACES, NODES, PODS, REPLICASETS};
use kindscope::sim::server::{self, RunningServer, ServerOptions};
use kindscope::sim::store::Store;

use crate::support::feed::{scenario_sim, until_within};

const SETTLE: Duration = Duration::from_secs(90);
const READY: Duration = Duration::from_secs(15);
/// Small enough that every list of these scenarios comes in several pages.
const PAGE: u32 = 2;

/// A settled sim's objects, served by a server of their own without controllers.
struct Frozen {
    server: RunningServer,
    name: String,
    dir: tempfile::TempDir,
}

impl Frozen {
    async fn of(file: &str, faults: Faults) -> Frozen {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/scenarios")
            .join(file);
        let (sim, live, _live_dir) = scenario_sim(&path).await;
        let feed = watch::start_keeping(&live, Events::Evidence);
        let mut rx = feed.snapshots();
        until_within(&mut rx, SETTLE, "a settled cluster", |s| {
            !s.pods.is_empty()
                && s.resources.values().all(|r| *r == ResourceState::Live)
                && kindscope::diagnose::report(s).pending.is_empty()
        })
        .await;
        drop(feed);
        let store = Store::new(0);
        for rt in [
            &NAMESPACES,
            &NODES,
            &DEPLOYMENTS,
            &REPLICASETS,
            &PODS,
            &EVENTS,
        ] {
            for obj in sim.store.list(rt, None).0 {
                store.create(rt, (*obj).clone()).expect("copied");
            }
        }
        let name = sim.name().to_string();
        sim.shutdown().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let server = server::spawn(
            store,
            ServerOptions {
                cluster_name: name.clone(),
                faults,
                ..ServerOptions::default()
            },
            0,
        )
        .await
        .expect("frozen server");
        kindscope::sim::kubeconfig::write_kubeconfig(
            &dir.path().join("frozen"),
            &name,
            &server.url(),
            &server.credentials(),
        )
        .expect("kubeconfig");
        Frozen { server, name, dir }
    }

    async fn connect(&self, namespace: Option<&str>) -> Connection {
        connect_to(&self.dir.path().join("frozen"), namespace).await
    }
}

async fn connect_to(kubeconfig: &Path, namespace: Option<&str>) -> Connection {
    connect::connect(&ConnectArgs {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        namespace: namespace.map(str::to_string),
        ..ConnectArgs::default()
    })
    .await
    .expect("connects")
}

/// (the feed's first complete snapshot, the one-shot read) of one connection.
async fn both(conn: &Connection) -> (Arc<Snapshot>, Arc<Snapshot>) {
    let feed = watch::start_keeping(conn, Events::Evidence);
    let fed = feed.ready(READY).await.expect("the feed is ready");
    drop(feed);
    let once = oneshot::read_paged(conn, Events::Evidence, READY, PAGE)
        .await
        .expect("the one-shot read");
    (fed, once)
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("serialises")
}

fn assert_same(fed: &Snapshot, once: &Snapshot, what: &str) {
    assert!(
        fed.pods.len() > PAGE as usize,
        "{what}: paging was not forced"
    );
    assert_eq!(json(once), json(fed), "{what}: snapshots differ");
    assert_eq!(
        json(&kindscope::diagnose::report(once)),
        json(&kindscope::diagnose::report(fed)),
        "{what}: reports differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_shot_read_is_the_feeds_first_snapshot_on_every_kind_of_scenario() {
    for file in [
        "gateway-debug.yaml",
        "not-loaded.yaml",
        "tag-mismatch.yaml",
        "capped-node-images.yaml",
        "healthy.yaml",
    ] {
        let frozen = Frozen::of(file, Faults::default()).await;
        let conn = frozen.connect(None).await;
        let (fed, once) = both(&conn).await;
        assert_same(&fed, &once, file);
        if file == "gateway-debug.yaml" {
            assert!(
                !kindscope::diagnose::report(&once).findings.is_empty(),
                "the scenario has findings"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_filter_reads_the_same_namespace() {
    let frozen = Frozen::of("gateway-debug.yaml", Faults::default()).await;
    let all = frozen.connect(None).await;
    let (_, whole) = both(&all).await;
    let ns = whole
        .pods
        .iter()
        .filter_map(|p| p.metadata.namespace.clone())
        .find(|ns| ns != "kube-system")
        .expect("an application namespace");
    let conn = frozen.connect(Some(&ns)).await;
    let (fed, once) = both(&conn).await;
    assert_same(&fed, &once, &ns);
    assert!(
        once.pods
            .iter()
            .all(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
    );
    assert!(once.pods.len() < whole.pods.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_events_are_reported_and_forbidden_pods_are_the_feeds_error() {
    let faults = Faults::parse(&["forbid=events"]).expect("fault");
    let frozen = Frozen::of("gateway-debug.yaml", faults).await;
    let conn = frozen.connect(None).await;
    let (fed, once) = both(&conn).await;
    assert!(
        matches!(
            once.resources.get(&kindscope::model::Resource::Events),
            Some(ResourceState::Forbidden { .. })
        ),
        "{:?}",
        once.resources
    );
    assert!(once.events.is_empty());
    assert_same(&fed, &once, "events forbidden");

    frozen
        .server
        .faults()
        .set(Faults::parse(&["forbid=pods"]).expect("fault"));
    let feed = watch::start_keeping(&conn, Events::Evidence);
    let fed = feed
        .ready(READY)
        .await
        .map(|_| ())
        .expect_err("pods are required");
    let once = oneshot::read_paged(&conn, Events::Evidence, READY, PAGE)
        .await
        .map(|_| ())
        .expect_err("pods are required");
    assert_eq!(once.to_string(), fed.to_string());
    assert!(once.to_string().contains("may not list pods"), "{once}");
    let _ = &frozen.name;
}
