use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::DeploymentStatus;

use super::*;
use crate::diagnose::diagnose;
use crate::diagnose::testkit::{Cluster, Deploy, Fate};

const W: &str = "gateway-debug-worker";

fn seed() -> Snapshot {
    Cluster::kind("gateway-debug")
        .worker(W, &["localhost/kubernaut/gateway:debug"])
        .deploy(Deploy::new("default", "gateway").container_policy(
            "gateway",
            "kubernaut/gateway:debug",
            "Never",
        ))
        .pod("gateway", W, &[("gateway", Fate::never_pull())])
        .build()
}

fn gateway() -> Target {
    parse_target("deploy/gateway", Some("default")).expect("parses")
}

fn set_status(snap: &mut Snapshot, status: DeploymentStatus, generation: i64) {
    let d = Arc::make_mut(snap.deployments.first_mut().expect("a deployment"));
    d.metadata.generation = Some(generation);
    d.status = Some(status);
}

#[test]
fn targets_parse_with_kubectl_short_names() {
    let t = parse_target("sts/db", Some("data")).expect("parses");
    assert_eq!((t.kind.as_str(), t.name.as_str()), ("StatefulSet", "db"));
    assert_eq!(t.namespace.as_deref(), Some("data"));
    assert_eq!(gateway().label(), "Deployment/gateway");
    for bad in ["gateway", "deploy/", "/x", "cronjob/x", "deploy/a/b"] {
        assert!(parse_target(bad, None).is_err(), "{bad}");
    }
}

#[test]
fn durations_read_like_kubectl_timeouts() {
    assert_eq!(parse_duration("120s"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    for bad in ["", "s", "10x", "1m30", "soon"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}

#[test]
fn a_deployment_is_ready_as_rollout_status_decides() {
    let mut snap = seed();
    let status = |updated, total, available, observed| DeploymentStatus {
        updated_replicas: Some(updated),
        replicas: Some(total),
        available_replicas: Some(available),
        observed_generation: Some(observed),
        ..DeploymentStatus::default()
    };
    set_status(&mut snap, status(1, 1, 1, 1), 2);
    assert_eq!(
        progress(&snap, &gateway()).message,
        "waiting for the deployment controller"
    );
    set_status(&mut snap, status(0, 1, 1, 2), 2);
    assert!(!progress(&snap, &gateway()).ready);
    set_status(&mut snap, status(1, 2, 1, 2), 2);
    assert_eq!(
        progress(&snap, &gateway()).message,
        "1 old replicas pending termination"
    );
    set_status(&mut snap, status(1, 1, 0, 2), 2);
    assert_eq!(
        progress(&snap, &gateway()).message,
        "0 of 1 updated replicas available"
    );
    set_status(&mut snap, status(1, 1, 1, 2), 2);
    assert!(progress(&snap, &gateway()).ready);
}

#[test]
fn never_pull_blocks_at_once_and_other_workloads_do_not() {
    let snap = seed();
    let findings = diagnose(&snap);
    assert_eq!(findings.len(), 1);
    assert_eq!(blocking(&snap, &[gateway()], &findings).len(), 1);
    let other = parse_target("deploy/other", Some("default")).expect("parses");
    assert!(blocking(&snap, &[other], &findings).is_empty());
    // The pod is found through its ReplicaSet.
    assert_eq!(pods_of(&snap, &gateway()).len(), 1);
    assert_eq!(all_targets(&snap), vec![gateway()]);
}

#[test]
fn a_first_failed_pull_is_not_certain_yet() {
    let snap = Cluster::kind("gateway-debug")
        .worker(W, &["localhost/kubernaut/gateway:debug"])
        .deploy(Deploy::new("default", "gateway").container("gateway", "kubernaut/gateway:debug"))
        .pod("gateway", W, &[("gateway", Fate::err_pull())])
        .build();
    let findings = diagnose(&snap);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(blocking(&snap, &[gateway()], &findings).is_empty());
}
