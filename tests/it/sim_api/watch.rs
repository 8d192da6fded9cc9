//! Watches: replay from a version, selectors, bookmarks, 410 and relist, kube's watcher.

use super::*;

#[tokio::test]
async fn watch_from_a_version_replays_then_streams_in_order() {
    let store = populated(1000, 3);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let list = pods.list(&ListParams::default()).await.expect("list");
    let rv = list.metadata.resource_version.expect("rv");

    // Changes after the list, before the watch: replayed from the log.
    store
        .create(&PODS, pod("new", "web", "w1", "Pending"))
        .expect("create");
    store
        .modify(&PODS, "default", "new", None, |p| {
            p["status"]["phase"] = json!("Running");
            Ok(())
        })
        .expect("modify");
    store.delete(&PODS, "default", "p0000").expect("delete");

    let mut stream = pods
        .watch(&WatchParams::default().disable_bookmarks(), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut next = async || {
        tokio::time::timeout(WAIT, stream.try_next())
            .await
            .expect("event in time")
            .expect("no error")
            .expect("stream open")
    };
    let describe = |e: WatchEvent<Pod>| match e {
        WatchEvent::Added(p) => format!("ADDED {}", p.metadata.name.unwrap_or_default()),
        WatchEvent::Modified(p) => format!(
            "MODIFIED {} {}",
            p.metadata.name.unwrap_or_default(),
            p.status.and_then(|s| s.phase).unwrap_or_default()
        ),
        WatchEvent::Deleted(p) => format!("DELETED {}", p.metadata.name.unwrap_or_default()),
        other => format!("{other:?}"),
    };
    assert_eq!(describe(next().await), "ADDED new");
    assert_eq!(describe(next().await), "MODIFIED new Running");
    assert_eq!(describe(next().await), "DELETED p0000");

    // A live change reaches the client (printed, not bounded: the latency's figures are in
    // docs/performance.md).
    let t0 = Instant::now();
    store
        .create(&PODS, pod("live", "web", "w1", "Pending"))
        .expect("create");
    assert_eq!(describe(next().await), "ADDED live");
    eprintln!("watch latency {:?}", t0.elapsed());
    // Other namespaces do not leak into a namespaced watch.
    store
        .create(
            &PODS,
            json!({"metadata": {"name": "elsewhere", "namespace": "other"}, "spec": {}}),
        )
        .expect("create");
    store.delete(&PODS, "default", "live").expect("delete");
    assert_eq!(describe(next().await), "DELETED live");
}

#[tokio::test]
async fn watch_with_selector_and_bookmarks() {
    let store = populated(1000, 3);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    // resourceVersion "0": every matching object as ADDED first.
    let mut stream = pods
        .watch(&WatchParams::default().labels("app=web"), "0")
        .await
        .expect("watch")
        .boxed();
    let mut events = Vec::new();
    let mut bookmark_rv = None;
    store
        .modify(&PODS, "default", "p0001", None, |p| {
            p["metadata"]["labels"]["app"] = json!("web");
            Ok(())
        })
        .expect("enter selection");
    store
        .modify(&PODS, "default", "p0000", None, |p| {
            p["metadata"]["labels"]["app"] = json!("gone");
            Ok(())
        })
        .expect("leave selection");
    let end_rv = store.resource_version().to_string();
    while bookmark_rv.as_deref() != Some(end_rv.as_str()) {
        let e = tokio::time::timeout(WAIT, stream.try_next())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open");
        match e {
            WatchEvent::Added(p) => {
                events.push(format!("ADDED {}", p.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Modified(p) => {
                events.push(format!("MODIFIED {}", p.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Deleted(p) => {
                events.push(format!("DELETED {}", p.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Bookmark(b) => bookmark_rv = Some(b.metadata.resource_version),
            WatchEvent::Error(s) => panic!("error event {s:?}"),
        }
    }
    assert_eq!(events, vec!["ADDED p0000", "ADDED p0001", "DELETED p0000"]);
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_410_and_a_relist_recovers() {
    let store = populated(3, 1);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let rv = pods
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    for i in 0..10 {
        store
            .create(&PODS, pod(&format!("n{i}"), "web", "w1", "Running"))
            .expect("create");
    }
    let mut stream = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(WAIT, stream.try_next())
        .await
        .expect("in time")
    {
        Ok(Some(WatchEvent::Error(s))) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
            assert!(
                s.message.starts_with("too old resource version"),
                "{}",
                s.message
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    // Relist, then watch from the fresh version.
    let list = pods.list(&ListParams::default()).await.expect("relist");
    assert_eq!(list.items.len(), 11);
    let rv = list.metadata.resource_version.expect("rv");
    let mut stream = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    store
        .create(&PODS, pod("after", "web", "w1", "Running"))
        .expect("create");
    loop {
        match tokio::time::timeout(WAIT, stream.try_next())
            .await
            .expect("in time")
        {
            Ok(Some(WatchEvent::Added(p))) => {
                assert_eq!(p.metadata.name.as_deref(), Some("after"));
                break;
            }
            Ok(Some(WatchEvent::Bookmark(_))) => continue,
            other => panic!("expected ADDED after, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn runtime_watcher_sees_initial_state_and_changes() {
    let store = populated(1000, 3);
    // Watches are dropped every 300ms: the watcher must reconnect without losing changes.
    let faults = Faults::parse(&["drop-watch=300ms"]).expect("faults");
    let (_server, client) = start_with(store.clone(), faults).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut stream = watcher(pods, watcher::Config::default()).boxed();
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
        {
            Some(Ok(watcher::Event::InitApply(p))) => {
                initial.push(p.metadata.name.unwrap_or_default())
            }
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, vec!["p0000", "p0001", "p0002"]);
    let store2 = store.clone();
    let writer = tokio::spawn(async move {
        for i in 0..4 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            store2
                .create(&PODS, pod(&format!("w{i}"), "web", "w1", "Running"))
                .expect("create");
        }
        store2.delete(&PODS, "default", "p0000").expect("delete");
    });
    let mut applied = Vec::new();
    let mut deleted = false;
    while !(deleted && applied.len() == 4) {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
        {
            Some(Ok(watcher::Event::Apply(p))) => {
                let name = p.metadata.name.unwrap_or_default();
                if !applied.contains(&name) {
                    applied.push(name);
                }
            }
            Some(Ok(watcher::Event::Delete(p))) => {
                assert_eq!(p.metadata.name.as_deref(), Some("p0000"));
                deleted = true;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("watcher error {e}"),
            None => panic!("watcher ended"),
        }
    }
    assert_eq!(applied, vec!["w0", "w1", "w2", "w3"]);
    writer.await.expect("writer");
}

#[tokio::test]
async fn watch_ends_at_timeout_seconds() {
    let store = populated(1000, 1);
    let (_server, client) = start(store).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let t0 = Instant::now();
    let stream = pods
        .watch(&WatchParams::default().timeout(1).disable_bookmarks(), "0")
        .await
        .expect("watch");
    let events: Vec<_> = tokio::time::timeout(WAIT, stream.collect::<Vec<_>>())
        .await
        .expect("stream ends");
    assert_eq!(events.len(), 1, "one ADDED, then the end");
    // Not before the timeout (a lower bound no busy machine can break); that it ends at all is
    // the give-up bound above.
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn runtime_watcher_with_streaming_lists() {
    let store = populated(1000, 2);
    let (_server, client) = start(store.clone()).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut stream = watcher(pods, watcher::Config::default().streaming_lists()).boxed();
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
        {
            Some(Ok(watcher::Event::InitApply(p))) => {
                initial.push(p.metadata.name.unwrap_or_default())
            }
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, vec!["p0000", "p0001"]);
    store
        .create(&PODS, pod("later", "web", "w1", "Running"))
        .expect("create");
    loop {
        match tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("in time")
        {
            Some(Ok(watcher::Event::Apply(p))) => {
                assert_eq!(p.metadata.name.as_deref(), Some("later"));
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
