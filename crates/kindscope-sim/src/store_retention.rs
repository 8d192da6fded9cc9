//! What the store lets go of: Events after their TTL, as the apiserver's `--event-ttl`
//! (default 1 h) has etcd expire them, and the change log by count and bytes (in `commit`).
//!
//! The apiserver stores every Event with a lease of the TTL, renewed on each write (the
//! recorder's `count` bumps), and the expiry deletes the object like any delete: watchers see
//! DELETED. The sim keeps the last write instant of each event and deletes the expired ones
//! in sweeps ([`Store::expire`]); `--speed` shortens the TTL like every simulated duration.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{EVENTS, ResourceType, Store};

/// The apiserver's default `--event-ttl`.
pub const EVENT_TTL: Duration = Duration::from_secs(3600);

/// Does this type expire (only events, as in the apiserver)?
pub fn expires(rt: &ResourceType) -> bool {
    std::ptr::eq(rt, &EVENTS) || rt.plural == EVENTS.plural
}

/// Roughly the JSON size of a value, without serializing it.
pub fn approx_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(a) => 2 + a.iter().map(|x| approx_size(x) + 1).sum::<usize>(),
        Value::Object(m) => {
            2 + m
                .iter()
                .map(|(k, x)| k.len() + 4 + approx_size(x))
                .sum::<usize>()
        }
    }
}

impl Store {
    /// Delete the objects of `rt` last written more than `ttl` ago; how many went.
    pub fn expire(&self, rt: &'static ResourceType, ttl: Duration) -> usize {
        self.expire_at(rt, ttl, Instant::now())
    }

    /// [`Self::expire`] as of `now`.
    pub fn expire_at(&self, rt: &'static ResourceType, ttl: Duration, now: Instant) -> usize {
        let old = |at: &Instant| now.saturating_duration_since(*at) > ttl;
        let expired: Vec<(String, String)> = {
            let inner = self.lock();
            let Some(table) = inner.tables.get(rt.plural) else {
                return 0;
            };
            table
                .written
                .iter()
                .filter(|(_, at)| old(at))
                .map(|(k, _)| k.clone())
                .collect()
        };
        // One delete each, outside the sweep's lock: a write in between renews its object
        // (the recorder bumping a count), which then does not go.
        let mut gone = 0;
        for (ns, name) in expired {
            let still_old = {
                let inner = self.lock();
                inner
                    .tables
                    .get(rt.plural)
                    .and_then(|t| t.written.get(&(ns.clone(), name.clone())))
                    .is_some_and(old)
            };
            if still_old && self.delete(rt, &ns, &name).is_ok() {
                gone += 1;
            }
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EventType, NAMESPACES, PODS, name_of};
    use super::*;
    use serde_json::json;

    // Paused: the store stamps writes with tokio's clock, so the 10 ms between the writes is
    // exact instead of a sleep.
    #[tokio::test(start_paused = true)]
    async fn events_expire_after_their_ttl_unless_written_again() {
        let s = Store::new(0);
        s.create(&NAMESPACES, json!({"metadata": {"name": "d"}}))
            .expect("ns");
        let event = |n: &str| json!({"metadata": {"name": n, "namespace": "d"}, "count": 1});
        s.create(&EVENTS, event("old")).expect("event");
        s.create(&EVENTS, event("bumped")).expect("event");
        s.create(&PODS, json!({"metadata": {"name": "p", "namespace": "d"}}))
            .expect("pod");
        let both_written = Instant::now();
        tokio::time::advance(Duration::from_millis(10)).await;
        s.modify(&EVENTS, "d", "bumped", None, |e| {
            e["count"] = json!(2);
            Ok(())
        })
        .expect("bump");
        // Just past the TTL of the first writes, not of the bump 10 ms later.
        let now = both_written + EVENT_TTL + Duration::from_millis(5);
        let mut rx = s.subscribe();
        assert_eq!(s.expire_at(&EVENTS, EVENT_TTL, now), 1);
        let names: Vec<String> = s
            .list(&EVENTS, None)
            .0
            .iter()
            .map(|e| name_of(e).to_string())
            .collect();
        assert_eq!(names, ["bumped"], "renewed by its write");
        let c = rx.try_recv().expect("a change");
        assert_eq!((c.event, name_of(&c.object)), (EventType::Deleted, "old"));
        assert_eq!(s.expire_at(&PODS, EVENT_TTL, now), 0, "only events expire");
        assert!(s.get(&PODS, "d", "p").is_some());
        let later = now + Duration::from_secs(1);
        assert_eq!(s.expire_at(&EVENTS, EVENT_TTL, later), 1);
    }

    #[test]
    fn the_change_log_is_bounded_by_bytes_and_answers_410_past_it() {
        let s = Store::with_log_limits(0, 1_000_000, 64 << 10);
        s.create(&NAMESPACES, json!({"metadata": {"name": "d"}}))
            .expect("ns");
        s.create(
            &PODS,
            json!({"metadata": {"name": "p", "namespace": "d"}, "n": 0}),
        )
        .expect("pod");
        let first = s.resource_version();
        let big = "x".repeat(1000);
        for i in 0..1000 {
            s.modify(&PODS, "d", "p", None, |p| {
                p["n"] = json!(i + 1);
                p["pad"] = json!(big);
                Ok(())
            })
            .expect("modify");
        }
        let inner = s.lock();
        let t = inner.tables.get(PODS.plural).expect("pods");
        assert!(t.log_bytes <= 64 << 10, "{}", t.log_bytes);
        assert!(t.log.len() < 100, "{}", t.log.len());
        drop(inner);
        let e = s.watch_from(&PODS, None, first).err().expect("410");
        assert_eq!(e.code, 410);
        assert!(s.watch_from(&PODS, None, s.resource_version() - 5).is_ok());
    }
}
