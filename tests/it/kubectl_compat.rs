//! The real kubectl against `kindscope sim serve`: every command a person pairing or demoing
//! would try, each asserting what a real Kind cluster answers (docs/sim.md). kubectl must be
//! on PATH (CI's image has it); without it these tests fail with one line saying so.

#[path = "kubectl_compat/support.rs"]
mod support;

#[path = "kubectl_compat/create.rs"]
mod create;

#[path = "kubectl_compat/scale.rs"]
mod scale;

#[path = "kubectl_compat/delete.rs"]
mod delete;

#[path = "kubectl_compat/rollout.rs"]
mod rollout;

#[path = "kubectl_compat/auth.rs"]
mod auth;

#[path = "kubectl_compat/basics.rs"]
mod basics;

#[path = "kubectl_compat/python.rs"]
mod python;

#[path = "kubectl_compat/apply.rs"]
mod apply;

#[path = "kubectl_compat/workloads.rs"]
mod workloads;

#[path = "kubectl_compat/explain.rs"]
mod explain;

#[path = "kubectl_compat/validation.rs"]
mod validation;
