//! Injected faults, changed while the server runs.

use super::*;

#[tokio::test]
async fn faults_forbid_delay_fail_and_break_watches() {
    let store = populated(1000, 2);
    let (server, client) = start(store.clone()).await;
    let faults = server.faults();
    let events: Api<KubeEvent> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    faults.set(Faults::parse(&["forbid=events"]).expect("spec"));
    let s = api_error(events.list(&ListParams::default()).await.expect_err("403"));
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "events is forbidden: User \"kind-user\" cannot list resource \"events\" in API group \"\" at the cluster scope"
    );
    assert_eq!(
        pods.list(&ListParams::default())
            .await
            .expect("pods unaffected")
            .items
            .len(),
        2
    );

    faults.set(Faults::parse(&["latency=200ms"]).expect("spec"));
    let t0 = Instant::now();
    pods.get("p0000").await.expect("get");
    assert!(t0.elapsed() >= Duration::from_millis(200));

    faults.set(Faults::parse(&["error-rate=1"]).expect("spec"));
    let s = api_error(pods.get("p0000").await.expect_err("500"));
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    faults.set(Faults::parse(&["error-rate=0.5"]).expect("spec"));
    let mut failures = 0;
    for _ in 0..40 {
        if pods.get("p0000").await.is_err() {
            failures += 1;
        }
    }
    assert!((5..35).contains(&failures), "{failures} of 40 failed");

    faults.set(Faults::parse(&["watch-410"]).expect("spec"));
    let mut stream = pods
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(WAIT, stream.try_next())
        .await
        .expect("in time")
    {
        Ok(Some(WatchEvent::Error(s))) => assert_eq!(s.code, 410),
        other => panic!("expected 410, got {other:?}"),
    }

    // The dropped watch ends (an undropped one would run into the give-up bound WAIT).
    faults.set(Faults::parse(&["drop-watch=200ms"]).expect("spec"));
    let mut stream = pods
        .watch(&WatchParams::default().disable_bookmarks(), "0")
        .await
        .expect("watch")
        .boxed();
    let mut added = 0;
    while let Some(e) = tokio::time::timeout(WAIT, stream.try_next())
        .await
        .expect("ends in time")
        .expect("no error")
    {
        assert!(matches!(e, WatchEvent::Added(_)));
        added += 1;
    }
    assert_eq!(added, 2);

    faults.set(Faults::default());
    assert!(events.list(&ListParams::default()).await.is_ok());
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn restart_on_the_same_port_serves_a_rebuilt_cluster() {
    // Not port 0: an ephemeral port can be taken by an outgoing connection of a test running
    // beside this one between the shutdown and the restart.
    let port = crate::support::ports::outside_ephemeral_range();
    let server = spawn(populated(1000, 2), opts(Faults::default()), port)
        .await
        .expect("server starts");
    let client = client_for(&server).await;
    assert_eq!(server.addr().port(), port);
    let identity = server.identity();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let before = pods.get("p0000").await.expect("get");
    // An open watch must not keep the old server alive.
    let _watch = pods
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch");
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown in time")
        .expect("clean shutdown");

    let rebuilt = Store::new(50_000);
    rebuilt
        .create(&NAMESPACES, json!({"metadata": {"name": "default"}}))
        .expect("namespace");
    rebuilt
        .create(&PODS, pod("p0000", "web", "w1", "Running"))
        .expect("pod");
    let restarted = ServerOptions {
        identity: Some(identity),
        ..opts(Faults::default())
    };
    let again = spawn(rebuilt, restarted, port)
        .await
        .expect("same port again");
    assert_eq!(again.addr().port(), port);
    let after = pods
        .get("p0000")
        .await
        .expect("same client reaches the new server");
    assert_ne!(before.metadata.uid, after.metadata.uid);
    assert_ne!(
        before.metadata.resource_version,
        after.metadata.resource_version
    );
}
