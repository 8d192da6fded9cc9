//! The real binary against the full sim (controllers, kubelet) on every scenario.

use std::collections::BTreeSet;

use kindscope::cluster::journal::JournalEntry;
use kindscope::diagnose::diagnose;
use kindscope::sim::SimOptions;

use crate::support::feed::pods_settled;
use crate::support::sim::{TestSim, shipped_scenario};

use super::*;

/// (kind, workload, container) of a finding, as `diagnose --json` prints it.
type Key = (String, String, String);

/// The scenario `name` of `assets/scenarios/` at speed 20.
async fn start(name: &str) -> TestSim {
    let opts = SimOptions {
        speed: 20.0,
        ..SimOptions::default()
    };
    TestSim::start(&shipped_scenario(name), opts).await
}

/// Wait until every pod has reached a steady state and the diagnosis names `expected`, so the
/// binary sees what a user would see a few seconds after `kind create cluster`.
async fn settle(sc: &TestSim, expected: &BTreeSet<Key>) -> Arc<Snapshot> {
    let conn = sc.connect().await;
    let feed = watch::start(&conn);
    feed.ready(WAIT).await.expect("ready");
    let mut rx = feed.snapshots();
    until(&mut rx, "the scenario to settle", |s| {
        pods_settled(s) && keys(&serde_json::to_value(diagnose(s)).expect("json")) == *expected
    })
    .await
}

/// The image of the first container of Deployment `ns/name`, as the sim holds it.
fn image(sc: &TestSim, ns: &str, name: &str) -> Value {
    let d = sc
        .sim
        .store
        .get(&DEPLOYMENTS, ns, name)
        .expect("deployment");
    d["spec"]["template"]["spec"]["containers"][0]["image"].clone()
}

fn key(kind: &str, workload: &str, container: &str) -> Key {
    (kind.into(), workload.into(), container.into())
}

fn keys(findings: &Value) -> BTreeSet<Key> {
    findings
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("workload"), s("container"))
        })
        .collect()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out.stdout)))
}

