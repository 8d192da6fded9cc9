//! kindscope: a terminal dashboard and CLI for image mismatches on a kept-alive Kind cluster.
//!
//! Layout (docs/architecture.md): a pure core (crate `kindscope-core`: `imageref`, `diagnose`,
//! `fix`, `model`, re-exported here) between two edges — the cluster edge (`cluster`, and the
//! simulated cluster `sim`) and the UI edge (`tui`, `commands`).

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod error;
pub mod limits;
pub mod logging;
pub mod manifest;
pub mod progress;
pub mod sanitize;
pub mod shell;
pub mod source;
pub mod tui;

// The pure core is its own crate; its modules keep their `kindscope::…` paths.
pub use kindscope_core::{
    NODE_STATUS_MAX_IMAGES, NODE_STATUS_MAX_NAMES_PER_IMAGE, bundle, diagnose, fix, imageref, k8s,
    model, object_list, workload,
};
/// The simulated Kind cluster (crate `kindscope-sim`), behind the default feature `demo`.
#[cfg(feature = "demo")]
pub use kindscope_sim as sim;
