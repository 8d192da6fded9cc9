//! The verbs on one resource type: list, get, create, update, patch, delete (watch is in
//! `watch.rs`). Every write is defaulted (`defaults::apply`) and validated before it is
//! stored; `dryRun=All` computes the same answer without storing.

use std::cell::RefCell;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use super::super::defaults;
use super::super::discovery::has_status;
use super::super::faults::Faults;
use super::super::patch::{self, PatchError, PatchKind};
use super::super::query::{ContinueToken, Page, Selectors};
use super::super::resources::{NAMESPACES, ResourceType, SERVICES};
use super::super::status::ApiError;
use super::super::store::{
    bump_generation, check_version, keep_server_fields, name_of, namespace_of, now_rfc3339,
};
use super::super::table::{IncludeObject, table, wants_table};
use super::{
    AppState, Params, Target, apply, deletion, error_response, fields, json_bytes, json_value,
    protobuf, scale, services, validate, watch, write_json,
};

const MAX_BODY: usize = 32 << 20;

/// Field errors of a 422 answer, collected while the edit runs inside the store's lock.
pub(super) type Causes = RefCell<Vec<(String, String)>>;

/// The Status for an error, with `details.causes` from which kubectl prints field errors.
fn failure(e: &ApiError, causes: &[(String, String)]) -> Response {
    let mut status = e.to_status();
    if !causes.is_empty() {
        let list: Vec<Value> = causes
            .iter()
            .map(|(field, message)| {
                let reason = match message.split(':').next().unwrap_or("") {
                    "Required value" => "FieldValueRequired",
                    "Duplicate value" => "FieldValueDuplicate",
                    "Unsupported value" => "FieldValueNotSupported",
                    "Forbidden" => "FieldValueForbidden",
                    _ => "FieldValueInvalid",
                };
                json!({"reason": reason, "message": message, "field": field})
            })
            .collect();
        if !status["details"].is_object() {
            status["details"] = json!({});
        }
        status["details"]["causes"] = Value::Array(list);
    }
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_value(code, &status)
}

pub(super) async fn handle(
    st: &Arc<AppState>,
    faults: &Faults,
    t: Target,
    params: Params,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let (accept, content_type) = {
        let header = |h: header::HeaderName| {
            req.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        (header(header::ACCEPT), header(header::CONTENT_TYPE))
    };
    let mut params = params;
    if params.get("fieldManager").is_none_or(str::is_empty) {
        let agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        params.0.retain(|(k, _)| k != "fieldManager");
        params
            .0
            .push(("fieldManager".into(), apply::manager_for(None, agent)));
    }
    let watching = t.watch_prefix || params.flag("watch");
    let body = if matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                return error_response(&ApiError::bad_request(format!(
                    "could not read the request body: {e}"
                )));
            }
        }
    } else {
        Bytes::new()
    };
    // Protobuf bodies (client-go's typed clients) become the JSON every verb below reads.
    let body = if protobuf::is_protobuf(&content_type) && method != Method::PATCH {
        match protobuf::decode(&body) {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e) => return error_response(&e),
        }
    } else {
        body
    };
    let causes = Causes::default();
    let result = match (&method, t.name.as_deref()) {
        (_, Some(_)) if t.sub.as_deref() == Some("scale") => {
            scale::handle(st, &t, &method, &params, &content_type, &body)
        }
        (&Method::GET, _) if watching => watch::serve(st, faults, &t, &params, &accept),
        (&Method::GET, None) => list(st, &t, &params, &accept),
        (&Method::GET, Some(name)) => get(st, &t, name, &params, &accept),
        (&Method::POST, None) => create(st, &t, &params, &body, &causes),
        (&Method::PUT, Some(name)) => update(st, &t, name, &params, &body, &causes),
        (&Method::PATCH, Some(name)) => {
            patch_one(st, &t, name, &params, &content_type, &body, &causes)
        }
        (&Method::DELETE, Some(name)) => deletion::serve(st, &t, name, &params, &body),
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    };
    result.unwrap_or_else(|e| failure(&e, &causes.borrow()))
}

