//! The views and commands of the dashboard in a real terminal (the harness of `tui_e2e.rs`):
//! container logs of a running and of a waiting pod, describe, YAML, `:ns`, `:ctx` between
//! two simulated Kind clusters, undo walking back two fixes through the journal, and
//! kindscope's own log.
//!
//! Each step waits for the exact text it asserts on (polling the emulated screen against the
//! harness's deadline), never for a time.

use std::sync::Arc;

use super::{Tui, fix_one};

/// Esc, then wait until the panes are back: a key typed right after Esc would reach the
/// terminal as Alt+key.
fn close_view(tui: &mut Tui) {
    tui.press("\x1b");
    tui.wait_for("the panes again", |s| s.contains("Findings ("));
}

/// Row of the Pods pane (`2` focuses it) holding `name`: select it by filtering for it.
fn select_pod(tui: &mut Tui, name: &str) {
    tui.press("2");
    tui.press("/");
    tui.press(name);
    tui.press("\r");
    tui.wait_for(&format!("the pod list filtered to {name}"), |s| {
        s.contains(&format!("[/{name}]"))
    });
}

#[test]
fn logs_of_a_running_pod_follow_and_of_a_waiting_pod_say_why_not() {
    let mut tui = Tui::demo(120, 40);
    // The selection starts on the datastorage finding; its pod is refused by the kubelet.
    tui.wait_for("the first finding", |s| {
        s.contains("▶ registry-prefix default Deployment/datastorage")
    });
    tui.wait_for("the kubelet's refusal", |s| s.contains("ErrImageNeverPull"));
    tui.press("l");
    let refused = tui.wait_for("the apiserver's 400 for a waiting container", |s| {
        s.contains("is waiting to start: ErrImageNeverPull")
    });
    assert!(refused.contains("Logs default/datastorage-"), "{refused}");
    assert!(
        refused.contains("container \"datastorage\" in pod \"datastorage-"),
        "{refused}"
    );
    assert!(refused.contains("HTTP 400"), "{refused}");
    close_view(&mut tui);

    // postgres runs: its start-up lines, then (following) health checks as they come.
    select_pod(&mut tui, "postgres");
    tui.wait_for("postgres running", |s| s.contains("Running"));
    tui.press("l");
    let first = tui.wait_for("postgres's log", |s| {
        s.contains("msg=\"starting postgres\" image=postgres:16") && s.contains("following")
    });
    assert!(first.contains("Logs default/postgres-"), "{first}");
    let seen = first.matches("GET /healthz").count();
    tui.wait_for("a new line while following", |s| {
        s.matches("GET /healthz").count() > seen
    });
    // p asks for the previous container: postgres never restarted, so the kubelet says so.
    tui.press("p");
    tui.wait_for("no previous container", |s| {
        s.contains("previous terminated container \"postgres\" in pod \"postgres-")
            && s.contains("not found")
    });
    close_view(&mut tui);
    tui.press("q");
    assert!(tui.wait_exit().success());
    tui.assert_restored();
}

