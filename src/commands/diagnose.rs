//! `kindscope diagnose`.

use crate::cli::{Cli, DiagnoseArgs};
use crate::error::{CliError, CmdResult};

pub async fn run(_cli: &Cli, _args: &DiagnoseArgs) -> CmdResult {
    Err(CliError::usage("`kindscope diagnose` is not built yet"))
}
