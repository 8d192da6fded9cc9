//! Replaying a triage bundle (`kindscope snapshot -o FILE`) in the sim: the bundle becomes a
//! [`Scenario`] whose nodes hold the same images and whose workloads ask for the same images,
//! so the sim's kubelet reproduces the same failures (`kindscope demo --from FILE`,
//! `kindscope sim serve --from FILE`).
//!
//! What is replayed: the cluster name (from a `kind-NAME` context), the provider (from the
//! nodes' `kind://PROVIDER/…` provider IDs), the Kubernetes version, every node with its role,
//! extra labels and taints, and every image name, id and size its image list held; the
//! namespaces in use; the Deployments; and the pods no replayed controller will recreate, as
//! bare pods. Status, uid, resourceVersion, timestamps and ownerReferences are stripped: the
//! sim's controllers and kubelet rebuild them. The sim's registry serves the images some
//! container ran (they could be had then); every other pull fails, as offline. Not replayed:
//! events (the kubelet emits its own), ReplicaSets (the Deployments make theirs), and Kind's own
//! system workloads (the sim runs its own copies). Environment values stay redacted, as the
//! bundle holds them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8s_openapi::api::core::v1::Node;
use serde_json::{Map, Value, json};

use super::resources::{DEPLOYMENTS, NAMESPACES, PODS};
use super::scenario::{
    BUILTIN_NAMESPACES, DEFAULT_KUBERNETES_VERSION, ImageSpec, Manifest, NodeSpec, Provider, Role,
    Scenario, Taint, valid_sha256,
};
use crate::SimError;
use kindscope_core::bundle::Bundle;
use kindscope_core::imageref::ImageRef;
use kindscope_core::model::RuntimeListing;

const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";
/// Deployments every Kind cluster ships; the sim creates its own.
const KIND_SYSTEM_DEPLOYMENTS: [(&str, &str); 2] = [
    ("kube-system", "coredns"),
    ("local-path-storage", "local-path-provisioner"),
];
/// Metadata the API server or the controllers own.
const SERVER_METADATA: [&str; 9] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "ownerReferences",
    "selfLink",
];

/// Read a bundle and turn it into a scenario; errors name the file (exit 2).
pub fn load(path: &Path) -> Result<Scenario, SimError> {
    let bundle = Bundle::read(path).map_err(|e| SimError::Bundle {
        path: path.to_path_buf(),
        message: e.0,
    })?;
    Ok(scenario_from_bundle(&bundle, &path.display().to_string()))
}

/// The scenario that reproduces `bundle`; `origin` names it in errors (the bundle's path).
pub fn scenario_from_bundle(bundle: &Bundle, origin: &str) -> Scenario {
    let mut nodes: Vec<NodeSpec> = bundle
        .nodes
        .iter()
        .filter_map(|n| node(bundle, n))
        .collect();
    let name = cluster_name(&bundle.context);
    if !nodes.iter().any(|n| n.role == Role::ControlPlane) {
        // A bundle from a managed cluster shows no control-plane node; Kind always has one.
        nodes.insert(
            0,
            NodeSpec {
                name: format!("{name}-control-plane"),
                role: Role::ControlPlane,
                labels: BTreeMap::new(),
                taints: Vec::new(),
                images: Vec::new(),
            },
        );
    }
    let node_names: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let all_deployments: Vec<Value> = bundle
        .deployments
        .iter()
        .filter_map(|d| serde_json::to_value(d).ok())
        .collect();
    // Every Deployment comes back: replayed, or (Kind's own) created by the sim itself.
    let known: BTreeSet<(String, String)> = all_deployments.iter().map(ns_name).collect();
    let deployments: Vec<Value> = all_deployments
        .into_iter()
        .filter(|d| !is_kind_system_deployment(d))
        .collect();
    // ReplicaSets owned by one of them: their pods come back through it.
    let recreated_sets: BTreeSet<(String, String)> = bundle
        .replicasets
        .iter()
        .filter_map(|rs| serde_json::to_value(rs).ok())
        .filter(|rs| {
            owners(rs).any(|(kind, owner)| {
                kind == "Deployment" && known.contains(&(namespace_of(rs), owner.to_string()))
            })
        })
        .map(|rs| ns_name(&rs))
        .collect();
    let pods: Vec<Value> = bundle
        .pods
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| !recreated_by_sim(p, &recreated_sets))
        .collect();

    let mut manifests = Vec::new();
    let namespaces: BTreeSet<String> = deployments
        .iter()
        .chain(&pods)
        .map(namespace_of)
        .filter(|ns| !BUILTIN_NAMESPACES.contains(&ns.as_str()))
        .collect();
    for ns in namespaces {
        manifests.push(manifest(
            &NAMESPACES,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        ));
    }
    for mut d in deployments {
        clean_metadata(&mut d);
        if let Some(annotations) = d["metadata"]["annotations"].as_object_mut() {
            annotations.remove("deployment.kubernetes.io/revision");
        }
        d["apiVersion"] = json!("apps/v1");
        d["kind"] = json!("Deployment");
        manifests.push(manifest(&DEPLOYMENTS, d));
    }
    for mut p in pods {
        clean_metadata(&mut p);
        // Keep the pod on its node when that node is replayed; else let the scheduler choose.
        let on_known_node = p["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| node_names.contains(n));
        if !on_known_node && let Some(spec) = p["spec"].as_object_mut() {
            spec.remove("nodeName");
        }
        p["apiVersion"] = json!("v1");
        p["kind"] = json!("Pod");
        manifests.push(manifest(&PODS, p));
    }
    Scenario {
        origin: origin.to_string(),
        name,
        provider: provider(bundle),
        kubernetes_version: bundle
            .kubernetes_version
            .clone()
            .filter(|v| looks_like_version(v))
            .unwrap_or_else(|| DEFAULT_KUBERNETES_VERSION.to_string()),
        nodes,
        registry: pulled_before(bundle),
        manifests,
    }
}

