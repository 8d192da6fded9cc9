//! Tracing set-up for the non-interactive commands (the dashboard routes tracing to tui-logger).

use tracing_subscriber::EnvFilter;

/// kube's own request/watch logs repeat, in raw form, errors kindscope reports as one sentence.
const DEFAULT_FILTER: &str = "warn,kube_client=off,kube_runtime=off,rustls_platform_verifier=off";

/// Log to stderr, quiet by default; `KINDSCOPE_LOG=debug` (an EnvFilter) turns it up.
pub fn init_stderr() {
    let filter =
        EnvFilter::try_from_env("KINDSCOPE_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second init (tests calling commands in-process) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(crate::shell::color::stderr())
        .try_init();
}
