//! Defaulting as the apiserver does it on every write (create, update, patch): e.g.
//! `imagePullPolicy` is `Always` for `:latest`/untagged images without digest, else `IfNotPresent`.
//!
//! Only fields that are absent (or null, or the empty string, which Go cannot tell from absent)
//! are filled in, so applying twice changes nothing. Objects of unexpected shape (a `spec` that
//! is a string, …) are left alone: validation, not defaulting, refuses them.

use serde_json::{Map, Value, json};

use super::resources::ResourceType;
use kindscope_core::k8s::PullPolicy;

/// Fill in the fields the apiserver defaults for objects of this type. Idempotent: a field that
/// is already set is never changed (that is why a defaulted pull policy survives an image patch).
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    match (rt.group, rt.kind) {
        ("", "Pod") => {
            if let Some(spec) = child_obj(obj, "spec") {
                pod_spec(spec);
            }
            pod_admission(obj);
            pod_status(obj);
        }
        ("", "Namespace") => namespace(obj),
        ("", "Service") => service(obj),
        // SetDefaults_Secret.
        ("", "Secret") => {
            if let Some(m) = obj.as_object_mut() {
                set(m, "type", json!("Opaque"));
            }
        }
        ("apps", "Deployment") => deployment(obj),
        ("apps", "ReplicaSet") => {
            if let Some(spec) = child_obj(obj, "spec") {
                set(spec, "replicas", json!(1));
                template(spec);
            }
        }
        ("apps", "StatefulSet") => statefulset(obj),
        ("apps", "DaemonSet") => daemonset(obj),
        ("batch", "Job") => job(obj),
        _ => {}
    }
}

fn unset(m: &Map<String, Value>, key: &str) -> bool {
    match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

fn set(m: &mut Map<String, Value>, key: &str, value: Value) {
    if unset(m, key) {
        m.insert(key.to_string(), value);
    }
}

/// The object at `key`, only when `v` is an object and the child is one too.
fn child_obj<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.as_object_mut()?.get_mut(key)?.as_object_mut()
}

/// The object at `key`, created when absent or null.
fn child_obj_or_new<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    let e = m.entry(key.to_string()).or_insert_with(|| json!({}));
    if e.is_null() {
        *e = json!({});
    }
    e.as_object_mut()
}

fn pod_spec(spec: &mut Map<String, Value>) {
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "schedulerName", json!("default-scheduler"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "securityContext", json!({}));
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    if unset(c, "imagePullPolicy") {
        // `SetDefaults_Container`, by the core's rule that the diagnosis applies too.
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let policy = PullPolicy::default_for(image).as_str();
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    set(c, "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set(p, "protocol", json!("TCP"));
        }
    }
}

