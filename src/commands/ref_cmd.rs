//! `kindscope ref`: explain image references.

use crate::cli::RefArgs;
use crate::error::{CliError, CmdResult};

pub fn run(_args: &RefArgs) -> CmdResult {
    Err(CliError::usage("`kindscope ref` is not built yet"))
}
