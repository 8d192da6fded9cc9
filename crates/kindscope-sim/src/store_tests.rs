//! Unit tests of `sim::store`.

use super::*;

fn ns(store: &Store, name: &str) {
    store
        .create(&NAMESPACES, json!({"metadata": {"name": name}}))
        .expect("namespace");
}

fn pod(s: &Store, n: &str, p: &str) {
    s.create(
        &PODS,
        json!({"metadata": {"name": p, "namespace": n}, "spec": {"containers": []}}),
    )
    .expect("pod");
}

fn names(v: &[Arc<Value>]) -> Vec<String> {
    v.iter()
        .map(|o| format!("{}/{}", namespace_of(o), name_of(o)))
        .collect()
}

fn page(s: &Store, ns: Option<&str>, after: Option<(&str, &str)>, at: Option<u64>) -> ListPage {
    s.list_page_at(&PODS, ns, after, at, 4, None)
        .expect("a page")
}

#[test]
fn pages_are_windows_in_key_order_with_the_count_after_them() {
    let s = Store::new(0);
    for n in ["a", "b"] {
        ns(&s, n);
        for p in ["p1", "p2", "p3"] {
            pod(&s, n, p);
        }
    }
    let first = page(&s, None, None, None);
    assert_eq!(names(&first.items), ["a/p1", "a/p2", "a/p3", "b/p1"]);
    assert_eq!(first.remaining, Some(Some(2)));
    let rest = page(&s, None, Some(("b", "p1")), Some(first.rv));
    assert_eq!(names(&rest.items), ["b/p2", "b/p3"]);
    assert_eq!((rest.remaining, rest.rv), (None, first.rv));
    let p = s
        .list_page_at(&PODS, Some("a"), None, None, 2, None)
        .expect("page");
    assert_eq!(
        (names(&p.items), p.remaining),
        (vec!["a/p1".into(), "a/p2".into()], Some(Some(1)))
    );
    // With a filter only whether more follow is known.
    let odd = |o: &Value| name_of(o) != "p2";
    let p = s
        .list_page_at(&PODS, None, None, None, 2, Some(&odd))
        .expect("page");
    assert_eq!(
        (names(&p.items), p.remaining),
        (vec!["a/p1".into(), "a/p3".into()], Some(None))
    );
}

/// The union of the pages is the list at the first page's version, however the objects change
/// between the pages: created ones (before and after the cursor) do not appear, deleted and
/// changed ones appear as they were, and none is lost or repeated.
#[test]
fn the_pages_of_a_list_show_the_first_pages_version_while_objects_change() {
    let s = Store::new(0);
    ns(&s, "a");
    for i in 0..40 {
        pod(&s, "a", &format!("p{i:02}"));
    }
    let (at_start, rv0) = s.list(&PODS, None);
    let mut seen = Vec::new();
    let mut after: Option<(String, String)> = None;
    let mut at = None;
    let mut round = 0;
    loop {
        let p = page(
            &s,
            None,
            after.as_ref().map(|(n, m)| (n.as_str(), m.as_str())),
            at,
        );
        assert_eq!(p.rv, rv0, "every page shows the first page's version");
        at = Some(p.rv);
        seen.extend(p.items.iter().cloned());
        let Some(last) = p.items.last() else { break };
        after = Some((namespace_of(last).to_string(), name_of(last).to_string()));
        if p.remaining.is_none() {
            break;
        }
        // Between pages: delete one behind and one ahead of the cursor, create some on both
        // sides, and change one ahead.
        round += 1;
        let _ = s.delete(&PODS, "a", &format!("p{:02}", round * 4 + 6));
        let _ = s.delete(&PODS, "a", &format!("p{:02}", round));
        pod(&s, "a", &format!("p{:02}x", round * 4 + 5));
        pod(&s, "a", &format!("a-new-{round}"));
        let _ = s.modify(&PODS, "a", &format!("p{:02}", round * 4 + 7), None, |o| {
            o["metadata"]["labels"] = json!({"changed": "yes"});
            Ok(())
        });
    }
    assert!(round >= 5, "paged through several changes");
    assert_eq!(names(&seen), names(&at_start));
    let versions = |v: &[Arc<Value>]| -> Vec<Value> {
        v.iter()
            .map(|o| o["metadata"]["resourceVersion"].clone())
            .collect()
    };
    assert_eq!(versions(&seen), versions(&at_start), "objects as they were");
    // The next list starts at the newest version and sees the changes.
    let fresh = s
        .list_page_at(&PODS, None, None, None, 1000, None)
        .expect("list");
    assert_eq!(names(&fresh.items), names(&s.list(&PODS, None).0));
}

#[test]
fn a_page_at_a_compacted_or_foreign_version_is_410_expired() {
    let s = Store::with_log_capacity(100, 5);
    ns(&s, "a");
    for i in 0..6 {
        pod(&s, "a", &format!("p{i}"));
    }
    let first = page(&s, None, None, None);
    for i in 6..12 {
        pod(&s, "a", &format!("p{i}"));
    }
    for at in [first.rv, 50, s.resource_version() + 1] {
        let e = s
            .list_page_at(&PODS, None, Some(("a", "p3")), Some(at), 4, None)
            .err()
            .expect("410");
        assert_eq!((e.code, e.reason), (410, "Expired"), "{at}");
    }
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

#[test]
fn an_edit_never_changes_the_servers_fields_even_when_it_breaks_metadata() {
    let current = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "u1",
            "creationTimestamp": "2025-12-24T07:00:00Z", "resourceVersion": "7", "generation": 3},
        "spec": {"replicas": 1}
    });
    // A hostile or broken edit: metadata replaced by a string, identity gone, spec changed.
    let mut next = json!({"apiVersion": "v9", "kind": "Pod", "metadata": "garbage",
        "spec": {"replicas": 2}});
    keep_server_fields(&current, &mut next);
    bump_generation(&current, &mut next);
    assert_eq!(next["apiVersion"], "apps/v1");
    assert_eq!(next["kind"], "Deployment");
    assert_eq!(next["metadata"]["name"], "web");
    assert_eq!(next["metadata"]["uid"], "u1");
    assert_eq!(next["metadata"]["resourceVersion"], "7");
    assert_eq!(next["metadata"]["generation"], 4, "the spec changed");
    // A generation the stored object never had is not the edit's to add; an unchanged spec
    // keeps the generation.
    let bare = json!({"metadata": {"name": "p"}, "spec": {"a": 1}});
    let mut edited = json!({"metadata": {"name": "p", "generation": 9}, "spec": {"a": 1}});
    keep_server_fields(&bare, &mut edited);
    bump_generation(&bare, &mut edited);
    assert!(edited["metadata"].get("generation").is_none());
    // The precondition: another version is a conflict, none or an empty one is not.
    assert!(check_version(&PODS, "web", &current, Some("6")).is_err());
    assert!(check_version(&PODS, "web", &current, Some("7")).is_ok());
    assert!(check_version(&PODS, "web", &current, Some("")).is_ok());
    assert!(check_version(&PODS, "web", &current, None).is_ok());
}
