//! Deletes as the apiserver's registry does them: pods bound to a node are deleted gracefully
//! (`deletionTimestamp` = now + grace period, `deletionGracePeriodSeconds`; the pod shows
//! Terminating until its node's kubelet has stopped it and removes it), namespaces go through
//! their finalizer (phase Terminating while the namespace controller deletes their content,
//! then the namespace). Everything else is removed at once.
//!
//! Sources: kubernetes pkg/registry/core/pod/strategy.go (`CheckGracefulDelete`: the options'
//! grace period, else `spec.terminationGracePeriodSeconds`; 0 for unscheduled or finished
//! pods), staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go (`BeforeDelete`: a second
//! delete may only shorten the grace period), pkg/registry/core/namespace/storage (phase
//! Terminating, the `kubernetes` finalizer) and pkg/controller/namespace.

use std::sync::Arc;
use std::time::Duration;

use kindscope_core::time::{self, Precision};
use serde_json::{Value, json};

use super::super::resources::{NAMESPACES, PODS, RESOURCES, ResourceType};
use super::super::status::ApiError;
use super::super::store::Store;
use axum::http::StatusCode;
use axum::response::Response;

use super::handlers::{parse_body, writable};
use super::{AppState, Params, Target, json_value};

/// How often the namespace controller looks again while content is still going away.
const NAMESPACE_POLL: Duration = Duration::from_millis(50);

fn is(rt: &ResourceType, other: &ResourceType) -> bool {
    std::ptr::eq(rt, other)
}

/// The grace period a delete of this pod gets, or None to remove it at once.
fn pod_grace(pod: &Value, opts: &Value) -> Option<i64> {
    let requested = opts["gracePeriodSeconds"].as_i64();
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    let unbound = pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty);
    if unbound || phase == "Succeeded" || phase == "Failed" {
        return None;
    }
    let grace = requested
        .or_else(|| pod["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    (grace > 0).then_some(grace)
}

/// Delete one object; returns what the DELETE answers with and whether it is still there
/// (graceful: the answer is the object, as for pods and namespaces on a real apiserver).
pub(super) fn delete(
    st: &Arc<AppState>,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    current: &Arc<Value>,
    opts: &Value,
) -> Result<(Arc<Value>, bool), ApiError> {
    if is(rt, &PODS)
        && let Some(grace) = pod_grace(current, opts)
    {
        return Ok((mark_pod(&st.store, ns, name, grace)?, true));
    }
    if is(rt, &NAMESPACES) {
        let marked = st.store.modify(rt, "", name, None, |n| {
            if n["metadata"]["deletionTimestamp"].is_null() {
                n["metadata"]["deletionTimestamp"] = json!(now_plus(0));
            }
            n["spec"]["finalizers"] = json!(["kubernetes"]);
            n["status"]["phase"] = json!("Terminating");
            Ok(())
        })?;
        spawn_namespace_cleanup(st, name.to_string());
        return Ok((marked, true));
    }
    Ok((st.store.delete(rt, ns, name)?, false))
}

/// DELETE on one object: preconditions, dry run, then `delete`; pods and graceful deletions
/// answer with the object, the rest with a Success Status.
pub(super) fn serve(
    st: &Arc<AppState>,
    t: &Target,
    name: &str,
    params: &Params,
    body: &[u8],
) -> Result<Response, ApiError> {
    let rt = t.rt;
    writable(rt)?;
    if t.sub.is_some() {
        return Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ));
    }
    let ns = t.ns.as_deref().unwrap_or("");
    let opts: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        parse_body(body)?
    };
    let current = st
        .store
        .get(rt, ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    let pre = &opts["preconditions"];
    for (field, label) in [("resourceVersion", "ResourceVersion"), ("uid", "UID")] {
        if let Some(want) = pre[field].as_str()
            && current["metadata"][field].as_str() != Some(want)
        {
            return Err(ApiError::conflict(
                rt,
                name,
                &format!(
                    "Precondition failed: {label} in precondition: {want}, {label} in object meta: {}",
                    current["metadata"][field].as_str().unwrap_or("")
                ),
            ));
        }
    }
    let (deleted, graceful) = if params.dry_run() || opts["dryRun"] == json!(["All"]) {
        (current, false)
    } else {
        delete(st, rt, ns, name, &current, &opts)?
    };
    // Pods answer with the object, and so does every graceful deletion; others with a Status.
    if graceful || (rt.group == PODS.group && rt.plural == PODS.plural) {
        return Ok(json_value(StatusCode::OK, deleted.as_ref()));
    }
    Ok(json_value(
        StatusCode::OK,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": rt.group,
                "kind": rt.plural,
                "uid": deleted["metadata"]["uid"],
            },
        }),
    ))
}

