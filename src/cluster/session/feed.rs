//! The one way the cluster is read: [`feed`] yields snapshots of everything kindscope shows,
//! with the container runtime's node image lists already merged in (one path for the dashboard
//! and every command), and a refresh that re-reads node images when asked
//! ([`Feed::refresh_node_images`]) or when a node's reported images change.

use std::time::Duration;

use crate::cluster::connect::Connection;
use crate::cluster::runtime::Runtime;
pub use crate::cluster::watch::{Events, Feed};

/// The container runtime that lists node images, each node's listing bounded by `per_node`.
#[derive(Debug, Clone)]
pub struct RuntimeSource {
    pub runtime: Runtime,
    pub per_node: Duration,
}

/// What a feed reads.
#[derive(Debug, Clone, Default)]
pub struct FeedOptions {
    /// Which events to keep.
    pub events: Events,
    /// Node images also from the container runtime (Kind); None: `Node.status.images` only.
    pub runtime: Option<RuntimeSource>,
}

/// Start watching the cluster behind `conn`. Dropping the feed stops every task.
pub fn feed(conn: &Connection, options: FeedOptions) -> Feed {
    crate::cluster::watch::start_inner(conn, options)
}
