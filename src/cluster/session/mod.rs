//! The cluster service the commands and the dashboard share: one way to read the cluster
//! ([`feed`]) and one way to write a plan and follow its rollout ([`apply`]).

pub mod apply;
pub mod feed;

pub use apply::{
    Direction, Step, Steps, WriteOptions, apply_and_follow, reversed, timed_out_reason,
};
pub use feed::{Events, Feed, FeedOptions, RuntimeSource, feed};
