//! The real-world corpus: public, recorded Kind objects (tests/fixtures/realworld/SOURCES.md) served by
//! an independent fixture API server to the real binary, with the expected diagnosis derived
//! from the facts in docs/findings.md ("Facts about real Kind nodes"), never from kindscope's
//! own output. Every future rule is checked here first.

#[path = "realworld/cases.rs"]
mod cases;
#[path = "realworld/describe.rs"]
mod describe;
#[path = "realworld/query.rs"]
mod query;
#[path = "realworld/server.rs"]
mod server;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use server::{Fixture, FixtureServer};

/// A fixture server and a kubeconfig for it, laid out as kind writes one.
pub struct Served {
    pub server: FixtureServer,
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

impl Served {
    pub async fn start(cluster: &str, fixture: Fixture) -> Served {
        let server = FixtureServer::start(fixture).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = server.write_kubeconfig(dir.path(), cluster);
        Served {
            server,
            dir,
            kubeconfig,
        }
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The real binary, with this kubeconfig and no container runtime.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--kubeconfig".into(),
            self.kubeconfig.display().to_string(),
            "--runtime".into(),
            "none".into(),
        ]);
        let state = self.dir.path().join("state");
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_kindscope"))
                .args(&all)
                .env("KINDSCOPE_STATE_DIR", state)
                .env("NO_COLOR", "1")
                .env_remove("KUBECONFIG")
                .env_remove("KINDSCOPE_LOG")
                .output()
                .expect("run kindscope")
        })
        .await
        .expect("join")
    }

    /// `diagnose --json`: (exit code, report).
    pub async fn diagnose(&self) -> (Option<i32>, Value) {
        let out = self.run(&["diagnose", "--json"]).await;
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "diagnose printed no JSON ({e}); stdout: {} stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code(), report)
    }
}
