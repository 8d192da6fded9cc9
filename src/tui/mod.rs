//! The dashboard (ratatui): state → view, keys → actions → effects.
//!
//! Layout of this module (docs/dashboard.md describes what users see):
//! * `app` — state; `update` — the only place it changes (pure); `action` — messages;
//! * `view` — rows derived from a snapshot (once per snapshot, not per frame);
//! * `ui/` — drawing; `layout` — screen areas (shared with mouse hit-testing);
//! * `keymap` — keys → actions; `backend` — requests to the cluster and their results;
//!   `cluster_service` — the real backend on the cluster edge; `start` — attach and demo set-up;
//! * `event_loop` — select over input, snapshots, backend results, signals, animation timer;
//! * `terminal` — set-up/teardown and tracing into the log pane.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod cluster_service;
pub mod columns;
pub mod command;
pub mod contexts;
mod describe;
mod details;
pub mod diagnosis_cache;
pub mod elide;
pub mod event_loop;
mod findings_nav;
pub mod format;
pub mod keymap;
pub mod kubectl;
pub mod layout;
pub mod matching;
pub mod port;
mod readiness;
mod start;
pub mod system;
pub mod terminal;
pub mod textview;
pub mod theme;
mod ticking;
pub mod ui;
mod undo;
mod update;
pub mod view;
pub mod view_cache;

use std::sync::Arc;

use tokio::sync::watch;

pub use action::{Action, Effect, Pane};
pub use app::{App, Options};
pub use event_loop::{run, run_with};
pub use port::{
    ClusterPort, FollowOutcome, LogRequest, ObjectKind, ObjectRef, PortEvent, Request, WriteAccess,
};

use crate::cli::{Cli, DemoArgs};
use crate::error::{CliError, CmdResult, exit};
use crate::model::Snapshot;

/// Open the dashboard on this terminal: logging into the log pane, terminal set-up, the event
/// loop, and the terminal restored whatever happens. What `run_attached`/`run_demo` call once
/// they have a snapshot feed and a backend.
pub async fn open(
    snapshots: watch::Receiver<Arc<Snapshot>>,
    backend: impl ClusterPort,
    opts: Options,
) -> CmdResult {
    terminal::init_logging();
    // Before the terminal is set up: from then on a signal must restore it (event_loop).
    let signals = event_loop::Signals::install();
    let mut term = terminal::init()
        .map_err(|e| CliError::usage(format!("cannot open the terminal for the dashboard: {e}")))?;
    let result = run(&mut term, snapshots, backend, opts, signals).await;
    terminal::restore();
    result
        .map(|()| exit::OK)
        .map_err(|e| CliError::usage(format!("the dashboard's terminal failed: {e}")))
}

/// `kindscope [--context …]`: the dashboard attached to a real cluster.
pub async fn run_attached(cli: &Cli) -> CmdResult {
    start::run_attached(cli).await
}

/// `kindscope demo`: the dashboard against the embedded simulated cluster.
pub async fn run_demo(cli: &Cli, args: &DemoArgs) -> CmdResult {
    start::run_demo(cli, args).await
}
