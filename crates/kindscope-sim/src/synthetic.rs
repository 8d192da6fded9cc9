//! `--synthetic nodes=N,deployments=D,replicas=R,images-per-node=I,events=E`: a generated
//! cluster for scale tests and benchmarks. Deterministic for a given spec: Kind's base images
//! plus I images on every node, D Deployments of R replicas over several namespaces — mostly
//! healthy, with every broken kind the diagnosis knows (registry-prefix, tag-mismatch,
//! pull-policy, not-loaded, invalid) — and E historical events.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

use super::nodes::{fake_digest, plausible_size};
use super::resources::{DEPLOYMENTS, EVENTS, NAMESPACES};
use super::scenario::{
    DEFAULT_KUBERNETES_VERSION, ImageSpec, Manifest, NodeSpec, Provider, Role, Scenario,
};

/// The numbers of a synthetic cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// All nodes, the control plane included (N-1 workers).
    pub nodes: usize,
    pub deployments: usize,
    pub replicas: usize,
    /// Images on every node besides Kind's own.
    pub images_per_node: usize,
    pub events: usize,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            nodes: 3,
            deployments: 20,
            replicas: 2,
            images_per_node: 20,
            events: 200,
        }
    }
}

/// A spec that cannot be used; the message says which part and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; expected e.g. --synthetic nodes=3,deployments=20,replicas=2,images-per-node=20,events=200",
            self.0
        )
    }
}

impl std::error::Error for SpecError {}

const LIMITS: [(&str, usize, usize); 5] = [
    ("nodes", 1, 1000),
    ("deployments", 0, 100_000),
    ("replicas", 0, 1000),
    ("images-per-node", 0, 10_000),
    ("events", 0, 1_000_000),
];
const MAX_PODS: usize = 200_000;

impl FromStr for SyntheticSpec {
    type Err = SpecError;

    /// `key=value` pairs separated by commas, any subset and order; missing keys keep their
    /// defaults (nodes=3, deployments=20, replicas=2, images-per-node=20, events=200).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = SyntheticSpec::default();
        let mut seen = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(SpecError(format!("`{part}` is not key=value")));
            };
            let key = key.trim();
            let Some(&(_, min, max)) = LIMITS.iter().find(|(k, _, _)| *k == key) else {
                return Err(SpecError(format!(
                    "unknown key `{key}` (known: nodes, deployments, replicas, images-per-node, events)"
                )));
            };
            if seen.contains(&key) {
                return Err(SpecError(format!("`{key}` is given twice")));
            }
            seen.push(key);
            let n: usize = value.trim().parse().map_err(|_| {
                SpecError(format!(
                    "{key} must be a whole number, got `{}`",
                    value.trim()
                ))
            })?;
            if n < min || n > max {
                return Err(SpecError(format!(
                    "{key} must be between {min} and {max}, got {n}"
                )));
            }
            match key {
                "nodes" => spec.nodes = n,
                "deployments" => spec.deployments = n,
                "replicas" => spec.replicas = n,
                "images-per-node" => spec.images_per_node = n,
                _ => spec.events = n,
            }
        }
        if spec.deployments.saturating_mul(spec.replicas) > MAX_PODS {
            return Err(SpecError(format!(
                "deployments × replicas must be at most {MAX_PODS} pods, got {}",
                spec.deployments.saturating_mul(spec.replicas)
            )));
        }
        Ok(spec)
    }
}

const NAMESPACES_POOL: [&str; 12] = [
    "payments",
    "checkout",
    "catalog",
    "search",
    "accounts",
    "inventory",
    "shipping",
    "notifications",
    "analytics",
    "gateway",
    "identity",
    "media",
];
const SERVICES: [&str; 10] = [
    "api",
    "worker",
    "web",
    "cache",
    "indexer",
    "scheduler",
    "ingest",
    "auth",
    "report",
    "sync",
];
const REGISTRY: [&str; 5] = [
    "docker.io/library/nginx:1.27",
    "docker.io/library/redis:7.4",
    "docker.io/library/postgres:16",
    "docker.io/library/busybox:1.36",
    "docker.io/library/python:3.12-slim",
];

