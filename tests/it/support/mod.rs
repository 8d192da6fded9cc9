//! What several test modules share: running the binary, a sim to run it against, waiting on a
//! feed, free ports that outlive a server restart, and the hand-made gateway-debug snapshots of
//! the dashboard tests.

pub mod cli;
pub mod fake_port;
pub mod feed;
pub mod ports;
pub mod sim;
pub mod tui_fixtures;

pub use cli::text;
