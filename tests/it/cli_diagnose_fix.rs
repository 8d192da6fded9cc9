//! The cluster edge and the `diagnose`/`fix` commands over real HTTP against the sim.
//!
//! `edge`: the edge in-process against the sim's API server alone (the test plays the
//! controllers). `scenarios`: the real binary against the full sim on every scenario in
//! `assets/scenarios/`.

#[path = "cli_diagnose_fix/edge.rs"]
mod edge;
#[path = "cli_diagnose_fix/scenarios.rs"]
mod scenarios;

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::cli::{kindscope, text};
use kindscope::cli::ConnectArgs;
use kindscope::cluster::apply::{self, ApplyError};
use kindscope::cluster::connect::{self, Connection};
use kindscope::cluster::{rollout, watch};
use kindscope::fix::{FixPlan, Target};
use kindscope::model::{ResourceState, Snapshot};
use kindscope::sim::faults::Faults;
use kindscope::sim::kubeconfig::{Credentials, kubeconfig_yaml};
use kindscope::sim::server::{RunningServer, ServerOptions, spawn};
use kindscope::sim::store::{DEPLOYMENTS, NAMESPACES, NODES, PODS, REPLICASETS, Store};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);
const IMAGE_PATH: &str = "/spec/template/spec/containers/0/image";

// ---------------------------------------------------------------------------------------------
// Harness

struct Sim {
    store: Arc<Store>,
    server: RunningServer,
    dir: tempfile::TempDir,
}

impl Sim {
    /// An API-only sim: a worker holding `localhost/kubernaut/gw:debug`, a Deployment asking
    /// for `kubernaut/gw:debug`.
    async fn start() -> Sim {
        let store = Store::new(100);
        store
            .create(&NAMESPACES, json!({"metadata": {"name": "default"}}))
            .expect("namespace");
        store
            .create(
                &NODES,
                json!({"metadata": {"name": "t-worker"},
                       "status": {"images": [{"names": ["localhost/kubernaut/gw:debug"], "sizeBytes": 10}]}}),
            )
            .expect("node");
        store
            .create(&DEPLOYMENTS, deployment("kubernaut/gw:debug"))
            .expect("deployment");
        let opts = ServerOptions {
            cluster_name: "t".into(),
            bookmark_interval: Duration::from_millis(200),
            ..ServerOptions::default()
        };
        let server = spawn(store.clone(), opts, 0).await.expect("sim API starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = Sim { store, server, dir };
        sim.kubeconfig("kind-t");
        sim
    }

    /// Write a kubeconfig for the sim whose context is `context`; returns its path.
    fn kubeconfig(&self, context: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{context}.yaml"));
        let text = self.server.kubeconfig_yaml("t").replace("kind-t", context);
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    async fn connect(&self) -> Connection {
        connect::connect(&ConnectArgs {
            kubeconfig: Some(self.kubeconfig("kind-t")),
            ..ConnectArgs::default()
        })
        .await
        .expect("connects to the sim")
    }

    fn faults(&self, f: impl FnOnce(&mut Faults)) {
        let mut faults = Faults::default();
        f(&mut faults);
        self.server.faults().set(faults);
    }

    fn image(&self) -> Value {
        let d = self.store.get(&DEPLOYMENTS, "default", "gw").expect("gw");
        d["spec"]["template"]["spec"]["containers"][0]["image"].clone()
    }
}

fn deployment(image: &str) -> Value {
    json!({"metadata": {"name": "gw", "namespace": "default"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "gw"}},
                    "template": {"metadata": {"labels": {"app": "gw"}},
                                 "spec": {"containers": [{"name": "gw", "image": image}]}}}})
}

fn plan() -> FixPlan {
    FixPlan {
        target: Target {
            kind: "Deployment".into(),
            namespace: "default".into(),
            name: "gw".into(),
        },
        container: "gw".into(),
        patch: json!([{"op": "test", "path": IMAGE_PATH, "value": "kubernaut/gw:debug"},
                      {"op": "replace", "path": IMAGE_PATH, "value": "localhost/kubernaut/gw:debug"}]),
        undo: json!([{"op": "test", "path": IMAGE_PATH, "value": "localhost/kubernaut/gw:debug"},
                     {"op": "replace", "path": IMAGE_PATH, "value": "kubernaut/gw:debug"}]),
        image_before: "kubernaut/gw:debug".into(),
        image_after: "localhost/kubernaut/gw:debug".into(),
        pull_policy_before: None,
        pull_policy_after: None,
    }
}

/// Wait (on snapshot changes) for a snapshot that satisfies `pred`.
async fn until(
    rx: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    what: &str,
    pred: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    crate::support::feed::until_within(rx, WAIT, what, pred).await
}
