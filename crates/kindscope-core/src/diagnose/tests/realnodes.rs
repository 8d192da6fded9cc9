//! The rules against real Kind nodes: the two Nodes of a kind v0.18 cluster
//! (`kindest/node:v1.26.3`) as its API served them (tests/fixtures/realworld/SOURCES.md). They carry
//! `import-…` names beside real tags, tag+digest names, and digest names added by a pull,
//! exactly as docs/findings.md ("Facts about real Kind nodes") describes. The workloads are
//! the tests' own, except kind's own local-path-provisioner image string.

use k8s_openapi::api::core::v1::Node;

use super::only;
use crate::diagnose::testkit::{Cluster, Deploy, Fate};
use crate::diagnose::{FindingKind, diagnose};

const CONTROL_PLANE: &str = include_str!(
    "../../../../../tests/fixtures/realworld/autoscaler-kind-v1.26-control-plane.yaml"
);
const WORKER: &str =
    include_str!("../../../../../tests/fixtures/realworld/autoscaler-kind-v1.26-worker.yaml");
/// kind v0.18's own pinned reference (pkg/build/nodeimage/const_storage.go).
const PROVISIONER: &str = "docker.io/kindest/local-path-provisioner:v0.0.23-kind.0@sha256:f2d0a02831ff3a03cf51343226670d5060623b43a4cfc4808bd0875b2c4b9501";
const PROVISIONER_BY_DIGEST: &str = "docker.io/kindest/local-path-provisioner@sha256:f2d0a02831ff3a03cf51343226670d5060623b43a4cfc4808bd0875b2c4b9501";

fn node(yaml: &str) -> Node {
    serde_saphyr::from_str(yaml).expect("the fixture is a valid Node")
}

fn kind_v1_26() -> Cluster {
    Cluster::kind("kind")
        .real_node(node(CONTROL_PLANE))
        .real_node(node(WORKER))
}

#[test]
fn the_fixture_nodes_are_what_the_facts_say() {
    let snap = kind_v1_26().build();
    let worker = &snap.node_images["kind-worker"].images;
    let names: Vec<&str> = worker
        .iter()
        .flat_map(|i| i.names.iter().map(String::as_str))
        .collect();
    assert!(names.contains(&"registry.k8s.io/kube-apiserver:v1.26.3"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("docker.io/library/import-2023-03-30@sha256:"))
    );
    assert!(names.contains(&PROVISIONER) && !names.contains(&PROVISIONER_BY_DIGEST));
    let cp = &snap.node_images["kind-control-plane"].images;
    assert!(
        cp.iter()
            .any(|i| i.names.iter().any(|n| n == PROVISIONER_BY_DIGEST))
    );
}

/// Negative control: a healthy real node with import and pinned names. Workloads asking for
/// exactly what the nodes resolve (a tag held beside an import name, a digest name, a
/// tag+digest whose digest name is held) are never reported, even with policy Never.
#[test]
fn healthy_real_nodes_with_import_and_pinned_names_give_no_finding() {
    let snap = kind_v1_26()
        .deploy(Deploy::new("kube-system", "api").container_policy(
            "api",
            "registry.k8s.io/kube-apiserver:v1.26.3",
            "Never",
        ))
        .deploy(Deploy::new("kube-system", "net").container_policy(
            "net",
            "docker.io/kindest/kindnetd:v20230330-48f316cd@sha256:c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af",
            "Never",
        ))
        .deploy(Deploy::new("local-path-storage", "lpp").container(
            "local-path-provisioner",
            PROVISIONER,
        ))
        .pod("api", "kind-worker", &[("api", Fate::Running)])
        .pod(
            "lpp",
            "kind-control-plane",
            &[("local-path-provisioner", Fate::err_pull())],
        )
        .build();
    assert_eq!(diagnose(&snap), vec![]);
}

/// kind-worker lists kind's preloaded `repo:tag@sha256:…` only; containerd looks the pod's
/// reference up as `repo@sha256:…`, which that node does not hold (kind #3173). The image is
/// there, but no name on the node resolves: no patch, the re-tag command instead.
#[test]
fn a_tag_and_digest_name_alone_does_not_resolve() {
    let snap = kind_v1_26()
        .deploy(
            Deploy::new("local-path-storage", "lpp")
                .container("local-path-provisioner", PROVISIONER),
        )
        .pod(
            "lpp",
            "kind-worker",
            &[("local-path-provisioner", Fate::err_pull())],
        )
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::UnresolvableName);
    assert_eq!(f.nodes, vec!["kind-worker"]);
    assert_eq!((f.suggested_image.as_deref(), &f.patch), (None, &None));
    assert_eq!(
        f.command.as_deref(),
        Some(format!(
            "docker exec kind-worker ctr --namespace=k8s.io images tag --force {PROVISIONER} {PROVISIONER_BY_DIGEST}"
        ))
        .as_deref()
    );
    assert!(f.summary.contains(PROVISIONER_BY_DIGEST), "{}", f.summary);
}

/// The same with policy Never and no pod yet: the failure is certain from the node list.
#[test]
fn never_with_only_a_tag_and_digest_name_is_certain_to_fail() {
    let worker_only = Cluster::kind("kind")
        .real_node(node(WORKER))
        .deploy(Deploy::new("local-path-storage", "lpp").container_policy(
            "local-path-provisioner",
            PROVISIONER,
            "Never",
        ))
        .build();
    let f = only(&diagnose(&worker_only)).clone();
    assert_eq!(f.kind, FindingKind::UnresolvableName);
    assert_eq!(f.patch, None);
}