/// What a generated Deployment is meant to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    HealthyLocal,
    HealthyRegistry,
    RegistryPrefix,
    TagMismatch,
    PullPolicy,
    NotLoaded,
    Invalid,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::HealthyLocal | Flavor::HealthyRegistry => "healthy",
            Flavor::RegistryPrefix => "registry-prefix",
            Flavor::TagMismatch => "tag-mismatch",
            Flavor::PullPolicy => "pull-policy",
            Flavor::NotLoaded => "not-loaded",
            Flavor::Invalid => "invalid-reference",
        }
    }
}

/// The flavor of deployment `i`: 70% healthy from the nodes, 10% pulled, 5% each broken kind
/// (not-loaded and invalid share theirs).
pub fn flavor(i: usize, pool: usize) -> Flavor {
    let f = match i % 20 {
        0..=13 => Flavor::HealthyLocal,
        14 | 15 => Flavor::HealthyRegistry,
        16 => Flavor::RegistryPrefix,
        17 => Flavor::TagMismatch,
        18 => Flavor::PullPolicy,
        _ if (i / 20).is_multiple_of(2) => Flavor::NotLoaded,
        _ => Flavor::Invalid,
    };
    match f {
        Flavor::HealthyLocal if pool == 0 => Flavor::HealthyRegistry,
        Flavor::RegistryPrefix | Flavor::TagMismatch if pool == 0 => Flavor::NotLoaded,
        Flavor::PullPolicy if pool < 10 => Flavor::NotLoaded,
        f => f,
    }
}

/// Image `j` of the pool every node holds; every tenth is tagged `latest`.
fn pool_image(j: usize) -> String {
    if j % 10 == 9 {
        format!("localhost/synthetic/app-{j}:latest")
    } else {
        format!("localhost/synthetic/app-{j}:v1")
    }
}

/// The image (and explicit pull policy) deployment `i` asks for.
fn image_for(i: usize, pool: usize) -> (String, Option<&'static str>) {
    let j = if pool == 0 { 0 } else { i % pool };
    match flavor(i, pool) {
        Flavor::HealthyLocal => (pool_image(j), Some("IfNotPresent")),
        Flavor::HealthyRegistry => (
            REGISTRY[i % REGISTRY.len()]
                .trim_start_matches("docker.io/library/")
                .to_string(),
            None,
        ),
        Flavor::RegistryPrefix => (
            pool_image(j).trim_start_matches("localhost/").to_string(),
            Some("Never"),
        ),
        Flavor::TagMismatch => (format!("localhost/synthetic/app-{j}:v2"), None),
        Flavor::PullPolicy => {
            // A pool image tagged latest, asked for without a tag: defaulted to Always.
            let k = (j / 10) * 10 + 9;
            let k = if k < pool { k } else { 9 };
            (format!("localhost/synthetic/app-{k}"), None)
        }
        Flavor::NotLoaded => (
            format!("localhost/synthetic/missing-{i}:dev"),
            Some("Never"),
        ),
        Flavor::Invalid => (format!("localhost/synthetic/App-{i}:v1"), None),
    }
}