#[test]
fn describe_and_yaml_of_the_selection() {
    let mut tui = Tui::demo(120, 40);
    tui.wait_for("the first finding", |s| {
        s.contains("▶ registry-prefix default Deployment/datastorage")
    });
    // Workloads is focused: the Deployment.
    tui.press("d");
    let deploy = tui.wait_for("describe of the Deployment", |s| {
        s.contains("Describe Deployment default/datastorage") && s.contains("Conditions:")
    });
    assert!(deploy.contains("Image:"), "{deploy}");
    assert!(deploy.contains("kubernaut/datastorage:debug"), "{deploy}");
    assert!(deploy.contains("NewReplicaSet:"), "{deploy}");
    close_view(&mut tui);
    // Its pod: the container state and the kubelet's events, as kubectl describe shows them.
    tui.press("2");
    tui.press("d");
    let pod = tui.wait_for("describe of the pod with its events", |s| {
        s.contains("Describe Pod default/datastorage-") && s.contains("Warning  ErrImageNeverPull")
    });
    assert!(pod.contains("State:"), "{pod}");
    assert!(pod.contains("Waiting"), "{pod}");
    assert!(pod.contains("Reason:"), "{pod}");
    assert!(pod.contains("Controlled By:"), "{pod}");
    close_view(&mut tui);
    tui.press("3");
    tui.press("y");
    let yaml = tui.wait_for("the Deployment's YAML from the server", |s| {
        s.contains("YAML Deployment default/datastorage") && s.contains("kind: Deployment")
    });
    assert!(yaml.contains("apiVersion: apps/v1"), "{yaml}");
    assert!(
        yaml.contains("resourceVersion:"),
        "the server's copy: {yaml}"
    );
    close_view(&mut tui);
    tui.press("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn command_line_switches_namespace_and_panes_and_explains_mistakes() {
    let mut tui = Tui::demo(120, 40);
    tui.wait_for("the first finding", |s| s.contains("Findings (2)"));
    // Tab completes the namespace.
    tui.press(":ns kube-s\t");
    tui.wait_for("the completed namespace", |s| s.contains(":ns kube-system"));
    tui.press("\r");
    let system = tui.wait_for("the kube-system namespace", |s| {
        s.contains("ns kube-system") && s.contains("coredns-")
    });
    assert!(!system.contains("datastorage-"), "{system}");
    tui.press(":ns all\r");
    tui.wait_for("every namespace again", |s| {
        s.contains("ns all namespaces") && s.contains("datastorage-")
    });
    tui.press(":frobnicate\r");
    tui.wait_for("a one-line error", |s| {
        s.contains("Unknown command `:frobnicate`")
    });
    // An unbound key says so instead of doing nothing.
    tui.press("Z");
    tui.wait_for("feedback for an unbound key", |s| {
        s.contains("`Z` does nothing here")
    });
    tui.press("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn ctx_switches_between_two_kind_clusters_without_a_restart() {
    // Two simulated Kind clusters in this process, one kubeconfig holding both contexts.
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let sims = rt.block_on(async {
        let mut sims = Vec::new();
        let mut merged = kube::config::Kubeconfig::default();
        for name in ["gateway-debug", "tag-mismatch"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/scenarios")
                .join(format!("{name}.yaml"));
            let scenario = kindscope::sim::scenario::load_file(&path).expect("scenario");
            let opts = kindscope::sim::SimOptions {
                speed: 20.0,
                ..Default::default()
            };
            let sim = kindscope::sim::start(&scenario, opts).await.expect("sim");
            let one = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml())
                .expect("the sim's kubeconfig parses");
            merged = merged.merge(one).expect("merge kubeconfigs");
            sims.push(Arc::new(sim));
        }
        // JSON is YAML: kubectl and kindscope read it as a kubeconfig.
        let text = serde_json::to_string(&merged).expect("kubeconfig as JSON");
        std::fs::write(&kubeconfig, text).expect("write kubeconfig");
        sims
    });
    let contexts: Vec<String> = sims.iter().map(|s| s.context()).collect();
    let kc = kubeconfig.to_str().expect("utf8 path");
    let mut tui = Tui::spawn(
        &[
            "--kubeconfig",
            kc,
            "--context",
            &contexts[0],
            "--runtime",
            "none",
        ],
        120,
        40,
    );
    tui.wait_for("the first cluster", |s| {
        s.contains(&contexts[0]) && s.contains("Findings (2)")
    });
    tui.press(":ctx kind-t\t");
    tui.wait_for("the completed context", |s| {
        s.contains(&format!(":ctx {}", contexts[1]))
    });
    tui.press("\r");
    let other = tui.wait_for("the second cluster's finding", |s| {
        s.contains(&format!("Switched to context {}", contexts[1]))
            && s.contains("tag-mismatch")
            && !s.contains("Deployment/datastorage")
    });
    assert!(other.contains("writes: kind"), "{other}");
    // And back.
    tui.press(&format!(":ctx {}\r", contexts[0]));
    tui.wait_for("the first cluster again", |s| {
        s.contains(&format!("Switched to context {}", contexts[0]))
            && s.contains("Deployment/datastorage")
    });
    tui.press(":ctx prod\r");
    tui.wait_for("a refusal naming the contexts allowed", |s| {
        s.contains("`prod` is not a context kindscope may switch to")
    });
    tui.press("q");
    assert!(tui.wait_exit().success());
    tui.assert_restored();
    rt.block_on(async {
        for sim in sims {
            if let Ok(sim) = Arc::try_unwrap(sim) {
                sim.shutdown().await;
            }
        }
    });
}

#[test]
fn undo_walks_back_two_fixes_through_the_journal() {
    let mut tui = Tui::demo(120, 40);
    tui.wait_for("the first finding", |s| s.contains("Findings (2)"));
    fix_one(&mut tui, "datastorage");
    fix_one(&mut tui, "gateway");
    tui.wait_for("no findings", |s| s.contains("No image mismatches"));
    // The newest fix first, with the journal's record and the older one waiting.
    tui.press("u");
    let first = tui.wait_for("the undo dialog for gateway", |s| {
        s.contains("Undo the last fix")
            && s.contains("Deployment/gateway")
            && s.contains("1 older fix of this cluster in the journal")
    });
    assert!(
        first.contains("localhost/kubernaut/gateway:debug  →  kubernaut/gateway:debug"),
        "{first}"
    );
    assert!(first.contains("journal id"), "{first}");
    tui.press("y");
    tui.wait_for("gateway undone", |s| {
        s.contains("Deployment/gateway: undone, the old image is back")
    });
    tui.press("u");
    let second = tui.wait_for("the undo dialog for datastorage", |s| {
        s.contains("Undo the last fix") && s.contains("Deployment/datastorage")
    });
    assert!(!second.contains("older fix"), "{second}");
    tui.press("y");
    tui.wait_for("datastorage undone", |s| {
        s.contains("Deployment/datastorage: undone, the old image is back")
    });
    assert_eq!(tui.journal_lines(), 4, "two fixes and two undos journalled");
    tui.press("u");
    tui.wait_for("nothing left", |s| s.contains("Nothing to undo"));
    tui.press("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn kindscope_own_log_shows_what_the_feed_did_without_a_polling_thread() {
    let mut tui = Tui::demo(120, 40);
    tui.wait_for("the panes", |s| s.contains("Findings ("));
    // The records are moved into the pane at each frame (no 10 ms mover thread): the feed's
    // first lines, logged before the first frame, are there when the pane opens.
    tui.press("L");
    let log = tui.wait_for("kindscope's own log", |s| s.contains(": listing"));
    assert!(log.contains("pods: listing"), "{log}");
}