fn now_plus(secs: i64) -> String {
    let t = jiff::Timestamp::now().saturating_add(jiff::SignedDuration::from_secs(secs));
    time::rfc3339(t.unwrap_or(jiff::Timestamp::MAX), Precision::Secs)
}

/// Set the pod's deletion timestamp; a later delete may only shorten the grace period.
fn mark_pod(store: &Store, ns: &str, name: &str, grace: i64) -> Result<Arc<Value>, ApiError> {
    store.modify(&PODS, ns, name, None, |p| {
        let meta = &mut p["metadata"];
        let had = meta["deletionGracePeriodSeconds"].as_i64();
        if had.is_none_or(|g| grace < g) {
            meta["deletionTimestamp"] = json!(now_plus(grace));
            meta["deletionGracePeriodSeconds"] = json!(grace);
        }
        Ok(())
    })
}

/// A namespace being deleted takes no new objects (403, worded as the NamespaceLifecycle
/// admission plugin words it).
pub(super) fn refuse_if_terminating(
    store: &Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
) -> Result<(), ApiError> {
    match store.namespace_terminating(rt, ns) {
        true => Err(ApiError {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                rt.qualified()
            ),
            details: Some((rt.group.into(), rt.plural.into(), name.into())),
        }),
        false => Ok(()),
    }
}

/// The namespace controller: delete every object in the namespace (pods gracefully, so they
/// show Terminating first), and once nothing is left, the namespace itself.
fn spawn_namespace_cleanup(st: &Arc<AppState>, ns: String) {
    let store = st.store.clone();
    let mut stop = st.stop.clone();
    tokio::spawn(async move {
        loop {
            if namespace_emptied(&store, &ns) {
                let _ = store.delete(&NAMESPACES, "", &ns);
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(NAMESPACE_POLL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}

/// One pass of the namespace controller; true once the namespace holds nothing.
fn namespace_emptied(store: &Store, ns: &str) -> bool {
    let mut left = 0;
    for rt in RESOURCES
        .iter()
        .copied()
        .filter(|r| r.namespaced && r.stored)
    {
        let (items, _) = store.list(rt, Some(ns));
        for o in items {
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            if is(rt, &PODS)
                && let Some(grace) = pod_grace(&o, &Value::Null)
            {
                left += 1;
                if o["metadata"]["deletionTimestamp"].is_null() {
                    let _ = mark_pod(store, ns, name, grace);
                }
                continue;
            }
            if store.delete(rt, ns, name).is_err() {
                left += 1;
            }
        }
    }
    left == 0
}

#[cfg(test)]
mod tests {
    use super::super::super::resources::EVENTS;
    use super::*;

    #[test]
    fn grace_follows_the_pod_strategy() {
        let bound = json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        assert_eq!(pod_grace(&bound, &Value::Null), Some(30));
        assert_eq!(
            pod_grace(&bound, &json!({"gracePeriodSeconds": 5})),
            Some(5)
        );
        assert_eq!(pod_grace(&bound, &json!({"gracePeriodSeconds": 0})), None);
        let custom = json!({"spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 2}});
        assert_eq!(pod_grace(&custom, &Value::Null), Some(2));
        let unbound = json!({"spec": {}, "status": {"phase": "Pending"}});
        assert_eq!(pod_grace(&unbound, &Value::Null), None);
        let done = json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Succeeded"}});
        assert_eq!(pod_grace(&done, &Value::Null), None);
    }

    #[test]
    fn a_terminating_namespace_refuses_new_content() {
        let store = Store::new(1);
        store
            .create(&NAMESPACES, json!({"metadata": {"name": "a"}}))
            .expect("ns");
        assert!(refuse_if_terminating(&store, &PODS, "a", "p").is_ok());
        store
            .modify(&NAMESPACES, "", "a", None, |n| {
                n["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
                Ok(())
            })
            .expect("mark");
        let e = refuse_if_terminating(&store, &PODS, "a", "p").expect_err("refused");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"p\" is forbidden: unable to create new content in namespace a because it is being terminated"
        );
        assert!(refuse_if_terminating(&store, &EVENTS, "a", "e").is_ok());
    }
}