/// Generate the scenario for a spec.
pub fn generate(spec: &SyntheticSpec) -> Scenario {
    let name = "synthetic";
    let pool: Vec<ImageSpec> = (0..spec.images_per_node)
        .map(|j| {
            let n = pool_image(j);
            ImageSpec {
                size: Some(plausible_size(&n)),
                id: Some(fake_digest(&format!("id:{n}"))),
                names: vec![n],
                digest: None,
            }
        })
        .collect();
    let mut nodes = vec![NodeSpec {
        name: format!("{name}-control-plane"),
        role: Role::ControlPlane,
        labels: BTreeMap::new(),
        taints: Vec::new(),
        images: pool.clone(),
    }];
    for w in 1..spec.nodes {
        nodes.push(NodeSpec {
            name: if w == 1 {
                format!("{name}-worker")
            } else {
                format!("{name}-worker{w}")
            },
            role: Role::Worker,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            images: pool.clone(),
        });
    }
    let ns_count = spec
        .deployments
        .div_ceil(50)
        .clamp(1, NAMESPACES_POOL.len());
    let namespaces = &NAMESPACES_POOL[..ns_count];
    let mut manifests: Vec<Manifest> = namespaces
        .iter()
        .map(|ns| {
            generated(
                &NAMESPACES,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
        })
        .collect();
    let mut deployments = Vec::with_capacity(spec.deployments);
    for i in 0..spec.deployments {
        let ns = namespaces[i % namespaces.len()];
        let dname = format!("{}-{i}", SERVICES[i % SERVICES.len()]);
        let (image, policy) = image_for(i, pool.len());
        let mut container = json!({"name": SERVICES[i % SERVICES.len()], "image": image, "ports": [{"containerPort": 8080}]});
        if let Some(p) = policy {
            container["imagePullPolicy"] = json!(p);
        }
        let labels =
            json!({"app": dname, "kindscope.dev/synthetic": flavor(i, pool.len()).as_str()});
        manifests.push(generated(&DEPLOYMENTS, json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": dname, "namespace": ns, "labels": labels},
            "spec": {"replicas": spec.replicas, "selector": {"matchLabels": {"app": dname}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}},
        })));
        deployments.push((ns, dname, image));
    }
    let base = jiff::Timestamp::now();
    let base_nanos = i64::try_from(base.as_nanosecond()).unwrap_or(0);
    for e in 0..spec.events {
        let ago = jiff::SignedDuration::from_secs((e % 3600) as i64 + 60);
        let at = kindscope_core::time::rfc3339(
            base.saturating_sub(ago).unwrap_or(base),
            kindscope_core::time::Precision::Secs,
        );
        manifests.push(generated(
            &EVENTS,
            history_event(e, &deployments, &nodes, base_nanos - e as i64 * 1000, &at),
        ));
    }
    Scenario {
        origin: format!(
            "<synthetic nodes={},deployments={},replicas={},images-per-node={},events={}>",
            spec.nodes, spec.deployments, spec.replicas, spec.images_per_node, spec.events
        ),
        name: name.to_string(),
        provider: Provider::Docker,
        kubernetes_version: DEFAULT_KUBERNETES_VERSION.to_string(),
        nodes,
        registry: REGISTRY
            .iter()
            .map(|r| ImageSpec {
                names: vec![r.to_string()],
                id: None,
                size: Some(plausible_size(r)),
                digest: None,
            })
            .collect(),
        manifests,
    }
}

fn generated(rt: &'static super::resources::ResourceType, object: Value) -> Manifest {
    Manifest {
        resource: rt,
        object,
        document: 0,
        line: 0,
    }
}

