//! The scheduler's decision, as a pure function: filter nodes like kube-scheduler's default
//! plugins (NodeUnschedulable, TaintToleration, NodeAffinity/nodeSelector — checked in that
//! order, the first failing filter names the node's reason), then spread by pod count.
//! An unschedulable pod gets the real `FailedScheduling` wording.

use std::collections::BTreeMap;

use serde_json::Value;

use super::clock::now_rfc3339;
use super::engine::{Engine, pod_active, set_condition};
use super::events::Source;
use super::store::{NODES, PODS};

/// What the scheduler needs to know about a node.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub name: &'a str,
    /// The Node object.
    pub node: &'a Value,
    /// Pods already bound to it (not finished).
    pub pods: usize,
}

/// Pick a node for a pod spec, or say why none fits (the `FailedScheduling` message).
pub fn pick(pod_spec: &Value, nodes: &[Candidate]) -> Result<String, String> {
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut best: Option<&Candidate> = None;
    for c in nodes {
        match filter(pod_spec, c.node) {
            Some(reason) => *reasons.entry(reason).or_default() += 1,
            None => {
                let better = match best {
                    None => true,
                    Some(b) => (c.pods, c.name) < (b.pods, b.name),
                };
                if better {
                    best = Some(c);
                }
            }
        }
    }
    if let Some(b) = best {
        return Ok(b.name.to_string());
    }
    let n = nodes.len();
    if n == 0 {
        return Err("no nodes available to schedule pods".into());
    }
    // FitError.Error(): "<count> <reason>" strings sorted, then the preemption post-filter.
    let mut parts: Vec<String> = reasons.iter().map(|(r, c)| format!("{c} {r}")).collect();
    parts.sort();
    Err(format!(
        "0/{n} nodes are available: {}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.",
        parts.join(", ")
    ))
}

/// The first filter the node fails, worded like the scheduler's plugin.
fn filter(pod_spec: &Value, node: &Value) -> Option<String> {
    let tolerations = pod_spec["tolerations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if node["spec"]["unschedulable"] == true && !tolerations.iter().any(|t| {
        tolerates(
            t,
            &serde_json::json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}),
        )
    }) {
        return Some("node(s) were unschedulable".into());
    }
    if let Some(taints) = node["spec"]["taints"].as_array() {
        for taint in taints {
            let effect = taint["effect"].as_str().unwrap_or("");
            if (effect == "NoSchedule" || effect == "NoExecute")
                && !tolerations.iter().any(|t| tolerates(t, taint))
            {
                return Some(format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint["key"].as_str().unwrap_or(""),
                    taint["value"].as_str().unwrap_or("")
                ));
            }
        }
    }
    if !matches_selector(pod_spec, node) {
        return Some("node(s) didn't match Pod's node affinity/selector".into());
    }
    None
}

/// `v1helper.TolerationsTolerateTaint` for one toleration.
pub fn tolerates(t: &Value, taint: &Value) -> bool {
    let effect = t["effect"].as_str().unwrap_or("");
    if !effect.is_empty() && effect != taint["effect"].as_str().unwrap_or("") {
        return false;
    }
    let key = t["key"].as_str().unwrap_or("");
    let tkey = taint["key"].as_str().unwrap_or("");
    match t["operator"].as_str().unwrap_or("Equal") {
        "Exists" => key.is_empty() || key == tkey,
        "Equal" | "" => {
            key == tkey
                && t["value"].as_str().unwrap_or("") == taint["value"].as_str().unwrap_or("")
        }
        _ => false,
    }
}

