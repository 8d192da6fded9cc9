//! Table cells for ConfigMaps, Secrets, Services, StatefulSets and DaemonSets, worded as the
//! apiserver's printers (`printConfigMap`, `printSecret`, `printService`, `printStatefulSet`,
//! `printDaemonSet` in pkg/printers/internalversion).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::printers::{age, s};

fn count(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}

pub(super) fn configmap_cells(cm: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(s(&cm["metadata"]["name"])),
        json!(count(&cm["data"]) + count(&cm["binaryData"])),
        json!(age(&cm["metadata"]["creationTimestamp"], now)),
    ]
}

pub(super) fn secret_cells(secret: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(s(&secret["metadata"]["name"])),
        json!(s(&secret["type"])),
        json!(count(&secret["data"])),
        json!(age(&secret["metadata"]["creationTimestamp"], now)),
    ]
}

/// `80/TCP,443:30443/TCP`.
fn ports(spec: &Value) -> String {
    let list: Vec<String> = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64().filter(|n| *n > 0) {
                Some(np) => format!("{}:{np}/{proto}", p["port"]),
                None => format!("{}/{proto}", p["port"]),
            }
        })
        .collect();
    if list.is_empty() {
        "<none>".into()
    } else {
        list.join(",")
    }
}

fn external_ip(spec: &Value, status: &Value) -> String {
    let mut ips: Vec<String> = spec["externalIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    match s(&spec["type"]) {
        "ExternalName" => return s(&spec["externalName"]).to_string(),
        "LoadBalancer" => {
            for i in status["loadBalancer"]["ingress"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let v = i["ip"].as_str().or(i["hostname"].as_str()).unwrap_or("");
                if !v.is_empty() {
                    ips.push(v.to_string());
                }
            }
            if ips.is_empty() {
                return "<pending>".into();
            }
        }
        _ => {}
    }
    if ips.is_empty() {
        "<none>".into()
    } else {
        ips.join(",")
    }
}

pub(super) fn service_cells(svc: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &svc["spec"];
    let selector = match spec["selector"].as_object() {
        Some(m) if !m.is_empty() => {
            let mut kv: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
            kv.sort();
            kv.join(",")
        }
        _ => "<none>".into(),
    };
    let cluster_ip = match s(&spec["clusterIP"]) {
        "" => "<none>",
        ip => ip,
    };
    vec![
        json!(s(&svc["metadata"]["name"])),
        json!(s(&spec["type"])),
        json!(cluster_ip),
        json!(external_ip(spec, &svc["status"])),
        json!(ports(spec)),
        json!(age(&svc["metadata"]["creationTimestamp"], now)),
        json!(selector),
    ]
}

pub(super) fn statefulset_cells(sts: &Value, now: Timestamp) -> Vec<Value> {
    let st = &sts["status"];
    vec![
        json!(s(&sts["metadata"]["name"])),
        json!(format!(
            "{}/{}",
            st["readyReplicas"].as_i64().unwrap_or(0),
            sts["spec"]["replicas"].as_i64().unwrap_or(1)
        )),
        json!(age(&sts["metadata"]["creationTimestamp"], now)),
    ]
}

pub(super) fn daemonset_cells(ds: &Value, now: Timestamp) -> Vec<Value> {
    let st = &ds["status"];
    let n = |k: &str| json!(st[k].as_i64().unwrap_or(0));
    let selector = match ds["spec"]["template"]["spec"]["nodeSelector"].as_object() {
        Some(m) if !m.is_empty() => {
            let mut kv: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
            kv.sort();
            kv.join(",")
        }
        _ => "<none>".into(),
    };
    vec![
        json!(s(&ds["metadata"]["name"])),
        n("desiredNumberScheduled"),
        n("currentNumberScheduled"),
        n("numberReady"),
        n("updatedNumberScheduled"),
        n("numberAvailable"),
        json!(selector),
        json!(age(&ds["metadata"]["creationTimestamp"], now)),
    ]
}

/// `printJob`: Running/Complete, `1/1`, the run's duration.
pub(super) fn job_cells(job: &Value, now: Timestamp) -> Vec<Value> {
    let st = &job["status"];
    let complete = st["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Complete" && c["status"] == "True")
    });
    let duration = match (st["startTime"].as_str(), st["completionTime"].as_str()) {
        (Some(_), Some(done)) => age(&st["startTime"], parse(done).unwrap_or(now)),
        (Some(_), None) => age(&st["startTime"], now),
        _ => String::new(),
    };
    vec![
        json!(s(&job["metadata"]["name"])),
        json!(if complete { "Complete" } else { "Running" }),
        json!(format!(
            "{}/{}",
            st["succeeded"].as_i64().unwrap_or(0),
            job["spec"]["completions"].as_i64().unwrap_or(1)
        )),
        json!(duration),
        json!(age(&job["metadata"]["creationTimestamp"], now)),
    ]
}

fn parse(t: &str) -> Option<Timestamp> {
    kindscope_core::time::parse_rfc3339(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_row_like_kubectl() {
        let now = Timestamp::now();
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort",
            "clusterIP": "10.96.3.4", "selector": {"app": "web"},
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
        let c = service_cells(&svc, now);
        assert_eq!(c[1], "NodePort");
        assert_eq!(c[3], "<none>");
        assert_eq!(c[4], "80:30080/TCP,53/UDP");
        assert_eq!(c[6], "app=web");
        let lb = json!({"spec": {"type": "LoadBalancer", "ports": []}});
        assert_eq!(service_cells(&lb, now)[3], "<pending>");
    }
}
