//! The dashboard figures of `bench/run.sh` (not part of kindscope; built with
//! `cargo build --release --examples`).
//!
//! `bench_dashboard KINDSCOPE KUBECONFIG URL SAMPLES IDLE_S` runs the real binary attached to a
//! served sim in a pseudo-terminal, reads the screen back through a terminal emulator (vt100,
//! as tests/it/tui_e2e.rs does) and prints one JSON object:
//!
//! * `first_frame_ms` — start to the first screen with every pane loaded (findings counted,
//!   pods listed);
//! * `idle_cpu_pct` — CPU of the kindscope process over IDLE_S seconds without input, from
//!   /proc/PID/stat (the cluster keeps changing: broken pods retry their pulls);
//! * `change_ms` — a pod created through the sim's HTTP API (the pods pane filtered to its
//!   name prefix) until its name is on screen: SAMPLES samples;
//! * `key_ms` — a key (`j`/`k` alternately in the pods pane) until the screen changes.
//!
//! `bench_dashboard dump KINDSCOPE KUBECONFIG SECONDS` prints the screen after SECONDS.
//!
//! `bench_dashboard churn DASHBOARD KUBECONFIG URL RATE SECONDS SAMPLES` changes the cluster
//! RATE times a second (a pod label through the sim's API) for SECONDS and prints the
//! dashboard's CPU and RSS over that window and its key-to-frame latency during it; DASHBOARD is
//! kindscope, or kdash (any program named `kdash*`, given the kubeconfig in `KUBECONFIG`).

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

#[path = "common/http.rs"]
mod http;
use http::{Res, authority, request};

const COLS: u16 = 160;
const ROWS: u16 = 50;
const DEADLINE: Duration = Duration::from_secs(120);

struct Screen {
    parser: vt100::Parser,
    /// Bumped after each chunk the terminal received.
    version: u64,
}

struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    _master: Box<dyn MasterPty + Send>,
    _state: tempfile::TempDir,
}

impl Tui {
    fn spawn(bin: &str, kubeconfig: &str) -> Res<Tui> {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| format!("open a pseudo-terminal: {e}"))?;
        let state = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cmd = CommandBuilder::new(bin);
        if is_kdash(bin) {
            // The peer reads the kubeconfig from the environment.
            cmd.env("KUBECONFIG", kubeconfig);
        } else {
            cmd.args(["--kubeconfig", kubeconfig, "--runtime", "none"]);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("KINDSCOPE_STATE_DIR", state.path().join("state"));
        cmd.env("XDG_CONFIG_HOME", state.path().join("config"));
        cmd.env_remove("KINDSCOPE_LOG");
        let child = pty
            .slave
            .spawn_command(cmd)
            .map_err(|e| format!("spawn {bin}: {e}"))?;
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().map_err(|e| e.to_string())?;
        let writer = pty.master.take_writer().map_err(|e| e.to_string())?;
        let screen = Arc::new((
            Mutex::new(Screen {
                parser: vt100::Parser::new(ROWS, COLS, 0),
                version: 0,
            }),
            Condvar::new(),
        ));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let (lock, cv) = &*sink;
                        let mut s = lock.lock().unwrap_or_else(|p| p.into_inner());
                        s.parser.process(&buf[..n]);
                        s.version += 1;
                        cv.notify_all();
                    }
                }
            }
        });
        Ok(Tui {
            child,
            writer,
            screen,
            _master: pty.master,
            _state: state,
        })
    }

    fn contents(&self) -> String {
        let s = self.screen.0.lock().unwrap_or_else(|p| p.into_inner());
        s.parser.screen().contents()
    }

    /// Wait until the screen satisfies `ok` (checked after every chunk received); the instant
    /// the chunk that satisfied it arrived.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> Res<Instant> {
        let start = Instant::now();
        let (lock, cv) = &*self.screen;
        let mut s = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if ok(&s.parser.screen().contents()) {
                return Ok(Instant::now());
            }
            if start.elapsed() > DEADLINE {
                return Err(format!(
                    "timed out waiting for {what}; screen:\n{}",
                    s.parser.screen().contents()
                ));
            }
            s = cv
                .wait_timeout(s, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn press(&mut self, keys: &str) -> Res<()> {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|()| self.writer.flush())
            .map_err(|e| format!("type into the terminal: {e}"))
    }

    fn pid(&self) -> Res<u32> {
        self.child.process_id().ok_or_else(|| "no child pid".into())
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.press("q");
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Res<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat; index 11 and 12 after the name.
    Ok(num(11) + num(12))
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn is_kdash(bin: &str) -> bool {
    std::path::Path::new(bin)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kdash"))
}

/// Resident memory of a process, KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Up to `n` pods (namespace, name) of the served cluster, for the churn to patch.
fn some_pods(url: &str, n: usize) -> Res<Vec<(String, String)>> {
    let path = format!("/api/v1/pods?limit={n}");
    let (status, body) = request(&authority(url)?, "GET", &path, "application/json", b"")?;
    if status != 200 {
        return Err(format!("list pods: HTTP {status}"));
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let pods: Vec<(String, String)> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let m = &p["metadata"];
            Some((
                m["namespace"].as_str()?.to_string(),
                m["name"].as_str()?.to_string(),
            ))
        })
        .filter(|(ns, _)| ns != "kube-system")
        .collect();
    if pods.is_empty() {
        return Err("the cluster has no pods to change".into());
    }
    Ok(pods)
}

