//! The simulated cluster put together: `populate` fills a store from a scenario (namespaces,
//! nodes, Kind's kube-system pods, then the manifests, all through defaulting) and returns the
//! [`Sim`] that holds what is not an API object (node runtimes, registry, addresses);
//! `spawn_controllers` runs the controllers, scheduler and kubelets until stopped.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::clock::{Clock, InvalidSpeed, now_rfc3339};
use super::defaults;
use super::engine::Engine;
use super::nodes::{self, NodePlan, NodeRuntimes, RuntimeImage};
use super::scenario::{BUILTIN_NAMESPACES, Provider, Role, Scenario};
use super::store::{
    CONFIGMAPS, DAEMONSETS, DEPLOYMENTS, EVENTS, NAMESPACES, NODES, PODS, REPLICASETS,
    ResourceType, SERVICE_ACCOUNTS, SERVICES, STATEFULSETS, Store,
};

mod system;

/// Why a scenario could not be applied to the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario {origin}{}: {message}", document.map(|d| format!(", document {d}")).unwrap_or_default())]
pub struct PopulateError {
    pub origin: String,
    pub document: Option<usize>,
    pub message: String,
}

struct SimNode {
    name: String,
    role: Role,
    index: usize,
    ip: String,
}

/// What the simulated cluster holds besides API objects.
pub struct Sim {
    /// Kind cluster name (context `kind-NAME`).
    pub name: String,
    pub provider: Provider,
    pub kubernetes_version: String,
    /// Each node's container runtime images (the kubelet's source of truth).
    pub runtimes: NodeRuntimes,
    /// What pulls can fetch (scenario `registry`).
    pub registry: Vec<RuntimeImage>,
    /// The DNS server named in "no such host" pull errors.
    pub dns_server: String,
    nodes: Vec<SimNode>,
    next_ip: Mutex<HashMap<String, u32>>,
}

impl Sim {
    /// Build the non-API state of a scenario (node image lists, registry, addresses).
    pub fn from_scenario(scenario: &Scenario) -> Result<Sim, PopulateError> {
        let err = |message: String| PopulateError {
            origin: scenario.origin.clone(),
            document: Some(1),
            message,
        };
        let mut lists = BTreeMap::new();
        for n in &scenario.nodes {
            lists.insert(
                n.name.clone(),
                nodes::initial_images(scenario, n).map_err(err)?,
            );
        }
        let registry = scenario
            .registry
            .iter()
            .map(|spec| {
                let mut img = RuntimeImage::from_spec(spec)?;
                // What a registry serves has a manifest digest.
                if img.repo_digests.is_empty() {
                    let first = spec.names.first().cloned().unwrap_or_default();
                    let d = nodes::fake_digest(&format!("manifest:{first}"));
                    img.repo_digests = img
                        .repo_tags
                        .iter()
                        .filter_map(|t| t.rsplit_once(':').map(|(repo, _)| format!("{repo}@{d}")))
                        .collect();
                }
                Ok(img)
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| err(format!("registry: {e}")))?;
        Ok(Sim {
            name: scenario.name.clone(),
            provider: scenario.provider,
            kubernetes_version: scenario.kubernetes_version.clone(),
            runtimes: NodeRuntimes::new(lists),
            registry,
            dns_server: match scenario.provider {
                Provider::Docker => "127.0.0.11:53".into(),
                Provider::Podman => "10.89.0.1:53".into(),
            },
            nodes: scenario
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| SimNode {
                    name: n.name.clone(),
                    role: n.role,
                    index: i,
                    ip: nodes::internal_ip(scenario.provider, i),
                })
                .collect(),
            next_ip: Mutex::new(HashMap::new()),
        })
    }

    /// `kind-NAME`, the kubeconfig context Kind writes.
    pub fn context_name(&self) -> String {
        format!("kind-{}", self.name)
    }

    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// The node's InternalIP, None for a node the sim does not have.
    pub fn node_ip(&self, node: &str) -> Option<String> {
        self.nodes
            .iter()
            .find(|n| n.name == node)
            .map(|n| n.ip.clone())
    }

    /// The first control-plane node.
    pub fn control_plane(&self) -> &str {
        self.nodes
            .iter()
            .find(|n| n.role == Role::ControlPlane)
            .map(|n| n.name.as_str())
            .unwrap_or("")
    }

    /// The full runtime image list of a node (what `crictl images` shows).
    pub fn node_images(&self, node: &str) -> Option<Vec<RuntimeImage>> {
        self.runtimes.images(node)
    }

    /// `crictl images -o json` output of a node.
    pub fn crictl_images_json(&self, node: &str) -> Option<Value> {
        self.runtimes.crictl_json(node)
    }

    /// The next pod IP from the node's pod CIDR (10.244.INDEX.0/24). Past .254 (only in
    /// synthetic clusters) addresses continue, still unique, in 100.64.0.0/10.
    pub fn allocate_pod_ip(&self, node: &str) -> String {
        let index = self
            .nodes
            .iter()
            .find(|n| n.name == node)
            .map(|n| n.index)
            .unwrap_or(0);
        let mut next = self.next_ip.lock().unwrap_or_else(|p| p.into_inner());
        let n = next.entry(node.to_string()).or_insert(2);
        let host = *n;
        *n += 1;
        if host <= 254 && index < 256 {
            return format!("10.244.{index}.{host}");
        }
        let overflow = next.entry(String::new()).or_insert(0);
        *overflow += 1;
        let v = 0x6440_0000u32 + *overflow;
        std::net::Ipv4Addr::from(v).to_string()
    }
}

