//! The dashboard (ratatui): state → view, keys → actions.

use crate::cli::{Cli, DemoArgs};
use crate::error::{CliError, CmdResult};

/// `kindscope [--context …]`: the dashboard attached to a real cluster.
pub async fn run_attached(_cli: &Cli) -> CmdResult {
    Err(CliError::usage("the dashboard is not built yet"))
}

/// `kindscope demo`: the dashboard against the embedded simulated cluster.
pub async fn run_demo(_cli: &Cli, _args: &DemoArgs) -> CmdResult {
    Err(CliError::usage("`kindscope demo` is not built yet"))
}
