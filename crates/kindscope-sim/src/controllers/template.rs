//! Pod templates compared as the deployment controller compares them
//! (pkg/controller/deployment/util `EqualIgnoreHash`: both templates without the
//! `pod-template-hash` label, then `apiequality.Semantic.DeepEqual`). On typed Go objects a
//! JSON `null` is the zero value and nil and empty maps or slices are equal, so
//! `creationTimestamp: null` (which `kubectl rollout undo` writes back with the old template)
//! and `resources: {}` change nothing.

use serde_json::{Map, Value};

pub(super) const HASH_LABEL: &str = "pod-template-hash";

/// The template as Semantic.DeepEqual sees it: no nulls, no empty objects or arrays.
fn semantic(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let out: Map<String, Value> = m
                .iter()
                .filter_map(|(k, v)| semantic(v).map(|v| (k.clone(), v)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let out: Vec<Value> = a
                .iter()
                .map(|x| semantic(x).unwrap_or(Value::Null))
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => Some(other.clone()),
    }
}

fn without_hash(template: &Value) -> Option<Value> {
    let mut t = template.clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove(HASH_LABEL);
    }
    semantic(&t)
}

/// `EqualIgnoreHash`.
pub(super) fn equal_ignore_hash(a: &Value, b: &Value) -> bool {
    without_hash(a) == without_hash(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubectl_undo_template_equals_the_replicasets() {
        // The ReplicaSet's template (hash label added by the controller) and what
        // `kubectl rollout undo` puts back into the Deployment (JSON of the Go struct).
        let rs = json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "5d4b"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}});
        let undo = json!({"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.26", "resources": {}}]}});
        assert!(equal_ignore_hash(&rs, &undo));
        let other = json!({"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}});
        assert!(!equal_ignore_hash(&rs, &other));
    }
}
