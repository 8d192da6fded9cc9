//! Bad input to the real binary: exit codes per docs/cli.md (2 usage or bad input, 3 cluster
//! unreachable, 1 invalid reference), one clear sentence naming the input, no panic, no hang.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{NO_HANG, isolated};

/// Run kindscope with `args` (no terminal, no inherited kubeconfig); (output, duration).
fn run(args: &[&str], dir: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let out = isolated(args, dir)
        .current_dir(dir)
        .env("HOME", dir)
        .stdin(Stdio::null())
        .output()
        .expect("run kindscope");
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit `code`, and stderr is one line naming every `words`, with no panic or backtrace.
fn one_sentence(out: &Output, code: i32, words: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line:\n{err}");
    assert!(err.starts_with("kindscope: "), "{err}");
    for w in words {
        assert!(err.contains(w), "{err:?} should name {w:?}");
    }
    no_panic(out);
}

fn no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.to_str().expect("utf-8 path").to_string()
}

fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{server}\"}}\n\
         contexts:\n- name: kind-x\n  context: {{cluster: c, user: u}}\ncurrent-context: kind-x\n\
         users:\n- name: u\n  user: {{}}\n"
    )
}

#[test]
fn garbage_and_missing_kubeconfigs_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let garbage = write(dir.path(), "garbage.yaml", "clusters: [\n  {{{ not yaml\n");
    let binary = write(dir.path(), "binary.yaml", "\u{0}\u{1}\u{2}\u{fffd}");
    for path in [garbage.as_str(), binary.as_str()] {
        for cmd in ["diagnose", "fix"] {
            let (out, _) = run(&[cmd, "--kubeconfig", path], dir.path());
            one_sentence(&out, 2, &[path, "kubeconfig"]);
        }
    }
    let missing = dir.path().join("nope.yaml");
    let missing = missing.to_str().expect("utf-8");
    let (out, _) = run(&["diagnose", "--kubeconfig", missing], dir.path());
    one_sentence(&out, 2, &[missing, "does not exist"]);
    // The dashboard checks the same before it touches the terminal.
    let (out, _) = run(&["--kubeconfig", missing], dir.path());
    one_sentence(&out, 2, &[missing]);
}

#[test]
fn an_unknown_context_exits_2_and_lists_the_known_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = write(dir.path(), "kc.yaml", &kubeconfig("http://127.0.0.1:1"));
    let (out, _) = run(
        &["diagnose", "--kubeconfig", &kc, "--context", "kind-nope"],
        dir.path(),
    );
    one_sentence(&out, 2, &["\"kind-nope\"", "kind-x"]);
}

#[test]
fn an_unreachable_server_answers_within_10_s_with_exit_3() {
    // The 10 s are held by connect's own deadlines and checked on paused time in
    // `cluster::connect`'s tests; the real binary here must answer, in one sentence, not hang.
    let dir = tempfile::tempdir().expect("temp dir");
    // Refused at once.
    let refused = write(
        dir.path(),
        "refused.yaml",
        &kubeconfig("http://127.0.0.1:1"),
    );
    let (out, took) = run(&["diagnose", "--kubeconfig", &refused], dir.path());
    one_sentence(&out, 3, &["kind-x", "127.0.0.1:1"]);
    assert!(took < NO_HANG, "{took:?}");

    // Accepts connections and never answers: the worst case for a timeout.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(64) {
            match c {
                Ok(c) => held.push(c),
                Err(_) => return held,
            }
        }
        held
    });
    let silent = write(
        dir.path(),
        "silent.yaml",
        &kubeconfig(&format!("http://127.0.0.1:{port}")),
    );
    // diagnose and the dashboard side by side (each waits out the connect timeout).
    let dashboard = {
        let (silent, dir) = (silent.clone(), dir.path().to_path_buf());
        std::thread::spawn(move || run(&["--kubeconfig", &silent], &dir))
    };
    let (out, took) = run(&["diagnose", "--kubeconfig", &silent], dir.path());
    one_sentence(&out, 3, &["kind-x", &port.to_string()]);
    assert!(took < NO_HANG, "diagnose took {took:?}");
    let (out, took) = dashboard.join().expect("dashboard run");
    one_sentence(&out, 3, &["kind-x", &port.to_string()]);
    assert!(took < NO_HANG, "the dashboard took {took:?}");
    drop(holder);
}

