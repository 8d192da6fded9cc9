//! What `kindscope wait` decides from one snapshot: which workloads are ready, which are
//! certainly blocked by an image finding, and what is still pending. Pure.
//!
//! Ready follows `kubectl rollout status` for Deployments (generation observed, every replica
//! updated, no old replica left, every updated replica available); other workloads are ready
//! when they have pods and every live one is Ready (a Job's may have Succeeded instead).

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;

use crate::diagnose::Finding;
use crate::model::Snapshot;

/// Waiting reasons that will not clear by themselves (the kubelet retries an `ErrImagePull`
/// once before it backs off, so a pull failure is certain at `ImagePullBackOff`).
pub const CERTAIN: [&str; 3] = ["ErrImageNeverPull", "InvalidImageName", "ImagePullBackOff"];

/// One workload to wait for, `Kind/name` with the API's kind spelling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub namespace: Option<String>,
    pub kind: String,
    pub name: String,
}

impl Target {
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// `deployment/gw`, `deploy/gw`, `sts/db`, `pod/x` → a target in `namespace`.
pub fn parse_target(s: &str, namespace: Option<&str>) -> Result<Target, String> {
    let (kind, name) = s
        .split_once('/')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| format!("{s:?} is not KIND/NAME; write e.g. deployment/gateway"))?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" => "Deployment",
        "statefulset" | "statefulsets" | "sts" => "StatefulSet",
        "daemonset" | "daemonsets" | "ds" => "DaemonSet",
        "replicaset" | "replicasets" | "rs" => "ReplicaSet",
        "job" | "jobs" => "Job",
        "pod" | "pods" | "po" => "Pod",
        other => {
            return Err(format!(
                "kindscope wait cannot wait for {other:?}; use deployment, statefulset, daemonset, replicaset, job or pod"
            ));
        }
    };
    Ok(Target {
        namespace: namespace.map(str::to_string),
        kind: kind.to_string(),
        name: name.to_string(),
    })
}

/// Where one target stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub target: Target,
    pub ready: bool,
    /// What it waits for, one phrase (`0 of 1 updated replicas are available`).
    pub message: String,
}

/// Every workload in scope: Deployments, and pods grouped by their controller (pods of a
/// Deployment's ReplicaSet count as the Deployment).
pub fn all_targets(snap: &Snapshot) -> Vec<Target> {
    let mut out: BTreeSet<Target> = BTreeSet::new();
    let in_scope = |ns: Option<&str>| snap.namespace.as_deref().is_none_or(|n| Some(n) == ns);
    for d in &snap.deployments {
        if in_scope(d.metadata.namespace.as_deref()) {
            out.insert(Target {
                namespace: d.metadata.namespace.clone(),
                kind: "Deployment".into(),
                name: d.metadata.name.clone().unwrap_or_default(),
            });
        }
    }
    for p in &snap.pods {
        let ns = p.metadata.namespace.as_deref();
        if !in_scope(ns) {
            continue;
        }
        let (kind, name) = match controller(p) {
            Some(("ReplicaSet", _)) => continue,
            // Static pods are mirrored with their node as owner; each is its own workload.
            Some(("Node", _)) | None => ("Pod".into(), p.metadata.name.clone().unwrap_or_default()),
            Some((k, n)) => (k.to_string(), n.to_string()),
        };
        out.insert(Target {
            namespace: ns.map(str::to_string),
            kind,
            name,
        });
    }
    out.into_iter().collect()
}

fn controller(p: &Pod) -> Option<(&str, &str)> {
    let refs = p.metadata.owner_references.as_deref()?;
    let r = refs
        .iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())?;
    Some((r.kind.as_str(), r.name.as_str()))
}

fn ns_matches(t: &Target, ns: Option<&str>) -> bool {
    t.namespace.as_deref().is_none_or(|n| Some(n) == ns)
}

fn find_deployment<'a>(snap: &'a Snapshot, t: &Target) -> Option<&'a Deployment> {
    snap.deployments.iter().map(|d| &**d).find(|d| {
        d.metadata.name.as_deref() == Some(&t.name)
            && ns_matches(t, d.metadata.namespace.as_deref())
    })
}

