//! The apiserver's basic validation, with its field paths and wording
//! (`spec.template.spec.containers[0].image: Required value`), so that clients see the same
//! 422 Invalid answers a real cluster gives.

use serde_json::{Value, json};

use super::super::defaults;
use super::super::resources::ResourceType;
use super::super::status::ApiError;

/// A 422 Invalid, with its field errors as `(field, message)` for `details.causes`.
pub(crate) struct Invalid {
    pub error: ApiError,
    pub causes: Vec<(String, String)>,
}

impl Invalid {
    /// Keep the causes for the response and hand back the error.
    pub fn record(self, sink: &std::cell::RefCell<Vec<(String, String)>>) -> ApiError {
        sink.borrow_mut().extend(self.causes);
        self.error
    }
}

fn invalid(rt: &ResourceType, obj: &Value, errs: Vec<String>) -> Result<(), Box<Invalid>> {
    if errs.is_empty() {
        return Ok(());
    }
    let causes = errs
        .iter()
        .map(|e| match e.split_once(": ") {
            Some((f, m)) => (f.to_string(), m.to_string()),
            None => (String::new(), e.clone()),
        })
        .collect();
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let why = if errs.len() == 1 {
        errs[0].clone()
    } else {
        format!("[{}]", errs.join(", "))
    };
    Err(Box::new(Invalid {
        error: ApiError::invalid(rt, name, &why),
        causes,
    }))
}

/// Is `s` a lowercase RFC 1123 subdomain?
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Go's `%#v` of a `map[string]string`, as the apiserver prints labels in messages.
fn go_map(labels: &Value) -> String {
    let mut kv: Vec<String> = labels
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{}:{}", json!(k), json!(v.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default();
    kv.sort();
    format!("map[string]string{{{}}}", kv.join(", "))
}

fn pod_spec(path: &str, spec: &Value, errs: &mut Vec<String>) {
    let containers = spec["containers"].as_array();
    if containers.is_none_or(Vec::is_empty) {
        errs.push(format!("{path}.containers: Required value"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for field in ["initContainers", "containers"] {
        for (i, c) in spec[field].as_array().into_iter().flatten().enumerate() {
            let p = format!("{path}.{field}[{i}]");
            match c["name"].as_str().filter(|n| !n.is_empty()) {
                None => errs.push(format!("{p}.name: Required value")),
                Some(n) if seen.contains(&n) => {
                    errs.push(format!("{p}.name: Duplicate value: {}", json!(n)))
                }
                Some(n) => seen.push(n),
            }
            if c["image"].as_str().is_none_or(|s| s.trim().is_empty()) {
                errs.push(format!("{p}.image: Required value"));
            }
            if let Some(policy) = c["imagePullPolicy"].as_str()
                && !matches!(policy, "Always" | "IfNotPresent" | "Never")
            {
                errs.push(format!(
                    "{p}.imagePullPolicy: Unsupported value: {}: supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                    json!(policy)
                ));
            }
        }
    }
}

/// Does a LabelSelector's `matchLabels` hold within these labels?
fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let ml_ok = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let me_ok = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or("");
            let val = labels.get(key).and_then(Value::as_str);
            let in_values = |v: &str| {
                e["values"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().any(|x| x.as_str() == Some(v)))
            };
            match e["operator"].as_str().unwrap_or("") {
                "In" => val.is_some_and(in_values),
                "NotIn" => val.is_none_or(|v| !in_values(v)),
                "Exists" => val.is_some(),
                "DoesNotExist" => val.is_none(),
                _ => false,
            }
        });
    ml_ok && me_ok
}