fn matches_selector(pod_spec: &Value, node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    if let Some(sel) = pod_spec["nodeSelector"].as_object()
        && !sel.iter().all(|(k, v)| labels[k.as_str()] == *v)
    {
        return false;
    }
    let terms = &pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    match terms.as_array() {
        // Terms are ORed; the expressions of one term are ANDed.
        Some(terms) if !terms.is_empty() => terms.iter().any(|term| {
            let exprs = term["matchExpressions"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let fields = term["matchFields"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            (!exprs.is_empty() || !fields.is_empty())
                && exprs.iter().all(|e| expression(e, |k| labels[k].as_str()))
                && fields.iter().all(|e| {
                    expression(e, |k| {
                        (k == "metadata.name")
                            .then(|| node["metadata"]["name"].as_str())
                            .flatten()
                    })
                })
        }),
        _ => true,
    }
}

fn expression<'a>(e: &Value, get: impl Fn(&str) -> Option<&'a str>) -> bool {
    let key = e["key"].as_str().unwrap_or("");
    let values: Vec<&str> = e["values"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let actual = get(key);
    match e["operator"].as_str().unwrap_or("") {
        "In" => actual.is_some_and(|a| values.contains(&a)),
        "NotIn" => actual.is_none_or(|a| !values.contains(&a)),
        "Exists" => actual.is_some(),
        "DoesNotExist" => actual.is_none(),
        "Gt" | "Lt" => {
            let (Some(a), Some(v)) = (
                actual.and_then(|a| a.parse::<i64>().ok()),
                values.first().and_then(|v| v.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if e["operator"] == "Gt" { a > v } else { a < v }
        }
        _ => false,
    }
}

/// Scheduler glue: bind an unscheduled pod, or report why it cannot be.
pub(crate) fn schedule_pod(e: &mut Engine, ns: &str, name: &str) {
    let Some(pod) = e.index.get(&PODS, ns, name) else {
        return;
    };
    if !pod_active(&pod)
        || pod["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    {
        return;
    }
    if pod["spec"]["schedulerName"]
        .as_str()
        .is_some_and(|s| s != "default-scheduler")
    {
        return;
    }
    let nodes = e.index.all(&NODES);
    let names: Vec<String> = nodes
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    let cands: Vec<Candidate> = nodes
        .iter()
        .zip(&names)
        .map(|(n, name)| Candidate {
            name,
            node: n,
            pods: e.index.pods_on(name),
        })
        .collect();
    let source = Source {
        component: "default-scheduler",
        host: Some(e.sim.control_plane().to_string()),
    };
    let now = now_rfc3339();
    match pick(&pod["spec"], &cands) {
        Ok(node) => {
            let Some(bound) = e.modify(&PODS, ns, name, |p| {
                p["spec"]["nodeName"] = Value::String(node.clone());
                set_condition(p, "PodScheduled", "True", None, None, &now);
            }) else {
                return;
            };
            let msg = format!("Successfully assigned {ns}/{name} to {node}");
            e.recorder.record_new_style(
                &e.store,
                &bound,
                &source,
                "Normal",
                "Scheduled",
                "Binding",
                &msg,
            );
        }
        Err(msg) => {
            let Some(p) = e.modify(&PODS, ns, name, |p| {
                set_condition(
                    p,
                    "PodScheduled",
                    "False",
                    Some("Unschedulable"),
                    Some(&msg),
                    &now,
                );
            }) else {
                return;
            };
            e.recorder.record_new_style(
                &e.store,
                &p,
                &source,
                "Warning",
                "FailedScheduling",
                "Scheduling",
                &msg,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: Value, taints: Value) -> Value {
        let mut l = labels;
        l["kubernetes.io/hostname"] = json!(name);
        json!({"metadata": {"name": name, "labels": l}, "spec": {"taints": taints}})
    }

    fn cluster() -> Vec<Value> {
        vec![
            node(
                "k-control-plane",
                json!({"node-role.kubernetes.io/control-plane": ""}),
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
            ),
            node("k-worker", json!({"tier": "backend"}), json!([])),
            node("k-worker2", json!({}), json!([])),
        ]
    }

    fn cands<'a>(nodes: &'a [Value], pods: &[usize]) -> Vec<Candidate<'a>> {
        nodes
            .iter()
            .zip(pods)
            .map(|(n, p)| Candidate {
                name: n["metadata"]["name"].as_str().unwrap_or(""),
                node: n,
                pods: *p,
            })
            .collect()
    }

    #[test]
    fn spreads_by_pod_count_and_skips_tainted_control_plane() {
        let nodes = cluster();
        assert_eq!(
            pick(&json!({}), &cands(&nodes, &[0, 0, 0])).as_deref(),
            Ok("k-worker")
        );
        assert_eq!(
            pick(&json!({}), &cands(&nodes, &[0, 3, 1])).as_deref(),
            Ok("k-worker2")
        );
        let tolerant = json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]});
        assert_eq!(
            pick(&tolerant, &cands(&nodes, &[0, 3, 1])).as_deref(),
            Ok("k-control-plane")
        );
        let everything = json!({"tolerations": [{"operator": "Exists"}]});
        assert_eq!(
            pick(&everything, &cands(&nodes, &[0, 3, 1])).as_deref(),
            Ok("k-control-plane")
        );
    }

    #[test]
    fn node_selector_and_affinity() {
        let nodes = cluster();
        let sel = json!({"nodeSelector": {"kubernetes.io/hostname": "k-worker2"}});
        assert_eq!(
            pick(&sel, &cands(&nodes, &[0, 0, 9])).as_deref(),
            Ok("k-worker2")
        );
        let aff = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]}]}}}});
        assert_eq!(
            pick(&aff, &cands(&nodes, &[0, 5, 0])).as_deref(),
            Ok("k-worker")
        );
    }

    #[test]
    fn unschedulable_message_is_the_schedulers() {
        let nodes = cluster();
        let sel = json!({"nodeSelector": {"disk": "ssd"}});
        assert_eq!(
            pick(&sel, &cands(&nodes, &[0, 0, 0])),
            Err("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.".to_string())
        );
        let cordoned =
            vec![json!({"metadata": {"name": "a", "labels": {}}, "spec": {"unschedulable": true}})];
        assert_eq!(
            pick(&json!({}), &cands(&cordoned, &[0])),
            Err("0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.".to_string())
        );
    }

    #[test]
    fn toleration_rules() {
        let taint = json!({"key": "k", "value": "v", "effect": "NoSchedule"});
        assert!(tolerates(&json!({"key": "k", "value": "v"}), &taint));
        assert!(tolerates(
            &json!({"key": "k", "operator": "Exists", "effect": "NoSchedule"}),
            &taint
        ));
        assert!(!tolerates(&json!({"key": "k", "value": "w"}), &taint));
        assert!(!tolerates(
            &json!({"key": "k", "operator": "Exists", "effect": "NoExecute"}),
            &taint
        ));
    }
}
