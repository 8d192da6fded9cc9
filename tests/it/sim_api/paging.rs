//! Paged lists over HTTP: every page shows the list at the first page's resourceVersion while
//! objects are created and deleted between the pages, or the answer is 410 Expired.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::{Client, Error};
use serde_json::json;

use kindscope::sim::store::{NAMESPACES, PODS};
use kindscope::sim::{RunningSim, SimOptions};

async fn sim_with_pods(n: usize) -> (RunningSim, Client, tempfile::TempDir) {
    let scenario = kindscope::sim::scenario::embedded_default();
    let sim = kindscope::sim::start(&scenario, SimOptions::default())
        .await
        .expect("sim");
    sim.store
        .create(&NAMESPACES, json!({"metadata": {"name": "paged"}}))
        .expect("namespace");
    for i in 0..n {
        create(&sim, &format!("p{i:03}"));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&path).expect("kubeconfig");
    let kc = kube::config::Kubeconfig::read_from(&path).expect("read kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = Client::try_from(cfg).expect("client");
    (sim, client, dir)
}

fn create(sim: &RunningSim, name: &str) {
    // Bound to a node that does not exist: no controller or kubelet touches it.
    sim.store
        .create(
            &PODS,
            json!({"metadata": {"name": name, "namespace": "paged"},
                   "spec": {"nodeName": "gone", "containers": [{"name": "c", "image": "busybox:1"}]}}),
        )
        .expect("pod");
}

fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

#[tokio::test]
async fn pages_union_is_the_list_at_the_first_pages_version() {
    let (sim, client, _dir) = sim_with_pods(60).await;
    let api: Api<Pod> = Api::namespaced(client, "paged");
    let at_start = names(&api.list(&ListParams::default()).await.expect("list").items);
    let mut seen = Vec::new();
    let mut lp = ListParams::default().limit(7);
    let mut versions = BTreeSet::new();
    let mut round = 0;
    loop {
        let page = api.list(&lp).await.expect("page");
        versions.insert(page.metadata.resource_version.clone());
        seen.extend(names(&page.items));
        let Some(token) = page.metadata.continue_.filter(|c| !c.is_empty()) else {
            break;
        };
        // Between pages: one created and one deleted on each side of the cursor.
        round += 1;
        create(&sim, &format!("p{:03}x", round * 7 + 3));
        create(&sim, &format!("a{round}"));
        let _ = sim
            .store
            .delete(&PODS, "paged", &format!("p{:03}", round * 7 + 4));
        let _ = sim.store.delete(&PODS, "paged", &format!("p{:03}", round));
        lp = ListParams::default().limit(7);
        lp.continue_token = Some(token);
    }
    assert!(round >= 8, "paged through {round} pages");
    assert_eq!(versions.len(), 1, "every page at the first page's version");
    assert_eq!(seen, at_start, "nothing lost, repeated or added");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_page_past_the_change_logs_reach_is_410_expired() {
    let (sim, client, _dir) = sim_with_pods(20).await;
    let api: Api<Pod> = Api::namespaced(client, "paged");
    let first = api
        .list(&ListParams::default().limit(5))
        .await
        .expect("page");
    // The log keeps only a millisecond of changes now: a change after the first page is
    // compacted by the next write, and the list at the first page's version is lost.
    sim.store.set_log_retention(Duration::from_millis(1));
    create(&sim, "later");
    tokio::time::sleep(Duration::from_millis(20)).await;
    create(&sim, "later-still");
    let mut lp = ListParams::default().limit(5);
    lp.continue_token = first.metadata.continue_;
    match api.list(&lp).await {
        Err(Error::Api(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"), "{s:?}");
            assert!(
                s.message.contains("continue parameter is too old"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 410 Expired, got {other:?}"),
    }
    sim.shutdown().await;
}
