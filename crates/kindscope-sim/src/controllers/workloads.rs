//! The StatefulSet and DaemonSet controllers.
//!
//! StatefulSet (kubernetes pkg/controller/statefulset, `podManagementPolicy: OrderedReady`):
//! pods `NAME-0`, `NAME-1`, … created one at a time, each only once the ones before it are
//! Running and Ready; scale-down removes the highest ordinal first; a template change replaces
//! pods from the highest ordinal down (RollingUpdate). Pods carry `hostname`, `subdomain`
//! (`serviceName`), the labels `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`
//! and `controller-revision-hash: NAME-HASH`.
//!
//! DaemonSet (pkg/controller/daemon): one pod per node the pod fits (taints, node selector and
//! affinity; the controller adds the not-ready/unreachable/pressure/unschedulable tolerations,
//! so cordoned nodes keep theirs) with a required node affinity on `metadata.name`, which the
//! scheduler honours; pods on nodes where they no longer fit are deleted.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::engine::{Engine, pod_active, uid_of};
use super::super::events::Source;
use super::super::scheduler::filter;
use super::super::store::{DAEMONSETS, NODES, PODS, STATEFULSETS};
use super::{active_pods, int, pod_ready, pod_template_hash};

fn owner_ref(kind: &str, obj: &Value) -> Value {
    json!([{"apiVersion": "apps/v1", "kind": kind, "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
}

fn pod_from_template(tpl: &Value, ns: &str, owner: Value, extra_labels: Value) -> Value {
    let mut labels = tpl["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    if let (Some(l), Some(extra)) = (labels.as_object_mut(), extra_labels.as_object()) {
        l.extend(extra.clone());
    }
    let mut meta = json!({"namespace": ns, "labels": labels, "ownerReferences": owner});
    if tpl["metadata"]["annotations"].is_object() {
        meta["annotations"] = tpl["metadata"]["annotations"].clone();
    }
    json!({"metadata": meta, "spec": tpl["spec"]})
}

fn name(o: &Value) -> String {
    o["metadata"]["name"].as_str().unwrap_or("").to_string()
}

fn ordinal(set: &str, pod: &Value) -> Option<i64> {
    name(pod)
        .strip_prefix(&format!("{set}-"))
        .and_then(|n| n.parse().ok())
}

/// One reconcile of a StatefulSet.
pub(crate) fn reconcile_statefulset(e: &mut Engine, ns: &str, set_name: &str) {
    let Some(sts) = e.index.get(&STATEFULSETS, ns, set_name) else {
        return;
    };
    let uid = uid_of(&sts).to_string();
    let replicas = int(&sts["spec"]["replicas"], 1).max(0);
    let tpl = sts["spec"]["template"].clone();
    let revision = format!("{set_name}-{}", pod_template_hash(&tpl));
    let src = Source::controller("statefulset-controller");
    let pods: Vec<Arc<Value>> = e
        .index
        .owned(&uid, &PODS)
        .into_iter()
        .filter(|p| ordinal(set_name, p).is_some())
        .collect();
    let live: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    let healthy = |p: &Value| pod_active(p) && p["status"]["phase"] == "Running" && pod_ready(p);
    // Create the lowest missing ordinal once every lower one is healthy (OrderedReady).
    for i in 0..replicas {
        let pod_name = format!("{set_name}-{i}");
        match live.iter().find(|p| name(p) == pod_name) {
            Some(p) if healthy(p) => continue,
            Some(_) => break,
            None => {
                if pods.iter().any(|p| name(p) == pod_name) {
                    break; // still terminating
                }
                let mut pod = pod_from_template(
                    &tpl,
                    ns,
                    owner_ref("StatefulSet", &sts),
                    json!({"statefulset.kubernetes.io/pod-name": pod_name,
                           "apps.kubernetes.io/pod-index": i.to_string(),
                           "controller-revision-hash": revision}),
                );
                pod["metadata"]["name"] = json!(pod_name);
                pod["spec"]["hostname"] = json!(pod_name);
                if let Some(svc) = sts["spec"]["serviceName"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                {
                    pod["spec"]["subdomain"] = json!(svc);
                }
                if e.create(&PODS, pod).is_some() {
                    let msg = format!("create Pod {pod_name} in StatefulSet {set_name} successful");
                    e.event(&sts, None, &src, "Normal", "SuccessfulCreate", &msg);
                }
                break;
            }
        }
    }
    // Scale down, or replace an outdated pod, highest ordinal first, one at a time, and only
    // while the others are healthy.
    let all_healthy = live.iter().all(|p| healthy(p));
    let mut by_ordinal: Vec<&Arc<Value>> = live.clone();
    by_ordinal.sort_by_key(|p| std::cmp::Reverse(ordinal(set_name, p)));
    let victim = by_ordinal
        .iter()
        .find(|p| ordinal(set_name, p).is_some_and(|o| o >= replicas))
        .or_else(|| {
            all_healthy
                .then(|| {
                    by_ordinal.iter().find(|p| {
                        p["metadata"]["labels"]["controller-revision-hash"] != revision.as_str()
                    })
                })
                .flatten()
        });
    if let Some(v) = victim {
        let vname = name(v);
        if e.delete(&PODS, ns, &vname).is_some() {
            let msg = format!("delete Pod {vname} in StatefulSet {set_name} successful");
            e.event(&sts, None, &src, "Normal", "SuccessfulDelete", &msg);
        }
    }
    let pods = active_pods(e, &uid);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods
        .iter()
        .filter(|p| p["metadata"]["labels"]["controller-revision-hash"] == revision.as_str())
        .count();
    let generation = sts["metadata"]["generation"].clone();
    e.modify(&STATEFULSETS, ns, set_name, |s| {
        s["status"] = json!({
            "observedGeneration": generation,
            "replicas": pods.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": updated,
            "updatedReplicas": updated,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        });
    });
}

/// The tolerations the DaemonSet controller adds to its pods (`util.AddOrUpdateDaemonPodTolerations`).
fn daemon_tolerations(spec: &mut Value) {
    let mut list: Vec<Value> = spec["tolerations"].as_array().cloned().unwrap_or_default();
    for (key, effect) in [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ] {
        if !list
            .iter()
            .any(|t| t["key"] == key && t["effect"] == effect)
        {
            list.push(json!({"key": key, "operator": "Exists", "effect": effect}));
        }
    }
    spec["tolerations"] = Value::Array(list);
}

fn pinned_to(spec: &Value, node: &str) -> Value {
    let mut s = spec.clone();
    s["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
        "nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": [node]}]}]});
    s
}

