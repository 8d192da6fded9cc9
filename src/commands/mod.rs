//! The non-interactive commands. Each file is one subcommand; IO lives here and in `cluster`.

pub mod diagnose;
pub mod fix;
pub mod load;
pub mod output;
pub mod ref_cmd;
pub mod snapshot;
pub mod starting;
