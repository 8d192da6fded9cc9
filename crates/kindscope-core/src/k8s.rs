//! Kubernetes object helpers shared by the diagnosis, fix, the cluster edge (rollout), the
//! dashboard and the sim: the containers of a pod spec, owners by ownerReferences, and the
//! apiserver's default pull policy. One answer each, so they never disagree (docs/findings.md
//! cites the Kubernetes sources these rules follow).

use std::fmt;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::{Deserialize, Serialize};

use crate::imageref::ImageRef;

/// The label the deployment controller puts on a ReplicaSet and its pods; the ReplicaSet is
/// named `<deployment>-<pod-template-hash>`.
pub const TEMPLATE_HASH: &str = "pod-template-hash";

/// `imagePullPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }

    /// The policy a field names; None for anything else (validation refuses it).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Always" => Some(PullPolicy::Always),
            "IfNotPresent" => Some(PullPolicy::IfNotPresent),
            "Never" => Some(PullPolicy::Never),
            _ => None,
        }
    }

    /// The policy the apiserver gives a container without one, as `SetDefaults_Container` in
    /// kubernetes `pkg/apis/core/v1/defaults.go` does: `Always` when the tag from
    /// `parsers.ParseImageName` is `latest` (explicit, or implied by neither tag nor digest),
    /// else `IfNotPresent`. An unparsable image has no tag there, so it gets `IfNotPresent`.
    pub fn default_for(image: &str) -> Self {
        match ImageRef::parse(image) {
            Ok(r) if r.defaults_to_always() => PullPolicy::Always,
            _ => PullPolicy::IfNotPresent,
        }
    }

    /// The policy in effect: the field when set (an unknown value counts as `IfNotPresent`,
    /// the kubelet's fallthrough), else the default for the image.
    pub fn of(field: Option<&str>, image: &str) -> Self {
        match field.filter(|p| !p.is_empty()) {
            Some(p) => PullPolicy::parse(p).unwrap_or(PullPolicy::IfNotPresent),
            None => PullPolicy::default_for(image),
        }
    }
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for PullPolicy {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for PullPolicy {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The pull policy of a container as written, or the apiserver's default when the field is
/// empty (a snapshot read from a bundle may predate defaulting). Kept as a string: cluster data
/// may hold a value no enum knows, and the diagnosis quotes it.
pub fn effective_pull_policy(c: &Container) -> &str {
    match c.image_pull_policy.as_deref() {
        Some(p) if !p.is_empty() => p,
        _ => PullPolicy::default_for(c.image.as_deref().unwrap_or("")).as_str(),
    }
}

/// Init containers first (flagged `true`), then the containers: the order the kubelet starts
/// them in.
pub fn containers(spec: &PodSpec) -> impl Iterator<Item = (&Container, bool)> {
    spec.init_containers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|c| (c, true))
        .chain(spec.containers.iter().map(|c| (c, false)))
}

/// A container found by name, with where it sits in the spec (for JSON patch paths).
#[derive(Debug, Clone, Copy)]
pub struct ContainerAt<'s> {
    /// `containers` or `initContainers` (the JSON field name).
    pub list: &'static str,
    pub index: usize,
    pub container: &'s Container,
}

impl ContainerAt<'_> {
    pub fn is_init(&self) -> bool {
        self.list == "initContainers"
    }
}

/// The container named `name`; a name is unique across both lists (apiserver validation),
/// and the regular containers are looked at first.
pub fn find_container<'s>(spec: &'s PodSpec, name: &str) -> Option<ContainerAt<'s>> {
    let find = |list: &'s [Container]| list.iter().enumerate().find(|(_, c)| c.name == name);
    if let Some((index, container)) = find(&spec.containers) {
        return Some(ContainerAt {
            list: "containers",
            index,
            container,
        });
    }
    find(spec.init_containers.as_deref().unwrap_or(&[])).map(|(index, container)| ContainerAt {
        list: "initContainers",
        index,
        container,
    })
}

/// The container named `name`, wherever it sits.
pub fn container<'s>(spec: &'s PodSpec, name: &str) -> Option<&'s Container> {
    find_container(spec, name).map(|at| at.container)
}

/// The owner that manages an object: the reference with `controller: true`, else the first.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    let refs = meta.owner_references.as_deref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
}

