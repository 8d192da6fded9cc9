//! Known before claimed, on the dashboard: until every required list has loaded it says it is
//! connecting, then what it is still loading (with the elapsed time), never the all-clear and
//! never empty panes; with every list loaded, pods that have not started yet are shown as
//! "N pods starting" instead of the all-clear. Rendered with ratatui's TestBackend (insta).

use crate::support::tui_fixtures;

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ContainerState, ContainerStateWaiting};
use kindscope::diagnose::{Pending, Report};
use kindscope::model::{ResourceState, Snapshot};
use kindscope::tui::{Action, App, Options};
use tui_fixtures::*;

const ALL_CLEAR: &str = "No image mismatches";

fn postgres_starting() -> Pending {
    Pending {
        namespace: "default".into(),
        workload: "Deployment/postgres".into(),
        pod: Some("postgres-5c7d9f8b4-kq7lm".into()),
        container: "postgres".into(),
        init_container: false,
        image: "docker.io/library/postgres:16".into(),
        node: Some(WORKER.into()),
        reason: "ContainerCreating".into(),
        // 12 s before the tests' clock.
        since: Some("2025-12-24T07:59:48Z".into()),
        similar_on_node: vec!["docker.io/library/postgres:16".into()],
    }
}

/// Options whose diagnosis finds nothing and reports `pending` as still starting.
fn options_with(pending: Vec<Pending>) -> Options {
    let mut o = options(kind_write());
    o.diagnose = Arc::new(move |snap: &Snapshot| Report {
        context: snap.context.clone(),
        healthy: pending.is_empty(),
        findings: vec![],
        pending: pending.clone(),
    });
    o
}

fn app_on(opts: Options, snap: Snapshot, width: u16, height: u16) -> App {
    let mut app = App::new(opts);
    app.now = NOW;
    app.update(Action::Resize { width, height });
    app.update(Action::Snapshot(Arc::new(snap)));
    app
}

/// The story's cluster with its postgres pod still being created.
fn postgres_creating() -> Snapshot {
    let mut snap = gateway_debug();
    snap.pods.for_each_mut(|pod| {
        let pod = Arc::make_mut(pod);
        if pod.metadata.name.as_deref() != Some("postgres-5c7d9f8b4-kq7lm") {
            return;
        }
        if let Some(status) = pod.status.as_mut() {
            status.phase = Some("Pending".into());
            for c in status.container_statuses.iter_mut().flatten() {
                c.ready = false;
                c.state = Some(ContainerState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some("ContainerCreating".into()),
                        message: None,
                    }),
                    ..Default::default()
                });
            }
        }
    });
    snap
}

/// The story's cluster without any finding, with `loading` not listed yet (and so empty).
fn partly_loaded(loading: &[&str]) -> Snapshot {
    let mut snap = gateway_debug();
    for r in loading {
        let resource = kindscope::model::Resource::parse(r).expect("a watched resource");
        snap.resources.insert(resource, ResourceState::Loading);
        match *r {
            "pods" => snap.pods.clear(),
            "deployments" => snap.deployments.clear(),
            "replicasets" => snap.replicasets.clear(),
            "nodes" => {
                snap.nodes.clear();
                Arc::make_mut(&mut snap.node_images).clear();
            }
            _ => {}
        }
    }
    snap
}

#[test]
fn connecting_names_the_context_and_server_with_the_elapsed_time() {
    let mut opts = options_with(vec![]);
    opts.cluster = Some((
        "kind-gateway-debug".into(),
        "https://127.0.0.1:41234".into(),
    ));
    let mut app = App::new(opts);
    app.now = NOW + 4;
    app.update(Action::Resize {
        width: 160,
        height: 30,
    });
    let screen = render(&app);
    assert!(
        screen.contains("Connecting to kind-gateway-debug (https://127.0.0.1:41234)… 4s"),
        "{screen}"
    );
    assert!(!screen.contains(ALL_CLEAR), "{screen}");
    assert!(app.animating(), "the elapsed time ticks while connecting");
    insta::assert_snapshot!("connecting", screen);
}

#[test]
fn loading_says_which_lists_are_still_coming_and_panes_are_not_empty() {
    // The first snapshot of a feed: context known, nothing listed yet → still connecting.
    let mut snap = partly_loaded(&["nodes", "pods", "deployments", "replicasets", "events"]);
    snap.events.clear();
    let mut app = app_on(options_with(vec![]), snap, 160, 30);
    app.now = NOW + 2;
    let screen = render(&app);
    assert!(
        screen.contains("Connecting to kind-gateway-debug (https://127.0.0.1:41234)… 2s"),
        "{screen}"
    );
    // Nodes listed, pods and Deployments still loading.
    let mut app = app_on(
        options_with(vec![]),
        partly_loaded(&["pods", "deployments"]),
        160,
        30,
    );
    app.now = NOW + 3;
    let screen = render(&app);
    assert!(screen.contains("Loading pods, deployments… 3s"), "{screen}");
    assert!(
        screen.contains("Loading pods…"),
        "the pods pane says so: {screen}"
    );
    assert!(
        screen.contains("Loading deployments…"),
        "the workloads pane says so: {screen}"
    );
    assert!(!screen.contains("No pods."), "{screen}");
    assert!(!screen.contains(ALL_CLEAR), "{screen}");
    insta::assert_snapshot!("loading_lists", screen);
}

