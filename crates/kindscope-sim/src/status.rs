//! API errors and the `Status` objects they become on the wire.

use serde_json::{Value, json};

use super::resources::ResourceType;

/// An error the API answers with, rendered as a `Status` object by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, `Gone`,
    /// `UnsupportedMediaType`, `Forbidden`, `MethodNotAllowed`, `InternalError`.
    pub reason: &'static str,
    pub message: String,
    /// (group, kind-or-plural, name) for `details`.
    pub details: Option<(String, String, String)>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{}\" not found", rt.qualified(), name),
            details: Some((rt.group.into(), rt.plural.into(), name.into())),
        }
    }
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{}\" already exists", rt.qualified(), name),
            details: Some((rt.group.into(), rt.plural.into(), name.into())),
        }
    }
    pub fn conflict(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                rt.qualified(),
                name,
                why
            ),
            details: Some((rt.group.into(), rt.plural.into(), name.into())),
        }
    }
    /// 422 Invalid, worded as the apiserver's `errors.NewInvalid`: the kind qualified by its
    /// group (`Deployment.apps "web" is invalid: …`).
    pub fn invalid(rt: &ResourceType, name: &str, why: &str) -> Self {
        let what = if rt.group.is_empty() {
            rt.kind.to_string()
        } else {
            format!("{}.{}", rt.kind, rt.group)
        };
        Self {
            code: 422,
            reason: "Invalid",
            message: format!("{what} \"{name}\" is invalid: {why}"),
            details: Some((rt.group.into(), rt.kind.into(), name.into())),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` object the apiserver sends for this error.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some((group, kind, name)) = &self.details {
            s["details"] = json!({"name": name, "group": group, "kind": kind});
        }
        s
    }
}
