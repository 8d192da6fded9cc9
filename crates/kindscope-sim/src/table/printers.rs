//! The cells of each row, as the apiserver's printers (pkg/printers/internalversion) word them.

use jiff::Timestamp;
use serde_json::{Value, json};

pub(super) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn or_none(v: &Value) -> String {
    match v.as_str() {
        Some(x) if !x.is_empty() => x.to_string(),
        _ => "<none>".to_string(),
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn parse_time(v: &Value) -> Option<Timestamp> {
    kindscope_core::time::parse_rfc3339(v.as_str()?)
}

/// kubectl's age of a timestamp (`translateTimestampSince`).
pub(super) fn age(ts: &Value, now: Timestamp) -> String {
    match parse_time(ts) {
        Some(t) => human_duration(now.duration_since(t)),
        None => "<unknown>".to_string(),
    }
}

/// apimachinery's `duration.HumanDuration`.
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// kubectl's STATUS column for a pod (printPod): the phase, overridden by the pod's reason,
/// then by an init container's or a container's waiting/terminated reason.
pub fn pod_status(pod: &Value) -> String {
    let status = &pod["status"];
    let mut reason = s(&status["phase"]).to_string();
    if !s(&status["reason"]).is_empty() {
        reason = s(&status["reason"]).to_string();
    }
    let empty = Vec::new();
    let init_total = pod["spec"]["initContainers"].as_array().map_or(0, Vec::len);
    let mut initializing = false;
    for (i, c) in status["initContainerStatuses"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .enumerate()
    {
        let term = &c["state"]["terminated"];
        let wait = &c["state"]["waiting"];
        if term.is_object() && int(&term["exitCode"]) == 0 {
            continue;
        }
        initializing = true;
        reason = if term.is_object() {
            if !s(&term["reason"]).is_empty() {
                format!("Init:{}", s(&term["reason"]))
            } else if int(&term["signal"]) != 0 {
                format!("Init:Signal:{}", int(&term["signal"]))
            } else {
                format!("Init:ExitCode:{}", int(&term["exitCode"]))
            }
        } else if !s(&wait["reason"]).is_empty() && s(&wait["reason"]) != "PodInitializing" {
            format!("Init:{}", s(&wait["reason"]))
        } else {
            format!("Init:{i}/{init_total}")
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in status["containerStatuses"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .rev()
        {
            let term = &c["state"]["terminated"];
            let wait = &c["state"]["waiting"];
            if !s(&wait["reason"]).is_empty() {
                reason = s(&wait["reason"]).to_string();
            } else if !s(&term["reason"]).is_empty() {
                reason = s(&term["reason"]).to_string();
            } else if term.is_object() {
                reason = if int(&term["signal"]) != 0 {
                    format!("Signal:{}", int(&term["signal"]))
                } else {
                    format!("ExitCode:{}", int(&term["exitCode"]))
                };
            } else if c["ready"] == json!(true) && c["state"]["running"].is_object() {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            let ready = status["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            reason = if ready { "Running" } else { "NotReady" }.to_string();
        }
    }
    if pod["metadata"]["deletionTimestamp"].is_string() {
        reason = if s(&status["reason"]) == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}

pub(super) fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let empty = Vec::new();
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .unwrap_or(&empty);
    let total = pod["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = statuses
        .iter()
        .filter(|c| c["ready"] == json!(true) && c["state"]["running"].is_object())
        .count();
    let all = statuses.iter().chain(
        pod["status"]["initContainerStatuses"]
            .as_array()
            .unwrap_or(&empty),
    );
    let (mut restarts, mut last) = (0i64, None::<Timestamp>);
    for c in all {
        restarts += int(&c["restartCount"]);
        if let Some(t) = parse_time(&c["lastState"]["terminated"]["finishedAt"]) {
            last = Some(last.map_or(t, |l| l.max(t)));
        }
    }
    let restarts = match last {
        Some(t) if restarts > 0 => {
            format!("{restarts} ({} ago)", human_duration(now.duration_since(t)))
        }
        _ => restarts.to_string(),
    };
    let gates = pod["spec"]["readinessGates"].as_array().map_or(0, Vec::len);
    let gates = if gates == 0 {
        "<none>".to_string()
    } else {
        let true_gates = pod["spec"]["readinessGates"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|g| {
                pod["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == g["conditionType"] && c["status"] == "True")
                })
            })
            .count();
        format!("{true_gates}/{gates}")
    };
    vec![
        json!(s(&pod["metadata"]["name"])),
        json!(format!("{ready}/{total}")),
        json!(pod_status(pod)),
        json!(restarts),
        json!(age(&pod["metadata"]["creationTimestamp"], now)),
        json!(or_none(&pod["status"]["podIP"])),
        json!(or_none(&pod["spec"]["nodeName"])),
        json!(or_none(&pod["status"]["nominatedNodeName"])),
        json!(gates),
    ]
}

pub(super) fn node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
    let mut status = match ready.map(|c| s(&c["status"])) {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    }
    .to_string();
    if node["spec"]["unschedulable"] == json!(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<&str> = node["metadata"]["labels"]
        .as_object()
        .map(|ls| {
            ls.iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("node-role.kubernetes.io/")
                        .filter(|r| !r.is_empty())
                        .or_else(|| (k == "kubernetes.io/role").then(|| s(v)))
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort_unstable();
    roles.dedup();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    let addr = |ty: &str| {
        node["status"]["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["type"] == ty))
            .map_or("<none>".to_string(), |x| or_none(&x["address"]))
    };
    let info = &node["status"]["nodeInfo"];
    vec![
        json!(s(&node["metadata"]["name"])),
        json!(status),
        json!(roles),
        json!(age(&node["metadata"]["creationTimestamp"], now)),
        json!(s(&info["kubeletVersion"])),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(or_none(&info["osImage"])),
        json!(or_none(&info["kernelVersion"])),
        json!(or_none(&info["containerRuntimeVersion"])),
    ]
}

/// `app=web,tier in (a,b)` for a LabelSelector (`<none>` when empty).
pub fn selector_string(sel: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(m) = sel["matchLabels"].as_object() {
        let mut kv: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
        kv.sort();
        parts.extend(kv);
    }
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let vals: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .map(s)
            .collect();
        let key = s(&e["key"]);
        parts.push(match s(&e["operator"]) {
            "In" => format!("{key} in ({})", vals.join(",")),
            "NotIn" => format!("{key} notin ({})", vals.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

pub(super) fn workload_cells(obj: &Value, now: Timestamp, deployment: bool) -> Vec<Value> {
    let containers = obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let names: Vec<&str> = containers.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| s(&c["image"])).collect();
    let st = &obj["status"];
    let desired = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let mut cells = vec![json!(s(&obj["metadata"]["name"]))];
    if deployment {
        cells.push(json!(format!("{}/{desired}", int(&st["readyReplicas"]))));
        cells.push(json!(int(&st["updatedReplicas"])));
        cells.push(json!(int(&st["availableReplicas"])));
    } else {
        cells.push(json!(desired));
        cells.push(json!(int(&st["replicas"])));
        cells.push(json!(int(&st["readyReplicas"])));
    }
    cells.push(json!(age(&obj["metadata"]["creationTimestamp"], now)));
    cells.push(json!(names.join(",")));
    cells.push(json!(images.join(",")));
    cells.push(json!(selector_string(&obj["spec"]["selector"])));
    cells
}

pub(super) fn event_cells(ev: &Value, now: Timestamp) -> Vec<Value> {
    let time_or = |ts: &Value, fallback: &Value| {
        if parse_time(ts).is_some() {
            age(ts, now)
        } else {
            age(fallback, now)
        }
    };
    let first = time_or(&ev["firstTimestamp"], &ev["eventTime"]);
    let mut last = if parse_time(&ev["lastTimestamp"]).is_some() {
        age(&ev["lastTimestamp"], now)
    } else {
        first.clone()
    };
    let mut count = int(&ev["count"]);
    if ev["series"].is_object() {
        last = age(&ev["series"]["lastObservedTime"], now);
        count = int(&ev["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let io = &ev["involvedObject"];
    let kind = s(&io["kind"]).to_lowercase();
    let target = if s(&io["name"]).is_empty() {
        kind
    } else {
        format!("{kind}/{}", s(&io["name"]))
    };
    let first_non_empty = |a: &Value, b: &Value| {
        if s(a).is_empty() {
            s(b).to_string()
        } else {
            s(a).to_string()
        }
    };
    let component = first_non_empty(&ev["source"]["component"], &ev["reportingComponent"]);
    let instance = first_non_empty(&ev["source"]["host"], &ev["reportingInstance"]);
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(s(&ev["type"])),
        json!(s(&ev["reason"])),
        json!(target),
        json!(s(&io["fieldPath"])),
        json!(source),
        json!(s(&ev["message"]).trim()),
        json!(first),
        json!(count),
        json!(s(&ev["metadata"]["name"])),
    ]
}
