//! One or more tests per finding kind.

use serde_json::json;

use super::{W, cluster, only};
use crate::diagnose::testkit::{Cluster, Deploy, Fate};
use crate::diagnose::{FindingKind, diagnose, report};

/// The seed story, to the letter of the JSON contract in docs/cli.md.
#[test]
fn registry_prefix_seed_story() {
    let c = cluster(&["localhost/kubernaut/datastorage:debug"])
        .deploy(Deploy::new("default", "datastorage").container_policy(
            "datastorage",
            "kubernaut/datastorage:debug",
            "Never",
        ))
        .pod("datastorage", W, &[("datastorage", Fate::never_pull())]);
    let pod = c.pod_name(1);
    let snap = c
        .event("default", &pod, "datastorage", false, "ErrImageNeverPull",
            "Container image \"kubernaut/datastorage:debug\" is not present with pull policy of Never")
        .build();
    let r = report(&snap);
    assert_eq!(r.context, "kind-gateway-debug");
    assert!(!r.healthy);
    let f = only(&r.findings);
    assert_eq!(f.kind, FindingKind::RegistryPrefix);
    assert_eq!(f.workload, "Deployment/datastorage");
    assert_eq!(
        f.suggested_image.as_deref(),
        Some("localhost/kubernaut/datastorage:debug")
    );
    assert_eq!(
        f.suggested_pull_policy, None,
        "policy Never uses the local image as it is"
    );
    assert_eq!(f.nodes, vec![W]);
    assert_eq!(f.pods, vec![pod]);
    // The waiting message and the identical event collapse into one line.
    assert_eq!(
        f.evidence[0],
        "Container image \"kubernaut/datastorage:debug\" is not present with pull policy of Never"
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e == "gateway-debug-worker holds localhost/kubernaut/datastorage:debug")
    );
    assert_eq!(
        f.patch,
        Some(json!([
            {"op":"test","path":"/metadata/uid","value":"uid-deploy-default-datastorage"},
            {"op":"test","path":"/spec/template/spec/containers/0/image","value":"kubernaut/datastorage:debug"},
            {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"localhost/kubernaut/datastorage:debug"}
        ]))
    );
    assert!(f.command.is_none());
    assert!(
        f.summary.contains("localhost/kubernaut/datastorage:debug") && f.summary.ends_with('.')
    );
    // The serialised shape of §3.2.
    let v = serde_json::to_value(&r).expect("serialise");
    for key in [
        "kind",
        "namespace",
        "workload",
        "container",
        "image",
        "suggested_image",
        "suggested_pull_policy",
        "nodes",
        "pods",
        "evidence",
        "patch",
    ] {
        assert!(v["findings"][0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["findings"][0]["kind"], "registry-prefix");
    assert_eq!(
        v["findings"][0]["suggested_pull_policy"],
        serde_json::Value::Null
    );
}

#[test]
fn registry_prefix_with_defaulted_always_also_sets_pull_policy() {
    // `kubernaut/gateway` has no tag: the apiserver defaulted Always, which is not recomputed
    // when the image is patched, and a localhost/ image can never be pulled.
    let snap = cluster(&["localhost/kubernaut/gateway:latest"])
        .deploy(Deploy::new("default", "gateway").container("gateway", "kubernaut/gateway"))
        .pod("gateway", W, &[("gateway", Fate::pull_backoff())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::RegistryPrefix);
    assert_eq!(
        f.suggested_image.as_deref(),
        Some("localhost/kubernaut/gateway:latest")
    );
    assert_eq!(f.suggested_pull_policy.as_deref(), Some("IfNotPresent"));
    let p = "/spec/template/spec/containers/0";
    assert_eq!(
        f.patch,
        Some(json!([
            {"op":"test","path":"/metadata/uid","value":"uid-deploy-default-gateway"},
            {"op":"test","path":format!("{p}/image"),"value":"kubernaut/gateway"},
            {"op":"test","path":format!("{p}/imagePullPolicy"),"value":"Always"},
            {"op":"replace","path":format!("{p}/image"),"value":"localhost/kubernaut/gateway:latest"},
            {"op":"replace","path":format!("{p}/imagePullPolicy"),"value":"IfNotPresent"}
        ]))
    );
}

#[test]
fn registry_prefix_for_an_official_image_name() {
    // `gateway:debug` is docker.io/library/gateway; the node has localhost/gateway:debug.
    let snap = cluster(&["localhost/gateway:debug"])
        .deploy(Deploy::new("default", "gw").container_policy("gw", "gateway:debug", "Never"))
        .pod("gw", W, &[("gw", Fate::never_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::RegistryPrefix);
    assert_eq!(
        f.suggested_image.as_deref(),
        Some("localhost/gateway:debug")
    );
    assert!(
        f.summary.contains("docker.io/library/gateway:debug"),
        "{}",
        f.summary
    );
}

#[test]
fn tag_mismatch_with_one_candidate_is_patched() {
    let snap = cluster(&[
        "localhost/kubernaut/gateway:debug",
        "registry.k8s.io/pause:3.10",
    ])
    .deploy(Deploy::new("default", "gw").container_policy(
        "gw",
        "localhost/kubernaut/gateway:v2",
        "Never",
    ))
    .pod("gw", W, &[("gw", Fate::never_pull())])
    .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::TagMismatch);
    assert_eq!(
        f.suggested_image.as_deref(),
        Some("localhost/kubernaut/gateway:debug")
    );
    assert!(f.patch.is_some());
}

#[test]
fn tag_mismatch_with_several_candidates_lists_them_without_patch() {
    let snap = cluster(&[
        "localhost/kubernaut/gateway:debug",
        "localhost/kubernaut/gateway:v1",
    ])
    .deploy(Deploy::new("default", "gw").container_policy(
        "gw",
        "localhost/kubernaut/gateway:v2",
        "Never",
    ))
    .pod("gw", W, &[("gw", Fate::never_pull())])
    .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::TagMismatch);
    assert_eq!(f.patch, None);
    assert_eq!(f.suggested_image, None);
    assert_eq!(
        f.candidates,
        vec![
            "localhost/kubernaut/gateway:debug",
            "localhost/kubernaut/gateway:v1"
        ]
    );
    assert_eq!(
        f.command.as_deref(),
        Some(
            "kubectl -n default set image deployment/gw gw=localhost/kubernaut/gateway:debug  # or: localhost/kubernaut/gateway:v1"
        )
    );
}

#[test]
fn tag_mismatch_across_domains_and_pull_policy_for_a_failed_pull() {
    // Asked docker.io/kubernaut/app:latest (Always); the node has localhost/kubernaut/app:dev.
    let snap = cluster(&["localhost/kubernaut/app:dev"])
        .deploy(Deploy::new("default", "app").container("app", "kubernaut/app:latest"))
        .pod("app", W, &[("app", Fate::err_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::TagMismatch);
    assert_eq!(
        f.suggested_image.as_deref(),
        Some("localhost/kubernaut/app:dev")
    );
    assert_eq!(f.suggested_pull_policy.as_deref(), Some("IfNotPresent"));
}

#[test]
fn not_on_node_gives_a_kind_load_command() {
    let snap = Cluster::kind("dev")
        .control_plane("dev-control-plane", &[])
        .worker("dev-worker", &["localhost/kubernaut/gateway:debug"])
        .worker("dev-worker2", &[])
        .deploy(Deploy::new("default", "gw").replicas(2).container_policy(
            "gw",
            "localhost/kubernaut/gateway:debug",
            "Never",
        ))
        .pod("gw", "dev-worker", &[("gw", Fate::Running)])
        .pod("gw", "dev-worker2", &[("gw", Fate::never_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::NotOnNode);
    assert_eq!(f.nodes, vec!["dev-worker2"]);
    assert_eq!(f.pods.len(), 1);
    assert_eq!(f.patch, None);
    assert_eq!(
        f.command.as_deref(),
        Some(
            "kind load docker-image localhost/kubernaut/gateway:debug --name dev --nodes dev-worker2"
        )
    );
}

#[test]
fn not_on_node_under_podman_saves_an_archive() {
    let snap = Cluster::kind("dev")
        .worker("dev-worker", &["localhost/kubernaut/gateway:debug"])
        .worker("dev-worker2", &[])
        .podman()
        .deploy(Deploy::new("default", "gw").container_policy(
            "gw",
            "kubernaut/gateway:debug",
            "Never",
        ))
        .deploy(Deploy::new("default", "gw2").container_policy(
            "gw",
            "localhost/kubernaut/gateway:debug",
            "Never",
        ))
        .pod("gw2", "dev-worker2", &[("gw", Fate::never_pull())])
        .build();
    let f = diagnose(&snap);
    assert_eq!(f.len(), 2);
    let load = "podman save -o /tmp/gateway-debug.tar localhost/kubernaut/gateway:debug && \
                kind load image-archive /tmp/gateway-debug.tar --name dev --nodes dev-worker2";
    assert_eq!(f[1].kind, FindingKind::NotOnNode);
    assert_eq!(f[1].command.as_deref(), Some(load));
    // No pod yet, policy Never: the prefixed name is only on one of the two workers, so
    // patching alone would not do; load it on the other one first.
    assert_eq!(f[0].kind, FindingKind::RegistryPrefix);
    assert_eq!(f[0].patch, None);
    assert_eq!(f[0].candidates, vec!["localhost/kubernaut/gateway:debug"]);
    assert_eq!(f[0].command.as_deref(), Some(load));
}

#[test]
fn pull_policy_when_the_image_is_there_but_always_pulls() {
    let snap = cluster(&["localhost/kubernaut/tool:latest"])
        .deploy(Deploy::new("default", "tool").container("tool", "localhost/kubernaut/tool"))
        .pod("tool", W, &[("tool", Fate::err_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::PullPolicy);
    assert_eq!(f.suggested_image, None);
    assert_eq!(f.suggested_pull_policy.as_deref(), Some("IfNotPresent"));
    let p = "/spec/template/spec/containers/0";
    assert_eq!(
        f.patch,
        Some(json!([
            {"op":"test","path":"/metadata/uid","value":"uid-deploy-default-tool"},
            {"op":"test","path":format!("{p}/image"),"value":"localhost/kubernaut/tool"},
            {"op":"test","path":format!("{p}/imagePullPolicy"),"value":"Always"},
            {"op":"replace","path":format!("{p}/imagePullPolicy"),"value":"IfNotPresent"}
        ]))
    );
}

#[test]
fn not_loaded_names_the_load_command() {
    let snap = cluster(&["registry.k8s.io/pause:3.10"])
        .deploy(Deploy::new("default", "x").container_policy("x", "kubernaut/x:debug", "Never"))
        .pod("x", W, &[("x", Fate::never_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::NotLoaded);
    assert_eq!(f.patch, None);
    assert_eq!(
        f.command.as_deref(),
        Some("kind load docker-image kubernaut/x:debug --name gateway-debug")
    );
}

#[test]
fn invalid_reference_patched_only_when_unambiguous() {
    let c = cluster(&["docker.io/library/nginx:1.27"])
        .deploy(Deploy::new("default", "ws").container("ws", " nginx:1.27"))
        .deploy(Deploy::new("default", "upper").container("u", "NGINX:1.27"))
        .deploy(Deploy::new("default", "upper2").container("u", "REDIS:7"))
        .pod("ws", W, &[("ws", Fate::invalid_name())])
        .pod("upper", W, &[("u", Fate::invalid_name())])
        .pod("upper2", W, &[("u", Fate::invalid_name())]);
    let f = diagnose(&c.build());
    assert_eq!(f.len(), 3);
    assert!(f.iter().all(|f| f.kind == FindingKind::InvalidReference));
    let by = |w: &str| f.iter().find(|f| f.workload == w).expect(w).clone();
    assert_eq!(
        by("Deployment/ws").suggested_image.as_deref(),
        Some("nginx:1.27")
    );
    assert!(by("Deployment/ws").patch.is_some());
    assert_eq!(
        by("Deployment/upper").suggested_image.as_deref(),
        Some("nginx:1.27")
    );
    let redis = by("Deployment/upper2");
    assert_eq!(
        (redis.suggested_image.clone(), redis.patch.clone()),
        (None, None)
    );
    assert!(
        redis.summary.contains("must be lowercase"),
        "{}",
        redis.summary
    );
    // Not certain (no node holds redis:7): a command to review, not a patch.
    assert_eq!(
        redis.command.as_deref(),
        Some("kubectl -n default set image deployment/upper2 u=redis:7")
    );
}

#[test]
fn never_policy_is_a_certain_failure_before_any_pod() {
    let snap = cluster(&["localhost/kubernaut/datastorage:debug"])
        .deploy(Deploy::new("default", "ds").container_policy(
            "ds",
            "kubernaut/datastorage:debug",
            "Never",
        ))
        .deploy(Deploy::new("default", "zero").replicas(0).container_policy(
            "z",
            "kubernaut/nope:1",
            "Never",
        ))
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::RegistryPrefix);
    assert!(f.pods.is_empty());
    assert_eq!(
        f.nodes,
        vec![W],
        "the tainted control plane is not a target"
    );
    assert!(f.patch.is_some());
}

#[test]
fn never_policy_image_only_on_the_tainted_control_plane_is_not_on_node() {
    let snap = Cluster::kind("k")
        .control_plane("k-control-plane", &["localhost/app:dev"])
        .worker("k-worker", &[])
        .deploy(Deploy::new("default", "app").container_policy("app", "localhost/app:dev", "Never"))
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::NotOnNode);
    assert_eq!(f.nodes, vec!["k-worker"]);
}

#[test]
fn other_controllers_and_bare_pods() {
    let snap = cluster(&["localhost/pg:16", "localhost/tool:dev"])
        .other_pod(
            "db",
            "pg-0",
            Some(("StatefulSet", "pg")),
            &[("postgres", "pg:16", None)],
            Some(W),
            &[("postgres", Fate::err_pull())],
        )
        .other_pod(
            "db",
            "pg-1",
            Some(("StatefulSet", "pg")),
            &[("postgres", "pg:16", None)],
            Some(W),
            &[("postgres", Fate::pull_backoff())],
        )
        .other_pod(
            "default",
            "debug",
            None,
            &[("tool", "tool:dev", None)],
            Some(W),
            &[("tool", Fate::err_pull())],
        )
        .other_pod(
            "default",
            "debug2",
            None,
            &[("tool", "tool:dev", Some("Always"))],
            Some(W),
            &[("tool", Fate::err_pull())],
        )
        .build();
    let f = diagnose(&snap);
    assert_eq!(
        f.iter().map(|f| f.workload.as_str()).collect::<Vec<_>>(),
        vec!["StatefulSet/pg", "Pod/debug", "Pod/debug2"]
    );
    assert_eq!(f[0].pods, vec!["pg-0", "pg-1"]);
    assert_eq!(f[0].patch, None);
    assert!(
        f[0].command
            .as_deref()
            .is_some_and(|c| c.starts_with("kubectl -n db patch statefulset/pg -p "))
    );
    // A bare pod's image can be patched in place.
    assert_eq!(
        f[1].patch,
        Some(json!([
            {"op":"test","path":"/metadata/uid","value":"uid-pod-default-debug"},
            {"op":"test","path":"/spec/containers/0/image","value":"tool:dev"},
            {"op":"replace","path":"/spec/containers/0/image","value":"localhost/tool:dev"}
        ]))
    );
    // Its pull policy cannot: the pod must be recreated.
    assert_eq!(f[2].suggested_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(f[2].patch, None);
    assert!(
        f[2].command
            .as_deref()
            .is_some_and(|c| c.contains("kubectl replace --force"))
    );
}

#[test]
fn one_finding_per_container_listing_all_pods_and_nodes_in_stable_order() {
    let snap = Cluster::kind("dev")
        .worker("dev-worker", &["localhost/b:1", "localhost/a:1"])
        .worker("dev-worker2", &["localhost/b:1", "localhost/a:1"])
        .deploy(
            Deploy::new("zeta", "b")
                .replicas(3)
                .container_policy("b", "b:1", "Never"),
        )
        .deploy(Deploy::new("alpha", "a").container_policy("a", "a:1", "Never"))
        .pod("b", "dev-worker", &[("b", Fate::never_pull())])
        .pod("b", "dev-worker2", &[("b", Fate::never_pull())])
        .pod("b", "dev-worker2", &[("b", Fate::never_pull())])
        .pod("a", "dev-worker", &[("a", Fate::never_pull())])
        .build();
    let f = diagnose(&snap);
    assert_eq!(
        f.iter().map(|f| f.namespace.as_str()).collect::<Vec<_>>(),
        vec!["alpha", "zeta"]
    );
    assert_eq!(f[1].pods.len(), 3);
    assert_eq!(f[1].nodes, vec!["dev-worker", "dev-worker2"]);
    assert_eq!(f[1].suggested_image.as_deref(), Some("localhost/b:1"));
    assert_eq!(diagnose(&snap), f, "deterministic");
}

#[test]
fn synthetic_cluster_has_exactly_its_broken_deployments() {
    let cfg = crate::diagnose::testkit::Synthetic {
        pods: 400,
        nodes: 6,
        images_per_node: 40,
        replicas: 5,
        broken_every: 10,
    };
    let snap = crate::diagnose::testkit::synthetic(&cfg);
    let f = diagnose(&snap);
    // 80 deployments, every 10th broken: 8, cycling registry-prefix, not-loaded, tag-mismatch, pull-policy.
    assert_eq!(
        f.len(),
        8,
        "{:#?}",
        f.iter().map(|f| (&f.workload, f.kind)).collect::<Vec<_>>()
    );
    let count = |k| f.iter().filter(|x| x.kind == k).count();
    assert_eq!(count(FindingKind::RegistryPrefix), 2);
    assert_eq!(count(FindingKind::NotLoaded), 2);
    assert_eq!(count(FindingKind::TagMismatch), 2);
    assert_eq!(count(FindingKind::PullPolicy), 2);
    assert!(f.iter().all(|x| x.pods.len() == 5 && x.container == "app"));
}
