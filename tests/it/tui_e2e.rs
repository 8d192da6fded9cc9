//! The real binary in a pseudo-terminal: `kindscope demo` through the seed's fix flow, read
//! back through a terminal emulator (vt100), at 120×40 and at 80×24; and SIGTERM.
//!
//! Every wait polls the parsed screen against a generous deadline (CI machines are slow and
//! shared), never a fixed sleep.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

const DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// What the terminal received: raw bytes and the emulated screen.
struct Output {
    raw: Vec<u8>,
    parser: vt100::Parser,
}

struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Output>>,
    reader: Option<JoinHandle<()>>,
    // Kept open until the child is gone: closing the master hangs up the terminal.
    _master: Box<dyn MasterPty + Send>,
    state: tempfile::TempDir,
}

impl Tui {
    /// `kindscope demo --speed 20` at `cols`×`rows`, run from an unrelated directory (the
    /// scenario is embedded) with the journal in a temporary state directory.
    fn demo(cols: u16, rows: u16) -> Tui {
        Tui::spawn(&["demo", "--speed", "20"], cols, rows)
    }

    /// The binary with `args` in a `cols`×`rows` terminal.
    fn spawn(args: &[&str], cols: u16, rows: u16) -> Tui {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let state = tempfile::tempdir().expect("state dir");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_kindscope"));
        cmd.args(args);
        cmd.cwd(state.path());
        cmd.env("TERM", "xterm-256color");
        cmd.env("KINDSCOPE_STATE_DIR", state.path().join("state"));
        cmd.env("XDG_CONFIG_HOME", state.path().join("config"));
        cmd.env_remove("KINDSCOPE_LOG");
        let child = pty.slave.spawn_command(cmd).expect("spawn kindscope demo");
        // Only the child may hold the terminal's slave side, so its exit ends our reads.
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let output = Arc::new(Mutex::new(Output {
            raw: Vec::new(),
            parser: vt100::Parser::new(rows, cols, 0),
        }));
        let sink = output.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let mut out = sink.lock().expect("output lock");
                        out.raw.extend_from_slice(&buf[..n]);
                        out.parser.process(&buf[..n]);
                    }
                }
            }
        });
        Tui {
            child,
            writer,
            output,
            reader: Some(reader),
            _master: pty.master,
            state,
        }
    }

    fn screen(&self) -> String {
        self.output
            .lock()
            .expect("output lock")
            .parser
            .screen()
            .contents()
    }

    /// Poll the screen until `ok` holds; on timeout fail with the screen as it is.
    fn wait_for(&mut self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("kindscope exited ({status:?}) while waiting for {what}; screen:\n{screen}");
            }
            if start.elapsed() > DEADLINE {
                panic!("timed out after {DEADLINE:?} waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn press(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|()| self.writer.flush())
            .expect("type into the terminal");
    }

    /// Wait for the child to exit and the terminal output to drain.
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                break status;
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                panic!(
                    "kindscope did not exit within {DEADLINE:?}; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(POLL);
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// The terminal was given back: the last alternate-screen entry was left again, the cursor
    /// shown and mouse reporting switched off.
    fn assert_restored(&self) {
        let out = self.output.lock().expect("output lock");
        let raw = &out.raw;
        let entered =
            find_last(raw, b"\x1b[?1049h").expect("the dashboard used the alternate screen");
        let after = &raw[entered..];
        for (seq, what) in [
            (&b"\x1b[?1049l"[..], "leave the alternate screen"),
            (&b"\x1b[?25h"[..], "show the cursor"),
            (&b"\x1b[?1000l"[..], "stop mouse reporting"),
        ] {
            assert!(
                find_last(after, seq).is_some(),
                "the terminal was not restored: no sequence to {what}"
            );
        }
        let screen = out.parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
    }

    fn journal_lines(&self) -> usize {
        let path = self.state.path().join("state").join("journal.jsonl");
        std::fs::read_to_string(&path).map_or(0, |t| t.lines().count())
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        // A failed test must not leave a kindscope running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn fix_one(tui: &mut Tui, name: &str) {
    let selected = format!("▶ registry-prefix default Deployment/{name}");
    tui.wait_for(&format!("the {name} finding to be selected"), |s| {
        s.contains(&selected)
    });
    tui.press("f");
    let wanted = format!("\"localhost/kubernaut/{name}:debug\"");
    let dialog = tui.wait_for(&format!("the fix dialog for {name}"), |s| {
        s.contains("y or Enter applies") && s.contains(&wanted)
    });
    assert!(dialog.contains("\"op\": \"test\""), "{dialog}");
    assert!(dialog.contains("\"op\": \"replace\""), "{dialog}");
    assert!(
        dialog.contains(&format!("\"kubernaut/{name}:debug\"")),
        "the guard tests the old image:\n{dialog}"
    );
    tui.press("y");
    let done = format!("Deployment/{name}: new pods are Running.");
    tui.wait_for(&format!("{name}'s rollout to reach Running"), |s| {
        s.contains(&done)
    });
}

fn fix_flow(cols: u16, rows: u16) {
    let mut tui = Tui::demo(cols, rows);
    let first = tui.wait_for("the first finding", |s| {
        s.contains("Findings (2)") && s.contains("node has  localhost/kubernaut/datastorage:debug")
    });
    assert!(
        first.contains("asks      kubernaut/datastorage:debug"),
        "{first}"
    );
    fix_one(&mut tui, "datastorage");
    // After a Running rollout the selection moves on to the next finding by itself.
    fix_one(&mut tui, "gateway");
    tui.wait_for("no findings", |s| s.contains("No image mismatches"));
    assert_eq!(tui.journal_lines(), 2, "each fix is journalled");
    tui.press("q");
    let status = tui.wait_exit();
    assert!(status.success(), "q exits 0, got {status:?}");
    tui.assert_restored();
}

#[test]
fn demo_fix_flow_wide() {
    fix_flow(120, 40);
}

#[test]
fn demo_fix_flow_80x24() {
    fix_flow(80, 24);
}

#[test]
fn sigterm_and_sigint_restore_the_terminal_and_exit_0() {
    for signal in ["-TERM", "-INT"] {
        let mut tui = Tui::demo(100, 30);
        tui.wait_for("the dashboard", |s| s.contains("Findings (2)"));
        let pid = tui.child.process_id().expect("child pid");
        let sent = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = tui.wait_exit();
        assert!(status.success(), "kill {signal} exits 0, got {status:?}");
        tui.assert_restored();
    }
}

/// A signal sent the moment the terminal is set up, before the first frame, still ends the
/// dashboard cleanly: its handlers are installed before the terminal is touched. (Installed
/// lazily, when the loop first waited, most such signals killed it with the terminal raw.)
#[test]
fn a_signal_right_after_the_terminal_is_set_up_restores_it() {
    for _ in 0..5 {
        let mut tui = Tui::demo(100, 30);
        let start = Instant::now();
        while find_last(&tui.output.lock().expect("output lock").raw, b"\x1b[?1049h").is_none() {
            assert!(
                start.elapsed() < DEADLINE,
                "the alternate screen never came"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let pid = tui.child.process_id().expect("child pid");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = tui.wait_exit();
        assert!(
            status.success(),
            "kill -TERM at start exits 0, got {status:?}"
        );
        tui.assert_restored();
    }
}

/// `Running` when the pod's first container runs, else its waiting reason.
fn pod_state(p: &k8s_openapi::api::core::v1::Pod) -> Option<String> {
    let c = p.status.as_ref()?.container_statuses.as_ref()?.first()?;
    let state = c.state.as_ref()?;
    if state.running.is_some() {
        return Some("Running".into());
    }
    state.waiting.as_ref()?.reason.clone()
}

/// A bundle of the settled gateway-debug sim, written in-process.
fn gateway_bundle(path: &std::path::Path) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let scenario = kindscope::sim::scenario::embedded_default();
        let opts = kindscope::sim::SimOptions {
            speed: 20.0,
            ..Default::default()
        };
        let sim = kindscope::sim::start(&scenario, opts).await.expect("sim");
        let kubeconfig = path.with_extension("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let conn = kindscope::cluster::connect::connect(&kindscope::cli::ConnectArgs {
            kubeconfig: Some(kubeconfig),
            ..Default::default()
        })
        .await
        .expect("connect");
        let feed = kindscope::cluster::watch::start(&conn);
        let mut rx = feed.snapshots();
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let snap = loop {
            let snap = rx.borrow_and_update().clone();
            // Settled: the two pods refused by the kubelet, every other pod running.
            let states: Vec<Option<String>> = snap.pods.iter().map(|p| pod_state(p)).collect();
            let failing = states
                .iter()
                .filter(|s| s.as_deref() == Some("ErrImageNeverPull"))
                .count();
            let running = states
                .iter()
                .filter(|s| s.as_deref() == Some("Running"))
                .count();
            // Each resource has its own watch: the pods can be listed (and settled) while the
            // nodes, workloads or events are still in flight, and the bundle would lack them.
            let listed = kindscope::cluster::watch::RESOURCES
                .iter()
                .all(|r| snap.resources.get(r) == Some(&kindscope::model::ResourceState::Live));
            if listed && failing == 2 && running + failing == snap.pods.len() {
                break snap;
            }
            tokio::time::timeout_at(deadline, rx.changed())
                .await
                .expect("the sim settles in time")
                .expect("feed alive");
        };
        let findings = kindscope::diagnose::diagnose(&snap);
        kindscope::bundle::Bundle::from_snapshot(&snap, &findings, None, jiff::Timestamp::now())
            .write(path)
            .expect("write bundle");
        drop(feed);
        sim.shutdown().await;
    });
}

