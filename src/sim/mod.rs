//! A simulated Kind cluster speaking the Kubernetes HTTP API on loopback (docs/sim.md).

pub mod defaults;
pub mod resources;
pub mod serve;
pub mod status;
pub mod store;
