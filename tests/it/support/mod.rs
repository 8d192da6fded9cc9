//! What several test modules share: free ports that outlive a server restart, and the
//! hand-made gateway-debug snapshots of the dashboard tests.

pub mod ports;
pub mod tui_fixtures;