/// Validate an object about to be stored.
pub(super) fn validate(rt: &ResourceType, obj: &Value) -> Result<(), Box<Invalid>> {
    let mut errs = Vec::new();
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    if !name.is_empty() && rt.kind != "Event" && !is_dns_subdomain(name) {
        errs.push(format!(
            "metadata.name: Invalid value: {}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            json!(name)
        ));
    }
    match rt.kind {
        "Pod" => pod_spec("spec", &obj["spec"], &mut errs),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            let spec = &obj["spec"];
            if let Some(r) = spec["replicas"].as_i64()
                && r < 0
            {
                errs.push(format!(
                    "spec.replicas: Invalid value: {r}: must be greater than or equal to 0"
                ));
            }
            let selector = &spec["selector"];
            let labels = &spec["template"]["metadata"]["labels"];
            let empty_selector = selector["matchLabels"]
                .as_object()
                .is_none_or(|m| m.is_empty())
                && selector["matchExpressions"]
                    .as_array()
                    .is_none_or(|m| m.is_empty());
            if empty_selector {
                errs.push("spec.selector: Required value".into());
            } else if !selector_matches(selector, labels) {
                errs.push(format!(
                    "spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`",
                    go_map(labels)
                ));
            }
            pod_spec("spec.template.spec", &spec["template"]["spec"], &mut errs);
        }
        _ => {}
    }
    invalid(rt, obj, errs)
}

/// The rules an update must also meet: immutable fields.
pub(super) fn validate_update(
    rt: &ResourceType,
    old: &Value,
    new: &Value,
) -> Result<(), Box<Invalid>> {
    let mut errs = Vec::new();
    match rt.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
            if old["spec"]["selector"] != new["spec"]["selector"] =>
        {
            errs.push(format!(
                "spec.selector: Invalid value: {}: field is immutable",
                new["spec"]["selector"]
            ));
        }
        "Pod" => {
            // Only images (and a few scheduling fields) of a pod may change after creation.
            let masked = |pod: &Value| {
                let mut spec = pod["spec"].clone();
                for field in ["containers", "initContainers"] {
                    if let Some(cs) = spec[field].as_array_mut() {
                        for c in cs {
                            c["image"] = Value::Null;
                        }
                    }
                }
                if let Some(m) = spec.as_object_mut() {
                    m.remove("activeDeadlineSeconds");
                    m.remove("tolerations");
                    m.remove("terminationGracePeriodSeconds");
                }
                spec
            };
            // Compare defaulted forms: either side may have been stored or sent without defaults.
            let (mut old_defaulted, mut new_defaulted) = (old.clone(), new.clone());
            defaults::apply(rt, &mut old_defaulted);
            defaults::apply(rt, &mut new_defaulted);
            if masked(&old_defaulted) != masked(&new_defaulted) {
                errs.push(
                    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into(),
                );
            }
        }
        _ => {}
    }
    invalid(rt, new, errs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, PODS};

    fn deploy(labels: Value, image: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    #[test]
    fn deployment_rules_use_apiserver_wording() {
        assert!(validate(&DEPLOYMENTS, &deploy(json!({"app": "web"}), json!("nginx"))).is_ok());
        let Invalid { error: e, causes } =
            *validate(&DEPLOYMENTS, &deploy(json!({"app": "web"}), Value::Null))
                .expect_err("no image is invalid");
        assert_eq!(
            causes,
            vec![(
                "spec.template.spec.containers[0].image".to_string(),
                "Required value".to_string()
            )]
        );
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].image: Required value"
        );
        let e = validate(&DEPLOYMENTS, &deploy(json!({"app": "api"}), json!("nginx")))
            .expect_err("selector")
            .error;
        assert!(
            e.message.contains(
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\"}: `selector` does not match template `labels`"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn pod_rules() {
        let e = validate(
            &PODS,
            &json!({"metadata": {"name": "Bad_Name"}, "spec": {}}),
        )
        .expect_err("invalid");
        assert!(
            e.error
                .message
                .starts_with("Pod \"Bad_Name\" is invalid: ["),
            "{}",
            e.error.message
        );
        assert!(e.error.message.contains("spec.containers: Required value"));
        let old = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}});
        let new_image = json!({"spec": {"containers": [{"name": "a", "image": "x:2"}]}});
        assert!(validate_update(&PODS, &old, &new_image).is_ok());
        let new_name = json!({"spec": {"containers": [{"name": "b", "image": "x:1"}]}});
        assert!(validate_update(&PODS, &old, &new_name).is_err());
    }
}
