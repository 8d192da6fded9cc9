//! Paged lists over one consistent snapshot, as the apiserver serves `limit`/`continue`.
//!
//! Every page of a list shows the objects as they were at the resourceVersion of the first
//! page (the one its `continue` token carries), whatever was created, changed or deleted
//! between the pages: the apiserver reads each page from etcd at that revision. When the
//! store's change log no longer reaches back to that version (compacted), the answer is
//! `410 Expired`, as the apiserver's for a compacted revision, and the client starts the list
//! again. The state at a version is rebuilt from the current objects and the log: an object
//! changed since then shows the `prev` of its first later change (absent when that was its
//! creation).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use serde_json::Value;

use super::{ApiError, Key, ResourceType, Store};

/// One page of a list: its objects, whether (and, without a filter, how many) more follow,
/// and the version every page of this list shows.
pub struct ListPage {
    pub items: Vec<Arc<Value>>,
    /// `None`: the page is the last. `Some(None)`: more follow, count unknown (a filter).
    pub remaining: Option<Option<usize>>,
    pub rv: u64,
}

/// The apiserver's words for a continue token whose revision was compacted
/// (k8s.io/apiserver storage/etcd3 errors.go).
pub const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

impl Store {
    /// Up to `limit` objects after the key `after` (in one namespace, or all) that `filter`
    /// accepts, as they were at version `at` (None: now; the first page of a list). Without a
    /// filter the page says how many more follow (the apiserver gives no count with a
    /// selector).
    ///
    /// `at` newer than the newest version (a token of another run of the sim) or older than
    /// the change log reaches is `410 Expired`.
    pub fn list_page_at(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        after: Option<(&str, &str)>,
        at: Option<u64>,
        limit: usize,
        filter: Option<&dyn Fn(&Value) -> bool>,
    ) -> Result<ListPage, ApiError> {
        let inner = self.lock();
        let rv = at.unwrap_or(inner.rv);
        let Some(table) = inner.tables.get(rt.plural) else {
            return Ok(ListPage {
                items: Vec::new(),
                remaining: None,
                rv,
            });
        };
        if rv > inner.rv || rv < table.compacted_through.max(self.start_rv) {
            return Err(ApiError::new(410, "Expired", CONTINUE_EXPIRED));
        }
        // The first later change of each key changed since `rv`: its `prev` is the state then.
        let mut then: BTreeMap<Key, Option<&Arc<Value>>> = BTreeMap::new();
        let first_later = table.log.partition_point(|c| c.rv <= rv);
        for c in table.log.range(first_later..) {
            let key = (
                super::namespace_of(&c.object).to_string(),
                super::name_of(&c.object).to_string(),
            );
            then.entry(key).or_insert(c.prev.as_ref());
        }
        let ns = ns.filter(|_| rt.namespaced);
        let from: Bound<Key> = match (after, ns) {
            (Some((n, m)), _) => Bound::Excluded((n.to_string(), m.to_string())),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let in_ns = |k: &Key| ns.is_none_or(|ns| k.0 == ns);
        let mut now = table
            .objects
            .range((from.clone(), Bound::Unbounded))
            .take_while(|(k, _)| in_ns(k))
            .peekable();
        let mut changed = then
            .range((from, Bound::Unbounded))
            .take_while(|(k, _)| in_ns(k))
            .peekable();
        // Both sides in key order; a key changed since `rv` shows its state then.
        let snapshot = std::iter::from_fn(|| {
            loop {
                let from_now = match (now.peek(), changed.peek()) {
                    (None, None) => return None,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (Some(&(a, _)), Some(&(b, _))) => {
                        if a == b {
                            now.next();
                        }
                        a < b
                    }
                };
                if from_now {
                    return now.next().map(|(_, v)| v.clone());
                }
                if let Some((_, Some(v))) = changed.next() {
                    return Some(Arc::clone(v));
                }
            }
        });
        let mut matching = snapshot.filter(|o| filter.is_none_or(|keep| keep(o)));
        let items: Vec<Arc<Value>> = matching.by_ref().take(limit).collect();
        let remaining = if items.len() < limit {
            None
        } else if filter.is_none() {
            let rest = matching.count();
            (rest > 0).then_some(Some(rest))
        } else {
            matching.next().map(|_| None)
        };
        Ok(ListPage {
            items,
            remaining,
            rv,
        })
    }
}
