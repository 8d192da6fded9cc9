//! Serving the OpenAPI v3 documents (`crate::openapi`) as kube-openapi's `handler3` does: an
//! ETag (the document's hash, quoted) and `304` for a matching `If-None-Match`; with the
//! current `?hash=` the answer is cacheable for good (`public, immutable`, a year's `Expires`);
//! an outdated hash is a `301` to the current URL.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{Params, error_response, json_value, not_found_path};
use crate::openapi;

/// `/openapi/v3`.
pub(super) fn root() -> Response {
    json_value(StatusCode::OK, &openapi::root())
}

/// `/openapi/v3/GV`.
pub(super) fn group_version(gv: &str, params: &Params, headers: &HeaderMap) -> Response {
    let Some(doc) = openapi::document(gv) else {
        return error_response(&not_found_path());
    };
    let etag = format!("\"{}\"", doc.hash);
    let mut r = if let Some(hash) = params.get("hash")
        && hash != doc.hash
    {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
        if let Ok(v) = HeaderValue::from_str(&openapi::server_relative_url(doc)) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    } else if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Body::from(bytes::Bytes::from_static(doc.bytes.as_slice())));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    if params.get("hash").is_some() {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
        let expires = jiff::Timestamp::now()
            .saturating_add(jiff::SignedDuration::from_hours(365 * 24))
            .unwrap_or(jiff::Timestamp::MAX);
        let text = expires.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(v) = HeaderValue::from_str(&text) {
            h.insert(header::EXPIRES, v);
        }
    }
    r
}
