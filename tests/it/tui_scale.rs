//! 5,000 pods on screen: rows are derived once per snapshot and only the visible ones are
//! drawn, the last pod reachable by key. Prints the timings (reported in the closing note).

use crate::support::tui_fixtures;

use std::sync::Arc;
use std::time::Instant;

use kindscope::tui::{Action, Pane};
use serde_json::json;
use tui_fixtures::*;

fn big_snapshot(pods: usize) -> kindscope::model::Snapshot {
    let mut snap = gateway_debug();
    for i in 0..pods {
        let name = format!("load-{:04}-7d9f8b4c5-{i:05}", i % 200);
        snap.pods.push(Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": format!("ns-{}", i % 20),
                    "creationTimestamp": "2025-12-24T07:00:00Z"},
                "spec": {"nodeName": WORKER, "containers": [{"name": "app", "image": "nginx:1.27"}]},
                "status": {"phase": "Running"}
            }))
            .expect("pod"),
        ));
    }
    snap
}

#[test]
fn five_thousand_pods_render_quickly() {
    let snap = big_snapshot(5_000);
    let t = Instant::now();
    let mut app = app_with(snap, kind_write(), 160, 50);
    let first = t.elapsed();
    let t = Instant::now();
    let screen = render(&app);
    let frame = t.elapsed();
    assert!(screen.contains("datastorage"), "{screen}");

    // Key → frame: move to the end of the pod list and draw.
    app.update(Action::FocusPrev);
    assert_eq!(app.focus, Pane::Pods);
    let t = Instant::now();
    app.update(Action::Bottom);
    let screen = render(&app);
    let key_frame = t.elapsed();
    let last = &app.view.pods.last().expect("pods").name;
    let tail: String = last.chars().skip(last.len() - 12).collect();
    assert!(
        screen.contains(&tail),
        "the last pod {last} is visible:\n{screen}"
    );
    eprintln!(
        "5,000 pods: snapshot → view {first:?}, first frame {frame:?}, key → frame {key_frame:?}"
    );
    // No bound on the times: a busy machine would fail it, not the code. The figures are
    // printed for the closing note; key-to-frame is measured by bench/run.sh (docs/performance.md).
}
