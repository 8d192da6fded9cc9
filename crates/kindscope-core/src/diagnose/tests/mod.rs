//! Each finding kind from hand-made snapshots (`kinds`), and the false-positive traps
//! (`traps`).

mod kinds;
mod pending;
mod realnodes;
mod traps;

use super::Finding;
use super::testkit::Cluster;

pub(super) const W: &str = "gateway-debug-worker";
pub(super) const CP: &str = "gateway-debug-control-plane";
pub(super) const SHA: &str =
    "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
pub(super) const SHA2: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000001";

pub(super) fn cluster(worker_images: &[&str]) -> Cluster {
    Cluster::kind("gateway-debug")
        .control_plane(CP, &["registry.k8s.io/pause:3.10"])
        .worker(W, worker_images)
}

pub(super) fn only(findings: &[Finding]) -> &Finding {
    assert_eq!(findings.len(), 1, "expected one finding, got {findings:#?}");
    &findings[0]
}
