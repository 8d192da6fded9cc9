//! The objects of one kind in a snapshot, kept in (namespace, name) order and shared between
//! snapshots.
//!
//! The feed publishes a snapshot per burst of changes while every consumer (the dashboard's
//! rows, its diagnosis cache, `diagnose --wait`) compares it with the one before. With plain
//! vectors each publish copied every list (40,000 events to change one) and each comparison
//! walked them all. Here a list is a persistent B-tree (imbl's `OrdMap`): taking a snapshot is
//! O(1), a change is O(log n) and copies only its path, and [`ObjectList::changes`] between
//! two versions of one list skips every subtree they share, so its cost follows what changed,
//! not the cluster. Objects are compared by pointer: the feed keeps an unchanged object as the
//! same `Arc`.
//!
//! A list holds at most one object per (namespace, name), as the apiserver does; adding one
//! under a name already there replaces it.

use std::fmt;
use std::sync::Arc;

use equivalent::{Comparable, Equivalent};
use imbl::OrdMap;
use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// (namespace, name) of an object, in one allocation shared by the tree's copies of it.
#[derive(Clone)]
pub struct ObjectKey {
    joined: Arc<str>,
    split: usize,
}

impl ObjectKey {
    fn new(namespace: &str, name: &str) -> ObjectKey {
        ObjectKey {
            joined: format!("{namespace}{name}").into(),
            split: namespace.len(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.joined[..self.split]
    }

    pub fn name(&self) -> &str {
        &self.joined[self.split..]
    }

    fn parts(&self) -> (&str, &str) {
        (self.namespace(), self.name())
    }
}

impl PartialEq for ObjectKey {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for ObjectKey {}

impl PartialOrd for ObjectKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace(), self.name())
    }
}

/// A borrowed (namespace, name) to look an object up by.
struct NameRef<'a>(&'a str, &'a str);

impl Equivalent<ObjectKey> for NameRef<'_> {
    fn equivalent(&self, key: &ObjectKey) -> bool {
        (self.0, self.1) == key.parts()
    }
}

impl Comparable<ObjectKey> for NameRef<'_> {
    fn compare(&self, key: &ObjectKey) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&key.parts())
    }
}

/// An object, equal to another only when it is the same allocation: what tells a changed
/// object from an unchanged one without reading either.
struct Same<K>(Arc<K>);

impl<K> Clone for Same<K> {
    fn clone(&self) -> Self {
        Same(self.0.clone())
    }
}

impl<K> PartialEq for Same<K> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// (namespace, name) of an object as the list keys it.
pub fn names<K: Metadata<Ty = ObjectMeta>>(obj: &K) -> (&str, &str) {
    let m = obj.metadata();
    (
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or(""),
    )
}

/// The objects of one kind, by (namespace, name); see the module docs.
pub struct ObjectList<K> {
    map: OrdMap<ObjectKey, Same<K>>,
}

impl<K> Clone for ObjectList<K> {
    fn clone(&self) -> Self {
        ObjectList {
            map: self.map.clone(),
        }
    }
}

impl<K> Default for ObjectList<K> {
    fn default() -> Self {
        ObjectList { map: OrdMap::new() }
    }
}

/// One object that differs between two versions of a list: before and after (None = absent).
pub struct Change<K> {
    pub old: Option<Arc<K>>,
    pub new: Option<Arc<K>>,
}

/// The objects of a list in (namespace, name) order.
pub struct Iter<'a, K> {
    inner: imbl::ordmap::Values<'a, ObjectKey, Same<K>, imbl::shared_ptr::DefaultSharedPtr>,
    left: usize,
}

impl<'a, K> Iterator for Iter<'a, K> {
    type Item = &'a Arc<K>;

    fn next(&mut self) -> Option<&'a Arc<K>> {
        let next = self.inner.next().map(|s| &s.0);
        self.left = self.left.saturating_sub(usize::from(next.is_some()));
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K> DoubleEndedIterator for Iter<'_, K> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let next = self.inner.next_back().map(|s| &s.0);
        self.left = self.left.saturating_sub(usize::from(next.is_some()));
        next
    }
}

impl<K> ExactSizeIterator for Iter<'_, K> {}

