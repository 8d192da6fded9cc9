//! The official Python client (PyPI `kubernetes`, in the virtual environment `.ci/python-venv`
//! makes) against the sim: list, create, watch from a resourceVersion, 410 for a compacted
//! one, the three patch types, the scale subresource, delete (tests/fixtures/python_client.py).

use std::path::PathBuf;
use std::process::Command;

use super::support::Sim;

/// `KINDSCOPE_PYTHON`, else the venv `.ci/python-venv` creates under target/.
fn venv_python() -> PathBuf {
    let path = std::env::var_os("KINDSCOPE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python")
        });
    assert!(
        path.is_file(),
        "no Python client at {}: create it with `bash .ci/python-venv`",
        path.display()
    );
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
