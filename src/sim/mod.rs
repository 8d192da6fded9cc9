//! A simulated Kind cluster speaking the Kubernetes HTTP API on loopback (docs/sim.md).

pub mod defaults;
pub mod discovery;
pub mod faults;
pub mod kubeconfig;
pub mod patch;
pub mod query;
pub mod resources;
pub mod serve;
pub mod server;
pub mod status;
pub mod store;
pub mod table;
