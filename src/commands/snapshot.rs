//! `kindscope snapshot`.

use crate::cli::{Cli, SnapshotArgs};
use crate::error::{CliError, CmdResult};

pub async fn run(_cli: &Cli, _args: &SnapshotArgs) -> CmdResult {
    Err(CliError::usage("`kindscope snapshot` is not built yet"))
}
