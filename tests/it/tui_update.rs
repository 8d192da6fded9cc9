//! `App::update` and the key map: keys → actions → state and effects, on the gateway-debug
//! story. No terminal involved.

use crate::support::tui_fixtures;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kindscope::fix::Target;
use kindscope::tui::app::{DialogStatus, Overlay};
use kindscope::tui::{Action, App, Effect, FollowOutcome, Pane, PortEvent, Request, keymap};
use tui_fixtures::*;

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    let action = keymap::map_key(app, KeyEvent::from(code))?;
    app.update(action)
}

fn ch(app: &mut App, c: char) -> Option<Effect> {
    press(app, KeyCode::Char(c))
}

fn target(name: &str) -> Target {
    Target {
        kind: "Deployment".into(),
        namespace: "default".into(),
        name: name.into(),
    }
}

fn selected_workload(app: &App) -> String {
    let (key, container) = app.selected_workload().expect("a workload is selected");
    format!("{}/{}", key.name, container.map(|c| c.0).unwrap_or("-"))
}

#[test]
fn start_selects_the_first_finding_and_links_its_pod() {
    let app = app(160, 40);
    assert_eq!(selected_workload(&app), "datastorage/datastorage");
    let pod = &app.view.pods[app.pane(Pane::Pods).selected];
    assert_eq!(pod.name, DS_POD);
    let finding = app.selected_finding().expect("finding selected");
    assert_eq!(finding.workload, "Deployment/datastorage");
    assert_eq!(
        app.wanted_images(),
        vec!["kubernaut/datastorage:debug".to_string()]
    );
}

#[test]
fn f_then_y_applies_the_exact_node_name() {
    let mut app = app(160, 40);
    assert_eq!(ch(&mut app, 'f'), None);
    assert!(matches!(app.overlay, Overlay::Fix(_)));
    let Some(Effect::Apply(plan)) = ch(&mut app, 'y') else {
        panic!("y must apply the plan");
    };
    assert_eq!(plan.target, target("datastorage"));
    assert_eq!(plan.image_after, "localhost/kubernaut/datastorage:debug");
    assert_eq!(plan.pull_policy_before.as_deref(), Some("Never"));
    let Overlay::Fix(d) = &app.overlay else {
        panic!("dialog stays open while sending");
    };
    assert_eq!(d.status, DialogStatus::Sending);
    assert!(app.animating());
    // A second y while sending does not send twice.
    assert_eq!(ch(&mut app, 'y'), None);
}

#[test]
fn enter_applies_and_esc_cancels() {
    let mut app = app(160, 40);
    ch(&mut app, 'f');
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert!(matches!(app.overlay, Overlay::None));
    ch(&mut app, 'f');
    assert!(matches!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::Apply(_))
    ));
}

#[test]
fn read_only_never_applies() {
    let mut app = app_with(gateway_debug(), read_only(), 160, 40);
    ch(&mut app, 'f');
    assert!(matches!(app.overlay, Overlay::Fix(_)));
    assert_eq!(ch(&mut app, 'y'), None);
    assert_eq!(press(&mut app, KeyCode::Enter), None);
}

#[test]
fn successful_rollout_moves_to_the_next_finding_and_enables_undo() {
    let mut app = app(160, 40);
    ch(&mut app, 'f');
    let Some(Effect::Apply(plan)) = ch(&mut app, 'y') else {
        panic!("apply");
    };
    app.update(Action::Port(PortEvent::Applied {
        target: target("datastorage"),
        undo: false,
    }));
    assert!(
        matches!(app.overlay, Overlay::None),
        "dialog closes once patched"
    );
    assert!(app.animating(), "rollout spinner runs");
    app.update(Action::Port(PortEvent::RolloutDone {
        target: target("datastorage"),
        outcome: FollowOutcome::Running,
    }));
    assert!(!app.animating());
    assert_eq!(selected_workload(&app), "gateway/gateway");
    assert_eq!(app.view.pods[app.pane(Pane::Pods).selected].name, GW_POD);
    assert_eq!(app.last_fix.as_ref(), Some(&plan));

    // u asks first (and reads the journal again), then sends the undo patch.
    assert_eq!(ch(&mut app, 'u'), Some(Effect::Port(Request::UndoHistory)));
    assert!(matches!(app.overlay, Overlay::Undo(_)));
    assert_eq!(ch(&mut app, 'y'), Some(Effect::Undo(plan)));
}

