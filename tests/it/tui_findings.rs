//! Findings at hand: `]` / `[` from any pane, a click in the strip, bare pods' findings from
//! the Pods pane, `c` (copy), `s` (fold Kind's own), and the clock that redraws only when a
//! visible age changes.

use crate::support::tui_fixtures;

use std::sync::Arc;
use std::time::Duration;

use kindscope::tui::{Action, App, Effect, Pane};
use serde_json::json;
use tui_fixtures::*;

fn press(app: &mut App, c: char) -> Option<Effect> {
    let ev = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
    let action = kindscope::tui::keymap::map_key(app, ev)?;
    app.update(action)
}

fn selected(app: &App) -> String {
    app.selected_finding()
        .map(|f| f.workload.to_string())
        .unwrap_or_default()
}

fn pod(json: serde_json::Value) -> Arc<k8s_openapi::api::core::v1::Pod> {
    Arc::new(serde_json::from_value(json).expect("pod"))
}

/// The story plus a bare pod that asks for the gateway image without its prefix, and a
/// kube-system pod, judged by the real diagnose.
fn with_bare_and_system_pods() -> App {
    let mut snap = gateway_debug();
    snap.pods.push(pod(json!({
        "metadata": {"name": "debug-shell", "namespace": "default",
            "creationTimestamp": "2025-12-24T07:58:00Z"},
        "spec": {"nodeName": WORKER, "containers": [
            {"name": "shell", "image": "kubernaut/gateway:debug", "imagePullPolicy": "Never"}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "shell",
            "image": "kubernaut/gateway:debug", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ErrImageNeverPull",
                "message": "Container image \"kubernaut/gateway:debug\" is not present with pull policy of Never"}}}]}
    })));
    snap.pods.push(pod(json!({
        "metadata": {"name": "coredns-674b8bbfcf-abcde", "namespace": "kube-system",
            "creationTimestamp": "2025-12-24T07:00:00Z"},
        "spec": {"nodeName": WORKER, "containers": [
            {"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0"}]},
        "status": {"phase": "Running"}
    })));
    let mut opts = kindscope::tui::Options::new(kind_write());
    opts.clock = fixed_clock;
    opts.clipboard = |_| Ok(());
    let mut app = App::new(opts);
    app.now = NOW;
    app.update(Action::Resize {
        width: 160,
        height: 45,
    });
    app.update(Action::Snapshot(Arc::new(snap)));
    app
}

#[test]
fn next_and_previous_finding_wrap_around_from_any_pane() {
    let mut app = app(160, 40);
    assert_eq!(selected(&app), "Deployment/datastorage");
    app.update(Action::FocusNext); // Node images
    assert_eq!(app.focus, Pane::Nodes);
    press(&mut app, ']');
    assert_eq!(selected(&app), "Deployment/gateway");
    assert_eq!(app.focus, Pane::Nodes, "] keeps the pane");
    press(&mut app, ']');
    assert_eq!(
        selected(&app),
        "Deployment/datastorage",
        "wraps to the first"
    );
    press(&mut app, '[');
    assert_eq!(selected(&app), "Deployment/gateway", "wraps to the last");
    // The workload selection follows, so the panes highlight the finding's container.
    assert!(
        app.selected_workload()
            .is_some_and(|(k, _)| k.name == "gateway")
    );
}

#[test]
fn a_bare_pods_finding_opens_from_the_pods_pane() {
    let mut app = with_bare_and_system_pods();
    let bare = app
        .view
        .findings
        .iter()
        .position(|f| f.workload == "Pod/debug-shell")
        .expect("the real diagnose finds the bare pod");
    // Walk to it with ]: it has no workload row, its pod is selected instead.
    while app.selected_finding_index() != Some(bare) {
        press(&mut app, ']');
    }
    let pod = &app.view.pods[app.pane(Pane::Pods).selected];
    assert_eq!(pod.name, "debug-shell");
    assert_eq!(
        app.focus,
        Pane::Pods,
        "the pane that shows a bare pod's finding"
    );
    // Selecting it by hand in the Pods pane makes it the finding `f` acts on.
    press(&mut app, ']');
    while app.focus != Pane::Pods {
        app.update(Action::FocusNext);
    }
    let row = app
        .view
        .pods
        .iter()
        .position(|p| p.name == "debug-shell")
        .expect("pod row");
    app.update(Action::Top);
    for _ in 0..row {
        app.update(Action::Down);
    }
    assert_eq!(selected(&app), "Pod/debug-shell");
    press(&mut app, 'f');
    match &app.overlay {
        kindscope::tui::app::Overlay::Fix(d) => assert_eq!(d.finding.workload, "Pod/debug-shell"),
        other => panic!("no fix dialog: {other:?}"),
    }
}

#[test]
fn clicking_a_finding_in_the_strip_selects_it() {
    let mut app = app(160, 40);
    let screen = render(&app);
    let strip = app.areas().findings;
    let y = screen
        .lines()
        .enumerate()
        .skip(usize::from(strip.y))
        .find(|(_, l)| l.contains("Deployment/gateway [gateway]"))
        .map(|(y, _)| y as u16)
        .expect("the gateway finding is in the strip");
    app.update(Action::Click { column: 10, row: y });
    assert_eq!(selected(&app), "Deployment/gateway");
    assert!(render(&app).contains("▶ registry-prefix default Deployment/gateway"));
}