/// A tag asked while the node lists only `repo:tag@sha256:…` plus the digest name a pull
/// added: the digest-carrying name resolves, so it is suggested and patched.
#[test]
fn a_tag_resolves_nowhere_but_a_held_digest_name_does() {
    let snap = kind_v1_26()
        .deploy(
            Deploy::new("default", "net")
                .container("net", "docker.io/kindest/kindnetd:v20230330-48f316cd"),
        )
        .pod("net", "kind-worker", &[("net", Fate::err_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::UnresolvableName);
    let pick = f
        .suggested_image
        .clone()
        .expect("a resolvable name is held");
    assert!(pick.contains("@sha256:c19d6362"), "{pick}");
    let patch = f.patch.expect("patched to a resolvable name");
    assert_eq!(patch[2]["value"], pick.as_str());
}

/// registry-prefix against real names: the only candidate for `localhost/kindest/…` is a
/// `repo:tag@sha256:…` the node cannot resolve as written, so no patch goes to it; where the
/// candidate resolves (its digest name is held), it is patched in.
#[test]
fn a_suggestion_is_always_a_name_the_node_resolves() {
    let snap = kind_v1_26()
        .deploy(Deploy::new("default", "helper").container_policy(
            "helper",
            "localhost/kindest/local-path-helper:v20230330-48f316cd",
            "IfNotPresent",
        ))
        .deploy(Deploy::new("default", "net").container_policy(
            "net",
            "localhost/kindest/kindnetd:v20230330-48f316cd",
            "IfNotPresent",
        ))
        .pod("helper", "kind-worker", &[("helper", Fate::err_pull())])
        .pod("net", "kind-worker", &[("net", Fate::err_pull())])
        .build();
    let findings = diagnose(&snap);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let helper = &findings[0];
    assert_eq!(helper.workload, "Deployment/helper");
    assert_eq!(helper.kind, FindingKind::RegistryPrefix);
    assert_eq!(
        (helper.suggested_image.as_deref(), &helper.patch),
        (None, &None)
    );
    assert!(helper.candidates.is_empty(), "{:?}", helper.candidates);
    let cmd = helper.command.as_deref().unwrap_or("");
    assert!(
        cmd.starts_with("docker exec kind-worker ctr --namespace=k8s.io images tag --force docker.io/kindest/local-path-helper:v20230330-48f316cd@sha256:135203f2")
            && cmd.ends_with(" localhost/kindest/local-path-helper:v20230330-48f316cd"),
        "{cmd}"
    );
    let net = &findings[1];
    assert_eq!(net.kind, FindingKind::RegistryPrefix);
    let pick = net.suggested_image.as_deref().unwrap_or("");
    assert!(pick.starts_with("docker.io/kindest/kindnetd"), "{pick}");
    assert!(net.patch.is_some());
}

/// renamed-on-import is for images named by imports alone: these nodes carry an import name
/// beside every kube-* tag, and none of them is an unnamed import.
#[test]
fn import_names_beside_real_names_are_not_unnamed_imports() {
    let snap = kind_v1_26()
        .deploy(Deploy::new("multivendor", "ceos").container_policy("ceos", "ceos:latest", "Never"))
        .pod("ceos", "kind-worker", &[("ceos", Fate::never_pull())])
        .build();
    let f = only(&diagnose(&snap)).clone();
    assert_eq!(f.kind, FindingKind::NotLoaded);
    assert!(f.candidates.is_empty());
}

/// The positive case beside it: an image whose only name is an import name is a candidate.
#[test]
fn an_image_named_only_by_an_import_is_renamed_on_import() {
    let mut cluster = kind_v1_26()
        .deploy(Deploy::new("multivendor", "ceos").container_policy("ceos", "ceos:latest", "Never"))
        .pod("ceos", "kind-worker", &[("ceos", Fate::never_pull())]);
    let unnamed = "docker.io/library/import-2023-06-01@sha256:0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0d0e0f0a0b";
    if let Some(ni) =
        std::sync::Arc::make_mut(&mut cluster.snapshot_mut().node_images).get_mut("kind-worker")
    {
        ni.images.push(crate::model::NodeImage {
            names: vec![unnamed.into()],
            ..Default::default()
        });
    }
    let f = only(&diagnose(&cluster.build())).clone();
    assert_eq!(f.kind, FindingKind::RenamedOnImport);
    assert_eq!(f.candidates, vec![unnamed]);
}

/// With a runtime listing (crictl reports image IDs), the re-tag starts from the image ID, which
/// the CRI keeps as a name of every image it manages, as `kind load` re-tags.
#[test]
fn the_retag_starts_from_the_image_id_when_the_runtime_reported_it() {
    let id = "sha256:9eda906092e5700000000000000000000000000000000000000000000000000f";
    let mut cluster = kind_v1_26()
        .deploy(
            Deploy::new("local-path-storage", "lpp")
                .container("local-path-provisioner", PROVISIONER),
        )
        .pod(
            "lpp",
            "kind-worker",
            &[("local-path-provisioner", Fate::err_pull())],
        );
    // The same image (same ID) on both nodes, as crictl lists it there.
    for ni in std::sync::Arc::make_mut(&mut cluster.snapshot_mut().node_images).values_mut() {
        for img in ni
            .images
            .iter_mut()
            .filter(|i| i.names.iter().any(|n| n == PROVISIONER))
        {
            img.id = Some(id.into());
        }
    }
    let f = only(&diagnose(&cluster.build())).clone();
    assert_eq!(
        f.command.as_deref(),
        Some(format!(
            "docker exec kind-worker ctr --namespace=k8s.io images tag --force {id} {PROVISIONER_BY_DIGEST}"
        ))
        .as_deref()
    );
}