#[test]
fn failed_patch_stays_in_the_dialog_and_can_be_retried() {
    let mut app = app(160, 40);
    ch(&mut app, 'f');
    ch(&mut app, 'y');
    app.update(Action::Port(PortEvent::ApplyFailed {
        target: target("datastorage"),
        undo: false,
        message: "422".into(),
    }));
    let Overlay::Fix(d) = &app.overlay else {
        panic!("dialog stays");
    };
    assert_eq!(d.status, DialogStatus::Failed("422".into()));
    assert!(app.status.as_ref().is_some_and(|s| s.error));
    assert!(app.last_fix.is_none());
    assert!(matches!(ch(&mut app, 'y'), Some(Effect::Apply(_))));
}

#[test]
fn a_refused_patch_is_never_resent_blindly() {
    let mut app = app(160, 40);
    ch(&mut app, 'f');
    ch(&mut app, 'y');
    app.update(Action::Port(PortEvent::ApplyFailed {
        target: target("datastorage"),
        undo: false,
        message: "the workload changed since this plan".into(),
    }));
    // Someone else fixed it meanwhile: the watch shows the new image, the finding is gone.
    let mut snap = gateway_debug();
    snap.deployments.for_each_mut(|d| {
        if d.metadata.name.as_deref() == Some("datastorage") {
            let mut changed = (**d).clone();
            if let Some(spec) = changed.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
                spec.containers[0].image = Some("localhost/kubernaut/datastorage:debug".into());
            }
            *d = Arc::new(changed);
        }
    });
    app.update(Action::Snapshot(Arc::new(snap)));
    assert_eq!(ch(&mut app, 'y'), None, "nothing is sent again");
    assert!(matches!(app.overlay, Overlay::None));
    let status = app.status.as_ref().expect("a status line");
    assert!(
        status.text.contains("no longer has a finding"),
        "{}",
        status.text
    );
}

#[test]
fn undo_without_a_fix_says_so() {
    let mut app = app(160, 40);
    // Nothing known: the journal is read first, and it is empty.
    assert_eq!(ch(&mut app, 'u'), Some(Effect::Port(Request::UndoHistory)));
    app.update(Action::Port(PortEvent::History(Ok(Vec::new()))));
    assert!(matches!(app.overlay, Overlay::None));
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("Nothing to undo"))
    );
}

#[test]
fn f_on_a_healthy_workload_does_not_open_a_dialog() {
    let mut app = app(160, 40);
    // Rows: datastorage, its container, gateway, init, gateway container, postgres, container.
    press(&mut app, KeyCode::End);
    assert_eq!(selected_workload(&app), "postgres/postgres");
    ch(&mut app, 'f');
    assert!(matches!(app.overlay, Overlay::None));
    assert!(app.status.is_some());
}

#[test]
fn moving_in_workloads_links_pods_and_back() {
    let mut app = app(160, 40);
    ch(&mut app, 'j'); // gateway deployment row
    assert_eq!(selected_workload(&app), "gateway/-");
    assert_eq!(app.view.pods[app.pane(Pane::Pods).selected].name, GW_POD);
    // In Pods, moving to the postgres pod selects the postgres workload.
    app.update(Action::FocusPrev);
    assert_eq!(app.focus, Pane::Pods);
    ch(&mut app, 'j');
    assert_eq!(selected_workload(&app), "postgres/-");
}

#[test]
fn filter_narrows_rows_and_esc_clears() {
    let mut app = app(160, 40);
    ch(&mut app, '/');
    for c in "postgres".chars() {
        ch(&mut app, c);
    }
    // Typed letters go to the filter, not to the key map (no `g` = Top, no `e`).
    assert_eq!(app.filter, "postgres");
    assert_eq!(app.view.pods.len(), 1);
    // gateway stays: its init container runs postgres.
    let names: Vec<&str> = app
        .view
        .workloads
        .iter()
        .map(|r| r.key().name.as_str())
        .collect();
    assert!(
        names.contains(&"gateway") && names.contains(&"postgres"),
        "{names:?}"
    );
    assert!(!names.contains(&"datastorage"), "{names:?}");
    assert!(app.view.nodes.iter().all(|r| match r {
        kindscope::tui::view::NodeRow::Image { name, .. } => name.contains("postgres"),
        _ => true,
    }));
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.filter, "postgre");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.filter, "postgre");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter, "");
    assert_eq!(app.view.pods.len(), 3);
}