/// Apply a scenario to an empty store: namespaces, nodes, Kind's kube-system objects, then the
/// manifests (namespaces first, workloads before pods), every object through defaulting.
pub fn populate(store: &Store, scenario: &Scenario) -> Result<Arc<Sim>, PopulateError> {
    let sim = Sim::from_scenario(scenario)?;
    let fail = |document: Option<usize>, message: String| PopulateError {
        origin: scenario.origin.clone(),
        document,
        message,
    };
    for ns in BUILTIN_NAMESPACES {
        create(store, &NAMESPACES, json!({"metadata": {"name": ns}}))
            .map_err(|e| fail(None, format!("cannot create namespace {ns}: {e}")))?;
    }
    let now = now_rfc3339();
    for n in &scenario.nodes {
        let Some(sn) = sim.nodes.iter().find(|x| x.name == n.name) else {
            continue;
        };
        let plan = NodePlan {
            spec: n,
            index: sn.index,
            internal_ip: sn.ip.clone(),
        };
        let images = sim.runtimes.images(&n.name).unwrap_or_default();
        let node = nodes::node_object(scenario, &plan, &images, &now);
        create(store, &NODES, node)
            .map_err(|e| fail(Some(1), format!("cannot create node {}: {e}", n.name)))?;
    }
    system::create_all(store, &sim)
        .map_err(|e| fail(None, format!("cannot create Kind's system objects: {e}")))?;
    let mut manifests: Vec<&super::scenario::Manifest> = scenario.manifests.iter().collect();
    manifests.sort_by_key(|m| apply_rank(m.resource));
    for m in manifests {
        let result = if std::ptr::eq(m.resource, &NAMESPACES)
            && store.get(&NAMESPACES, "", m.name()).is_some()
        {
            merge_namespace(store, &m.object)
        } else {
            create(store, m.resource, m.object.clone())
        };
        result.map_err(|e| {
            fail(
                (m.document > 0).then_some(m.document),
                format!("cannot apply {} `{}`: {e}", m.resource.kind, m.name()),
            )
        })?;
    }
    Ok(Arc::new(sim))
}

/// `kubectl apply` order: namespaces, then what workloads refer to, workloads, pods, events.
fn apply_rank(rt: &ResourceType) -> u8 {
    let order: [&ResourceType; 10] = [
        &NAMESPACES,
        &SERVICE_ACCOUNTS,
        &CONFIGMAPS,
        &SERVICES,
        &DEPLOYMENTS,
        &STATEFULSETS,
        &DAEMONSETS,
        &REPLICASETS,
        &PODS,
        &EVENTS,
    ];
    order
        .iter()
        .position(|r| std::ptr::eq(*r, rt))
        .unwrap_or(order.len()) as u8
}

fn create(store: &Store, rt: &'static ResourceType, mut obj: Value) -> Result<Arc<Value>, String> {
    defaults::apply(rt, &mut obj);
    store.create(rt, obj).map_err(|e| e.message)
}

/// A scenario Namespace document for a namespace Kind already has: merge labels/annotations.
fn merge_namespace(store: &Store, obj: &Value) -> Result<Arc<Value>, String> {
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    store
        .modify(&NAMESPACES, "", name, None, |ns| {
            for field in ["labels", "annotations"] {
                if let Some(extra) = obj["metadata"][field].as_object() {
                    if !ns["metadata"][field].is_object() {
                        ns["metadata"][field] = json!({});
                    }
                    for (k, v) in extra {
                        ns["metadata"][field][k.as_str()] = v.clone();
                    }
                }
            }
            defaults::apply(&NAMESPACES, ns);
            Ok(())
        })
        .map_err(|e| e.message)
}

/// The running controllers; dropping it stops them too.
pub struct Controllers {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    work_done: Arc<AtomicU64>,
}

impl Controllers {
    /// Stop the controllers and wait until they have.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Reconciles and syncs run so far: a settled cluster barely adds to it.
    pub fn work_done(&self) -> u64 {
        self.work_done.load(Ordering::Relaxed)
    }

    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Controllers {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Start the deployment and ReplicaSet controllers, the garbage collector, the scheduler and
/// every node's kubelet, reacting to the store's changes. Simulated delays run `speed` times
/// faster than real time. Must be called inside a tokio runtime.
pub fn spawn_controllers(
    store: Arc<Store>,
    sim: Arc<Sim>,
    speed: f64,
) -> Result<Controllers, InvalidSpeed> {
    let clock = Clock::new(speed)?;
    store.set_log_retention(clock.real(super::store::DEFAULT_LOG_RETENTION));
    let (tx, rx) = oneshot::channel();
    let engine = Engine::new(store, sim, clock);
    let work_done = engine.work_done.clone();
    let task = tokio::spawn(engine.run_loop(rx));
    Ok(Controllers {
        stop: Some(tx),
        task: Some(task),
        work_done,
    })
}
