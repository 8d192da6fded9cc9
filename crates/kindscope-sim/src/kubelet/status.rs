//! The pod status the kubelet writes: phase, conditions, IPs and container statuses.

use serde_json::{Value, json};

use super::super::engine::set_condition;
use super::{CState, Ctr, PodRun};

/// Write the status for `run` into the pod (keeping fields the kubelet does not own).
pub(super) fn write(pod: &mut Value, run: &PodRun, host_ip: &str, now: &str) {
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    let all_running = run.main.iter().all(Ctr::running);
    let initialized = run.init.iter().all(Ctr::completed);
    let sandbox = run.sandbox_at.is_none();
    let s = &mut pod["status"];
    s["phase"] = json!(if all_running && initialized && !run.main.is_empty() {
        "Running"
    } else {
        "Pending"
    });
    s["hostIP"] = json!(host_ip);
    s["hostIPs"] = json!([{"ip": host_ip}]);
    s["startTime"] = json!(run.start_time);
    if let Some(ip) = &run.ip {
        s["podIP"] = json!(ip);
        s["podIPs"] = json!([{"ip": ip}]);
    }
    let names = |list: &[Ctr], ok: fn(&Ctr) -> bool| -> String {
        list.iter()
            .filter(|c| !ok(c))
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    set_condition(
        pod,
        "PodReadyToStartContainers",
        if sandbox { "True" } else { "False" },
        None,
        None,
        now,
    );
    if initialized {
        set_condition(pod, "Initialized", "True", None, None, now);
    } else {
        let msg = format!(
            "containers with incomplete status: [{}]",
            names(&run.init, Ctr::completed)
        );
        set_condition(
            pod,
            "Initialized",
            "False",
            Some("ContainersNotInitialized"),
            Some(&msg),
            now,
        );
    }
    if all_running && initialized {
        set_condition(pod, "Ready", "True", None, None, now);
        set_condition(pod, "ContainersReady", "True", None, None, now);
    } else {
        let msg = format!(
            "containers with unready status: [{}]",
            names(&run.main, Ctr::running)
        );
        set_condition(
            pod,
            "Ready",
            "False",
            Some("ContainersNotReady"),
            Some(&msg),
            now,
        );
        set_condition(
            pod,
            "ContainersReady",
            "False",
            Some("ContainersNotReady"),
            Some(&msg),
            now,
        );
    }
    set_condition(pod, "PodScheduled", "True", None, None, now);
    order_conditions(pod);
    if !run.init.is_empty() {
        pod["status"]["initContainerStatuses"] = Value::Array(
            run.init
                .iter()
                .map(|c| container_status(c, initialized))
                .collect(),
        );
    }
    pod["status"]["containerStatuses"] = Value::Array(
        run.main
            .iter()
            .map(|c| container_status(c, initialized))
            .collect(),
    );
}

/// The kubelet's order: PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.
fn order_conditions(pod: &mut Value) {
    const ORDER: [&str; 5] = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ];
    if let Some(conds) = pod["status"]["conditions"].as_array_mut() {
        conds.sort_by_key(|c| {
            ORDER
                .iter()
                .position(|t| c["type"] == *t)
                .unwrap_or(ORDER.len())
        });
    }
}

fn container_status(c: &Ctr, initialized: bool) -> Value {
    let mut s = json!({
        "name": c.name,
        "image": c.image,
        "imageID": "",
        "lastState": {},
        "ready": false,
        "restartCount": c.restart_count,
        "started": false,
    });
    match &c.state {
        CState::Running {
            started_at,
            image_id,
            runtime_name,
            container_id,
        } => {
            s["image"] = json!(runtime_name);
            s["imageID"] = json!(image_id);
            s["containerID"] = json!(container_id);
            s["ready"] = json!(!c.init);
            s["started"] = json!(true);
            s["state"] = json!({"running": {"startedAt": started_at}});
        }
        CState::Completed {
            started_at,
            finished_at,
            image_id,
            runtime_name,
            container_id,
        } => {
            s["image"] = json!(runtime_name);
            s["imageID"] = json!(image_id);
            s["containerID"] = json!(container_id);
            s["ready"] = json!(true);
            s["state"] = json!({"terminated": {"containerID": container_id, "exitCode": 0, "reason": "Completed",
                                               "startedAt": started_at, "finishedAt": finished_at}});
        }
        CState::Waiting { reason, message } => {
            // Containers wait for the init containers with PodInitializing.
            let reason = if !c.init && !initialized && reason == "ContainerCreating" {
                "PodInitializing"
            } else {
                reason.as_str()
            };
            let mut w = json!({"reason": reason});
            if let Some(m) = message {
                w["message"] = json!(m);
            }
            s["state"] = json!({"waiting": w});
        }
        CState::Pulling {
            shown: Some((reason, message)),
            ..
        } => {
            let mut w = json!({"reason": reason});
            if let Some(m) = message {
                w["message"] = json!(m);
            }
            s["state"] = json!({"waiting": w});
        }
        CState::Pulling { shown: None, .. } => {
            s["state"] = json!({"waiting": {"reason": if c.init { "PodInitializing" } else { "ContainerCreating" }}});
        }
    }
    s
}
