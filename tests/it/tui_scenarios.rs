//! Every scenario in assets/scenarios/ run in the sim, read through the real cluster feed and
//! judged by the real `diagnose`, drawn at the five sizes an engineer's terminal has
//! (200×50 … 80×24): insta snapshots of each, and a walk through every finding (`]`) asserting
//! that its asked-for image, suggested image and nodes appear unelided on screen.
//!
//! The sim runs in real time, so what depends on when the snapshot was taken is made fixed
//! before drawing: timestamps, generated pod-name suffixes, event counts and the server's port.
//! Everything else (names, images, statuses, findings) is the sim's and the core's own.

use crate::support::tui_fixtures;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kindscope::model::{ResourceState, Snapshot};
use kindscope::tui::{Action, App, Options};
use tui_fixtures::{NOW, fixed_clock, kind_write, render};

const SIZES: [(u16, u16); 5] = [(200, 50), (160, 45), (120, 40), (100, 30), (80, 24)];
const WAIT: Duration = Duration::from_secs(90);

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("assets/scenarios")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Settled: every list live, every container running or refused for good (not still being
/// created, not between two pull attempts), nothing pending, Deployments caught up.
fn settled(s: &Snapshot) -> bool {
    let live = ["deployments", "events", "nodes", "pods", "replicasets"]
        .iter()
        .all(|r| matches!(s.resources.get(*r), Some(ResourceState::Live)));
    let transient = ["ContainerCreating", "PodInitializing", "ErrImagePull"];
    let pods_done = !s.pods.is_empty()
        && s.pods.iter().all(|p| {
            let st = p.status.as_ref();
            let cs: Vec<_> = st
                .into_iter()
                .flat_map(|st| {
                    st.init_container_statuses
                        .iter()
                        .flatten()
                        .chain(st.container_statuses.iter().flatten())
                })
                .collect();
            !cs.is_empty()
                && cs.iter().all(|c| match c.state.as_ref() {
                    Some(state) => match &state.waiting {
                        Some(w) => w.reason.as_deref().is_some_and(|r| !transient.contains(&r)),
                        None => state.running.is_some() || state.terminated.is_some(),
                    },
                    None => false,
                })
        });
    // Caught up: all updated, and ready unless one of its pods is refused.
    let refused = |ns: &str, name: &str| {
        s.pods.iter().any(|p| {
            p.metadata.namespace.as_deref() == Some(ns)
                && p.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(&format!("{name}-")))
                && p.status
                    .as_ref()
                    .and_then(|st| st.container_statuses.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.state.as_ref().is_some_and(|st| st.waiting.is_some()))
                    })
        })
    };
    let deployments_done = s.deployments.iter().all(|d| {
        let want = d.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
        let ns = d.metadata.namespace.as_deref().unwrap_or("");
        let name = d.metadata.name.as_deref().unwrap_or("");
        d.status.as_ref().is_some_and(|st| {
            st.updated_replicas.unwrap_or(0) >= want
                && (st.ready_replicas.unwrap_or(0) >= want || refused(ns, name))
        })
    });
    // A pulled image is in its node's list (the kubelet reports it a little later), unless the
    // list is capped (then it may never be).
    let pulled_listed = s.pods.iter().all(|p| {
        let node = p.spec.as_ref().and_then(|sp| sp.node_name.as_deref());
        let Some(list) = node.and_then(|n| s.node_images.get(n)) else {
            return true;
        };
        if list.api_capped {
            return true;
        }
        let running = p
            .status
            .as_ref()
            .and_then(|st| st.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .filter(|c| c.state.as_ref().is_some_and(|st| st.running.is_some()));
        running.into_iter().all(|c| {
            let want = kindscope::imageref::ImageRef::parse(&c.image).map(|r| r.full());
            list.images.iter().any(|i| {
                i.names.iter().any(|n| {
                    kindscope::imageref::ImageRef::parse(n)
                        .map(|r| r.full())
                        .ok()
                        == want.clone().ok()
                })
            })
        })
    });
    // A pod in pull back-off has been through a whole cycle (its BackOff event is in): more
    // cycles only repeat the same events.
    let backoff_seen = s.pods.iter().all(|p| {
        let backing_off = p
            .status
            .as_ref()
            .and_then(|st| st.container_statuses.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.state
                        .as_ref()
                        .and_then(|st| st.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("ImagePullBackOff")
                })
            });
        !backing_off
            || s.events.iter().any(|e| {
                e.reason.as_deref() == Some("BackOff") && e.involved_object.name == p.metadata.name
            })
    });
    // A container refused for good has had its kubelet's events (the `Failed` one comes last,
    // `Error: REASON`): the events list can lag the pod's status on a loaded machine.
    let refusal_told = s.pods.iter().all(|p| {
        let refused = p
            .status
            .as_ref()
            .and_then(|st| st.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
            .filter(|r| ["ErrImageNeverPull", "InvalidImageName"].contains(r));
        refused.into_iter().all(|reason| {
            s.events.iter().any(|e| {
                e.reason.as_deref() == Some("Failed")
                    && e.involved_object.name == p.metadata.name
                    && e.message.as_deref() == Some(&format!("Error: {reason}"))
            })
        })
    });
    live && pods_done
        && deployments_done
        && refusal_told
        && backoff_seen
        && pulled_listed
        && kindscope::diagnose::report(s).pending.is_empty()
}

