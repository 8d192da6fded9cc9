//! The Job controller (kubernetes pkg/controller/job), for NonIndexed Jobs: up to
//! `parallelism` pods at a time until `completions` pods have succeeded (their containers exit
//! 0 after a short run, see the kubelet), then `completionTime` and the `SuccessCriteriaMet`
//! and `Complete` conditions (reason `CompletionsReached`), as since v1.31. Pods carry the
//! Job's labels (`batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name` and the
//! legacy `controller-uid`, `job-name`) and a controller ownerReference. Not simulated: failed
//! pods and `backoffLimit` (no container ever fails), Indexed completion, `suspend`.

use serde_json::{Value, json};

use super::super::clock::now_rfc3339;
use super::super::engine::{Engine, pod_active, uid_of};
use super::super::events::Source;
use super::super::store::{JOBS, PODS};
use super::{int, pod_ready};

fn condition(type_: &str, now: &str) -> Value {
    json!({"type": type_, "status": "True", "reason": "CompletionsReached",
           "message": "Reached expected number of succeeded pods",
           "lastProbeTime": now, "lastTransitionTime": now})
}

/// One reconcile of a Job.
pub(crate) fn reconcile_job(e: &mut Engine, ns: &str, name: &str) {
    let Some(job) = e.index.get(&JOBS, ns, name) else {
        return;
    };
    let uid = uid_of(&job).to_string();
    let completions = int(&job["spec"]["completions"], 1).max(0);
    let parallelism = int(&job["spec"]["parallelism"], 1).max(0);
    let pods = e.index.owned(&uid, &PODS);
    let succeeded = pods
        .iter()
        .filter(|p| p["status"]["phase"] == "Succeeded")
        .count() as i64;
    let active = pods.iter().filter(|p| pod_active(p)).count() as i64;
    let complete = succeeded >= completions;
    let src = Source::controller("job-controller");
    let mut created = 0;
    if !complete && job["spec"]["suspend"] != true {
        let want = parallelism.min(completions - succeeded);
        let tpl = &job["spec"]["template"];
        for _ in active..want {
            let mut labels = tpl["metadata"]["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            for (k, v) in [
                ("batch.kubernetes.io/controller-uid", uid.as_str()),
                ("batch.kubernetes.io/job-name", name),
                ("controller-uid", uid.as_str()),
                ("job-name", name),
            ] {
                labels[k] = json!(v);
            }
            let pod = json!({
                "metadata": {
                    "generateName": format!("{name}-"),
                    "namespace": ns,
                    "labels": labels,
                    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name,
                                         "uid": uid, "controller": true, "blockOwnerDeletion": true}],
                },
                "spec": tpl["spec"],
            });
            match e.create(&PODS, pod) {
                Some(p) => {
                    created += 1;
                    let msg = format!(
                        "Created pod: {}",
                        p["metadata"]["name"].as_str().unwrap_or("")
                    );
                    e.event(&job, None, &src, "Normal", "SuccessfulCreate", &msg);
                }
                None => break,
            }
        }
    }
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let now = now_rfc3339();
    let was_complete = job["status"]["completionTime"].is_string();
    e.modify(&JOBS, ns, name, |j| {
        let start = j["status"]["startTime"].clone();
        let mut status = json!({
            "startTime": if start.is_null() { json!(now) } else { start },
            "succeeded": succeeded,
            "ready": ready,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        });
        if !complete && active + created > 0 {
            status["active"] = json!(active + created);
        }
        if complete {
            let done = j["status"]["completionTime"].clone();
            status["completionTime"] = if done.is_null() { json!(now) } else { done };
            status["conditions"] = match j["status"]["conditions"].as_array() {
                Some(c) if !c.is_empty() => Value::Array(c.clone()),
                _ => json!([
                    condition("SuccessCriteriaMet", &now),
                    condition("Complete", &now)
                ]),
            };
        }
        j["status"] = status;
    });
    if complete && !was_complete {
        e.event(&job, None, &src, "Normal", "Completed", "Job completed");
    }
}
