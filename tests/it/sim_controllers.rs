//! In-process: the gateway-debug scenario through the controllers (no HTTP), from
//! ErrImageNeverPull to a fixed rollout.
//!
//! The controllers run on tokio timers (the sim's `Clock` reads `tokio::time::Instant`), so
//! these tests run on paused time: the runtime jumps to the next timer whenever every task
//! waits, every bound below is simulated time, and a busy machine cannot change the outcome.

use std::sync::Arc;
use std::time::Duration;

use kindscope::sim::clock::Clock;
use kindscope::sim::cluster::{Sim, populate, spawn_controllers};
use kindscope::sim::scenario::{self, embedded_default};
use kindscope::sim::store::{DEPLOYMENTS, EVENTS, NODES, PODS, REPLICASETS, Store};
use serde_json::{Value, json};

/// Wait until `check` returns Some, re-checking on every store change (no polling loop).
async fn wait_for<T>(
    store: &Store,
    what: &str,
    limit: Duration,
    check: impl Fn(&Store) -> Option<T>,
) -> T {
    let mut rx = store.subscribe();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check(store) {
            return v;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(_) => {}
            Err(_) => {
                if let Some(v) = check(store) {
                    return v;
                }
                panic!("timed out after {limit:?} waiting for {what}");
            }
        }
    }
}

fn pods_of(store: &Store, app: &str) -> Vec<Arc<Value>> {
    store
        .list(&PODS, Some("default"))
        .0
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["app"] == app)
        .collect()
}

fn waiting(pod: &Value) -> Option<(String, String)> {
    let w = &pod["status"]["containerStatuses"][0]["state"]["waiting"];
    Some((
        w["reason"].as_str()?.to_string(),
        w["message"].as_str().unwrap_or("").to_string(),
    ))
}

fn events_of(store: &Store, pod: &Value) -> Vec<Arc<Value>> {
    store
        .list(&EVENTS, Some("default"))
        .0
        .into_iter()
        .filter(|e| e["involvedObject"]["uid"] == pod["metadata"]["uid"])
        .collect()
}

async fn start(speed: f64) -> (Arc<Store>, Arc<Sim>, kindscope::sim::cluster::Controllers) {
    let store = Store::new(0);
    let sim = populate(&store, &embedded_default()).expect("populate");
    let ctl = spawn_controllers(store.clone(), sim.clone(), speed).expect("speed");
    (store, sim, ctl)
}

