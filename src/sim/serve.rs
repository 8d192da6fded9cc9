//! `kindscope sim serve`.

use crate::cli::SimServeArgs;
use crate::error::{CliError, CmdResult};

pub async fn run(_args: &SimServeArgs) -> CmdResult {
    Err(CliError::usage("`kindscope sim serve` is not built yet"))
}
