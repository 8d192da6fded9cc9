//! The `scale` subresource of Deployments, ReplicaSets and StatefulSets (`autoscaling/v1`
//! Scale), as the apiserver's scale REST storage serves it: GET builds the Scale from the
//! object, PUT and PATCH change only `spec.replicas` (kubectl scale, HPA, the Python client's
//! `read/patch/replace_namespaced_deployment_scale`).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

pub(super) use super::super::discovery::has_scale;
use super::super::patch::{self, PatchKind};
use super::super::status::ApiError;
use super::super::table::selector_string;
use super::{AppState, Params, Target, apply, json_value};

/// The Scale of a stored object.
pub fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": obj["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": match selector_string(&obj["spec"]["selector"]).as_str() {
                "<none>" => String::new(),
                sel => sel.to_string(),
            },
        },
    })
}

fn replicas_of(name: &str, scale: &Value) -> Result<i64, ApiError> {
    let r = &scale["spec"]["replicas"];
    let n = if r.is_null() {
        0
    } else {
        r.as_i64().ok_or_else(|| {
            ApiError::bad_request(format!(
                "the body of the request could not be decoded: spec.replicas: {r} is not an integer"
            ))
        })?
    };
    if n < 0 || n > i64::from(i32::MAX) {
        return Err(ApiError {
            code: 422,
            reason: "Invalid",
            message: format!(
                "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {n}: must be greater than or equal to 0"
            ),
            details: Some(("autoscaling".into(), "Scale".into(), name.into())),
        });
    }
    Ok(n)
}

/// GET, PUT or PATCH on `…/NAME/scale`.
pub(super) fn handle(
    st: &AppState,
    t: &Target,
    method: &Method,
    params: &Params,
    content_type: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let rt = t.rt;
    let ns = t.ns.as_deref().unwrap_or("");
    let name = t.name.as_deref().unwrap_or("");
    let current = st
        .store
        .get(rt, ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    let (wanted, expected_rv) = match *method {
        Method::GET => return Ok(json_value(StatusCode::OK, &scale_of(&current))),
        Method::PUT => {
            let s: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            })?;
            let rv = s["metadata"]["resourceVersion"]
                .as_str()
                .filter(|r| !r.is_empty())
                .map(str::to_string);
            (replicas_of(name, &s)?, rv)
        }
        Method::PATCH => {
            let kind = PatchKind::from_content_type(content_type).ok_or_else(|| {
                ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    format!(
                        "the body of the request was in an unknown format (got \"{content_type}\")"
                    ),
                )
            })?;
            let patched = patch::apply(kind, &scale_of(&current), body)
                .map_err(|e| super::handlers::patch_error(rt, name, e))?;
            (replicas_of(name, &patched)?, None)
        }
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    if params.dry_run() {
        let mut next = (*current).clone();
        next["spec"]["replicas"] = json!(wanted);
        return Ok(json_value(StatusCode::OK, &scale_of(&next)));
    }
    let stored = st
        .store
        .modify(rt, ns, name, expected_rv.as_deref(), |obj| {
            let before = obj.clone();
            obj["spec"]["replicas"] = json!(wanted);
            let manager = params.get("fieldManager").unwrap_or("");
            apply::record_update(manager, "scale", Some(&before), obj);
            Ok(())
        })?;
    Ok(json_value(StatusCode::OK, &scale_of(&stored)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reports_spec_status_and_selector() {
        let d = json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"tier": "x", "app": "web"},
                     "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 2},
        });
        let s = scale_of(&d);
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["status"]["replicas"], 2);
        assert_eq!(s["status"]["selector"], "app=web,tier=x,env in (a,b)");
        assert_eq!(s["metadata"]["resourceVersion"], "7");
    }
}
