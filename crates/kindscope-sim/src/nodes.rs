//! Kind-like nodes: the Node objects (labels, taints, nodeInfo, addresses, conditions) and each
//! node's container runtime image list — what `crictl images` shows, the kubelet's source of
//! truth — from which `status.images` is derived the way the kubelet derives it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::scenario::{ImageSpec, NodeSpec, Provider, Role, Scenario};
use kindscope_core::imageref::ImageRef;
use kindscope_core::{NODE_STATUS_MAX_IMAGES, NODE_STATUS_MAX_NAMES_PER_IMAGE};

mod kind_images;
pub use kind_images::{base_image_name, import_name, kind_base_images, kind_node_images};

/// containerd version of current Kind node images.
pub const CONTAINERD_VERSION: &str = "containerd://2.1.1";
pub const ARCH: &str = "amd64";

/// One image in a node's runtime, as CRI `ListImages` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeImage {
    /// `sha256:<64 hex>`
    pub id: String,
    /// Full normalised names with tag (`docker.io/library/nginx:1.27`).
    pub repo_tags: Vec<String>,
    /// `repository@sha256:…` for images that came from a registry.
    pub repo_digests: Vec<String>,
    pub size: u64,
    /// Never garbage-collected (Kind pins the pause image).
    pub pinned: bool,
}

impl RuntimeImage {
    /// Build from a scenario image; names are normalised as containerd stores them.
    pub fn from_spec(spec: &ImageSpec) -> Result<RuntimeImage, String> {
        let mut repo_tags = Vec::new();
        let mut repo_digests = Vec::new();
        for n in &spec.names {
            let r = ImageRef::parse(n).map_err(|e| format!("image `{n}`: {e}"))?;
            if r.digest.is_none() || r.tag.is_some() {
                push_unique(&mut repo_tags, tagged_name(&r));
            }
            if let Some(d) = r.digest.as_ref().or(spec.digest.as_ref()) {
                push_unique(&mut repo_digests, format!("{}@{d}", r.repository()));
            }
        }
        let first = spec.names.first().map(String::as_str).unwrap_or("");
        Ok(RuntimeImage {
            id: spec
                .id
                .clone()
                .unwrap_or_else(|| fake_digest(&format!("id:{first}"))),
            repo_tags,
            repo_digests,
            size: spec.size.unwrap_or_else(|| plausible_size(first)),
            pinned: false,
        })
    }

    /// True when containerd resolves this reference to this image: by digest when the reference
    /// has one, else by the normalised `repository:tag` (`latest` when untagged).
    pub fn matches(&self, r: &ImageRef) -> bool {
        match &r.digest {
            Some(d) => {
                let want = format!("{}@{d}", r.repository());
                self.repo_digests.contains(&want)
            }
            None => {
                let want = tagged_name(r);
                self.repo_tags.contains(&want)
            }
        }
    }

    /// What the kubelet reports as a container's `imageID`: the first repo digest, else the id.
    pub fn image_ref(&self) -> String {
        self.repo_digests
            .first()
            .cloned()
            .unwrap_or_else(|| self.id.clone())
    }

    /// The `crictl images -o json` entry.
    pub fn crictl_json(&self) -> Value {
        json!({
            "id": self.id,
            "repoTags": self.repo_tags,
            "repoDigests": self.repo_digests,
            "size": self.size.to_string(),
            "uid": null,
            "username": "",
            "spec": null,
            "pinned": self.pinned,
        })
    }
}