#[test]
fn pods_starting_instead_of_the_all_clear_until_they_run() {
    let mut app = app_on(
        options_with(vec![postgres_starting()]),
        postgres_creating(),
        160,
        30,
    );
    let screen = render(&app);
    assert!(!screen.contains(ALL_CLEAR), "{screen}");
    assert!(screen.contains("Findings (0) · 1 pod starting"), "{screen}");
    assert!(
        screen.contains("⧗ default/postgres-5c7d9f8b4-kq7lm [postgres] docker.io/library/postgres:16 ContainerCreating 12s"),
        "the pending pod is visible: {screen}"
    );
    insta::assert_snapshot!("pods_starting", screen);

    // The next snapshot: it runs. Now, and only now, the all-clear.
    let mut opts = options_with(vec![]);
    opts.clock = fixed_clock;
    app = app_on(opts, gateway_debug(), 160, 30);
    let screen = render(&app);
    assert!(screen.contains(ALL_CLEAR), "{screen}");
    assert!(!screen.contains("starting"), "{screen}");
}

#[test]
fn starting_pods_are_counted_per_pod_and_filtered_by_namespace() {
    let mut init = postgres_starting();
    init.container = "migrate".into();
    init.init_container = true;
    let mut other = postgres_starting();
    other.namespace = "shop".into();
    other.pod = None;
    other.workload = "Deployment/cart".into();
    other.reason = "PodNotCreated".into();
    let mut app = app_on(
        options_with(vec![postgres_starting(), init, other]),
        gateway_debug(),
        160,
        30,
    );
    // Two containers of one pod, plus a Deployment whose pod is not created yet.
    assert_eq!(App::starting_pods(&app.starting_in_view()), 2);
    assert!(render(&app).contains("2 pods starting"));
    app.namespace = Some("default".into());
    assert_eq!(App::starting_pods(&app.starting_in_view()), 1);
}

#[test]
fn a_forbidden_required_list_never_reads_as_all_clear() {
    let mut snap = gateway_debug();
    snap.resources.insert(
        kindscope::model::Resource::Pods,
        ResourceState::Forbidden {
            reason: "403".into(),
        },
    );
    snap.pods.clear();
    let app = app_on(options_with(vec![]), snap, 160, 30);
    let screen = render(&app);
    assert!(!screen.contains(ALL_CLEAR), "{screen}");
    assert!(
        screen.contains("No verdict: kindscope may not list pods."),
        "{screen}"
    );
}

#[test]
fn one_app_through_loading_starting_and_running() {
    // The diagnosis a real cluster would give: the pod is pending while it is being created.
    let mut opts = options(kind_write());
    opts.diagnose = Arc::new(|snap: &Snapshot| {
        let creating = snap.pods.iter().any(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.state
                            .as_ref()
                            .and_then(|s| s.waiting.as_ref())
                            .and_then(|w| w.reason.as_deref())
                            == Some("ContainerCreating")
                    })
                })
        });
        let pending = if creating {
            vec![postgres_starting()]
        } else {
            vec![]
        };
        Report {
            context: snap.context.clone(),
            healthy: pending.is_empty(),
            findings: vec![],
            pending,
        }
    });
    let mut app = App::new(opts);
    app.now = NOW;
    app.update(Action::Resize {
        width: 160,
        height: 30,
    });
    let mut seen = Vec::new();
    for snap in [
        partly_loaded(&["nodes", "pods", "deployments", "replicasets", "events"]),
        partly_loaded(&["pods"]),
        postgres_creating(),
        gateway_debug(),
    ] {
        app.update(Action::Snapshot(Arc::new(snap)));
        let screen = render(&app);
        seen.push((
            screen.contains("Connecting to"),
            screen.contains("Loading pods…"),
            screen.contains("1 pod starting"),
            screen.contains(ALL_CLEAR),
        ));
    }
    assert_eq!(
        seen,
        [
            (true, true, false, false),
            (false, true, false, false),
            (false, false, true, false),
            (false, false, false, true),
        ]
    );
    assert!(!app.animating(), "nothing ticks once everything has loaded");
}

/// At scale the events list comes last and longest: pods and findings are shown as soon as the
/// required lists are in, and the events pane says that events are still loading.
#[test]
fn pods_and_findings_come_before_the_events() {
    let mut snap = gateway_debug();
    snap.events.clear();
    snap.resources
        .insert(kindscope::model::Resource::Events, ResourceState::Loading);
    let mut app = app_on(options(kind_write()), snap, 160, 45);
    assert!(app.ready(), "events are not required for a verdict");
    assert!(!app.findings.is_empty());
    app.update(Action::FocusPrev);
    let screen = render(&app);
    assert!(screen.contains("Loading events…"), "{screen}");
    assert!(screen.contains("datastorage"), "{screen}");
    assert!(!screen.contains("Loading pods"), "{screen}");
}