#[test]
fn demo_replays_a_bundle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("gateway.json.gz");
    gateway_bundle(&bundle);
    let path = bundle.to_str().expect("utf8 path");
    let mut tui = Tui::spawn(&["demo", "--speed", "20", "--from", path], 120, 40);
    let first = tui.wait_for("the replayed failures", |s| {
        s.contains("Findings (2)")
            && s.contains("node has  localhost/kubernaut/datastorage:debug")
            && s.contains("ErrImageNeverPull")
    });
    assert!(first.contains("Replay of"), "{first}");
    // The replay is a live cluster: the fix works there too.
    fix_one(&mut tui, "datastorage");
    tui.press("q");
    assert!(tui.wait_exit().success());
    tui.assert_restored();
}

impl Tui {
    /// Whether any cell on screen has a foreground or background colour.
    fn any_colour(&self) -> bool {
        let out = self.output.lock().expect("output lock");
        let screen = out.parser.screen();
        let (rows, cols) = screen.size();
        (0..rows).any(|r| {
            (0..cols).any(|c| {
                screen.cell(r, c).is_some_and(|cell| {
                    cell.fgcolor() != vt100::Color::Default
                        || cell.bgcolor() != vt100::Color::Default
                })
            })
        })
    }
}

#[test]
fn the_dashboard_follows_the_colour_conventions() {
    let selected = "▶ registry-prefix default Deployment/datastorage";
    let mut coloured = Tui::demo(120, 40);
    coloured.wait_for("the first finding", |s| s.contains(selected));
    assert!(coloured.any_colour(), "a colour terminal gets colour");
    coloured.press("q");
    coloured.wait_exit();

    for args in [
        &["--color", "never", "demo", "--speed", "20"][..],
        &["demo", "--speed", "20", "--color=never"][..],
    ] {
        let mut mono = Tui::spawn(args, 120, 40);
        let screen = mono.wait_for("the first finding", |s| s.contains(selected));
        // Monochrome, and the findings still show by their marks.
        assert!(!mono.any_colour(), "{args:?}: no colour:\n{screen}");
        assert!(screen.contains('✗') && screen.contains('★'), "{screen}");
        mono.press("q");
        mono.wait_exit();
    }
}

