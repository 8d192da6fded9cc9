//! The sim's object store: objects as JSON, one global resourceVersion, and a per-resource
//! event log so that a watch can be replayed from any version it still holds (410 Gone for
//! older ones), as etcd + the watch cache do for the real apiserver.
//!
//! Objects are kept as `serde_json::Value` so that every patch type applies to exactly what a
//! client sent; controllers convert to k8s-openapi types at their edge.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

pub use super::resources::*;
pub use super::status::ApiError;

/// The type of a change, as the watch API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub resource: &'static ResourceType,
    pub event: EventType,
    /// The object after the change (for Deleted: the last state, with the delete's resourceVersion).
    pub object: Arc<Value>,
    /// The object before the change (None for Added): what a list at an older version shows.
    pub prev: Option<Arc<Value>>,
    /// What keeping this change costs, roughly (the objects' JSON size).
    pub bytes: usize,
    /// When it was made: the log lets changes older than its retention go.
    pub at: tokio::time::Instant,
}

impl Change {
    pub fn namespace(&self) -> &str {
        self.object["metadata"]["namespace"].as_str().unwrap_or("")
    }
}

/// How many changes each resource keeps for watch replay before older ones answer 410.
pub const DEFAULT_LOG_CAPACITY: usize = 50_000;
/// And how many bytes of objects, so that a burst of churn cannot grow it without bound.
pub const DEFAULT_LOG_BYTES: usize = 32 << 20;
/// And for how long: the kube-apiserver of a Kind cluster has etcd compact every 5 minutes
/// (`--etcd-compaction-interval`), after which older versions answer 410.
pub const DEFAULT_LOG_RETENTION: std::time::Duration = std::time::Duration::from_secs(300);

type Key = (String, String);

#[derive(Default)]
struct Table {
    objects: BTreeMap<Key, Arc<Value>>,
    log: VecDeque<Change>,
    /// The sum of the log's `bytes`.
    log_bytes: usize,
    /// When each object was last written, for types that expire (events, see `retention`).
    written: HashMap<Key, tokio::time::Instant>,
    /// Versions at or below this one were dropped from the log: a watch from them is 410 Gone.
    compacted_through: u64,
}

struct Inner {
    rv: u64,
    tables: HashMap<&'static str, Table>,
}

/// The object store. Cheap to share (`Arc<Store>`); every method is short and non-blocking.
pub struct Store {
    inner: Mutex<Inner>,
    changes: broadcast::Sender<Change>,
    log_capacity: usize,
    log_bytes: usize,
    /// Real milliseconds a change stays in the log (the retention shortened by `--speed`).
    log_retention_ms: AtomicU64,
    uid_seed: AtomicU64,
    /// The version this store started after: versions outside `start_rv..=rv` were handed out
    /// by another incarnation of the cluster (a restarted sim), so a watch from one is 410.
    start_rv: u64,
}

impl Store {
    /// A store whose resourceVersions start after `start_rv` (a restarted sim passes a different
    /// start so that clients see versions they never saw before, as with a rebuilt cluster).
    pub fn new(start_rv: u64) -> Arc<Store> {
        Self::with_log_capacity(start_rv, DEFAULT_LOG_CAPACITY)
    }

    pub fn with_log_capacity(start_rv: u64, log_capacity: usize) -> Arc<Store> {
        Self::with_log_limits(start_rv, log_capacity, DEFAULT_LOG_BYTES)
    }

