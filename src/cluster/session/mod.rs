//! The cluster service the commands and the dashboard share: writing a plan and following
//! its rollout (`apply`).

pub mod apply;

pub use apply::{
    Direction, Step, Steps, WriteOptions, apply_and_follow, reversed, timed_out_reason,
};
