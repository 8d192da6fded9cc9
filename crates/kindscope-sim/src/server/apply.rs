//! Server-side apply (`PATCH` with `application/apply-patch+yaml`) and the `managedFields`
//! every write keeps, as the apiserver's field manager does (k8s.io/apiserver
//! `pkg/endpoints/handlers/fieldmanager`, sigs.k8s.io/structured-merge-diff `merge/update.go`):
//!
//! * every write records which manager owns which fields (`operation: Update` for create,
//!   update and the other patches, the manager from `fieldManager` or the User-Agent's first
//!   word; `operation: Apply` for applies); an update takes the fields it changed from others;
//! * an apply conflicts (409) on a field it sets to another value than the live one while
//!   another manager owns it, unless `force=true`, which takes the field over;
//! * fields a manager applied before and no longer applies are removed, unless someone else
//!   owns them too.
//!
//! Field sets are paths of `f:field`, `k:{"name":"web"}` (list items merged by key, the same
//! keys strategic merge uses) and `.` (the item itself), the FieldsV1 encoding. Lists without
//! a merge key are atomic. Simplified: no schema, so map-valued fields and struct fields are
//! told apart only by being objects, and ownership does not follow `x-kubernetes-*` rules.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::super::patch::{merge_key, strategic_merge};
use super::super::resources::ResourceType;
use super::super::status::ApiError;

type Path = Vec<String>;

/// Fields no manager owns (identity, bookkeeping and, on the main resource, status).
fn untracked(path: &[String]) -> bool {
    match path {
        [first, ..] if first == "f:apiVersion" || first == "f:kind" || first == "f:status" => true,
        [m, f, ..] if m == "f:metadata" => matches!(
            f.as_str(),
            "f:name"
                | "f:namespace"
                | "f:uid"
                | "f:resourceVersion"
                | "f:generation"
                | "f:creationTimestamp"
                | "f:managedFields"
                | "f:deletionTimestamp"
                | "f:deletionGracePeriodSeconds"
                | "f:selfLink"
        ),
        _ => false,
    }
}

fn item_key(field: &str, item: &Value, list: &[Value]) -> Option<String> {
    let key = merge_key(field, list, &[])?;
    let mut k = Map::new();
    k.insert(key.to_string(), item.get(key)?.clone());
    Some(format!("k:{}", Value::Object(k)))
}

/// Every owned path of `v`: leaves, and `.` for each keyed list item.
pub(super) fn fieldset(v: &Value) -> BTreeSet<Path> {
    fn walk(v: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
        let Value::Object(m) = v else {
            out.insert(path.clone());
            return;
        };
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, child) in m {
            path.push(format!("f:{k}"));
            if untracked(path) {
                path.pop();
                continue;
            }
            match child {
                Value::Array(items)
                    if items.iter().all(|i| item_key(k, i, items).is_some())
                        && !items.is_empty() =>
                {
                    for item in items {
                        if let Some(key) = item_key(k, item, items) {
                            path.push(key);
                            path.push(".".into());
                            out.insert(path.clone());
                            path.pop();
                            walk(item, path, out);
                            path.pop();
                        }
                    }
                }
                _ => walk(child, path, out),
            }
            path.pop();
        }
    }
    let mut out = BTreeSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// The value at a path (None when absent).
fn value_at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    let mut field = "";
    for seg in path {
        if seg == "." {
            return Some(cur);
        }
        if let Some(f) = seg.strip_prefix("f:") {
            cur = cur.get(f)?;
            field = f;
        } else if let Some(k) = seg.strip_prefix("k:") {
            let want: Value = serde_json::from_str(k).ok()?;
            let (key, val) = want.as_object()?.iter().next()?;
            cur = cur.as_array()?.iter().find(|i| i.get(key) == Some(val))?;
            let _ = field;
        }
    }
    Some(cur)
}

/// Remove the value at a path (a field, or a keyed list item for a `.` path).
fn remove_at(v: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    if last == "." {
        let Some((item, list_path)) = parent.split_last() else {
            return;
        };
        if let (Some(Value::Array(list)), Some(k)) = (
            value_mut(v, list_path),
            item.strip_prefix("k:")
                .and_then(|k| serde_json::from_str::<Value>(k).ok()),
        ) && let Some((key, val)) = k.as_object().and_then(|o| o.iter().next())
        {
            list.retain(|i| i.get(key) != Some(val));
        }
        return;
    }
    if let (Some(Value::Object(m)), Some(f)) = (value_mut(v, parent), last.strip_prefix("f:")) {
        m.remove(f);
    }
}

fn value_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        if let Some(f) = seg.strip_prefix("f:") {
            cur = cur.get_mut(f)?;
        } else if let Some(k) = seg.strip_prefix("k:") {
            let want: Value = serde_json::from_str(k).ok()?;
            let (key, val) = want.as_object()?.iter().next()?;
            cur = cur
                .as_array_mut()?
                .iter_mut()
                .find(|i| i.get(key.as_str()) == Some(val))?;
        }
    }
    Some(cur)
}

