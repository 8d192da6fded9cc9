//! The review APIs kubectl's `auth` commands post to: SelfSubjectAccessReview (`auth can-i`),
//! SelfSubjectRulesReview (`auth can-i --list`) and SelfSubjectReview (`auth whoami`). They are
//! create-only and never stored.
//!
//! The user is the one kubeadm writes into a Kind cluster's admin kubeconfig: the client
//! certificate's `CN=kubernetes-admin`, `O=kubeadm:cluster-admins`, a group kubeadm binds to
//! `cluster-admin` (kubernetes cmd/kubeadm/app/phases/kubeconfig, since v1.29), so everything is
//! allowed, with RBAC's reason, except what a `forbid=` fault forbids (then the answer is no,
//! as the 403s of those resources say).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::faults::Faults;
use super::super::resources::resource;
use super::super::status::ApiError;
use super::{json_value, protobuf};

pub const USER: &str = "kubernetes-admin";
pub const GROUPS: &[&str] = &["kubeadm:cluster-admins", "system:authenticated"];

const ALLOWED_BY: &str = "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of \
                          ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\"";

/// Is this path one of the review endpoints (`/apis/GROUP/v1/PLURAL`)? Returns the kind.
pub(super) fn review_kind(group: &str, version: &str, plural: &str) -> Option<&'static str> {
    match (group, version, plural) {
        ("authorization.k8s.io", "v1", "selfsubjectaccessreviews") => {
            Some("SelfSubjectAccessReview")
        }
        ("authorization.k8s.io", "v1", "selfsubjectrulesreviews") => Some("SelfSubjectRulesReview"),
        ("authentication.k8s.io", "v1", "selfsubjectreviews") => Some("SelfSubjectReview"),
        _ => None,
    }
}

fn body_json(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    if protobuf::is_protobuf(content_type) {
        return protobuf::decode(body);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
    })
}

/// POST to a review endpoint: the review with its status filled in.
pub(super) fn create(
    kind: &'static str,
    faults: &Faults,
    content_type: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let review = body_json(content_type, body)?;
    let api_version = match kind {
        "SelfSubjectReview" => "authentication.k8s.io/v1",
        _ => "authorization.k8s.io/v1",
    };
    let mut out = json!({
        "kind": kind,
        "apiVersion": api_version,
        "metadata": {"creationTimestamp": null},
    });
    match kind {
        "SelfSubjectReview" => {
            out["status"] = json!({"userInfo": {"username": USER, "groups": GROUPS}});
        }
        "SelfSubjectRulesReview" => {
            out["spec"] = review["spec"].clone();
            out["status"] = json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
            });
        }
        _ => {
            let spec = &review["spec"];
            let attrs = &spec["resourceAttributes"];
            if !attrs.is_object() && !spec["nonResourceAttributes"].is_object() {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                ));
            }
            out["spec"] = spec.clone();
            let group = attrs["group"].as_str().unwrap_or("");
            let plural = attrs["resource"].as_str().unwrap_or("");
            let forbidden = resource(group, plural).is_some_and(|rt| faults.is_forbidden(rt));
            out["status"] = if forbidden {
                json!({"allowed": false})
            } else {
                json!({"allowed": true, "reason": ALLOWED_BY})
            };
        }
    }
    Ok(json_value(StatusCode::CREATED, &out))
}
