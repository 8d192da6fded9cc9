//! Watches: newline-delimited `{"type","object"}` events streamed over chunked HTTP, with the
//! apiserver's resourceVersion semantics (unset/"0": synthetic ADDED for every object, then
//! live; N: replay from the store's log, or an in-stream 410 Expired ERROR when the log no
//! longer reaches back that far), bookmarks, `timeoutSeconds`, selectors and faults.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::super::faults::Faults;
use super::super::query::Selectors;
use super::super::resources::ResourceType;
use super::super::status::ApiError;
use super::super::store::{Change, EventType, Store, WatchStart, name_of, namespace_of};
use super::super::table::{IncludeObject, table, wants_table};
use super::{AppState, Params, Target, json_bytes, write_json};

/// Which events a watch passes on. With a selector, it remembers which objects the client
/// holds, so that an object leaving the selection becomes DELETED and one entering it ADDED,
/// as the apiserver's watch cache does.
struct Filter {
    rt: &'static ResourceType,
    ns: Option<String>,
    sel: Selectors,
    known: Option<HashSet<(String, String)>>,
}

fn key(obj: &Value) -> (String, String) {
    (namespace_of(obj).to_string(), name_of(obj).to_string())
}

impl Filter {
    fn in_scope(&self, obj: &Value) -> bool {
        match &self.ns {
            Some(ns) if self.rt.namespaced => namespace_of(obj) == ns,
            _ => true,
        }
    }

    /// An object the client is told about at the start (or already holds).
    fn admit(&mut self, obj: &Value) -> bool {
        let ok = self.in_scope(obj) && self.sel.matches(obj);
        if ok && let Some(k) = &mut self.known {
            k.insert(key(obj));
        }
        ok
    }

    /// The event type to send for a change, or None to skip it.
    fn classify(&mut self, c: &Change) -> Option<&'static str> {
        if c.resource.plural != self.rt.plural
            || c.resource.group != self.rt.group
            || !self.in_scope(&c.object)
        {
            return None;
        }
        let matches = self.sel.matches(&c.object);
        let Some(known) = &mut self.known else {
            return matches.then(|| c.event.as_str());
        };
        let k = key(&c.object);
        match c.event {
            EventType::Deleted => (known.remove(&k) || matches).then_some("DELETED"),
            _ if matches => Some(if known.insert(k) {
                "ADDED"
            } else {
                c.event.as_str()
            }),
            _ => known.remove(&k).then_some("DELETED"),
        }
    }
}

/// How each event's object is written: as stored, or as a one-row Table (`kubectl get -w`).
#[derive(Clone, Copy)]
struct Encoder {
    rt: &'static ResourceType,
    table: Option<IncludeObject>,
}

impl Encoder {
    fn event(&self, ty: &str, obj: &Value) -> Bytes {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(ty.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        match self.table {
            Some(include) => {
                let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
                let t = table(self.rt, [obj], include, meta, jiff::Timestamp::now());
                write_json(&mut out, &t);
            }
            None => write_json(&mut out, obj),
        }
        out.extend_from_slice(b"}\n");
        Bytes::from(out)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta});
        let mut out = json!({"type": "BOOKMARK", "object": obj})
            .to_string()
            .into_bytes();
        out.push(b'\n');
        Bytes::from(out)
    }
}

fn error_event(e: &ApiError) -> Bytes {
    let mut out = json!({"type": "ERROR", "object": e.to_status()})
        .to_string()
        .into_bytes();
    out.push(b'\n');
    Bytes::from(out)
}

/// The objects to announce as ADDED and where the live stream starts.
fn begin(
    store: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    from: Option<u64>,
) -> Result<(Vec<Arc<Value>>, WatchStart), ApiError> {
    match from {
        Some(rv) => Ok((Vec::new(), store.watch_from(rt, ns, rv)?)),
        None => {
            // The log may be compacted between the list and the subscription; try again.
            let mut last = None;
            for _ in 0..3 {
                let (items, rv) = store.list(rt, ns);
                match store.watch_from(rt, ns, rv) {
                    Ok(w) => return Ok((items, w)),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| ApiError::internal("could not start the watch")))
        }
    }
}