fn kind_name(rt: &ResourceType) -> String {
    format!("{}List", rt.kind)
}

fn list(st: &AppState, t: &Target, params: &Params, accept: &str) -> Result<Response, ApiError> {
    let rt = t.rt;
    let sel = Selectors::parse(rt, params.get("labelSelector"), params.get("fieldSelector"))?;
    let limit = match params.get("limit") {
        Some(l) => Some(l.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!("limit: Invalid value: \"{l}\": must be an integer"))
        })?),
        None => None,
    };
    let token = match params.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(ContinueToken::decode(c)?),
        None => None,
    };
    let limit = limit.filter(|l| *l > 0);
    // Every page shows the list at the first page's version (its token carries it), so
    // objects created or deleted while a client pages never make others vanish or repeat; a
    // version the change log no longer reaches is 410 Expired and the client lists again.
    let matches = |o: &Value| sel.matches(o);
    let filter: Option<&dyn Fn(&Value) -> bool> = (!sel.is_empty()).then_some(&matches);
    let (items, remaining, list_rv) = if rt.stored {
        let after = token
            .as_ref()
            .map(|t| (t.namespace.as_str(), t.name.as_str()));
        let page = st.store.list_page_at(
            rt,
            t.ns.as_deref(),
            after,
            token.as_ref().map(|t| t.rv),
            limit.unwrap_or(usize::MAX),
            filter,
        )?;
        (page.items, page.remaining, page.rv)
    } else {
        (Vec::new(), None, st.store.resource_version())
    };
    let page = Page::new(items.iter().collect(), remaining, list_rv);
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if let Some((next, remaining)) = &page.next {
        meta["continue"] = json!(next.encode());
        if let Some(remaining) = remaining {
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    if wants_table(accept) {
        let include = IncludeObject::parse(params.get("includeObject"));
        let doc = table(
            rt,
            page.items.iter().map(|o| o.as_ref()),
            include,
            meta,
            jiff::Timestamp::now(),
        );
        return Ok(json_value(StatusCode::OK, &doc));
    }
    // Serialized item by item straight from the stored objects: no copy of the list as a Value.
    let mut out = Vec::with_capacity(256 + page.items.len() * 2048);
    out.extend_from_slice(b"{\"kind\":");
    write_json(&mut out, &json!(kind_name(rt)));
    out.extend_from_slice(b",\"apiVersion\":");
    write_json(&mut out, &json!(rt.api_version()));
    out.extend_from_slice(b",\"metadata\":");
    write_json(&mut out, &meta);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(&mut out, item.as_ref());
    }
    out.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, out))
}

fn get(
    st: &AppState,
    t: &Target,
    name: &str,
    params: &Params,
    accept: &str,
) -> Result<Response, ApiError> {
    let obj = st
        .store
        .get(t.rt, t.ns.as_deref().unwrap_or(""), name)
        .ok_or_else(|| ApiError::not_found(t.rt, name))?;
    if wants_table(accept) && t.sub.is_none() {
        let include = IncludeObject::parse(params.get("includeObject"));
        let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
        let doc = table(t.rt, [obj.as_ref()], include, meta, jiff::Timestamp::now());
        return Ok(json_value(StatusCode::OK, &doc));
    }
    Ok(json_value(StatusCode::OK, obj.as_ref()))
}

pub(super) fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
    })?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was not a JSON object",
        ));
    }
    Ok(v)
}

/// The body must be of this type and, for namespaced types, in the request's namespace.
fn check_identity(t: &Target, obj: &mut Value) -> Result<(), ApiError> {
    let rt = t.rt;
    if let Some(kind) = obj["kind"].as_str()
        && !kind.is_empty()
        && kind != rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the object ({kind}) does not match the kind of the resource ({})",
            rt.kind
        )));
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if rt.namespaced {
        let url_ns = t.ns.clone().unwrap_or_default();
        let body_ns = namespace_of(obj);
        if !body_ns.is_empty() && body_ns != url_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        obj["metadata"]["namespace"] = Value::String(url_ns);
    }
    Ok(())
}

