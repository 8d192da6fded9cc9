//! `kindscope ref` through the real binary: output shapes and exit codes (docs/cli.md).

use std::process::{Command, Output};

fn kindscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kindscope"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the kindscope binary")
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .expect("utf-8 stdout")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn json_one_object_per_reference_all_valid_exits_0() {
    let out = kindscope(&[
        "ref",
        "--json",
        "nginx",
        "kubernaut/gateway:debug",
        "localhost/kubernaut/gateway:debug",
        "[::1]:5000/app@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_lines(&out);
    assert_eq!(v.len(), 4);
    let keys: Vec<&str> = v[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "input", "valid", "full", "lookup", "familiar", "domain", "path", "tag", "digest", "error",
    ];
    let mut got = keys.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(v[0]["full"], "docker.io/library/nginx");
    assert_eq!(v[0]["familiar"], "nginx");
    // The name the node is asked for, beside the normalised one.
    assert_eq!(v[0]["lookup"], "docker.io/library/nginx:latest");
    assert_eq!(
        v[3]["lookup"],
        "[::1]:5000/app@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    );
    assert_eq!(v[0]["tag"], serde_json::Value::Null);
    assert_eq!(v[0]["error"], serde_json::Value::Null);
    assert_eq!(v[1]["full"], "docker.io/kubernaut/gateway:debug");
    assert_eq!(v[1]["domain"], "docker.io");
    assert_eq!(v[1]["path"], "kubernaut/gateway");
    assert_eq!(v[2]["domain"], "localhost");
    assert_eq!(v[2]["familiar"], "localhost/kubernaut/gateway:debug");
    assert_eq!(v[3]["domain"], "[::1]:5000");
    assert_eq!(
        v[3]["digest"],
        "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    );
}

#[test]
fn any_invalid_reference_exits_1_and_says_why() {
    let out = kindscope(&[
        "ref",
        "--json",
        "nginx:1.27",
        "Kubernaut/Gateway:debug",
        "UPPER:1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json_lines(&out);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["valid"], true);
    // An uppercase first component is a registry domain; the path must then be lowercase.
    assert_eq!(v[1]["valid"], false);
    assert_eq!(
        v[1]["error"],
        "invalid reference format: repository name (Gateway) must be lowercase"
    );
    assert_eq!(v[2]["valid"], false);
    assert_eq!(v[2]["full"], serde_json::Value::Null);
}

#[test]
fn human_table_by_default() {
    let out = kindscope(&["ref", "kubernaut/gateway:debug", "gateway"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("INPUT") && lines[0].contains("FULL") && lines[0].contains("FAMILIAR")
    );
    assert!(
        lines[1].contains("docker.io/kubernaut/gateway:debug")
            && lines[1].ends_with("IfNotPresent")
    );
    assert!(lines[2].contains("docker.io/library/gateway") && lines[2].ends_with("Always"));
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn no_reference_is_a_usage_error() {
    let out = kindscope(&["ref"]);
    assert_eq!(out.status.code(), Some(2));
}