    /// A store whose change log keeps at most `log_capacity` changes and `log_bytes` bytes of
    /// objects per resource; older versions are compacted (410 for watches and pages there).
    pub fn with_log_limits(start_rv: u64, log_capacity: usize, log_bytes: usize) -> Arc<Store> {
        let (changes, _) = broadcast::channel(65_536);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Arc::new(Store {
            inner: Mutex::new(Inner {
                rv: start_rv,
                tables: HashMap::new(),
            }),
            changes,
            log_capacity: log_capacity.max(1),
            log_bytes,
            log_retention_ms: AtomicU64::new(DEFAULT_LOG_RETENTION.as_millis() as u64),
            uid_seed: AtomicU64::new(seed),
            start_rv,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is one insert).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long (in real time) changes stay in the log for watches and paged lists.
    pub fn set_log_retention(&self, real: std::time::Duration) {
        let ms = u64::try_from(real.as_millis()).unwrap_or(u64::MAX).max(1);
        self.log_retention_ms.store(ms, Ordering::Relaxed);
    }

    /// The newest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Every change, for controllers. Lagging receivers should relist (`list`).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn new_uid(&self) -> String {
        // splitmix64 over a per-store seed: unique per store, different on every start.
        let mut z = self
            .uid_seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        let (a, b) = (next(), next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// Create an object. Sets uid, creationTimestamp, resourceVersion and (for objects with a
    /// spec) generation; resolves `generateName`. The namespace must be set for namespaced types.
    pub fn create(
        &self,
        rt: &'static ResourceType,
        mut obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request was not an object",
            ));
        }
        obj["apiVersion"] = Value::String(rt.api_version());
        obj["kind"] = Value::String(rt.kind.to_string());
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let ns = namespace_of(&obj).to_string();
        if rt.namespaced && ns.is_empty() {
            return Err(ApiError::bad_request(
                "the namespace of the object must be set",
            ));
        }
        if !rt.namespaced
            && let Some(m) = obj["metadata"].as_object_mut()
        {
            m.remove("namespace");
        }
        let mut name = name_of(&obj).to_string();
        if name.is_empty() {
            let Some(prefix) = obj["metadata"]["generateName"].as_str().map(str::to_string) else {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    "metadata.name: Required value: name or generateName is required",
                ));
            };
            name = format!("{prefix}{}", random_suffix(&self.new_uid()));
            obj["metadata"]["name"] = Value::String(name.clone());
        }
        let uid = self.new_uid();
        let mut inner = self.lock();
        if rt.namespaced
            && !inner
                .tables
                .get(NAMESPACES.plural)
                .is_some_and(|t| t.objects.contains_key(&(String::new(), ns.clone())))
        {
            return Err(ApiError {
                code: 404,
                reason: "NotFound",
                message: format!("namespaces \"{ns}\" not found"),
                details: Some((String::new(), "namespaces".into(), ns)),
            });
        }
        let key = (ns, name.clone());
        if inner
            .tables
            .get(rt.plural)
            .is_some_and(|t| t.objects.contains_key(&key))
        {
            return Err(ApiError::already_exists(rt, &name));
        }
        inner.rv += 1;
        let rv = inner.rv;
        let meta = &mut obj["metadata"];
        meta["uid"] = Value::String(uid);
        meta["resourceVersion"] = Value::String(rv.to_string());
        if meta["creationTimestamp"].is_null() {
            meta["creationTimestamp"] = Value::String(now_rfc3339());
        }
        if obj.get("spec").is_some() {
            obj["metadata"]["generation"] = json!(1);
        }
        let obj = Arc::new(obj);
        self.commit(&mut inner, rt, key, Some(obj.clone()), EventType::Added, rv);
        Ok(obj)
    }

    /// Is `ns` being deleted, so that it takes no new objects of this type (NamespaceLifecycle
    /// admission; events are let in)?
    pub fn namespace_terminating(&self, rt: &ResourceType, ns: &str) -> bool {
        rt.namespaced
            && rt.plural != EVENTS.plural
            && self
                .get(&NAMESPACES, "", ns)
                .is_some_and(|n| !n["metadata"]["deletionTimestamp"].is_null())
    }

    /// Get one object.
    pub fn get(&self, rt: &'static ResourceType, ns: &str, name: &str) -> Option<Arc<Value>> {
        let key = (
            if rt.namespaced { ns } else { "" }.to_string(),
            name.to_string(),
        );
        self.lock()
            .tables
            .get(rt.plural)?
            .objects
            .get(&key)
            .cloned()
    }

    /// Every object of a type (in one namespace, or all when `ns` is None), sorted by
    /// namespace then name, with the resourceVersion the list is consistent at.
    pub fn list(&self, rt: &'static ResourceType, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let inner = self.lock();
        let rv = inner.rv;
        let Some(table) = inner.tables.get(rt.plural) else {
            return (Vec::new(), rv);
        };
        let items = match ns {
            Some(ns) if rt.namespaced => table
                .objects
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            _ => table.objects.values().cloned().collect(),
        };
        (items, rv)
    }

    /// Read-modify-write one object atomically. `f` edits a copy; a copy equal to the stored
    /// object is a no-op (no new version, no event), as the apiserver does. `metadata.generation`
    /// is bumped when `spec` changed. Returns the object as stored afterwards.
    ///
    /// `expected_rv`: when Some, a different stored version is a 409 Conflict.
    pub fn modify<F>(
        &self,
        rt: &'static ResourceType,
        ns: &str,
        name: &str,
        expected_rv: Option<&str>,
        f: F,
    ) -> Result<Arc<Value>, ApiError>
    where
        F: FnOnce(&mut Value) -> Result<(), ApiError>,
    {
        let key = (
            if rt.namespaced { ns } else { "" }.to_string(),
            name.to_string(),
        );
        let mut inner = self.lock();
        let current = inner
            .tables
            .get(rt.plural)
            .and_then(|t| t.objects.get(&key))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        check_version(rt, name, &current, expected_rv)?;
        let mut next = (*current).clone();
        f(&mut next)?;
        keep_server_fields(&current, &mut next);
        if next == *current {
            return Ok(current);
        }
        bump_generation(&current, &mut next);
        inner.rv += 1;
        let rv = inner.rv;
        next["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let next = Arc::new(next);
        self.commit(
            &mut inner,
            rt,
            key,
            Some(next.clone()),
            EventType::Modified,
            rv,
        );
        Ok(next)
    }

    /// Delete one object (immediately: the sim has no finalizers or graceful deletion).
    pub fn delete(
        &self,
        rt: &'static ResourceType,
        ns: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let key = (
            if rt.namespaced { ns } else { "" }.to_string(),
            name.to_string(),
        );
        let mut inner = self.lock();
        let current = inner
            .tables
            .get(rt.plural)
            .and_then(|t| t.objects.get(&key))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        inner.rv += 1;
        let rv = inner.rv;
        let mut last = (*current).clone();
        last["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let last = Arc::new(last);
        self.commit(&mut inner, rt, key, None, EventType::Deleted, rv);
        // The Deleted change carries the last state; `commit` logged `current`, fix it up.
        if let Some(t) = inner.tables.get_mut(rt.plural)
            && let Some(c) = t.log.back_mut()
        {
            c.object = last.clone();
        }
        drop(inner);
        let _ = self.changes.send(Change {
            rv,
            resource: rt,
            event: EventType::Deleted,
            object: last.clone(),
            prev: Some(current),
            bytes: 0,
            at: tokio::time::Instant::now(),
        });
        Ok(last)
    }

    /// Record a change: update the table, append to the log (compacting), and broadcast
    /// (except for Deleted, which `delete` broadcasts with the final object).
    fn commit(
        &self,
        inner: &mut Inner,
        rt: &'static ResourceType,
        key: Key,
        obj: Option<Arc<Value>>,
        event: EventType,
        rv: u64,
    ) {
        let table = inner.tables.entry(rt.plural).or_default();
        if retention::expires(rt) {
            match &obj {
                Some(_) => table
                    .written
                    .insert(key.clone(), tokio::time::Instant::now()),
                None => table.written.remove(&key),
            };
        }
        let (logged, prev) = match &obj {
            Some(o) => (o.clone(), table.objects.insert(key, o.clone())),
            None => {
                let old = table.objects.remove(&key);
                (old.clone().unwrap_or_else(|| Arc::new(Value::Null)), old)
            }
        };
        let bytes =
            retention::approx_size(&logged) + prev.as_deref().map_or(0, retention::approx_size);
        let now = tokio::time::Instant::now();
        let change = Change {
            rv,
            resource: rt,
            event,
            object: logged,
            prev,
            bytes,
            at: now,
        };
        table.log.push_back(change.clone());
        table.log_bytes += bytes;
        let retention =
            std::time::Duration::from_millis(self.log_retention_ms.load(Ordering::Relaxed));
        let expired = |c: &Change| now.saturating_duration_since(c.at) > retention;
        while table.log.len() > self.log_capacity
            || (table.log_bytes > self.log_bytes && table.log.len() > 1)
            || table.log.front().is_some_and(expired)
        {
            if let Some(old) = table.log.pop_front() {
                table.compacted_through = old.rv;
                table.log_bytes -= old.bytes;
            }
        }
        if event != EventType::Deleted {
            // No receivers is fine (nobody watching yet).
            let _ = self.changes.send(change);
        }
    }

    /// Start a watch: the logged changes newer than `from_rv` (in the namespace, if given),
    /// and a receiver for everything after them. Subscribing under the lock guarantees no gap
    /// and no duplicate between the replay and the live stream (skip live changes with
    /// `rv <= replay_until`). A `from_rv` older than the log holds is `410 Gone`.
    pub fn watch_from(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        from_rv: u64,
    ) -> Result<WatchStart, ApiError> {
        let inner = self.lock();
        let rx = self.changes.subscribe();
        let empty = Table::default();
        let table = inner.tables.get(rt.plural).unwrap_or(&empty);
        if from_rv < table.compacted_through.max(self.start_rv) || from_rv > inner.rv {
            // Older than the log, or never issued here (a client of the cluster before a
            // restart): only a relist can make the client right, and 410 is what makes it
            // relist. (A real apiserver answers a version from the future with a 504 after a
            // wait; kube's watcher would retry that forever instead of relisting.)
            return Err(ApiError::gone(format!(
                "too old resource version: {} ({})",
                from_rv,
                table.compacted_through.max(self.start_rv) + 1
            )));
        }
        let replay = table
            .log
            .iter()
            .filter(|c| c.rv > from_rv)
            .filter(|c| ns.is_none_or(|n| !rt.namespaced || c.namespace() == n))
            .cloned()
            .collect();
        Ok(WatchStart {
            replay,
            live: rx,
            replay_until: inner.rv,
        })
    }
}

/// The beginning of a watch: replay these, then the live changes newer than `replay_until`.
pub struct WatchStart {
    pub replay: Vec<Change>,
    pub live: broadcast::Receiver<Change>,
    pub replay_until: u64,
}

pub fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

pub fn namespace_of(obj: &Value) -> &str {
    obj["metadata"]["namespace"].as_str().unwrap_or("")
}

/// RFC 3339 with seconds, as the apiserver writes metadata timestamps.
pub fn now_rfc3339() -> String {
    kindscope_core::time::rfc3339(
        jiff::Timestamp::now(),
        kindscope_core::time::Precision::Secs,
    )
}

/// Five characters from the alphabet the apiserver uses for generated names.
fn random_suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    seed.bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(5)
        .map(|b| ALPHABET[(b as usize) % ALPHABET.len()] as char)
        .collect()
}