#[test]
fn namespace_chooser_switches_and_asks_the_backend() {
    let mut app = app(160, 40);
    ch(&mut app, 'n');
    let Overlay::Namespaces { choices, selected } = &app.overlay else {
        panic!("chooser open");
    };
    assert_eq!(choices, &vec![None, Some("default".to_string())]);
    assert_eq!(*selected, 0);
    ch(&mut app, 'j');
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::SwitchNamespace(Some("default".into())))
    );
    assert_eq!(app.namespace.as_deref(), Some("default"));
    ch(&mut app, 'n');
    ch(&mut app, 'k');
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::SwitchNamespace(None))
    );
}

#[test]
fn namespace_filters_pods_workloads_and_findings() {
    let mut snap = gateway_debug();
    snap.namespace = None;
    let mut app = app_with(snap, kind_write(), 160, 40);
    app.namespace = Some("other".into());
    app.update(Action::Snapshot(Arc::new(gateway_debug())));
    assert!(app.view.pods.is_empty());
    assert!(app.view.workloads.is_empty());
    assert!(app.view.findings.is_empty());
    assert!(
        !app.findings.is_empty(),
        "all findings are kept for switching back"
    );
}

#[test]
fn quit_keys_and_toggles() {
    let mut app = app(160, 40);
    assert_eq!(ch(&mut app, 'q'), Some(Effect::Quit));
    let mut app = tui_fixtures::app(160, 40);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    ch(&mut app, '/');
    // Ctrl-C quits even while typing a filter.
    let action = keymap::map_key(&app, ctrl_c).expect("ctrl-c maps");
    assert_eq!(app.update(action), Some(Effect::Quit));
    let mut app = tui_fixtures::app(160, 40);
    ch(&mut app, 'L');
    assert!(app.show_log);
    ch(&mut app, '?');
    assert!(matches!(app.overlay, Overlay::Help));
    ch(&mut app, '?');
    assert!(matches!(app.overlay, Overlay::None));
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Nodes);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Workloads);
}

#[test]
fn enter_shows_details_with_the_kubelet_view_of_the_image() {
    let mut app = app(160, 40);
    press(&mut app, KeyCode::Enter);
    let Overlay::Info { title, lines } = &app.overlay else {
        panic!("details open");
    };
    assert!(title.contains("datastorage"), "{title}");
    let text = lines.join("\n");
    assert!(
        text.contains("docker.io/kubernaut/datastorage:debug"),
        "{text}"
    );
    assert!(text.contains("set explicitly"), "{text}");
}

#[test]
fn click_focuses_the_pane_and_selects_the_row() {
    let mut app = app(160, 40);
    let areas = app.areas();
    let pods = areas.panes[Pane::Pods.index()].expect("pods pane visible");
    // Third data row: borders and header come first.
    app.update(Action::Click {
        column: pods.x + 3,
        row: pods.y + 2 + 2,
    });
    assert_eq!(app.focus, Pane::Pods);
    assert_eq!(
        app.view.pods[app.pane(Pane::Pods).selected].name,
        "postgres-5c7d9f8b4-kq7lm"
    );
    // Clicking the tab bar in narrow mode switches panes.
    let mut narrow = tui_fixtures::app(80, 24);
    let tabs = narrow.areas().tabs.expect("tab bar");
    narrow.update(Action::Click {
        column: tabs.x + 1,
        row: tabs.y,
    });
    assert_eq!(narrow.focus, Pane::Nodes);
}

#[test]
fn selection_survives_a_new_snapshot() {
    let mut app = app(160, 40);
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    let before = selected_workload(&app);
    // The same cluster with one more deployment at the front of the list.
    let mut snap = gateway_debug();
    let mut first = (**snap.deployments.first().expect("a deployment")).clone();
    first.metadata.name = Some("aaa-first".into());
    snap.deployments.insert(Arc::new(first));
    app.update(Action::Snapshot(Arc::new(snap)));
    assert_eq!(selected_workload(&app), before);
}

#[test]
fn stale_and_closed_feeds_are_banners_not_errors() {
    let mut app = app(160, 40);
    assert!(app.banner().is_none());
    app.update(Action::FeedClosed);
    assert!(app.banner().is_some_and(|b| b.contains("stale")));
    assert!(!app.view.pods.is_empty(), "last data kept");
}

