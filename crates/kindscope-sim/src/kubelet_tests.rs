//! Table tests for the kubelet's image rules: node images, image, policy, registry →
//! waiting reason/message and events.

use tokio::time::Instant;

use super::*;
use crate::clock::Clock;
use crate::nodes::RuntimeImage;
use crate::scenario::ImageSpec;
use kindscope_core::imageref::ImageRef;

fn images(names: &[&str]) -> Vec<RuntimeImage> {
    names
        .iter()
        .map(|n| {
            RuntimeImage::from_spec(&ImageSpec {
                names: vec![n.to_string()],
                id: None,
                size: Some(158_432_000),
                digest: None,
            })
            .expect("valid")
        })
        .collect()
}

struct Outcome {
    reason: String,
    message: String,
    events: Vec<(String, String, String)>,
    pulled: Vec<RuntimeImage>,
    /// Simulated milliseconds at which each `Pulling` event happened.
    pulls_at: Vec<u64>,
}

/// Drive one container until it runs or has gone through `cycles` back-off rounds, jumping
/// simulated time straight to each `next_at` (no waiting).
fn drive(
    node: &[RuntimeImage],
    image: &str,
    policy: PullPolicy,
    registry: &[RuntimeImage],
    cycles: usize,
) -> Outcome {
    let start = Instant::now();
    let mut c = Ctr::new("c", image, policy, false, start);
    let node = node.to_vec();
    let on_node = move |r: &ImageRef| node.iter().find(|i| i.matches(r)).cloned();
    let ctx = StepCtx {
        clock: Clock::real_time(),
        on_node: &on_node,
        registry,
        dns_server: "10.89.0.1:53",
        pod_uid: "u",
    };
    let mut out = Outcome {
        reason: String::new(),
        message: String::new(),
        events: Vec::new(),
        pulled: Vec::new(),
        pulls_at: Vec::new(),
    };
    let mut settled = 0;
    for _ in 0..100 {
        let Some(now) = c.next_at else { break };
        for f in c.step(&ctx, now) {
            match f {
                Effect::Event(t, r, m) => {
                    if r == "Pulling" {
                        out.pulls_at.push((now - start).as_millis() as u64);
                    }
                    out.events.push((t.to_string(), r.to_string(), m));
                }
                Effect::ImagePulled(i) => out.pulled.push(i),
            }
        }
        if let CState::Waiting { reason, message } = &c.state {
            out.reason = reason.clone();
            out.message = message.clone().unwrap_or_default();
            if matches!(
                reason.as_str(),
                "ErrImageNeverPull" | "InvalidImageName" | "ImagePullBackOff"
            ) {
                settled += 1;
                if settled >= cycles {
                    break;
                }
            }
        }
        if c.running() {
            out.reason = "Running".into();
            break;
        }
    }
    out
}

fn ev(t: &str, r: &str, m: &str) -> (String, String, String) {
    (t.into(), r.into(), m.into())
}

#[test]
fn never_pull_when_absent() {
    let o = drive(
        &images(&["localhost/kubernaut/gateway:debug"]),
        "kubernaut/gateway:debug",
        PullPolicy::Never,
        &[],
        1,
    );
    let msg =
        "Container image \"kubernaut/gateway:debug\" is not present with pull policy of Never";
    assert_eq!(
        (o.reason.as_str(), o.message.as_str()),
        ("ErrImageNeverPull", msg)
    );
    assert_eq!(
        o.events,
        vec![
            ev("Warning", "ErrImageNeverPull", msg),
            ev("Warning", "Failed", "Error: ErrImageNeverPull")
        ]
    );
}

