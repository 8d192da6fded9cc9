//! A simulated Kind cluster speaking the Kubernetes HTTP API on loopback (docs/sim.md).

pub mod clock;
pub mod cluster;
pub mod controllers;
pub mod defaults;
mod engine;
pub mod events;
pub mod kubelet;
pub mod nodes;
pub mod resources;
pub mod scenario;
pub mod scheduler;
pub mod serve;
pub mod status;
pub mod store;
pub mod synthetic;
