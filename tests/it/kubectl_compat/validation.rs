//! Field validation: kubectl sends `fieldValidation=Strict` by default (`--validate=strict`)
//! and the server rejects fields the schema does not declare, worded as the apiserver's strict
//! decoder; `--validate=warn` creates the object and prints the server's warnings.

use super::support::Sim;

const TYPO: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
spec:
  replica: 2
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        imagePullPolcy: Always
";

#[test]
fn a_typo_is_rejected_by_default_and_a_warning_with_validate_warn() {
    let sim = Sim::start(None);
    let out = sim.run_with_stdin(&["apply", "-f", "-"], Some(TYPO));
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \
         \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \
         \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePullPolcy\""
    );
    sim.wait_gone(&["get", "deployment", "typo"]);
    let out = sim.run_with_stdin(&["create", "--validate=warn", "-f", "-"], Some(TYPO));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Warning: unknown field \"spec.replica\"\n"),
        "{err}"
    );
    assert!(
        err.contains("Warning: unknown field \"spec.template.spec.containers[0].imagePullPolcy\""),
        "{err}"
    );
    // The unknown fields are dropped, as the decoder drops them.
    let d = sim.json(&["get", "deployment", "typo"]);
    assert!(d["spec"].get("replica").is_none(), "{d}");
}