/// Change the cluster `rate` times a second for `secs` seconds (a label on a pod: one watch
/// event each, as a controller or an operator's edit makes), from another thread. Returns how
/// many changes were made.
fn churn(
    url: String,
    pods: Vec<(String, String)>,
    rate: f64,
    secs: f64,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let period = Duration::from_secs_f64(1.0 / rate.max(0.1));
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed().as_secs_f64() < secs {
            let (ns, name) = &pods[n % pods.len()];
            let body =
                serde_json::json!({"metadata": {"labels": {"churn": n.to_string()}}}).to_string();
            let path = format!("/api/v1/namespaces/{ns}/pods/{name}");
            if let Ok(addr) = authority(&url)
                && let Ok((200, _)) = request(
                    &addr,
                    "PATCH",
                    &path,
                    "application/merge-patch+json",
                    body.as_bytes(),
                )
            {
                n += 1;
            }
            let next = start + period * (n as u32 + 1);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        n
    })
}

/// Under churn: CPU of the dashboard, its RSS, and key-to-frame latency (j/k in the pods pane
/// while the cluster changes). One JSON object.
fn measure_churn(
    bin: &str,
    kubeconfig: &str,
    url: &str,
    rate: f64,
    secs: f64,
    samples: usize,
) -> Res<()> {
    let started = Instant::now();
    let mut tui = Tui::spawn(bin, kubeconfig)?;
    let ready = if is_kdash(bin) {
        tui.wait_for("pods on screen", |s| s.contains("Running"))?
    } else {
        tui.wait_for("the first complete frame", complete)?
    };
    let first_frame_ms = (ready - started).as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_secs(2));
    if !is_kdash(bin) {
        focus_pods(&mut tui)?;
    }
    let pods = some_pods(url, 300)?;
    let pid = tui.pid()?;
    let t0 = cpu_ticks(pid)?;
    let w0 = Instant::now();
    let changes = churn(url.to_string(), pods, rate, secs);
    let mut keys = Vec::new();
    let gap = Duration::from_secs_f64((secs / (samples as f64 + 1.0)).max(0.05));
    for i in 0..samples {
        std::thread::sleep(gap);
        let before = tui.contents();
        let t = Instant::now();
        tui.press(if i % 2 == 0 { "j" } else { "k" })?;
        let seen = tui.wait_for("the frame after a key", |s| s != before)?;
        keys.push((seen - t).as_secs_f64() * 1000.0);
    }
    let made = changes
        .join()
        .map_err(|_| "the churn thread panicked".to_string())?;
    let cpu_pct =
        (cpu_ticks(pid)? - t0) as f64 / clock_ticks_per_second() / w0.elapsed().as_secs_f64()
            * 100.0;
    let rss = rss_kib(pid);
    let mut k2 = keys.clone();
    println!(
        "{}",
        serde_json::json!({
            "first_frame_ms": first_frame_ms,
            "cpu_pct": cpu_pct,
            "rss_mib": rss as f64 / 1024.0,
            "changes": made,
            "seconds": w0.elapsed().as_secs_f64(),
            "key_ms": {"p50": percentile(&mut k2.clone(), 0.5), "p95": percentile(&mut k2, 0.95), "samples": keys},
        })
    );
    Ok(())
}

/// The first complete frame: findings counted and the pods pane showing pods.
fn complete(s: &str) -> bool {
    s.contains("Findings (") && !s.contains("Loading") && s.contains("Running")
}

