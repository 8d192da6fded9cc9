//! Per-resource watch state (live, stale, forbidden; listed; store generations), shared by
//! the watcher tasks, the snapshot builder and [`super::watch::Feed::ready`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::runtime::watcher;
use tokio::sync::Notify;

use super::connect::describe_kube_error;
use super::watch::{REQUIRED, RESOURCES};
use crate::error::CliError;
use crate::model::{Resource, ResourceState, Snapshot};

pub(super) enum Readiness {
    Ready,
    Waiting,
    Forbidden(Resource, String),
}

/// Can a one-shot report use this snapshot? A resource whose watch fails after it listed
/// (e.g. every watch ends in 410 Gone) still holds a complete list, marked stale: good enough
/// to report on, and better than waiting for a watch that may never stay up.
pub(super) fn readiness(snap: &Snapshot, listed: &BTreeSet<Resource>) -> Readiness {
    let mut ready = true;
    for name in RESOURCES {
        match snap.resources.get(&name) {
            Some(ResourceState::Live) => {}
            Some(ResourceState::Stale { .. }) if listed.contains(&name) => {}
            Some(ResourceState::Forbidden { reason }) if REQUIRED.contains(&name) => {
                return Readiness::Forbidden(name, reason.clone());
            }
            Some(ResourceState::Forbidden { .. }) => {}
            _ => ready = false,
        }
    }
    if ready {
        Readiness::Ready
    } else {
        Readiness::Waiting
    }
}

/// A required resource is forbidden: which, why, and what would help, in one sentence.
pub(super) fn forbidden_error(context: &str, name: Resource, reason: &str) -> CliError {
    CliError::cluster(format!(
        "context \"{context}\" may not list {name} ({reason}); use a context allowed to list and \
         watch {}",
        REQUIRED.map(Resource::as_str).join(", ")
    ))
}

pub(super) fn timeout_result(
    snap: &Arc<Snapshot>,
    listed: &BTreeSet<Resource>,
    timeout: Duration,
) -> Result<Arc<Snapshot>, CliError> {
    let required_live = REQUIRED
        .iter()
        .all(|n| listed.contains(n) || matches!(snap.resources.get(n), Some(ResourceState::Live)));
    if required_live {
        tracing::warn!("events did not list in time; diagnosing without them");
        return Ok(snap.clone());
    }
    let pending: Vec<String> = REQUIRED
        .iter()
        .filter_map(|n| match snap.resources.get(n) {
            Some(ResourceState::Live) => None,
            Some(ResourceState::Stale { reason, .. }) => Some(format!("{n} ({reason})")),
            _ => Some(n.to_string()),
        })
        .collect();
    Err(CliError::cluster(format!(
        "context \"{}\" did not list {} within {} s; check that the cluster is healthy and try again",
        snap.context,
        pending.join(", "),
        timeout.as_secs()
    )))
}

/// Per-resource watch state shared between the watcher tasks and the rebuild task.
pub(super) struct Shared {
    states: Mutex<BTreeMap<Resource, Status>>,
    pub(super) changed: Notify,
    /// Resources whose complete list is in the newest published snapshot.
    published_listed: Mutex<BTreeSet<Resource>>,
    /// When the server last said anything (a watch item, a list, a probe's answer).
    last_word: Mutex<LastWord>,
    /// Bumped when the cluster behind the connection is another one (its nodes have new
    /// uids): every watcher drops what it holds and lists again.
    pub(super) epoch: tokio::sync::watch::Sender<u64>,
}

#[derive(Clone)]
struct LastWord {
    at: tokio::time::Instant,
    wall: String,
    /// The probe got no answer: every live resource reads as stale since `wall`.
    silent: bool,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            states: Mutex::default(),
            changed: Notify::new(),
            published_listed: Mutex::default(),
            last_word: Mutex::new(LastWord {
                at: tokio::time::Instant::now(),
                wall: now_wall(),
                silent: false,
            }),
            epoch: tokio::sync::watch::channel(0).0,
        }
    }
}