/// `domain/path:tag` with `latest` when the reference has no tag.
pub fn tagged_name(r: &ImageRef) -> String {
    format!(
        "{}:{}",
        r.repository(),
        r.tag.as_deref().unwrap_or("latest")
    )
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// A stable `sha256:<hex>` derived from a seed, for ids and digests nobody specified.
pub fn fake_digest(seed: &str) -> String {
    let hash = Sha256::digest(seed.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A stable size between 5 MB and 250 MB derived from the name.
pub fn plausible_size(name: &str) -> u64 {
    let h = Sha256::digest(name.as_bytes());
    let n = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    5_000_000 + n % 245_000_000
}

/// `Node.status.images` from a runtime list, as the kubelet builds it: largest first, at most
/// 50 images, each with at most 5 names — repo digests first, then repo tags.
pub fn status_images(images: &[RuntimeImage]) -> Value {
    let mut sorted: Vec<&RuntimeImage> = images.iter().collect();
    // Stable sort: equal sizes keep runtime order, as Go's sort on the kubelet's list may not;
    // either order is valid.
    sorted.sort_by_key(|i| std::cmp::Reverse(i.size));
    Value::Array(
        sorted
            .into_iter()
            .take(NODE_STATUS_MAX_IMAGES)
            .map(|i| {
                let names: Vec<&String> = i
                    .repo_digests
                    .iter()
                    .chain(i.repo_tags.iter())
                    .take(NODE_STATUS_MAX_NAMES_PER_IMAGE)
                    .collect();
                json!({"names": names, "sizeBytes": i.size})
            })
            .collect(),
    )
}

/// The runtime image lists of every node (the kubelet's source of truth), shared between the
/// simulated kubelet (which adds pulled images) and whoever shows `crictl images`.
#[derive(Debug, Default)]
pub struct NodeRuntimes {
    nodes: Mutex<BTreeMap<String, Vec<RuntimeImage>>>,
}

impl NodeRuntimes {
    pub fn new(lists: BTreeMap<String, Vec<RuntimeImage>>) -> NodeRuntimes {
        NodeRuntimes {
            nodes: Mutex::new(lists),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<RuntimeImage>>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The full list of a node (None for an unknown node).
    pub fn images(&self, node: &str) -> Option<Vec<RuntimeImage>> {
        self.lock().get(node).cloned()
    }

    pub fn node_names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// The image this reference resolves to on the node.
    pub fn find(&self, node: &str, r: &ImageRef) -> Option<RuntimeImage> {
        self.lock()
            .get(node)?
            .iter()
            .find(|i| i.matches(r))
            .cloned()
    }

    /// Add a pulled image: a new image, or new names on an image with the same id (a pull
    /// re-tags an image the node already holds). Returns true when the list changed.
    pub fn add(&self, node: &str, image: RuntimeImage) -> bool {
        let mut nodes = self.lock();
        let Some(list) = nodes.get_mut(node) else {
            return false;
        };
        if let Some(existing) = list.iter_mut().find(|i| i.id == image.id) {
            let before = (existing.repo_tags.len(), existing.repo_digests.len());
            for t in image.repo_tags {
                push_unique(&mut existing.repo_tags, t);
            }
            for d in image.repo_digests {
                push_unique(&mut existing.repo_digests, d);
            }
            return before != (existing.repo_tags.len(), existing.repo_digests.len());
        }
        // A tag moves to the new image, as with containerd.
        for other in list.iter_mut() {
            other.repo_tags.retain(|t| !image.repo_tags.contains(t));
        }
        list.retain(|i| !i.repo_tags.is_empty() || !i.repo_digests.is_empty());
        list.push(image);
        true
    }

    /// `crictl images -o json` output for a node.
    pub fn crictl_json(&self, node: &str) -> Option<Value> {
        let list = self.images(node)?;
        Some(json!({"images": list.iter().map(RuntimeImage::crictl_json).collect::<Vec<_>>()}))
    }
}

/// Everything needed to write one Node object.
pub struct NodePlan<'a> {
    pub spec: &'a NodeSpec,
    /// Position in the scenario (pod CIDR 10.244.INDEX.0/24, address).
    pub index: usize,
    pub internal_ip: String,
}

/// Address of the node on the Kind network: docker's `kind` network is 172.18.0.0/16,
/// podman's 10.89.0.0/24.
pub fn internal_ip(provider: Provider, index: usize) -> String {
    match provider {
        Provider::Docker => format!("172.18.0.{}", index + 2),
        Provider::Podman => format!("10.89.0.{}", index + 2),
    }
}

/// The Node object for a scenario node (status.images from `images`).
pub fn node_object(
    scenario: &Scenario,
    plan: &NodePlan,
    images: &[RuntimeImage],
    now: &str,
) -> Value {
    let n = plan.spec;
    let has_workers = scenario.nodes.iter().any(|x| x.role == Role::Worker);
    let mut labels = BTreeMap::new();
    for (k, v) in [
        ("beta.kubernetes.io/arch", ARCH),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", ARCH),
        ("kubernetes.io/hostname", n.name.as_str()),
        ("kubernetes.io/os", "linux"),
    ] {
        labels.insert(k.to_string(), v.to_string());
    }
    let mut taints: Vec<Value> = Vec::new();
    if n.role == Role::ControlPlane {
        labels.insert(
            "node-role.kubernetes.io/control-plane".into(),
            String::new(),
        );
        labels.insert(
            "node.kubernetes.io/exclude-from-external-load-balancers".into(),
            String::new(),
        );
        if has_workers {
            taints.push(
                json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}),
            );
        }
    }
    for (k, v) in &n.labels {
        labels.insert(k.clone(), v.clone());
    }
    for t in &n.taints {
        let mut v = json!({"key": t.key, "effect": t.effect});
        if !t.value.is_empty() {
            v["value"] = json!(t.value);
        }
        taints.push(v);
    }
    let cidr = format!("10.244.{}.0/24", plan.index);
    let mut spec = json!({
        "podCIDR": cidr,
        "podCIDRs": [cidr],
        "providerID": format!("kind://{}/{}/{}", scenario.provider.as_str(), scenario.name, n.name),
    });
    if !taints.is_empty() {
        spec["taints"] = Value::Array(taints);
    }
    let resources = json!({
        "cpu": "8",
        "ephemeral-storage": "102626232Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "16364544Ki",
        "pods": "110",
    });
    let seed = format!("{}/{}", scenario.name, n.name);
    let hex = |s: &str| fake_digest(s)[7..].to_string();
    let uuid = |s: &str| {
        let h = hex(s);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    };
    let cond = |t: &str, status: &str, reason: &str, message: &str| {
        json!({"type": t, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({
        "metadata": {
            "name": n.name,
            "labels": labels,
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": plan.internal_ip},
                {"type": "Hostname", "address": n.name},
            ],
            "allocatable": resources,
            "capacity": resources,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": status_images(images),
            "nodeInfo": {
                "architecture": ARCH,
                "bootID": uuid(&format!("boot:{seed}")),
                "containerRuntimeVersion": CONTAINERD_VERSION,
                "kernelVersion": "6.8.0-59-generic",
                "kubeProxyVersion": scenario.kubernetes_version,
                "kubeletVersion": scenario.kubernetes_version,
                "machineID": hex(&format!("machine:{seed}"))[..32].to_string(),
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": uuid(&format!("system:{seed}")),
            },
        },
    })
}

/// The runtime list a scenario node starts with: Kind's base images, then the scenario's
/// (a scenario image with a base image's name replaces it).
pub fn initial_images(scenario: &Scenario, node: &NodeSpec) -> Result<Vec<RuntimeImage>, String> {
    let mut list = kind_node_images(
        &scenario.kubernetes_version,
        node.role == Role::ControlPlane,
    );
    for spec in &node.images {
        let mut img =
            RuntimeImage::from_spec(spec).map_err(|e| format!("node `{}`: {e}", node.name))?;
        if img.repo_digests.is_empty() {
            // Put there by `kind load` (`ctr images import --digests`): the import name beside
            // the archive's own name, which the kubelet then reports as the image ID.
            img.repo_digests.push(import_name(
                &scenario.kubernetes_version,
                &fake_digest(&format!("manifest:{}", img.id)),
            ));
        }
        for other in list.iter_mut() {
            other.repo_tags.retain(|t| !img.repo_tags.contains(t));
        }
        list.retain(|i| !i.repo_tags.is_empty() || !i.repo_digests.is_empty());
        if let Some(same) = list.iter_mut().find(|i| i.id == img.id) {
            for t in img.repo_tags {
                push_unique(&mut same.repo_tags, t);
            }
            for d in img.repo_digests {
                push_unique(&mut same.repo_digests, d);
            }
        } else {
            list.push(img);
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(tags: &[&str], digests: &[&str], size: u64) -> RuntimeImage {
        RuntimeImage {
            id: fake_digest(&format!("{tags:?}{digests:?}")),
            repo_tags: tags.iter().map(|s| s.to_string()).collect(),
            repo_digests: digests.iter().map(|s| s.to_string()).collect(),
            size,
            pinned: false,
        }
    }

    #[test]
    fn status_images_largest_first_capped_with_digests_then_tags() {
        let mut list: Vec<RuntimeImage> = (0..60u64)
            .map(|i| img(&[&format!("docker.io/library/i{i}:v1")], &[], 1_000 + i))
            .collect();
        let many_tags: Vec<String> = (0..6).map(|i| format!("localhost/big:t{i}")).collect();
        let refs: Vec<&str> = many_tags.iter().map(String::as_str).collect();
        list.push(img(&refs, &["localhost/big@sha256:aa"], 10_000_000));
        let status = status_images(&list);
        let arr = status.as_array().expect("array");
        assert_eq!(arr.len(), 50);
        assert_eq!(arr[0]["sizeBytes"], 10_000_000);
        let names: Vec<&str> = arr[0]["names"]
            .as_array()
            .expect("names")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "localhost/big@sha256:aa",
                "localhost/big:t0",
                "localhost/big:t1",
                "localhost/big:t2",
                "localhost/big:t3"
            ]
        );
        // Largest first: the 10 smallest (i0..i9) fell off.
        assert_eq!(arr[1]["names"][0], "docker.io/library/i59:v1");
        assert_eq!(arr[49]["names"][0], "docker.io/library/i11:v1");
        let sizes: Vec<u64> = arr.iter().filter_map(|i| i["sizeBytes"].as_u64()).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn matching_uses_containerd_normalisation() {
        let spec = ImageSpec::named("nginx:1.27");
        let i = RuntimeImage::from_spec(&spec).expect("valid");
        assert_eq!(i.repo_tags, ["docker.io/library/nginx:1.27"]);
        let r = |s: &str| ImageRef::parse(s).expect("valid");
        assert!(i.matches(&r("nginx:1.27")));
        assert!(i.matches(&r("docker.io/library/nginx:1.27")));
        assert!(!i.matches(&r("nginx")));
        let local = RuntimeImage::from_spec(&ImageSpec::named("localhost/kubernaut/gateway:debug"))
            .expect("valid");
        assert!(!local.matches(&r("kubernaut/gateway:debug")));
        let latest = RuntimeImage::from_spec(&ImageSpec::named("localhost/app")).expect("valid");
        assert!(latest.matches(&r("localhost/app:latest")));
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let pulled = RuntimeImage::from_spec(&ImageSpec {
            names: vec!["postgres:16".into()],
            id: None,
            size: Some(5),
            digest: Some(d.into()),
        })
        .expect("valid");
        assert!(pulled.matches(&r(&format!("postgres@{d}"))));
        assert_eq!(
            pulled.image_ref(),
            format!("docker.io/library/postgres@{d}")
        );
        assert_eq!(local.image_ref(), local.id);
    }

    #[test]
    fn base_images_and_runtime_add() {
        let base = kind_base_images("v1.33.1");
        assert!(
            base.iter()
                .any(|i| i.repo_tags == ["registry.k8s.io/kube-proxy:v1.33.1"])
        );
        assert_eq!(
            base_image_name("v1.33.1", "kindnetd"),
            "docker.io/kindest/kindnetd:v20250512-df8de77b"
        );
        assert_eq!(
            base_image_name("v1.33.1", "pause"),
            "registry.k8s.io/pause:3.10"
        );
        let rt = NodeRuntimes::new(BTreeMap::from([("n".to_string(), base.clone())]));
        let new = img(&["docker.io/library/postgres:16"], &[], 5);
        assert!(rt.add("n", new.clone()));
        assert!(!rt.add("n", new), "same image again changes nothing");
        assert_eq!(rt.images("n").map(|l| l.len()), Some(base.len() + 1));
        assert!(!rt.add("missing", img(&["x:1"], &[], 1)));
        let json = rt.crictl_json("n").expect("node");
        assert_eq!(
            json["images"].as_array().map(Vec::len),
            Some(base.len() + 1)
        );
    }
}
