//! The two ways into the dashboard: attached to a cluster from the kubeconfig, or the demo on
//! an in-process simulated Kind cluster (the embedded gateway-debug story, a scenario file, or a
//! replayed triage bundle). Everything that can fail with an exit code (config, kubeconfig,
//! connection, scenario) happens before the terminal is touched.

#[cfg(feature = "demo")]
use std::time::Duration;

#[cfg(feature = "demo")]
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::{Cli, DemoArgs, RuntimeChoice, WriteArgs};
use crate::cluster::connect::Connection;
use crate::cluster::guard::{self, WriteMode};
use crate::cluster::kind::is_kind_cluster;
use crate::cluster::runtime_feed::select_for;
use crate::config::Config;
#[cfg(feature = "demo")]
use crate::error::CliError;
use crate::error::CmdResult;
#[cfg(feature = "demo")]
use crate::sim::{self, SimOptions, scenario};
use crate::tui::app::Options;
use crate::tui::cluster_service::{ClusterService, FeedSource, ServiceOptions};
use crate::tui::contexts::Switcher;
use crate::tui::port::WriteAccess;

#[cfg(feature = "demo")]
/// How long `demo` waits for the simulated cluster to stop after the dashboard closed.
const SIM_STOP: Duration = Duration::from_secs(3);

/// `kindscope [--kubeconfig …] [--context …] [-n NS]`.
pub async fn run_attached(cli: &Cli) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    // Before the dashboard takes the screen: a slow cluster shows why nothing appears yet.
    let conn = crate::commands::connect(&crate::progress::Progress::stderr(), &cli.conn).await?;
    let (source, notice) = feed_source(cli.conn.runtime, &config, &conn).await;
    let guard = guard::check_write(&conn, &cli.write, &config.allowed_write_contexts);
    let mut opts = Options::new(write_access(&guard, &cli.write, &conn));
    opts.namespace = conn.namespace.clone();
    with_sources(&mut opts);
    opts.notice = notice;
    opts.monochrome = !crate::shell::color::stdout();
    opts.cluster = Some((conn.context.clone(), conn.server.clone()));
    let switcher = Switcher {
        kubeconfig: cli.conn.kubeconfig.clone(),
        runtime: cli.conn.runtime,
        write: cli.write,
        config: std::sync::Arc::new(config.clone()),
    };
    opts.contexts = switcher.choices();
    let backend_opts = ServiceOptions {
        write: guard.map(|_| ()),
        rollout_timeout: config.timeouts.rollout(),
        journal: Some(crate::cluster::journal::Journal::default_location()),
        contexts: Some(std::sync::Arc::new(switcher)),
    };
    let feed = source.start(&conn);
    let backend = ClusterService::new(conn, feed, source, backend_opts);
    let snapshots = backend.snapshots();
    super::open(snapshots, backend, opts).await
}

/// `kindscope demo [--scenario FILE | --from BUNDLE] [--speed X]`.
#[cfg(feature = "demo")]
pub async fn run_demo(cli: &Cli, args: &DemoArgs) -> CmdResult {
    let config = Config::load(cli.config.as_deref())?;
    let scenario = demo_scenario(args)?;
    let sim = sim::start(
        &scenario,
        SimOptions {
            speed: args.speed,
            ..SimOptions::default()
        },
    )
    .await?;
    let result = demo_on(cli, &config, &sim, args, &scenario).await;
    // The dashboard is closed (and its watches dropped); stop serving, but never hang the exit.
    let _ = tokio::time::timeout(SIM_STOP, sim.shutdown()).await;
    result
}

#[cfg(feature = "demo")]
async fn demo_on(
    cli: &Cli,
    config: &Config,
    sim: &sim::RunningSim,
    args: &DemoArgs,
    scenario: &scenario::Scenario,
) -> CmdResult {
    let conn = sim_connection(sim, cli.conn.namespace.clone()).await?;
    // The sim is a local Kind context, so the guard allows writes unless --read-only says no.
    let guard = guard::check_write(&conn, &cli.write, &config.allowed_write_contexts);
    let mut opts = Options::new(write_access(&guard, &cli.write, &conn));
    opts.namespace = conn.namespace.clone();
    with_sources(&mut opts);
    opts.notice = Some(demo_notice(args, scenario));
    opts.monochrome = !crate::shell::color::stdout();
    opts.cluster = Some((conn.context.clone(), conn.server.clone()));
    let backend_opts = ServiceOptions {
        write: guard.map(|_| ()),
        rollout_timeout: config.timeouts.rollout(),
        journal: Some(crate::cluster::journal::Journal::default_location()),
        // One simulated cluster, not from a kubeconfig: nothing to switch to.
        contexts: None,
    };
    // The sim's nodes are not containers: node images come from the API, complete (< 50).
    let source = FeedSource::api_only();
    let feed = source.start(&conn);
    let backend = ClusterService::new(conn, feed, source, backend_opts);
    let snapshots = backend.snapshots();
    super::open(snapshots, backend, opts).await
}

