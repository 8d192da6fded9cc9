//! Hostile and broken clusters, credentials and input, against the real binary: one module per
//! theme (docs/security.md says what each proves).

#[path = "hostile/auth.rs"]
mod auth;
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
