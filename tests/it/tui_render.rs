//! Snapshot tests of the dashboard screens (ratatui TestBackend + insta) on the gateway-debug
//! story: every pane, the narrow tab layout, dialogs, help, banners and rollout states.

use crate::support::tui_fixtures;

use kindscope::fix::Target;
use kindscope::model::{ResourceState, RuntimeListing};
use kindscope::tui::{Action, FollowOutcome, PortEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use tui_fixtures::*;

fn key(app: &mut kindscope::tui::App, c: char) {
    let ev = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
    if let Some(a) = kindscope::tui::keymap::map_key(app, ev) {
        app.update(a);
    }
}

fn target(name: &str) -> Target {
    Target {
        kind: "Deployment".into(),
        namespace: "default".into(),
        name: name.into(),
    }
}

#[test]
fn wide_overview_selects_the_first_finding() {
    let app = app(160, 40);
    insta::assert_snapshot!("wide_overview", render(&app));
}

#[test]
fn narrow_workloads_tab() {
    let app = app(80, 24);
    insta::assert_snapshot!("narrow_workloads", render(&app));
}

#[test]
fn narrow_node_images_tab() {
    let mut app = app(80, 24);
    app.update(Action::FocusNext);
    insta::assert_snapshot!("narrow_nodes", render(&app));
}

#[test]
fn narrow_pods_and_events_tab() {
    let mut app = app(80, 24);
    app.update(Action::FocusPrev);
    insta::assert_snapshot!("narrow_pods", render(&app));
}

#[test]
fn fix_dialog_shows_patch_and_before_after() {
    let mut app = app(120, 36);
    key(&mut app, 'f');
    let screen = render(&app);
    assert!(
        screen.contains("localhost/kubernaut/datastorage:debug"),
        "{screen}"
    );
    insta::assert_snapshot!("fix_dialog", screen);
}

#[test]
fn fix_dialog_in_read_only_mode_explains() {
    let mut app = app_with(gateway_debug(), read_only(), 120, 36);
    key(&mut app, 'f');
    insta::assert_snapshot!("fix_dialog_read_only", render(&app));
}

#[test]
fn fix_dialog_at_80x24() {
    let mut app = app(80, 24);
    key(&mut app, 'f');
    insta::assert_snapshot!("fix_dialog_narrow", render(&app));
}

#[test]
fn failed_patch_is_a_line_in_the_dialog() {
    let mut app = app(120, 36);
    key(&mut app, 'f');
    key(&mut app, 'y');
    app.update(Action::Port(PortEvent::ApplyFailed {
        target: target("datastorage"),
        undo: false,
        message: "the API server answered 422: test operation failed (someone changed the image)"
            .into(),
    }));
    let screen = render(&app);
    assert!(
        screen.contains("Failed: the API server answered 422"),
        "{screen}"
    );
    insta::assert_snapshot!("fix_dialog_failed", screen);
}

#[test]
fn help_overlay_lists_every_key() {
    let mut app = app(100, 40);
    key(&mut app, '?');
    let screen = render(&app);
    for (k, _) in kindscope::tui::keymap::HELP {
        assert!(screen.contains(k.trim()), "help misses {k}:\n{screen}");
    }
    insta::assert_snapshot!("help", screen);
}

#[test]
fn help_fits_80x24() {
    let mut app = app(80, 24);
    key(&mut app, '?');
    let screen = render(&app);
    assert!(screen.contains("Esc or ? closes"), "{screen}");
    assert!(screen.contains("↑↓ PgUp PgDn scroll"), "{screen}");
    // The help scrolls to its end.
    key(&mut app, 'G');
    let screen = render(&app);
    assert!(screen.contains("pod of the selected workload"), "{screen}");
    key(&mut app, 'k');
    let up = render(&app);
    assert_ne!(up, screen, "one row up after the end moves at once");
    insta::assert_snapshot!("help_narrow", screen);
}

#[test]
fn stale_resources_show_a_banner_and_keep_data() {
    let mut snap = gateway_debug();
    snap.resources.insert(
        kindscope::model::Resource::Pods,
        ResourceState::Stale {
            reason: "connection refused".into(),
            since: None,
        },
    );
    let app = app_with(snap, kind_write(), 120, 30);
    let screen = render(&app);
    assert!(screen.contains("datastorage-6d4c9b7f8-abcde"), "{screen}");
    insta::assert_snapshot!("banner_stale", screen);
}

#[test]
fn closed_feed_shows_a_banner() {
    let mut app = app(120, 30);
    app.update(Action::FeedClosed);
    insta::assert_snapshot!("banner_feed_closed", render(&app));
}

#[test]
fn forbidden_events_are_said_inside_the_pane() {
    let mut snap = gateway_debug();
    snap.events.clear();
    snap.resources.insert(
        kindscope::model::Resource::Events,
        ResourceState::Forbidden {
            reason: "events is forbidden: User \"dev\" cannot list resource \"events\"".into(),
        },
    );
    let app = app_with(snap, kind_write(), 160, 30);
    let screen = render(&app);
    assert!(screen.contains("Forbidden: cannot list events"), "{screen}");
    insta::assert_snapshot!("forbidden_events", screen);
}

#[test]
fn rollout_progress_then_failure_in_workloads() {
    let mut app = app(120, 24);
    key(&mut app, 'f');
    key(&mut app, 'y');
    app.update(Action::Port(PortEvent::Applied {
        target: target("datastorage"),
        undo: false,
    }));
    app.update(Action::Port(PortEvent::Rollout {
        target: target("datastorage"),
        message: "1 updated, 0/1 ready: ContainerCreating".into(),
    }));
    insta::assert_snapshot!("rollout_progress", render(&app));
    app.update(Action::Port(PortEvent::RolloutDone {
        target: target("datastorage"),
        outcome: FollowOutcome::Failed("new pod waits in CrashLoopBackOff".into()),
    }));
    insta::assert_snapshot!("rollout_failed", render(&app));
}

#[test]
fn capped_api_list_is_noted_under_the_node() {
    let mut snap = gateway_debug();
    let worker = std::sync::Arc::make_mut(&mut snap.node_images)
        .get_mut(WORKER)
        .expect("worker in fixture");
    worker.api_capped = true;
    worker.runtime = RuntimeListing::NotTried;
    let mut app = app_with(snap, kind_write(), 80, 24);
    app.update(Action::FocusNext);
    let screen = render(&app);
    assert!(
        screen.contains("at most 50 images: smaller ones may be missing"),
        "{screen}"
    );
    insta::assert_snapshot!("nodes_capped", screen);
}

#[test]
fn namespace_chooser_and_filter_line() {
    let mut app = app(100, 30);
    key(&mut app, 'n');
    insta::assert_snapshot!("namespace_chooser", render(&app));
    app.update(Action::Cancel);
    key(&mut app, '/');
    for c in "postgres".chars() {
        key(&mut app, c);
    }
    let screen = render(&app);
    assert!(!screen.contains("datastorage-6d4c9b7f8"), "{screen}");
    insta::assert_snapshot!("filter_postgres", screen);
}

#[test]
fn undo_dialog_reverses_the_last_fix() {
    let mut app = app(120, 30);
    key(&mut app, 'f');
    key(&mut app, 'y');
    app.update(Action::Port(PortEvent::Applied {
        target: target("datastorage"),
        undo: false,
    }));
    key(&mut app, 'u');
    insta::assert_snapshot!("undo_dialog", render(&app));
}

#[test]
fn loading_state_before_the_first_snapshot() {
    let mut opts = options(kind_write());
    opts.cluster = Some((
        "kind-gateway-debug".into(),
        "https://127.0.0.1:41234".into(),
    ));
    let mut app = kindscope::tui::App::new(opts);
    app.now = NOW + 3;
    app.update(Action::Resize {
        width: 80,
        height: 24,
    });
    insta::assert_snapshot!("loading", render(&app));
}

#[test]
fn errors_are_red_and_the_fix_target_is_green() {
    let app = app(160, 40);
    let mut terminal = Terminal::new(TestBackend::new(160, 40)).expect("test terminal");
    terminal
        .draw(|f| kindscope::tui::ui::draw(f, &app))
        .expect("draw");
    let buf = terminal.backend().buffer();
    let find = |needle: &str| {
        (0..buf.area.height).find_map(|y| {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.find(needle)
                .map(|byte| (line[..byte].chars().count() as u16, y))
        })
    };
    let (x, y) = find("ErrImageNeverPull").expect("error reason on screen");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find("★").expect("fix target marked");
    assert_eq!(buf[(x + 2, y)].fg, Color::Green);
    // The marked name is the one the fix would set.
    let row: String = (0..buf.area.width).map(|c| buf[(c, y)].symbol()).collect();
    assert!(
        row.contains("localhost/kubernaut/datastorage:debug"),
        "{row}"
    );
}

/// The screen with emphasis marked: `[…]` around reversed runs, `*…*` around bold ones.
fn with_emphasis(buf: &ratatui::buffer::Buffer) -> String {
    use ratatui::style::Modifier;
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        let (mut rev, mut bold) = (false, false);
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            let (r, b) = (
                cell.modifier.contains(Modifier::REVERSED),
                cell.modifier.contains(Modifier::BOLD)
                    && !cell.modifier.contains(Modifier::REVERSED),
            );
            if b != bold {
                line.push('*');
                bold = b;
            }
            if r != rev {
                line.push(if r { '[' } else { ']' });
                rev = r;
            }
            line.push_str(cell.symbol());
        }
        if bold {
            line.push('*');
        }
        if rev {
            line.push(']');
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn monochrome_theme_shows_findings_by_symbol_and_selection_by_reverse_video() {
    let mut app = app(120, 30);
    app.monochrome = true;
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("test terminal");
    terminal
        .draw(|f| kindscope::tui::ui::draw(f, &app))
        .expect("draw");
    let buf = terminal.backend().buffer();
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "no colour anywhere"
    );
    let screen = with_emphasis(buf);
    // Findings keep their marks; the selected row stands out without colour.
    assert!(screen.contains('✗') && screen.contains('★'), "{screen}");
    assert!(screen.contains('['), "{screen}");
    insta::assert_snapshot!("monochrome_overview", screen);
}

#[test]
fn fix_dialog_shows_the_durable_edit_found_in_the_repository() {
    let mut app = app(120, 44);
    let repo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/preflight/repo");
    let cache = kindscope::source::SourceCache::new(repo);
    let mut findings = app.findings.clone();
    cache.fill(&mut findings);
    // The search runs on a background thread; this bound only stops a hang.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.findings.iter().any(|f| cache.get(f).is_none()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the source search did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    app.sources = Some(cache);
    key(&mut app, 'f');
    let screen = render(&app);
    assert!(screen.contains("This live patch is a hotfix"), "{screen}");
    assert!(screen.contains("Durable edit:"), "{screen}");
    assert!(
        screen.contains("test/infrastructure/gateway_e2e.go:16: remove the rewrite"),
        "{screen}"
    );
    assert!(
        screen.contains("deploy/datastorage.yaml:17: kubernaut/datastorage:debug →"),
        "{screen}"
    );
}

/// A snapshot's rows are shown at once, before its diagnosis (made off the UI task) is done;
/// meanwhile the last verdict is not repeated as an all-clear, and a diagnosis of an older
/// snapshot brings its findings without taking the newer rows back.
#[test]
fn rows_move_before_their_diagnosis_and_no_all_clear_is_claimed_meanwhile() {
    use std::sync::Arc;
    let broken = Arc::new(gateway_debug());
    let mut quiet = gateway_debug();
    quiet.pods.clear();
    quiet.deployments.clear();
    quiet.replicasets.clear();
    quiet.events.clear();
    let quiet = Arc::new(quiet);
    let mut app = kindscope::tui::App::new(options(kind_write()));
    app.now = NOW;
    app.update(Action::Resize {
        width: 160,
        height: 45,
    });
    app.update(Action::Derived(
        quiet.clone(),
        kindscope::diagnose::report(&quiet),
    ));
    let screen = render(&app);
    assert!(screen.contains("✓ No image mismatches"), "{screen}");

    app.update(Action::Rows(broken.clone()));
    let screen = render(&app);
    assert!(app.judging);
    assert!(screen.contains(GW_POD), "rows at once:\n{screen}");
    assert!(screen.contains("Checking the latest changes"), "{screen}");
    assert!(
        !screen.contains("No image mismatches"),
        "no all-clear:\n{screen}"
    );

    // The quiet snapshot's diagnosis arriving late keeps the broken rows on screen.
    app.update(Action::Derived(
        quiet.clone(),
        kindscope::diagnose::report(&quiet),
    ));
    assert!(Arc::ptr_eq(&app.snapshot, &broken));
    assert!(
        app.judging,
        "a diagnosis of the rows shown is still to come"
    );
    assert!(!render(&app).contains("No image mismatches"));

    let report = kindscope::diagnose::report(&broken);
    let n = report.findings.len();
    assert!(n > 0);
    app.update(Action::Derived(broken.clone(), report));
    let screen = render(&app);
    assert!(!app.judging);
    assert!(screen.contains(&format!("Findings ({n})")), "{screen}");
    assert!(!screen.contains("Checking the latest changes"), "{screen}");
}