/// The pods that speak for a target (a Deployment's through its ReplicaSets).
pub fn pods_of<'a>(snap: &'a Snapshot, t: &Target) -> Vec<&'a Pod> {
    let rs_names: BTreeSet<&str> = if t.kind == "Deployment" {
        snap.replicasets
            .iter()
            .filter(|rs| ns_matches(t, rs.metadata.namespace.as_deref()))
            .filter(|rs| {
                rs.metadata
                    .owner_references
                    .as_deref()
                    .unwrap_or(&[])
                    .iter()
                    .any(|r| r.kind == "Deployment" && r.name == t.name)
            })
            .filter_map(|rs| rs.metadata.name.as_deref())
            .collect()
    } else {
        BTreeSet::new()
    };
    snap.pods
        .iter()
        .map(|p| &**p)
        .filter(|p| ns_matches(t, p.metadata.namespace.as_deref()))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| match (t.kind.as_str(), controller(p)) {
            ("Pod", _) => p.metadata.name.as_deref() == Some(&t.name),
            ("Deployment", Some(("ReplicaSet", rs))) => rs_names.contains(rs),
            (kind, Some((k, n))) => k == kind && n == t.name,
            _ => false,
        })
        .collect()
}

fn pod_ready(p: &Pod) -> bool {
    let st = p.status.as_ref();
    st.and_then(|s| s.phase.as_deref()) == Some("Succeeded")
        || st
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or(&[])
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Where `t` stands in `snap`.
pub fn progress(snap: &Snapshot, t: &Target) -> Progress {
    let done = |ready: bool, message: String| Progress {
        target: t.clone(),
        ready,
        message,
    };
    if t.kind == "Deployment" {
        let Some(d) = find_deployment(snap, t) else {
            return done(false, "not found (yet)".into());
        };
        let spec = d.spec.as_ref();
        let st = d.status.clone().unwrap_or_default();
        let generation = d.metadata.generation.unwrap_or(0);
        if st.observed_generation.unwrap_or(0) < generation {
            return done(false, "waiting for the deployment controller".into());
        }
        let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
        let updated = st.updated_replicas.unwrap_or(0);
        let total = st.replicas.unwrap_or(0);
        let available = st.available_replicas.unwrap_or(0);
        return if updated < desired {
            done(
                false,
                format!("{updated} of {desired} new replicas updated"),
            )
        } else if total > updated {
            done(
                false,
                format!("{} old replicas pending termination", total - updated),
            )
        } else if available < updated {
            done(
                false,
                format!("{available} of {updated} updated replicas available"),
            )
        } else {
            done(true, format!("{available}/{desired} ready"))
        };
    }
    let pods = pods_of(snap, t);
    if pods.is_empty() {
        return done(false, "no pods yet".into());
    }
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    done(
        ready == pods.len(),
        format!("{ready}/{} pods ready", pods.len()),
    )
}

/// Findings of `targets` that are certain: some pod of theirs waits with a reason that will
/// not clear, or no pod can start at all (a Deployment with pull policy Never whose image no
/// eligible node holds — such findings name no pod).
pub fn blocking<'f>(
    snap: &Snapshot,
    targets: &[Target],
    findings: &'f [Finding],
) -> Vec<&'f Finding> {
    findings
        .iter()
        .filter(|f| {
            targets.iter().any(|t| {
                f.workload == t.label() && t.namespace.as_deref().is_none_or(|n| n == f.namespace)
            })
        })
        .filter(|f| {
            f.pods.is_empty()
                || f.pods.iter().any(|name| {
                    snap.pods.iter().any(|p| {
                        p.metadata.name.as_deref() == Some(name.as_str())
                            && p.metadata.namespace.as_deref() == Some(f.namespace.as_str())
                            && waiting_reasons(p).any(|r| CERTAIN.contains(&r))
                    })
                })
        })
        .collect()
}

/// The waiting reasons of a pod's containers and init containers.
pub fn waiting_reasons(p: &Pod) -> impl Iterator<Item = &str> {
    let st = p.status.as_ref();
    st.and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[])
        .iter()
        .chain(
            st.and_then(|s| s.container_statuses.as_deref())
                .unwrap_or(&[]),
        )
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
}

/// `120s`, `2m`, `1m30s`, `90` (seconds), `500ms`.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    use std::time::Duration;
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let mut total = Duration::ZERO;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let v: f64 = num.parse().ok()?;
        num.clear();
        let secs = match unit.as_str() {
            "ms" => v / 1000.0,
            "s" => v,
            "m" => v * 60.0,
            "h" => v * 3600.0,
            _ => return None,
        };
        total += Duration::try_from_secs_f64(secs).ok()?;
        any = true;
    }
    (any && num.is_empty()).then_some(total)
}

#[cfg(test)]
#[path = "wait_state_tests.rs"]
mod tests;
