//! The official Python client (PyPI `kubernetes`, in the virtual environment `.ci/python-venv`
//! makes on first use) against the sim: list, create, watch from a resourceVersion, 410 for a compacted
//! one, the three patch types, the scale subresource, delete (tests/fixtures/python_client.py).

use std::path::PathBuf;
use std::process::Command;

use super::support::Sim;

/// `KINDSCOPE_PYTHON`, else the venv `.ci/python-venv` keeps under target/ (made on first
/// use: a pinned client from PyPI, so `cargo test` alone sets it up).
fn venv_python() -> PathBuf {
    if let Some(path) = std::env::var_os("KINDSCOPE_PYTHON") {
        return PathBuf::from(path);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join(".ci/python-venv"))
        .output()
        .expect("bash runs .ci/python-venv");
    assert!(
        out.status.success(),
        "could not set up the Python client with `bash .ci/python-venv` (needs python3 and PyPI): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.is_file(), "no Python client at {}", path.display());
    path
}

#[test]
fn the_official_python_client_works() {
    let python = venv_python();
    let sim = Sim::start(None);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python_client.py");
    let out = Command::new(python)
        .arg("-u")
        .arg(script)
        .arg(&sim.kubeconfig)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok "))
        .collect();
    assert_eq!(
        steps,
        ["list", "create", "watch", "410", "patch", "scale", "delete"]
    );
}