/// FieldsV1: the paths as nested objects (`{"f:spec":{"f:replicas":{}}}`).
fn to_fields_v1(set: &BTreeSet<Path>) -> Value {
    let mut root = json!({});
    for p in set {
        let mut cur = &mut root;
        for seg in p {
            cur = &mut cur[seg.as_str()];
            if cur.is_null() {
                *cur = json!({});
            }
        }
    }
    root
}

fn from_fields_v1(v: &Value) -> BTreeSet<Path> {
    fn walk(v: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// `.spec.template.spec.containers[name="web"].image`, as conflicts name fields.
fn display(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if let Some(f) = seg.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = seg.strip_prefix("k:")
            && let Ok(Value::Object(m)) = serde_json::from_str::<Value>(k)
        {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", parts.join(",")));
        }
    }
    out
}

struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: String,
    set: BTreeSet<Path>,
}

fn entries(obj: &Value) -> Vec<Entry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Entry {
            manager: e["manager"].as_str().unwrap_or("").to_string(),
            operation: e["operation"].as_str().unwrap_or("Update").to_string(),
            api_version: e["apiVersion"].as_str().unwrap_or("").to_string(),
            time: e["time"].as_str().unwrap_or("").to_string(),
            subresource: e["subresource"].as_str().unwrap_or("").to_string(),
            set: from_fields_v1(&e["fieldsV1"]),
        })
        .collect()
}

fn store_entries(obj: &mut Value, list: Vec<Entry>) {
    let out: Vec<Value> = list
        .into_iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager, "operation": e.operation, "apiVersion": e.api_version,
                "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(&e.set),
            });
            if !e.subresource.is_empty() {
                v["subresource"] = json!(e.subresource);
            }
            v
        })
        .collect();
    if let Some(meta) = obj["metadata"].as_object_mut() {
        if out.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(out));
        }
    }
}

fn now() -> String {
    super::super::store::now_rfc3339()
}

/// The manager of a write: `fieldManager`, else the User-Agent up to its first `/`.
pub(super) fn manager_for(field_manager: Option<&str>, user_agent: &str) -> String {
    match field_manager.filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => user_agent
            .split('/')
            .next()
            .unwrap_or("unknown")
            .to_string(),
    }
}

/// Record an Update by `manager` that turned `before` (None for a create) into `after`: the
/// fields it set or changed become its own, and no one else's.
pub(super) fn record_update(
    manager: &str,
    subresource: &str,
    before: Option<&Value>,
    after: &mut Value,
) {
    let mut list = entries(before.unwrap_or(&Value::Null));
    let now_set = fieldset(after);
    let changed: BTreeSet<Path> = now_set
        .iter()
        .filter(|p| before.is_none_or(|b| value_at(b, p) != value_at(after, p)))
        .cloned()
        .collect();
    for e in list.iter_mut() {
        e.set
            .retain(|p| now_set.contains(p) && !changed.contains(p));
    }
    if !changed.is_empty() {
        let api_version = after["apiVersion"].as_str().unwrap_or("").to_string();
        match list.iter_mut().find(|e| {
            e.manager == manager && e.operation == "Update" && e.subresource == subresource
        }) {
            Some(e) => {
                e.set.extend(changed);
                e.time = now();
            }
            None => list.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version,
                time: now(),
                subresource: subresource.to_string(),
                set: changed,
            }),
        }
    }
    store_entries(after, list);
}

/// Is this the apply patch type?
pub(super) fn is_apply(content_type: &str) -> bool {
    content_type.split(';').next().map(str::trim) == Some("application/apply-patch+yaml")
}

/// Parse an apply body (YAML, or JSON which is YAML): the applied configuration.
pub(super) fn parse_config(rt: &ResourceType, body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the apply body is not UTF-8"))?;
    let config: Value = serde_saphyr::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request("the apply body must be an object"));
    }
    if config["kind"].as_str() != Some(rt.kind) || config["apiVersion"].as_str().is_none() {
        return Err(ApiError::bad_request(format!(
            "the apply body must set apiVersion and kind: {}",
            rt.kind
        )));
    }
    Ok(config)
}