#[test]
fn a_silent_server_banner_says_how_long_ago_it_last_answered() {
    let mut app = app(160, 40);
    let mut snap = gateway_debug();
    snap.resources.insert(
        kindscope::model::Resource::Pods,
        kindscope::model::ResourceState::Stale {
            reason: "no answer from the server".into(),
            since: Some("2026-12-01T22:00:00Z".into()),
        },
    );
    app.update(Action::Snapshot(Arc::new(snap)));
    // 22:00:34 UTC that day.
    app.now = 1_796_162_434;
    let banner = app.banner().expect("a banner");
    assert!(
        banner.contains("pods: no answer from the server (last word from the server 34s ago)"),
        "{banner}"
    );
    assert!(app.stale_since_shown(), "the age ticks");
}

fn typed(app: &mut App, text: &str) -> Option<Effect> {
    let mut last = None;
    for c in text.chars() {
        last = match c {
            '\t' => press(app, KeyCode::Tab),
            '\r' => press(app, KeyCode::Enter),
            c => ch(app, c),
        };
    }
    last
}

fn status(app: &App) -> String {
    app.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

#[test]
fn command_line_completes_and_runs() {
    let mut app = app(160, 40);
    ch(&mut app, ':');
    assert!(matches!(app.overlay, Overlay::Command(_)));
    // Tab completes the command word, then the namespace; Enter switches.
    typed(&mut app, "n\t d\t");
    let Overlay::Command(line) = &app.overlay else {
        panic!("still typing");
    };
    assert_eq!(line.input, "ns default");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::SwitchNamespace(Some("default".into())))
    );
    assert_eq!(app.namespace.as_deref(), Some("default"));
    assert_eq!(
        typed(&mut app, ":ns all\r"),
        Some(Effect::SwitchNamespace(None))
    );
    typed(&mut app, ":nodes\r");
    assert_eq!(app.focus, Pane::Nodes);
    typed(&mut app, ":deploy\r");
    assert_eq!(app.focus, Pane::Workloads);
    // Mistakes are one red line, and nothing else happens.
    assert_eq!(typed(&mut app, ":frob\r"), None);
    assert!(
        status(&app).contains("Unknown command `:frob`"),
        "{}",
        status(&app)
    );
    assert!(app.status.as_ref().is_some_and(|s| s.error));
    assert_eq!(typed(&mut app, ":ns Bad_Name\r"), None);
    assert!(
        status(&app).contains("not a namespace name"),
        "{}",
        status(&app)
    );
    // Without contexts to switch to (the demo), :ctx says so.
    assert_eq!(typed(&mut app, ":ctx kind-x\r"), None);
    assert!(
        status(&app).contains("no context to switch to"),
        "{}",
        status(&app)
    );
}

#[test]
fn ctx_completes_among_the_allowed_contexts_only() {
    let mut opts = options(kind_write());
    opts.contexts = vec!["kind-a".into(), "kind-b".into()];
    let mut app = App::new(opts);
    app.update(Action::Resize {
        width: 160,
        height: 40,
    });
    app.update(Action::Snapshot(Arc::new(gateway_debug())));
    typed(&mut app, ":ctx \t\t");
    let Overlay::Command(line) = &app.overlay else {
        panic!("still typing");
    };
    assert_eq!(
        line.input, "ctx kind-b",
        "Tab again offers the next context"
    );
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::Port(Request::SwitchContext("kind-b".into())))
    );
    assert_eq!(typed(&mut app, ":ctx prod\r"), None);
    assert!(status(&app).contains("kind-a, kind-b"), "{}", status(&app));
}

#[test]
fn unbound_keys_say_so_and_digits_pick_panes() {
    let mut app = app(160, 40);
    assert_eq!(ch(&mut app, 'Z'), None);
    assert!(
        status(&app).contains("`Z` does nothing here"),
        "{}",
        status(&app)
    );
    ch(&mut app, '1');
    assert_eq!(app.focus, Pane::Nodes);
    ch(&mut app, '2');
    assert_eq!(app.focus, Pane::Pods);
    ch(&mut app, '3');
    assert_eq!(app.focus, Pane::Workloads);
}