impl<K> ObjectList<K> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Drop every object.
    pub fn clear(&mut self) {
        self.map = OrdMap::new();
    }

    /// Every object, in (namespace, name) order.
    pub fn iter(&self) -> Iter<'_, K> {
        Iter {
            inner: self.map.values(),
            left: self.map.len(),
        }
    }

    pub fn first(&self) -> Option<&Arc<K>> {
        self.map.get_min().map(|(_, s)| &s.0)
    }

    pub fn last(&self) -> Option<&Arc<K>> {
        self.map.get_max().map(|(_, s)| &s.0)
    }

    /// The object named `name` in `namespace` ("" for cluster-scoped ones).
    pub fn get(&self, namespace: &str, name: &str) -> Option<&Arc<K>> {
        self.map.get(&NameRef(namespace, name)).map(|s| &s.0)
    }

    /// The `i`th object in (namespace, name) order (O(i): for tests and small lists).
    pub fn nth(&self, i: usize) -> Option<&Arc<K>> {
        self.iter().nth(i)
    }

    /// The first object, to change in place. The change must keep its (namespace, name).
    pub fn first_mut(&mut self) -> Option<&mut Arc<K>> {
        let key = self.map.get_min()?.0.clone();
        self.map.get_mut(&key).map(|s| &mut s.0)
    }

    /// Change every object in place. The changes must keep their (namespace, name).
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut Arc<K>)) {
        let keys: Vec<ObjectKey> = self.map.keys().cloned().collect();
        for key in keys {
            if let Some(s) = self.map.get_mut(&key) {
                f(&mut s.0);
            }
        }
    }

    /// Take out the object named `name` in `namespace`, if there is one.
    pub fn remove(&mut self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.map.remove(&NameRef(namespace, name)).map(|s| s.0)
    }

    /// Both are the same version of one list (O(1); false says nothing).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.map.ptr_eq(&other.map)
    }

    /// Whether any object differs from `self` to `new` (stops at the first difference).
    pub fn differs(&self, new: &Self) -> bool {
        self.changes(new).next().is_some()
    }

    /// What differs from `self` to `new`, in (namespace, name) order. Subtrees the two share
    /// are skipped, so two versions of one feed's list compare in time proportional to what
    /// changed; unrelated lists are walked in full.
    pub fn changes<'a>(&'a self, new: &'a Self) -> impl Iterator<Item = Change<K>> + 'a {
        use imbl::ordmap::DiffItem;
        self.map.diff(&new.map).map(|d| match d {
            DiffItem::Add(_, n) => Change {
                old: None,
                new: Some(n.0.clone()),
            },
            DiffItem::Update { old, new } => Change {
                old: Some(old.1.0.clone()),
                new: Some(new.1.0.clone()),
            },
            DiffItem::Remove(_, o) => Change {
                old: Some(o.0.clone()),
                new: None,
            },
        })
    }
}

impl<K: Metadata<Ty = ObjectMeta>> ObjectList<K> {
    /// Add `obj`, replacing the object of the same (namespace, name), which is returned.
    pub fn insert(&mut self, obj: Arc<K>) -> Option<Arc<K>> {
        let (namespace, name) = names(&*obj);
        if let Some(old) = self.map.get_mut(&NameRef(namespace, name)) {
            return Some(std::mem::replace(&mut old.0, obj));
        }
        let key = ObjectKey::new(namespace, name);
        self.map.insert(key, Same(obj));
        None
    }

    /// Add `obj` (see [`ObjectList::insert`]).
    pub fn push(&mut self, obj: impl Into<Arc<K>>) {
        self.insert(obj.into());
    }

    /// Keep only the objects for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Arc<K>) -> bool) {
        let gone: Vec<ObjectKey> = self
            .map
            .iter()
            .filter(|(_, s)| !keep(&s.0))
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            self.map.remove(&key);
        }
    }

    /// The object of the same (namespace, name) as `obj`.
    pub fn get_same(&self, obj: &K) -> Option<&Arc<K>> {
        let (namespace, name) = names(obj);
        self.get(namespace, name)
    }
}

impl<'a, K> IntoIterator for &'a ObjectList<K> {
    type Item = &'a Arc<K>;
    type IntoIter = Iter<'a, K>;

    fn into_iter(self) -> Iter<'a, K> {
        self.iter()
    }
}

