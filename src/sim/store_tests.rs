//! Unit tests of `sim::store`.

use super::*;

fn ns(store: &Store, name: &str) {
    store
        .create(&NAMESPACES, json!({"metadata": {"name": name}}))
        .expect("namespace");
}

#[test]
fn pages_are_windows_in_key_order_with_the_count_after_them() {
    let s = Store::new(0);
    for n in ["a", "b"] {
        ns(&s, n);
        for p in ["p1", "p2", "p3"] {
            s.create(
                &PODS,
                json!({"metadata": {"name": p, "namespace": n}, "spec": {"containers": []}}),
            )
            .expect("pod");
        }
    }
    let names = |v: &[Arc<Value>]| -> Vec<String> {
        v.iter()
            .map(|o| format!("{}/{}", namespace_of(o), name_of(o)))
            .collect()
    };
    let (page, rest, _) = s.list_page(&PODS, None, None, 4);
    assert_eq!(names(&page), ["a/p1", "a/p2", "a/p3", "b/p1"]);
    assert_eq!(rest, 2);
    let (page, rest, _) = s.list_page(&PODS, None, Some(("b", "p1")), 4);
    assert_eq!(
        (names(&page), rest),
        (vec!["b/p2".into(), "b/p3".into()], 0)
    );
    let (page, rest, _) = s.list_page(&PODS, Some("a"), None, 2);
    assert_eq!(
        (names(&page), rest),
        (vec!["a/p1".into(), "a/p2".into()], 1)
    );
    let (page, rest, _) = s.list_page(&PODS, Some("a"), Some(("a", "p2")), 2);
    assert_eq!((names(&page), rest), (vec!["a/p3".into()], 0));
}

#[test]
fn watching_from_a_version_this_store_never_issued_is_gone() {
    let s = Store::new(5000);
    ns(&s, "a");
    let now = s.resource_version();
    assert!(s.watch_from(&NAMESPACES, None, now).is_ok());
    assert!(s.watch_from(&NAMESPACES, None, 5000).is_ok());
    // From a cluster before a restart: older than this store, or newer than its newest.
    for rv in [10, 4999, now + 1] {
        let e = s.watch_from(&NAMESPACES, None, rv).err().expect("410");
        assert_eq!(e.code, 410, "{rv}");
    }
}

#[test]
fn create_sets_metadata_and_rejects_duplicates() {
    let s = Store::new(100);
    ns(&s, "default");
    let p = s
        .create(
            &PODS,
            json!({"metadata": {"name": "a", "namespace": "default"}, "spec": {}}),
        )
        .expect("create");
    assert_eq!(p["metadata"]["resourceVersion"], "102");
    assert_eq!(p["metadata"]["generation"], 1);
    assert_eq!(p["kind"], "Pod");
    assert!(p["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    let e = s
        .create(
            &PODS,
            json!({"metadata": {"name": "a", "namespace": "default"}}),
        )
        .expect_err("duplicate");
    assert_eq!((e.code, e.reason), (409, "AlreadyExists"));
    let e = s
        .create(
            &PODS,
            json!({"metadata": {"name": "a", "namespace": "nope"}}),
        )
        .expect_err("no namespace");
    assert_eq!(e.code, 404);
}

#[test]
fn modify_noop_keeps_version_and_spec_change_bumps_generation() {
    let s = Store::new(0);
    ns(&s, "d");
    s.create(
        &DEPLOYMENTS,
        json!({"metadata": {"name": "x", "namespace": "d"}, "spec": {"replicas": 1}}),
    )
    .expect("create");
    let same = s
        .modify(&DEPLOYMENTS, "d", "x", None, |_| Ok(()))
        .expect("noop");
    assert_eq!(same["metadata"]["resourceVersion"], "2");
    let changed = s
        .modify(&DEPLOYMENTS, "d", "x", None, |o| {
            o["spec"]["replicas"] = json!(2);
            Ok(())
        })
        .expect("modify");
    assert_eq!(changed["metadata"]["generation"], 2);
    assert_eq!(changed["metadata"]["resourceVersion"], "3");
    let status_only = s
        .modify(&DEPLOYMENTS, "d", "x", None, |o| {
            o["status"] = json!({"replicas": 2});
            Ok(())
        })
        .expect("status");
    assert_eq!(status_only["metadata"]["generation"], 2);
    let e = s
        .modify(&DEPLOYMENTS, "d", "x", Some("1"), |_| Ok(()))
        .expect_err("stale rv");
    assert_eq!((e.code, e.reason), (409, "Conflict"));
}

#[test]
fn watch_replays_from_version_and_answers_gone_when_compacted() {
    let s = Store::with_log_capacity(0, 3);
    ns(&s, "d");
    for i in 0..5 {
        s.create(
            &PODS,
            json!({"metadata": {"name": format!("p{i}"), "namespace": "d"}}),
        )
        .expect("create");
    }
    // pods at rv 2..=6; the log keeps 4,5,6.
    let w = s.watch_from(&PODS, Some("d"), 4).expect("watch");
    let rvs: Vec<u64> = w.replay.iter().map(|c| c.rv).collect();
    assert_eq!(rvs, vec![5, 6]);
    assert_eq!(w.replay_until, 6);
    let e = s.watch_from(&PODS, None, 1).err().expect("gone");
    assert_eq!(e.code, 410);
    let d = s.delete(&PODS, "d", "p0").expect("delete");
    assert_eq!(d["metadata"]["resourceVersion"], "7");
    let w = s.watch_from(&PODS, None, 6).expect("watch");
    assert_eq!(w.replay.len(), 1);
    assert_eq!(w.replay[0].event, EventType::Deleted);
    assert_eq!(w.replay[0].object["metadata"]["name"], "p0");
    assert!(s.get(&PODS, "d", "p0").is_none());
}

#[test]
fn list_filters_namespace_in_order() {
    let s = Store::new(0);
    ns(&s, "a");
    ns(&s, "b");
    for (n, name) in [("b", "z"), ("a", "y"), ("a", "x")] {
        s.create(&PODS, json!({"metadata": {"name": name, "namespace": n}}))
            .expect("create");
    }
    let (all, _) = s.list(&PODS, None);
    let names: Vec<&str> = all.iter().map(|o| name_of(o)).collect();
    assert_eq!(names, vec!["x", "y", "z"]);
    let (a, _) = s.list(&PODS, Some("a"));
    assert_eq!(a.len(), 2);
}