/// An object's namespace; objects read without one live in `default`.
pub fn namespace(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

/// The pod's (or ReplicaSet's) `pod-template-hash` label.
pub fn template_hash(meta: &ObjectMeta) -> Option<&str> {
    meta.labels.as_ref()?.get(TEMPLATE_HASH).map(String::as_str)
}

/// The one fallback when a pod's ReplicaSet is not known: the deployment controller names it
/// `<deployment>-<pod-template-hash>`, and the pod carries the same hash label. Without the
/// label nothing is guessed (a hand-made ReplicaSet `web-1` is not Deployment `web`).
pub fn deployment_from_rs_name<'n>(rs_name: &'n str, hash: Option<&str>) -> Option<&'n str> {
    rs_name
        .strip_suffix(hash?)?
        .strip_suffix('-')
        .filter(|n| !n.is_empty())
}

/// The controlling owner of an object when it is of `kind` (`ReplicaSet` for a pod,
/// `Deployment` for a ReplicaSet): the one step of pod → ReplicaSet → Deployment.
pub fn owner_of_kind<'m>(meta: &'m ObjectMeta, kind: &str) -> Option<&'m OwnerReference> {
    controller_ref(meta).filter(|r| r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn default_pull_policy_follows_the_apiserver() {
        for (image, want) in [
            ("nginx", PullPolicy::Always),
            ("nginx:latest", PullPolicy::Always),
            (
                "nginx:latest@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                PullPolicy::Always,
            ),
            (
                "nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                PullPolicy::IfNotPresent,
            ),
            ("nginx:1.27", PullPolicy::IfNotPresent),
            ("Not/Valid", PullPolicy::IfNotPresent),
        ] {
            assert_eq!(PullPolicy::default_for(image), want, "{image}");
        }
        assert_eq!(PullPolicy::of(Some(""), "nginx"), PullPolicy::Always);
        assert_eq!(PullPolicy::of(Some("Never"), "nginx"), PullPolicy::Never);
    }

    fn meta(ns: &str, name: &str, owner: Option<(&str, &str)>, hash: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            namespace: Some(ns.into()),
            name: Some(name.into()),
            owner_references: owner.map(|(kind, name)| {
                vec![OwnerReference {
                    kind: kind.into(),
                    name: name.into(),
                    controller: Some(true),
                    ..Default::default()
                }]
            }),
            labels: hash.map(|h| BTreeMap::from([(TEMPLATE_HASH.to_string(), h.to_string())])),
            ..Default::default()
        }
    }

    #[test]
    fn pod_to_deployment_by_owner_or_the_hash_label() {
        let rs = meta(
            "shop",
            "web-abc12",
            Some(("Deployment", "web")),
            Some("abc12"),
        );
        assert_eq!(
            owner_of_kind(&rs, "Deployment").map(|r| r.name.as_str()),
            Some("web")
        );
        assert!(owner_of_kind(&rs, "StatefulSet").is_none());
        let pod = meta(
            "shop",
            "p",
            Some(("ReplicaSet", "api-server-f00")),
            Some("f00"),
        );
        let owner = owner_of_kind(&pod, "ReplicaSet").map(|r| r.name.as_str());
        assert_eq!(owner, Some("api-server-f00"));
        // The ReplicaSet is not known: its name minus the pod's hash label.
        let dep = owner.and_then(|o| deployment_from_rs_name(o, template_hash(&pod)));
        assert_eq!(dep, Some("api-server"));
        // No label: no guess from the last dash (a hand-made `web-1` is not Deployment `web`).
        assert_eq!(deployment_from_rs_name("api-server-f00", None), None);
        assert_eq!(deployment_from_rs_name("-f00", Some("f00")), None);
    }

    #[test]
    fn containers_init_first_and_lookup_by_name() {
        let c = |n: &str| Container {
            name: n.into(),
            ..Default::default()
        };
        let spec = PodSpec {
            containers: vec![c("app"), c("side")],
            init_containers: Some(vec![c("migrate")]),
            ..Default::default()
        };
        let order: Vec<(&str, bool)> = containers(&spec)
            .map(|(c, i)| (c.name.as_str(), i))
            .collect();
        assert_eq!(order, [("migrate", true), ("app", false), ("side", false)]);
        let at = find_container(&spec, "side").map(|a| (a.list, a.index));
        assert_eq!(at, Some(("containers", 1)));
        let init = find_container(&spec, "migrate");
        assert!(init.is_some_and(|a| a.is_init() && a.index == 0));
        assert!(find_container(&spec, "nope").is_none());
    }
}