#[path = "store_page.rs"]
mod page;
#[path = "store_retention.rs"]
pub mod retention;
pub use page::ListPage;

/// An update whose `resourceVersion` precondition names another version than the stored one is
/// refused with 409 Conflict, as the apiserver's optimistic concurrency does (an empty one is
/// no precondition).
pub(crate) fn check_version(
    rt: &'static ResourceType,
    name: &str,
    current: &Value,
    expected_rv: Option<&str>,
) -> Result<(), ApiError> {
    match expected_rv.filter(|e| !e.is_empty()) {
        Some(exp) if current["metadata"]["resourceVersion"].as_str() != Some(exp) => {
            Err(ApiError::conflict(
                rt,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ))
        }
        _ => Ok(()),
    }
}

/// Identity and bookkeeping fields are the server's, whatever an edit did to them: kept from the
/// stored object (or absent when it has none). One list for updates and dry runs alike.
pub(crate) fn keep_server_fields(current: &Value, next: &mut Value) {
    next["apiVersion"] = current["apiVersion"].clone();
    next["kind"] = current["kind"].clone();
    if !next["metadata"].is_object() {
        next["metadata"] = json!({});
    }
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "resourceVersion",
        "generation",
    ] {
        match current["metadata"].get(field) {
            Some(v) => next["metadata"][field] = v.clone(),
            None => {
                if let Some(m) = next["metadata"].as_object_mut() {
                    m.remove(field);
                }
            }
        }
    }
}

/// `metadata.generation` moves when, and only when, the spec changed.
pub(crate) fn bump_generation(current: &Value, next: &mut Value) {
    if next.get("spec") != current.get("spec") && current.get("spec").is_some() {
        let g = current["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        next["metadata"]["generation"] = json!(g);
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
