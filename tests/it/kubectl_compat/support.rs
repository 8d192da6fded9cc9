//! A sim served by the real binary, and kubectl run against the kubeconfig it writes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous bound for a state to appear; tests wait for states, never for time.
pub const WAIT: Duration = Duration::from_secs(60);

/// `kindscope sim serve` in the background; killed on drop.
pub struct Sim {
    child: Child,
    dir: PathBuf,
    pub kubeconfig: PathBuf,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn kubectl_path() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kubectl"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => p,
        None => panic!("kubectl is not on PATH: these tests drive the real kubectl (install it)"),
    }
}

impl Sim {
    /// Serve the embedded scenario (or `scenario`), fast (`--speed 20`), and wait until the
    /// kubeconfig is written and the server says it is serving.
    pub fn start(scenario: Option<&str>) -> Sim {
        Sim::start_with(scenario, &[])
    }

    /// The same, with more `sim serve` arguments (`--fault …`).
    pub fn start_with(scenario: Option<&str>, extra: &[&str]) -> Sim {
        let dir = std::env::temp_dir().join(format!(
            "kindscope-kubectl-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let kubeconfig = dir.join("kubeconfig");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindscope"));
        cmd.args(["sim", "serve", "--speed", "20", "--color", "never"])
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .args(extra);
        if let Some(s) = scenario {
            let path = dir.join("scenario.yaml");
            std::fs::write(&path, s).expect("scenario");
            cmd.arg("--scenario").arg(path);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kindscope runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("serve prints its address");
        assert!(line.contains("serving"), "sim serve said: {line}");
        assert!(kubeconfig.is_file(), "no kubeconfig written");
        Sim {
            child,
            dir,
            kubeconfig,
        }
    }

    /// Run kubectl with this sim's kubeconfig.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(kubectl_path());
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl runs");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            pipe.write_all(input.as_bytes()).expect("stdin");
        }
        child.wait_with_output().expect("kubectl finishes")
    }

    /// kubectl's stdout, asserting it succeeded.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// kubectl's stderr, asserting it failed.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "kubectl {} succeeded: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A `-o json` read parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a)).expect("kubectl prints JSON")
    }

    /// Poll a `-o json` read until `done` holds (bounded by WAIT); returns the object.
    pub fn wait_json(
        &self,
        args: &[&str],
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let mut a = args.to_vec();
            a.extend(["-o", "json"]);
            let out = self.run(&a);
            if out.status.success()
                && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout)
                && done(&v)
            {
                return v;
            }
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {what}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Poll until `kubectl get ARGS` fails with NotFound (the object is gone).
    pub fn wait_gone(&self, args: &[&str]) {
        let start = Instant::now();
        loop {
            let out = self.run(args);
            if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("NotFound") {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {} to be gone",
                args.join(" ")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
