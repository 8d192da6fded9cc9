//! kindscope's pure core (docs/architecture.md): plain data in, plain data out; no IO beyond
//! reading a named file, no clock, no network client.
//!
//! `model` is the snapshot of a cluster, `imageref` parses image references as containerd and the
//! kubelet do, `diagnose` turns a snapshot into findings, `fix` turns a finding into a patch,
//! `bundle` is the triage file format, `limits` the size bounds on untrusted input, `k8s` the
//! Kubernetes object helpers everyone shares (containers, owners, pull policy), `workload` the
//! typed identity of a workload (`Deployment/gateway`).

pub mod bundle;
pub mod diagnose;
pub mod fix;
pub mod imageref;
pub mod k8s;
pub mod limits;
pub mod model;
pub mod object_list;
pub mod source;
pub mod time;
pub mod workload;

/// The kubelet reports at most this many images in `Node.status.images` (largest first).
pub const NODE_STATUS_MAX_IMAGES: usize = 50;
/// The kubelet keeps at most this many names per image in `Node.status.images`.
pub const NODE_STATUS_MAX_NAMES_PER_IMAGE: usize = 5;
