//! What must never be reported, and what must be reported exactly.

use super::{SHA, SHA2, W, cluster, only};
use crate::diagnose::testkit::{Deploy, Fate};
use crate::diagnose::{FindingKind, diagnose, report};

#[test]
fn familiar_and_full_names_are_the_same_image() {
    let snap = cluster(&["docker.io/library/nginx:1.27", "docker.io/kubernaut/api:v1"])
        .deploy(Deploy::new("default", "web").container_policy("web", "nginx:1.27", "Never"))
        .deploy(Deploy::new("default", "api").container_policy("api", "kubernaut/api:v1", "Never"))
        .deploy(Deploy::new("default", "idx").container_policy(
            "idx",
            "index.docker.io/library/nginx:1.27",
            "Never",
        ))
        .build();
    // No pods yet: the Never check must normalise both sides.
    assert_eq!(diagnose(&snap), vec![]);
}

#[test]
fn running_pod_is_healthy_even_with_a_capped_node_list() {
    let snap = cluster(&["docker.io/library/big-0:1"])
        .capped(W)
        .deploy(Deploy::new("default", "app").container_policy("app", "localhost/app:dev", "Never"))
        .pod("app", W, &[("app", Fate::Running)])
        .build();
    assert_eq!(diagnose(&snap), vec![]);
}

#[test]
fn never_policy_without_pods_is_not_judged_on_a_capped_list() {
    let snap = cluster(&["docker.io/library/big-0:1"])
        .capped(W)
        .deploy(Deploy::new("default", "app").container_policy("app", "localhost/app:dev", "Never"))
        .build();
    assert_eq!(diagnose(&snap), vec![]);
}

#[test]
fn a_capped_list_gives_the_command_that_checks_not_a_load() {
    // The kubelet refuses (Never) but its node's API list is capped: the image may be there.
    let snap = cluster(&["docker.io/library/big-0:1"])
        .capped(W)
        .deploy(Deploy::new("default", "app").container_policy(
            "app",
            "kubernaut/gateway:debug",
            "Never",
        ))
        .pod("app", W, &[("app", Fate::never_pull())])
        .build();
    let findings = diagnose(&snap);
    let f = only(&findings);
    assert_eq!(f.kind, FindingKind::NotLoaded);
    let cmd = f.command.as_deref().expect("a command");
    assert!(
        cmd.contains(&format!(
            "exec {W} crictl images | grep -F kubernaut/gateway"
        )),
        "{cmd}"
    );
    assert!(!cmd.contains("kind load"), "{cmd}");
    assert!(
        f.summary.contains("may well be on the node"),
        "{}",
        f.summary
    );
    assert!(f.patch.is_none());
}

#[test]
fn successful_registry_pull_is_healthy() {
    let snap = cluster(&[])
        .deploy(Deploy::new("db", "postgres").container("postgres", "postgres:16"))
        .deploy(Deploy::new("db", "latest").container("app", "busybox"))
        .pod("postgres", W, &[("postgres", Fate::Running)])
        .pod("latest", W, &[("app", Fate::Running)])
        .build();
    assert_eq!(diagnose(&snap), vec![]);
}

#[test]
fn digest_references_match_by_digest() {
    let by_digest = format!("docker.io/library/nginx@{SHA}");
    let snap = cluster(&[&by_digest, "docker.io/library/nginx:1.27"])
        .deploy(Deploy::new("default", "a").container_policy("a", &format!("nginx@{SHA}"), "Never"))
        // Tag and digest: the runtime resolves the digest, the tag is ignored.
        .deploy(Deploy::new("default", "b").container_policy(
            "b",
            &format!("nginx:9.9@{SHA}"),
            "Never",
        ))
        .build();
    assert_eq!(diagnose(&snap), vec![]);
}

