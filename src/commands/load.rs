//! `kindscope load`.

use crate::cli::{Cli, LoadArgs};
use crate::error::{CliError, CmdResult};

pub async fn run(_cli: &Cli, _args: &LoadArgs) -> CmdResult {
    Err(CliError::usage("`kindscope load` is not built yet"))
}
