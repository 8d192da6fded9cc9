//! The controller loop: one task that follows `Store::subscribe()`, keeps an incremental index
//! (objects, owner → dependents, pods per node, unscheduled pods), and runs a de-duplicated work
//! queue of reconciles (deployment, replicaset, scheduler, kubelet, garbage collector) plus
//! timers for simulated delays. One task means no locks between controllers and no races; work
//! per change is proportional to the objects it touches, never a rescan.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::clock::Clock;
use super::cluster::Sim;
use super::defaults;
use super::events::{Recorder, Source};
use super::kubelet::Kubelet;
use super::store::retention::EVENT_TTL;
use super::store::{
    Change, DEPLOYMENTS, EVENTS, EventType, REPLICASETS, RESOURCES, ResourceType, Store,
};

/// (namespace, name); namespace "" for cluster-scoped objects.
pub(crate) type Key = (String, String);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Work {
    Deployment(Key),
    ReplicaSet(Key),
    Schedule(Key),
    SyncPod(Key),
    /// Delete the dependents of a deleted owner (by uid).
    Collect(String),
    /// Let the events past their TTL go, and come back in a sixtieth of it.
    ExpireEvents,
}

/// What the controllers know, maintained from changes.
#[derive(Default)]
pub(crate) struct Index {
    objects: HashMap<&'static str, HashMap<Key, Arc<Value>>>,
    /// Newest resourceVersion seen per object, deletions included, so that a broadcast that
    /// arrives after the controller already observed its own newer write is ignored.
    versions: HashMap<(&'static str, Key), u64>,
    /// Changes at or below this version were covered by the last relist.
    floor: u64,
    /// owner uid → dependents.
    dependents: HashMap<String, HashSet<(&'static str, Key)>>,
    live_uids: HashSet<String>,
    pods_per_node: HashMap<String, usize>,
    pub unscheduled: BTreeSet<Key>,
}

impl Index {
    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(rt.plural)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    pub fn all(&self, rt: &ResourceType) -> Vec<Arc<Value>> {
        self.objects
            .get(rt.plural)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Objects of type `rt` that name `owner_uid` in their ownerReferences.
    pub fn owned(&self, owner_uid: &str, rt: &ResourceType) -> Vec<Arc<Value>> {
        let Some(deps) = self.dependents.get(owner_uid) else {
            return Vec::new();
        };
        let mut out: Vec<Arc<Value>> = deps
            .iter()
            .filter(|(p, _)| *p == rt.plural)
            .filter_map(|(_, k)| self.objects.get(rt.plural)?.get(k).cloned())
            .collect();
        out.sort_by(|a, b| {
            a["metadata"]["name"]
                .as_str()
                .cmp(&b["metadata"]["name"].as_str())
        });
        out
    }

    pub fn dependents_of(&self, owner_uid: &str) -> Vec<(&'static str, Key)> {
        self.dependents
            .get(owner_uid)
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn is_live(&self, uid: &str) -> bool {
        self.live_uids.contains(uid)
    }

    pub fn pods_on(&self, node: &str) -> usize {
        self.pods_per_node.get(node).copied().unwrap_or(0)
    }
}

/// A pod that holds (or will hold) a place on its node.
pub(crate) fn pod_active(pod: &Value) -> bool {
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    phase != "Succeeded" && phase != "Failed" && pod["metadata"]["deletionTimestamp"].is_null()
}

pub(crate) fn uid_of(obj: &Value) -> &str {
    obj["metadata"]["uid"].as_str().unwrap_or("")
}

pub(crate) fn key_of(obj: &Value) -> Key {
    (
        obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// The name of the controlling owner of the given kind, if any.
pub(crate) fn controller_of<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true && r["kind"] == kind)?["name"]
        .as_str()
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r["uid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) struct Engine {
    pub store: Arc<Store>,
    pub sim: Arc<Sim>,
    pub clock: Clock,
    pub index: Index,
    pub recorder: Recorder,
    pub kubelet: Kubelet,
    /// Deployment uid → when its rollout last progressed (for progressDeadlineSeconds).
    pub progress: HashMap<String, Instant>,
    /// Work items run so far (shared with `Controllers` for tests and benchmarks).
    pub work_done: Arc<AtomicU64>,
    queue: VecDeque<Work>,
    queued: HashSet<Work>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    timer_work: HashMap<u64, Work>,
    timer_seq: u64,
}

impl Engine {
    pub fn new(store: Arc<Store>, sim: Arc<Sim>, clock: Clock) -> Engine {
        Engine {
            store,
            sim,
            clock,
            index: Index::default(),
            recorder: Recorder::new(),
            kubelet: Kubelet::default(),
            progress: HashMap::new(),
            work_done: Arc::new(AtomicU64::new(0)),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            timers: BinaryHeap::new(),
            timer_work: HashMap::new(),
            timer_seq: 0,
        }
    }

    pub fn enqueue(&mut self, w: Work) {
        if self.queued.insert(w.clone()) {
            self.queue.push_back(w);
        }
    }

    /// Run `w` at real instant `when`.
    pub fn at(&mut self, when: Instant, w: Work) {
        self.timer_seq += 1;
        self.timers.push(Reverse((when, self.timer_seq)));
        self.timer_work.insert(self.timer_seq, w);
    }

    /// Create through defaulting; the result is observed at once.
    pub fn create(&mut self, rt: &'static ResourceType, mut obj: Value) -> Option<Arc<Value>> {
        defaults::apply(rt, &mut obj);
        match self.store.create(rt, obj) {
            Ok(o) => {
                self.observe(rt, EventType::Added, &o);
                Some(o)
            }
            Err(e) => {
                tracing::debug!(target: "kindscope::sim", "create {} failed: {}", rt.plural, e.message);
                None
            }
        }
    }

    /// Read-modify-write; no-op edits write nothing. The result is observed at once.
    pub fn modify(
        &mut self,
        rt: &'static ResourceType,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Option<Arc<Value>> {
        let before = self.store.resource_version();
        match self.store.modify(rt, ns, name, None, |o| {
            f(o);
            Ok(())
        }) {
            Ok(o) => {
                let rv: u64 = o["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                if rv > before {
                    self.observe(rt, EventType::Modified, &o);
                }
                Some(o)
            }
            Err(e) => {
                tracing::debug!(target: "kindscope::sim", "modify {} {ns}/{name} failed: {}", rt.plural, e.message);
                None
            }
        }
    }

    pub fn delete(
        &mut self,
        rt: &'static ResourceType,
        ns: &str,
        name: &str,
    ) -> Option<Arc<Value>> {
        match self.store.delete(rt, ns, name) {
            Ok(o) => {
                self.observe(rt, EventType::Deleted, &o);
                Some(o)
            }
            Err(_) => None,
        }
    }

    /// Record a classic event.
    pub fn event(
        &mut self,
        involved: &Value,
        field_path: Option<&str>,
        source: &Source,
        type_: &str,
        reason: &str,
        message: &str,
    ) {
        self.recorder.record(
            &self.store,
            involved,
            field_path,
            source,
            type_,
            reason,
            message,
        );
    }

    /// Fold one change into the index and queue the work it causes.
    pub fn observe(&mut self, rt: &'static ResourceType, event: EventType, obj: &Arc<Value>) {
        if std::ptr::eq(rt, &EVENTS) {
            return;
        }
        let key = key_of(obj);
        let rv: u64 = obj["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let vkey = (rt.plural, key.clone());
        // Older than what the index holds for this object, or than the last relist (which
        // has no tombstones for objects deleted before it).
        if rv <= self.index.floor
            || self
                .index
                .versions
                .get(&vkey)
                .is_some_and(|&seen| seen >= rv)
        {
            return;
        }
        self.index.versions.insert(vkey, rv);
        let table = self.index.objects.entry(rt.plural).or_default();
        let old = if event == EventType::Deleted {
            table.remove(&key)
        } else {
            table.insert(key.clone(), obj.clone())
        };
        if let Some(old) = &old {
            for owner in owner_uids(old) {
                if let Some(d) = self.index.dependents.get_mut(&owner) {
                    d.remove(&(rt.plural, key.clone()));
                    if d.is_empty() {
                        self.index.dependents.remove(&owner);
                    }
                }
            }
            self.index.live_uids.remove(uid_of(old));
        }
        if event != EventType::Deleted {
            for owner in owner_uids(obj) {
                self.index
                    .dependents
                    .entry(owner)
                    .or_default()
                    .insert((rt.plural, key.clone()));
            }
            self.index.live_uids.insert(uid_of(obj).to_string());
        } else if !uid_of(obj).is_empty() {
            self.recorder.forget(uid_of(obj));
            self.enqueue(Work::Collect(uid_of(obj).to_string()));
        }
        let current = (event != EventType::Deleted).then_some(obj);
        match rt.plural {
            "pods" => self.observe_pod(&key, old.as_deref(), current.map(|o| &**o)),
            "replicasets" => {
                if current.is_some() {
                    self.enqueue(Work::ReplicaSet(key.clone()));
                }
                if let Some(d) = controller_of(obj, "Deployment") {
                    self.enqueue(Work::Deployment((key.0.clone(), d.to_string())));
                }
            }
            "deployments" => match current {
                Some(_) => self.enqueue(Work::Deployment(key)),
                None => {
                    self.progress.remove(uid_of(obj));
                }
            },
            "nodes" => {
                let relevant = |o: Option<&Value>| {
                    o.map(|o| (o["metadata"]["labels"].clone(), o["spec"].clone()))
                };
                if relevant(old.as_deref()) != relevant(current.map(|o| &**o)) {
                    let pending: Vec<Key> = self.index.unscheduled.iter().cloned().collect();
                    for k in pending {
                        self.enqueue(Work::Schedule(k));
                    }
                }
            }
            _ => {}
        }
    }

    fn observe_pod(&mut self, key: &Key, old: Option<&Value>, new: Option<&Value>) {
        let node_of = |p: Option<&Value>| {
            p.filter(|p| pod_active(p))
                .and_then(|p| p["spec"]["nodeName"].as_str())
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        };
        let (was, is) = (node_of(old), node_of(new));
        if was != is {
            if let Some(n) = &was
                && let Some(c) = self.index.pods_per_node.get_mut(n)
            {
                *c = c.saturating_sub(1);
            }
            if let Some(n) = &is {
                *self.index.pods_per_node.entry(n.clone()).or_default() += 1;
            }
        }
        match new {
            Some(p) => {
                let bound = p["spec"]["nodeName"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty());
                if !bound && pod_active(p) {
                    if self.index.unscheduled.insert(key.clone()) {
                        self.enqueue(Work::Schedule(key.clone()));
                    }
                } else {
                    self.index.unscheduled.remove(key);
                }
                if bound {
                    self.enqueue(Work::SyncPod(key.clone()));
                }
                if let Some(rs) = controller_of(p, "ReplicaSet") {
                    self.enqueue(Work::ReplicaSet((key.0.clone(), rs.to_string())));
                }
            }
            None => {
                self.index.unscheduled.remove(key);
                if let Some(p) = old {
                    self.pod_gone(p);
                    if let Some(rs) = controller_of(p, "ReplicaSet") {
                        self.enqueue(Work::ReplicaSet((key.0.clone(), rs.to_string())));
                    }
                }
            }
        }
    }

    fn pod_gone(&mut self, pod: &Value) {
        let uid = uid_of(pod).to_string();
        super::kubelet::pod_deleted(self, pod);
        self.recorder.forget(&uid);
    }

    /// Rebuild the index from the store (after missing changes) and requeue everything.
    fn relist(&mut self) {
        tracing::debug!(target: "kindscope::sim", "controllers missed changes; relisting");
        self.index = Index::default();
        let mut lists = Vec::new();
        for rt in RESOURCES
            .iter()
            .copied()
            .filter(|r| r.stored && !std::ptr::eq(*r, &EVENTS))
        {
            let (items, rv) = self.store.list(rt, None);
            lists.push((rt, items, rv));
        }
        for (rt, items, _) in &lists {
            for o in items {
                self.observe(rt, EventType::Added, o);
            }
        }
        // Every list is at least as new as the first; older changes are stale.
        self.index.floor = lists.iter().map(|(_, _, rv)| *rv).min().unwrap_or(0);
        for rt in [&DEPLOYMENTS, &REPLICASETS] {
            for o in self.index.all(rt) {
                let w = if std::ptr::eq(rt, &DEPLOYMENTS) {
                    Work::Deployment(key_of(&o))
                } else {
                    Work::ReplicaSet(key_of(&o))
                };
                self.enqueue(w);
            }
        }
    }

    fn run(&mut self, w: Work) {
        self.work_done.fetch_add(1, Ordering::Relaxed);
        match w {
            Work::Deployment((ns, name)) => {
                super::controllers::reconcile_deployment(self, &ns, &name)
            }
            Work::ReplicaSet((ns, name)) => {
                super::controllers::reconcile_replicaset(self, &ns, &name)
            }
            Work::Schedule((ns, name)) => super::scheduler::schedule_pod(self, &ns, &name),
            Work::SyncPod((ns, name)) => super::kubelet::sync_pod(self, &ns, &name),
            Work::Collect(uid) => super::controllers::collect(self, &uid),
            Work::ExpireEvents => {
                let ttl = self.clock.real(EVENT_TTL);
                let gone = self.store.expire(&EVENTS, ttl);
                if gone > 0 {
                    tracing::debug!(target: "kindscope::sim", "{gone} events expired");
                }
                self.at(Instant::now() + ttl / 60, Work::ExpireEvents);
            }
        }
    }

    fn handle(&mut self, c: Change) {
        let obj = c.object.clone();
        self.observe(c.resource, c.event, &obj);
    }

    /// The loop. Ends when `stop` fires or the store goes away.
    pub async fn run_loop(mut self, mut stop: oneshot::Receiver<()>) {
        let mut rx = self.store.subscribe();
        self.relist();
        self.at(
            Instant::now() + self.clock.real(EVENT_TTL) / 60,
            Work::ExpireEvents,
        );
        let mut since_yield = 0u32;
        loop {
            // Changes first, so that work sees the newest state.
            loop {
                match rx.try_recv() {
                    Ok(c) => self.handle(c),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Lagged(_)) => self.relist(),
                    Err(TryRecvError::Closed) => return,
                }
            }
            let now = Instant::now();
            while let Some(Reverse((when, seq))) = self.timers.peek().copied() {
                if when > now {
                    break;
                }
                self.timers.pop();
                if let Some(w) = self.timer_work.remove(&seq) {
                    self.enqueue(w);
                }
            }
            if let Some(w) = self.queue.pop_front() {
                self.queued.remove(&w);
                self.run(w);
                since_yield += 1;
                if since_yield >= 64 {
                    since_yield = 0;
                    tokio::task::yield_now().await;
                }
                if matches!(
                    stop.try_recv(),
                    Ok(()) | Err(oneshot::error::TryRecvError::Closed)
                ) {
                    return;
                }
                continue;
            }
            let next = self.timers.peek().map(|Reverse((when, _))| *when);
            tokio::select! {
                _ = &mut stop => return,
                r = rx.recv() => match r {
                    Ok(c) => self.handle(c),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => self.relist(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = sleep_until_opt(next) => {}
            }
        }
    }
}

async fn sleep_until_opt(when: Option<Instant>) {
    match when {
        Some(w) => tokio::time::sleep_until(w).await,
        None => std::future::pending().await,
    }
}

/// Set a pod condition, keeping `lastTransitionTime` when the status does not change.
pub(crate) fn set_condition(
    pod: &mut Value,
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    now: &str,
) {
    if !pod["status"].is_object() {
        pod["status"] = serde_json::json!({});
    }
    if !pod["status"]["conditions"].is_array() {
        pod["status"]["conditions"] = serde_json::json!([]);
    }
    let Some(conds) = pod["status"]["conditions"].as_array_mut() else {
        return;
    };
    let mut c = serde_json::json!({"type": type_, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = serde_json::json!(r);
    }
    if let Some(m) = message {
        c["message"] = serde_json::json!(m);
    }
    match conds.iter_mut().find(|x| x["type"] == type_) {
        Some(existing) => {
            if existing["status"] == status {
                c["lastTransitionTime"] = existing["lastTransitionTime"].clone();
            }
            *existing = c;
        }
        None => conds.push(c),
    }
}
