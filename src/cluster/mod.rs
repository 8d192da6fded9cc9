//! The cluster edge: kubeconfig, watchers → snapshots, node images, applying patches.
