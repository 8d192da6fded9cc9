//! The simulated controllers at scale: a generated cluster of a thousand pods settles (every
//! pod running or waiting for a reason that will not change by itself) on the sim's own clock.

use std::time::Duration;

use kindscope::sim::cluster::{populate, spawn_controllers};
use kindscope::sim::store::{PODS, Store};

/// Pods whose containers all run or wait with an image error (not still being created).
fn settled(store: &Store) -> (usize, usize) {
    let (pods, _) = store.list(&PODS, None);
    let done = pods
        .iter()
        .filter(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .is_some_and(|cs| {
                    cs.iter().all(|c| {
                        let r = c["state"]["waiting"]["reason"].as_str();
                        !matches!(r, Some("ContainerCreating" | "PodInitializing"))
                    })
                })
        })
        .count();
    (done, pods.len())
}

async fn synthetic_settles(spec: &str, want_pods: usize, limit: Duration) -> Duration {
    use kindscope::sim::synthetic::{SyntheticSpec, generate};
    let spec: SyntheticSpec = spec.parse().expect("spec");
    let store = Store::new(0);
    let started = tokio::time::Instant::now();
    let sim = populate(&store, &generate(&spec)).expect("populate");
    let ctl = spawn_controllers(store.clone(), sim, 100.0).expect("speed");
    let system = store.list(&PODS, Some("kube-system")).0.len()
        + store.list(&PODS, Some("local-path-storage")).0.len();
    loop {
        let (done, total) = settled(&store);
        if total == want_pods + system && done == total {
            break;
        }
        assert!(
            started.elapsed() < limit,
            "only {done}/{total} pods settled after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    // Broken pods keep their back-off timers; healthy ones are Running.
    let running = store
        .list(&PODS, None)
        .0
        .iter()
        .filter(|p| p["status"]["phase"] == "Running")
        .count();
    assert!(
        running * 10 >= want_pods * 7,
        "{running} of {want_pods} running"
    );
    ctl.stop().await;
    took
}

#[tokio::test(start_paused = true)]
async fn a_thousand_pods_settle_quickly() {
    synthetic_settles(
        "nodes=10,deployments=200,replicas=5,images-per-node=30,events=1000",
        1000,
        Duration::from_secs(30),
    )
    .await;
}