/// An event from before the sim started: about a deployment's earlier rollouts, or about a pod
/// of an earlier ReplicaSet that no longer exists.
fn history_event(
    e: usize,
    deployments: &[(&str, String, String)],
    nodes: &[NodeSpec],
    nanos: i64,
    at: &str,
) -> Value {
    let ev = |ns: &str,
              involved: Value,
              obj: &str,
              reason: &str,
              type_: &str,
              message: String,
              source: Value| {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{obj}.{nanos:x}"), "namespace": ns},
            "involvedObject": involved, "reason": reason, "message": message, "type": type_,
            "source": source, "firstTimestamp": at, "lastTimestamp": at, "count": 1,
            "reportingComponent": source["component"], "reportingInstance": source["host"].as_str().unwrap_or(""),
        })
    };
    if deployments.is_empty() {
        let node = &nodes[e % nodes.len()].name;
        return ev(
            "default",
            json!({"kind": "Node", "name": node, "uid": node}),
            node,
            "Starting",
            "Normal",
            "Starting kubelet.".into(),
            json!({"component": "kubelet", "host": node}),
        );
    }
    let (ns, dname, image) = &deployments[e % deployments.len()];
    let old_hash: String =
        fake_digest(&format!("{dname}/{}", e / deployments.len() % 3))[7..17].to_string();
    let rs = format!("{dname}-{old_hash}");
    if e.is_multiple_of(4) {
        let involved =
            json!({"kind": "Deployment", "namespace": ns, "name": dname, "apiVersion": "apps/v1"});
        return ev(
            ns,
            involved,
            dname,
            "ScalingReplicaSet",
            "Normal",
            format!("Scaled up replica set {rs} from 0 to 1"),
            json!({"component": "deployment-controller"}),
        );
    }
    let pod = format!("{rs}-{}", &fake_digest(&format!("pod/{e}"))[7..12]);
    let node = &nodes[e % nodes.len()].name;
    let involved = json!({"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1", "fieldPath": "spec.containers{app}"});
    let (reason, message) = match e % 4 {
        1 => (
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        ),
        2 => ("Created", "Created container: app".to_string()),
        _ => ("Killing", "Stopping container app".to_string()),
    };
    ev(
        ns,
        involved,
        &pod,
        reason,
        "Normal",
        message,
        json!({"component": "kubelet", "host": node}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parsing() {
        let s: SyntheticSpec =
            "nodes=50,deployments=1000,replicas=5,images-per-node=100,events=20000"
                .parse()
                .expect("valid");
        assert_eq!(
            s,
            SyntheticSpec {
                nodes: 50,
                deployments: 1000,
                replicas: 5,
                images_per_node: 100,
                events: 20000
            }
        );
        let d: SyntheticSpec = "replicas=1".parse().expect("partial");
        assert_eq!((d.replicas, d.nodes), (1, 3));
        for (bad, needle) in [
            ("nodes=0", "between 1 and 1000"),
            ("nodes=x", "whole number"),
            ("pods=3", "unknown key `pods`"),
            ("nodes", "not key=value"),
            ("nodes=2,nodes=3", "twice"),
            ("deployments=100000,replicas=1000", "at most"),
        ] {
            let e = bad.parse::<SyntheticSpec>().expect_err(bad).to_string();
            assert!(e.contains(needle), "{bad}: {e}");
            assert!(e.contains("expected e.g. --synthetic"), "{e}");
        }
    }

    #[test]
    fn generated_cluster_mixes_healthy_and_every_broken_kind() {
        let spec = SyntheticSpec {
            nodes: 4,
            deployments: 60,
            replicas: 2,
            images_per_node: 30,
            events: 50,
        };
        let s = generate(&spec);
        assert_eq!(s.nodes.len(), 4);
        assert_eq!(s.nodes.iter().filter(|n| n.role == Role::Worker).count(), 3);
        assert!(s.nodes.iter().all(|n| n.images.len() == 30));
        let deps: Vec<&Manifest> = s
            .manifests
            .iter()
            .filter(|m| m.resource.kind == "Deployment")
            .collect();
        assert_eq!(deps.len(), 60);
        let flavors: std::collections::BTreeSet<&str> = deps
            .iter()
            .filter_map(|m| m.object["metadata"]["labels"]["kindscope.dev/synthetic"].as_str())
            .collect();
        for f in [
            "healthy",
            "registry-prefix",
            "tag-mismatch",
            "pull-policy",
            "not-loaded",
            "invalid-reference",
        ] {
            assert!(flavors.contains(f), "{f} missing from {flavors:?}");
        }
        let healthy = deps
            .iter()
            .filter(|m| m.object["metadata"]["labels"]["kindscope.dev/synthetic"] == "healthy")
            .count();
        assert!(healthy * 10 >= 60 * 7, "{healthy}");
        assert_eq!(
            s.manifests
                .iter()
                .filter(|m| m.resource.kind == "Event")
                .count(),
            50
        );
        let namespaces = s
            .manifests
            .iter()
            .filter(|m| m.resource.kind == "Namespace")
            .count();
        assert!(namespaces >= 2);
        // Names are unique, as the store requires.
        let mut keys: Vec<(String, String, String)> = s
            .manifests
            .iter()
            .map(|m| {
                (
                    m.resource.kind.to_string(),
                    m.namespace().to_string(),
                    m.name().to_string(),
                )
            })
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(
            generate(&SyntheticSpec { events: 0, ..spec }).nodes,
            s.nodes,
            "deterministic"
        );
    }

    #[test]
    fn no_images_still_generates_valid_images() {
        let s = generate(&SyntheticSpec {
            nodes: 1,
            deployments: 40,
            replicas: 1,
            images_per_node: 0,
            events: 0,
        });
        for m in s
            .manifests
            .iter()
            .filter(|m| m.resource.kind == "Deployment")
        {
            let image = m.object["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or("");
            assert!(
                !image.contains("app-0:"),
                "{image} refers to a pool that does not exist"
            );
        }
    }
}
