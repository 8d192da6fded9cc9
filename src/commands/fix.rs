//! `kindscope fix`.

use crate::cli::{Cli, FixArgs};
use crate::error::{CliError, CmdResult};

pub async fn run(_cli: &Cli, _args: &FixArgs) -> CmdResult {
    Err(CliError::usage("`kindscope fix` is not built yet"))
}