#[test]
fn kind_namespaces_fold_by_default_with_a_count_and_s_shows_them() {
    let mut app = with_bare_and_system_pods();
    assert!(!app.view.pods.iter().any(|p| p.namespace == "kube-system"));
    assert_eq!(app.view.folded.pods, 1);
    assert!(render(&app).contains("1 Kind pods folded (s)"));
    // Kind's base images are folded on the nodes too, the user's are not.
    assert!(app.view.folded.images >= 3);
    let screen = render(&app);
    assert!(!screen.contains("kindnetd"), "{screen}");
    assert!(
        screen.contains("localhost/kubernaut/gateway:debug"),
        "{screen}"
    );
    press(&mut app, 's');
    assert!(app.view.pods.iter().any(|p| p.namespace == "kube-system"));
    assert_eq!(app.view.folded.pods, 0);
    assert!(render(&app).contains("kindnetd"));
}

#[test]
fn c_copies_the_kubectl_command_of_the_selected_fix() {
    let mut app = app(160, 40);
    let effect = press(&mut app, 'c');
    let Some(Effect::Copy(text)) = effect else {
        panic!("no copy: {effect:?}");
    };
    assert!(
        text.starts_with("kubectl --context kind-gateway-debug -n default patch deployment/datastorage --type=json -p '["),
        "{text}"
    );
    let status = app.status.clone().expect("a status line");
    assert!(
        status.text.contains("Copied to the clipboard (OSC 52;"),
        "{}",
        status.text
    );
    assert!(status.text.contains("set-clipboard"), "{}", status.text);
}

#[test]
fn the_clock_changes_the_screen_only_when_a_visible_age_does() {
    let app = app(160, 40);
    render(&app);
    // Pods are 5m old, events 50s: one second later the events' "50s" becomes "51s".
    assert_ne!(app.clock_face(NOW), app.clock_face(NOW + 1));
    // Past two minutes ages count minutes: from 10m on, seconds change nothing on screen.
    let later = NOW + 600;
    assert_eq!(app.clock_face(later), app.clock_face(later + 1));
    assert_ne!(app.clock_face(later), app.clock_face(later + 60));
}

/// A TestBackend that counts the frames drawn (one `flush` per `Terminal::draw`).
struct Counting(
    ratatui::backend::TestBackend,
    Arc<std::sync::atomic::AtomicUsize>,
);

impl ratatui::backend::Backend for Counting {
    type Error = <ratatui::backend::TestBackend as ratatui::backend::Backend>::Error;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        self.0.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        self.0.get_cursor_position()
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        position: P,
    ) -> Result<(), Self::Error> {
        self.0.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.clear()
    }
    fn clear_region(&mut self, t: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.0.clear_region(t)
    }
    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        self.0.size()
    }
    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        self.0.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.flush()
    }
}

/// The loop's clock for the test below: ten minutes after the fixture's time (every age on
/// screen counts minutes), moved by the test only.
static CLOCK: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(NOW + 600);

fn test_clock() -> i64 {
    CLOCK.load(std::sync::atomic::Ordering::SeqCst)
}

// Paused time: the loop's clock reads (every second) and the 2.5 s below are the loop's own
// timers, so exactly two reads happen in between, however busy the machine.
#[tokio::test(start_paused = true)]
async fn an_idle_dashboard_redraws_only_when_an_age_on_screen_changes() {
    let frames = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = frames.clone();
    let (_snap_tx, snap_rx) = tokio::sync::watch::channel(Arc::new(gateway_debug()));
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut terminal = ratatui::Terminal::new(Counting(
            ratatui::backend::TestBackend::new(160, 40),
            counter,
        ))
        .expect("terminal");
        let mut opts = options(kind_write());
        opts.clock = test_clock;
        kindscope::tui::run_with(
            &mut terminal,
            futures::stream::pending(),
            snap_rx,
            crate::support::fake_port::FakePort::default(),
            opts,
            async {
                let _ = stop_rx.await;
            },
        )
        .await
    });
    let count = || frames.load(std::sync::atomic::Ordering::SeqCst);
    let wait_frames = |n: usize| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while count() < n {
            assert!(tokio::time::Instant::now() < deadline, "no frame {n}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    wait_frames(1).await;
    // The clock is read every second, but the same second-less ages are on screen: no frame.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        count(),
        1,
        "an idle screen whose ages did not change was redrawn"
    );
    // A minute later every age reads one more minute: the next clock read redraws.
    CLOCK.fetch_add(60, std::sync::atomic::Ordering::SeqCst);
    wait_frames(2).await;
    let _ = stop.send(());
    let app = task.await.expect("loop task").expect("loop");
    assert_eq!(app.now, NOW + 660, "the frame was drawn at the new time");
}

#[test]
fn a_command_with_control_characters_is_not_copied() {
    let mut opts = options(kind_write());
    opts.diagnose = kindscope::tui::app::findings_only(|snap| {
        let mut f = gateway_findings(snap).remove(0);
        f.patch = None;
        f.command = Some("kind load docker-image 'evil\u{1b}]52;c;AAAA\u{7}'".into());
        vec![f]
    });
    opts.plan = Arc::new(|_, _| None);
    let mut app = App::new(opts);
    app.now = NOW;
    app.update(Action::Resize {
        width: 160,
        height: 40,
    });
    app.update(Action::Snapshot(Arc::new(gateway_debug())));
    assert!(press(&mut app, 'c').is_none(), "nothing copied");
    let status = app.status.clone().expect("a status line");
    assert!(
        status.text.contains("control characters"),
        "{}",
        status.text
    );
    assert!(!status.text.contains('\u{1b}'));
}
