//! `kubectl auth can-i` and `auth whoami`: the admin user of a Kind cluster's kubeconfig.

use super::support::Sim;

#[test]
fn auth_can_i_answers_yes_for_the_admin() {
    let sim = Sim::start(None);
    assert_eq!(sim.ok(&["auth", "can-i", "get", "pods"]).trim(), "yes");
    assert_eq!(
        sim.ok(&[
            "auth",
            "can-i",
            "create",
            "deployments",
            "-n",
            "kube-system"
        ])
        .trim(),
        "yes"
    );
    assert_eq!(sim.ok(&["auth", "can-i", "*", "*"]).trim(), "yes");
    let list = sim.ok(&["auth", "can-i", "--list"]);
    assert!(list.lines().any(|l| l.starts_with("*.*")), "{list}");
}

#[test]
fn auth_whoami_names_the_kubeadm_admin() {
    let sim = Sim::start(None);
    let me = sim.json(&["auth", "whoami"]);
    assert_eq!(me["kind"], "SelfSubjectReview");
    assert_eq!(me["status"]["userInfo"]["username"], "kubernetes-admin");
    assert_eq!(
        me["status"]["userInfo"]["groups"],
        serde_json::json!(["kubeadm:cluster-admins", "system:authenticated"])
    );
    let table = sim.ok(&["auth", "whoami"]);
    assert!(table.contains("Username    kubernetes-admin"), "{table}");
}

#[test]
fn auth_can_i_says_no_where_a_fault_forbids() {
    let sim = Sim::start_with(None, &["--fault", "forbid=secrets"]);
    let out = sim.run(&["auth", "can-i", "get", "secrets"]);
    assert_eq!(out.status.code(), Some(1), "kubectl exits 1 for no");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no");
    assert_eq!(sim.ok(&["auth", "can-i", "get", "pods"]).trim(), "yes");
}
