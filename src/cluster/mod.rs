//! The cluster edge: kubeconfig, watchers → snapshots, node images, applying patches.

pub mod apply;
pub mod connect;
pub mod guard;
pub mod journal;
pub mod rollout;
pub mod watch;
