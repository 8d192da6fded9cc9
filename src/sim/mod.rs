//! A simulated Kind cluster speaking the Kubernetes HTTP API on loopback (docs/sim.md).

pub mod clock;
pub mod defaults;
pub mod events;
pub mod nodes;
pub mod resources;
pub mod scenario;
pub mod scheduler;
pub mod serve;
pub mod status;
pub mod store;
