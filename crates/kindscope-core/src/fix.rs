//! Change → FixPlan: a JSON patch guarded by `test` ops on the old values, and its undo.
//! Pure: the plan is computed from the change and the snapshot; applying lives in `cluster`.
//! The diagnosis builds each finding's plan with [`plan_change`] (`diagnose::plan`); this
//! module knows nothing of findings, so the core has no circle.
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

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::k8s::{ContainerAt, find_container, namespace};
use crate::model::Snapshot;
use crate::workload::{WorkloadKind, WorkloadRef};

/// The object a plan patches: a workload in its namespace. Serialised as
/// `{"kind","namespace","name"}` (the journal's format).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Pod` …
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
}

impl Target {
    pub fn new(namespace: impl Into<String>, workload: &WorkloadRef) -> Self {
        Target {
            kind: workload.kind(),
            namespace: namespace.into(),
            name: workload.name().to_string(),
        }
    }

    /// The workload, as findings name it (`Deployment/gateway`).
    pub fn workload(&self) -> WorkloadRef {
        WorkloadRef::new(self.kind.clone(), &self.name)
    }
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

/// The guarded patch for an explicit change (e.g. a candidate the user picked), or None when
/// the target is not a Deployment or Pod in the snapshot, the container is gone or has another
/// image by now, nothing would change, or a Pod's pull policy would have to change.
pub fn plan_change(change: &Change, snap: &Snapshot) -> Option<FixPlan> {
    let t = &change.target;
    if t.kind == WorkloadKind::Pod && change.pull_policy_after.is_some() {
        return None;
    }
    let Patchable { spec, base, uid } = patchable(snap, t)?;
    let ContainerAt {
        list,
        index,
        container: c,
    } = find_container(spec, &change.container)?;
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

/// The pod spec a plan patches, where it sits in the object, and the object's uid.
pub struct Patchable<'s> {
    pub spec: &'s PodSpec,
    /// JSON pointer to the spec: `/spec/template/spec` (Deployment) or `/spec` (Pod).
    pub base: &'static str,
    pub uid: Option<&'s str>,
}

/// The Deployment's template or the bare Pod's spec that `t` names in `snap`; None for any
/// other kind (kindscope patches only those two) or when the object is not there.
pub fn patchable<'s>(snap: &'s Snapshot, t: &Target) -> Option<Patchable<'s>> {
    let named = |meta: &ObjectMeta| {
        meta.name.as_deref() == Some(t.name.as_str()) && namespace(meta) == t.namespace
    };
    match &t.kind {
        WorkloadKind::Deployment => {
            let d = snap.deployments.iter().find(|d| named(&d.metadata))?;
            Some(Patchable {
                spec: d.spec.as_ref()?.template.spec.as_ref()?,
                base: "/spec/template/spec",
                uid: d.metadata.uid.as_deref(),
            })
        }
        WorkloadKind::Pod => {
            let p = snap.pods.iter().find(|p| named(&p.metadata))?;
            Some(Patchable {
                spec: p.spec.as_ref()?,
                base: "/spec",
                uid: p.metadata.uid.as_deref(),
            })
        }
        _ => None,
    }
}

fn op_value(op: &str, path: &str, value: &str) -> Value {
    json!({"op": op, "path": path, "value": value})
}

#[cfg(test)]
mod tests;
