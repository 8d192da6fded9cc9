//! Finding → FixPlan: a JSON patch guarded by `test` ops on the old values, and its undo.
//! Pure: the plan is computed from the finding and the snapshot; applying lives in `cluster`.
//!
//! Patch shape (Deployment; bare pods use `/spec/containers/I/…`, init containers
//! `…/initContainers/I/…`):
//! ```json
//! [{"op":"test","path":"/spec/template/spec/containers/0/image","value":"OLD"},
//!  {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"NEW"}]
//! ```
//! plus `test`+`replace` (or `add` when the field is absent) of `imagePullPolicy` when the pull
//! policy changes. The index is the container's index at planning time; the `test` ops make a
//! concurrent edit fail the patch (HTTP 422) instead of overwriting it. Both the patch and its
//! undo start with `{"op":"test","path":"/metadata/uid","value":UID}`: an object deleted and
//! recreated under the same name (same image, new uid) is another object and is not patched.

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::diagnose::{Finding, FindingKind};
use crate::imageref::ImageRef;
use crate::model::Snapshot;

/// The object a plan patches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Pod` …
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// A planned, reversible change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixPlan {
    pub target: Target,
    pub container: String,
    /// JSON patch ops: `test` guards first, then `replace`/`add`.
    pub patch: serde_json::Value,
    /// The patch that puts the old values back, guarded by `test` ops on the new values.
    pub undo: serde_json::Value,
    pub image_before: String,
    pub image_after: String,
    /// Pull policy before (None = field absent) and after.
    pub pull_policy_before: Option<String>,
    pub pull_policy_after: Option<String>,
}

/// A change to one container's image and/or pull policy, as a user or a finding asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub target: Target,
    pub container: String,
    /// The image the container must still have; the plan refuses a stale change.
    pub image_before: String,
    /// New image (None = keep).
    pub image_after: Option<String>,
    /// New pull policy (None = keep).
    pub pull_policy_after: Option<String>,
}

/// The plan for a finding, when a safe patch exists: the finding suggests a new image and/or
/// pull policy, the workload is a Deployment (or a bare Pod for an image-only change: a pod's
/// pull policy is immutable), and its container still has the image the finding saw.
/// `not-on-node`, `not-loaded` and `renamed-on-import` are never patched, and a suggested image
/// taken from the nodes is patched in only when every node concerned resolves it as written.
pub fn plan(finding: &Finding, snap: &Snapshot) -> Option<FixPlan> {
    let from_nodes = matches!(
        finding.kind,
        FindingKind::RegistryPrefix | FindingKind::TagMismatch | FindingKind::UnresolvableName
    );
    if !from_nodes
        && !matches!(
            finding.kind,
            FindingKind::PullPolicy | FindingKind::InvalidReference
        )
    {
        return None;
    }
    if from_nodes
        && let Some(image) = finding.suggested_image.as_deref()
        && !resolves_on_all(image, &finding.nodes, snap)
    {
        return None;
    }
    let (kind, name) = finding.workload.split_once('/')?;
    plan_change(
        &Change {
            target: Target {
                kind: kind.to_string(),
                namespace: finding.namespace.clone(),
                name: name.to_string(),
            },
            container: finding.container.clone(),
            image_before: finding.image.clone(),
            image_after: finding.suggested_image.clone(),
            pull_policy_after: finding.suggested_pull_policy.clone(),
        },
        snap,
    )
}

