//! `kindscope sim serve`: run a simulated Kind cluster until SIGINT/SIGTERM.

use std::io::Write;

use crate::cli::SimServeArgs;
use crate::error::{CliError, CmdResult, exit};

use super::{SimOptions, faults, scenario, synthetic};

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
        Some(bundle) => super::replay::load(bundle)?,
        None => choose_scenario(args.scenario.as_deref(), args.synthetic.as_deref())?,
    };
    let faults = faults::Faults::parse(&args.faults).map_err(CliError::usage)?;
    let opts = SimOptions {
        port: args.port,
        speed: args.speed,
        faults,
        // A new start gets versions no earlier run handed out, like a rebuilt cluster.
        start_resource_version: restart_base(),
        identity: None,
        plain_http: args.plain_http,
    };
    let sim = super::start(&scenario, opts).await?;
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

/// Milliseconds since 2020 × 1000: grows across restarts faster than any run hands out
/// versions (a synthetic cluster creates ~25,000 objects at once, more than 1,000 a second),
/// so a restarted sim never reuses a version an earlier run issued.
pub fn restart_base() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    millis
        .saturating_sub(1_577_836_800_000)
        .saturating_mul(1000)
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
