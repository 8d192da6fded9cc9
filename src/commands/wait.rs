//! `kindscope wait`: placeholder replaced below.
use crate::cli::{Cli, WaitArgs};
use crate::error::CmdResult;
pub async fn run(_cli: &Cli, _args: &WaitArgs) -> CmdResult {
    Ok(0)
}
