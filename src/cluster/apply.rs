//! Sending a plan's guarded JSON patch to the right object.
//!
//! The patch starts with `test` ops on the old values: when someone changed the workload since
//! the plan was made, the server answers 422 and nothing changes. That is reported as
//! [`ApplyError::Conflict`] and never retried — a blind retry would overwrite their change.

use std::fmt::Debug;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::connect::describe_kube_error;
use crate::fix::{FixPlan, Target};

/// Field manager kindscope writes as (visible in `managedFields`).
pub const FIELD_MANAGER: &str = "kindscope";
/// Upper bound for one patch request.
pub const PATCH_TIMEOUT: Duration = Duration::from_secs(15);

/// A patch the server accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub target: Target,
    /// Sent with `dryRun=All`: validated by the server, not stored.
    pub dry_run: bool,
    /// `metadata.generation` of the patched object as returned (rollouts wait for it).
    pub generation: Option<i64>,
    pub resource_version: Option<String>,
}

/// Why a patch was not applied. Every variant means the object is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A guard `test` op failed (422) or the object changed underneath (409).
    #[error(
        "{target}: the workload changed since the plan; nothing was changed — re-run diagnose ({detail})"
    )]
    Conflict { target: String, detail: String },
    /// 403: the user may not patch this object.
    #[error("{target}: forbidden to patch ({detail}); use a context allowed to update it")]
    Forbidden { target: String, detail: String },
    /// 404: the object is gone.
    #[error("{target}: not found; it was deleted since the plan — re-run diagnose")]
    NotFound { target: String },
    /// Any other answer from the API server (validation errors, 5xx).
    #[error("{target}: the API server refused the patch (HTTP {code}: {message})")]
    Api {
        target: String,
        code: u16,
        message: String,
    },
    /// No answer: connection, TLS or timeout.
    #[error("{target}: cannot reach the API server ({0})", .detail)]
    Transport { target: String, detail: String },
    /// The plan itself cannot be sent (unknown kind, malformed patch).
    #[error("{target}: cannot apply this plan ({detail})")]
    Invalid { target: String, detail: String },
}

impl ApplyError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, ApplyError::Conflict { .. })
    }
}

/// `Kind namespace/name` for messages.
pub fn describe_target(t: &Target) -> String {
    format!("{} {}/{}", t.kind, t.namespace, t.name)
}

/// Apply `plan.patch` (with `dryRun=All` when `dry_run`).
pub async fn apply(client: &Client, plan: &FixPlan, dry_run: bool) -> Result<Applied, ApplyError> {
    send(client, &plan.target, &plan.patch, dry_run).await
}

/// Apply `plan.undo`, the same way: guarded by `test` ops on the values the fix set.
pub async fn undo(client: &Client, plan: &FixPlan, dry_run: bool) -> Result<Applied, ApplyError> {
    send(client, &plan.target, &plan.undo, dry_run).await
}

async fn send(
    client: &Client,
    target: &Target,
    ops: &Value,
    dry_run: bool,
) -> Result<Applied, ApplyError> {
    let name = describe_target(target);
    // Validate the shape before sending anything.
    serde_json::from_value::<json_patch::Patch>(ops.clone()).map_err(|e| ApplyError::Invalid {
        target: name.clone(),
        detail: format!("the patch is not a JSON patch: {e}"),
    })?;
    let mut params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    if dry_run {
        params = params.dry_run();
    }
    let ns = target.namespace.as_str();
    let request = async {
        match target.kind.as_str() {
            "Deployment" => patch_typed::<Deployment>(client, ns, target, &params, ops).await,
            "StatefulSet" => patch_typed::<StatefulSet>(client, ns, target, &params, ops).await,
            "DaemonSet" => patch_typed::<DaemonSet>(client, ns, target, &params, ops).await,
            "Pod" => patch_typed::<Pod>(client, ns, target, &params, ops).await,
            other => Err(ApplyError::Invalid {
                target: name.clone(),
                detail: format!("kindscope cannot patch a {other}"),
            }),
        }
    };
    let result = match tokio::time::timeout(PATCH_TIMEOUT, request).await {
        Ok(r) => r,
        Err(_) => Err(ApplyError::Transport {
            target: name.clone(),
            detail: format!("no answer within {} s", PATCH_TIMEOUT.as_secs()),
        }),
    };
    match &result {
        Ok(a) => tracing::info!(target = %name, dry_run, generation = ?a.0, "patch applied"),
        Err(e) => tracing::warn!("{e}"),
    }
    result.map(|(generation, resource_version)| Applied {
        target: target.clone(),
        dry_run,
        generation,
        resource_version,
    })
}

