//! The simulated kubelet of every node: for each pod bound to a node it creates the sandbox,
//! runs the init containers one by one, then the containers, deciding each image the way the
//! real kubelet's image manager does against the node's runtime list, with the same waiting
//! reasons, messages and events (rules in `kubelet/rules.rs`, the table in docs/sim.md).
//! Pulls, back-offs and container starts take simulated time; pulled images join the node.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::clock::now_rfc3339;
use super::engine::{Engine, Work, key_of, pod_active, uid_of};
use super::events::Source;
use super::nodes::status_images;
use super::store::{NODES, PODS};

mod rules;
mod status;

pub use rules::{
    BACKOFF_INITIAL, BACKOFF_MAX, CState, Ctr, Decision, Effect, PullPolicy, StepCtx, decide,
    next_backoff, pull_error, pull_time, runtime_name,
};

/// Sandbox creation, before containers are looked at.
const SANDBOX_DELAY: Duration = Duration::from_millis(500);

/// One pod's life on its node.
pub(crate) struct PodRun {
    pub node: String,
    pub sandbox_at: Option<Instant>,
    pub ip: Option<String>,
    pub start_time: String,
    pub init: Vec<Ctr>,
    pub main: Vec<Ctr>,
    /// Already running when the sim started (Kind's own pods): left alone.
    pub adopted: bool,
}

/// Per-pod state of every node's kubelet, by pod uid.
#[derive(Default)]
pub(crate) struct Kubelet {
    pods: HashMap<String, PodRun>,
}

fn containers(pod: &Value, key: &str, init: bool, now: Instant) -> Vec<Ctr> {
    pod["spec"][key]
        .as_array()
        .map(|l| l.iter().map(|c| ctr_from_spec(c, init, now)).collect())
        .unwrap_or_default()
}

fn ctr_from_spec(c: &Value, init: bool, now: Instant) -> Ctr {
    let image = c["image"].as_str().unwrap_or("");
    Ctr::new(
        c["name"].as_str().unwrap_or(""),
        image,
        PullPolicy::of(c["imagePullPolicy"].as_str(), image),
        init,
        now,
    )
}

/// Forget a deleted pod; its running containers are stopped (`Killing`).
pub(crate) fn pod_deleted(e: &mut Engine, pod: &Value) {
    let Some(run) = e.kubelet.pods.remove(uid_of(pod)) else {
        return;
    };
    if run.adopted {
        return;
    }
    let src = Source::kubelet(&run.node);
    for c in run.main.iter().filter(|c| c.running()) {
        let msg = format!("Stopping container {}", c.name);
        e.event(pod, Some(&c.field_path()), &src, "Normal", "Killing", &msg);
    }
}

/// One kubelet sync of one pod.
pub(crate) fn sync_pod(e: &mut Engine, ns: &str, name: &str) {
    let Some(pod) = e.index.get(&PODS, ns, name) else {
        return;
    };
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let Some(host_ip) = e.sim.node_ip(&node) else {
        return;
    };
    if !pod_active(&pod) {
        return;
    }
    let uid = uid_of(&pod).to_string();
    let now = Instant::now();
    let mut run = match e.kubelet.pods.remove(&uid) {
        Some(r) => r,
        None => PodRun {
            node: node.clone(),
            sandbox_at: Some(e.clock.after(SANDBOX_DELAY)),
            ip: None,
            start_time: now_rfc3339(),
            init: containers(&pod, "initContainers", true, now),
            main: containers(&pod, "containers", false, now),
            adopted: pod["status"]["phase"] == "Running",
        },
    };
    if run.adopted {
        e.kubelet.pods.insert(uid, run);
        return;
    }
    let src = Source::kubelet(&node);
    restart_changed_containers(e, &pod, &mut run, &src, now);
    if run.sandbox_at.is_some_and(|at| at <= now) {
        run.sandbox_at = None;
        run.ip = Some(e.sim.allocate_pod_ip(&node));
    }
    if run.sandbox_at.is_none() {
        let sim = e.sim.clone();
        let on_node = |r: &kindscope_core::imageref::ImageRef| sim.runtimes.find(&node, r);
        let ctx = StepCtx {
            clock: e.clock,
            on_node: &on_node,
            registry: &sim.registry,
            dns_server: &sim.dns_server,
            pod_uid: &uid,
        };
        let mut effects: Vec<(String, Effect)> = Vec::new();
        // Init containers strictly one after another (a completed one lets the next start in
        // the same sync); the containers only once all init containers completed.
        for c in run.init.iter_mut() {
            if c.completed() {
                continue;
            }
            let fp = c.field_path();
            effects.extend(c.step(&ctx, now).into_iter().map(|f| (fp.clone(), f)));
            if !c.completed() {
                break;
            }
        }
        if run.init.iter().all(Ctr::completed) {
            for c in run.main.iter_mut() {
                let fp = c.field_path();
                effects.extend(c.step(&ctx, now).into_iter().map(|f| (fp.clone(), f)));
            }
        }
        for (fp, f) in effects {
            match f {
                Effect::Event(t, reason, msg) => e.event(&pod, Some(&fp), &src, t, reason, &msg),
                Effect::ImagePulled(img) => {
                    if sim.runtimes.add(&node, img) {
                        let list = sim.runtimes.images(&node).unwrap_or_default();
                        e.modify(&NODES, "", &node, |n| {
                            n["status"]["images"] = status_images(&list)
                        });
                    }
                }
            }
        }
    }
    let next = next_wakeup(&run);
    let now_s = now_rfc3339();
    e.modify(&PODS, ns, name, |p| {
        status::write(p, &run, &host_ip, &now_s)
    });
    if let Some(at) = next {
        e.at(at.max(now), Work::SyncPod(key_of(&pod)));
    }
    e.kubelet.pods.insert(uid, run);
}

/// When the pod next needs a sync: the sandbox, else the first unfinished init container, else
/// the containers. Containers that cannot move yet must not count, or the sync would spin.
fn next_wakeup(run: &PodRun) -> Option<Instant> {
    if run.sandbox_at.is_some() {
        return run.sandbox_at;
    }
    if let Some(init) = run.init.iter().find(|c| !c.completed()) {
        return init.next_at;
    }
    run.main.iter().filter_map(|c| c.next_at).min()
}

/// A container whose image was changed in the pod spec is restarted with the new image.
fn restart_changed_containers(
    e: &mut Engine,
    pod: &Value,
    run: &mut PodRun,
    src: &Source,
    now: Instant,
) {
    for (key, list) in [
        ("initContainers", &mut run.init),
        ("containers", &mut run.main),
    ] {
        let specs = pod["spec"][key]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for c in list.iter_mut() {
            let Some(spec) = specs.iter().find(|s| s["name"] == c.name.as_str()) else {
                continue;
            };
            if spec["image"].as_str().unwrap_or("") == c.image {
                continue;
            }
            if c.running() {
                let msg = format!("Container {} definition changed, will be restarted", c.name);
                e.event(pod, Some(&c.field_path()), src, "Normal", "Killing", &msg);
                c.restart_count += 1;
            }
            let restarts = c.restart_count;
            *c = ctr_from_spec(spec, c.init, now);
            c.restart_count = restarts;
        }
    }
}

#[cfg(test)]
#[path = "kubelet_tests.rs"]
mod tests;
