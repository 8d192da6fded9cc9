//! `kindscope sim serve`: run a simulated Kind cluster until SIGINT/SIGTERM; and the sentence
//! (exit 2) each of the sim's start errors becomes, naming the flag to change.

use std::io::Write;

use crate::cli::SimServeArgs;
use crate::error::{CliError, CmdResult, exit};
use crate::sim::restart::version_base;
use crate::sim::{SimError, SimOptions, faults, scenario, synthetic};

impl From<SimError> for CliError {
    fn from(e: SimError) -> Self {
        CliError::usage(match e {
            SimError::Scenario(e) => e.to_string(),
            SimError::Speed(e) => format!("--speed {}: must be a positive number", e.0),
            SimError::Identity(e) => format!("{e}; report this as a bug"),
            SimError::Listen { port, source } => format!(
                "cannot listen on 127.0.0.1:{port}: {source}; choose another --port (0 picks a free one)"
            ),
            SimError::Bundle { message, .. } => message,
        })
    }
}

/// The scenario `sim serve` and `demo` run: a file, a synthetic spec, or the embedded default.
pub fn choose_scenario(
    file: Option<&std::path::Path>,
    synthetic_spec: Option<&str>,
) -> Result<scenario::Scenario, CliError> {
    match (file, synthetic_spec) {
        (Some(path), _) => scenario::load_file(path).map_err(|e| CliError::usage(e.to_string())),
        (None, Some(spec)) => {
            let spec: synthetic::SyntheticSpec = spec
                .parse()
                .map_err(|e: synthetic::SpecError| CliError::usage(format!("--synthetic: {e}")))?;
            Ok(synthetic::generate(&spec))
        }
        (None, None) => Ok(scenario::embedded_default()),
    }
}

pub async fn run(args: &SimServeArgs) -> CmdResult {
    let scenario = match &args.from {
        Some(bundle) => crate::sim::replay::load(bundle)?,
        None => choose_scenario(args.scenario.as_deref(), args.synthetic.as_deref())?,
    };
    let faults = faults::Faults::parse(&args.faults).map_err(CliError::usage)?;
    let opts = SimOptions {
        port: args.port,
        speed: args.speed,
        faults,
        // A new start gets versions no earlier run handed out, like a rebuilt cluster.
        start_resource_version: version_base(),
        identity: None,
        plain_http: args.plain_http,
    };
    let sim = crate::sim::start(&scenario, opts).await?;
    let kubeconfig = match &args.write_kubeconfig {
        Some(path) => {
            sim.write_kubeconfig(path).map_err(|e| {
                CliError::usage(format!(
                    "cannot write the kubeconfig to {}: {e}; choose a writable --write-kubeconfig path",
                    path.display()
                ))
            })?;
            path.display().to_string()
        }
        None => "not written; pass --write-kubeconfig PATH".to_string(),
    };
    let mut out = std::io::stdout().lock();
    // The one ready line scripts wait for (docs/sim.md).
    let _ = writeln!(
        out,
        "kindscope sim: serving {} at {} (kubeconfig: {})",
        crate::sanitize::term(sim.name()),
        sim.url(),
        crate::sanitize::term(&kubeconfig)
    );
    let _ = out.flush();
    drop(out);
    wait_for_stop_signal().await;
    sim.shutdown().await;
    Ok(exit::OK)
}

/// Resolve on SIGINT or SIGTERM.
pub async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
