//! Shared harness of the hostile tests: a sim from a scenario text, the binary against it.

use std::path::{Path, PathBuf};
use std::process::Output;

pub use crate::support::text;
use kindscope::sim::{RunningSim, SimOptions};

/// A running sim and a kubeconfig it wrote, in a temporary directory.
pub struct Sim {
    pub sim: RunningSim,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl Sim {
    /// The sim running `scenario` (YAML text) at speed 20.
    pub async fn start(scenario: &str) -> Sim {
        let scenario = kindscope::sim::scenario::parse(scenario, "test").expect("scenario parses");
        let opts = SimOptions {
            speed: 20.0,
            ..SimOptions::default()
        };
        let sim = kindscope::sim::start(&scenario, opts)
            .await
            .expect("sim starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        Sim {
            sim,
            dir,
            kubeconfig,
        }
    }

    /// kindscope `args` against this sim (no container runtime: the sim has none).
    pub async fn run(&self, args: &[&str]) -> Output {
        let kc = self.kubeconfig.to_str().expect("utf8 path");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--kubeconfig", kc, "--runtime", "none"]);
        kindscope(&all, self.dir.path()).await
    }
}

/// The binary with `args`, its journal and config under `dir`, without colour.
pub fn command(args: &[String], dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kindscope"));
    cmd.args(args)
        .env("KINDSCOPE_STATE_DIR", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("KINDSCOPE_LOG");
    cmd
}

/// [`command`] run to its end, off the async runtime.
pub async fn kindscope(args: &[&str], dir: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || command(&args, &dir).output().expect("run kindscope"))
        .await
        .expect("join")
}

/// The first character a terminal would act on (any control but newline and tab, bidi
/// controls), with its offset, or None.
pub fn first_unsafe(output: &[u8]) -> Option<(usize, char)> {
    String::from_utf8_lossy(output)
        .char_indices()
        .find(|&(_, c)| c != '\n' && c != '\t' && kindscope::sanitize::is_unsafe(c))
}

/// Assert that neither stream of `out` carries a raw control or bidi character.
pub fn assert_terminal_safe(what: &str, out: &Output) {
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some((at, c)) = first_unsafe(bytes) {
            let s = text(bytes);
            let around: String = s[at..].chars().take(80).collect();
            panic!("{what}: {name} carries {c:?} at byte {at}: {around:?}");
        }
    }
}

/// Exactly one line on stderr, starting `kindscope: `.
pub fn one_sentence(out: &Output) -> String {
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one sentence expected on stderr:\n{err}");
    assert!(lines[0].starts_with("kindscope: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

/// The closing sentence on stderr (`kindscope: …`), after any warnings the retrying watch
/// logged on the way; no panic.
pub fn last_sentence(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(last.starts_with("kindscope: "), "{err}");
    last.to_string()
}
