//! `d`: a describe of a pod, Deployment or node from the snapshot, laid out like `kubectl
//! describe` (fields, container states, conditions, events). Pure: snapshot in, lines out; the
//! caller escapes each line before it reaches the screen.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::Snapshot;
use crate::tui::format::age;
use crate::tui::port::{ObjectKind, ObjectRef};

/// Lines describing `obj` as the snapshot has it at `now` (epoch seconds).
pub fn describe(snap: &Snapshot, obj: &ObjectRef, now: i64) -> Vec<String> {
    let mut out = Vec::new();
    let named = |m: &ObjectMeta| {
        m.name.as_deref() == Some(obj.name.as_str())
            && (obj.namespace.is_empty() || m.namespace.as_deref() == Some(obj.namespace.as_str()))
    };
    let found = match obj.kind {
        ObjectKind::Pod => snap
            .pods
            .iter()
            .find(|p| named(&p.metadata))
            .map(|p| pod(&mut out, p)),
        ObjectKind::Deployment => snap
            .deployments
            .iter()
            .find(|d| named(&d.metadata))
            .map(|d| deployment(&mut out, snap, d)),
        ObjectKind::Node => snap
            .nodes
            .iter()
            .find(|n| named(&n.metadata))
            .map(|n| node(&mut out, snap, n)),
    };
    if found.is_none() {
        return vec![format!("{} is not in the cluster (any more).", obj.label())];
    }
    events(&mut out, snap, obj, now);
    out
}

/// `Key:` and its value in a column (as kubectl aligns them), at least one space between.
fn kv(out: &mut Vec<String>, indent: usize, key: &str, value: impl AsRef<str>) {
    let label = format!("{key}:");
    let pad = 20usize.saturating_sub(indent).max(label.len() + 1);
    out.push(format!(
        "{}{label:<pad$}{}",
        " ".repeat(indent),
        value.as_ref()
    ));
}

/// `k=v` lines (the first beside the key, the rest aligned under it), or `<none>`.
fn map(out: &mut Vec<String>, key: &str, m: Option<&BTreeMap<String, String>>) {
    let mut items = m.into_iter().flatten().map(|(k, v)| format!("{k}={v}"));
    match items.next() {
        None => kv(out, 0, key, "<none>"),
        Some(first) => {
            kv(out, 0, key, first);
            out.extend(items.map(|i| format!("{:20}{i}", "")));
        }
    }
}

fn meta(out: &mut Vec<String>, m: &ObjectMeta) {
    kv(out, 0, "Name", m.name.as_deref().unwrap_or(""));
    if let Some(ns) = &m.namespace {
        kv(out, 0, "Namespace", ns);
    }
    if let Some(t) = &m.creation_timestamp {
        kv(out, 0, "CreationTimestamp", t.0.to_string());
    }
    map(out, "Labels", m.labels.as_ref());
}

fn pod(out: &mut Vec<String>, p: &Pod) {
    meta(out, &p.metadata);
    let spec = p.spec.as_ref();
    let status = p.status.as_ref();
    let node = spec
        .and_then(|s| s.node_name.clone())
        .unwrap_or_else(|| "<none>".into());
    let host = status.and_then(|s| s.host_ip.clone());
    kv(
        out,
        0,
        "Node",
        match host {
            Some(ip) => format!("{node}/{ip}"),
            None => node,
        },
    );
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    kv(
        out,
        0,
        "Status",
        if p.metadata.deletion_timestamp.is_some() {
            "Terminating".to_string()
        } else {
            phase
        },
    );
    kv(
        out,
        0,
        "IP",
        status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
    );
    if let Some(owner) = p
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    {
        kv(
            out,
            0,
            "Controlled By",
            format!("{}/{}", owner.kind, owner.name),
        );
    }
    let statuses = |init: bool| -> Vec<ContainerStatus> {
        status
            .and_then(|s| {
                if init {
                    s.init_container_statuses.clone()
                } else {
                    s.container_statuses.clone()
                }
            })
            .unwrap_or_default()
    };
    for (title, init) in [("Init Containers", true), ("Containers", false)] {
        let containers = spec
            .map(|s| {
                if init {
                    s.init_containers.clone().unwrap_or_default()
                } else {
                    s.containers.clone()
                }
            })
            .unwrap_or_default();
        if containers.is_empty() {
            continue;
        }
        out.push(format!("{title}:"));
        let st = statuses(init);
        for c in &containers {
            out.push(format!("  {}:", c.name));
            image_lines(out, c);
            let s = st.iter().find(|s| s.name == c.name);
            if let Some(s) = s {
                if !s.image_id.is_empty() {
                    kv(out, 4, "Image ID", &s.image_id);
                }
                state(out, "State", s.state.as_ref());
                if s.last_state.as_ref().is_some_and(|l| {
                    l.running.is_some() || l.terminated.is_some() || l.waiting.is_some()
                }) {
                    state(out, "Last State", s.last_state.as_ref());
                }
                kv(out, 4, "Ready", if s.ready { "True" } else { "False" });
                kv(out, 4, "Restart Count", s.restart_count.to_string());
            } else {
                kv(out, 4, "State", "<no status yet>");
            }
        }
    }
    out.push("Conditions:".into());
    out.push(format!("  {:<26}Status", "Type"));
    for c in status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
    {
        out.push(format!("  {:<26}{}", c.type_, c.status));
    }
}

