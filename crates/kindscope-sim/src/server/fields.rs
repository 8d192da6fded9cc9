//! Server-side field validation of creates and updates (`fieldValidation`): fields the type's
//! schema does not declare are a 400 with `Strict` (what kubectl sends by default), a
//! `Warning` header each with `Warn` (the default when a client sends nothing) and nothing
//! with `Ignore`, worded as the apiserver's create and update handlers word them.

use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::Value;

use super::Params;
use crate::openapi;
use crate::resources::ResourceType;
use crate::status::ApiError;

/// Drop the unknown fields of `obj`, as the apiserver's decoder does: the warnings to add to
/// the response, or the error.
pub(super) fn check(
    rt: &ResourceType,
    obj: &mut Value,
    params: &Params,
) -> Result<Vec<String>, ApiError> {
    let directive = params.get("fieldValidation").unwrap_or("");
    let unknown = openapi::drop_unknown_fields(rt, obj);
    if directive.eq_ignore_ascii_case("Ignore") {
        return Ok(Vec::new());
    }
    let unknown: Vec<String> = unknown
        .into_iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if unknown.is_empty() || !directive.eq_ignore_ascii_case("Strict") {
        return Ok(unknown);
    }
    let kind = rt.kind;
    Err(ApiError::bad_request(format!(
        "{kind} in version \"{}\" cannot be handled as a {kind}: strict decoding error: {}",
        rt.version,
        unknown.join(", ")
    )))
}

/// Add `warnings` to a response as RFC 7234 `299` warnings, as the apiserver sends them.
pub(super) fn warn(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            r.headers_mut().append("warning", v);
        }
    }
    r
}
