//! kindscope's integration tests: one binary, so the crate is linked once for all of them
//! (and their tests run side by side). Each module is one area; `support` holds what several
//! share. Tests drive the real binary (`CARGO_BIN_EXE_kindscope`) or the real library against
//! the sim over real HTTP(S). Data files stay in `tests/fixtures/`.

mod support;

mod bad_input;
mod cli_diagnose_fix;
mod consistency;
mod faults;
mod hostile;
mod kind_diagnose;
mod kind_runtime;
mod kind_snapshot;
mod kubectl_compat;
mod oneshot;
mod pending_cli;
mod preflight;
mod realworld;
mod ref_cli;
mod replay;
mod shell;
mod sim_api;
mod sim_controllers;
mod tui_e2e;
mod tui_findings;
mod tui_loop;
mod tui_port;
mod tui_render;
mod tui_scale;
mod tui_scenarios;
mod tui_starting;
mod tui_update;