enum Wake {
    Change(Result<Change, RecvError>),
    Bookmark,
    End,
}

pub(super) fn serve(
    st: &Arc<AppState>,
    faults: &Faults,
    t: &Target,
    params: &Params,
    accept: &str,
) -> Result<Response, ApiError> {
    let rt = t.rt;
    let mut sel = Selectors::parse(rt, params.get("labelSelector"), params.get("fieldSelector"))?;
    if let Some(name) = &t.name {
        // Watching one object (`…/pods/NAME?watch=1`) is a watch with a name selector.
        let by_name = Selectors::parse(rt, None, Some(&format!("metadata.name={name}")))?;
        sel.fields = by_name.fields;
        if let Some(l) = params.get("fieldSelector").filter(|f| !f.is_empty()) {
            sel.fields =
                Selectors::parse(rt, None, Some(&format!("{l},metadata.name={name}")))?.fields;
        }
    }
    let from = match params.get("resourceVersion").unwrap_or("") {
        "" | "0" => None,
        s => Some(s.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "resourceVersion: Invalid value: \"{s}\": must be an unsigned integer"
            ))
        })?),
    };
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let limit = [timeout, faults.drop_watch].into_iter().flatten().min();
    let bookmarks = params.flag("allowWatchBookmarks");
    let initial_end = params.flag("sendInitialEvents");
    let watch_410 = faults.watch_410;
    let enc = Encoder {
        rt,
        table: wants_table(accept).then(|| IncludeObject::parse(params.get("includeObject"))),
    };
    let track = !sel.is_empty();
    let mut filter = Filter {
        rt,
        ns: t.ns.clone(),
        sel,
        known: track.then(HashSet::new),
    };
    let store = st.store.clone();
    let mut stop = st.stop.clone();
    let interval = st.opts.bookmark_interval.max(Duration::from_millis(10));
    let ns = t.ns.clone();

    let stream = async_stream::stream! {
        if watch_410 {
            let rv = store.resource_version();
            let e = ApiError::gone(format!(
                "too old resource version: {} ({})", from.unwrap_or(rv), rv + 1));
            yield Ok::<Bytes, Infallible>(error_event(&e));
            return;
        }
        let started = Instant::now();
        let (initial, start) = match begin(&store, rt, ns.as_deref(), from) {
            Ok(x) => x,
            Err(e) => {
                yield Ok(error_event(&e));
                return;
            }
        };
        if from.is_some() && track {
            // The client holds what matched when it listed; the closest we know is now.
            for obj in store.list(rt, ns.as_deref()).0 {
                filter.admit(&obj);
            }
        }
        for obj in &initial {
            if filter.admit(obj) {
                yield Ok(enc.event("ADDED", obj));
            }
        }
        if initial_end {
            yield Ok(enc.bookmark(start.replay_until, true));
        }
        for c in &start.replay {
            if let Some(ty) = filter.classify(c) {
                yield Ok(enc.event(ty, &c.object));
            }
        }
        let replay_until = start.replay_until;
        let mut last_rv = replay_until;
        let mut live = start.live;
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        let deadline = limit.map(|l| started + l);
        loop {
            let wake = tokio::select! {
                _ = stop.wait_for(|s| *s) => Wake::End,
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                } => Wake::End,
                _ = ticks.tick(), if bookmarks => Wake::Bookmark,
                r = live.recv() => Wake::Change(r),
            };
            match wake {
                Wake::End => break,
                // Every change up to last_rv has been seen (the broadcast is in order), so a
                // client resuming from the bookmark misses nothing.
                Wake::Bookmark => yield Ok(enc.bookmark(last_rv, false)),
                Wake::Change(Ok(c)) => {
                    last_rv = last_rv.max(c.rv);
                    if c.rv <= replay_until {
                        continue;
                    }
                    if let Some(ty) = filter.classify(&c) {
                        yield Ok(enc.event(ty, &c.object));
                    }
                }
                // Too slow to keep up, or the store is gone: end cleanly; the client
                // re-watches from its last version (or relists on 410).
                Wake::Change(Err(_)) => break,
            }
        }
    };
    let mut r = json_bytes(StatusCode::OK, Vec::new());
    *r.body_mut() = Body::from_stream(stream);
    Ok(r)
}
