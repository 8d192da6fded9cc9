//! The deployment controller (a ReplicaSet per pod-template hash, rolling update, status and
//! conditions), the ReplicaSet controller (pods from the template with generateName and
//! ownerReferences) and the garbage collector (dependents of a deleted owner, by uid).
//! Each reconcile looks only at the objects of one owner, through the engine's index.

use std::sync::Arc;

use serde_json::{Value, json};

use super::engine::{Engine, pod_active, uid_of};
use super::events::Source;
use super::store::{PODS, REPLICASETS, RESOURCES};

mod deployment;
mod job;
mod template;
mod workloads;

pub(crate) use deployment::reconcile_deployment;
pub use deployment::{pod_template_hash, resolve_fenceposts};
pub(crate) use job::reconcile_job;
pub(crate) use workloads::{reconcile_daemonset, reconcile_statefulset};

pub(crate) const REVISION: &str = "deployment.kubernetes.io/revision";

fn int(v: &Value, default: i64) -> i64 {
    v.as_i64().unwrap_or(default)
}

/// A pod counts as ready (and, with minReadySeconds 0, available) when its Ready condition is True.
/// The pods `owner_uid` owns that are not finished or being deleted (what a controller counts).
pub(crate) fn active_pods(e: &Engine, owner_uid: &str) -> Vec<Arc<Value>> {
    e.index
        .owned(owner_uid, &PODS)
        .into_iter()
        .filter(|p| pod_active(p))
        .collect()
}

pub(crate) fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// The ReplicaSet controller.
pub(crate) fn reconcile_replicaset(e: &mut Engine, ns: &str, name: &str) {
    let Some(rs) = e.index.get(&REPLICASETS, ns, name) else {
        return;
    };
    let uid = uid_of(&rs).to_string();
    let want = int(&rs["spec"]["replicas"], 1).max(0) as usize;
    let pods = active_pods(e, &uid);
    let src = Source::controller("replicaset-controller");
    if pods.len() < want {
        for _ in pods.len()..want {
            let tpl = &rs["spec"]["template"];
            let mut meta = json!({
                "generateName": format!("{name}-"),
                "namespace": ns,
                "labels": tpl["metadata"]["labels"],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name, "uid": uid,
                                     "controller": true, "blockOwnerDeletion": true}],
            });
            if tpl["metadata"]["annotations"].is_object() {
                meta["annotations"] = tpl["metadata"]["annotations"].clone();
            }
            let pod = json!({"metadata": meta, "spec": tpl["spec"]});
            match e.create(&PODS, pod) {
                Some(p) => {
                    let msg = format!(
                        "Created pod: {}",
                        p["metadata"]["name"].as_str().unwrap_or("")
                    );
                    e.event(&rs, None, &src, "Normal", "SuccessfulCreate", &msg);
                }
                None => break,
            }
        }
    } else if pods.len() > want {
        let mut victims = pods.clone();
        // controller.ActivePods ordering: unscheduled, pending, not ready before ready; newest first.
        victims.sort_by_key(|p| {
            let bound = p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty());
            let running = p["status"]["phase"] == "Running";
            let created = p["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (bound, running, pod_ready(p), std::cmp::Reverse(created))
        });
        for p in victims.iter().take(pods.len() - want) {
            let pname = p["metadata"]["name"].as_str().unwrap_or("").to_string();
            if e.delete(&PODS, ns, &pname).is_some() {
                e.event(
                    &rs,
                    None,
                    &src,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {pname}"),
                );
            }
        }
    }
    // Status from the index, which already holds the pods created or deleted above.
    let pods = active_pods(e, &uid);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let selector = rs["spec"]["selector"]["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let labeled = pods
        .iter()
        .filter(|p| {
            selector
                .iter()
                .all(|(k, v)| p["metadata"]["labels"][k.as_str()] == *v)
        })
        .count();
    let generation = rs["metadata"]["generation"].clone();
    e.modify(&REPLICASETS, ns, name, |o| {
        let mut s = json!({"replicas": pods.len(), "observedGeneration": generation});
        for (k, v) in [
            ("fullyLabeledReplicas", labeled),
            ("readyReplicas", ready),
            ("availableReplicas", ready),
        ] {
            if v > 0 {
                s[k] = json!(v);
            }
        }
        o["status"] = s;
    });
}

/// The garbage collector: delete what a deleted owner owned (background propagation). A
/// dependent with another live owner only loses the reference.
pub(crate) fn collect(e: &mut Engine, owner_uid: &str) {
    if e.index.is_live(owner_uid) {
        return;
    }
    for (plural, (ns, name)) in e.index.dependents_of(owner_uid) {
        let Some(rt) = RESOURCES.iter().copied().find(|r| r.plural == plural) else {
            continue;
        };
        let Some(obj) = e.index.get(rt, &ns, &name) else {
            continue;
        };
        let refs = obj["metadata"]["ownerReferences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let others_live = refs
            .iter()
            .filter_map(|r| r["uid"].as_str())
            .any(|u| u != owner_uid && e.index.is_live(u));
        if others_live {
            e.modify(rt, &ns, &name, |o| {
                if let Some(list) = o["metadata"]["ownerReferences"].as_array_mut() {
                    list.retain(|r| r["uid"] != owner_uid);
                }
            });
        } else {
            e.delete(rt, &ns, &name);
        }
    }
}

/// Set a workload condition, keeping `lastTransitionTime` when the status is unchanged and
/// `lastUpdateTime` when nothing about it changed.
pub(crate) fn set_workload_condition(
    status: &mut Value,
    type_: &str,
    cond_status: &str,
    reason: &str,
    message: &str,
    now: &str,
    touch: bool,
) {
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let Some(conds) = status["conditions"].as_array_mut() else {
        return;
    };
    let existing = conds.iter().position(|c| c["type"] == type_);
    let mut c = json!({"type": type_, "status": cond_status, "reason": reason, "message": message,
                       "lastUpdateTime": now, "lastTransitionTime": now});
    if let Some(i) = existing {
        let old = &conds[i];
        if old["status"] == cond_status {
            c["lastTransitionTime"] = old["lastTransitionTime"].clone();
            if !touch && old["reason"] == reason && old["message"] == message {
                c["lastUpdateTime"] = old["lastUpdateTime"].clone();
            }
        }
        conds[i] = c;
    } else {
        conds.push(c);
    }
    // Available before Progressing, as the deployment controller leaves them.
    conds.sort_by_key(|c| if c["type"] == "Available" { 0 } else { 1 });
}