/// The time- and run-dependent parts made fixed (see the module comment).
fn normalise(snap: &Snapshot) -> Snapshot {
    let mut s = snap.clone();
    s.server = "https://127.0.0.1:6443".into();
    let created = Time(k8s_openapi::jiff::Timestamp::from_second(NOW - 300).expect("time"));
    let seen = Time(k8s_openapi::jiff::Timestamp::from_second(NOW - 60).expect("time"));
    // Generated names: `PREFIX` + five random letters → `PREFIX` + a letter per pod.
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut pods: Vec<_> = s.pods.iter().map(|p| (**p).clone()).collect();
    // Replicas are told apart by their node (random suffixes sort at random).
    pods.sort_by_key(|p| {
        (
            p.metadata.namespace.clone(),
            p.metadata.generate_name.clone(),
            p.spec.as_ref().and_then(|sp| sp.node_name.clone()),
            p.metadata.name.clone(),
        )
    });
    for (i, p) in pods.iter_mut().enumerate() {
        if let (Some(prefix), Some(name)) = (&p.metadata.generate_name, &p.metadata.name)
            && name.starts_with(prefix.as_str())
        {
            let new = format!("{prefix}pod{i:02}");
            renames.push((name.clone(), new.clone()));
            p.metadata.name = Some(new);
        }
        p.metadata.creation_timestamp = Some(created.clone());
    }
    let rename = |text: &str| {
        renames
            .iter()
            .fold(text.to_string(), |t, (old, new)| t.replace(old, new))
    };
    let mut events: Vec<_> = s.events.iter().map(|e| (**e).clone()).collect();
    for e in &mut events {
        e.involved_object.name = e.involved_object.name.as_deref().map(rename);
        e.message = e.message.as_deref().map(rename);
        e.metadata.name = e.metadata.name.as_deref().map(rename);
        e.count = Some(1);
        e.series = None;
        e.last_timestamp = Some(seen.clone());
        e.first_timestamp = Some(seen.clone());
        e.event_time = e.event_time.as_ref().map(|_| MicroTime(seen.0));
        e.metadata.creation_timestamp = Some(seen.clone());
    }
    events.sort_by_key(|e| {
        (
            e.involved_object.name.clone(),
            e.reason.clone(),
            e.message.clone(),
        )
    });
    events.dedup_by_key(|e| {
        (
            e.involved_object.name.clone(),
            e.reason.clone(),
            e.message.clone(),
        )
    });
    s.pods = pods.into_iter().map(Arc::new).collect();
    s.events = events.into_iter().map(Arc::new).collect();
    s
}

async fn settle(path: &Path) -> Snapshot {
    let (sim, conn, _dir) = crate::support::feed::scenario_sim(path).await;
    let feed = kindscope::cluster::watch::start(&conn);
    let mut rx = feed.snapshots();
    let deadline = tokio::time::Instant::now() + WAIT;
    let snap = loop {
        let snap = rx.borrow_and_update().clone();
        if settled(&snap) {
            break snap;
        }
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .unwrap_or_else(|_| panic!("{} did not settle: {:#?}", path.display(), snap.pods))
            .expect("feed alive");
    };
    let out = normalise(&snap);
    drop(feed);
    sim.shutdown().await;
    out
}

/// (scenario name, settled snapshot) for every scenario, built once for both tests.
fn snapshots() -> &'static [(String, Snapshot)] {
    static ALL: OnceLock<Vec<(String, Snapshot)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        scenario_files()
            .iter()
            .map(|p| {
                let name = p
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("name")
                    .to_string();
                (name, rt.block_on(settle(p)))
            })
            .collect()
    })
}

fn app(snap: &Snapshot, width: u16, height: u16) -> App {
    let mut opts = Options::new(kind_write());
    opts.clock = fixed_clock;
    opts.clipboard = |_| Ok(());
    let mut app = App::new(opts);
    app.now = NOW;
    app.update(Action::Resize { width, height });
    app.update(Action::Snapshot(Arc::new(snap.clone())));
    app
}

fn next_finding(app: &mut App) {
    let ev = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(']'));
    let action = kindscope::tui::keymap::map_key(app, ev).expect("] is bound");
    app.update(action);
}

#[test]
fn every_scenario_at_every_size() {
    let all = snapshots();
    assert_eq!(all.len(), scenario_files().len());
    for (name, snap) in all {
        for (w, h) in SIZES {
            let app = app(snap, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&app));
        }
    }
}

#[test]
fn every_finding_shows_its_images_and_nodes_unelided_at_every_size() {
    let mut walked = 0;
    for (name, snap) in snapshots() {
        let findings = kindscope::diagnose::diagnose(snap);
        for (w, h) in SIZES {
            let mut app = app(snap, w, h);
            assert_eq!(app.view.findings.len(), findings.len(), "{name}");
            // The first finding is selected at start; `]` goes to each next one.
            for i in 0..findings.len() {
                if i > 0 {
                    next_finding(&mut app);
                }
                let f = &app.view.findings[i];
                assert_eq!(
                    app.selected_finding(),
                    Some(f),
                    "{name} {w}x{h}: ] selects finding {i}"
                );
                let screen = render(&app);
                let mut wanted = vec![f.image.clone()];
                wanted.extend(f.suggested_image.clone());
                wanted.extend(f.nodes.iter().cloned());
                for s in wanted.iter().filter(|s| !s.is_empty()) {
                    assert!(
                        screen.lines().any(|l| l.contains(s.as_str())),
                        "{name} at {w}x{h}, finding {i} ({}): {s} is not whole on screen:\n{screen}",
                        f.kind.as_str()
                    );
                }
                walked += 1;
            }
        }
    }
    assert!(
        walked >= 5 * 8,
        "every scenario but healthy has a finding ({walked})"
    );
}