#[test]
fn present_runs_with_if_not_present_or_never() {
    for policy in [PullPolicy::IfNotPresent, PullPolicy::Never] {
        let o = drive(
            &images(&["docker.io/library/nginx:1.27"]),
            "nginx:1.27",
            policy,
            &[],
            1,
        );
        assert_eq!(o.reason, "Running", "{policy:?}");
        assert_eq!(
            o.events,
            vec![
                ev(
                    "Normal",
                    "Pulled",
                    "Container image \"nginx:1.27\" already present on machine"
                ),
                ev("Normal", "Created", "Created container: c"),
                ev("Normal", "Started", "Started container c"),
            ]
        );
        assert!(o.pulled.is_empty());
    }
}

#[test]
fn always_pulls_even_when_present_and_fails_outside_the_registry() {
    // The pull-policy finding: on the node as localhost/app:latest, `localhost/app` defaults to Always.
    let policy = PullPolicy::of(None, "localhost/app");
    assert_eq!(policy, PullPolicy::Always);
    let o = drive(
        &images(&["localhost/app:latest"]),
        "localhost/app",
        policy,
        &[],
        1,
    );
    let err = "rpc error: code = Unknown desc = failed to pull and unpack image \"localhost/app:latest\": failed to resolve reference \"localhost/app:latest\": failed to do request: Head \"https://localhost/v2/app/manifests/latest\": dial tcp [::1]:443: connect: connection refused";
    assert_eq!(o.reason, "ImagePullBackOff");
    assert_eq!(
        o.message,
        format!("Back-off pulling image \"localhost/app\": ErrImagePull: {err}")
    );
    assert_eq!(
        o.events,
        vec![
            ev("Normal", "Pulling", "Pulling image \"localhost/app\""),
            ev(
                "Warning",
                "Failed",
                &format!("Failed to pull image \"localhost/app\": {err}")
            ),
            ev("Warning", "Failed", "Error: ErrImagePull"),
            ev(
                "Normal",
                "BackOff",
                "Back-off pulling image \"localhost/app\""
            ),
            ev("Warning", "Failed", "Error: ImagePullBackOff"),
        ]
    );
}

#[test]
fn registry_pull_succeeds_and_adds_the_image() {
    let registry = images(&["docker.io/library/postgres:16"]);
    let o = drive(
        &images(&[]),
        "postgres:16",
        PullPolicy::IfNotPresent,
        &registry,
        1,
    );
    assert_eq!(o.reason, "Running");
    let reasons: Vec<&str> = o.events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(reasons, ["Pulling", "Pulled", "Created", "Started"]);
    assert_eq!(
        o.events[1].2,
        "Successfully pulled image \"postgres:16\" in 2.48s (2.48s including waiting). Image size: 158432000 bytes."
    );
    assert_eq!(o.pulled.len(), 1);
    assert_eq!(o.pulled[0].repo_tags, ["docker.io/library/postgres:16"]);
    assert!(o.pulled[0].repo_digests[0].starts_with("docker.io/library/postgres@sha256:"));
    // Always pulls even when present.
    let o = drive(
        &images(&["docker.io/library/postgres:16"]),
        "postgres:16",
        PullPolicy::Always,
        &registry,
        1,
    );
    assert_eq!(o.events[0].1, "Pulling");
    assert_eq!(o.reason, "Running");
}