/// A container's image as written and its pull policy (kindscope's question, so always shown).
fn image_lines(out: &mut Vec<String>, c: &k8s_openapi::api::core::v1::Container) {
    kv(out, 4, "Image", c.image.as_deref().unwrap_or(""));
    kv(
        out,
        4,
        "Image Pull Policy",
        c.image_pull_policy.as_deref().unwrap_or("(default)"),
    );
}

fn state(out: &mut Vec<String>, key: &str, s: Option<&ContainerState>) {
    let Some(s) = s else {
        kv(out, 4, key, "<unknown>");
        return;
    };
    if let Some(r) = &s.running {
        kv(out, 4, key, "Running");
        if let Some(t) = &r.started_at {
            kv(out, 6, "Started", t.0.to_string());
        }
    } else if let Some(w) = &s.waiting {
        kv(out, 4, key, "Waiting");
        if let Some(r) = &w.reason {
            kv(out, 6, "Reason", r);
        }
        if let Some(m) = &w.message {
            kv(out, 6, "Message", m);
        }
    } else if let Some(t) = &s.terminated {
        kv(out, 4, key, "Terminated");
        if let Some(r) = &t.reason {
            kv(out, 6, "Reason", r);
        }
        kv(out, 6, "Exit Code", t.exit_code.to_string());
    } else {
        kv(out, 4, key, "<unknown>");
    }
}

fn deployment(out: &mut Vec<String>, snap: &Snapshot, d: &k8s_openapi::api::apps::v1::Deployment) {
    meta(out, &d.metadata);
    let spec = d.spec.as_ref();
    let st = d.status.as_ref();
    map(
        out,
        "Selector",
        spec.and_then(|s| s.selector.match_labels.as_ref()),
    );
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let n = |v: Option<i32>| v.unwrap_or(0);
    kv(
        out,
        0,
        "Replicas",
        format!(
            "{desired} desired | {} updated | {} total | {} available | {} unavailable",
            n(st.and_then(|s| s.updated_replicas)),
            n(st.and_then(|s| s.replicas)),
            n(st.and_then(|s| s.available_replicas)),
            n(st.and_then(|s| s.unavailable_replicas)),
        ),
    );
    kv(
        out,
        0,
        "StrategyType",
        spec.and_then(|s| s.strategy.as_ref())
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "RollingUpdate".into()),
    );
    out.push("Pod Template:".into());
    let tpl = spec.and_then(|s| s.template.spec.as_ref());
    for (title, list) in [
        (
            "Init Containers",
            tpl.and_then(|t| t.init_containers.clone())
                .unwrap_or_default(),
        ),
        (
            "Containers",
            tpl.map(|t| t.containers.clone()).unwrap_or_default(),
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push(format!("  {title}:"));
        for c in &list {
            out.push(format!("   {}:", c.name));
            image_lines(out, c);
        }
    }
    out.push("Conditions:".into());
    out.push(format!("  {:<16}{:<8}Reason", "Type", "Status"));
    for c in st.and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
        out.push(format!(
            "  {:<16}{:<8}{}",
            c.type_,
            c.status,
            c.reason.as_deref().unwrap_or("")
        ));
    }
    // The ReplicaSets it owns, newest (by revision) first.
    let uid = d.metadata.uid.as_deref();
    let mut sets: Vec<_> = snap
        .replicasets
        .iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| Some(o.uid.as_str()) == uid)
        })
        .collect();
    sets.sort_by_key(|rs| {
        std::cmp::Reverse(
            rs.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0),
        )
    });
    for (i, rs) in sets.iter().enumerate() {
        let s = rs.status.as_ref();
        kv(
            out,
            0,
            if i == 0 {
                "NewReplicaSet"
            } else {
                "OldReplicaSet"
            },
            format!(
                "{} ({}/{} replicas created)",
                rs.metadata.name.as_deref().unwrap_or(""),
                s.map_or(0, |s| s.replicas),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
            ),
        );
    }
}

