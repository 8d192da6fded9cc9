//! The non-interactive commands. Each file is one subcommand; IO lives here and in `cluster`.

pub mod bundle_cmd;
pub mod check;
pub mod check_input;
pub mod confirm;
pub mod diagnose;
pub mod fix;
pub mod journal_cmd;
pub mod load;
pub mod output;
pub mod ref_cmd;
#[cfg(feature = "demo")]
pub mod sim_serve;
pub mod sources;
pub mod starting;
pub mod undo;
pub mod wait;
pub mod wait_state;

use crate::cli::ConnectArgs;
use crate::cluster::connect::Connection;
use crate::error::CliError;
use crate::progress::{self, Progress};

/// Connect like kubectl (`cluster::connect::connect`), showing progress while a slow cluster
/// answers.
pub async fn connect(progress: &Progress, args: &ConnectArgs) -> Result<Connection, CliError> {
    progress
        .bounded(
            progress::connecting(args.context.as_deref()),
            crate::cluster::connect::connect(args),
        )
        .await
}

/// `kindscope demo` or `kindscope sim …` in a build without the default feature `demo`.
#[cfg(not(feature = "demo"))]
pub fn without_demo(command: &str) -> CliError {
    CliError::usage(format!(
        "kindscope {command}: this kindscope was built without the simulated cluster; rebuild \
         it with the default feature demo (leave out --no-default-features)"
    ))
}
