//! Tracing set-up for the non-interactive commands (the dashboard routes tracing to tui-logger).

use tracing_subscriber::EnvFilter;

/// kube's own request/watch logs repeat, in raw form, errors kindscope reports as one sentence.
const DEFAULT_FILTER: &str = "warn,kube_client=off,kube_runtime=off,rustls_platform_verifier=off";

/// Log to stderr, quiet by default; `KINDSCOPE_LOG=debug` (an EnvFilter) turns it up.
pub fn init_stderr() {
    let filter =
        EnvFilter::try_from_env("KINDSCOPE_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second init (tests calling commands in-process) is harmless: keep the first subscriber.
    let colour = crate::shell::color::stderr();
    // Log lines quote cluster data: tracing escapes ESC and C1 itself, the writer the rest
    // (bidi controls, CR) like every other output (crate::sanitize).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || crate::commands::output::SafeWriter::new(std::io::stderr(), colour))
        .with_target(false)
        .with_ansi(colour)
        .try_init();
}
