//! `kubectl explain`: kubectl renders the field docs itself (its `explain/v2` templates) from the
//! OpenAPI v3 document of the resource's group version, so what these assert is the output a
//! real cluster gives for the same schemas (docs/sim.md, "OpenAPI v3").

use super::support::Sim;

#[test]
fn explain_pod_prints_kind_version_description_and_fields() {
    let sim = Sim::start(None);
    let out = sim.ok(&["explain", "pod"]);
    assert!(
        out.starts_with(
            "KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n    \
             Pod is a collection of containers that can run on a host. This resource is\n    \
             created by clients and scheduled onto hosts.\n    \nFIELDS:\n  \
             apiVersion\t<string>\n    APIVersion defines the versioned schema"
        ),
        "{out}"
    );
    // No GROUP line for the core group; metadata is not required, as on a real apiserver.
    assert!(!out.contains("GROUP:"), "{out}");
    assert!(out.contains("\n  metadata\t<ObjectMeta>\n"), "{out}");
    assert!(
        out.contains("\n  spec\t<PodSpec>\n    Specification of the desired behavior of the pod."),
        "{out}"
    );
    assert!(out.contains("\n  status\t<PodStatus>\n"), "{out}");
}

#[test]
fn explain_a_nested_field_follows_the_references() {
    let sim = Sim::start(None);
    let out = sim.ok(&["explain", "deployment.spec.template.spec.containers.image"]);
    assert!(
        out.starts_with(
            "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\n\
             FIELD: image <string>\n\n\nDESCRIPTION:\n    Container image name."
        ),
        "{out}"
    );
    // A field whose type is a reference: the field's description, then the type's.
    let out = sim.ok(&["explain", "deploy.spec.strategy"]);
    assert!(
        out.contains(
            "FIELD: strategy <DeploymentStrategy>\n\n\nDESCRIPTION:\n    \
             The deployment strategy to use to replace existing pods with new ones.\n    \
             DeploymentStrategy describes how to replace existing pods with new ones.\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("FIELDS:\n  rollingUpdate\t<RollingUpdateDeployment>\n"),
        "{out}"
    );
    let out = sim.ok(&["explain", "pods.spec.containers"]);
    assert!(out.contains("FIELD: containers <[]Container>"), "{out}");
    assert!(out.contains("\n  name\t<string> -required-\n"), "{out}");
}

#[test]
fn explain_recursive_lists_the_whole_tree() {
    let sim = Sim::start(None);
    let out = sim.ok(&["explain", "deployments", "--recursive"]);
    assert!(
        out.contains(
            "    strategy\t<DeploymentStrategy>\n      \
             rollingUpdate\t<RollingUpdateDeployment>\n        \
             maxSurge\t<IntOrString>\n        maxUnavailable\t<IntOrString>\n      \
             type\t<string>\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("        containers\t<[]Container> -required-\n"),
        "{out}"
    );
    // Descriptions are left out with --recursive.
    assert!(
        !out.contains("Specification of the desired behavior"),
        "{out}"
    );
}

#[test]
fn explain_an_unknown_field_or_resource_fails_as_on_a_real_cluster() {
    let sim = Sim::start(None);
    let err = sim.fails(&["explain", "pod.spec.foo"]);
    assert_eq!(err.trim(), "error: field \"foo\" does not exist", "{err}");
    let err = sim.fails(&["explain", "pods.spec.containers.name.bar"]);
    assert_eq!(err.trim(), "error: field \"bar\" does not exist", "{err}");
    let err = sim.fails(&["explain", "frobs"]);
    assert!(
        err.contains("the server doesn't have a resource type \"frobs\""),
        "{err}"
    );
}

#[test]
fn every_served_resource_explains() {
    let sim = Sim::start(None);
    let kinds = [
        ("namespaces", "", "Namespace"),
        ("nodes", "", "Node"),
        ("pods", "", "Pod"),
        ("events", "", "Event"),
        ("services", "", "Service"),
        ("configmaps", "", "ConfigMap"),
        ("secrets", "", "Secret"),
        ("serviceaccounts", "", "ServiceAccount"),
        ("deployments", "apps", "Deployment"),
        ("replicasets", "apps", "ReplicaSet"),
        ("statefulsets", "apps", "StatefulSet"),
        ("daemonsets", "apps", "DaemonSet"),
        ("jobs", "batch", "Job"),
        (
            "selfsubjectaccessreviews",
            "authorization.k8s.io",
            "SelfSubjectAccessReview",
        ),
        (
            "selfsubjectreviews",
            "authentication.k8s.io",
            "SelfSubjectReview",
        ),
    ];
    for (plural, group, kind) in kinds {
        let out = sim.ok(&["explain", plural]);
        let head = if group.is_empty() {
            format!("KIND:       {kind}\nVERSION:    v1\n")
        } else {
            format!("GROUP:      {group}\nKIND:       {kind}\nVERSION:    v1\n")
        };
        assert!(out.starts_with(&head), "{plural}: {out}");
        assert!(out.contains("\nFIELDS:\n"), "{plural}: {out}");
        assert!(
            out.contains("\n  apiVersion\t<string>\n"),
            "{plural}: {out}"
        );
    }
}

#[test]
fn the_documents_are_served_under_their_hash() {
    let sim = Sim::start(None);
    let root: serde_json::Value =
        serde_json::from_str(&sim.ok(&["get", "--raw", "/openapi/v3"])).expect("JSON");
    let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("apps/v1 listed");
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    let doc: serde_json::Value =
        serde_json::from_str(&sim.ok(&["get", "--raw", url])).expect("JSON");
    let deployment = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"],
        serde_json::json!([{"group": "apps", "version": "v1", "kind": "Deployment"}])
    );
    // An outdated hash is redirected to the current one (kubectl follows), as kube-openapi does.
    let old: serde_json::Value =
        serde_json::from_str(&sim.ok(&["get", "--raw", "/openapi/v3/apis/apps/v1?hash=0123"]))
            .expect("JSON");
    assert_eq!(old, doc);
}
