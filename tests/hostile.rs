//! Hostile and broken clusters and input, against the real binary and the sim: one module per
//! theme (docs/security.md).

#[path = "hostile/bounds.rs"]
mod bounds;
#[path = "hostile/escapes.rs"]
mod escapes;
#[path = "hostile/identity.rs"]
mod identity;
#[path = "hostile/recovery.rs"]
mod recovery;
#[path = "hostile/render_fuzz.rs"]
mod render_fuzz;
#[path = "hostile/secrets.rs"]
mod secrets;
#[path = "hostile/support.rs"]
mod support;