/// Images some container of the bundle ran (its status has an image ID): they were on a node
/// or pullable then, so a replay may pull them again — even when the node's list left them out
/// (the API's 50-image cap). Every other pull fails, as offline.
fn pulled_before(bundle: &Bundle) -> Vec<ImageSpec> {
    let mut seen = BTreeSet::new();
    bundle
        .pods
        .iter()
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .filter(|c| !c.image_id.is_empty() && ImageRef::parse(&c.image).is_ok())
        .filter(|c| seen.insert(c.image.clone()))
        .map(|c| ImageSpec::named(c.image.clone()))
        .collect()
}

/// `kind-NAME` → NAME; any other context becomes a valid Kind name (`replay` at worst).
fn cluster_name(context: &str) -> String {
    let raw = context.strip_prefix("kind-").unwrap_or(context);
    let mut name: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(50);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "replay".to_string()
    } else {
        name.to_string()
    }
}

fn provider(bundle: &Bundle) -> Provider {
    let from_id = bundle.nodes.iter().find_map(|n| {
        let id = n.spec.as_ref()?.provider_id.as_deref()?;
        id.strip_prefix("kind://")?
            .split('/')
            .next()
            .map(str::to_string)
    });
    let from_listing = || {
        bundle.node_images.values().find_map(|l| match &l.runtime {
            RuntimeListing::Ok { runtime } | RuntimeListing::Failed { runtime, .. } => {
                Some(runtime.clone())
            }
            RuntimeListing::NotTried => None,
        })
    };
    match from_id.or_else(from_listing).as_deref() {
        Some("podman") => Provider::Podman,
        _ => Provider::Docker,
    }
}

fn looks_like_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// True for label keys Kind or Kubernetes set on every node (the sim sets its own).
fn is_system_label(key: &str) -> bool {
    key.split_once('/')
        .is_some_and(|(prefix, _)| prefix.ends_with("kubernetes.io") || prefix.ends_with("k8s.io"))
}

fn node(bundle: &Bundle, n: &Node) -> Option<NodeSpec> {
    let name = n.metadata.name.clone()?;
    let labels = n.metadata.labels.clone().unwrap_or_default();
    let role = if labels.contains_key(CONTROL_PLANE_LABEL) {
        Role::ControlPlane
    } else {
        Role::Worker
    };
    let taints = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        // The control-plane taint comes back by itself; node.kubernetes.io/* are conditions.
        .filter(|t| !is_system_label(&t.key))
        .map(|t| Taint {
            key: t.key,
            value: t.value.unwrap_or_default(),
            effect: t.effect,
        })
        .collect();
    let images = bundle
        .node_images
        .get(&name)
        .map(|list| {
            list.images
                .iter()
                .filter_map(|img| {
                    let names: Vec<String> = img
                        .names
                        .iter()
                        .filter(|n| ImageRef::parse(n).is_ok())
                        .cloned()
                        .collect();
                    (!names.is_empty()).then(|| ImageSpec {
                        names,
                        id: img.id.clone().filter(|id| valid_sha256(id)),
                        size: (img.size_bytes > 0).then_some(img.size_bytes),
                        digest: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(NodeSpec {
        name,
        role,
        labels: labels
            .into_iter()
            .filter(|(k, _)| !is_system_label(k))
            .collect(),
        taints,
        images,
    })
}

fn namespace_of(obj: &Value) -> String {
    obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string()
}

fn ns_name(obj: &Value) -> (String, String) {
    (
        namespace_of(obj),
        obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// (kind, name) of each owner reference.
fn owners(obj: &Value) -> impl Iterator<Item = (&str, &str)> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| Some((o["kind"].as_str()?, o["name"].as_str()?)))
}

fn is_kind_system_deployment(d: &Value) -> bool {
    let (ns, name) = ns_name(d);
    KIND_SYSTEM_DEPLOYMENTS.contains(&(ns.as_str(), name.as_str()))
}

/// Pods the sim will have anyway: those of a replayed Deployment's ReplicaSet, and Kind's own
/// system pods (static pods owned by their Node, DaemonSet pods in kube-system).
fn recreated_by_sim(pod: &Value, recreated_sets: &BTreeSet<(String, String)>) -> bool {
    let ns = namespace_of(pod);
    owners(pod).any(|(kind, name)| match kind {
        "ReplicaSet" => recreated_sets.contains(&(ns.clone(), name.to_string())),
        "Node" | "DaemonSet" => ns == "kube-system",
        _ => false,
    })
}

fn clean_metadata(obj: &mut Value) {
    if let Some(meta) = obj["metadata"].as_object_mut() {
        for key in SERVER_METADATA {
            meta.remove(key);
        }
    }
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
    // Empty maps left by serialisation are noise in the sim's objects.
    if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
    }
}

fn manifest(resource: &'static super::resources::ResourceType, object: Value) -> Manifest {
    let mut object = object;
    if object["metadata"].is_null() {
        object["metadata"] = Value::Object(Map::new());
    }
    Manifest {
        resource,
        object,
        document: 0,
        line: 0,
    }
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
