//! What Kind itself puts in every cluster: its namespaces and the images its node image
//! preloads. The dashboard folds them by default (`s` shows them) so that what the user loaded
//! and deployed fills the panes (docs/dashboard.md, "Folding").

use std::collections::HashMap;

use crate::diagnose::Finding;
use crate::imageref::ImageRef;
use crate::model::Snapshot;
use crate::tui::view::{NodeRow, PodRow, WorkloadKey, WorkloadRow, workload_rows};

/// Namespaces Kind (kubeadm, and Kind's default storage) creates in every cluster.
pub const KIND_NAMESPACES: [&str; 4] = [
    "kube-node-lease",
    "kube-public",
    "kube-system",
    "local-path-storage",
];

pub fn is_kind_namespace(ns: &str) -> bool {
    KIND_NAMESPACES.contains(&ns)
}

/// Repositories (registry and path, tag ignored) of the images Kind's node image preloads: the
/// Kubernetes images `kubeadm config images list` names (apiserver, controller-manager,
/// scheduler, proxy, etcd, CoreDNS, pause), Kind's CNI `kindnetd` and its storage provisioner
/// and helper. Kind's node-image build (kubernetes-sigs/kind `pkg/build/nodeimage/
/// buildcontext.go`, `const_cni.go`, `const_storage.go`) pulls exactly these into every node;
/// older releases used `k8s.gcr.io` and `rancher/local-path-provisioner` with a `debian-base`
/// helper.
const KIND_BASE_PATHS: [&str; 8] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "etcd",
    "coredns/coredns",
    "coredns",
    "pause",
];
const KIND_BASE_REPOSITORIES: [&str; 6] = [
    "docker.io/kindest/kindnetd",
    "docker.io/kindest/local-path-provisioner",
    "docker.io/kindest/local-path-helper",
    "docker.io/rancher/local-path-provisioner",
    "registry.k8s.io/build-image/debian-base",
    "k8s.gcr.io/build-image/debian-base",
];

/// Whether `name` is one of Kind's preloaded base images. A user's own image under
/// `registry.k8s.io` (an ingress controller, say) is not.
pub fn is_kind_base_image(name: &str) -> bool {
    let Ok(r) = ImageRef::parse(name) else {
        return false;
    };
    let repo = r.repository();
    if KIND_BASE_REPOSITORIES.contains(&repo.as_str()) {
        return true;
    }
    // Kind also tags the Kubernetes images with their architecture (`kube-proxy-amd64`).
    let path = ["-amd64", "-arm64", "-ppc64le", "-s390x"]
        .iter()
        .find_map(|arch| r.path.strip_suffix(arch))
        .unwrap_or(&r.path);
    matches!(r.domain.as_str(), "registry.k8s.io" | "k8s.gcr.io") && KIND_BASE_PATHS.contains(&path)
}

/// Which pod rows folding hides: those of Kind's own namespaces (unless that namespace was
/// chosen) that no finding names. Shared by the full build and the incremental one.
pub(crate) struct PodFold<'a> {
    namespace: &'a Option<String>,
    /// None when nothing is folded (`s` shows Kind's own).
    named: Option<std::collections::HashSet<(&'a str, &'a str)>>,
}

impl<'a> PodFold<'a> {
    pub(crate) fn new(
        findings: &'a [Finding],
        namespace: &'a Option<String>,
        show_system: bool,
    ) -> Self {
        let named = (!show_system).then(|| named_system_pods(findings).collect());
        PodFold { namespace, named }
    }

    pub(crate) fn folds(&self, p: &PodRow) -> bool {
        self.named.as_ref().is_some_and(|named| {
            is_kind_namespace(&p.namespace)
                && self.namespace.as_deref() != Some(p.namespace.as_str())
                && !named.contains(&(p.namespace.as_str(), p.name.as_str()))
        })
    }
}

/// The node images findings name (a suggestion, a candidate): never folded.
pub(crate) fn named_images(findings: &[Finding]) -> impl Iterator<Item = &str> {
    findings
        .iter()
        .flat_map(|f| f.suggested_image.iter().chain(&f.candidates))
        .map(String::as_str)
}

/// The pods of Kind's own namespaces that findings name (never folded).
pub(crate) fn named_system_pods(findings: &[Finding]) -> impl Iterator<Item = (&str, &str)> {
    findings
        .iter()
        .filter(|f| is_kind_namespace(&f.namespace))
        .flat_map(|f| f.pods.iter().map(|p| (f.namespace.as_str(), p.as_str())))
}

/// The Workloads pane's rows with Kind's own Deployments folded (unless `show_system`, or a
/// finding is about one), and how many Deployments were folded.
pub(crate) fn workload_pane(
    snap: &Snapshot,
    findings: &[Finding],
    namespace: &Option<String>,
    filter: &str,
    waiting: &HashMap<WorkloadKey, String>,
    show_system: bool,
) -> (Vec<WorkloadRow>, usize) {
    let mut workloads = workload_rows(snap, findings, namespace, filter, waiting);
    if show_system {
        return (workloads, 0);
    }
    let fold_ns = |ns: &str| is_kind_namespace(ns) && namespace.as_deref() != Some(ns);
    let deployments = |rows: &[WorkloadRow]| {
        rows.iter()
            .filter(|r| matches!(r, WorkloadRow::Deployment { .. }))
            .count()
    };
    let before = deployments(&workloads);
    workloads.retain(|r| {
        let key = r.key();
        !fold_ns(&key.namespace)
            || findings
                .iter()
                .any(|f| f.namespace == key.namespace && f.workload == key.finding_name())
    });
    let folded = before - deployments(&workloads);
    (workloads, folded)
}

/// How many base images the node rows fold away.
pub(crate) fn folded_images(nodes: &[NodeRow]) -> usize {
    nodes
        .iter()
        .map(|r| match r {
            NodeRow::Node { folded, .. } => *folded,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_base_images_are_recognised_by_repository() {
        for name in [
            "registry.k8s.io/kube-apiserver:v1.33.1",
            "registry.k8s.io/etcd:3.5.21-0",
            "registry.k8s.io/coredns/coredns:v1.12.0",
            "registry.k8s.io/pause:3.10",
            "docker.io/kindest/kindnetd:v20250512-df8de77b",
            "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a",
            "k8s.gcr.io/kube-proxy:v1.21.1",
            "registry.k8s.io/kube-apiserver-amd64:v1.33.1",
        ] {
            assert!(is_kind_base_image(name), "{name}");
        }
        for name in [
            "registry.k8s.io/ingress-nginx/controller:v1.12.0",
            "localhost/kubernaut/gateway:debug",
            "docker.io/library/postgres:16",
            "kindest/node:v1.33.1",
            "not a reference",
        ] {
            assert!(!is_kind_base_image(name), "{name}");
        }
    }
}
