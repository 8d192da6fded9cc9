//! Kubernetes manifests as text → the workloads they define, with the position of every
//! container's `image` and `imagePullPolicy` scalar. Pure: text in, data out.
//!
//! ```text
//! yaml.rs  YAML/JSON → positioned nodes (granit-parser events)
//! edit.rs  the in-place edits a finding calls for, and the unified diff
//! ```
//!
//! Kinds read: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
//! Job (pod template at `spec.template.spec`), CronJob (`spec.jobTemplate.spec.template.spec`),
//! and any `…List` with `items`.

pub mod edit;
pub mod yaml;

use k8s_openapi::api::core::v1::{Container, PodSpec};

use crate::diagnose::preflight::PlannedWorkload;
use yaml::{Node, Pos, Style};

/// One container's image field in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageField {
    /// `Deployment/gateway`
    pub workload: String,
    pub namespace: String,
    pub container: String,
    pub init: bool,
    pub image: String,
    /// Position of the image scalar; `None` when it cannot be edited (alias, block scalar,
    /// anchored).
    pub image_pos: Option<Pos>,
    pub image_style: Style,
    /// Position of the `image` key (for inserting a sibling `imagePullPolicy`).
    pub image_key: Option<Pos>,
    pub policy: Option<String>,
    pub policy_pos: Option<Pos>,
    pub policy_style: Style,
}

/// What one file defines.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub workloads: Vec<PlannedWorkload>,
    pub fields: Vec<ImageField>,
}

/// True when the text looks like a template (Helm, Go templates, Jinja): such files are
/// checked when they parse, but never edited.
pub fn is_templated(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// Parse one file's text. `default_ns` is used for objects without a namespace.
pub fn parse(text: &str, default_ns: &str) -> Result<Parsed, yaml::YamlError> {
    let docs = yaml::parse(text)?;
    let mut out = Parsed::default();
    for d in &docs {
        object(&d.root, default_ns, &mut out);
    }
    Ok(out)
}

fn object(node: &Node, default_ns: &str, out: &mut Parsed) {
    let Some(kind) = node.get("kind").and_then(Node::str) else {
        return;
    };
    if kind.ends_with("List") {
        for item in node.get("items").map(Node::items).unwrap_or(&[]) {
            object(item, default_ns, out);
        }
        return;
    }
    let template: &[&str] = match kind {
        "Pod" => &["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return,
    };
    let Some(spec) = node.path(template) else {
        return;
    };
    let name = node
        .path(&["metadata", "name"])
        .and_then(Node::str)
        .unwrap_or("")
        .to_string();
    let namespace = node
        .path(&["metadata", "namespace"])
        .and_then(Node::str)
        .filter(|n| !n.is_empty())
        .unwrap_or(default_ns)
        .to_string();
    let workload = format!("{kind}/{name}");
    let mut containers = Vec::new();
    let mut init_containers = Vec::new();
    for (key, init) in [("initContainers", true), ("containers", false)] {
        for c in spec.get(key).map(Node::items).unwrap_or(&[]) {
            let cname = c.get("name").and_then(Node::str).unwrap_or("").to_string();
            let (image, image_pos, image_style) = scalar(c.get("image"));
            let (policy, policy_pos, policy_style) = scalar(c.get("imagePullPolicy"));
            out.fields.push(ImageField {
                workload: workload.clone(),
                namespace: namespace.clone(),
                container: cname.clone(),
                init,
                image: image.clone().unwrap_or_default(),
                image_pos,
                image_style,
                image_key: c.key_pos("image"),
                policy: policy.clone(),
                policy_pos,
                policy_style,
            });
            let container = Container {
                name: cname,
                image,
                image_pull_policy: policy,
                ..Container::default()
            };
            if init {
                init_containers.push(container);
            } else {
                containers.push(container);
            }
        }
    }
    out.workloads.push(PlannedWorkload {
        namespace,
        kind: kind.to_string(),
        name,
        spec: PodSpec {
            containers,
            init_containers: (!init_containers.is_empty()).then_some(init_containers),
            ..scheduling(spec)
        },
    });
}

/// The parts of a pod spec that decide where it may run (a field that does not read as the
/// API type is left out, which only widens the set of nodes).
fn scheduling(spec: &Node) -> PodSpec {
    let json = spec.to_json();
    let field = |k: &str| json.get(k).cloned().unwrap_or(serde_json::Value::Null);
    PodSpec {
        node_name: serde_json::from_value(field("nodeName")).ok().flatten(),
        node_selector: serde_json::from_value(field("nodeSelector")).ok().flatten(),
        tolerations: serde_json::from_value(field("tolerations")).ok().flatten(),
        ..PodSpec::default()
    }
}

/// A scalar's value and, when it may be edited in place, its position.
fn scalar(node: Option<&Node>) -> (Option<String>, Option<Pos>, Style) {
    match node {
        Some(Node::Scalar {
            value,
            style,
            pos,
            anchored,
        }) => {
            let editable = *style != Style::Block && !anchored;
            (Some(value.clone()), editable.then_some(*pos), *style)
        }
        _ => (None, None, Style::Plain),
    }
}

#[cfg(test)]
mod tests;
