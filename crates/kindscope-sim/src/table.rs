//! Server-side `Table` responses (what `kubectl get` asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns and cell wording of
//! the apiserver's printers (pkg/printers/internalversion) for the types kindscope cares about.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::resources::ResourceType;

mod config;
mod printers;

use printers::{age, event_cells, node_cells, pod_cells, s, workload_cells};
pub use printers::{human_duration, pod_status, selector_string};

/// Does this Accept header ask for a Table?
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// What each row carries besides its cells (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> IncludeObject {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// (name, type, priority); priority 1 columns show with `-o wide`.
type Col = (&'static str, &'static str, u8);

fn columns(rt: &ResourceType) -> &'static [Col] {
    match rt.kind {
        "Pod" => &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        "Node" => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        "Deployment" => &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        "ReplicaSet" => &[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        "Event" => &[
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ],
        "Namespace" => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0),
        ],
        "ConfigMap" => &[
            ("Name", "string", 0),
            ("Data", "integer", 0),
            ("Age", "string", 0),
        ],
        "Secret" => &[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "integer", 0),
            ("Age", "string", 0),
        ],
        "Service" => &[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ],
        "StatefulSet" => &[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Age", "string", 0),
        ],
        "DaemonSet" => &[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            ("Age", "string", 0),
        ],
        "Job" => &[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            ("Age", "string", 0),
        ],
        _ => &[("Name", "string", 0), ("Age", "string", 0)],
    }
}

/// A Table of these objects, as of `now`. `list_meta` becomes the Table's metadata.
pub fn table<'a>(
    rt: &ResourceType,
    items: impl IntoIterator<Item = &'a Value>,
    include: IncludeObject,
    list_meta: Value,
    now: Timestamp,
) -> Value {
    let defs: Vec<Value> = columns(rt)
        .iter()
        .map(|(name, ty, prio)| {
            let mut d = json!({"name": name, "type": ty, "format": "", "description": "", "priority": prio});
            if *name == "Name" {
                d["format"] = json!("name");
                d["description"] = json!("Name must be unique within a namespace.");
            }
            d
        })
        .collect();
    let rows: Vec<Value> = items
        .into_iter()
        .map(|o| row(rt, o, include, now))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": defs,
        "rows": rows,
    })
}

fn row(rt: &ResourceType, obj: &Value, include: IncludeObject, now: Timestamp) -> Value {
    let cells = match rt.kind {
        "Pod" => pod_cells(obj, now),
        "Node" => node_cells(obj, now),
        "Deployment" => workload_cells(obj, now, true),
        "ReplicaSet" => workload_cells(obj, now, false),
        "Event" => event_cells(obj, now),
        "ConfigMap" => config::configmap_cells(obj, now),
        "Secret" => config::secret_cells(obj, now),
        "Service" => config::service_cells(obj, now),
        "StatefulSet" => config::statefulset_cells(obj, now),
        "DaemonSet" => config::daemonset_cells(obj, now),
        "Job" => config::job_cells(obj, now),
        "Namespace" => vec![
            json!(s(&obj["metadata"]["name"])),
            json!(s(&obj["status"]["phase"])),
            json!(age(&obj["metadata"]["creationTimestamp"], now)),
        ],
        _ => vec![
            json!(s(&obj["metadata"]["name"])),
            json!(age(&obj["metadata"]["creationTimestamp"], now)),
        ],
    };
    let mut r = Map::new();
    r.insert("cells".into(), Value::Array(cells));
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            r.insert(
                "object".into(),
                json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": obj["metadata"].clone()}),
            );
        }
        IncludeObject::Object => {
            r.insert("object".into(), obj.clone());
        }
    }
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{EVENTS, NODES, PODS};

    fn now() -> Timestamp {
        kindscope_core::time::parse_rfc3339("2025-01-01T01:00:00Z").expect("time")
    }

    #[test]
    fn pod_row_shows_waiting_reason_like_kubectl() {
        let pod = json!({
            "metadata": {"name": "gw-1", "namespace": "d", "creationTimestamp": "2025-01-01T00:55:00Z"},
            "spec": {"nodeName": "w1", "containers": [{"name": "gw"}, {"name": "side"}]},
            "status": {"phase": "Pending", "podIP": "10.244.1.5", "containerStatuses": [
                {"name": "gw", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "ErrImageNeverPull"}}},
                {"name": "side", "ready": true, "restartCount": 2,
                 "state": {"running": {}},
                 "lastState": {"terminated": {"finishedAt": "2025-01-01T00:58:00Z"}}}]}});
        let t = table(&PODS, [&pod], IncludeObject::Metadata, json!({}), now());
        let cells = &t["rows"][0]["cells"];
        assert_eq!(
            cells,
            &json!([
                "gw-1",
                "1/2",
                "ErrImageNeverPull",
                "2 (2m ago)",
                "5m",
                "10.244.1.5",
                "w1",
                "<none>",
                "<none>"
            ])
        );
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "d");
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);
        let init = json!({"spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        assert_eq!(pod_status(&init), "Init:ImagePullBackOff");
    }

    #[test]
    fn node_and_event_rows() {
        let node = json!({"metadata": {"name": "cp", "creationTimestamp": "2024-12-31T01:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                "nodeInfo": {"kubeletVersion": "v1.33.1"},
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]}});
        let t = table(&NODES, [&node], IncludeObject::None, json!({}), now());
        assert_eq!(
            &t["rows"][0]["cells"].as_array().expect("cells")[..6],
            &[
                json!("cp"),
                json!("Ready"),
                json!("control-plane"),
                json!("24h"),
                json!("v1.33.1"),
                json!("172.18.0.2")
            ]
        );
        assert!(t["rows"][0].get("object").is_none());
        let ev = json!({"metadata": {"name": "gw.1"}, "type": "Warning", "reason": "Failed",
            "message": "Error: ErrImageNeverPull", "count": 3,
            "firstTimestamp": "2025-01-01T00:50:00Z", "lastTimestamp": "2025-01-01T00:59:30Z",
            "involvedObject": {"kind": "Pod", "name": "gw-1", "fieldPath": "spec.containers{gw}"},
            "source": {"component": "kubelet", "host": "w1"}});
        let t = table(&EVENTS, [&ev], IncludeObject::None, json!({}), now());
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "30s",
                "Warning",
                "Failed",
                "pod/gw-1",
                "spec.containers{gw}",
                "kubelet, w1",
                "Error: ErrImageNeverPull",
                "10m",
                3,
                "gw.1"
            ])
        );
    }

    #[test]
    fn human_durations() {
        let d = |s: i64| human_duration(jiff::SignedDuration::from_secs(s));
        assert_eq!(
            [
                d(5),
                d(119),
                d(125),
                d(600),
                d(3 * 3600 + 60),
                d(50 * 3600),
                d(400 * 86400)
            ],
            ["5s", "119s", "2m5s", "10m", "3h1m", "2d2h", "400d"].map(String::from)
        );
    }
}