fn entry(name: &str, secs: i64) -> kindscope::cluster::journal::JournalEntry {
    let plan = kindscope::fix::FixPlan {
        target: target(name),
        container: name.into(),
        patch: serde_json::json!([{"op": "replace", "path": "/x", "value": "new"}]),
        undo: serde_json::json!([{"op": "replace", "path": "/x", "value": name}]),
        image_before: format!("kubernaut/{name}:debug"),
        image_after: format!("localhost/kubernaut/{name}:debug"),
        pull_policy_before: None,
        pull_policy_after: None,
    };
    let mut e = kindscope::cluster::journal::JournalEntry::new(
        kindscope::cluster::journal::Action::Fix,
        "kind-gateway-debug",
        "https://127.0.0.1:41234",
        &plan,
    );
    e.id = format!("{secs}/{name}");
    e
}

#[test]
fn undo_walks_back_the_journal_one_fix_at_a_time() {
    let mut app = app(160, 40);
    // Nothing known yet: u reads the journal, then asks about the newest fix.
    assert_eq!(ch(&mut app, 'u'), Some(Effect::Port(Request::UndoHistory)));
    let (newest, older) = (entry("gateway", 2), entry("datastorage", 1));
    app.update(Action::Port(PortEvent::History(Ok(vec![
        newest.clone(),
        older.clone(),
    ]))));
    let Overlay::Undo(d) = &app.overlay else {
        panic!("the undo dialog opens once the journal is read");
    };
    assert_eq!(d.plan, newest.plan);
    assert_eq!(d.older, 1);
    assert_eq!(d.entry.as_ref().map(|e| e.id.as_str()), Some("2/gateway"));
    assert_eq!(ch(&mut app, 'y'), Some(Effect::Undo(newest.plan.clone())));
    app.update(Action::Port(PortEvent::Applied {
        target: target("gateway"),
        undo: true,
    }));
    // The next u goes one further back, at once (the journal is read again meanwhile).
    assert_eq!(ch(&mut app, 'u'), Some(Effect::Port(Request::UndoHistory)));
    let Overlay::Undo(d) = &app.overlay else {
        panic!("the next undo dialog");
    };
    assert_eq!(d.plan, older.plan);
    assert_eq!(d.older, 0);
    // A journal that cannot be read is said, not hidden.
    ch(&mut app, 'n');
    let mut app2 = tui_fixtures::app(160, 40);
    ch(&mut app2, 'u');
    app2.update(Action::Port(PortEvent::History(Err(
        "journal /x: cannot read".into(),
    ))));
    assert!(
        status(&app2).contains("Cannot read the journal"),
        "{}",
        status(&app2)
    );
}

#[test]
fn views_open_on_the_selection_and_escape_what_arrives() {
    use kindscope::tui::textview::{ViewKind, ViewStatus, ViewUpdate};
    let mut app = app(160, 40);
    // d on the Workloads pane: the selected Deployment, from the snapshot.
    assert_eq!(ch(&mut app, 'd'), None);
    let Overlay::View(v) = &app.overlay else {
        panic!("describe opens");
    };
    assert!(matches!(&v.kind, ViewKind::Describe(o) if o.name == "datastorage"));
    assert!(
        v.lines.iter().any(|l| l.starts_with("Replicas:")),
        "{:?}",
        v.lines
    );
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.overlay, Overlay::None));
    // l: the linked pod's log is asked for, bounded, followed.
    let Some(Effect::Port(Request::Logs(req))) = ch(&mut app, 'l') else {
        panic!("logs are requested");
    };
    assert_eq!(req.query.pod, DS_POD);
    assert_eq!(req.query.container, "datastorage");
    assert!(req.query.follow && req.query.tail_lines > 0);
    // What the cluster sends is escaped; answers for an older view are dropped.
    app.update(Action::Port(PortEvent::View {
        id: req.id,
        update: ViewUpdate::Lines(vec!["boom\x1b]52;c;aGk=\x07".into()]),
    }));
    app.update(Action::Port(PortEvent::View {
        id: req.id + 100,
        update: ViewUpdate::Lines(vec!["stale".into()]),
    }));
    let Overlay::View(v) = &app.overlay else {
        panic!("logs view open");
    };
    assert_eq!(v.lines, vec!["boom\\x1b]52;c;aGk=\\x07".to_string()]);
    assert_eq!(v.status, ViewStatus::Ready);
    // p asks again for the previous container, not followed.
    let Some(Effect::Port(Request::Logs(prev))) = ch(&mut app, 'p') else {
        panic!("previous is requested");
    };
    assert!(prev.query.previous && !prev.query.follow);
    assert_eq!(
        press(&mut app, KeyCode::Esc),
        Some(Effect::Port(Request::CloseView))
    );
}