#[test]
fn a_pinned_digest_is_never_swapped_for_a_tag() {
    let snap = cluster(&["docker.io/library/nginx:1.27"])
        .deploy(Deploy::new("default", "a").container_policy(
            "a",
            &format!("nginx@{SHA2}"),
            "Never",
        ))
        .pod("a", W, &[("a", Fate::never_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::TagMismatch);
    assert_eq!(f.patch, None);
    assert_eq!(f.candidates, vec!["docker.io/library/nginx:1.27"]);
}

#[test]
fn init_container_is_patched_at_its_own_path() {
    let snap = cluster(&[
        "localhost/kubernaut/migrate:debug",
        "docker.io/library/nginx:1.27",
    ])
    .deploy(
        Deploy::new("default", "api")
            .init_container("migrate", "kubernaut/migrate:debug", Some("IfNotPresent"))
            .container("api", "nginx:1.27"),
    )
    .pod(
        "api",
        W,
        &[("migrate", Fate::err_pull()), ("api", Fate::Pending)],
    )
    .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(
        (f.kind, f.container.as_str(), f.init_container),
        (FindingKind::RegistryPrefix, "migrate", true)
    );
    assert_eq!(
        f.patch.as_ref().and_then(|p| p[1]["path"].as_str()),
        Some("/spec/template/spec/initContainers/0/image")
    );
}

#[test]
fn only_the_failing_container_of_two_is_reported() {
    let c = cluster(&[
        "docker.io/library/nginx:1.27",
        "localhost/kubernaut/agent:dev",
    ])
    .deploy(
        Deploy::new("default", "web")
            .container("web", "nginx:1.27")
            .container("agent", "kubernaut/agent:dev"),
    )
    .pod(
        "web",
        W,
        // A bare back-off message (older kubelets) carries no error: the events speak.
        &[("web", Fate::Running), ("agent", Fate::pull_backoff())],
    );
    let pod = c.pod_name(1);
    let snap = c
        .event(
            "default",
            &pod,
            "web",
            false,
            "Failed",
            "unrelated message about web",
        )
        .event(
            "default",
            &pod,
            "agent",
            false,
            "ErrImageNeverPull",
            "agent event",
        )
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.container, "agent");
    assert_eq!(
        f.patch.as_ref().and_then(|p| p[1]["path"].as_str()),
        Some("/spec/template/spec/containers/1/image")
    );
    assert!(f.evidence.iter().any(|e| e == "agent event"));
    assert!(!f.evidence.iter().any(|e| e.contains("about web")));
}

#[test]
fn present_image_with_if_not_present_is_transient_not_a_finding() {
    // The image was loaded after the kubelet last tried; the next retry will find it.
    let snap = cluster(&["localhost/app:dev"])
        .deploy(Deploy::new("default", "app").container_policy("app", "localhost/app:dev", "Never"))
        .pod("app", W, &[("app", Fate::never_pull())])
        .build();
    assert_eq!(diagnose(&snap), vec![]);
}

#[test]
fn pods_of_an_outdated_template_do_not_speak_for_it() {
    let mut c = cluster(&["localhost/kubernaut/gw:debug"])
        .deploy(Deploy::new("default", "gw").container_policy(
            "gw",
            "kubernaut/gw:debug",
            "IfNotPresent",
        ))
        .pod("gw", W, &[("gw", Fate::err_pull())]);
    // Someone fixed the Deployment; the controller has not replaced the pod yet.
    let snap = c.snapshot_mut();
    let d = std::sync::Arc::make_mut(snap.deployments.first_mut().expect("a deployment"));
    let tpl = d
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .expect("template");
    tpl.containers[0].image = Some("localhost/kubernaut/gw:debug".into());
    assert_eq!(diagnose(snap), vec![]);
    // Same for a pull policy fix: old pods with Always no longer count.
    let mut c2 = cluster(&["localhost/kubernaut/tool:latest"])
        .deploy(Deploy::new("default", "tool").container("tool", "localhost/kubernaut/tool"))
        .pod("tool", W, &[("tool", Fate::err_pull())]);
    let snap2 = c2.snapshot_mut();
    let d = std::sync::Arc::make_mut(snap2.deployments.first_mut().expect("a deployment"));
    let tpl = d
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .expect("template");
    tpl.containers[0].image_pull_policy = Some("IfNotPresent".into());
    assert_eq!(diagnose(snap2), vec![]);
}

#[test]
fn namespace_filter_and_healthy_report() {
    let mut snap = cluster(&[])
        .deploy(Deploy::new("default", "x").container_policy("x", "kubernaut/x:debug", "Never"))
        .pod("x", W, &[("x", Fate::never_pull())])
        .build();
    snap.namespace = Some("other".into());
    let r = report(&snap);
    assert!(r.healthy && r.findings.is_empty());
}

/// Every phase of one back-off loop, with the events present, aged out or folded into a
/// `(combined from similar events)` one, reads as the same finding: reruns over an unchanged
/// cluster must agree.
#[test]
fn a_pull_back_off_loop_reads_the_same_in_every_phase() {
    let err = "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/kubernaut/agent:dev\": pull access denied";
    let phases = [
        Fate::waiting("ErrImagePull", err),
        Fate::waiting(
            "ImagePullBackOff",
            &format!("Back-off pulling image \"IMAGE\": ErrImagePull: {err}"),
        ),
    ];
    let events: [&[(&str, String)]; 3] = [
        &[
            (
                "Failed",
                format!("Failed to pull image \"kubernaut/agent:dev\": {err}"),
            ),
            ("Failed", "Error: ErrImagePull".to_string()),
            (
                "BackOff",
                "Back-off pulling image \"kubernaut/agent:dev\"".to_string(),
            ),
        ],
        &[],
        &[(
            "Failed",
            "(combined from similar events): Error: ImagePullBackOff".to_string(),
        )],
    ];
    let mut seen = Vec::new();
    for fate in &phases {
        for evs in events {
            let mut c = cluster(&["localhost/kubernaut/agent:dev"])
                .deploy(Deploy::new("default", "agent").container("agent", "kubernaut/agent:dev"))
                .pod("agent", W, &[("agent", fate.clone())]);
            let pod = c.pod_name(1);
            for (reason, message) in evs {
                c = c.event("default", &pod, "agent", false, reason, message);
            }
            seen.push(diagnose(&c.build()));
        }
    }
    assert_eq!(only(&seen[0]).kind, FindingKind::RegistryPrefix);
    assert_eq!(only(&seen[0]).evidence[0], err);
    for findings in &seen[1..] {
        assert_eq!(findings, &seen[0]);
    }
}
