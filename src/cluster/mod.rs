//! The cluster edge: kubeconfig, watchers → snapshots, node images, applying patches.

pub mod import;
pub mod kind;
pub mod node_images;
pub mod runtime;
pub mod runtime_feed;
