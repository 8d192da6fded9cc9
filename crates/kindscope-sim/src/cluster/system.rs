//! Kind's own objects, Running from the start: the control-plane static pods, kindnet and
//! kube-proxy on every node, CoreDNS and the local-path provisioner, and the two Services.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::clock::now_rfc3339;
use super::super::controllers::pod_template_hash;
use super::super::kubelet::runtime_name;
use super::super::nodes::{base_image_name, fake_digest};
use super::super::store::{
    DAEMONSETS, DEPLOYMENTS, NODES, PODS, REPLICASETS, ResourceType, SERVICES, Store,
};
use super::Sim;
use kindscope_core::imageref::ImageRef;

/// Five characters from the apiserver's generateName alphabet, stable per seed.
fn suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    fake_digest(seed)[7..]
        .bytes()
        .take(5)
        .map(|b| ALPHABET[(b as usize) % ALPHABET.len()] as char)
        .collect()
}

fn owner(kind: &str, api_version: &str, obj: &Value) -> Value {
    json!([{"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": true, "blockOwnerDeletion": true}])
}

fn put(store: &Store, rt: &'static ResourceType, obj: Value) -> Result<Arc<Value>, String> {
    super::create(store, rt, obj)
}

/// A Running status as the kubelet would have written it for `spec` on `node`.
fn running_status(sim: &Sim, spec: &Value, node: &str, pod_ip: &str) -> Value {
    let now = now_rfc3339();
    let host_ip = sim.node_ip(node).unwrap_or_default();
    let statuses: Vec<Value> = spec["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or("");
            let (name, image_id) = match ImageRef::parse(image) {
                Ok(r) => (
                    runtime_name(&r),
                    sim.runtimes.find(node, &r).map(|i| i.image_ref()).unwrap_or_default(),
                ),
                Err(_) => (image.to_string(), String::new()),
            };
            let id = fake_digest(&format!("{node}/{}/{pod_ip}", c["name"]));
            json!({"name": c["name"], "image": name, "imageID": image_id, "containerID": format!("containerd://{}", &id[7..]),
                   "lastState": {}, "ready": true, "restartCount": 0, "started": true,
                   "state": {"running": {"startedAt": now}}})
        })
        .collect();
    let cond = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
    json!({
        "phase": "Running",
        "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": statuses,
    })
}

fn pod(
    sim: &Sim,
    name: &str,
    ns: &str,
    meta: Value,
    mut spec: Value,
    node: &str,
    host_network: bool,
) -> Value {
    spec["nodeName"] = json!(node);
    let ip = if host_network {
        sim.node_ip(node).unwrap_or_default()
    } else {
        sim.allocate_pod_ip(node)
    };
    let mut m = meta;
    m["name"] = json!(name);
    m["namespace"] = json!(ns);
    let status = running_status(sim, &spec, node, &ip);
    json!({"metadata": m, "spec": spec, "status": status})
}

fn container(name: &str, image: &str, extra: Value) -> Value {
    let mut c = json!({"name": name, "image": image, "imagePullPolicy": "IfNotPresent"});
    if let (Some(c), Some(x)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(x.clone());
    }
    c
}