/// One reconcile of a DaemonSet.
pub(crate) fn reconcile_daemonset(e: &mut Engine, ns: &str, ds_name: &str) {
    let Some(ds) = e.index.get(&DAEMONSETS, ns, ds_name) else {
        return;
    };
    let uid = uid_of(&ds).to_string();
    let tpl = ds["spec"]["template"].clone();
    let mut spec = tpl["spec"].clone();
    if !spec.is_object() {
        return;
    }
    daemon_tolerations(&mut spec);
    let hash = pod_template_hash(&tpl);
    let hash = &hash[..hash.len().min(8)];
    let src = Source::controller("daemonset-controller");
    let pods = active_pods(e, &uid);
    let node_of = |p: &Value| -> String {
        if let Some(n) = p["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
            return n.to_string();
        }
        p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let mut nodes = e.index.all(&NODES);
    nodes.sort_by_key(|n| name(n));
    let mut desired = 0;
    for node in &nodes {
        let node_name = name(node);
        let fits = filter(&pinned_to(&spec, &node_name), node).is_none();
        let here: Vec<&Arc<Value>> = pods.iter().filter(|p| node_of(p) == node_name).collect();
        if fits {
            desired += 1;
        }
        if fits && here.is_empty() {
            let mut pod = pod_from_template(
                &tpl,
                ns,
                owner_ref("DaemonSet", &ds),
                json!({"controller-revision-hash": hash, "pod-template-generation":
                       ds["metadata"]["generation"].as_i64().unwrap_or(1).to_string()}),
            );
            pod["metadata"]["generateName"] = json!(format!("{ds_name}-"));
            pod["spec"] = pinned_to(&spec, &node_name);
            if let Some(p) = e.create(&PODS, pod) {
                let msg = format!("Created pod: {}", name(&p));
                e.event(&ds, None, &src, "Normal", "SuccessfulCreate", &msg);
            }
        } else if !fits {
            for p in here {
                let pname = name(p);
                if e.delete(&PODS, ns, &pname).is_some() {
                    let msg = format!("Deleted pod: {pname}");
                    e.event(&ds, None, &src, "Normal", "SuccessfulDelete", &msg);
                }
            }
        }
    }
    // RollingUpdate (maxUnavailable 1): replace one outdated pod while all are ready.
    let outdated = |p: &Value| p["metadata"]["labels"]["controller-revision-hash"] != hash;
    if pods.iter().all(|p| pod_ready(p))
        && let Some(old) = pods.iter().find(|p| outdated(p))
    {
        let pname = name(old);
        if e.delete(&PODS, ns, &pname).is_some() {
            let msg = format!("Deleted pod: {pname}");
            e.event(&ds, None, &src, "Normal", "SuccessfulDelete", &msg);
        }
    }
    let pods = active_pods(e, &uid);
    let updated = pods.iter().filter(|p| !outdated(p)).count();
    let scheduled = pods
        .iter()
        .filter(|p| {
            p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
        })
        .count();
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let generation = ds["metadata"]["generation"].clone();
    e.modify(&DAEMONSETS, ns, ds_name, |d| {
        d["status"] = json!({
            "observedGeneration": generation,
            "desiredNumberScheduled": desired,
            "currentNumberScheduled": scheduled,
            "updatedNumberScheduled": updated,
            "numberReady": ready,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
        });
        if ready < desired
            && let Some(s) = d["status"].as_object_mut()
        {
            s.insert("numberUnavailable".into(), json!(desired - ready));
        }
    });
}
