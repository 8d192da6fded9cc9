//! Tracing set-up for the non-interactive commands (the dashboard routes tracing to tui-logger).

use tracing_subscriber::EnvFilter;

/// Log to stderr, quiet by default; `KINDSCOPE_LOG=debug` (an EnvFilter) turns it up.
pub fn init_stderr() {
    let filter =
        EnvFilter::try_from_env("KINDSCOPE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    // A second init (tests calling commands in-process) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
