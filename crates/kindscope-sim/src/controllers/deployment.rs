//! The deployment controller: one ReplicaSet per pod-template hash, rolling update (or
//! Recreate), revision history cleanup, status and the Available/Progressing conditions.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::super::clock::now_rfc3339;
use super::super::engine::{Engine, Work, key_of, pod_active, uid_of};
use super::super::events::Source;
use super::super::store::{DEPLOYMENTS, PODS, REPLICASETS};
use super::{REVISION, int, set_workload_condition};

use super::template::{HASH_LABEL, equal_ignore_hash};

/// `controller.ComputeHash`: FNV-32a over the template, printed in decimal and encoded with
/// the apiserver's safe alphabet (no vowels, no confusable digits).
pub fn pod_template_hash(template: &Value) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    canonical(template, &mut feed);
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| ALPHABET[(b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Feed a value with object keys in sorted order, whatever map type serde_json uses.
fn canonical(v: &Value, feed: &mut impl FnMut(&[u8])) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            feed(b"{");
            // A null is the zero value of a typed Go field: it is not part of the template.
            for k in keys.into_iter().filter(|k| !m[k.as_str()].is_null()) {
                feed(k.as_bytes());
                feed(b":");
                canonical(&m[k.as_str()], feed);
                feed(b",");
            }
            feed(b"}");
        }
        Value::Array(a) => {
            feed(b"[");
            for x in a {
                canonical(x, feed);
                feed(b",");
            }
            feed(b"]");
        }
        other => feed(other.to_string().as_bytes()),
    }
}

/// maxSurge (rounded up) and maxUnavailable (rounded down) for `replicas`; never both zero.
pub fn resolve_fenceposts(surge: &Value, unavailable: &Value, replicas: i64) -> (i64, i64) {
    let resolve = |v: &Value, up: bool| -> i64 {
        match v {
            Value::Number(n) => n.as_i64().unwrap_or(0),
            Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()) {
                Some(p) => {
                    let x = p * replicas as f64 / 100.0;
                    (if up { x.ceil() } else { x.floor() }) as i64
                }
                None => s.parse().unwrap_or(0),
            },
            _ => 0,
        }
    };
    let s = resolve(surge, true).max(0);
    let u = resolve(unavailable, false).max(0);
    if s == 0 && u == 0 { (0, 1) } else { (s, u) }
}

