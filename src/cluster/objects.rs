//! The objects of one watched resource, kept in (namespace, name) order.
//!
//! Replaces kube's reflector store for the feed: the reflector clones every object it stores
//! (the original travels on down the stream), which at 5,000 pods and 40,000 events cost a
//! fifth of `diagnose`'s CPU and a transient second copy; and its hash map needed a sort on
//! every snapshot. Here objects are moved in, into an [`ObjectList`]: a snapshot of the store
//! is an O(1) copy sharing its structure, and a change copies only its path, so the cost of one
//! watch event does not grow with the cluster.
//!
//! Semantics follow the reflector's: an initial list (`Init` … `InitApply` … `InitDone`) is
//! buffered and replaces the visible objects at once when it completes, so a relist never
//! shows a half-listed state and drops every object the new list does not contain (no ghosts).

use std::sync::{Arc, PoisonError, RwLock};

use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::runtime::watcher;

use crate::model::ObjectList;
use crate::object_list::names;

/// Read side: cheap to clone, shared with the snapshot builder.
pub struct Objects<K> {
    live: Arc<RwLock<ObjectList<K>>>,
}

impl<K> Clone for Objects<K> {
    fn clone(&self) -> Self {
        Objects {
            live: self.live.clone(),
        }
    }
}

impl<K> Objects<K> {
    /// Every object, ordered by (namespace, name): an O(1) copy of the store as it is now.
    pub fn state(&self) -> ObjectList<K> {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Write side: owned by the task that drives the watcher.
pub struct Writer<K> {
    live: Arc<RwLock<ObjectList<K>>>,
    /// The initial list in progress, if any.
    buffer: Option<ObjectList<K>>,
    /// Applied to every object before it is kept (e.g. dropping managedFields); false when
    /// the object is not to be kept at all.
    keep: fn(&mut K) -> bool,
}

/// A new, empty set of objects: the writer for the watch task, the reader for snapshots.
pub fn objects<K>(keep: fn(&mut K) -> bool) -> (Objects<K>, Writer<K>) {
    let live = Arc::new(RwLock::new(ObjectList::new()));
    (
        Objects { live: live.clone() },
        Writer {
            live,
            buffer: None,
            keep,
        },
    )
}

impl<K: Resource + Metadata<Ty = ObjectMeta>> Writer<K> {
    /// Apply one watcher event, taking ownership of its object. True when a completed list
    /// holds an object under a name the previous one had with another uid: for nodes, the
    /// sign of another cluster behind the same address (a rebuilt Kind cluster).
    pub fn apply(&mut self, event: watcher::Event<K>) -> bool {
        match event {
            watcher::Event::Init => self.buffer = Some(ObjectList::new()),
            watcher::Event::InitApply(mut obj) => {
                let buffer = self.buffer.get_or_insert_with(ObjectList::new);
                if (self.keep)(&mut obj) {
                    buffer.insert(Arc::new(obj));
                }
            }
            watcher::Event::InitDone => {
                let listed = self.buffer.take().unwrap_or_default();
                let replaced = {
                    let live = self.read();
                    listed.iter().any(|new| {
                        live.get_same(new)
                            .is_some_and(|old| old.meta().uid != new.meta().uid)
                    })
                };
                let old = std::mem::replace(&mut *self.write(), listed);
                // Drop the previous objects outside the lock.
                drop(old);
                return replaced;
            }
            watcher::Event::Apply(mut obj) => {
                if (self.keep)(&mut obj) {
                    self.write().insert(Arc::new(obj));
                } else {
                    let (ns, name) = names(&obj);
                    let gone = self.write().remove(ns, name);
                    drop(gone);
                }
            }
            watcher::Event::Delete(obj) => {
                let (ns, name) = names(&obj);
                let gone = self.write().remove(ns, name);
                drop(gone);
            }
        }
        false
    }

    /// Drop every object (the cluster was replaced; a new list follows).
    pub fn clear(&mut self) {
        self.buffer = None;
        let old = std::mem::take(&mut *self.write());
        drop(old);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, ObjectList<K>> {
        self.live.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ObjectList<K>> {
        self.live.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn pod(ns: &str, name: &str, image: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.namespace = Some(ns.into());
        p.metadata.name = Some(name.into());
        p.metadata.labels = Some([("image".to_string(), image.to_string())].into());
        p
    }

    fn names(o: &Objects<Pod>) -> Vec<String> {
        o.state()
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p.metadata.namespace.as_deref().unwrap_or(""),
                    p.metadata.name.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn a_relist_replaces_everything_at_once_and_keeps_order() {
        let (objs, mut w) = objects::<Pod>(|p| {
            p.metadata.managed_fields = None;
            true
        });
        w.apply(watcher::Event::Init);
        w.apply(watcher::Event::InitApply(pod("b", "x", "1")));
        w.apply(watcher::Event::InitApply(pod("a", "y", "1")));
        assert!(objs.is_empty(), "an unfinished list is not visible");
        w.apply(watcher::Event::InitDone);
        assert_eq!(names(&objs), ["a/y", "b/x"]);

        w.apply(watcher::Event::Apply(pod("a", "z", "1")));
        w.apply(watcher::Event::Delete(pod("b", "x", "1")));
        assert_eq!(names(&objs), ["a/y", "a/z"]);

        // A relist (e.g. after 410 Gone or a rebuilt cluster) drops what it does not contain.
        w.apply(watcher::Event::Init);
        w.apply(watcher::Event::InitApply(pod("c", "new", "2")));
        assert_eq!(
            names(&objs),
            ["a/y", "a/z"],
            "old objects until the list is done"
        );
        assert!(
            !w.apply(watcher::Event::InitDone),
            "no name came back with a new uid"
        );
        assert_eq!(names(&objs), ["c/new"]);
        assert_eq!(objs.len(), 1);

        // The same name with another uid: another cluster (or a recreated object).
        let mut again = pod("c", "new", "2");
        again.metadata.uid = Some("other".into());
        w.apply(watcher::Event::Init);
        w.apply(watcher::Event::InitApply(again));
        assert!(w.apply(watcher::Event::InitDone));
        w.clear();
        assert!(objs.is_empty());
    }

    #[test]
    fn the_keep_function_trims_and_filters_every_object() {
        // Keep pods whose image label is "1", without their labels.
        let (objs, mut w) = objects::<Pod>(|p| {
            let keep =
                p.metadata.labels.as_ref().and_then(|l| l.get("image")) == Some(&"1".to_string());
            p.metadata.labels = None;
            keep
        });
        w.apply(watcher::Event::Init);
        w.apply(watcher::Event::InitApply(pod("a", "x", "1")));
        w.apply(watcher::Event::InitApply(pod("a", "skip", "2")));
        w.apply(watcher::Event::InitDone);
        w.apply(watcher::Event::Apply(pod("a", "y", "1")));
        assert_eq!(names(&objs), ["a/x", "a/y"]);
        assert!(objs.state().iter().all(|p| p.metadata.labels.is_none()));
        // An object that stops qualifying leaves.
        w.apply(watcher::Event::Apply(pod("a", "x", "2")));
        assert_eq!(names(&objs), ["a/y"]);
    }
}
