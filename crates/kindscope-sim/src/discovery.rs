//! Version and discovery documents (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/G`,
//! `/apis/G/V`) in the legacy format. Clients asking for aggregated discovery
//! (`as=APIGroupDiscoveryList`) also get these: client-go looks at the response's Content-Type
//! and falls back to the legacy documents, as it does with older apiservers.

use serde_json::{Value, json};

use super::resources::{RESOURCES, ResourceType};

/// `/version` for a Kubernetes version such as `v1.33.1`.
pub fn version(kubernetes_version: &str) -> Value {
    let bare = kubernetes_version.trim_start_matches('v');
    let mut parts = bare.split('.');
    let major = parts.next().unwrap_or("1").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": kubernetes_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`: the core group's versions.
pub fn core_versions(server_addr: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_addr}],
    })
}

fn groups() -> Vec<&'static str> {
    let mut gs: Vec<&'static str> = Vec::new();
    for r in RESOURCES {
        if !r.group.is_empty() && !gs.contains(&r.group) {
            gs.push(r.group);
        }
    }
    gs.extend(["authorization.k8s.io", "authentication.k8s.io"]);
    gs
}

/// The create-only review resources of `kubectl auth` (served by the server's reviews).
fn review_resources(group: &str) -> Vec<Value> {
    let make = |name: &str, kind: &str| json!({"name": name, "singularName": "", "namespaced": false, "kind": kind, "verbs": ["create"]});
    match group {
        "authorization.k8s.io" => vec![
            make("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
            make("selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        ],
        "authentication.k8s.io" => vec![make("selfsubjectreviews", "SelfSubjectReview")],
        _ => Vec::new(),
    }
}

fn group_doc(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`: every named group.
pub fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(group_doc).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`, or None for a group the sim does not serve.
pub fn group(group: &str) -> Option<Value> {
    groups().contains(&group).then(|| {
        let mut g = group_doc(group);
        g["kind"] = json!("APIGroup");
        g["apiVersion"] = json!("v1");
        g
    })
}

fn categories(rt: &ResourceType) -> Vec<&'static str> {
    match rt.kind {
        "Pod" | "Service" | "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            vec!["all"]
        }
        _ => vec![],
    }
}

/// Does this type have a `/status` subresource?
pub fn has_status(rt: &ResourceType) -> bool {
    !matches!(rt.kind, "Event" | "ConfigMap" | "Secret" | "ServiceAccount")
}

/// Does this type have a `/scale` subresource (autoscaling/v1 Scale)?
pub fn has_scale(rt: &ResourceType) -> bool {
    rt.group == "apps" && matches!(rt.kind, "Deployment" | "ReplicaSet" | "StatefulSet")
}

/// `/api/v1` or `/apis/GROUP/VERSION`, or None for a group version the sim does not serve.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let in_gv: Vec<&&ResourceType> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    let mut resources = if version == "v1" {
        review_resources(group)
    } else {
        Vec::new()
    };
    if in_gv.is_empty() && resources.is_empty() {
        return None;
    }
    for rt in in_gv {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = json!(rt.short_names);
        }
        let cats = categories(rt);
        if !cats.is_empty() {
            r["categories"] = json!(cats);
        }
        resources.push(r);
        if has_scale(rt) {
            // The scale client finds the Scale kind's group and version here.
            resources.push(json!({
                "name": format!("{}/scale", rt.plural),
                "singularName": "",
                "namespaced": true,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
        if has_status(rt) {
            resources.push(json!({
                "name": format!("{}/status", rt.plural),
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_as_k8s_types() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
            APIGroupList, APIResourceList, APIVersions,
        };
        let v: APIVersions = serde_json::from_value(core_versions("127.0.0.1:1")).expect("api");
        assert_eq!(v.versions, vec!["v1"]);
        let g: APIGroupList = serde_json::from_value(group_list()).expect("apis");
        assert!(g.groups.iter().any(|g| g.name == "apps"));
        let r: APIResourceList =
            serde_json::from_value(resource_list("apps", "v1").expect("apps")).expect("list");
        assert!(r.resources.iter().any(|r| r.name == "deployments"));
        // batch/v1 is served since the sim runs Jobs; a group it does not serve is not listed.
        let b: APIResourceList =
            serde_json::from_value(resource_list("batch", "v1").expect("batch")).expect("list");
        assert!(b.resources.iter().any(|r| r.name == "jobs"));
        assert!(resource_list("policy", "v1").is_none());
        let ver: k8s_openapi::apimachinery::pkg::version::Info =
            serde_json::from_value(version("v1.33.1")).expect("version");
        assert_eq!((ver.major.as_str(), ver.minor.as_str()), ("1", "33"));
    }
}
