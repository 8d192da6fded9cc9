//! kindscope: a terminal dashboard and CLI for image mismatches on a kept-alive Kind cluster.
//!
//! Layout (docs/architecture.md): a pure core (`imageref`, `diagnose`, `fix`, `model`) between
//! two edges — the cluster edge (`cluster`, and the simulated cluster `sim`) and the UI edge
//! (`tui`, `commands`).

pub mod bundle;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod fix;
pub mod imageref;
pub mod limits;
pub mod logging;
pub mod manifest;
pub mod model;
pub mod progress;
pub mod sanitize;
pub mod shell;
pub mod sim;
pub mod source;
pub mod tui;

/// The kubelet reports at most this many images in `Node.status.images` (largest first).
pub const NODE_STATUS_MAX_IMAGES: usize = 50;
/// The kubelet keeps at most this many names per image in `Node.status.images`.
pub const NODE_STATUS_MAX_NAMES_PER_IMAGE: usize = 5;