#[tokio::test(start_paused = true)]
async fn gateway_debug_never_pull_then_fixed_rollout() {
    let (store, sim, ctl) = start(50.0).await;
    // Kind's own pods are Running from the start.
    let (system, _) = store.list(&PODS, Some("kube-system"));
    assert!(
        system
            .iter()
            .any(|p| p["metadata"]["name"] == "etcd-gateway-debug-control-plane")
    );
    assert!(system.iter().all(|p| p["status"]["phase"] == "Running"));
    let never =
        "Container image \"kubernaut/datastorage:debug\" is not present with pull policy of Never";
    let pod = wait_for(
        &store,
        "datastorage in ErrImageNeverPull",
        Duration::from_secs(10),
        |s| {
            pods_of(s, "datastorage")
                .into_iter()
                .find(|p| waiting(p).is_some_and(|(r, _)| r == "ErrImageNeverPull"))
        },
    )
    .await;
    assert_eq!(waiting(&pod).map(|w| w.1).as_deref(), Some(never));
    assert_eq!(
        pod["spec"]["nodeName"], "gateway-debug-worker",
        "the control plane is tainted"
    );
    assert_eq!(pod["status"]["phase"], "Pending");
    let old_name = pod["metadata"]["name"].as_str().expect("name").to_string();
    let evs = wait_for(
        &store,
        "the kubelet's events",
        Duration::from_secs(5),
        |s| {
            let evs = events_of(s, &pod);
            evs.iter()
                .any(|e| e["message"] == "Error: ErrImageNeverPull")
                .then_some(evs)
        },
    )
    .await;
    let never_ev = evs
        .iter()
        .find(|e| e["reason"] == "ErrImageNeverPull")
        .expect("ErrImageNeverPull event");
    assert_eq!(never_ev["type"], "Warning");
    assert_eq!(never_ev["message"], never);
    assert_eq!(
        never_ev["source"],
        json!({"component": "kubelet", "host": "gateway-debug-worker"})
    );
    assert_eq!(
        never_ev["involvedObject"]["fieldPath"],
        "spec.containers{datastorage}"
    );
    assert_eq!(never_ev["involvedObject"]["kind"], "Pod");
    let failed = evs
        .iter()
        .find(|e| e["reason"] == "Failed")
        .expect("Failed event");
    assert_eq!(
        (failed["type"].as_str(), failed["message"].as_str()),
        (Some("Warning"), Some("Error: ErrImageNeverPull"))
    );
    let scheduled = evs
        .iter()
        .find(|e| e["reason"] == "Scheduled")
        .expect("Scheduled event");
    assert_eq!(
        scheduled["message"],
        format!("Successfully assigned default/{old_name} to gateway-debug-worker")
    );
    // gateway too, and postgres is pulled from the registry and runs.
    wait_for(
        &store,
        "gateway in ErrImageNeverPull",
        Duration::from_secs(5),
        |s| {
            pods_of(s, "gateway")
                .into_iter()
                .find(|p| waiting(p).is_some_and(|(r, _)| r == "ErrImageNeverPull"))
        },
    )
    .await;
    let pg = wait_for(&store, "postgres Running", Duration::from_secs(10), |s| {
        pods_of(s, "postgres")
            .into_iter()
            .find(|p| p["status"]["phase"] == "Running")
    })
    .await;
    assert_eq!(
        pg["status"]["containerStatuses"][0]["image"],
        "docker.io/library/postgres:16"
    );
    assert!(
        pg["status"]["containerStatuses"][0]["imageID"]
            .as_str()
            .is_some_and(|i| i.starts_with("docker.io/library/postgres@sha256:"))
    );
    let pulled = events_of(&store, &pg);
    assert!(
        pulled
            .iter()
            .any(|e| e["reason"] == "Pulling" && e["message"] == "Pulling image \"postgres:16\"")
    );
    assert!(pulled.iter().any(|e| {
        e["reason"] == "Pulled"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Successfully pulled image \"postgres:16\" in "))
    }));
    let worker_images = sim.node_images("gateway-debug-worker").expect("worker");
    assert!(
        worker_images.iter().any(|i| i
            .repo_tags
            .iter()
            .any(|t| t == "docker.io/library/postgres:16")),
        "pulled image joins the node"
    );
    let node = store.get(&NODES, "", "gateway-debug-worker").expect("node");
    assert!(
        node["status"]["images"]
            .to_string()
            .contains("docker.io/library/postgres:16")
    );

    // The fix: the exact name the node holds.
    store
        .modify(&DEPLOYMENTS, "default", "datastorage", None, |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] =
                json!("localhost/kubernaut/datastorage:debug");
            Ok(())
        })
        .expect("patch");
    let running = wait_for(
        &store,
        "the new pod Running and the old one gone",
        Duration::from_secs(10),
        |s| {
            let pods = pods_of(s, "datastorage");
            (pods.len() == 1
                && pods[0]["status"]["phase"] == "Running"
                && pods[0]["metadata"]["name"] != old_name.as_str())
            .then(|| pods[0].clone())
        },
    )
    .await;
    let cs = &running["status"]["containerStatuses"][0];
    assert_eq!(cs["image"], "localhost/kubernaut/datastorage:debug");
    assert_eq!(cs["ready"], true);
    // A `kind load`ed image: the kubelet reports the import name kind's import added beside
    // the archive's name as its image ID, as on real kind nodes (docs/findings.md).
    assert!(
        cs["imageID"]
            .as_str()
            .is_some_and(|i| i.starts_with("docker.io/library/import-2025-05-21@sha256:")),
        "{cs}"
    );
    assert!(
        running["status"]["podIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.244.1."))
    );
    let (rss, _) = store.list(&REPLICASETS, Some("default"));
    let ds_rs: Vec<&Arc<Value>> = rss
        .iter()
        .filter(|r| r["metadata"]["labels"]["app"] == "datastorage")
        .collect();
    assert_eq!(ds_rs.len(), 2, "old ReplicaSet kept for history");
    let new_rs = ds_rs
        .iter()
        .find(|r| r["spec"]["replicas"] == 1)
        .expect("new rs");
    assert_eq!(
        running["metadata"]["labels"]["pod-template-hash"],
        new_rs["metadata"]["labels"]["pod-template-hash"]
    );
    assert_eq!(
        new_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let d = wait_for(
        &store,
        "deployment status complete",
        Duration::from_secs(5),
        |s| {
            let d = s.get(&DEPLOYMENTS, "default", "datastorage")?;
            (d["status"]["availableReplicas"] == 1 && d["status"]["replicas"] == 1).then_some(d)
        },
    )
    .await;
    assert_eq!(d["status"]["updatedReplicas"], 1);
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    let progressing = d["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == "Progressing")
        .cloned()
        .expect("Progressing");
    assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
    let scaled: Vec<String> = store
        .list(&EVENTS, Some("default"))
        .0
        .iter()
        .filter(|e| {
            e["involvedObject"]["name"] == "datastorage" && e["reason"] == "ScalingReplicaSet"
        })
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    assert!(
        scaled
            .iter()
            .any(|m| m.starts_with("Scaled down replica set datastorage-")
                && m.ends_with(" from 1 to 0")),
        "{scaled:?}"
    );
    ctl.stop().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_a_deployment_collects_its_replicasets_and_pods() {
    let (store, _sim, ctl) = start(50.0).await;
    wait_for(&store, "gateway pod", Duration::from_secs(10), |s| {
        pods_of(s, "gateway").first().cloned()
    })
    .await;
    store
        .delete(&DEPLOYMENTS, "default", "gateway")
        .expect("delete");
    wait_for(
        &store,
        "gateway objects gone",
        Duration::from_secs(10),
        |s| {
            let rs_left = s
                .list(&REPLICASETS, Some("default"))
                .0
                .iter()
                .any(|r| r["metadata"]["labels"]["app"] == "gateway");
            (!rs_left && pods_of(s, "gateway").is_empty()).then_some(())
        },
    )
    .await;
    ctl.stop().await;
}

#[tokio::test(start_paused = true)]
async fn image_pull_backoff_grows_and_never_busy_loops() {
    let text = "kind: Scenario\nname: pull\nnodes:\n  - {name: pull-control-plane, role: control-plane}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: gw}\nspec:\n  containers: [{name: gw, image: kubernaut/gateway:debug}]\n";
    let s = scenario::parse(text, "inline").expect("scenario");
    let store = Store::new(0);
    let sim = populate(&store, &s).expect("populate");
    let ctl = spawn_controllers(store.clone(), sim, 20.0).expect("speed");
    let pod = wait_for(&store, "ImagePullBackOff", Duration::from_secs(10), |s| {
        s.get(&PODS, "default", "gw")
            .filter(|p| waiting(p).is_some_and(|(r, _)| r == "ImagePullBackOff"))
    })
    .await;
    let (_, msg) = waiting(&pod).expect("waiting");
    assert!(msg.starts_with("Back-off pulling image \"kubernaut/gateway:debug\": ErrImagePull: rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/kubernaut/gateway:debug\""), "{msg}");
    // Second pull after the 10 s back-off (0.5 s real): the Pulling event's count goes to 2.
    wait_for(&store, "a second pull", Duration::from_secs(5), |s| {
        events_of(s, &pod)
            .into_iter()
            .find(|e| e["reason"] == "Pulling" && e["count"] == 2)
    })
    .await;
    let evs = events_of(&store, &pod);
    let reasons: Vec<(&str, &str)> = evs
        .iter()
        .filter_map(|e| Some((e["reason"].as_str()?, e["message"].as_str()?)))
        .collect();
    assert!(
        reasons.contains(&("Failed", "Error: ErrImagePull")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("Failed", "Error: ImagePullBackOff")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&(
            "BackOff",
            "Back-off pulling image \"kubernaut/gateway:debug\""
        )),
        "{reasons:?}"
    );
    // Quiet between retries: the next pull is 20 s away (1 s at speed 20), so in 400 ms only
    // the back-off report may change anything; a busy loop would write hundreds of times.
    let mut rx = store.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(400);
    let mut changes = 0;
    while let Ok(Ok(c)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        assert!(
            !(c.object["reason"] == "Pulling" && c.object["count"] == 3),
            "the third pull began before its back-off ended"
        );
        changes += 1;
    }
    assert!(
        changes < 10,
        "{changes} changes while waiting for a back-off"
    );
    ctl.stop().await;
}

/// (namespace, app label, waiting reason or `Running`).
type Expect = (&'static str, &'static str, &'static str);

/// Every shipped scenario tells the story its header promises.
#[tokio::test(start_paused = true)]
async fn shipped_scenarios_show_their_waiting_reasons() {
    let rows: &[(&str, &[Expect])] = &[
        (
            "gateway-debug",
            &[
                ("default", "datastorage", "ErrImageNeverPull"),
                ("default", "gateway", "ErrImageNeverPull"),
                ("default", "postgres", "Running"),
            ],
        ),
        ("registry-prefix", &[("default", "api", "ImagePullBackOff")]),
        (
            "tag-mismatch",
            &[
                ("default", "worker", "ImagePullBackOff"),
                ("default", "web", "ImagePullBackOff"),
            ],
        ),
        ("not-on-node", &[("default", "batch", "ErrImageNeverPull")]),
        ("pull-policy", &[("default", "tools", "ImagePullBackOff")]),
        ("not-loaded", &[("reports", "report", "ErrImageNeverPull")]),
        (
            "invalid-reference",
            &[
                ("default", "frontend", "InvalidImageName"),
                ("default", "typo", "InvalidImageName"),
            ],
        ),
        (
            "healthy",
            &[
                ("shop", "cart", "Running"),
                ("shop", "redis", "Running"),
                ("shop", "catalog", "Running"),
            ],
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    for (file, expect) in rows {
        let s = scenario::load_file(&dir.join(format!("{file}.yaml"))).expect("scenario");
        let store = Store::new(0);
        let sim = populate(&store, &s).expect("populate");
        let ctl = spawn_controllers(store.clone(), sim, 100.0).expect("speed");
        for (ns, app, reason) in expect.iter() {
            let what = format!("{file}: {ns}/{app} {reason}");
            let pods = wait_for(&store, &what, Duration::from_secs(10), |st| {
                let pods: Vec<Arc<Value>> = st
                    .list(&PODS, Some(ns))
                    .0
                    .into_iter()
                    .filter(|p| p["metadata"]["labels"]["app"] == *app)
                    .collect();
                let ok = !pods.is_empty()
                    && pods.iter().all(|p| {
                        if *reason == "Running" {
                            p["status"]["phase"] == "Running"
                        } else {
                            waiting(p).is_some_and(|(r, _)| r == *reason)
                        }
                    });
                ok.then_some(pods)
            })
            .await;
            if *file == "not-on-node" {
                assert_eq!(pods[0]["spec"]["nodeName"], "nodes-worker2");
            }
            if *file == "healthy" && *app == "cart" {
                let nodes: std::collections::BTreeSet<&str> = pods
                    .iter()
                    .filter_map(|p| p["spec"]["nodeName"].as_str())
                    .collect();
                assert_eq!(nodes.len(), 2, "replicas spread over both workers");
                assert_eq!(
                    pods[0]["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"],
                    "Completed"
                );
            }
        }
        ctl.stop().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_stuck_rollout_exceeds_its_progress_deadline() {
    let text = "kind: Scenario\nname: stuck\nnodes:\n  - {name: stuck-control-plane, role: control-plane}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  progressDeadlineSeconds: 60\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers: [{name: app, image: kubernaut/app:debug, imagePullPolicy: Never}]\n";
    let s = scenario::parse(text, "inline").expect("scenario");
    let store = Store::new(0);
    let sim = populate(&store, &s).expect("populate");
    // Taken before the controllers start, so the deadline (set by them) is at least 60 s
    // simulated away from it. The same arithmetic as the sim's, so no rounding between them.
    let started = tokio::time::Instant::now();
    let progress_deadline = Clock::new(100.0)
        .expect("speed")
        .real(Duration::from_secs(60));
    let ctl = spawn_controllers(store.clone(), sim, 100.0).expect("speed");
    // Not before the deadline: still progressing when stuck.
    wait_for(
        &store,
        "app in ErrImageNeverPull",
        Duration::from_secs(5),
        |s| {
            pods_of(s, "app")
                .into_iter()
                .find(|p| waiting(p).is_some_and(|(r, _)| r == "ErrImageNeverPull"))
        },
    )
    .await;
    let early = store
        .get(&DEPLOYMENTS, "default", "app")
        .expect("deployment");
    assert!(
        started.elapsed() < progress_deadline,
        "{:?}",
        started.elapsed()
    );
    assert!(
        !early["status"]
            .to_string()
            .contains("ProgressDeadlineExceeded"),
        "{early}"
    );
    let cond = wait_for(
        &store,
        "ProgressDeadlineExceeded",
        Duration::from_secs(8),
        |s| {
            let d = s.get(&DEPLOYMENTS, "default", "app")?;
            let c = d["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Progressing")?
                .clone();
            (c["reason"] == "ProgressDeadlineExceeded").then_some((d, c))
        },
    )
    .await;
    let (d, c) = cond;
    assert!(
        started.elapsed() >= progress_deadline,
        "too early: {:?}",
        started.elapsed()
    );
    assert_eq!(c["status"], "False");
    assert!(c["message"].as_str().is_some_and(
        |m| m.starts_with("ReplicaSet \"app-") && m.ends_with("\" has timed out progressing.")
    ));
    let avail = d["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Available"))
        .cloned()
        .expect("Available");
    assert_eq!(
        (avail["status"].as_str(), avail["reason"].as_str()),
        (Some("False"), Some("MinimumReplicasUnavailable"))
    );
    ctl.stop().await;
}

/// A stuck init container and a stuck container only wake the controllers at their retry
/// times: no spinning while waiting.
#[tokio::test(start_paused = true)]
async fn waiting_pods_do_not_spin() {
    let text = "kind: Scenario\nname: idle\nnodes:\n  - {name: idle-control-plane, role: control-plane}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: init}\nspec:\n  initContainers: [{name: i, image: kubernaut/init:debug, imagePullPolicy: Never}]\n  containers: [{name: c, image: kubernaut/app:debug, imagePullPolicy: Never}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: main}\nspec:\n  containers: [{name: c, image: kubernaut/app:debug, imagePullPolicy: Never}]\n";
    let s = scenario::parse(text, "inline").expect("scenario");
    let store = Store::new(0);
    let sim = populate(&store, &s).expect("populate");
    // Speed 1: the sandbox takes 0.5 s, the first retry comes 10 s later.
    let ctl = spawn_controllers(store.clone(), sim, 1.0).expect("speed");
    for name in ["init", "main"] {
        wait_for(&store, name, Duration::from_secs(5), |s| {
            s.get(&PODS, "default", name).filter(|p| {
                let key = if name == "init" {
                    "initContainerStatuses"
                } else {
                    "containerStatuses"
                };
                p["status"][key][0]["state"]["waiting"]["reason"] == "ErrImageNeverPull"
            })
        })
        .await;
    }
    let init = store.get(&PODS, "default", "init").expect("pod");
    assert_eq!(
        init["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    let before = ctl.work_done();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let spent = ctl.work_done() - before;
    assert!(spent < 20, "{spent} work items while nothing is due");
    ctl.stop().await;
}

#[path = "sim_controllers/scale.rs"]
mod scale;