/// What admission plugins add to a Pod (ServiceAccount, Priority, DefaultTolerationSeconds).
fn pod_admission(obj: &mut Value) {
    let Some(spec) = child_obj(obj, "spec") else {
        return;
    };
    set(spec, "enableServiceLinks", json!(true));
    set(spec, "serviceAccountName", json!("default"));
    if unset(spec, "serviceAccount") {
        let sa = spec
            .get("serviceAccountName")
            .cloned()
            .unwrap_or(Value::Null);
        spec.insert("serviceAccount".into(), sa);
    }
    set(spec, "priority", json!(0));
    set(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    if tolerations.is_null() {
        *tolerations = json!([]);
    }
    if let Some(list) = tolerations.as_array_mut() {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let tolerated = list.iter().any(|t| {
                t["effect"]
                    .as_str()
                    .is_none_or(|e| e.is_empty() || e == "NoExecute")
                    && (t["key"].as_str() == Some(key)
                        || (t["key"].as_str().is_none_or(str::is_empty)
                            && t["operator"] == "Exists"))
            });
            if !tolerated {
                list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
}

fn pod_status(obj: &mut Value) {
    let qos = qos_class(&obj["spec"]);
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    let Some(status) = child_obj_or_new(m, "status") else {
        return;
    };
    set(status, "phase", json!("Pending"));
    set(status, "qosClass", json!(qos));
}

/// BestEffort without any requests/limits; Guaranteed when every container limits cpu and
/// memory with requests equal to (or defaulted from) the limits; else Burstable.
fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec[*k].as_array())
        .flatten()
        .collect();
    let any = containers.iter().any(|c| {
        ["requests", "limits"].iter().any(|k| {
            c["resources"][*k]
                .as_object()
                .is_some_and(|m| !m.is_empty())
        })
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let r = &c["resources"];
        ["cpu", "memory"].iter().all(|res| {
            let limit = &r["limits"][*res];
            let request = &r["requests"][*res];
            !limit.is_null() && (request.is_null() || request == limit)
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(tpl_spec) = spec
        .get_mut("template")
        .and_then(|t| t.as_object_mut())
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        pod_spec(tpl_spec);
    }
}

/// `SetDefaults_Job`: one completion at a time unless said otherwise, 6 retries.
fn job(obj: &mut Value) {
    let Some(spec) = child_obj(obj, "spec") else {
        return;
    };
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
    }
    set(spec, "parallelism", json!(1));
    set(spec, "backoffLimit", json!(6));
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    set(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    template(spec);
}

fn deployment(obj: &mut Value) {
    let Some(spec) = child_obj(obj, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    if let Some(strategy) = child_obj_or_new(spec, "strategy") {
        set(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child_obj_or_new(strategy, "rollingUpdate")
        {
            set(ru, "maxUnavailable", json!("25%"));
            set(ru, "maxSurge", json!("25%"));
        }
    }
    template(spec);
}

fn statefulset(obj: &mut Value) {
    let Some(spec) = child_obj(obj, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    set(spec, "podManagementPolicy", json!("OrderedReady"));
    set(spec, "revisionHistoryLimit", json!(10));
    if let Some(strategy) = child_obj_or_new(spec, "updateStrategy") {
        set(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child_obj_or_new(strategy, "rollingUpdate")
        {
            set(ru, "partition", json!(0));
        }
    }
    set(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    template(spec);
}

fn daemonset(obj: &mut Value) {
    let Some(spec) = child_obj(obj, "spec") else {
        return;
    };
    set(spec, "revisionHistoryLimit", json!(10));
    if let Some(strategy) = child_obj_or_new(spec, "updateStrategy") {
        set(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child_obj_or_new(strategy, "rollingUpdate")
        {
            set(ru, "maxUnavailable", json!(1));
            set(ru, "maxSurge", json!(0));
        }
    }
    template(spec);
}

fn namespace(obj: &mut Value) {
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    if !name.is_empty()
        && let Some(meta) = child_obj_or_new(m, "metadata")
        && let Some(labels) = child_obj_or_new(meta, "labels")
    {
        // The apiserver keeps this label equal to the name.
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(spec) = child_obj_or_new(m, "spec") {
        set(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = child_obj_or_new(m, "status") {
        set(status, "phase", json!("Active"));
    }
}

fn service(obj: &mut Value) {
    let Some(spec) = child_obj(obj, "spec") else {
        return;
    };
    set(spec, "type", json!("ClusterIP"));
    set(spec, "sessionAffinity", json!("None"));
    set(spec, "internalTrafficPolicy", json!("Cluster"));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set(p, "protocol", json!("TCP"));
            if unset(p, "targetPort")
                && let Some(port) = p.get("port").cloned()
            {
                p.insert("targetPort".into(), port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS, STATEFULSETS};

    #[test]
    fn pull_policy_follows_the_apiserver() {
        let rows = [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("kubernaut/gateway:debug", "IfNotPresent"),
            ("localhost/kubernaut/gateway", "Always"),
            (
                "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "IfNotPresent",
            ),
            // ParseImageName reports the explicit tag even with a digest.
            (
                "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "Always",
            ),
            // Unparsable: no tag, so not "latest".
            ("Kubernaut/Gateway", "IfNotPresent"),
            ("localhost/Kubernaut/gateway:debug", "IfNotPresent"),
        ];
        for (image, want) in rows {
            assert_eq!(PullPolicy::default_for(image).as_str(), want, "{image}");
        }
    }

    fn deployment_with(containers: Value) -> Value {
        json!({"metadata": {"name": "d", "namespace": "default"},
               "spec": {"selector": {"matchLabels": {"app": "d"}},
                        "template": {"metadata": {"labels": {"app": "d"}},
                                     "spec": {"containers": containers,
                                              "initContainers": [{"name": "init", "image": "busybox"}]}}}})
    }

    #[test]
    fn deployment_defaults_and_idempotence() {
        let mut d = deployment_with(json!([
            {"name": "a", "image": "kubernaut/gateway:debug", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "postgres", "imagePullPolicy": "Never"},
        ]));
        apply(&DEPLOYMENTS, &mut d);
        let s = &d["spec"];
        assert_eq!(s["replicas"], 1);
        assert_eq!(s["revisionHistoryLimit"], 10);
        assert_eq!(s["progressDeadlineSeconds"], 600);
        assert_eq!(
            s["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        );
        let t = &s["template"]["spec"];
        assert_eq!(t["restartPolicy"], "Always");
        assert_eq!(t["dnsPolicy"], "ClusterFirst");
        assert_eq!(t["schedulerName"], "default-scheduler");
        assert_eq!(t["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(
            t["containers"][0]["terminationMessagePath"],
            "/dev/termination-log"
        );
        assert_eq!(t["containers"][0]["terminationMessagePolicy"], "File");
        assert_eq!(t["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            t["containers"][1]["imagePullPolicy"], "Never",
            "explicit kept"
        );
        assert_eq!(t["initContainers"][0]["imagePullPolicy"], "Always");
        // Admission-only fields are not put on templates.
        assert!(t.get("serviceAccountName").is_none());
        let once = d.clone();
        apply(&DEPLOYMENTS, &mut d);
        assert_eq!(d, once, "idempotent");
        // A later image patch keeps the defaulted policy, as on a real apiserver.
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:latest");
        apply(&DEPLOYMENTS, &mut d);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn recreate_strategy_gets_no_rolling_update_and_partial_rolling_update_is_completed() {
        let mut d = deployment_with(json!([{"name": "a", "image": "x:1"}]));
        d["spec"]["strategy"] = json!({"type": "Recreate"});
        apply(&DEPLOYMENTS, &mut d);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        let mut d = deployment_with(json!([{"name": "a", "image": "x:1"}]));
        d["spec"]["strategy"] = json!({"rollingUpdate": {"maxSurge": 2}});
        apply(&DEPLOYMENTS, &mut d);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": "25%"}})
        );
    }

    #[test]
    fn pod_gets_spec_admission_and_status_defaults() {
        let mut p = json!({"metadata": {"name": "p", "namespace": "default"},
                           "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}});
        apply(&PODS, &mut p);
        assert_eq!(p["spec"]["serviceAccountName"], "default");
        assert_eq!(p["spec"]["serviceAccount"], "default");
        assert_eq!(p["spec"]["tolerations"].as_array().map(Vec::len), Some(2));
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(p["status"]["qosClass"], "BestEffort");
        assert_eq!(
            p["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        let once = p.clone();
        apply(&PODS, &mut p);
        assert_eq!(p, once);
        let mut g = json!({"spec": {"containers": [{"name": "c", "image": "x",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        apply(&PODS, &mut g);
        assert_eq!(g["status"]["qosClass"], "Guaranteed");
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for rt in [
            &PODS,
            &DEPLOYMENTS,
            &REPLICASETS,
            &STATEFULSETS,
            &NAMESPACES,
        ] {
            for mut v in [
                json!(null),
                json!("x"),
                json!({"spec": "x"}),
                json!({"spec": {"template": 3, "containers": "no"}}),
                json!({"metadata": 5, "status": []}),
            ] {
                apply(rt, &mut v);
            }
        }
    }

    #[test]
    fn namespace_label_and_phase() {
        let mut n = json!({"metadata": {"name": "team"}});
        apply(&NAMESPACES, &mut n);
        assert_eq!(
            n["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team"
        );
        assert_eq!(n["status"]["phase"], "Active");
        assert_eq!(n["spec"]["finalizers"], json!(["kubernetes"]));
    }
}