pub(super) fn writable(rt: &ResourceType) -> Result<(), ApiError> {
    if rt.stored {
        Ok(())
    } else {
        Err(ApiError::new(
            405,
            "MethodNotAllowed",
            format!("the sim does not store {}", rt.qualified()),
        ))
    }
}

fn create(
    st: &AppState,
    t: &Target,
    params: &Params,
    body: &[u8],
    causes: &Causes,
) -> Result<Response, ApiError> {
    let mut obj = parse_body(body)?;
    let warnings = fields::check(t.rt, &mut obj, params)?;
    create_object(st, t, params, obj, causes).map(|r| fields::warn(r, &warnings))
}

/// Create from a parsed body (a create, or an apply of an object that does not exist yet).
pub(super) fn create_object(
    st: &AppState,
    t: &Target,
    params: &Params,
    mut obj: Value,
    causes: &Causes,
) -> Result<Response, ApiError> {
    let rt = t.rt;
    writable(rt)?;
    check_identity(t, &mut obj)?;
    if obj["metadata"]["managedFields"].is_null() {
        apply::record_update(params.get("fieldManager").unwrap_or(""), "", None, &mut obj);
    }
    deletion::refuse_if_terminating(&st.store, rt, namespace_of(&obj), name_of(&obj))?;
    defaults::apply(rt, &mut obj);
    if std::ptr::eq(rt, &SERVICES) {
        services::allocate_cluster_ip(&st.store, &mut obj);
    }
    validate::validate(rt, &obj).map_err(|i| (*i).record(causes))?;
    if !params.dry_run() {
        let stored = st.store.create(rt, obj)?;
        return Ok(json_value(StatusCode::CREATED, stored.as_ref()));
    }
    // Dry run: the checks `Store::create` makes, and the fields it would set, without storing.
    let ns = namespace_of(&obj).to_string();
    if rt.namespaced && st.store.get(&NAMESPACES, "", &ns).is_none() {
        return Err(ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("namespaces \"{ns}\" not found"),
            details: Some((String::new(), "namespaces".into(), ns)),
        });
    }
    let mut name = name_of(&obj).to_string();
    if name.is_empty() {
        let prefix = obj["metadata"]["generateName"].as_str().unwrap_or("");
        name = format!("{prefix}{}", dry_run_suffix());
        obj["metadata"]["name"] = json!(name);
    }
    if st.store.get(rt, &ns, &name).is_some() {
        return Err(ApiError::already_exists(rt, &name));
    }
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    if !rt.namespaced
        && let Some(m) = obj["metadata"].as_object_mut()
    {
        m.remove("namespace");
    }
    obj["metadata"]["uid"] = json!(format!("{:032x}", rand_u64() as u128));
    if obj["metadata"]["creationTimestamp"].is_null() {
        obj["metadata"]["creationTimestamp"] = json!(now_rfc3339());
    }
    if obj.get("spec").is_some() {
        obj["metadata"]["generation"] = json!(1);
    }
    Ok(json_value(StatusCode::CREATED, &obj))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn dry_run_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut x = rand_u64();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
            x /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Run an edit of the stored object: for real through `Store::modify` (atomic, with the
/// resourceVersion precondition), or for `dryRun` on a copy with the same bookkeeping.
pub(super) fn write<F>(
    st: &AppState,
    t: &Target,
    name: &str,
    expected_rv: Option<&str>,
    dry_run: bool,
    edit: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&Value) -> Result<Value, ApiError>,
{
    writable(t.rt)?;
    let ns = t.ns.as_deref().unwrap_or("");
    if !dry_run {
        let stored = st.store.modify(t.rt, ns, name, expected_rv, |obj| {
            *obj = edit(obj)?;
            Ok(())
        })?;
        return Ok(json_value(StatusCode::OK, stored.as_ref()));
    }
    let current = st
        .store
        .get(t.rt, ns, name)
        .ok_or_else(|| ApiError::not_found(t.rt, name))?;
    check_version(t.rt, name, &current, expected_rv)?;
    let mut next = edit(&current)?;
    keep_server_fields(&current, &mut next);
    bump_generation(&current, &mut next);
    Ok(json_value(StatusCode::OK, &next))
}

/// Combine an edited object with the stored one as the endpoint allows: the main resource
/// ignores status changes, `/status` takes only status; then default and validate.
pub(super) fn finish_edit(
    t: &Target,
    manager: Option<&str>,
    current: &Value,
    edited: Value,
    causes: &Causes,
) -> Result<Value, ApiError> {
    let rt = t.rt;
    let mut next = if t.sub.as_deref() == Some("status") {
        let mut c = current.clone();
        match edited.get("status") {
            Some(s) => c["status"] = s.clone(),
            None => {
                if let Some(m) = c.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        c
    } else {
        let mut e = edited;
        if has_status(rt)
            && let Some(m) = e.as_object_mut()
        {
            match current.get("status") {
                Some(s) => {
                    m.insert("status".into(), s.clone());
                }
                None => {
                    m.remove("status");
                }
            }
        }
        e
    };
    if !next["metadata"].is_object() {
        next["metadata"] = json!({});
    }
    defaults::apply(rt, &mut next);
    validate::validate(rt, &next).map_err(|i| (*i).record(causes))?;
    validate::validate_update(rt, current, &next).map_err(|i| (*i).record(causes))?;
    if let Some(m) = manager {
        apply::record_update(m, t.sub.as_deref().unwrap_or(""), Some(current), &mut next);
    }
    Ok(next)
}

fn update(
    st: &AppState,
    t: &Target,
    name: &str,
    params: &Params,
    body: &[u8],
    causes: &Causes,
) -> Result<Response, ApiError> {
    let mut obj = parse_body(body)?;
    let warnings = fields::check(t.rt, &mut obj, params)?;
    check_identity(t, &mut obj)?;
    let body_name = name_of(&obj);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let expected = obj["metadata"]["resourceVersion"]
        .as_str()
        .map(str::to_string);
    write(st, t, name, expected.as_deref(), params.dry_run(), |cur| {
        finish_edit(t, params.get("fieldManager"), cur, obj, causes)
    })
    .map(|r| fields::warn(r, &warnings))
}

fn patch_one(
    st: &AppState,
    t: &Target,
    name: &str,
    params: &Params,
    content_type: &str,
    body: &[u8],
    causes: &Causes,
) -> Result<Response, ApiError> {
    if apply::is_apply(content_type) {
        return apply::serve(st, t, name, params, body, causes);
    }
    let kind = PatchKind::from_content_type(content_type).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, \
                 application/strategic-merge-patch+json (got \"{content_type}\")"
            ),
        )
    })?;
    let rt = t.rt;
    write(st, t, name, None, params.dry_run(), |cur| {
        let patched = patch::apply(kind, cur, body).map_err(|e| {
            if let PatchError::NotApplicable { field, message } = &e {
                causes.borrow_mut().push((field.clone(), message.clone()));
            }
            patch_error(rt, name, e)
        })?;
        finish_edit(t, params.get("fieldManager"), cur, patched, causes)
    })
}

/// How the apiserver answers a patch that cannot be applied.
pub(super) fn patch_error(rt: &ResourceType, name: &str, e: PatchError) -> ApiError {
    match e {
        PatchError::Malformed(m) => ApiError::bad_request(m),
        // The apiserver's generic 422 for a failed `test` op: no field, no details.
        PatchError::TestFailed => ApiError::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        ),
        PatchError::NotApplicable { field, message } => {
            ApiError::invalid(rt, name, &format!("{field}: {message}"))
        }
    }
}
