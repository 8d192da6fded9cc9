//! Each `--fault` of the sim against the cluster edge, and a sim restarted on the same port.
//! (403 on a required resource in-process, a relist after one 410, 500s marking resources
//! stale, and a patch meeting a conflict are in tests/it/cli_diagnose_fix/edge.rs; a conflict
//! through `kindscope fix` in tests/it/cli_diagnose_fix/scenarios.rs.)
//!
//! The `kindscope` binary tests run `kindscope sim serve --fault …` and `kindscope diagnose`
//! as a user would; the feed tests run the sim in-process to drive it between assertions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kindscope::cli::ConnectArgs;
use kindscope::cluster::connect::{self, Connection};
use kindscope::cluster::watch;
use kindscope::model::{ResourceState, Snapshot};
use kindscope::sim::faults::Faults;
use kindscope::sim::restart::version_base;
use kindscope::sim::scenario::{self, Scenario};
use kindscope::sim::store::PODS;
use kindscope::sim::{RunningSim, SimOptions, start};
use serde_json::{Value, json};

use crate::support::cli::{ready, sim_serve};
use crate::support::ports;
use crate::support::text;

const WAIT: Duration = Duration::from_secs(15);
const BIN: &str = env!("CARGO_BIN_EXE_kindscope");

fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/gateway-debug.yaml")
}

fn gateway_debug() -> Scenario {
    scenario::load_file(&scenario_path()).expect("shipped scenario loads")
}

// ---------------------------------------------------------------------------------------------
// The real binaries

/// `kindscope sim serve --fault …` in the background; killed on drop.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(faults: &[&str]) -> Served {
        Served::start_with(&[], faults)
    }

    fn start_with(flags: &[&str], faults: &[&str]) -> Served {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut cmd = sim_serve(&kubeconfig);
        cmd.args(["--port", "0", "--scenario"])
            .arg(scenario_path())
            .args(flags);
        for f in faults {
            cmd.args(["--fault", f]);
        }
        let (child, line) = ready(cmd);
        assert!(line.contains("serving gateway-debug at"), "{line}");
        Served {
            child,
            kubeconfig,
            _dir: dir,
        }
    }

    /// `kindscope diagnose --json` against this sim: (output, how long it took).
    fn diagnose(&self) -> (Output, Duration) {
        let state = tempfile::tempdir().expect("state dir");
        let started = Instant::now();
        let out = Command::new(BIN)
            .arg("diagnose")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--runtime", "none", "--json"])
            .env("KINDSCOPE_STATE_DIR", state.path())
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .env_remove("KINDSCOPE_LOG")
            .output()
            .expect("run diagnose");
        (out, started.elapsed())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (kind, workload, container) of every finding in `diagnose --json` output.
fn findings(out: &Output) -> BTreeSet<(String, String, String)> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("diagnose printed JSON ({e}): {}", text(&out.stdout)));
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("workload"), s("container"))
        })
        .collect()
}

fn expected() -> BTreeSet<(String, String, String)> {
    [
        ("registry-prefix", "Deployment/datastorage", "datastorage"),
        ("registry-prefix", "Deployment/gateway", "gateway"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect()
}

/// diagnose under a fault finds exactly what it finds without one.
fn diagnoses_correctly(fault: &str, limit: Duration) -> Output {
    let sim = Served::start(&[fault]);
    let (out, took) = sim.diagnose();
    assert_eq!(out.status.code(), Some(1), "{fault}: {}", text(&out.stderr));
    assert_eq!(findings(&out), expected(), "{fault}");
    assert!(took < limit, "{fault}: diagnose took {took:?}");
    out
}

#[test]
fn every_watch_ending_in_410_still_gives_a_diagnosis() {
    // Lists succeed, every watch is answered 410 Gone: the feed relists over and over. The
    // report uses the complete lists instead of waiting for a watch that never stays up.
    let out = diagnoses_correctly("watch-410", Duration::from_secs(8));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["healthy"] == json!(false));
}

#[test]
fn added_latency_stays_within_limits() {
    // 200 ms on every request: a few sequential requests per resource, well under 10 s.
    diagnoses_correctly("latency=200ms", Duration::from_secs(5));
}

#[test]
fn intermittent_500s_are_retried_until_the_lists_succeed() {
    diagnoses_correctly("error-rate=0.3", Duration::from_secs(12));
}

#[test]
fn dropped_watches_do_not_disturb_a_diagnosis() {
    diagnoses_correctly("drop-watch=100ms", Duration::from_secs(8));
}

#[test]
fn forbidden_events_are_reported_and_the_diagnosis_still_runs() {
    let sim = Served::start(&["forbid=events"]);
    let (out, _) = sim.diagnose();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(findings(&out), expected());

    // The text report says why the evidence is thin.
    let state = tempfile::tempdir().expect("state dir");
    let out = Command::new(BIN)
        .arg("diagnose")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["--runtime", "none"])
        .env("KINDSCOPE_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .env_remove("KINDSCOPE_LOG")
        .output()
        .expect("run diagnose");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("events could not be read") && stdout.contains("forbidden"),
        "{stdout}"
    );
}