fn now_wall() -> String {
    kindscope_core::time::rfc3339(
        jiff::Timestamp::now(),
        kindscope_core::time::Precision::Secs,
    )
}

/// What a silent server reads as.
pub(super) const SILENT: &str = "no answer from the server";

/// The state of every resource at one instant, read under one lock.
pub(super) struct Capture {
    pub(super) states: BTreeMap<Resource, ResourceState>,
    generations: BTreeMap<Resource, u64>,
    /// Resources that completed a list: their store holds a complete list from here on.
    pub(super) listed: BTreeSet<Resource>,
}

impl Capture {
    pub(super) fn generation(&self, name: Resource) -> u64 {
        self.generations.get(&name).copied().unwrap_or(0)
    }
}

#[derive(Default, Clone)]
struct Status {
    state: ResourceState,
    listed: bool,
    relisting: bool,
    /// Bumped (after the store changed) whenever the store may have changed, so a rebuild
    /// re-reads only the resources that changed.
    generation: u64,
}

impl Shared {
    pub(super) fn states(&self) -> BTreeMap<Resource, ResourceState> {
        self.capture().states
    }

    /// States, generations and listed resources, consistent with each other. A store read
    /// after this is at least as new as the captured generation (stores change first).
    pub(super) fn capture(&self) -> Capture {
        let word = self.word();
        let map = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let status = |n: &Resource| map.get(n).cloned().unwrap_or_default();
        let shown = |state: ResourceState| match state {
            ResourceState::Live if word.silent => ResourceState::Stale {
                reason: SILENT.to_string(),
                since: Some(word.wall.clone()),
            },
            other => other,
        };
        Capture {
            states: RESOURCES
                .iter()
                .map(|n| (*n, shown(status(n).state)))
                .collect(),
            generations: RESOURCES
                .iter()
                .map(|n| (*n, status(n).generation))
                .collect(),
            listed: RESOURCES
                .iter()
                .copied()
                .filter(|n| status(n).listed)
                .collect(),
        }
    }