fn replicas_of(rs: &Value) -> i64 {
    int(&rs["spec"]["replicas"], 0)
}
fn status_int(rs: &Value, k: &str) -> i64 {
    int(&rs["status"][k], 0)
}
fn revision_of(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
fn name_of(o: &Value) -> String {
    o["metadata"]["name"].as_str().unwrap_or("").to_string()
}

fn scale(e: &mut Engine, d: &Value, rs: &Value, to: i64, max_surge: i64) {
    let from = replicas_of(rs);
    let want = int(&d["spec"]["replicas"], 1);
    let (ns, name) = key_of(rs);
    let changed = from != to;
    e.modify(&REPLICASETS, &ns, &name, |o| {
        o["spec"]["replicas"] = json!(to);
        if !o["metadata"]["annotations"].is_object() {
            o["metadata"]["annotations"] = json!({});
        }
        o["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
            json!(want.to_string());
        o["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] =
            json!((want + max_surge).to_string());
    });
    if changed {
        let dir = if to > from { "up" } else { "down" };
        let msg = format!("Scaled {dir} replica set {name} from {from} to {to}");
        e.event(
            d,
            None,
            &Source::controller("deployment-controller"),
            "Normal",
            "ScalingReplicaSet",
            &msg,
        );
    }
}

pub(crate) fn reconcile_deployment(e: &mut Engine, ns: &str, name: &str) {
    let Some(d) = e.index.get(&DEPLOYMENTS, ns, name) else {
        return;
    };
    let uid = uid_of(&d).to_string();
    let spec = &d["spec"];
    let replicas = int(&spec["replicas"], 1).max(0);
    let template = spec["template"].clone();
    if !template.is_object() {
        return;
    }
    // FindNewReplicaSet: the oldest owned ReplicaSet whose template equals the Deployment's,
    // ignoring the hash label; its hash is the one in use (a rollback reuses it).
    let mut owned = e.index.owned(&uid, &REPLICASETS);
    owned.sort_by(|a, b| {
        let key = |r: &Value| {
            (
                r["metadata"]["creationTimestamp"]
                    .as_str()
                    .map(str::to_string),
                name_of(r),
            )
        };
        key(a).cmp(&key(b))
    });
    let current = owned
        .iter()
        .position(|rs| equal_ignore_hash(&rs["spec"]["template"], &template));
    let hash = current
        .and_then(|i| owned[i]["metadata"]["labels"][HASH_LABEL].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| pod_template_hash(&template));
    let (mut new_rs, mut old): (Vec<Arc<Value>>, Vec<Arc<Value>>) = owned
        .into_iter()
        .enumerate()
        .map(|(i, rs)| (Some(i) == current, rs))
        .fold((Vec::new(), Vec::new()), |(mut n, mut o), (is_new, rs)| {
            if is_new {
                n.push(rs)
            } else {
                o.push(rs)
            }
            (n, o)
        });
    old.sort_by(|a, b| {
        (revision_of(a), a["metadata"]["creationTimestamp"].as_str())
            .cmp(&(revision_of(b), b["metadata"]["creationTimestamp"].as_str()))
    });
    let recreate = spec["strategy"]["type"] == "Recreate";
    let ru = &spec["strategy"]["rollingUpdate"];
    let (surge, unavail) = if recreate {
        (0, 0)
    } else {
        resolve_fenceposts(&ru["maxSurge"], &ru["maxUnavailable"], replicas)
    };
    let max_old_rev = old.iter().map(|r| revision_of(r)).max().unwrap_or(0);
    let paused = spec["paused"] == true;
    let mut created_new = None;
    if new_rs.is_empty() && !paused {
        let old_total: i64 = old.iter().map(|r| replicas_of(r)).sum();
        let initial = if recreate {
            if old_total > 0 || old.iter().any(|r| status_int(r, "replicas") > 0) {
                0
            } else {
                replicas
            }
        } else if old.is_empty() {
            replicas
        } else {
            (replicas + surge - old_total).clamp(0, replicas)
        };
        let rs_name = format!("{name}-{hash}");
        let mut tpl = template.clone();
        if !tpl["metadata"].is_object() {
            tpl["metadata"] = json!({});
        }
        if !tpl["metadata"]["labels"].is_object() {
            tpl["metadata"]["labels"] = json!({});
        }
        tpl["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = spec["selector"].clone();
        if !selector.is_object() {
            selector = json!({});
        }
        if !selector["matchLabels"].is_object() {
            selector["matchLabels"] = json!({});
        }
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let mut rs = json!({
            "metadata": {
                "name": rs_name,
                "namespace": ns,
                "labels": tpl["metadata"]["labels"],
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                    "deployment.kubernetes.io/max-replicas": (replicas + surge).to_string(),
                    REVISION: (max_old_rev + 1).to_string(),
                },
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid,
                                     "controller": true, "blockOwnerDeletion": true}],
            },
            "spec": {"replicas": initial, "selector": selector, "template": tpl},
        });
        if let Some(m) = spec["minReadySeconds"].as_i64() {
            rs["spec"]["minReadySeconds"] = json!(m);
        }
        if let Some(created) = e.create(&REPLICASETS, rs) {
            if initial > 0 {
                let msg = format!("Scaled up replica set {rs_name} from 0 to {initial}");
                e.event(
                    &d,
                    None,
                    &Source::controller("deployment-controller"),
                    "Normal",
                    "ScalingReplicaSet",
                    &msg,
                );
            }
            created_new = Some(rs_name);
            new_rs.push(created);
        }
    }
    let Some(new) = new_rs.first().cloned() else {
        return;
    };
    if revision_of(&new) <= max_old_rev {
        // Rolled back to an older template: it becomes the newest revision again.
        let (rns, rname) = key_of(&new);
        e.modify(&REPLICASETS, &rns, &rname, |o| {
            o["metadata"]["annotations"][REVISION] = json!((max_old_rev + 1).to_string())
        });
    }
    if !paused {
        if recreate {
            roll_recreate(e, &d, &new, &old, replicas);
        } else {
            roll_rolling(e, &d, &new, &old, replicas, surge, unavail);
        }
        cleanup_history(e, &d, &uid, &hash);
    }
    sync_status(e, &d, &uid, &hash, replicas, unavail, created_new);
}

fn fresh(e: &Engine, rs: &Value) -> Arc<Value> {
    let (ns, name) = key_of(rs);
    e.index
        .get(&REPLICASETS, &ns, &name)
        .unwrap_or_else(|| Arc::new(rs.clone()))
}

fn roll_recreate(e: &mut Engine, d: &Value, new: &Value, old: &[Arc<Value>], replicas: i64) {
    let mut waiting = false;
    for rs in old {
        if replicas_of(rs) > 0 {
            scale(e, d, rs, 0, 0);
            waiting = true;
        }
        if e.index
            .owned(uid_of(rs), &PODS)
            .iter()
            .any(|p| pod_active(p))
        {
            waiting = true;
        }
    }
    if !waiting && replicas_of(new) != replicas {
        scale(e, d, new, replicas, 0);
    }
}

fn roll_rolling(
    e: &mut Engine,
    d: &Value,
    new: &Value,
    old: &[Arc<Value>],
    replicas: i64,
    surge: i64,
    unavail: i64,
) {
    // reconcileNewReplicaSet
    let all_spec: i64 =
        replicas_of(new) + old.iter().map(|r| replicas_of(&fresh(e, r))).sum::<i64>();
    let new_spec = replicas_of(new);
    if new_spec > replicas {
        scale(e, d, new, replicas, surge);
    } else if new_spec < replicas {
        let max_total = replicas + surge;
        if all_spec < max_total {
            let up = (max_total - all_spec).min(replicas - new_spec);
            scale(e, d, new, new_spec + up, surge);
        }
    }
    // reconcileOldReplicaSets
    let new = fresh(e, new);
    let old: Vec<Arc<Value>> = old.iter().map(|r| fresh(e, r)).collect();
    let old_spec: i64 = old.iter().map(|r| replicas_of(r)).sum();
    if old_spec == 0 {
        return;
    }
    let all_spec = old_spec + replicas_of(&new);
    let min_available = replicas - unavail;
    let new_unavailable = replicas_of(&new) - status_int(&new, "availableReplicas");
    let max_scaled_down = all_spec - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return;
    }
    // cleanupUnhealthyReplicas: unavailable pods of old sets go first.
    let mut remaining = max_scaled_down;
    let mut after: Vec<(Arc<Value>, i64)> = Vec::new();
    for rs in &old {
        let spec = replicas_of(rs);
        let unhealthy = spec - status_int(rs, "availableReplicas");
        let cut = unhealthy.min(remaining).max(0);
        if cut > 0 {
            scale(e, d, rs, spec - cut, surge);
            remaining -= cut;
        }
        after.push((rs.clone(), spec - cut));
    }
    // scaleDownOldReplicaSetsForRollingUpdate: then available ones, keeping minAvailable.
    let available: i64 = status_int(&new, "availableReplicas")
        + old
            .iter()
            .map(|r| status_int(r, "availableReplicas"))
            .sum::<i64>();
    let mut total = (available - min_available).max(0);
    for (rs, spec) in after {
        if total == 0 {
            break;
        }
        if spec == 0 {
            continue;
        }
        let cut = spec.min(total);
        scale(e, d, &fresh(e, &rs), spec - cut, surge);
        total -= cut;
    }
}