#[test]
fn pull_errors_are_worded_by_registry() {
    let registry = images(&["docker.io/library/postgres:16"]);
    let rows = [
        (
            "kubernaut/gateway:debug",
            "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/kubernaut/gateway:debug\": failed to resolve reference \"docker.io/kubernaut/gateway:debug\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        ),
        (
            "postgres:99",
            "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/postgres:99\": failed to resolve reference \"docker.io/library/postgres:99\": docker.io/library/postgres:99: not found",
        ),
        (
            "registry.example.com/team/app:1",
            "rpc error: code = Unknown desc = failed to pull and unpack image \"registry.example.com/team/app:1\": failed to resolve reference \"registry.example.com/team/app:1\": failed to do request: Head \"https://registry.example.com/v2/team/app/manifests/1\": dial tcp: lookup registry.example.com on 10.89.0.1:53: no such host",
        ),
        (
            "localhost:5001/app:dev",
            "rpc error: code = Unknown desc = failed to pull and unpack image \"localhost:5001/app:dev\": failed to resolve reference \"localhost:5001/app:dev\": failed to do request: Head \"https://localhost:5001/v2/app/manifests/dev\": dial tcp [::1]:5001: connect: connection refused",
        ),
        (
            "ghcr.io/org/app:v2",
            "rpc error: code = NotFound desc = failed to pull and unpack image \"ghcr.io/org/app:v2\": failed to resolve reference \"ghcr.io/org/app:v2\": ghcr.io/org/app:v2: not found",
        ),
    ];
    for (image, err) in rows {
        let o = drive(&[], image, PullPolicy::IfNotPresent, &registry, 1);
        assert_eq!(
            o.events[1].2,
            format!("Failed to pull image \"{image}\": {err}"),
            "{image}"
        );
        assert_eq!(o.reason, "ImagePullBackOff", "{image}");
    }
}

#[test]
fn invalid_names_are_refused_before_the_policy() {
    for policy in [
        PullPolicy::Never,
        PullPolicy::IfNotPresent,
        PullPolicy::Always,
    ] {
        let o = drive(&[], "localhost:5000/app:", policy, &[], 1);
        let msg = "Failed to apply default image tag \"localhost:5000/app:\": couldn't parse image name \"localhost:5000/app:\": invalid reference format";
        assert_eq!(
            (o.reason.as_str(), o.message.as_str()),
            ("InvalidImageName", msg)
        );
        assert_eq!(
            o.events,
            vec![
                ev("Warning", "InspectFailed", msg),
                ev("Warning", "Failed", "Error: InvalidImageName")
            ]
        );
    }
    let o = drive(
        &[],
        "kubernaut/Gateway:debug",
        PullPolicy::IfNotPresent,
        &[],
        1,
    );
    assert_eq!(o.reason, "InvalidImageName");
    assert!(o.message.starts_with("Failed to apply default image tag \"kubernaut/Gateway:debug\": couldn't parse image name \"kubernaut/Gateway:debug\": invalid reference format"), "{}", o.message);
}

#[test]
fn digest_references_match_repo_digests() {
    let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let node = vec![
        RuntimeImage::from_spec(&ImageSpec {
            names: vec!["nginx:1.27".into()],
            id: None,
            size: Some(1),
            digest: Some(d.into()),
        })
        .expect("valid"),
    ];
    let o = drive(
        &node,
        &format!("nginx@{d}"),
        PullPolicy::IfNotPresent,
        &[],
        1,
    );
    assert_eq!(o.reason, "Running");
}

#[test]
fn pull_back_off_doubles_to_five_minutes() {
    assert_eq!(next_backoff(None), BACKOFF_INITIAL);
    let mut b = None;
    let seq: Vec<u64> = (0..7)
        .map(|_| {
            let n = next_backoff(b);
            b = Some(n);
            n.as_secs()
        })
        .collect();
    assert_eq!(seq, [10, 20, 40, 80, 160, 300, 300]);
    // Driven: each back-off counts from the failure, which comes 0.6 s after the pull starts.
    let o = drive(
        &[],
        "kubernaut/gateway:debug",
        PullPolicy::IfNotPresent,
        &[],
        4,
    );
    let gaps: Vec<u64> = o.pulls_at.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, [10_600, 20_600, 40_600], "pulls at {:?}", o.pulls_at);
    let backoffs = o.events.iter().filter(|e| e.1 == "BackOff").count();
    assert_eq!(backoffs, 4);
}

#[test]
fn never_pull_retries_with_growing_gaps() {
    let o = drive(&[], "kubernaut/gateway:debug", PullPolicy::Never, &[], 3);
    assert_eq!(
        o.events
            .iter()
            .filter(|e| e.1 == "ErrImageNeverPull")
            .count(),
        3
    );
}