pub(super) fn create_all(store: &Store, sim: &Sim) -> Result<(), String> {
    let v = &sim.kubernetes_version;
    let cp = sim.control_plane().to_string();
    let img = |c: &str| base_image_name(v, c);
    // Static pods: mirrors owned by their Node.
    for node in sim
        .nodes
        .iter()
        .filter(|n| n.role == super::Role::ControlPlane)
    {
        let node_obj = store.get(&NODES, "", &node.name).ok_or("node missing")?;
        for (component, image, requests) in [
            (
                "etcd",
                img("etcd"),
                json!({"cpu": "100m", "memory": "100Mi"}),
            ),
            (
                "kube-apiserver",
                img("kube-apiserver"),
                json!({"cpu": "250m"}),
            ),
            (
                "kube-controller-manager",
                img("kube-controller-manager"),
                json!({"cpu": "200m"}),
            ),
            (
                "kube-scheduler",
                img("kube-scheduler"),
                json!({"cpu": "100m"}),
            ),
        ] {
            let meta = json!({
                "labels": {"component": component, "tier": "control-plane"},
                "annotations": {"kubernetes.io/config.source": "file", "kubernetes.io/config.seen": now_rfc3339(),
                                "kubernetes.io/config.hash": &fake_digest(&format!("{component}/{}", node.name))[7..39]},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node_obj["metadata"]["uid"], "controller": true}],
            });
            let spec = json!({
                "containers": [container(component, &image, json!({"command": [component], "resources": {"requests": requests}}))],
                "hostNetwork": true, "priorityClassName": "system-node-critical", "priority": 2_000_001_000,
                "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
            });
            put(
                store,
                &PODS,
                pod(
                    sim,
                    &format!("{component}-{}", node.name),
                    "kube-system",
                    meta,
                    spec,
                    &node.name,
                    true,
                ),
            )?;
        }
    }
    // DaemonSets with a pod on every node.
    let n = sim.nodes.len();
    for (ds_name, image, labels) in [
        (
            "kindnet",
            img("kindnetd"),
            json!({"app": "kindnet", "k8s-app": "kindnet", "tier": "node"}),
        ),
        (
            "kube-proxy",
            img("kube-proxy"),
            json!({"k8s-app": "kube-proxy"}),
        ),
    ] {
        let tpl_spec = json!({"containers": [container(if ds_name == "kindnet" { "kindnet-cni" } else { ds_name }, &image, json!({}))],
                              "hostNetwork": true, "priorityClassName": "system-node-critical",
                              "tolerations": [{"operator": "Exists"}]});
        let ds = put(
            store,
            &DAEMONSETS,
            json!({
                "metadata": {"name": ds_name, "namespace": "kube-system", "labels": labels},
                "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": tpl_spec}},
            }),
        )?;
        let revision_hash = &pod_template_hash(&ds["spec"]["template"])
            [..8.min(pod_template_hash(&ds["spec"]["template"]).len())];
        for node in &sim.nodes {
            let mut pod_labels = labels.clone();
            pod_labels["controller-revision-hash"] = json!(revision_hash);
            pod_labels["pod-template-generation"] = json!("1");
            let meta = json!({"labels": pod_labels, "ownerReferences": owner("DaemonSet", "apps/v1", &ds)});
            let name = format!("{ds_name}-{}", suffix(&format!("{ds_name}/{}", node.name)));
            put(
                store,
                &PODS,
                pod(
                    sim,
                    &name,
                    "kube-system",
                    meta,
                    tpl_spec.clone(),
                    &node.name,
                    true,
                ),
            )?;
        }
        let (dns, _) = (ds["metadata"]["namespace"].as_str().unwrap_or(""), ());
        store
            .modify(&DAEMONSETS, dns, ds_name, None, |o| {
                o["status"] = json!({"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n,
                                     "numberMisscheduled": 0, "numberReady": n, "observedGeneration": 1, "updatedNumberScheduled": n});
                Ok(())
            })
            .map_err(|e| e.message)?;
    }
    // Deployments: CoreDNS (2 replicas) and the local-path provisioner, on the control plane.
    let cp_tolerations = json!([{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    for (ns, dname, cname, image, replicas, labels) in [
        (
            "kube-system",
            "coredns",
            "coredns",
            img("coredns"),
            2,
            json!({"k8s-app": "kube-dns"}),
        ),
        (
            "local-path-storage",
            "local-path-provisioner",
            "local-path-provisioner",
            img("local-path-provisioner"),
            1,
            json!({"app": "local-path-provisioner"}),
        ),
    ] {
        let tpl_spec = json!({"containers": [container(cname, &image, json!({}))], "tolerations": cp_tolerations,
                              "nodeSelector": {"kubernetes.io/os": "linux"}});
        let d = put(
            store,
            &DEPLOYMENTS,
            json!({
                "metadata": {"name": dname, "namespace": ns, "labels": labels},
                "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": tpl_spec}},
            }),
        )?;
        let hash = pod_template_hash(&d["spec"]["template"]);
        let mut tpl = d["spec"]["template"].clone();
        tpl["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        let mut selector = d["spec"]["selector"].clone();
        selector["matchLabels"]["pod-template-hash"] = json!(hash);
        let rs_name = format!("{dname}-{hash}");
        let rs = put(
            store,
            &REPLICASETS,
            json!({
                "metadata": {"name": rs_name, "namespace": ns, "labels": tpl["metadata"]["labels"],
                             "annotations": {"deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                                             "deployment.kubernetes.io/max-replicas": (replicas + 1).to_string(),
                                             "deployment.kubernetes.io/revision": "1"},
                             "ownerReferences": owner("Deployment", "apps/v1", &d)},
                "spec": {"replicas": replicas, "selector": selector, "template": tpl},
            }),
        )?;
        for i in 0..replicas {
            let meta = json!({"labels": tpl["metadata"]["labels"], "ownerReferences": owner("ReplicaSet", "apps/v1", &rs)});
            let name = format!("{rs_name}-{}", suffix(&format!("{rs_name}/{i}")));
            put(
                store,
                &PODS,
                pod(sim, &name, ns, meta, tpl["spec"].clone(), &cp, false),
            )?;
        }
    }
    put(
        store,
        &SERVICES,
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "ports": [{"name": "https", "port": 443, "targetPort": 6443}]},
        }),
    )?;
    put(
        store,
        &SERVICES,
        json!({
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
            "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"k8s-app": "kube-dns"},
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                               {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
        }),
    )?;
    Ok(())
}