/// The guarded patch for an explicit change (e.g. a candidate the user picked), or None when
/// the target is not a Deployment or Pod in the snapshot, the container is gone or has another
/// image by now, nothing would change, or a Pod's pull policy would have to change.
pub fn plan_change(change: &Change, snap: &Snapshot) -> Option<FixPlan> {
    let t = &change.target;
    let named = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        meta.name.as_deref() == Some(t.name.as_str())
            && meta.namespace.as_deref().unwrap_or("default") == t.namespace
    };
    let (spec, base, uid): (&PodSpec, &str, Option<&str>) = match t.kind.as_str() {
        "Deployment" => {
            let d = snap.deployments.iter().find(|d| named(&d.metadata))?;
            (
                d.spec.as_ref()?.template.spec.as_ref()?,
                "/spec/template/spec",
                d.metadata.uid.as_deref(),
            )
        }
        "Pod" if change.pull_policy_after.is_none() => {
            let p = snap.pods.iter().find(|p| named(&p.metadata))?;
            (p.spec.as_ref()?, "/spec", p.metadata.uid.as_deref())
        }
        _ => return None,
    };
    let (list, index, c) = find_container(spec, &change.container)?;
    let old_image = c.image.as_deref().unwrap_or("");
    if old_image != change.image_before {
        return None;
    }
    let old_policy = c.image_pull_policy.clone();
    let new_image = change.image_after.clone().filter(|i| i != old_image);
    let new_policy = change
        .pull_policy_after
        .clone()
        .filter(|p| Some(p) != old_policy.as_ref());
    if new_image.is_none() && new_policy.is_none() {
        return None;
    }
    let image_path = format!("{base}/{list}/{index}/image");
    let policy_path = format!("{base}/{list}/{index}/imagePullPolicy");
    let image_after = new_image.clone().unwrap_or_else(|| old_image.to_string());

    // The identity first: a recreated object fails the patch (and the undo) before any value.
    let identity: Vec<Value> = uid
        .map(|u| op_value("test", "/metadata/uid", u))
        .into_iter()
        .collect();
    let mut tests = identity.clone();
    tests.push(op_value("test", &image_path, old_image));
    let mut writes = Vec::new();
    let mut undo_tests = identity;
    undo_tests.push(op_value("test", &image_path, &image_after));
    let mut undo_writes = Vec::new();
    if let Some(n) = &new_image {
        writes.push(op_value("replace", &image_path, n));
        undo_writes.push(op_value("replace", &image_path, old_image));
    }
    if let Some(p) = &new_policy {
        match &old_policy {
            Some(old) => {
                tests.push(op_value("test", &policy_path, old));
                writes.push(op_value("replace", &policy_path, p));
                undo_writes.push(op_value("replace", &policy_path, old));
            }
            None => {
                writes.push(op_value("add", &policy_path, p));
                undo_writes.push(json!({"op": "remove", "path": policy_path}));
            }
        }
        undo_tests.push(op_value("test", &policy_path, p));
    }
    tests.extend(writes);
    undo_tests.extend(undo_writes);
    Some(FixPlan {
        target: t.clone(),
        container: change.container.clone(),
        patch: Value::Array(tests),
        undo: Value::Array(undo_tests),
        image_before: old_image.to_string(),
        image_after,
        pull_policy_after: new_policy.or_else(|| old_policy.clone()),
        pull_policy_before: old_policy,
    })
}

/// Every node named resolves a request for `image` as written: it lists the exact name
/// containerd looks the request up by (a guard against patching to a `repo:tag@digest` the
/// runtime cannot resolve). A node kindscope knows nothing about cannot vouch for it.
fn resolves_on_all(image: &str, nodes: &[String], snap: &Snapshot) -> bool {
    let Ok(want) = ImageRef::parse(image) else {
        return false;
    };
    !nodes.is_empty()
        && nodes.iter().all(|n| {
            snap.node_images.get(n).is_some_and(|ni| {
                ni.images
                    .iter()
                    .flat_map(|i| &i.names)
                    .any(|held| ImageRef::parse(held).is_ok_and(|h| want.resolved_by(&h)))
            })
        })
}

/// (`containers`|`initContainers`, index, container) by name.
fn find_container<'s>(
    spec: &'s PodSpec,
    name: &str,
) -> Option<(&'static str, usize, &'s Container)> {
    let find = |list: &'s [Container]| list.iter().enumerate().find(|(_, c)| c.name == name);
    if let Some((i, c)) = find(&spec.containers) {
        return Some(("containers", i, c));
    }
    find(spec.init_containers.as_deref().unwrap_or(&[])).map(|(i, c)| ("initContainers", i, c))
}

fn op_value(op: &str, path: &str, value: &str) -> Value {
    json!({"op": op, "path": path, "value": value})
}

#[cfg(test)]
mod tests;
