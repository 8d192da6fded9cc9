//! The resource types the sim serves: names, groups, scope (what discovery reports).

/// One kind of object the sim serves.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ResourceType {
    /// API group; "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Objects of this type are stored (others answer empty lists).
    pub stored: bool,
}

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// `pods` or `deployments.apps`, as kubectl names it in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

macro_rules! rt {
    ($g:expr, $v:expr, $k:expr, $p:expr, $s:expr, $ns:expr, $short:expr, $stored:expr) => {
        ResourceType {
            group: $g,
            version: $v,
            kind: $k,
            plural: $p,
            singular: $s,
            namespaced: $ns,
            short_names: $short,
            stored: $stored,
        }
    };
}

pub static NAMESPACES: ResourceType = rt!(
    "",
    "v1",
    "Namespace",
    "namespaces",
    "namespace",
    false,
    &["ns"],
    true
);
pub static NODES: ResourceType = rt!("", "v1", "Node", "nodes", "node", false, &["no"], true);
pub static PODS: ResourceType = rt!("", "v1", "Pod", "pods", "pod", true, &["po"], true);
pub static EVENTS: ResourceType = rt!("", "v1", "Event", "events", "event", true, &["ev"], true);
pub static SERVICES: ResourceType = rt!(
    "",
    "v1",
    "Service",
    "services",
    "service",
    true,
    &["svc"],
    true
);
pub static CONFIGMAPS: ResourceType = rt!(
    "",
    "v1",
    "ConfigMap",
    "configmaps",
    "configmap",
    true,
    &["cm"],
    true
);
pub static SERVICE_ACCOUNTS: ResourceType = rt!(
    "",
    "v1",
    "ServiceAccount",
    "serviceaccounts",
    "serviceaccount",
    true,
    &["sa"],
    true
);
pub static DEPLOYMENTS: ResourceType = rt!(
    "apps",
    "v1",
    "Deployment",
    "deployments",
    "deployment",
    true,
    &["deploy"],
    true
);
pub static REPLICASETS: ResourceType = rt!(
    "apps",
    "v1",
    "ReplicaSet",
    "replicasets",
    "replicaset",
    true,
    &["rs"],
    true
);
pub static STATEFULSETS: ResourceType = rt!(
    "apps",
    "v1",
    "StatefulSet",
    "statefulsets",
    "statefulset",
    true,
    &["sts"],
    true
);
pub static DAEMONSETS: ResourceType = rt!(
    "apps",
    "v1",
    "DaemonSet",
    "daemonsets",
    "daemonset",
    true,
    &["ds"],
    true
);

/// Every resource type the sim knows, in discovery order.
pub static RESOURCES: &[&ResourceType] = &[
    &NAMESPACES,
    &NODES,
    &PODS,
    &EVENTS,
    &SERVICES,
    &CONFIGMAPS,
    &SERVICE_ACCOUNTS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &STATEFULSETS,
    &DAEMONSETS,
];

/// Find a resource type by group and plural name.
pub fn resource(group: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .copied()
        .find(|r| r.group == group && r.plural == plural)
}

/// Find a resource type by apiVersion and kind (for manifests).
pub fn resource_for_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .copied()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}