fn cleanup_history(e: &mut Engine, d: &Value, uid: &str, hash: &str) {
    let limit = int(&d["spec"]["revisionHistoryLimit"], 10).max(0) as usize;
    let mut idle: Vec<Arc<Value>> = e
        .index
        .owned(uid, &REPLICASETS)
        .into_iter()
        .filter(|r| {
            r["metadata"]["labels"][HASH_LABEL] != hash
                && replicas_of(r) == 0
                && status_int(r, "replicas") == 0
        })
        .collect();
    if idle.len() <= limit {
        return;
    }
    idle.sort_by_key(|r| revision_of(r));
    let extra = idle.len() - limit;
    for rs in idle.into_iter().take(extra) {
        let (ns, name) = key_of(&rs);
        e.delete(&REPLICASETS, &ns, &name);
    }
}

fn sync_status(
    e: &mut Engine,
    d: &Value,
    uid: &str,
    hash: &str,
    replicas: i64,
    unavail: i64,
    created_new: Option<String>,
) {
    let all = e.index.owned(uid, &REPLICASETS);
    let new = all
        .iter()
        .find(|r| r["metadata"]["labels"][HASH_LABEL] == hash)
        .cloned();
    let sum = |k: &str| all.iter().map(|r| status_int(r, k)).sum::<i64>();
    let actual = sum("replicas");
    let updated = new.as_ref().map(|r| status_int(r, "replicas")).unwrap_or(0);
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let total_spec: i64 = all.iter().map(|r| replicas_of(r)).sum();
    let unavailable = (total_spec - available).max(0);
    let old = &d["status"];
    let mut s = Map::new();
    s.insert(
        "observedGeneration".into(),
        d["metadata"]["generation"].clone(),
    );
    for (k, v) in [
        ("replicas", actual),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    ] {
        if v != 0 {
            s.insert(k.into(), json!(v));
        }
    }
    let mut status = Value::Object(s);
    status["conditions"] = old["conditions"].clone();
    let now = now_rfc3339();
    if available >= replicas - unavail {
        set_workload_condition(
            &mut status,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            &now,
            false,
        );
    } else {
        set_workload_condition(
            &mut status,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            &now,
            false,
        );
    }
    let rs_name = new.as_ref().map(|r| name_of(r)).unwrap_or_default();
    let complete = updated == replicas && actual == replicas && available == replicas;
    let old_i = |k: &str| int(&old[k], 0);
    let progressed = updated > old_i("updatedReplicas")
        || (actual - updated) < (old_i("replicas") - old_i("updatedReplicas"))
        || ready > old_i("readyReplicas")
        || available > old_i("availableReplicas");
    let deadline =
        Duration::from_secs(int(&d["spec"]["progressDeadlineSeconds"], 600).max(0) as u64);
    let current = status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Progressing"))
        .cloned();
    if let Some(created) = &created_new {
        set_workload_condition(
            &mut status,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            &format!("Created new replica set \"{created}\""),
            &now,
            true,
        );
    } else if complete {
        set_workload_condition(
            &mut status,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            &now,
            false,
        );
    } else if progressed || current.is_none() {
        set_workload_condition(
            &mut status,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{rs_name}\" is progressing."),
            &now,
            true,
        );
    } else if let Some(c) = current.filter(|c| c["status"] == "True") {
        // Timed out when the last progress is older than the deadline (in simulated time).
        // The precise instant is remembered; the condition's timestamp (whole seconds) is the
        // fallback for rollouts that started before the controllers did.
        let elapsed = match e.progress.get(uid) {
            Some(at) => at.elapsed(),
            None => c["lastUpdateTime"]
                .as_str()
                .and_then(kindscope_core::time::parse_rfc3339)
                .and_then(|last| jiff::Timestamp::now().duration_since(last).try_into().ok())
                .unwrap_or_default(),
        };
        if elapsed >= e.clock.real(deadline) {
            set_workload_condition(
                &mut status,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                &now,
                true,
            );
        }
    }
    // Progress restarts the deadline: check again when it has passed.
    if !complete && (progressed || created_new.is_some()) {
        let at = tokio::time::Instant::now();
        e.progress.insert(uid.to_string(), at);
        let (ns, name) = key_of(d);
        e.at(
            at + e.clock.real(deadline) + Duration::from_millis(5),
            Work::Deployment((ns, name)),
        );
    } else if complete {
        e.progress.remove(uid);
    }
    let revision = new.as_ref().map(|r| revision_of(&fresh(e, r))).unwrap_or(0);
    let (ns, name) = key_of(d);
    e.modify(&DEPLOYMENTS, &ns, &name, |o| {
        if revision > 0 {
            if !o["metadata"]["annotations"].is_object() {
                o["metadata"]["annotations"] = json!({});
            }
            o["metadata"]["annotations"][REVISION] = json!(revision.to_string());
        }
        o["status"] = status;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_safe_and_sensitive() {
        let a = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "x:1", "name": "c"}]}, "metadata": {"labels": {"app": "x"}}});
        let c = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x:2"}]}});
        let h = pod_template_hash(&a);
        assert_eq!(h, pod_template_hash(&b));
        assert_ne!(h, pod_template_hash(&c));
        assert!(
            h.len() >= 8
                && h.bytes()
                    .all(|x| b"bcdfghjklmnpqrstvwxz2456789".contains(&x)),
            "{h}"
        );
    }

    #[test]
    fn fenceposts() {
        assert_eq!(resolve_fenceposts(&json!("25%"), &json!("25%"), 1), (1, 0));
        assert_eq!(resolve_fenceposts(&json!("25%"), &json!("25%"), 10), (3, 2));
        assert_eq!(resolve_fenceposts(&json!(0), &json!(0), 3), (0, 1));
        assert_eq!(resolve_fenceposts(&json!(2), &json!("50%"), 5), (2, 2));
    }
}
