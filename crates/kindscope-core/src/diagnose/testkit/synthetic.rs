//! A deterministic synthetic cluster for benchmarks: many nodes and images, many healthy
//! Deployments, and a few broken ones of every finding kind.

use super::{Cluster, Deploy, Fate};
use crate::model::Snapshot;

/// Shape of the synthetic cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synthetic {
    /// Nodes, including one control plane.
    pub nodes: usize,
    pub images_per_node: usize,
    pub pods: usize,
    pub replicas: usize,
    /// Every n-th Deployment is broken (cycling through registry-prefix, not-loaded,
    /// tag-mismatch, pull-policy).
    pub broken_every: usize,
}

impl Default for Synthetic {
    /// The benchmark's shape: 5,000 pods on 50 nodes × 100 images, 1 Deployment in 20 broken.
    fn default() -> Self {
        Synthetic {
            nodes: 50,
            images_per_node: 100,
            pods: 5_000,
            replicas: 10,
            broken_every: 20,
        }
    }
}

/// Images every node holds (Kind's own, and popular bases).
const BASE: usize = 20;

fn base_image(k: usize) -> String {
    format!("docker.io/library/base-{k}:1.{}", k % 7)
}

/// Build the cluster. Returns the snapshot; the number of broken Deployments is
/// `ceil(deployments / broken_every)`.
pub fn synthetic(cfg: &Synthetic) -> Snapshot {
    let workers = cfg.nodes.saturating_sub(1).max(1);
    let deployments = cfg.pods.div_ceil(cfg.replicas.max(1));
    let broken: Vec<usize> = (0..deployments)
        .filter(|d| cfg.broken_every > 0 && d.is_multiple_of(cfg.broken_every))
        .collect();
    // Names every node holds: bases, and the locally built images broken Deployments miss.
    let mut common: Vec<String> = (0..BASE).map(base_image).collect();
    for &d in &broken {
        common.push(format!("localhost/team/app-{d}:dev"));
        common.push(format!("localhost/team/tool-{d}:latest"));
    }
    let pool = cfg.images_per_node * 3;
    let node_images = |n: usize| -> Vec<String> {
        let mut v = common.clone();
        let fill = cfg.images_per_node.saturating_sub(v.len());
        for j in 0..fill {
            let k = (n * 13 + j) % pool.max(1);
            v.push(format!("registry.example.com/apps/svc-{k}:v{}", k % 5));
            if k.is_multiple_of(4) {
                v.push(format!(
                    "registry.example.com/apps/svc-{k}@sha256:{:064x}",
                    k as u128 * 0x9e37_79b9_7f4a_7c15
                ));
            }
        }
        v
    };
    let refs = |v: &[String]| -> Vec<String> { v.to_vec() };
    let mut c = Cluster::kind("bench");
    let cp = refs(&node_images(0));
    c = c.control_plane(
        "bench-control-plane",
        &cp.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let worker_names: Vec<String> = (1..=workers).map(|w| format!("bench-worker{w}")).collect();
    for (w, name) in worker_names.iter().enumerate() {
        let imgs = node_images(w + 1);
        c = c.worker(name, &imgs.iter().map(String::as_str).collect::<Vec<_>>());
    }

    let mut pod_no = 0usize;
    for d in 0..deployments {
        let name = format!("app-{d}");
        let ns = format!("team-{}", d % 8);
        let kind = broken
            .contains(&d)
            .then(|| (d / cfg.broken_every.max(1)) % 4);
        let (image, policy, fate): (String, Option<&str>, Fate) = match kind {
            None => (base_image(d % BASE), None, Fate::Running),
            Some(0) => (
                format!("team/app-{d}:dev"),
                Some("Never"),
                Fate::never_pull(),
            ),
            Some(1) => (
                format!("team/missing-{d}:v1"),
                Some("Never"),
                Fate::never_pull(),
            ),
            Some(2) => (
                "docker.io/library/base-3:2.0".to_string(),
                None,
                Fate::err_pull(),
            ),
            _ => (
                format!("localhost/team/tool-{d}"),
                None,
                Fate::pull_backoff(),
            ),
        };
        let mut dep = Deploy::new(&ns, &name).replicas(cfg.replicas as i32);
        dep = match policy {
            Some(p) => dep.container_policy("app", &image, p),
            None => dep.container("app", &image),
        };
        dep = dep.container("sidecar", &base_image((d + 7) % BASE));
        if d.is_multiple_of(5) {
            dep = dep.init_container("init", &base_image((d + 3) % BASE), None);
        }
        c = c.deploy(dep);
        for r in 0..cfg.replicas {
            if pod_no >= cfg.pods {
                break;
            }
            pod_no += 1;
            let node = &worker_names[(d * cfg.replicas + r) % workers];
            let mut fates = vec![("app", fate.clone()), ("sidecar", Fate::Running)];
            if d.is_multiple_of(5) {
                fates.push(("init", Fate::Running));
            }
            c = c.pod(&name, node, &fates);
            let pod = c.pod_name(pod_no);
            if kind.is_some() {
                c = c
                    .event(
                        &ns,
                        &pod,
                        "app",
                        false,
                        "Failed",
                        &format!("Failed to pull image \"{image}\""),
                    )
                    .event(
                        &ns,
                        &pod,
                        "app",
                        false,
                        "BackOff",
                        &format!("Back-off pulling image \"{image}\""),
                    );
            } else {
                c = c
                    .event(
                        &ns,
                        &pod,
                        "app",
                        false,
                        "Pulled",
                        "Container image already present on machine",
                    )
                    .event(&ns, &pod, "app", false, "Started", "Started container app");
            }
        }
    }
    c.build()
}