async fn patch_typed<K>(
    client: &Client,
    ns: &str,
    target: &Target,
    params: &PatchParams,
    ops: &Value,
) -> Result<(Option<i64>, Option<String>), ApplyError>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Serialize,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let json: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(|e| ApplyError::Invalid {
            target: describe_target(target),
            detail: e.to_string(),
        })?;
    match api
        .patch(&target.name, params, &Patch::<K>::Json(json))
        .await
    {
        Ok(obj) => {
            let meta = obj.meta();
            Ok((meta.generation, meta.resource_version.clone()))
        }
        Err(kube::Error::Api(status)) if status.code == 422 => {
            // Servers word a failed `test` op differently (the apiserver: a generic "the
            // server rejected our request"); look at the object to know which it was.
            let current = api
                .get(&target.name)
                .await
                .ok()
                .and_then(|o| serde_json::to_value(o).ok());
            Err(classify_422(
                &describe_target(target),
                &status.message,
                current.as_ref(),
                ops,
            ))
        }
        Err(e) => Err(classify(&describe_target(target), &e)),
    }
}

/// The first `test` op that no longer holds on `current`: its path and the value there now.
fn failed_guard(current: &Value, ops: &Value) -> Option<(String, Value)> {
    ops.as_array()?.iter().find_map(|op| {
        if op.get("op")?.as_str()? != "test" {
            return None;
        }
        let path = op.get("path")?.as_str()?;
        let now = current.pointer(path).cloned().unwrap_or(Value::Null);
        (Some(&now) != op.get("value")).then(|| (path.to_string(), now))
    })
}

/// A 422: a guard that failed (someone changed the object) or a genuine validation error.
fn classify_422(target: &str, message: &str, current: Option<&Value>, ops: &Value) -> ApplyError {
    let target = target.to_string();
    match current {
        Some(current) => match failed_guard(current, ops) {
            Some((path, now)) if path == "/metadata/uid" => ApplyError::Conflict {
                target,
                detail: format!("it was deleted and created again: its uid is now {now}"),
            },
            Some((path, now)) => ApplyError::Conflict {
                target,
                detail: format!("{path} is now {now}"),
            },
            None => ApplyError::Api {
                target,
                code: 422,
                message: message.to_string(),
            },
        },
        // Could not read the object back: go by the wording.
        None if message.contains(" is invalid: ") && !message.contains("json patch") => {
            ApplyError::Api {
                target,
                code: 422,
                message: message.to_string(),
            }
        }
        None => ApplyError::Conflict {
            target,
            detail: message.to_string(),
        },
    }
}

/// Map a kube error (other than 422) to what the user must know about it.
fn classify(target: &str, e: &kube::Error) -> ApplyError {
    let target = target.to_string();
    match e {
        kube::Error::Api(status) => match status.code {
            409 => ApplyError::Conflict {
                target,
                detail: status.message.clone(),
            },
            403 => ApplyError::Forbidden {
                target,
                detail: status.message.clone(),
            },
            404 => ApplyError::NotFound { target },
            code => ApplyError::Api {
                target,
                code,
                message: status.message.clone(),
            },
        },
        other => ApplyError::Transport {
            target,
            detail: describe_kube_error(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        let mut s = Status::failure(message, reason);
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    fn guarded() -> Value {
        serde_json::json!([
            {"op": "test", "path": "/spec/image", "value": "a"},
            {"op": "replace", "path": "/spec/image", "value": "b"}
        ])
    }

    #[test]
    fn failed_test_op_is_a_conflict_whatever_the_wording() {
        let now = serde_json::json!({"spec": {"image": "someone-else"}});
        for message in [
            "the server rejected our request due to an error in our request",
            "Deployment.apps \"x\" is invalid: spec.image: json patch operation 0 failed",
        ] {
            let e = classify_422("Deployment default/x", message, Some(&now), &guarded());
            assert!(e.is_conflict(), "{e:?}");
            let text = e.to_string();
            assert!(text.contains("nothing was changed"), "{text}");
            assert!(text.contains("re-run diagnose"), "{text}");
            assert!(
                text.contains("/spec/image is now \"someone-else\""),
                "{text}"
            );
        }
    }

    #[test]
    fn validation_422_with_guards_holding_is_not_a_conflict() {
        let now = serde_json::json!({"spec": {"image": "a"}});
        let msg = "Deployment.apps \"x\" is invalid: spec.image: Required value";
        let e = classify_422("Deployment default/x", msg, Some(&now), &guarded());
        assert!(matches!(e, ApplyError::Api { code: 422, .. }), "{e:?}");
        // Without the object, the wording decides.
        assert!(!classify_422("t", msg, None, &guarded()).is_conflict());
        let generic = "the server rejected our request due to an error in our request";
        assert!(classify_422("t", generic, None, &guarded()).is_conflict());
    }

    #[test]
    fn forbidden_and_not_found() {
        assert!(matches!(
            classify("t", &status(403, "Forbidden", "no")),
            ApplyError::Forbidden { .. }
        ));
        assert!(matches!(
            classify("t", &status(404, "NotFound", "gone")),
            ApplyError::NotFound { .. }
        ));
        assert!(matches!(
            classify("t", &status(500, "InternalError", "boom")),
            ApplyError::Api { code: 500, .. }
        ));
    }
}