#[path = "tui_e2e/outage.rs"]
mod outage;
#[path = "tui_e2e/views.rs"]
mod views;
/// `]` / `[` walk the findings from any pane; `c` puts the selected fix's kubectl command on
/// the terminal's clipboard with OSC 52 and says so.
#[test]
fn next_finding_key_and_copy_from_any_pane() {
    use base64::Engine;
    let mut tui = Tui::demo(120, 40);
    let first = "▶ registry-prefix default Deployment/datastorage";
    let second = "▶ registry-prefix default Deployment/gateway";
    tui.wait_for("the first finding to be selected", |s| s.contains(first));
    tui.press("]");
    tui.wait_for("] to select the next finding", |s| {
        s.contains(second) && s.contains("node has  localhost/kubernaut/gateway:debug")
    });
    tui.press("[");
    tui.wait_for("[ to go back", |s| s.contains(first));
    // From the Node images pane (Tab moves the focus there; keys are read in order): the
    // same key, the same walk.
    tui.press("\t]");
    let screen = tui.wait_for("] from Node images", |s| s.contains(second));
    assert!(
        screen.contains("★ localhost/kubernaut/gateway:debug"),
        "the node pane marks the new finding's fix target:\n{screen}"
    );
    tui.press("c");
    tui.wait_for("the status line to say it was copied", |s| {
        s.contains("Copied to the clipboard (OSC 52;")
    });
    let raw = tui.output.lock().expect("output lock").raw.clone();
    let start = find_last(&raw, b"\x1b]52;c;").expect("an OSC 52 sequence") + 7;
    let len = raw[start..]
        .iter()
        .position(|&b| b == 0x07)
        .expect("the sequence ends with BEL");
    let text = base64::engine::general_purpose::STANDARD
        .decode(&raw[start..start + len])
        .expect("base64");
    let text = String::from_utf8(text).expect("utf-8");
    assert!(
        text.starts_with(
            "kubectl --context kind-gateway-debug -n default patch deployment/gateway --type=json -p '[{\"op\":\"test\""
        ),
        "{text}"
    );
    assert!(
        text.contains("\"value\":\"localhost/kubernaut/gateway:debug\"}]'"),
        "{text}"
    );
    tui.press("q");
    assert!(tui.wait_exit().success());
    tui.assert_restored();
}
