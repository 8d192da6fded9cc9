//! Recognising a Kind cluster and naming its parts the way kind does.
//!
//! kind names the kubeconfig context `kind-NAME`, serves the API on a loopback address, and names
//! each node's container after the Kubernetes node (`NAME-control-plane`, `NAME-worker`,
//! `NAME-worker2`, …), so `RUNTIME exec NODE …` reaches the node a pod runs on.

use std::net::IpAddr;

/// The cluster name kind uses when none is given.
pub const DEFAULT_CLUSTER: &str = "kind";
const CONTEXT_PREFIX: &str = "kind-";

/// `kind-gateway-debug` → `gateway-debug`; `None` for any other context.
pub fn cluster_name_from_context(context: &str) -> Option<&str> {
    context
        .strip_prefix(CONTEXT_PREFIX)
        .filter(|name| !name.is_empty())
}

/// The kubeconfig context kind writes for a cluster.
pub fn context_for_cluster(cluster: &str) -> String {
    format!("{CONTEXT_PREFIX}{cluster}")
}

/// The cluster `kindscope load` targets: `--cluster`, else the one a `kind-NAME` context names,
/// else kind's default `kind`.
pub fn cluster_name(flag: Option<&str>, context: Option<&str>) -> String {
    flag.filter(|s| !s.is_empty())
        .or_else(|| context.and_then(cluster_name_from_context))
        .unwrap_or(DEFAULT_CLUSTER)
        .to_string()
}

/// True when the API server URL points at this machine (127.0.0.0/8, ::1, `localhost`), as kind's
/// port mapping does.
pub fn is_loopback_server(server: &str) -> bool {
    let Ok(uri) = server.parse::<http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A local Kind cluster: a `kind-NAME` context and a loopback API server.
pub fn is_kind_cluster(context: &str, server: &str) -> bool {
    cluster_name_from_context(context).is_some() && is_loopback_server(server)
}

/// Kind names node containers after the Kubernetes nodes; this is the identity, kept in one
/// place so a future provider with other names changes only here.
pub fn node_container_name(node_name: &str) -> &str {
    node_name
}

/// True when `node` is named like a node of `cluster` (`NAME-control-plane`, `NAME-worker3`, …).
pub fn node_belongs_to(node: &str, cluster: &str) -> bool {
    let Some(role) = node
        .strip_prefix(cluster)
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return false;
    };
    let base = role.trim_end_matches(|c: char| c.is_ascii_digit());
    matches!(base, "control-plane" | "worker" | "external-load-balancer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts() {
        assert_eq!(
            cluster_name_from_context("kind-gateway-debug"),
            Some("gateway-debug")
        );
        assert_eq!(cluster_name_from_context("kind-"), None);
        assert_eq!(cluster_name_from_context("prod-eu"), None);
        assert_eq!(context_for_cluster("dev"), "kind-dev");
        assert_eq!(cluster_name(Some("x"), Some("kind-y")), "x");
        assert_eq!(cluster_name(None, Some("kind-y")), "y");
        assert_eq!(cluster_name(None, Some("minikube")), "kind");
        assert_eq!(cluster_name(Some(""), None), "kind");
    }

    #[test]
    fn loopback() {
        assert!(is_loopback_server("https://127.0.0.1:44321"));
        assert!(is_loopback_server("https://127.3.2.1:6443"));
        assert!(is_loopback_server("https://[::1]:6443"));
        assert!(is_loopback_server("http://localhost:8080"));
        assert!(!is_loopback_server("https://10.0.0.5:6443"));
        assert!(!is_loopback_server("https://k8s.example.com"));
        assert!(!is_loopback_server("not a url"));
        assert!(is_kind_cluster("kind-a", "https://127.0.0.1:1"));
        assert!(!is_kind_cluster("kind-a", "https://10.1.1.1:1"));
        assert!(!is_kind_cluster("prod", "https://127.0.0.1:1"));
    }

    #[test]
    fn node_names() {
        assert!(node_belongs_to("dev-control-plane", "dev"));
        assert!(node_belongs_to("dev-worker", "dev"));
        assert!(node_belongs_to("dev-worker12", "dev"));
        assert!(!node_belongs_to("dev2-worker", "dev"));
        assert!(!node_belongs_to("dev-gpu", "dev"));
        assert_eq!(node_container_name("dev-worker"), "dev-worker");
    }
}