fn create_pod(url: &str, name: &str) -> Res<()> {
    let body = serde_json::json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                                 "imagePullPolicy": "IfNotPresent"}]}
    })
    .to_string();
    let (status, answer) = request(
        &authority(url)?,
        "POST",
        "/api/v1/namespaces/default/pods",
        "application/json",
        body.as_bytes(),
    )?;
    if status != 201 && status != 200 {
        return Err(format!(
            "create pod {name}: HTTP {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    Ok(())
}

fn delete_pod(url: &str, name: &str) -> Res<()> {
    let path = format!("/api/v1/namespaces/default/pods/{name}");
    let (status, answer) = request(&authority(url)?, "DELETE", &path, "application/json", b"")?;
    if status != 200 && status != 202 {
        return Err(format!(
            "delete pod {name}: HTTP {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    Ok(())
}

fn measure(bin: &str, kubeconfig: &str, url: &str, samples: usize, idle_s: f64) -> Res<()> {
    let started = Instant::now();
    let mut tui = Tui::spawn(bin, kubeconfig)?;
    let first = tui.wait_for("the first complete frame", complete)?;
    let first_frame_ms = (first - started).as_secs_f64() * 1000.0;

    // Idle: no input; let the start-up settle first.
    std::thread::sleep(Duration::from_secs(2));
    let pid = tui.pid()?;
    let t0 = cpu_ticks(pid)?;
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(idle_s));
    let ticks = cpu_ticks(pid)? - t0;
    let idle_cpu_pct = ticks as f64 / clock_ticks_per_second() / w0.elapsed().as_secs_f64() * 100.0;

    focus_pods(&mut tui)?;
    // Key to frame: move the pods selection (all 5,000 pods) down and up; any change of the
    // screen counts.
    let mut keys = Vec::new();
    for i in 0..samples {
        let before = tui.contents();
        let key = if i % 2 == 0 { "j" } else { "k" };
        let t = Instant::now();
        tui.press(key)?;
        let seen = tui.wait_for("the frame after a key", |s| s != before)?;
        keys.push((seen - t).as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(30));
    }

    // Change to screen: filter the pods pane to the bench's pods, then create them one by one.
    let prefix = format!("bench{}", std::process::id());
    tui.press("/")?;
    tui.press(&prefix)?;
    tui.press("\r")?;
    std::thread::sleep(Duration::from_millis(300));
    let mut change = Vec::new();
    for i in 0..samples {
        let name = format!("{prefix}-{i:03}");
        let t = Instant::now();
        create_pod(url, &name)?;
        let seen = tui.wait_for(&format!("pod {name} on screen"), |s| s.contains(&name))?;
        change.push((seen - t).as_secs_f64() * 1000.0);
        // Keep the filtered list short so the next pod is on screen, not scrolled away.
        delete_pod(url, &name)?;
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut c2 = change.clone();
    let mut k2 = keys.clone();
    println!(
        "{}",
        serde_json::json!({
            "first_frame_ms": first_frame_ms,
            "idle_cpu_pct": idle_cpu_pct,
            "idle_s": idle_s,
            "change_ms": {"p50": percentile(&mut c2.clone(), 0.5), "p95": percentile(&mut c2, 0.95), "samples": change},
            "key_ms": {"p50": percentile(&mut k2.clone(), 0.5), "p95": percentile(&mut k2, 0.95), "samples": keys},
        })
    );
    Ok(())
}

/// Tab until the pods pane has the focus (its title is highlighted as `▶ Pods` or similar);
/// falls back to pressing Tab once.
fn focus_pods(tui: &mut Tui) -> Res<()> {
    for _ in 0..6 {
        if tui.contents().contains("[Pods") || tui.contents().contains("▶ Pods") {
            return Ok(());
        }
        tui.press("\t")?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn dump(bin: &str, kubeconfig: &str, secs: f64) -> Res<()> {
    let mut tui = Tui::spawn(bin, kubeconfig)?;
    std::thread::sleep(Duration::from_secs_f64(secs));
    println!("{}", tui.contents());
    tui.press("\t")?;
    std::thread::sleep(Duration::from_millis(300));
    println!("---- after Tab\n{}", tui.contents());
    Ok(())
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let result = match a.first().map(String::as_str) {
        Some("dump") if a.len() == 4 => dump(&a[1], &a[2], a[3].parse().unwrap_or(5.0)),
        Some("churn") if a.len() == 7 => measure_churn(
            &a[1],
            &a[2],
            &a[3],
            a[4].parse().unwrap_or(5.0),
            a[5].parse().unwrap_or(10.0),
            a[6].parse().unwrap_or(20),
        ),
        _ if a.len() == 5 => measure(
            &a[0],
            &a[1],
            &a[2],
            a[3].parse().unwrap_or(40),
            a[4].parse().unwrap_or(15.0),
        ),
        _ => Err(
            "usage: bench_dashboard KINDSCOPE KUBECONFIG URL SAMPLES IDLE_S | dump KINDSCOPE KUBECONFIG SECONDS | churn DASHBOARD KUBECONFIG URL RATE SECONDS SAMPLES"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("bench_dashboard: {e}");
        std::process::exit(1);
    }
}
