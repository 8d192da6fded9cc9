//! The three patch types the apiserver accepts on PATCH: JSON patch (RFC 6902, atomic, with
//! `test`), JSON merge patch (RFC 7386) and strategic merge patch (lists merged by key, with the
//! `$patch`, `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList` directives that
//! kubectl sends).

use serde_json::{Map, Value};

/// A patch type, from the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
}

impl PatchKind {
    /// None for an unsupported media type (the server answers 415).
    pub fn from_content_type(ct: &str) -> Option<PatchKind> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Some(PatchKind::Strategic),
            _ => None,
        }
    }
}

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchError {
    /// The body is not a patch of that type (400 BadRequest).
    Malformed(String),
    /// The patch is well-formed but does not apply, e.g. a failed `test` op (422 Invalid):
    /// the field (`spec.replicas`, or "" when unknown) and what went wrong.
    NotApplicable { field: String, message: String },
    /// A JSON patch `test` op did not match (422, worded as the apiserver words it).
    TestFailed,
}

/// Apply a patch body to a copy of `doc` and return the result; `doc` is never changed.
pub fn apply(kind: PatchKind, doc: &Value, body: &[u8]) -> Result<Value, PatchError> {
    match kind {
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| PatchError::Malformed(format!("invalid JSON patch: {e}")))?;
            let mut out = doc.clone();
            json_patch::patch(&mut out, &ops).map_err(|e| match e.kind {
                json_patch::PatchErrorKind::TestFailed => PatchError::TestFailed,
                _ => PatchError::NotApplicable {
                    field: field_path(e.path.as_str()),
                    message: format!("json patch operation {} failed: {}", e.operation, e.kind),
                },
            })?;
            Ok(out)
        }
        PatchKind::Merge => {
            let p = parse_object(body)?;
            let mut out = doc.clone();
            json_patch::merge(&mut out, &p);
            Ok(out)
        }
        PatchKind::Strategic => {
            let p = parse_object(body)?;
            let mut out = doc.clone();
            strategic_merge(&mut out, &p).map_err(|message| PatchError::NotApplicable {
                field: String::new(),
                message,
            })?;
            Ok(out)
        }
    }
}

/// `/spec/containers/0/image` → `spec.containers[0].image`, as the apiserver names fields.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn parse_object(body: &[u8]) -> Result<Value, PatchError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| PatchError::Malformed(format!("invalid patch body: {e}")))?;
    if !v.is_object() {
        return Err(PatchError::Malformed(
            "the patch body must be a JSON object".into(),
        ));
    }
    Ok(v)
}

/// Apply a strategic merge patch in place.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return Ok(());
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(t) = target.as_object_mut() {
        merge_map(t, p)?;
    }
    Ok(())
}

fn directive(v: &Value) -> Option<&str> {
    v.get("$patch").and_then(Value::as_str)
}

/// The key list elements are merged by, per field name (the `patchMergeKey` of the Kubernetes
/// types); None means the list is replaced as a whole.
fn merge_key(field: &str, target: &[Value], patch: &[Value]) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" | "addresses" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        // Container ports merge by containerPort, Service ports by port.
        "ports" => {
            let has = |k: &str| target.iter().chain(patch).any(|e| e.get(k).is_some());
            if has("containerPort") {
                "containerPort"
            } else if has("port") {
                "port"
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

/// Lists of scalars that merge as sets instead of being replaced.
fn is_set_list(field: &str) -> bool {
    field == "finalizers"
}

fn merge_map(target: &mut Map<String, Value>, patch: &Map<String, Value>) -> Result<(), String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut fresh = Map::new();
            let mut stripped = patch.clone();
            stripped.remove("$patch");
            merge_map(&mut fresh, &stripped)?;
            *target = fresh;
            return Ok(());
        }
        Some("delete") => {
            target.clear();
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch directive \"{other}\"")),
    }
    let mut orders = Vec::new();
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$setElementOrder/") {
            orders.push((field, v));
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(del)) = (target.get_mut(field), v.as_array()) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                target.remove(k);
            }
            Value::Object(_) if directive(v) == Some("delete") => {
                target.remove(k);
            }
            Value::Object(pm) => {
                let slot = target
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(tm) = slot {
                    merge_map(tm, pm)?;
                }
            }
            Value::Array(pl) => {
                let slot = target
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(tl) = slot {
                    merge_list(k, tl, pl)?;
                }
            }
            scalar => {
                target.insert(k.clone(), scalar.clone());
            }
        }
    }
    for (field, order) in orders {
        if let (Some(Value::Array(list)), Some(order)) = (target.get_mut(field), order.as_array()) {
            apply_order(field, list, order);
        }
    }
    if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
        target.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
    Ok(())
}

