//! What several test modules share: running the binary, free ports that outlive a server restart, and the
//! hand-made gateway-debug snapshots of the dashboard tests.

pub mod cli;
pub mod fake_port;
pub mod feed;
pub mod ports;
pub mod tui_fixtures;

pub use cli::text;
