//! A fix plan built from a finding's own patch. Used until the core's planner is wired in
//! (see `tui::Options::plan`); it inverts the guarded patch to get the undo.

use serde_json::{Value, json};

use crate::diagnose::Finding;
use crate::fix::{FixPlan, Target};
use crate::model::Snapshot;

fn container_policy(snap: &Snapshot, f: &Finding, kind: &str, name: &str) -> Option<String> {
    if kind != "Deployment" {
        return None;
    }
    let d = snap.deployments.iter().find(|d| {
        d.metadata.name.as_deref() == Some(name)
            && d.metadata.namespace.as_deref() == Some(f.namespace.as_str())
    })?;
    let spec = d.spec.as_ref()?.template.spec.as_ref()?;
    let list = if f.init_container {
        spec.init_containers.as_ref()?
    } else {
        &spec.containers
    };
    list.iter()
        .find(|c| c.name == f.container)?
        .image_pull_policy
        .clone()
}

/// The plan for a finding that carries a patch; None when it has none.
pub fn from_finding(f: &Finding, snap: &Snapshot) -> Option<FixPlan> {
    let ops = f.patch.as_ref()?.as_array()?;
    let (kind, name) = f.workload.split_once('/')?;
    let mut undo = Vec::new();
    for op in ops {
        let path = op.get("path")?.as_str()?;
        let new = op.get("value").cloned().unwrap_or(Value::Null);
        match op.get("op")?.as_str()? {
            "replace" => {
                let old = ops
                    .iter()
                    .find(|o| o["op"] == "test" && o["path"] == path)?
                    .get("value")?
                    .clone();
                undo.push(json!({"op": "test", "path": path, "value": new}));
                undo.push(json!({"op": "replace", "path": path, "value": old}));
            }
            "add" => {
                undo.push(json!({"op": "test", "path": path, "value": new}));
                undo.push(json!({"op": "remove", "path": path}));
            }
            _ => {}
        }
    }
    let policy_before = container_policy(snap, f, kind, name);
    Some(FixPlan {
        target: Target {
            kind: kind.to_string(),
            namespace: f.namespace.clone(),
            name: name.to_string(),
        },
        container: f.container.clone(),
        patch: Value::Array(ops.clone()),
        undo: Value::Array(undo),
        image_before: f.image.clone(),
        image_after: f.suggested_image.clone().unwrap_or_else(|| f.image.clone()),
        pull_policy_after: f
            .suggested_pull_policy
            .clone()
            .or_else(|| policy_before.clone()),
        pull_policy_before: policy_before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::FindingKind;

    #[test]
    fn undo_inverts_the_guarded_replace() {
        let f = Finding {
            kind: FindingKind::RegistryPrefix,
            namespace: "default".into(),
            workload: "Deployment/gateway".into(),
            container: "gateway".into(),
            init_container: false,
            image: "kubernaut/gateway:debug".into(),
            suggested_image: Some("localhost/kubernaut/gateway:debug".into()),
            suggested_pull_policy: None,
            candidates: vec![],
            nodes: vec![],
            pods: vec![],
            evidence: vec![],
            summary: String::new(),
            command: None,
            patch: Some(json!([
                {"op":"test","path":"/spec/template/spec/containers/0/image","value":"kubernaut/gateway:debug"},
                {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"localhost/kubernaut/gateway:debug"}
            ])),
        };
        let plan = from_finding(&f, &Snapshot::default()).expect("plan");
        assert_eq!(plan.target.name, "gateway");
        assert_eq!(plan.image_after, "localhost/kubernaut/gateway:debug");
        assert_eq!(
            plan.undo,
            json!([
                {"op":"test","path":"/spec/template/spec/containers/0/image","value":"localhost/kubernaut/gateway:debug"},
                {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"kubernaut/gateway:debug"}
            ])
        );
        let no_patch = Finding { patch: None, ..f };
        assert!(from_finding(&no_patch, &Snapshot::default()).is_none());
    }
}
