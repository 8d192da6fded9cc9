//! Plain data shared by the core and both edges: what the cluster looks like at one moment.
//!
//! The cluster edge fills a [`Snapshot`] from watchers (and the container runtime); the pure
//! core (`diagnose`, `fix`) and the UI only read it. Objects are `Arc`s straight out of the
//! kube-runtime reflector stores, so building a snapshot never deep-copies 5,000 pods.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use serde::{Deserialize, Serialize};

pub use crate::object_list::ObjectList;

/// Where one node image entry was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageSources {
    /// Listed in `Node.status.images` (kubelet-reported, capped at 50, largest first).
    pub api: bool,
    /// Listed by the node's container runtime (`crictl images` through `docker|podman exec`).
    pub runtime: bool,
}

/// One image held by a node's container runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NodeImage {
    /// Every name the runtime knows the image by: tags (`repo:tag`) and digests (`repo@sha256:…`),
    /// exactly as reported (containerd reports full names, e.g. `docker.io/library/nginx:1.27`).
    pub names: Vec<String>,
    /// Image ID (`sha256:…`) when known (the runtime reports it; the API does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default)]
    pub sources: ImageSources,
}

/// How the runtime listing of a node went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RuntimeListing {
    /// No runtime listing was attempted (not a Kind cluster, `--runtime none`, or the sim).
    #[default]
    NotTried,
    /// `RUNTIME exec NODE crictl images -o json` answered.
    Ok { runtime: String },
    /// The runtime was tried and failed; `reason` is one sentence for the user.
    Failed { runtime: String, reason: String },
}

/// The images of one node, merged from the API and (when available) the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NodeImages {
    pub node: String,
    pub images: Vec<NodeImage>,
    /// `Node.status.images` had the kubelet's maximum of 50 entries, so smaller images may be
    /// missing from the API view. Only matters when the runtime listing did not succeed.
    pub api_capped: bool,
    pub runtime: RuntimeListing,
}

impl NodeImages {
    /// True when the list may be incomplete: the API list is capped and no runtime list filled it.
    pub fn maybe_incomplete(&self) -> bool {
        self.api_capped && !matches!(self.runtime, RuntimeListing::Ok { .. })
    }
}

/// A resource kindscope watches, named as the API's plural (`pods`) in `Snapshot::resources`
/// and in bundles. Declared in the order of those names, so a map keyed by it orders (and
/// serialises) exactly as the names did; it borrows as its name, so `get("pods")` works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    Deployments,
    Events,
    Nodes,
    Pods,
    ReplicaSets,
}

impl Resource {
    /// Every watched resource, in the order the feed starts them.
    pub const ALL: [Resource; 5] = [
        Resource::Nodes,
        Resource::Pods,
        Resource::Deployments,
        Resource::ReplicaSets,
        Resource::Events,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Deployments => "deployments",
            Resource::Events => "events",
            Resource::Nodes => "nodes",
            Resource::Pods => "pods",
            Resource::ReplicaSets => "replicasets",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Resource::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::borrow::Borrow<str> for Resource {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Connection state of one watched resource, for banners and stale markers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ResourceState {
    /// Initial list not complete yet.
    #[default]
    Loading,
    /// Initial list done, watch running.
    Live,
    /// The watch failed and is retrying, or the server went silent; the data shown is the
    /// last known. `since`: when the server last answered (RFC 3339), when known.
    Stale {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<String>,
    },
    /// 403: the user may not list/watch this resource.
    Forbidden { reason: String },
}

/// Everything kindscope knows about the cluster at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// kubeconfig context name (`kind-gateway-debug`).
    pub context: String,
    /// API server URL of the context.
    #[serde(default)]
    pub server: String,
    /// Namespace filter (None = all namespaces).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Every list is an [`ObjectList`]: shared between snapshots, in (namespace, name) order.
    pub nodes: ObjectList<Node>,
    /// Node name → images, for every node in `nodes`. Shared: the feed publishes a snapshot
    /// per change, and the node lists (nodes × images) change far less often than pods.
    pub node_images: Arc<BTreeMap<String, NodeImages>>,
    pub pods: ObjectList<Pod>,
    pub deployments: ObjectList<Deployment>,
    pub replicasets: ObjectList<ReplicaSet>,
    pub events: ObjectList<Event>,
    /// Per resource (`pods`, `nodes`, `deployments`, `replicasets`, `events`) state.
    #[serde(default)]
    pub resources: BTreeMap<Resource, ResourceState>,
}

impl Snapshot {
    /// Node images built only from `Node.status.images` (what the API shows).
    /// The cluster edge merges runtime listings on top of this.
    pub fn api_node_images(node: &Node) -> NodeImages {
        let name = node.metadata.name.clone().unwrap_or_default();
        let list = node
            .status
            .as_ref()
            .and_then(|s| s.images.as_ref())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        NodeImages {
            node: name,
            images: list
                .iter()
                .map(|i| NodeImage {
                    names: i.names.clone().unwrap_or_default(),
                    id: None,
                    size_bytes: i
                        .size_bytes
                        .and_then(|s| u64::try_from(s).ok())
                        .unwrap_or(0),
                    sources: ImageSources {
                        api: true,
                        runtime: false,
                    },
                })
                .collect(),
            api_capped: list.len() >= crate::NODE_STATUS_MAX_IMAGES,
            runtime: RuntimeListing::NotTried,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_serialise_and_order_as_their_names() {
        let states: BTreeMap<Resource, ResourceState> = Resource::ALL
            .into_iter()
            .map(|r| (r, ResourceState::Live))
            .collect();
        let json = serde_json::to_string(&states).unwrap_or_default();
        let by_name: BTreeMap<&str, ResourceState> = Resource::ALL
            .into_iter()
            .map(|r| (r.as_str(), ResourceState::Live))
            .collect();
        assert_eq!(json, serde_json::to_string(&by_name).unwrap_or_default());
        assert!(json.starts_with(r#"{"deployments":"#), "{json}");
        let back: BTreeMap<Resource, ResourceState> =
            serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, states);
        assert_eq!(states.get("replicasets"), Some(&ResourceState::Live));
        assert_eq!(Resource::parse("replicasets"), Some(Resource::ReplicaSets));
        assert_eq!(Resource::parse("services"), None);
    }
}