fn merge_list(field: &str, target: &mut Vec<Value>, patch: &[Value]) -> Result<(), String> {
    if patch.iter().any(|e| directive(e) == Some("replace")) {
        let mut fresh = Vec::new();
        let rest: Vec<Value> = patch
            .iter()
            .filter(|e| directive(e) != Some("replace"))
            .cloned()
            .collect();
        merge_list(field, &mut fresh, &rest)?;
        *target = fresh;
        return Ok(());
    }
    let Some(key) = merge_key(field, target, patch) else {
        if is_set_list(field) {
            for p in patch {
                if !target.contains(p) {
                    target.push(p.clone());
                }
            }
        } else {
            *target = Vec::with_capacity(patch.len());
            for p in patch {
                let mut fresh = Value::Null;
                strategic_merge(&mut fresh, p)?;
                target.push(fresh);
            }
        }
        return Ok(());
    };
    for p in patch {
        let Some(id) = p.get(key) else {
            return Err(format!(
                "map: {p} does not contain declared merge key: {key}"
            ));
        };
        let pos = target.iter().position(|t| t.get(key) == Some(id));
        if directive(p) == Some("delete") {
            target.retain(|t| t.get(key) != Some(id));
            continue;
        }
        match pos {
            Some(i) => strategic_merge(&mut target[i], p)?,
            None => {
                let mut fresh = Value::Null;
                strategic_merge(&mut fresh, p)?;
                target.push(fresh);
            }
        }
    }
    Ok(())
}

/// `$setElementOrder/FIELD`: put the listed elements first, in the given order.
fn apply_order(field: &str, list: &mut [Value], order: &[Value]) {
    let key = merge_key(field, list, order);
    let id = |v: &Value| -> Value {
        match key {
            Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let wanted: Vec<Value> = order.iter().map(id).collect();
    let rank = |v: &Value| {
        wanted
            .iter()
            .position(|w| *w == id(v))
            .unwrap_or(wanted.len())
    };
    // Stable: elements not named keep their relative order after the named ones.
    list.sort_by_key(rank);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> Value {
        json!({"metadata": {"name": "d", "finalizers": ["a"]},
               "spec": {"replicas": 1, "template": {"spec": {"containers": [
                   {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}],
                    "ports": [{"containerPort": 80}]},
                   {"name": "side", "image": "side:1"}]}}}})
    }

    fn smp(patch: Value) -> Value {
        apply(
            PatchKind::Strategic,
            &deploy(),
            patch.to_string().as_bytes(),
        )
        .expect("applies")
    }

    #[test]
    fn set_image_patch_merges_container_by_name() {
        // What `kubectl set image deploy/d app=app:2` sends.
        let out = smp(json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [{"image": "app:2", "name": "app"}]}}}}));
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["image"], "app:2");
        assert_eq!(cs[0]["env"][0]["name"], "A");
        assert_eq!(cs[1]["image"], "side:1");
        assert!(
            out["spec"]["template"]["spec"]
                .get("$setElementOrder/containers")
                .is_none()
        );
    }

    #[test]
    fn delete_and_replace_directives() {
        let out = smp(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "side", "$patch": "delete"},
            {"name": "new", "image": "n:1"}]}}}}));
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, vec!["app", "new"]);
        let out = smp(json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "only", "image": "o:1"}]}}}}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "o:1"}])
        );
        let out = smp(json!({"spec": {"template": {"$patch": "replace", "spec": {}}}}));
        assert_eq!(out["spec"]["template"], json!({"spec": {}}));
        let out = smp(
            json!({"metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn ports_merge_by_container_port_and_null_deletes() {
        let out = smp(
            json!({"spec": {"replicas": null, "template": {"spec": {"containers": [
            {"name": "app", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 81}]}]}}}}),
        );
        assert!(out["spec"].get("replicas").is_none());
        let ports = &out["spec"]["template"]["spec"]["containers"][0]["ports"];
        assert_eq!(
            ports,
            &json!([{"containerPort": 80, "name": "http"}, {"containerPort": 81}])
        );
        let e = apply(
            PatchKind::Strategic,
            &deploy(),
            br#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
        )
        .expect_err("no merge key");
        assert!(matches!(e, PatchError::NotApplicable { .. }));
    }

    #[test]
    fn json_patch_test_failure_changes_nothing_and_merge_patch_replaces_lists() {
        let doc = deploy();
        let body = br#"[{"op":"replace","path":"/spec/replicas","value":3},
                        {"op":"test","path":"/spec/template/spec/containers/0/image","value":"other"}]"#;
        let e = apply(PatchKind::Json, &doc, body).expect_err("test fails");
        assert_eq!(e, PatchError::TestFailed);
        assert!(matches!(
            apply(PatchKind::Json, &doc, b"{}"),
            Err(PatchError::Malformed(_))
        ));
        let out = apply(
            PatchKind::Merge,
            &doc,
            br#"{"spec":{"template":{"spec":{"containers":[{"name":"x","image":"x:1"}]}}}}"#,
        )
        .expect("merge");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "x", "image": "x:1"}])
        );
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchKind::Merge)
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml"),
            None
        );
    }
}