/// `kindscope demo` in a build without the simulated cluster.
#[cfg(not(feature = "demo"))]
pub async fn run_demo(_cli: &Cli, _args: &DemoArgs) -> CmdResult {
    Err(crate::commands::without_demo("demo"))
}

/// Findings carry the place their name is written when kindscope runs inside a git work tree
/// (searched once per question, in the background).
fn with_sources(opts: &mut Options) {
    let Some(root) = crate::source::default_root() else {
        return;
    };
    let cache = crate::source::SourceCache::new(root);
    let inner = opts.diagnose.clone();
    let filler = cache.clone();
    opts.diagnose = std::sync::Arc::new(move |snap| {
        let mut report = inner(snap);
        filler.fill(&mut report.findings);
        report
    });
    opts.sources = Some(cache);
}

#[cfg(feature = "demo")]
fn demo_scenario(args: &DemoArgs) -> Result<scenario::Scenario, CliError> {
    match (&args.from, &args.scenario) {
        (Some(bundle), _) => Ok(sim::replay::load(bundle)?),
        (None, Some(file)) => scenario::load_file(file).map_err(|e| CliError::usage(e.to_string())),
        (None, None) => Ok(scenario::embedded_default()),
    }
}

#[cfg(feature = "demo")]
/// What the demo is about, on the status line of the first screen (fits 80 columns for the
/// embedded story).
fn demo_notice(args: &DemoArgs, scenario: &scenario::Scenario) -> String {
    let what = match (&args.from, &args.scenario) {
        (Some(bundle), _) => format!("Replay of {} (simulated)", bundle.display()),
        (None, Some(file)) => format!("Simulated {} from {}", scenario.name, file.display()),
        (None, None) => format!("Simulated Kind cluster {}", scenario.name),
    };
    format!("{what}: f fixes the ▶ finding · ? help · q quit")
}

#[cfg(feature = "demo")]
/// A client for the in-process sim, built from the kubeconfig it would write (no file).
async fn sim_connection(
    sim: &sim::RunningSim,
    namespace: Option<String>,
) -> Result<Connection, CliError> {
    let context = sim.context();
    let internal = |e: &dyn std::fmt::Display| {
        CliError::usage(format!(
            "cannot connect to the simulated cluster at {}: {e}",
            sim.url()
        ))
    };
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).map_err(|e| internal(&e))?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        cluster: None,
        user: None,
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| internal(&e))?;
    crate::cluster::connect::from_config(config, &context, namespace)
}

/// Where node images come from: the container runtime too on a Kind context (or when
/// `--runtime`/config asks), else the API only; plus a note when a Kind cluster's runtime
/// does not answer, so the user knows the list may be capped.
pub(super) async fn feed_source(
    runtime: Option<RuntimeChoice>,
    config: &Config,
    conn: &Connection,
) -> (FeedSource, Option<String>) {
    if let Some(sel) = select_for(&conn.context, &conn.server, runtime, config).await
        && let Some(rt) = sel.runtime
    {
        return (
            FeedSource::with_runtime(rt, config.timeouts.runtime_exec()),
            None,
        );
    }
    let asked_none = runtime == Some(RuntimeChoice::None);
    let note = (is_kind_cluster(&conn.context, &conn.server) && !asked_none).then(|| {
        "No container runtime (docker or podman) answered: node images come from \
         Node.status.images, at most 50 per node. Pass --runtime to choose one."
            .to_string()
    });
    (FeedSource::api_only(), note)
}

/// The write guard's answer as the dashboard shows it.
pub(super) fn write_access(
    guard: &Result<WriteMode, String>,
    write: &WriteArgs,
    conn: &Connection,
) -> WriteAccess {
    match guard {
        Ok(WriteMode::Kind) => WriteAccess::Allowed {
            label: "kind".into(),
        },
        Ok(WriteMode::Allowed) => WriteAccess::Allowed {
            label: if write.allow_write {
                "allow-write".into()
            } else {
                "allow-list".into()
            },
        },
        Ok(WriteMode::ReadOnly) | Err(_) if write.read_only => WriteAccess::Refused {
            label: "read-only".into(),
            why: "kindscope was started with --read-only.".into(),
            how: "Restart without --read-only to apply fixes.".into(),
        },
        Ok(WriteMode::ReadOnly) | Err(_) => WriteAccess::Refused {
            label: "read-only (not Kind)".into(),
            why: format!(
                "context \"{}\" (server {}) is not a local Kind cluster, so kindscope will not \
                 change it.",
                conn.context, conn.server
            ),
            how: "Restart with --allow-write to allow writes on this context, or add it to \
                  allowed_write_contexts in kindscope.toml."
                .into(),
        },
    }
}
