//! Against the sim, through the kubeconfig it writes: colour conventions of `diagnose`, the
//! kubectl plugin, namespace completion, and progress lines on a slow API server.

use std::path::PathBuf;
use std::time::Duration;

use kindscope::sim::faults::Faults;
use kindscope::sim::{RunningSim, SimOptions};

use crate::support::sim::{TestSim, shipped_scenario};

use super::*;

struct Sim {
    sim: RunningSim,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Sim {
    async fn start(faults: Faults) -> Sim {
        let opts = SimOptions {
            speed: 20.0,
            faults,
            ..SimOptions::default()
        };
        let TestSim {
            sim,
            dir,
            kubeconfig,
        } = TestSim::start(&shipped_scenario("gateway-debug"), opts).await;
        Sim {
            sim,
            dir,
            kubeconfig,
        }
    }

    fn kc(&self) -> &str {
        self.kubeconfig.to_str().expect("utf-8 path")
    }

    /// `kindscope ARGS --kubeconfig KC --runtime none`, off the async runtime.
    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend([
            "--kubeconfig".into(),
            self.kc().into(),
            "--runtime".into(),
            "none".into(),
        ]);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let dir = self.dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = all.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            super::run(&args, &env, &dir)
        })
        .await
        .expect("join")
    }

    /// Wait until `diagnose` names the story's two findings, every other pod has started and
    /// two runs in a row print the same, so later runs see a settled sim.
    async fn settled(&self) -> Output {
        let mut last: Option<Output> = None;
        for _ in 0..150 {
            let out = self.run(&["diagnose"], &[]).await;
            let shown = text(&out.stdout);
            let done = out.status.code() == Some(1)
                && shown.contains("2 image mismatches")
                && !shown.contains("Not started yet");
            if done && last.as_ref().is_some_and(|l| l.stdout == out.stdout) {
                return out;
            }
            last = done.then_some(out);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the gateway-debug story did not settle on two findings");
    }
}

/// Arguments, environment, whether stdout is coloured.
type Case = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    bool,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colour_follows_the_flag_and_the_environment() {
    let sim = Sim::start(Faults::default()).await;
    let plain = sim.settled().await;
    assert!(!plain.stdout.contains(&0x1b), "no colour into a pipe");
    let cases: [Case; 6] = [
        (&["diagnose"], &[("NO_COLOR", "1")], false),
        (
            &["diagnose", "--color", "never"],
            &[("CLICOLOR_FORCE", "1")],
            false,
        ),
        (&["diagnose", "--color", "always"], &[], true),
        (
            &["--color", "always", "diagnose"],
            &[("NO_COLOR", "1")],
            true,
        ),
        (&["diagnose"], &[("CLICOLOR_FORCE", "1")], true),
        // NO_COLOR wins over CLICOLOR_FORCE under auto.
        (
            &["diagnose"],
            &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
            false,
        ),
    ];
    for (args, env, coloured) in cases {
        let out = sim.run(args, env).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(out.stdout.contains(&0x1b), coloured, "{args:?} {env:?}");
        assert!(
            !out.stderr.contains(&0x1b),
            "{args:?} {env:?}: stderr is a pipe too"
        );
        if coloured {
            // The words are the same, only painted.
            let stripped = strip_ansi(&text(&out.stdout));
            assert_eq!(stripped, text(&plain.stdout), "{args:?}");
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = super::run(&["ref", "--color", "always", "Bad"], &[], dir.path());
    assert!(bad.stdout.contains(&0x1b), "an invalid reference is red");
    let never = super::run(&["ref", "--color", "never", "Bad"], &[], dir.path());
    assert!(!never.stdout.contains(&0x1b));
    sim.sim.shutdown().await;
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_kindscope_is_kindscope() {
    if missing("kubectl") {
        return;
    }
    let sim = Sim::start(Faults::default()).await;
    let direct = sim.settled().await;
    let bin_dir = sim.dir.path().join("bin");
    std::fs::create_dir_all(&bin_dir).expect("bin dir");
    std::os::unix::fs::symlink(BIN, bin_dir.join("kubectl-kindscope")).expect("symlink");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kc = sim.kc().to_string();
    let kubectl = |args: Vec<String>| {
        let path = path.clone();
        let dir = sim.dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            Command::new("kubectl")
                .args(args)
                // The same working directory as the direct run: `--source` defaults to the
                // git work tree around it.
                .current_dir(&dir)
                .env("PATH", path)
                .env_remove("NO_COLOR")
                .env_remove("KUBECONFIG")
                .output()
                .expect("run kubectl")
        })
    };
    // kubectl's global flags after the plugin name, before and after the subcommand.
    let forms = [
        "kindscope diagnose --kubeconfig KC --runtime none",
        "kindscope --kubeconfig KC diagnose --runtime none",
        "kindscope --kubeconfig KC --context kind-gateway-debug -n default diagnose --runtime none",
    ];
    for form in forms {
        let form: Vec<&str> = form
            .split(' ')
            .map(|w| if w == "KC" { kc.as_str() } else { w })
            .collect();
        let args: Vec<String> = form.iter().map(|s| s.to_string()).collect();
        let out = kubectl(args).await.expect("join");
        assert_eq!(
            out.status.code(),
            direct.status.code(),
            "{form:?}: {}",
            text(&out.stderr)
        );
        if form.contains(&"-n") {
            assert!(
                text(&out.stdout).contains("namespace default"),
                "{}",
                text(&out.stdout)
            );
        } else {
            assert_eq!(text(&out.stdout), text(&direct.stdout), "{form:?}");
        }
    }
    let help = kubectl(vec!["kindscope".into(), "--help".into()])
        .await
        .expect("join");
    assert!(
        text(&help.stdout).contains("Usage: kubectl kindscope"),
        "{}",
        text(&help.stdout)
    );
    sim.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_complete_from_the_cluster() {
    let sim = Sim::start(Faults::default()).await;
    let kc = sim.kc().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args([
                "--",
                "kindscope",
                "diagnose",
                "--kubeconfig",
                &kc,
                "-n",
                "kube-",
            ])
            .env("_KINDSCOPE_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", "5")
            .output()
            .expect("run the completer")
    })
    .await
    .expect("join");
    let got: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert!(got.contains(&"kube-system".to_string()), "{got:?}");
    assert!(got.iter().all(|n| n.starts_with("kube-")), "{got:?}");
    sim.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_cluster_gets_timestamped_progress_lines_on_stderr() {
    let sim = Sim::start(Faults {
        latency: Some(Duration::from_millis(2500)),
        ..Faults::default()
    })
    .await;
    let out = sim.run(&["diagnose", "--json"], &[]).await;
    let err = text(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    // stdout stays one JSON document.
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON on stdout");
    let line = err
        .lines()
        .find(|l| l.contains("connecting to the current kubeconfig context: done after"))
        .unwrap_or_else(|| panic!("a progress line in:\n{err}"));
    let stamp = &line[..8];
    assert!(
        stamp.chars().enumerate().all(|(i, c)| if i == 2 || i == 5 {
            c == ':'
        } else {
            c.is_ascii_digit()
        }),
        "{line}"
    );
    assert!(
        err.contains("listing nodes, pods and workloads of kind-gateway-debug: done after"),
        "{err}"
    );
    sim.sim.shutdown().await;
}