/// diagnose --json names exactly `expected`; fix --yes brings every `fixable` workload to
/// Running and exits `fix_exit`; afterwards exactly `expected` minus `fixable` remains.
async fn check(name: &str, expected: &[Key], fixable: &[&str], fix_exit: i32) {
    let sc = start(name).await;
    let expected: BTreeSet<Key> = expected.iter().cloned().collect();
    settle(&sc, &expected).await;

    let out = sc.run(&["diagnose", "--json"]).await;
    let report = json(&out);
    let want_exit = if expected.is_empty() { 0 } else { 1 };
    assert_eq!(
        out.status.code(),
        Some(want_exit),
        "{name}: {}",
        text(&out.stderr)
    );
    assert_eq!(report["context"], sc.sim.context());
    assert_eq!(report["healthy"], expected.is_empty());
    assert_eq!(
        keys(&report["findings"]),
        expected,
        "{name}: diagnose --json"
    );

    let out = sc.run(&["fix", "--yes", "--json", "--timeout", "20"]).await;
    let fixed = json(&out);
    assert_eq!(
        out.status.code(),
        Some(fix_exit),
        "{name}: {}",
        text(&out.stderr)
    );
    let results = fixed["results"].as_array().expect("results");
    let running: BTreeSet<&str> = results
        .iter()
        .filter(|r| r["status"] == "running")
        .filter_map(|r| r["workload"].as_str())
        .collect();
    assert_eq!(
        running,
        fixable.iter().copied().collect(),
        "{name}: {fixed:#}"
    );
    assert_eq!(
        results.len(),
        fixable.len(),
        "{name}: only fixable ones are patched"
    );
    let remaining: BTreeSet<Key> = expected
        .iter()
        .filter(|k| !fixable.contains(&k.1.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        keys(&fixed["remaining"]),
        remaining,
        "{name}: fix remaining"
    );
    assert_eq!(keys(&fixed["unpatched"]), remaining, "{name}: unpatched");
    for f in fixed["unpatched"].as_array().expect("unpatched") {
        assert!(
            f["patch"].is_null(),
            "{name}: an unpatched finding has no patch"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_debug() {
    let keys = [
        key("registry-prefix", "Deployment/datastorage", "datastorage"),
        key("registry-prefix", "Deployment/gateway", "gateway"),
    ];
    check(
        "gateway-debug",
        &keys,
        &["Deployment/datastorage", "Deployment/gateway"],
        0,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy() {
    check("healthy", &[], &[], 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_reference() {
    let keys = [
        key("invalid-reference", "Deployment/frontend", "frontend"),
        key("invalid-reference", "Pod/typo", "frontend"),
    ];
    check("invalid-reference", &keys, &["Deployment/frontend"], 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_loaded() {
    check(
        "not-loaded",
        &[key("not-loaded", "Deployment/report", "report")],
        &[],
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_on_node() {
    check(
        "not-on-node",
        &[key("not-on-node", "Deployment/batch", "batch")],
        &[],
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_policy() {
    let keys = [key("pull-policy", "Deployment/tools", "tools")];
    check("pull-policy", &keys, &["Deployment/tools"], 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_prefix() {
    let keys = [key("registry-prefix", "Deployment/api", "api")];
    check("registry-prefix", &keys, &["Deployment/api"], 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_mismatch() {
    let keys = [
        key("tag-mismatch", "Deployment/web", "web"),
        key("tag-mismatch", "Deployment/worker", "worker"),
    ];
    check("tag-mismatch", &keys, &["Deployment/worker"], 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing_and_writes_no_journal() {
    let sc = start("gateway-debug").await;
    let expected = [
        key("registry-prefix", "Deployment/datastorage", "datastorage"),
        key("registry-prefix", "Deployment/gateway", "gateway"),
    ];
    settle(&sc, &expected.into_iter().collect()).await;
    let out = sc.run(&["fix", "--dry-run", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["dry_run"], true);
    for r in report["results"].as_array().expect("results") {
        assert_eq!(r["status"], "dry-run", "{r}");
    }
    assert_eq!(image(&sc, "default", "gateway"), "kubernaut/gateway:debug");
    assert_eq!(
        image(&sc, "default", "datastorage"),
        "kubernaut/datastorage:debug"
    );
    assert!(!sc.dir.path().join("state/journal.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_yes_and_without_a_terminal_nothing_is_applied() {
    let sc = start("registry-prefix").await;
    settle(
        &sc,
        &[key("registry-prefix", "Deployment/api", "api")]
            .into_iter()
            .collect(),
    )
    .await;
    let out = sc.run(&["fix"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pass --yes"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("JSON patch:"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(image(&sc, "default", "api"), "team/api:1.4.2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edit_fails_the_guard_and_the_journal_undoes_a_fix() {
    let sc = start("gateway-debug").await;
    let expected = [
        key("registry-prefix", "Deployment/datastorage", "datastorage"),
        key("registry-prefix", "Deployment/gateway", "gateway"),
    ];
    let snap = settle(&sc, &expected.into_iter().collect()).await;
    let plans: Vec<FixPlan> = diagnose(&snap)
        .iter()
        .filter_map(|f| kindscope::diagnose::plan(f, &snap))
        .collect();
    assert_eq!(plans.len(), 2);

    // Someone edits gateway after the plan was made.
    sc.sim
        .store
        .modify(&DEPLOYMENTS, "default", "gateway", None, |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("kubernaut/gateway:v2");
            Ok(())
        })
        .expect("concurrent edit");
    let conn = sc.connect().await;
    let mut outcomes = Vec::new();
    for plan in &plans {
        outcomes.push((
            plan.target.name.clone(),
            apply::apply(&conn.client, plan, false).await,
        ));
    }
    for (name, outcome) in &outcomes {
        match name.as_str() {
            "gateway" => assert!(
                matches!(outcome, Err(ApplyError::Conflict { .. })),
                "{outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "{name}: {outcome:?}"),
        }
    }
    assert_eq!(
        image(&sc, "default", "gateway"),
        "kubernaut/gateway:v2",
        "their edit survives"
    );
    assert_eq!(
        image(&sc, "default", "datastorage"),
        "localhost/kubernaut/datastorage:debug"
    );

    // The undo from a journal entry puts datastorage back.
    let fixed = plans
        .iter()
        .find(|p| p.target.name == "datastorage")
        .expect("datastorage plan");
    let entry = JournalEntry::new(
        kindscope::cluster::journal::Action::Fix,
        &conn.context,
        &conn.server,
        fixed,
    );
    apply::undo(&conn.client, &entry.plan, false)
        .await
        .expect("undo");
    assert_eq!(
        image(&sc, "default", "datastorage"),
        "kubernaut/datastorage:debug"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_journals_every_applied_patch_with_its_undo() {
    let sc = start("registry-prefix").await;
    settle(
        &sc,
        &[key("registry-prefix", "Deployment/api", "api")]
            .into_iter()
            .collect(),
    )
    .await;
    let out = sc.run(&["fix", "--yes"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("Running"),
        "{}",
        text(&out.stdout)
    );
    let journal = std::fs::read_to_string(sc.dir.path().join("state/journal.jsonl"))
        .expect("journal written");
    let entries: Vec<JournalEntry> = journal
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line"))
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].context, sc.sim.context());
    assert_eq!(entries[0].plan.target.name, "api");
    assert_eq!(entries[0].plan.image_after, "localhost/team/api:1.4.2");
    assert!(
        entries[0]
            .plan
            .undo
            .as_array()
            .is_some_and(|u| !u.is_empty())
    );
}

/// `kindscope journal --json`, parsed.
async fn journal_rows(sc: &TestSim) -> Vec<Value> {
    let out = sc.run(&["journal", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("journal --json is a JSON array")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_walks_back_the_journal_and_journal_lists_it() {
    let sc = start("gateway-debug").await;
    let keys = [
        key("registry-prefix", "Deployment/datastorage", "datastorage"),
        key("registry-prefix", "Deployment/gateway", "gateway"),
    ];
    settle(&sc, &keys.into_iter().collect()).await;
    let out = sc.run(&["fix", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Newest first: the second fix applied heads the list; both open.
    let rows = journal_rows(&sc).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["state"] == "open" && r["action"] == "fix")
    );
    assert!(
        rows.iter()
            .all(|r| r["context"] == sc.sim.context().as_str())
    );
    let newest = rows[0]["workload"].as_str().expect("workload").to_string();
    let older = rows[1]["workload"].as_str().expect("workload").to_string();
    assert_eq!(
        rows[0]["image_after"],
        format!("localhost/kubernaut/{newest}:debug").as_str()
    );

    // The write guard first, before any connection: a context that is not a local Kind
    // cluster is refused, and nothing is undone.
    let staging = sc.dir.path().join("staging.kubeconfig");
    let kc = std::fs::read_to_string(&sc.kubeconfig).expect("kubeconfig");
    std::fs::write(&staging, kc.replace(&sc.sim.context(), "staging")).expect("write");
    let staging = staging.to_str().expect("utf8 path");
    let out = kindscope(
        &["undo", "--last", "--yes", "--kubeconfig", staging],
        &sc.dir.path().join("state"),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--allow-write"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        image(&sc, "default", &newest),
        format!("localhost/kubernaut/{newest}:debug").as_str()
    );

    // --last undoes the newest fix only, and says what it put back.
    let out = sc.run(&["undo", "--last", "--yes"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("✓ undone:"), "{stdout}");
    assert!(
        stdout.contains("\"op\":\"test\""),
        "the guarded undo patch is shown: {stdout}"
    );
    assert_eq!(
        image(&sc, "default", &newest),
        format!("kubernaut/{newest}:debug").as_str()
    );
    assert_eq!(
        image(&sc, "default", &older),
        format!("localhost/kubernaut/{older}:debug").as_str()
    );
    let rows = journal_rows(&sc).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["action"], "undo");
    assert_eq!(rows[0]["undoes"], rows[1]["id"]);
    assert_eq!(rows[1]["state"], "undone");
    assert_eq!(
        rows[0]["image_after"],
        format!("kubernaut/{newest}:debug").as_str()
    );
    assert_eq!(rows[2]["state"], "open");

    // Again: the older one; then nothing is left to undo (exit 2, one sentence).
    let out = sc.run(&["undo", "--last", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        image(&sc, "default", &older),
        format!("kubernaut/{older}:debug").as_str()
    );
    let out = sc.run(&["undo", "--last", "--yes"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("holds no fix"),
        "{}",
        text(&out.stderr)
    );

    // The human list says the same.
    let out = sc.run(&["journal"]).await;
    let listed = text(&out.stdout);
    assert_eq!(listed.matches("undone").count(), 2, "{listed}");
    assert!(
        listed.contains(&format!("default/Deployment/{older} [{older}]")),
        "{listed}"
    );
}