#[test]
fn a_garbage_scenario_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Valid YAML up to line 4, then an unclosed flow sequence.
    let bad = write(
        dir.path(),
        "bad.yaml",
        "kind: Scenario\nname: t\nnodes:\n  - name: t-control-plane\n    labels: [oops\n",
    );
    for args in [
        vec!["sim", "serve", "--port", "0", "--scenario", bad.as_str()],
        vec!["demo", "--scenario", bad.as_str()],
    ] {
        let (out, took) = run(&args, dir.path());
        one_sentence(&out, 2, &[bad.as_str(), "line "]);
        assert!(took < NO_HANG, "{args:?}: {took:?}");
    }
    // Not YAML at all, and a YAML document that is not a scenario.
    let noise = write(dir.path(), "noise.yaml", "\u{1b}[31m}}}: ::\n\t\u{0}");
    let (out, _) = run(&["sim", "serve", "--scenario", &noise], dir.path());
    one_sentence(&out, 2, &[noise.as_str()]);
    let other = write(
        dir.path(),
        "other.yaml",
        "kind: Deployment\nmetadata: {name: x}\n",
    );
    let (out, _) = run(&["demo", "--scenario", &other], dir.path());
    one_sentence(&out, 2, &[other.as_str(), "Scenario"]);
    let missing = dir.path().join("missing.yaml");
    let missing = missing.to_str().expect("utf-8");
    let (out, _) = run(&["sim", "serve", "--scenario", missing], dir.path());
    one_sentence(&out, 2, &[missing]);
}

#[test]
fn invalid_references_exit_1_without_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    for bad in [
        "::::",
        "",
        "Upper-Case:tag",
        "docker.io/Library/nginx",
        "nginx@sha256:short",
        "a:b:c:d",
        "-leading",
        "nginx:",
        "tab\there",
        "\u{7f}\u{1b}[31m",
        "ünïcödé/ïmage",
    ] {
        let (out, _) = run(&["ref", "--json", "--", bad], dir.path());
        assert_eq!(out.status.code(), Some(1), "{bad:?}: {}", stderr(&out));
        no_panic(&out);
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(line["valid"], false, "{bad:?}");
        assert!(line["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}

#[test]
fn a_megabyte_of_references_exits_1_quickly_with_short_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Linux caps one argument at 128 KiB: eight of them make a megabyte.
    let big: Vec<String> = (0..8)
        .map(|i| {
            let c = if i % 2 == 0 { 'a' } else { 'A' };
            std::iter::repeat_n(c, 130_000).collect()
        })
        .collect();
    let mut args = vec!["ref", "--json"];
    args.extend(big.iter().map(String::as_str));
    let (out, took) = run(&args, dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    no_panic(&out);
    assert!(took < NO_HANG, "{took:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 8);
    for l in &lines {
        assert_eq!(l["valid"], false);
        let e = l["error"].as_str().expect("error");
        assert!(
            e.len() < 400,
            "the error quotes a short form: {} bytes",
            e.len()
        );
    }
}

#[test]
fn unknown_commands_and_flags_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (args, word) in [
        (vec!["frobnicate"], "frobnicate"),
        (vec!["diagnose", "--frobnicate"], "--frobnicate"),
        (vec!["sim", "explode"], "explode"),
        (vec!["ref"], "REF"),
        (vec!["sim", "serve", "--speed", "fast"], "fast"),
        (vec!["diagnose", "--runtime", "rkt"], "rkt"),
    ] {
        let (out, _) = run(&args, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(word), "{args:?}: {err}");
        no_panic(&out);
    }
}

#[test]
fn bad_synthetic_and_fault_specs_exit_2_in_one_sentence() {
    let dir = tempfile::tempdir().expect("temp dir");
    for spec in [
        "nodes=abc",
        "bogus=1",
        "nodes",
        "nodes=-1",
        "nodes=99999999999999999999",
    ] {
        let (out, _) = run(&["sim", "serve", "--synthetic", spec], dir.path());
        one_sentence(&out, 2, &["--synthetic"]);
    }
    let tiny = "nodes=1,deployments=1,replicas=1,images-per-node=1,events=1";
    for fault in [
        "explode",
        "latency=fast",
        "error-rate=2",
        "forbid=widgets",
        "drop-watch=",
    ] {
        let (out, _) = run(
            &["sim", "serve", "--synthetic", tiny, "--fault", fault],
            dir.path(),
        );
        one_sentence(&out, 2, &[&format!("\"{fault}\"")]);
    }
}
