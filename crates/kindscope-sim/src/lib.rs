//! A simulated Kind cluster speaking the Kubernetes HTTP API on loopback (docs/sim.md).
//!
//! [`start`] wires the pieces together: a [`store::Store`] populated from a
//! [`scenario::Scenario`], the controllers/scheduler/kubelets ([`cluster::spawn_controllers`])
//! and the HTTP server ([`server::spawn`]).

pub mod clock;
pub mod cluster;
pub mod controllers;
pub mod defaults;
pub mod discovery;
mod engine;
pub mod error;
pub mod events;
pub mod faults;
pub mod identity;
pub mod kubeconfig;
pub mod kubelet;
pub mod nodes;
pub mod openapi;
pub mod patch;
pub mod query;
pub mod replay;
pub mod resources;
pub mod restart;
pub mod scenario;
pub mod scheduler;
pub mod server;
pub mod status;
pub mod store;
pub mod synthetic;
pub mod table;

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

use std::net::SocketAddr;
use std::sync::Arc;

pub use error::SimError;

/// How to run a simulated cluster.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Simulated delays (back-off, rollout) run this many times faster.
    pub speed: f64,
    pub faults: faults::Faults,
    /// First resourceVersion minus one; a restarted sim passes another so clients see new ones.
    pub start_resource_version: u64,
    /// CA, certificates and token; None makes new ones (as a new Kind cluster gets). A sim
    /// restarted with an earlier one's identity is trusted by that one's kubeconfig.
    pub identity: Option<Arc<identity::Identity>>,
    /// Serve plain HTTP (bearer token only) instead of HTTPS with client certificates.
    pub plain_http: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            port: 0,
            speed: 1.0,
            faults: faults::Faults::default(),
            start_resource_version: 1000,
            identity: None,
            plain_http: false,
        }
    }
}

/// A running simulated cluster. Dropping it stops the server and the controllers.
pub struct RunningSim {
    pub store: Arc<store::Store>,
    pub sim: Arc<cluster::Sim>,
    server: server::RunningServer,
    controllers: cluster::Controllers,
}

impl RunningSim {
    /// Kind cluster name (`gateway-debug`).
    pub fn name(&self) -> &str {
        &self.sim.name
    }
    /// kubeconfig context name (`kind-gateway-debug`).
    pub fn context(&self) -> String {
        self.sim.context_name()
    }
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }
    /// `https://127.0.0.1:PORT` (`http://` with `plain_http`).
    pub fn url(&self) -> String {
        self.server.url()
    }
    /// The CA, certificates and token (pass them to a restart to keep its clients' trust).
    pub fn identity(&self) -> Arc<identity::Identity> {
        self.server.identity()
    }
    /// What the kubeconfig carries: CA and client certificate, or the token with `plain_http`.
    pub fn credentials(&self) -> kubeconfig::Credentials {
        self.server.credentials()
    }
    /// Change the injected faults while the sim runs.
    pub fn faults(&self) -> faults::FaultHandle {
        self.server.faults()
    }
    /// A kubeconfig (YAML) whose current context is `kind-NAME`.
    pub fn kubeconfig_yaml(&self) -> String {
        self.server.kubeconfig_yaml(&self.sim.name)
    }
    /// Write the kubeconfig to `path` (mode 0600, parent directories created).
    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        kubeconfig::write_kubeconfig(path, &self.sim.name, &self.url(), &self.credentials())
    }
    /// Stop serving (ends open watches) and stop the controllers.
    pub async fn shutdown(self) {
        let _ = self.server.shutdown().await;
        self.controllers.stop().await;
    }
}

/// Populate a store from `scenario`, start the controllers and serve the API on 127.0.0.1.
/// Errors are the caller's input: a scenario that cannot be applied, a bad speed, a busy port.
pub async fn start(
    scenario: &scenario::Scenario,
    opts: SimOptions,
) -> Result<RunningSim, SimError> {
    let store = store::Store::new(opts.start_resource_version);
    let sim = cluster::populate(&store, scenario)?;
    let controllers = cluster::spawn_controllers(store.clone(), sim.clone(), opts.speed)?;
    let identity = match opts.identity {
        Some(id) => id,
        None => identity::Identity::generate(&sim.name)?,
    };
    let server_opts = server::ServerOptions {
        cluster_name: sim.name.clone(),
        kubernetes_version: sim.kubernetes_version.clone(),
        faults: opts.faults,
        identity: Some(identity),
        plain_http: opts.plain_http,
        ..Default::default()
    };
    let server = server::spawn(store.clone(), server_opts, opts.port)
        .await
        .map_err(|source| SimError::Listen {
            port: opts.port,
            source,
        })?;
    Ok(RunningSim {
        store,
        sim,
        server,
        controllers,
    })
}