    fn word(&self) -> LastWord {
        self.last_word
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The server answered. True when it had been silent (the states change back).
    pub(super) fn heard(&self) -> bool {
        let mut w = self
            .last_word
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let was_silent = w.silent;
        // Thousands of list items arrive within milliseconds: one clock reading will do.
        if !was_silent && w.at.elapsed() < std::time::Duration::from_millis(100) {
            return false;
        }
        *w = LastWord {
            at: tokio::time::Instant::now(),
            wall: now_wall(),
            silent: false,
        };
        if was_silent {
            tracing::info!("the server answers again");
            self.changed.notify_one();
        }
        was_silent
    }

    /// How long since the server last answered.
    pub(super) fn quiet_for(&self) -> std::time::Duration {
        self.word().at.elapsed()
    }

    /// The probe got no answer: show every live resource as stale.
    pub(super) fn silent(&self) {
        let mut w = self
            .last_word
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !w.silent {
            w.silent = true;
            tracing::warn!("{SILENT} since {}", w.wall);
            self.changed.notify_one();
        }
    }

    /// Another cluster answers: drop everything and list again (see [`Self::epoch`]).
    pub(super) fn new_cluster(&self) {
        tracing::warn!(
            "the cluster was replaced (its nodes have new uids); listing everything again"
        );
        self.epoch.send_modify(|e| *e += 1);
    }

    /// A watcher dropped its objects to list again: loading until that list is done.
    pub(super) fn forget(&self, name: Resource) {
        let mut map = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let s = map.entry(name).or_default();
        s.listed = false;
        s.relisting = false;
        s.state = ResourceState::Loading;
        s.generation += 1;
    }

    /// Call before publishing a snapshot built from `capture`.
    pub(super) fn publish(&self, capture: &Capture) {
        *self
            .published_listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = capture.listed.clone();
    }

    /// Resources listed in the newest published snapshot; read it before the snapshot.
    pub(super) fn published_listed(&self) -> BTreeSet<Resource> {
        self.published_listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Record a watcher item; true when a snapshot should be rebuilt. Items of an initial list
    /// in progress are buffered by the reflector (its store changes only at `InitDone`), so
    /// rebuilding for each of them would only re-sort unchanged lists thousands of times.
    pub(super) fn update(&self, name: Resource, item: Step<'_>) -> bool {
        let mut map = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let s = map.entry(name).or_default();
        let visible = !matches!(item, Step::Init | Step::InitApply);
        if visible {
            s.generation += 1;
        }
        match item {
            Step::InitApply => {}
            Step::Init => {
                s.relisting = true;
                if s.listed {
                    tracing::info!("{name}: re-listing");
                }
            }
            Step::InitDone => {
                s.relisting = false;
                if !s.listed || s.state != ResourceState::Live {
                    tracing::info!("{name}: listed; watching for changes");
                }
                s.listed = true;
                s.state = ResourceState::Live;
            }
            Step::Change => {
                // An event after a failed watch means the watch resumed without a relist.
                if s.listed && !s.relisting && s.state != ResourceState::Live {
                    tracing::info!("{name}: watch resumed");
                    s.state = ResourceState::Live;
                }
            }
            Step::Error(e) => {
                let since = Some(self.word().wall);
                let (forbidden, reason) = describe_watch_error(e);
                if forbidden {
                    tracing::warn!("{name}: forbidden ({reason})");
                    s.state = ResourceState::Forbidden { reason };
                } else if is_gone(e) {
                    // Normal after a long disconnect: the watcher relists by itself.
                    tracing::info!("{name}: resourceVersion expired; re-listing");
                    s.state = ResourceState::Stale { reason, since };
                } else {
                    tracing::warn!("{name}: watch failed, retrying ({reason})");
                    s.state = ResourceState::Stale { reason, since };
                }
            }
        }
        visible
    }
}

/// What a watcher item means for the resource's state (the object itself goes to the store).
pub(super) enum Step<'a> {
    Init,
    InitApply,
    InitDone,
    Change,
    Error(&'a watcher::Error),
}

impl Step<'static> {
    pub(super) fn of<K>(event: &watcher::Event<K>) -> Self {
        match event {
            watcher::Event::Init => Step::Init,
            watcher::Event::InitApply(_) => Step::InitApply,
            watcher::Event::InitDone => Step::InitDone,
            watcher::Event::Apply(_) | watcher::Event::Delete(_) => Step::Change,
        }
    }
}

/// 410 Gone on a watch, or 410 Expired on a list page: the watcher lists again next.
pub(super) fn is_gone(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::WatchError(s) => s.code == 410,
        watcher::Error::InitialListFailed(kube::Error::Api(s)) => s.code == 410,
        _ => false,
    }
}

/// The apiserver refuses to watch from a version newer than it has (`Too large resource
/// version`, 504): the version comes from another incarnation of the cluster, and kube's
/// watcher would retry the same version forever. Only a fresh list helps.
pub(super) fn is_from_another_run(e: &watcher::Error) -> bool {
    let status = match e {
        watcher::Error::WatchError(s) => Some(&**s),
        watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(&**s),
        _ => None,
    };
    status.is_some_and(|s| {
        s.code == 504 && s.message.contains("Too large resource version")
            || s.details.as_ref().is_some_and(|d| {
                d.causes
                    .iter()
                    .any(|c| c.reason == "ResourceVersionTooLarge")
            })
    })
}

/// (is it a 403, one phrase for the user).
fn describe_watch_error(e: &watcher::Error) -> (bool, String) {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => {
            let forbidden = matches!(k, kube::Error::Api(s) if s.code == 403);
            (forbidden, describe_kube_error(k))
        }
        watcher::Error::WatchError(s) => (
            s.code == 403,
            if s.message.is_empty() {
                format!("HTTP {} {}", s.code, s.reason)
            } else {
                format!("HTTP {}: {}", s.code, s.message)
            },
        ),
        watcher::Error::NoResourceVersion => (false, e.to_string()),
    }
}
