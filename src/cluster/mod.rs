//! The cluster edge: kubeconfig, watchers → snapshots, node images, applying patches.

pub mod apply;
pub mod compact;
pub mod connect;
pub mod exec_auth;
mod feed_state;
pub mod guard;
pub mod import;
pub mod inspect;
pub mod journal;
pub mod kind;
mod list_split;
pub mod node_images;
pub mod objects;
pub mod oneshot;
mod retry;
pub mod rollout;
pub mod runtime;
pub mod runtime_feed;
pub mod session;
mod tls_errors;
pub mod watch;