#[test]
fn forbidden_pods_exit_3_naming_pods() {
    let sim = Served::start(&["forbid=pods"]);
    let (out, took) = sim.diagnose();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("may not list pods"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no report on a forbidden required resource"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// Plain HTTP on a fresh connection; the status code.
fn http(addr: &str, request: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the sim");
    s.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn clients_that_hang_up_mid_watch_do_not_kill_the_sim() {
    use std::io::Write;
    // Raw sockets need plain HTTP; the kubeconfig then carries the sim's bearer token.
    let mut sim = Served::start_with(&["--plain-http"], &[]);
    let kubeconfig = std::fs::read_to_string(&sim.kubeconfig).expect("kubeconfig");
    let value = |key: &str| {
        kubeconfig
            .split(key)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("{key} in {kubeconfig}"))
            .trim_matches('"')
            .to_string()
    };
    let addr = value("http://");
    let auth = format!("Host: {addr}\r\nAuthorization: Bearer {}", value("token: "));
    // Watches whose clients leave without a word; the sim writes the next events into
    // closed sockets (EPIPE). A process with SIGPIPE at its default dies right there.
    for _ in 0..3 {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.write_all(format!("GET /api/v1/pods?watch=1 HTTP/1.1\r\n{auth}\r\n\r\n").as_bytes())
            .expect("send");
        // Wait until the watch streams (its first events arrived), then hang up.
        let mut first = [0u8; 512];
        let n = s.read(&mut first).expect("the watch answers");
        assert!(
            first[..n].starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&first[..n])
        );
        drop(s);
    }
    for i in 0..12 {
        let body = format!(
            r#"{{"metadata":{{"name":"hangup-{i}","namespace":"default"}},"spec":{{"containers":[{{"name":"c","image":"x"}}]}}}}"#
        );
        let req = format!(
            "POST /api/v1/namespaces/default/pods HTTP/1.1\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(http(&addr, &req), 201);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        sim.child.try_wait().expect("child status").is_none(),
        "the sim died"
    );
    // The root cause, checked directly: a hang-up must be an EPIPE error, never a SIGPIPE.
    let status = std::fs::read_to_string(format!("/proc/{}/status", sim.child.id()))
        .expect("the sim's /proc status");
    let ignored = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .expect("SigIgn mask");
    assert!(ignored & (1 << (13 - 1)) != 0, "SIGPIPE is not ignored");
    assert_eq!(
        http(
            &addr,
            &format!("GET /version HTTP/1.1\r\n{auth}\r\nConnection: close\r\n\r\n")
        ),
        200
    );
    let (out, _) = sim.diagnose();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn a_reader_that_goes_away_ends_diagnose_quietly() {
    // `kindscope diagnose | head -0`: stdout closed before the report is written.
    let sim = Served::start(&[]);
    let state = tempfile::tempdir().expect("state dir");
    let mut child = Command::new(BIN)
        .arg("diagnose")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["--runtime", "none"])
        .env("KINDSCOPE_STATE_DIR", state.path())
        .env_remove("KINDSCOPE_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run diagnose");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("diagnose ends");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The feed in-process

async fn connect(sim: &RunningSim, dir: &Path) -> Connection {
    let path = dir.join("kubeconfig");
    sim.write_kubeconfig(&path).expect("kubeconfig");
    connect::connect(&ConnectArgs {
        kubeconfig: Some(path),
        ..ConnectArgs::default()
    })
    .await
    .expect("connects to the sim")
}

/// Wait (on snapshot changes) for a snapshot that satisfies `pred`.
async fn until(
    rx: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    what: &str,
    pred: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    crate::support::feed::until_within(rx, WAIT, what, pred).await
}

fn uids(names: impl Iterator<Item = Option<String>>) -> BTreeSet<String> {
    names.flatten().collect()
}

fn pod_uids(s: &Snapshot) -> BTreeSet<String> {
    uids(s.pods.iter().map(|p| p.metadata.uid.clone()))
}

fn store_pod_uids(sim: &RunningSim) -> BTreeSet<String> {
    sim.store
        .list(&PODS, None)
        .0
        .iter()
        .filter_map(|p| p["metadata"]["uid"].as_str().map(str::to_string))
        .collect()
}

fn all_live(s: &Snapshot) -> bool {
    s.resources.values().all(|r| *r == ResourceState::Live)
}

fn bare_pod(name: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "localhost/kubernaut/gateway:debug",
                                    "imagePullPolicy": "Never"}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_survives_a_sim_restart_on_the_same_port_without_ghosts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = gateway_debug();
    let first = start(
        &scenario,
        SimOptions {
            port: ports::outside_ephemeral_range(),
            start_resource_version: version_base(),
            ..SimOptions::default()
        },
    )
    .await
    .expect("first sim");
    let port = first.addr().port();
    // The same CA and certificates: the clients' kubeconfig stays valid, as after a restart
    // of a Kind node container.
    let identity = first.identity();
    first
        .store
        .create(&PODS, bare_pod("only-in-the-old-cluster"))
        .expect("pod");
    let conn = connect(&first, dir.path()).await;
    let feed = watch::start(&conn);
    let mut rx = feed.snapshots();
    let old = until(&mut rx, "the first cluster's ghost pod", |s| {
        all_live(s)
            && s.pods
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some("only-in-the-old-cluster"))
    })
    .await;
    let old_uids = pod_uids(&old);
    let old_nodes = uids(old.nodes.iter().map(|n| n.metadata.uid.clone()));

    // Rebuild the cluster on the same port: new uids, new (higher) resourceVersions.
    first.shutdown().await;
    let second = start(
        &scenario,
        SimOptions {
            port,
            start_resource_version: version_base(),
            identity: Some(identity),
            ..SimOptions::default()
        },
    )
    .await
    .expect("the sim restarts on the same port");
    assert_eq!(second.addr().port(), port);

    // The feed relists (the old versions mean nothing to the new cluster) and shows only the
    // new cluster's objects, live.
    let snap = until(&mut rx, "only the new cluster's objects, live", |s| {
        let pods = pod_uids(s);
        let nodes = uids(s.nodes.iter().map(|n| n.metadata.uid.clone()));
        all_live(s)
            && !pods.is_empty()
            && pods.is_disjoint(&old_uids)
            && nodes.is_disjoint(&old_nodes)
            && pods.is_subset(&store_pod_uids(&second))
    })
    .await;
    assert!(
        snap.pods
            .iter()
            .all(|p| p.metadata.name.as_deref() != Some("only-in-the-old-cluster")),
        "a ghost of the old cluster"
    );
    assert_eq!(snap.nodes.len(), old.nodes.len());

    // And it keeps following the new cluster.
    second
        .store
        .create(&PODS, bare_pod("born-after-the-restart"))
        .expect("pod");
    until(&mut rx, "the new pod", |s| {
        s.pods
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some("born-after-the-restart"))
    })
    .await;
    drop(feed);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_reconnect_and_the_feed_stays_correct() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start(
        &gateway_debug(),
        SimOptions {
            faults: Faults::parse(&["drop-watch=200ms"]).expect("fault"),
            ..SimOptions::default()
        },
    )
    .await
    .expect("sim");
    let conn = connect(&sim, dir.path()).await;
    let feed = watch::start(&conn);
    let mut rx = feed.snapshots();
    feed.ready(WAIT).await.expect("ready");

    // Changes made while watches are being cut every 200 ms all arrive, in order.
    for i in 0..4 {
        let name = format!("churn-{i}");
        sim.store.create(&PODS, bare_pod(&name)).expect("pod");
        until(&mut rx, "the created pod", |s| {
            s.pods
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some(name.as_str()))
        })
        .await;
        tokio::time::sleep(Duration::from_millis(250)).await; // past at least one drop
        sim.store.delete(&PODS, "default", &name).expect("delete");
        until(&mut rx, "the deleted pod to go", |s| {
            s.pods
                .iter()
                .all(|p| p.metadata.name.as_deref() != Some(name.as_str()))
        })
        .await;
    }
    // In the end the feed holds exactly the cluster's pods.
    let snap = until(&mut rx, "the feed to match the cluster", |s| {
        pod_uids(s) == store_pod_uids(&sim)
    })
    .await;
    assert!(!snap.pods.is_empty());
    drop(feed);
    sim.shutdown().await;
}
