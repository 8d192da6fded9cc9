//! The cluster service: one way to read the cluster ([`feed`]) for the dashboard and every
//! command.

pub mod feed;
pub use feed::{Events, Feed, FeedOptions, RuntimeSource, feed};