fn node(out: &mut Vec<String>, snap: &Snapshot, n: &k8s_openapi::api::core::v1::Node) {
    let roles: Vec<&str> = n
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    kv(out, 0, "Name", n.metadata.name.as_deref().unwrap_or(""));
    kv(
        out,
        0,
        "Roles",
        if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        },
    );
    map(out, "Labels", n.metadata.labels.as_ref());
    let taints: Vec<String> = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| match &t.value {
            Some(v) => format!("{}={v}:{}", t.key, t.effect),
            None => format!("{}:{}", t.key, t.effect),
        })
        .collect();
    kv(
        out,
        0,
        "Taints",
        if taints.is_empty() {
            "<none>".to_string()
        } else {
            taints.join(", ")
        },
    );
    let st = n.status.as_ref();
    out.push("Conditions:".into());
    out.push(format!("  {:<20}{:<8}Reason", "Type", "Status"));
    for c in st.and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
        out.push(format!(
            "  {:<20}{:<8}{}",
            c.type_,
            c.status,
            c.reason.as_deref().unwrap_or("")
        ));
    }
    out.push("Addresses:".into());
    for a in st.and_then(|s| s.addresses.as_ref()).into_iter().flatten() {
        out.push(format!("  {}: {}", a.type_, a.address));
    }
    if let Some(i) = st.and_then(|s| s.node_info.as_ref()) {
        out.push("System Info:".into());
        kv(out, 2, "Kubelet Version", &i.kubelet_version);
        kv(out, 2, "Container Runtime", &i.container_runtime_version);
        kv(out, 2, "OS Image", &i.os_image);
    }
    let name = n.metadata.name.as_deref().unwrap_or("");
    if let Some(images) = snap.node_images.get(name) {
        kv(out, 0, "Images", format!("{} listed", images.images.len()));
    }
    let pods: Vec<String> = snap
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
        .map(|p| {
            format!(
                "  {}/{}",
                p.metadata.namespace.as_deref().unwrap_or(""),
                p.metadata.name.as_deref().unwrap_or("")
            )
        })
        .collect();
    out.push(format!("Pods ({}):", pods.len()));
    out.extend(pods);
}

/// The object's events, oldest first, as kubectl lists them.
fn events(out: &mut Vec<String>, snap: &Snapshot, obj: &ObjectRef, now: i64) {
    let kind = match obj.kind {
        ObjectKind::Pod => "Pod",
        ObjectKind::Deployment => "Deployment",
        ObjectKind::Node => "Node",
    };
    let mut mine: Vec<&Event> = snap
        .events
        .iter()
        .map(|e| e.as_ref())
        .filter(|e| {
            let o = &e.involved_object;
            o.kind.as_deref() == Some(kind)
                && o.name.as_deref() == Some(obj.name.as_str())
                && (obj.namespace.is_empty()
                    || o.namespace.as_deref() == Some(obj.namespace.as_str()))
        })
        .collect();
    let when = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0.as_second())
            .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
    };
    mine.sort_by_key(|e| when(e));
    if mine.is_empty() {
        kv(out, 0, "Events", "<none>");
        return;
    }
    out.push("Events:".into());
    out.push(format!(
        "  {:<8} {:<20} {:<8} {:<10} Message",
        "Type", "Reason", "Age", "From"
    ));
    for e in mine {
        let ago = when(e).map_or_else(|| "-".to_string(), |t| age(now - t));
        let count = e.count.unwrap_or(1);
        let ago = if count > 1 {
            format!("{ago} (x{count})")
        } else {
            ago
        };
        out.push(format!(
            "  {:<8} {:<20} {:<8} {:<10} {}",
            e.type_.as_deref().unwrap_or(""),
            e.reason.as_deref().unwrap_or(""),
            ago,
            e.source
                .as_ref()
                .and_then(|s| s.component.as_deref())
                .or(e.reporting_component.as_deref())
                .unwrap_or(""),
            e.message.as_deref().unwrap_or("")
        ));
    }
}