impl<K: Metadata<Ty = ObjectMeta>> FromIterator<Arc<K>> for ObjectList<K> {
    fn from_iter<I: IntoIterator<Item = Arc<K>>>(iter: I) -> Self {
        let mut list = ObjectList::new();
        for obj in iter {
            list.insert(obj);
        }
        list
    }
}

impl<K: Metadata<Ty = ObjectMeta>> FromIterator<K> for ObjectList<K> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        iter.into_iter().map(Arc::new).collect()
    }
}

impl<K: Metadata<Ty = ObjectMeta>> From<Vec<Arc<K>>> for ObjectList<K> {
    fn from(v: Vec<Arc<K>>) -> Self {
        v.into_iter().collect()
    }
}

impl<K: Metadata<Ty = ObjectMeta>> From<Vec<K>> for ObjectList<K> {
    fn from(v: Vec<K>) -> Self {
        v.into_iter().collect()
    }
}

impl<K: fmt::Debug> fmt::Debug for ObjectList<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Serialized as the plain list of objects, as the `Vec` it replaced (bundles keep their
/// format).
impl<K: Serialize> Serialize for ObjectList<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, K: Deserialize<'de> + Metadata<Ty = ObjectMeta>> Deserialize<'de> for ObjectList<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<K>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;

    use super::*;

    fn pod(ns: &str, name: &str) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.namespace = Some(ns.into());
        p.metadata.name = Some(name.into());
        Arc::new(p)
    }

    fn keys(list: &ObjectList<Pod>) -> Vec<String> {
        list.iter()
            .map(|p| {
                let (ns, name) = names(&**p);
                format!("{ns}/{name}")
            })
            .collect()
    }

    #[test]
    fn objects_are_kept_in_namespace_then_name_order_one_per_name() {
        // "a"/"bz" sorts before "ab"/"a": namespace first, as a tuple, not as joined text.
        let list: ObjectList<Pod> = vec![pod("ab", "a"), pod("a", "bz"), pod("", "node")].into();
        assert_eq!(keys(&list), ["/node", "a/bz", "ab/a"]);
        let mut list = list;
        let newer = pod("a", "bz");
        let old = list.insert(newer.clone()).expect("replaced");
        assert!(!Arc::ptr_eq(&old, &newer));
        assert_eq!(list.len(), 3);
        assert!(Arc::ptr_eq(list.get("a", "bz").expect("there"), &newer));
        assert!(list.get("a", "b").is_none());
        assert_eq!(list.iter().rev().count(), 3);
        assert_eq!(list.iter().len(), 3);
    }

    #[test]
    fn changes_name_exactly_what_differs_between_versions() {
        let base: ObjectList<Pod> = (0..5000).map(|i| pod("ns", &format!("p{i:05}"))).collect();
        let mut next = base.clone();
        assert!(next.ptr_eq(&base));
        assert_eq!(base.changes(&next).count(), 0);
        let replaced = pod("ns", "p02500");
        next.insert(replaced.clone());
        next.remove("ns", "p00007");
        next.insert(pod("ns", "p99999"));
        let changes: Vec<Change<Pod>> = base.changes(&next).collect();
        let seen: Vec<(Option<String>, Option<String>)> = changes
            .iter()
            .map(|c| {
                let name = |p: &Option<Arc<Pod>>| p.as_ref().map(|p| names(&**p).1.to_string());
                (name(&c.old), name(&c.new))
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Some("p00007".into()), None),
                (Some("p02500".into()), Some("p02500".into())),
                (None, Some("p99999".into())),
            ]
        );
        assert!(Arc::ptr_eq(
            changes[1].new.as_ref().expect("new"),
            &replaced
        ));
        // The old version is untouched.
        assert_eq!(base.len(), 5000);
        assert!(base.get("ns", "p00007").is_some());
    }

    #[test]
    fn a_list_serializes_as_the_plain_array_it_was() {
        let list: ObjectList<Pod> = vec![pod("b", "x"), pod("a", "y")].into();
        let json = serde_json::to_value(&list).expect("json");
        assert_eq!(json.as_array().map(Vec::len), Some(2));
        let back: ObjectList<Pod> = serde_json::from_value(json).expect("back");
        assert_eq!(keys(&back), ["a/y", "b/x"]);
        let mut kept = back.clone();
        kept.retain(|p| names(&**p).0 == "b");
        assert_eq!(keys(&kept), ["b/x"]);
        assert_eq!(keys(&back), ["a/y", "b/x"]);
    }
}