/// Apply `config` by `manager` to `live` (None: the object is created): the merged object with
/// its managed fields, or a 409 naming the conflicts.
pub(super) fn apply(
    rt: &ResourceType,
    name: &str,
    manager: &str,
    force: bool,
    live: Option<&Value>,
    config: &Value,
) -> Result<Value, ApiError> {
    let api_version = config["apiVersion"].as_str().unwrap_or("").to_string();
    let applied = fieldset(config);
    let Some(live) = live else {
        let mut obj = config.clone();
        store_entries(&mut obj, vec![apply_entry(manager, &api_version, applied)]);
        return Ok(obj);
    };
    let mut list = entries(live);
    let mut conflicts: Vec<(String, String, Path)> = Vec::new();
    for e in list
        .iter()
        .filter(|e| !(e.manager == manager && e.operation == "Apply"))
    {
        for p in applied.intersection(&e.set) {
            if p.last().is_some_and(|s| s == ".") {
                continue;
            }
            if value_at(live, p) != value_at(config, p) {
                conflicts.push((e.manager.clone(), e.api_version.clone(), p.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(rt, name, &conflicts));
    }
    for e in list.iter_mut() {
        e.set.retain(|p| !conflicts.iter().any(|(_, _, c)| c == p));
    }
    let before: BTreeSet<Path> = list
        .iter()
        .filter(|e| e.manager == manager && e.operation == "Apply")
        .flat_map(|e| e.set.iter().cloned())
        .collect();
    list.retain(|e| !(e.manager == manager && e.operation == "Apply"));
    let others: BTreeSet<&Path> = list.iter().flat_map(|e| e.set.iter()).collect();
    let mut merged = live.clone();
    strategic_merge(&mut merged, config).map_err(ApiError::bad_request)?;
    for p in before.difference(&applied).filter(|p| !others.contains(p)) {
        remove_at(&mut merged, p);
    }
    list.push(apply_entry(manager, &api_version, applied));
    store_entries(&mut merged, list);
    keep_times_of_a_no_op(live, &mut merged);
    Ok(merged)
}

/// The apiserver's `IgnoreManagedFieldsTimestampsTransformer`: when an apply changes nothing but
/// the managedFields timestamps, the old ones stay, so that the write is a no-op (no new
/// resourceVersion).
fn keep_times_of_a_no_op(live: &Value, merged: &mut Value) {
    fn without_times(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(list) = v["metadata"]["managedFields"].as_array_mut() {
            for e in list.iter_mut().filter_map(Value::as_object_mut) {
                e.remove("time");
            }
        }
        v
    }
    if without_times(live) == without_times(merged) {
        merged["metadata"]["managedFields"] = live["metadata"]["managedFields"].clone();
    }
}

fn apply_entry(manager: &str, api_version: &str, set: BTreeSet<Path>) -> Entry {
    Entry {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version: api_version.to_string(),
        time: now(),
        subresource: String::new(),
        set,
    }
}

/// The apiserver's wording (structured-merge-diff `Conflicts.Error`, wrapped by the field
/// manager as "Apply failed with N conflict(s): …").
fn conflict_error(rt: &ResourceType, name: &str, conflicts: &[(String, String, Path)]) -> ApiError {
    let n = conflicts.len();
    let body = if n == 1 {
        let (m, v, p) = &conflicts[0];
        format!("conflict with \"{m}\" using {v}: {}", display(p))
    } else {
        let mut managers: Vec<&String> = conflicts.iter().map(|(m, _, _)| m).collect();
        managers.sort();
        managers.dedup();
        managers
            .iter()
            .map(|m| {
                let paths: Vec<String> = conflicts
                    .iter()
                    .filter(|(cm, _, _)| cm == *m)
                    .map(|(_, _, p)| format!("\n- {}", display(p)))
                    .collect();
                format!("conflicts with \"{m}\":{}", paths.concat())
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    ApiError {
        code: 409,
        reason: "Conflict",
        message: format!(
            "Apply failed with {n} conflict{}: {body}",
            if n == 1 { "" } else { "s" }
        ),
        details: Some((rt.group.into(), rt.plural.into(), name.into())),
    }
}

/// PATCH with `application/apply-patch+yaml`: create the object, or apply to it.
pub(super) fn serve(
    st: &super::AppState,
    t: &super::Target,
    name: &str,
    params: &super::Params,
    body: &[u8],
    causes: &super::handlers::Causes,
) -> Result<axum::response::Response, ApiError> {
    let rt = t.rt;
    // The User-Agent default is not enough here: an apply must name its manager.
    let manager = params
        .0
        .iter()
        .find(|(k, _)| k == "fieldManager")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if manager.is_empty() {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
        ));
    }
    let force = params.flag("force");
    let mut config = parse_config(rt, body)?;
    if !config["metadata"].is_object() {
        config["metadata"] = json!({});
    }
    if config["metadata"]["name"].is_null() {
        config["metadata"]["name"] = json!(name);
    }
    let ns = t.ns.as_deref().unwrap_or("");
    if st.store.get(rt, ns, name).is_none() {
        let obj = apply(rt, name, manager, force, None, &config)?;
        return super::handlers::create_object(st, t, params, obj, causes);
    }
    super::handlers::write(st, t, name, None, params.dry_run(), |cur| {
        let merged = apply(rt, name, manager, force, Some(cur), &config)?;
        super::handlers::finish_edit(t, None, cur, merged, causes)
    })
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
